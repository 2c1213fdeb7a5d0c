"""Files written aside and moved into place: a reader sees the old file or the new one, never half.

The one primitive every writer of the package builds on (cache entries, summary tables): write to a
temporary file in the same folder, flush and fsync it, :func:`os.replace` it over the target, fsync the
folder.  Folders of outputs use :func:`eventstudy.data.atomic.staged_folder`, built the same way.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes", "fsync_dir"]


def fsync_dir(directory: Path) -> None:
    """Flush the folder entry of a file just renamed into ``directory`` (POSIX; a no-op elsewhere)."""
    if os.name != "posix":  # pragma: no cover - directories cannot be opened on Windows
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the new one, never half.

    The bytes go to a temporary file in the same folder, are flushed and fsynced, and the file is then
    renamed over ``path`` with :func:`os.replace`.  On any failure the temporary file is removed and the
    old ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
