"""Write a folder of outputs beside its target and move it into place whole (git's and SQLite's discipline).

A report is many files (Markdown, HTML, JSON, tables, figures).  Written one by one into the target, an
interrupted run (Ctrl-C, a full disk, a crash) leaves a mix of two runs, or a truncated ``report.md`` beside
a complete ``results.json``.  :func:`staged_folder` instead gives the writer a fresh hidden folder beside the
target (same file system, so renames are atomic); only when everything is written is the old folder
renamed aside, the new one renamed into place and the old one deleted.  A failed or interrupted run
removes its staging folder and leaves the previous output exactly as it was.

What a killed process (SIGKILL, power cut) leaves behind -- a staging folder, or the old folder renamed
aside in the instant between the two renames -- is cleaned up by the next run for the same target: an
orphaned old folder whose target is missing is put back first, so the last complete output survives.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from eventstudy.foundation.files import fsync_dir, pid_alive

__all__ = ["staged_folder", "leftovers"]

#: Errors of a rename onto a folder that another run has just filled.
_TAKEN = (errno.ENOTEMPTY, errno.EEXIST)
#: How many times a run racing others tries to move its output into place before giving up.
_SWAP_ATTEMPTS = 50


def _earlier_output(target: Path, marker: str) -> bool:
    """Whether the folder ``target`` is empty or an earlier output (holds ``marker``); a folder that another run
    swaps away meanwhile counts as one (it was that run's output)."""
    try:
        with os.scandir(target) as entries:
            names = {entry.name for entry in entries}
    except (FileNotFoundError, NotADirectoryError):
        return True
    return not names or marker in names


def leftovers(target: Path) -> list[Path]:
    """The staging and set-aside folders of ``target`` present now (of any process)."""
    target = Path(target)
    if not target.parent.exists():
        return []
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(tmp|old)-\d+-")
    return sorted(p for p in target.parent.iterdir() if pattern.match(p.name))


def _recover(target: Path) -> None:
    """Remove what dead runs left for ``target``; put back an old folder a kill left set aside."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(tmp|old)-(\d+)-")
    for path in leftovers(target):
        match = pattern.match(path.name)
        if match is None or pid_alive(int(match.group(2))):
            continue
        if match.group(1) == "old" and not target.exists():
            os.replace(path, target)  # killed between the two renames: the previous output comes back
        else:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def staged_folder(target: str | os.PathLike[str], *, marker: str | None = None) -> Iterator[Path]:
    """Yield an empty folder beside ``target``; on success it replaces ``target`` as a whole.

    Parameters
    ----------
    target
        The output folder.  Its parent is created if needed.
    marker
        A file every earlier output holds (e.g. ``results.json``).  An existing, non-empty ``target``
        without it is refused rather than replaced: it is somebody's folder, not an earlier output.

    Yields
    ------
    pathlib.Path
        The staging folder to write into (hidden: ``.<name>.tmp-<pid>-<random>`` beside the target).

    Raises
    ------
    NotADirectoryError
        When ``target`` exists and is not a folder (nothing is written).
    FileExistsError
        When ``target`` is a non-empty folder without ``marker`` (nothing is written).
    BaseException
        Whatever the ``with`` block raised (KeyboardInterrupt included), after the staging folder has been
        removed; ``target`` is then untouched.
    """
    target = Path(os.path.abspath(target))
    # one stat each, never exists() then is_dir(): another run may be swapping its output in between, and a
    # path that vanished in between is no file of the user's
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISDIR(mode):
        raise NotADirectoryError(f"The output path {target} exists and is not a folder. Choose another --out.")
    if marker is not None and mode is not None and not _earlier_output(target, marker):
        raise FileExistsError(
            f"The output folder {target} holds files but no {marker}, so it is not an earlier output; it is "
            "replaced as a whole, so choose a new or empty folder (--out)."
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _recover(target)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    except OSError as exc:  # the user's path, not the hidden staging name mkdtemp tried
        raise _naming(exc, target, f"cannot create the output folder {target} ({exc.strerror or exc})") from None
    umask = os.umask(0)
    os.umask(umask)
    stage.chmod(0o777 & ~umask)  # mkdtemp's 0o700 would make the published folder private
    try:
        yield stage
        _swap(stage, target)
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        where = str(exc.filename or "")
        if where.startswith(str(stage)):  # a file of the output, named as it would be inside the user's folder
            inside = os.path.relpath(where, stage)
            raise _naming(exc, target, f"could not write {target / inside} ({exc.strerror or exc})") from exc
        raise
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _naming(exc: OSError, target: Path, message: str) -> OSError:
    """``exc`` again (same class and errno) with a message naming the user's output folder ``target``."""
    named = type(exc)(exc.errno, f"{message}; nothing was changed in {target}") if exc.errno else OSError(message)
    named.filename = str(target)
    return named


def _swap(stage: Path, target: Path) -> None:
    """Move ``stage`` into place as ``target``, the old ``target`` aside and then away.

    Another run racing into the same target can publish its own output between two of these renames;
    then the target is set aside again and this run's output goes in: the last run to finish wins whole,
    and neither fails on the other's folders.
    """
    asides: list[Path] = []
    try:
        for _ in range(_SWAP_ATTEMPTS):
            if not target.exists():
                try:
                    os.replace(stage, target)
                    break
                except OSError as exc:
                    if exc.errno in _TAKEN:  # another run's output went in first: set it aside too
                        continue
                    raise
            aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target.parent))
            os.rmdir(aside)  # only the unique name is wanted; rename needs it free
            try:
                os.replace(target, aside)
            except FileNotFoundError:  # another run has just set it aside itself
                continue
            asides.append(aside)
            try:
                os.replace(stage, target)
                break
            except OSError as exc:
                if exc.errno in _TAKEN:
                    continue
                with contextlib.suppress(OSError):  # the new output could not go in: the old one goes back
                    os.replace(asides.pop(), target)
                raise
        else:
            raise FileExistsError(
                errno.EEXIST,
                f"Other runs kept replacing the output folder {target} while this one was moving its own into "
                "place; this run's output was discarded. Give each run its own --out.",
            )
    finally:
        for aside in asides:
            shutil.rmtree(aside, ignore_errors=True)
    fsync_dir(target.parent)
