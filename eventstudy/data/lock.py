"""Per-ticker locks for the price cache, so that two processes never rewrite one entry at once.

A cache entry is read, merged with new rows and written back.  Two processes doing that for one ticker at
the same time would each write what they read plus their own rows, and the second rename would throw
away the first one's dates.  Holding an exclusive lock on the ticker's lock file from the read to the
write makes the second process read what the first one wrote (the discipline of SQLite's write lock).

The lock is an advisory OS lock (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows) on a small file
beside the entry: the OS releases it when the process dies, so a killed writer never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["LockTimeout", "entry_lock", "entry_locks"]

#: Seconds a writer waits for another process to finish with a ticker before giving up.
DEFAULT_TIMEOUT = 600.0


class LockTimeout(TimeoutError):
    """Another process held a cache entry's lock for longer than the timeout."""


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def entry_lock(path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> Iterator[bool]:
    """Hold an exclusive lock on ``path`` (created if needed) for the ``with`` block.

    Yields True when the lock is held, False when the lock file cannot be created (a read-only cache
    folder: nothing can be written there anyway, so readers go on without a lock).

    Raises
    ------
    LockTimeout
        When another process holds the lock for more than ``timeout`` seconds; the message names the file.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield False
        return
    try:
        deadline = time.monotonic() + timeout
        pause = 0.01
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                raise LockTimeout(
                    f"another process has held the cache lock {path} for more than {timeout:g} s; wait for it to "
                    "finish, or delete the lock file if no eventstudy process is running"
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.25)
        try:
            yield True
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def entry_locks(paths: Sequence[Path], *, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold the locks of several entries, taken in sorted order so that two processes cannot deadlock."""
    with contextlib.ExitStack() as stack:
        for path in sorted(set(paths)):
            stack.enter_context(entry_lock(path, timeout=timeout))
        yield
