"""Threads: one computation per key when several threads ask for a cached value, and row blocks on threads.

The statistics of several windows and tests run on threads (:func:`eventstudy.inference.run_tests`), and
they share values cached on the fit (abnormal returns, ranks, pair correlations) and on each window's
inputs.  The first thread to ask for a value computes it under that key's lock; the others wait for it
instead of computing it again.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from eventstudy.exceptions import EventStudyWarning
from eventstudy.foundation.validation import check_positive_int

T = TypeVar("T")


def keyed_lock(locks: MutableMapping[Any, threading.Lock], key: Any) -> threading.Lock:
    """The lock of ``key`` in ``locks``, made on first use.

    ``dict.setdefault`` is atomic, so two threads asking at once get the same lock (the one stored first).
    """
    lock = locks.get(key)
    return lock if lock is not None else locks.setdefault(key, threading.Lock())


def once(
    store: MutableMapping[Any, Any], locks: MutableMapping[Any, threading.Lock], key: Any, compute: Callable[[], T]
) -> T:
    """``store[key]``, set to ``compute()`` by the first caller; callers on other threads wait for it."""
    if key not in store:
        with keyed_lock(locks, key):
            if key not in store:
                store[key] = compute()
    return store[key]


def threads_from_environment() -> int:
    """``EVENTSTUDY_THREADS`` when it is a positive integer, capped at the CPUs; else the CPUs up to 4 (a
    warning says why when it is set to something else or above the CPUs)."""
    cpus = os.cpu_count() or 1
    default = max(1, min(4, cpus))
    raw = os.environ.get("EVENTSTUDY_THREADS", "").strip()
    if not raw:
        return default
    if raw.isascii() and raw.isdigit() and int(raw) > 0:  # isdigit alone takes "²", which int() refuses
        return _capped(int(raw), "EVENTSTUDY_THREADS", stacklevel=3)
    warnings.warn(
        f"EVENTSTUDY_THREADS={raw!r} is not a positive whole number; using {default} threads.",
        EventStudyWarning,
        stacklevel=2,
    )
    return default


def check_workers(workers: Any) -> int:
    """``workers`` threads (default :data:`THREADS` for None), a positive integer capped at the CPUs, as
    ``EVENTSTUDY_THREADS`` is (a warning says so); the warning points at the caller's caller."""
    return _capped(check_positive_int("workers", THREADS if workers is None else workers), "workers", stacklevel=4)


def _capped(threads: int, name: str, *, stacklevel: int) -> int:
    """``threads`` capped at the CPUs, with a warning naming ``name`` when above: more threads than CPUs only
    add switching and memory."""
    cpus = os.cpu_count() or 1
    if threads > cpus:
        warnings.warn(
            f"{name}={threads} is more than the {cpus} CPU(s) of this machine; using {cpus} threads.",
            EventStudyWarning,
            stacklevel=stacklevel,
        )
        return cpus
    return threads


#: threads for the statistics (the tests of several windows, blocks of rows of the sorts and ranks, chunks
#: of pairs): numpy releases the GIL in them.  ``EVENTSTUDY_THREADS=1`` runs everything in turn, for a
#: machine already busy with one study per process.  Read when eventstudy is imported; set
#: ``eventstudy.foundation.threads.THREADS`` to change it later in a session.
THREADS = threads_from_environment()
#: cells (rows x columns) per block of rows
BLOCK_CELLS = 1 << 18
#: cells of the blocks of rows worked on at a time where a pass would otherwise stream (N, L) arrays
#: through memory: a few hundred kB, so that a block's temporaries stay in cache between operations
CACHE_CELLS = 1 << 16


def row_blocks(rows: int, width: int, cells: int | None = None) -> list[slice]:
    """Slices of about ``cells`` (default :data:`BLOCK_CELLS`) cells covering ``rows`` rows of ``width``
    columns, in order."""
    step = max(1, (BLOCK_CELLS if cells is None else cells) // max(1, width))
    return [slice(start, min(start + step, rows)) for start in range(0, rows, step)]


_local = threading.local()


def _mark_worker() -> None:
    _local.worker = True


def pool(workers: int) -> ThreadPoolExecutor:
    """A thread pool whose threads run any :func:`thread_map` inside them in turn: the outer pool already
    keeps the CPUs busy, and threads within threads only contend (a simulation ran 7-9 % slower)."""
    return ThreadPoolExecutor(max_workers=workers, initializer=_mark_worker)


def thread_map(func: Callable[[Any], T], items: Sequence[Any], threads: int | None = None) -> list[T]:
    """``[func(item) for item in items]``, computed on ``threads`` (default :data:`THREADS`) threads, in turn
    for one item or one thread, or inside a thread of a :func:`pool`.

    The results keep the items' order, so the outcome does not depend on which thread ran what.
    """
    threads = THREADS if threads is None else threads
    if threads <= 1 or len(items) <= 1 or getattr(_local, "worker", False):
        return [func(item) for item in items]
    with pool(min(threads, len(items))) as workers:
        return list(workers.map(func, items))
