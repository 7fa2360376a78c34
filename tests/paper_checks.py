"""What every reproduction must be, checked the same way by the paper test files: plain data."""
import dataclasses
import json
import pickle

from matplotlib.figure import Figure

from initlab.papers.common import draw


def plain_fields(r):
    """A reproduction's fields as JSON text: it fails unless they are plain data (no figures, no arrays)."""
    return json.dumps({"name": r.name, "title": r.title, "citation": r.citation, "settings": r.settings,
                       "claims": [dataclasses.asdict(c) for c in r.claims], "numbers": r.numbers,
                       "drawings": r.drawings})


def check_plain_data(r):
    """A reproduction is plain data: its fields JSON-serialize, it pickles whole, and its figures are drawn
    when read, from the data it keeps (a copy, or the JSON read back, draws them too)."""
    copy = pickle.loads(pickle.dumps(r))
    assert plain_fields(copy) == plain_fields(r)
    assert set(r.drawings) == set(r.figures) == set(copy.figures)
    assert all(isinstance(f, Figure) for f in copy.figures.values())
    again = json.loads(json.dumps(r.drawings))  # what a reader of the JSON has draws them too
    assert all(isinstance(draw(spec), Figure) for spec in again.values())
    assert all(":" in d["draw"] and set(d) == {"draw", "data"} for d in r.drawings.values())
