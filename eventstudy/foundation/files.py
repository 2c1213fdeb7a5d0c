"""Files written aside and moved into place: a reader sees the old file or the new one, never half, and an
export that fails leaves the earlier files whole.

:func:`atomic_write_bytes` is the one primitive for a single file (cache entries, journals): write to a
temporary file in the same folder, flush and fsync it, :func:`os.replace` it over the target, fsync the folder.

:func:`files_aside` is for files that live among the user's own (``res.to_stata("car.dta")``, the CSV files of
``res.to_r(folder)`` or ``summary.to_csv(folder)``); a folder of outputs that is replaced whole is
:func:`eventstudy.data.atomic.staged_folder`'s.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["atomic_write_bytes", "files_aside", "fsync_dir", "pid_alive"]


def pid_alive(pid: int) -> bool:
    """Whether the process ``pid`` runs (True when it cannot be told: never delete another's work)."""
    if pid == os.getpid():
        return True
    if os.name != "posix":  # pragma: no cover - no cheap check: assume alive
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_dead_leftovers(path: Path) -> None:
    """Remove the temporary files a killed export left beside ``path`` (those of processes no longer running)."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.tmp-(\d+)-")
    if not path.parent.is_dir():
        return
    for entry in path.parent.iterdir():
        match = pattern.match(entry.name)
        if match is not None and entry.is_file() and not pid_alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                entry.unlink()


def fsync_dir(directory: Path) -> None:
    """Flush a folder's entries (the renames into it) to disk where the system allows it (POSIX; a no-op
    elsewhere)."""
    if os.name != "posix":  # pragma: no cover - directories cannot be opened on Windows
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def files_aside(targets: Sequence[str | os.PathLike[str]]) -> Iterator[list[Path]]:
    """Yield a hidden temporary path beside each of ``targets``; when the block ends, move each into place.

    For exports that are files among the user's own (``res.to_stata("car.dta")``, ``res.to_r("folder")``):
    every file is written aside first, and only when all of them are complete are they renamed over the
    targets, so a failure (a full disk, an error in a writer, Ctrl-C) leaves every earlier file whole and no
    partial file beside them.  What a killed process (SIGKILL) left -- a hidden ``.<name>.tmp-<pid>-...`` file
    of a process no longer running -- is removed by the next export to the same file.

    Parameters
    ----------
    targets
        The files to write (their folders are created).

    Yields
    ------
    list of pathlib.Path
        One temporary path per target, in the same folder (so the rename is atomic), in order.

    Raises
    ------
    BaseException
        Whatever the ``with`` block raised, after every temporary file has been removed; the targets are
        then untouched.
    """
    paths = [Path(os.path.abspath(t)) for t in targets]
    umask = os.umask(0)
    os.umask(umask)
    temps: list[Path] = []
    try:
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            _remove_dead_leftovers(path)
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-{os.getpid()}-", dir=path.parent)
            os.close(fd)
            os.chmod(name, 0o666 & ~umask)  # mkstemp's 0o600 would make the published file private
            temps.append(Path(name))
        yield temps
        for temp in temps:
            with open(temp, "rb+") as handle:
                os.fsync(handle.fileno())
        for temp, path in zip(temps, paths):
            os.replace(temp, path)
    except BaseException:
        for temp in temps:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise
    for folder in dict.fromkeys(path.parent for path in paths):
        fsync_dir(folder)


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
