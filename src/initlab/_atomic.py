"""Files written whole or not at all.

Every file initlab writes (figures, results.json, signal.csv, reports, exports) is written under a
temporary name beside its target and renamed onto it in one step (``os.replace``) when complete.
A Ctrl-C, a full disk or a crash mid-write leaves the previous file, or none, never half of one,
and no temporary file behind.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
>>> with replacing(path) as part:
...     _ = open(part, "w").write("whole")
>>> open(path).read(), sorted(os.listdir(os.path.dirname(path)))
('whole', ['a.txt'])
"""
from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path beside `path` with its extension (so writers that go by the extension,
    matplotlib, Pillow, pandas, pick the same format); when the block ends it replaces `path`,
    when it raises (KeyboardInterrupt included) it is removed. The writer creates the file, so it
    gets the usual permissions. A link to a file replaces that file (the link stays); a path that
    is not a regular file (a device such as /dev/full, a pipe, a folder) is yielded as it is, to be
    written, or refused, directly. An OSError names `path` as given, not the temporary name."""
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isfile(path):
        yield path
        return
    folder, name = os.path.split(os.path.realpath(path))
    stem, ext = os.path.splitext(name)
    part = os.path.join(folder, f".{stem}.{uuid.uuid4().hex[:8]}.part{ext}")
    try:
        yield part
        os.replace(part, os.path.join(folder, name))
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.remove(part)
        if isinstance(exc, OSError) and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, path) from None
        raise
