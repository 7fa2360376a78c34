"""Every file initlab writes is written whole or not at all (initlab._atomic): an interrupted
write leaves the previous file and no temporary one."""
import os
import stat
from functools import lru_cache

import pytest

from initlab import _atomic, compare, plots, report, sweep
from initlab._atomic import replacing


def test_a_completed_write_replaces_the_file_with_the_usual_permissions(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("old")
    with replacing(target) as part:
        assert os.path.dirname(part) == str(tmp_path) and part.endswith(".csv") and not os.path.exists(part)
        with open(part, "w") as f:
            f.write("new")
        assert target.read_text() == "old"  # nothing changes until the block ends
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["a.csv"]
    plain = tmp_path / "plain"
    plain.write_text("x")  # created as open() creates any file, under this process's umask
    assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError])
def test_an_interrupted_write_leaves_the_old_file_and_no_part(tmp_path, error):
    target = tmp_path / "a.png"
    target.write_text("old")
    with pytest.raises(error):
        with replacing(target) as part:
            with open(part, "w") as f:
                f.write("half of it")
            raise error()
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["a.png"]


def test_a_link_to_a_file_replaces_the_file_and_keeps_the_link(tmp_path):
    (tmp_path / "real.html").write_text("old")
    (tmp_path / "link.html").symlink_to(tmp_path / "real.html")
    with replacing(tmp_path / "link.html") as part, open(part, "w") as f:
        f.write("new")
    assert (tmp_path / "link.html").is_symlink() and (tmp_path / "real.html").read_text() == "new"


def test_an_error_names_the_path_given_not_the_temporary_one(tmp_path):
    with pytest.raises(OSError) as caught:
        with replacing(tmp_path / "a.csv") as part:
            raise OSError(28, "No space left on device", part)
    assert caught.value.filename == str(tmp_path / "a.csv") and os.listdir(tmp_path) == []


@lru_cache(maxsize=None)
def _comparison():
    return compare.compare_initializers(["zeros", "he"], iterations=100)


@lru_cache(maxsize=None)
def _block_study():
    from initlab.blocks import study_blocks

    return study_blocks(["standard", "rezero"], blocks=3, width=16, seeds=1, batch=8)


def _study():
    from initlab.diagnostics import deep_network, signal_propagation

    return signal_propagation(deep_network(3, 8), ["he_normal"], seeds=1, batch=16)


def _sweep_db(folder):
    (folder / "s.toml").write_text('[sweep]\nname = "s"\nseeds = 1\n[grid]\ninit = ["he_normal"]\niterations = [20]\n')
    db = folder / "s.db"
    sweep.run_sweep(sweep.read_spec(folder / "s.toml"), db, engine="numpy")
    return db


WRITERS = {  # every writer of a user's file: (files it writes in `out`, how)
    "plots.save": (["f.png"], lambda out: plots.save(plots.cost_curves(_comparison()), out / "f.png")),
    "compare.save": (["results.json", "costs.png", "decision_boundaries.png"], lambda out: compare.save(_comparison(), out)),
    "compare.save (animation)": (["training.gif"], lambda out: plots.training_animation(
        compare.compare_initializers(["he"], iterations=100, snapshots=2), out / "training.gif")),
    "SignalStudy.save": (["signal.csv", "signal.png", "histograms.csv", "histograms.png"], lambda out: _study().save(out)),
    "BlockStudy.save": (["blocks.csv", "blocks.png"], lambda out: _block_study().save(out)),
    "report.write_report": (["r.html"], lambda out: report.write_report([_comparison()], out / "r.html")),
    "sweep.export csv": (["x.csv"], lambda out: sweep.export(_sweep_db(out), out / "x.csv")),
    "sweep.export parquet": (["x.parquet"], lambda out: sweep.export(_sweep_db(out), out / "x.parquet")),
    "sweep.save_figures": (["heatmap.png", "seeds.png"], lambda out: sweep.save_figures(_sweep_db(out), out)),
}


@pytest.mark.parametrize("case", WRITERS)
def test_every_writer_goes_through_replacing(tmp_path, monkeypatch, case):
    """A Ctrl-C at the moment of the rename: each file the writer targets still holds what it held
    before (here "old"), and no temporary file is left. A writer that wrote its file directly would
    have changed it already."""
    names, write = WRITERS[case]
    for name in names:
        (tmp_path / name).write_text("old")
    before = set(os.listdir(tmp_path))

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(_atomic.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write(tmp_path)
    assert {name: (tmp_path / name).read_text() for name in names} == {name: "old" for name in names}
    left = {n for n in set(os.listdir(tmp_path)) - before if ".part" in n}
    assert not left, left
