"""Running registered tests: one tidy table for many tests, windows and labels.

:func:`run_tests` builds one :class:`~eventstudy.inference.base.Inputs` per window and calls each test's
kernel on it, so what several tests share (the ranks, the MVRM systems, the Kolari-Pynnonen pair
correlations) is computed once; the rows keep each entry's event and ticker labels.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

from eventstudy.estimation.fit import StackedFit
from eventstudy.foundation import threads as _threads
from eventstudy.foundation.validation import check_window
from eventstudy.inference.base import SCOPES, TESTS, Batch, Inputs, TestSpec

__all__ = ["run_tests", "entry_labels", "single_threaded_blas"]

RESULT_COLUMNS = [
    "test", "window_start", "window_end", "stat", "pvalue", "n", "distribution", "note", "scope", "event_id", "ticker"
]  # fmt: skip


def _windows(windows) -> list[tuple[int, int]]:
    if isinstance(windows, tuple) and len(windows) == 2 and all(hasattr(w, "__index__") for w in windows):
        return [check_window("windows", windows)]
    try:
        items = list(windows)
    except TypeError:
        raise TypeError(
            f"The 'windows' parameter must be a (start, end) pair or a list of them. Got {windows!r} instead."
        ) from None
    if not items:
        raise ValueError("The 'windows' parameter must hold at least one (start, end) window. Got none.")
    return [check_window("windows", w) for w in items]


def _test_names(tests) -> list[str]:
    if tests is None:
        return list(TESTS)
    names = [tests] if isinstance(tests, str) else list(tests)
    unknown = [name for name in names if name not in TESTS]
    if unknown:
        raise ValueError(f"The 'tests' parameter must name tests among {tuple(TESTS)}. Got unknown {unknown!r}.")
    return names


def _labels(labels, n: int) -> tuple[np.ndarray, np.ndarray]:
    none = np.full(n, None, dtype=object)
    if labels is None:
        return none, none.copy()
    if hasattr(labels, "columns"):
        if len(labels) != n:
            raise ValueError(f"The 'labels' parameter must have one row per firm-event ({n}). Got {len(labels)}.")
        if not {"event_id", "ticker"} & set(labels.columns):
            raise KeyError("The 'labels' parameter must have an 'event_id' or a 'ticker' column.")
        return _label_column(labels, "event_id", none), _label_column(labels, "ticker", none)
    items = list(labels)
    if len(items) != n:
        raise ValueError(f"The 'labels' parameter must have one entry per firm-event ({n}). Got {len(items)}.")
    event_id, ticker = none.copy(), none.copy()
    for i, item in enumerate(items):
        if isinstance(item, tuple):
            event_id[i], ticker[i] = (None if v is None else str(v) for v in item)
        else:
            event_id[i] = None if item is None else str(item)
    return event_id, ticker


def _label_column(labels: pd.DataFrame, column: str, none: np.ndarray) -> np.ndarray:
    """``labels[column]`` as an object array of ``str`` (None stays None), all None when absent.  A column of
    pandas strings with none missing is taken as it is (its values are ``str`` already), not value by value."""
    if column not in labels.columns:
        return none.copy()
    values = labels[column]
    if isinstance(values.dtype, pd.StringDtype) and not values.isna().any():
        return values.to_numpy(dtype=object)
    return np.array([None if v is None else str(v) for v in values.tolist()], dtype=object)


def _joined(coded: tuple[np.ndarray, np.ndarray], members: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Per cluster, its members' distinct labels (None left out) in order of first appearance, joined by
    ``", "``; None for a cluster with none or absent (size -1).  ``coded`` is the labels' codes (-1 for
    None) and distinct values (``pandas.factorize``), ``members`` the clusters' rows one cluster after
    another, ``sizes`` their counts.  The distinct (cluster, label) pairs are found at once (one unique);
    only the joining is per cluster."""
    out = np.full(len(sizes), None, dtype=object)
    codes, names = coded
    present = np.flatnonzero(sizes >= 0)
    cluster = np.repeat(present, sizes[present])
    code = codes[members]
    labelled = code >= 0
    cluster, code = cluster[labelled], code[labelled]
    if not len(cluster):
        return out
    _, first = np.unique(cluster * max(len(names), 1) + code, return_index=True)
    first.sort()  # members run cluster after cluster, so their first positions order clusters, then labels
    cluster, text = cluster[first], np.asarray(names, dtype=object)[code[first]]
    starts = np.flatnonzero(np.append(True, cluster[1:] != cluster[:-1]))
    stops = np.append(starts[1:], len(cluster)).tolist()
    text = text.tolist()
    for k, a, b in zip(cluster[starts].tolist(), starts.tolist(), stops):
        out[k] = ", ".join(text[a:b])
    return out


_UNSET = object()


def entry_labels(spec: TestSpec, batch: Batch, event_id: np.ndarray, ticker: np.ndarray, one_event=_UNSET, joined=None):
    """``(event_id, ticker)`` arrays, one entry per entry of ``batch``: the firm-event's for single-firm
    tests, the members' distinct labels joined by ``", "`` for per-cluster tests, and for a cross-sectional
    test the event when all firm-events belong to one (None when the test pools several events;
    ``one_event``, when given, is that answer computed once by the caller).  ``joined``, a dict kept for one
    pair of label arrays, keeps their codes and the labels of each batch's clusters for the next batch (the
    same clusters come back in every window and in both MVRM tests)."""
    n = len(batch)
    if spec.scope == "single":
        return event_id[:n], ticker[:n]
    if batch.rows is not None:
        joined = {} if joined is None else joined
        sizes = np.array([-1 if rows is None else len(rows) for rows in batch.rows], dtype=np.int64)
        present = [rows for rows in batch.rows if rows is not None]
        members = np.concatenate(present).astype(np.intp, copy=False) if present else np.empty(0, dtype=np.intp)
        key = (sizes.tobytes(), members.tobytes())
        found = joined.get(key)
        if found is None:  # the labels' codes once per dict (per run_tests call), not once per batch
            if "codes" not in joined:  # (setdefault would factorize again for every new key)
                joined["codes"] = (pd.factorize(event_id), pd.factorize(ticker))
            found = joined[key] = tuple(_joined(c, members, sizes) for c in joined["codes"])
        return found
    one = _one_event(event_id) if one_event is _UNSET else one_event
    return np.full(n, one, dtype=object), np.full(n, None, dtype=object)


def _one_event(event_id: np.ndarray) -> str | None:
    """The event all firm-events belong to, or None when they belong to several (or none)."""
    events = {v for v in event_id.tolist() if v is not None}
    return events.pop() if len(events) == 1 else None


def run_tests(
    fit: StackedFit,
    windows,
    tests: str | Sequence[str] | None = None,
    *,
    labels=None,
    clusters=None,
    exclude=None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Run registered tests on one or more windows and return one tidy table.

    Parameters
    ----------
    fit : StackedFit
    windows : (int, int) or sequence of (int, int)
        Tested windows in relative trading days, inside the fit's event window.
    tests : str or sequence of str, optional
        Names from :data:`TESTS`; all of them by default.
    labels : DataFrame or sequence, optional
        One entry per firm-event (row of ``fit``): a DataFrame with ``event_id`` and/or ``ticker`` columns,
        a sequence of ``(event_id, ticker)`` pairs, or a sequence of event ids.  Fills the ``event_id`` and
        ``ticker`` columns of per-firm-event rows; a cluster row gets its members' distinct labels joined by
        ``", "``.
    clusters : array_like, optional
        One label per firm-event splitting same-day firm-events into separate MVRM systems (for example the
        event each firm-event belongs to); by default every date forms one system.
    exclude : array_like, optional
        Sessions (rows of ``fit.data``, or a boolean mask over them) left out of the null distributions
        the resampling tests draw from the estimation window (``permutation``, ``sq``, ``pseudo_event*``,
        ``generalized_sign``'s expected share): flagged market shocks, say.  The fit is unchanged.
    workers : int, optional
        Threads running the tests (default ``EVENTSTUDY_THREADS``, else the CPUs up to 4; 1 runs them in
        turn; more than the CPUs are capped at them, with a warning).  The table does not depend on it.

    Returns
    -------
    DataFrame
        Columns ``test, window_start, window_end, stat, pvalue, n, distribution, note, scope, event_id,
        ticker``; one row per cross-sectional test and window, one per firm-event for single-firm tests and
        one per same-day cluster for the MVRM tests.  ``scope`` is the test's :attr:`TestSpec.scope`
        (``"single"``, ``"cross-section"`` or ``"clustered"``), so the pooled rows are those whose scope is
        not ``"single"`` (:func:`tests_in_scope` names them, to run only those).
    """
    names = _test_names(tests)
    workers = _threads.check_workers(workers)
    event_id, ticker = _labels(labels, fit.n)
    parts: dict[str, list] = {name: [] for name in RESULT_COLUMNS}
    with single_threaded_blas():
        _run_into(parts, fit, names, _windows(windows), event_id, ticker, clusters, exclude, workers)
    column = lambda name: np.concatenate(parts[name]) if parts[name] else np.array([])  # noqa: E731
    return _table(column, names)


def single_threaded_blas():
    """A context in which BLAS uses one thread (threadpoolctl), for the statistics' many small products.

    The matrices here are at most a cluster's firms by the grid's days; BLAS threads buy nothing on them,
    and on a busy machine they cost: the correlation and MVRM steps ran 10-20x slower with OpenBLAS's
    default threads than with one on a shared 2-core machine (``benchmarks/README.md``).

    The controller that finds the loaded BLAS libraries is kept while no module has been imported since:
    finding them walks every loaded shared library, 11 ms a call, and a new BLAS can only arrive with an
    import.
    """
    global _CONTROLLER
    known = _CONTROLLER
    if known is None or known[0] != len(sys.modules):
        known = _CONTROLLER = (len(sys.modules), ThreadpoolController())
    return known[1].limit(limits=1, user_api="blas")


#: (number of imported modules, the controller made then) for :func:`single_threaded_blas`
_CONTROLLER: tuple[int, ThreadpoolController] | None = None


#: tests that compute what other tests of the window (or of every window) share, heaviest first: the ranks,
#: the Kolari-Pynnonen pair correlations, the MVRM systems, the Brown-Warner portfolio, the estimation-window
#: runs of the resampling tests, the generalized rank test's ranks (which then waits for the pair
#: correlations).  Either MVRM test, and either generalized rank test, solves the systems or ranks the rows,
#: whichever of the two is asked for: without ``mvrm_average`` here, the summary (which shows it and not
#: ``mvrm_joint``) left the systems to the end of the first window while the other thread waited for the
#: pair correlations.
_HEAVY = {"rank": 0, "kp_bmp": 1, "mvrm_joint": 2, "mvrm_average": 2, "brown_warner": 3, "permutation": 4}
_HEAVY |= {"pseudo_event": 5, "grank_t": 6, "grank_z": 6}


def _run_into(parts, fit, names, windows, event_id, ticker, clusters, exclude, workers: int) -> None:
    """Fill ``parts`` with the rows of every test on every window, in order.

    What several tests share for every window and compute in blocks (:attr:`TestSpec.shared`) is computed
    first, its blocks on threads.  Then each (window, test) is a task, run on ``workers`` threads in the
    order of the table (numpy releases the GIL in the sorts, reductions and products the statistics are made
    of).  What tests share is computed
    once, by the first that asks, while the others wait (:meth:`Inputs.once`, :meth:`StackedFit.lock`): on
    the window's inputs (the MVRM systems, the Kolari-Pynnonen correlation, the pseudo-event sums) and on the
    fit for every window (the ranks, the pair correlations, the MVRM factorisations).  Rows are appended in
    the tasks' order, so the table does not depend on ``workers``; a window's inputs are let go once its
    last test has run.
    """
    one_event = _one_event(event_id)  # the same for every cross-sectional test and window
    joined: dict = {}  # each batch's cluster labels and the labels' codes, for every window and per-cluster test
    first_window, *others = (Inputs(fit, window, clusters=clusters, exclude=exclude, tests=names) for window in windows)
    inputs: list[Inputs | None] = [first_window, *others]
    # what tests share for every window and compute in blocks (the pair correlations, the ranks) first, on
    # every thread: inside a task its blocks would run in turn while the tests that need it wait
    for compute in dict.fromkeys(compute for name in names for compute in TESTS[name].shared):
        compute(first_window)
    left = [len(names)] * len(windows)
    done = threading.Lock()

    def one(task: tuple[int, str]) -> list[tuple[str, Any]]:
        at, name = task
        inp, window = inputs[at], windows[at]
        assert inp is not None
        spec = TESTS[name]
        batch = spec.kernel(inp)
        size = len(batch)
        who = entry_labels(spec, batch, event_id, ticker, one_event, joined)
        with done:
            left[at] -= 1
            if not left[at]:
                inputs[at] = None
        return [
            ("test", np.full(size, names.index(name), dtype=np.intp)),  # codes: see _table
            ("window_start", np.full(size, window[0], dtype=np.int64)),
            ("window_end", np.full(size, window[1], dtype=np.int64)),
            ("stat", batch.stat),
            ("pvalue", batch.pvalue),
            ("n", batch.n),
            ("distribution", batch.distribution),
            ("note", batch.note),
            ("scope", np.full(size, SCOPES.index(spec.scope), dtype=np.intp)),
            ("event_id", who[0]),
            ("ticker", who[1]),
        ]

    tasks = [(at, name) for at in range(len(windows)) for name in names]
    # the tests that compute what others wait for go first, so that two threads compute two of them at once
    first = sorted(range(len(tasks)), key=lambda i: (tasks[i][0], _HEAVY.get(tasks[i][1], len(_HEAVY)), i))
    results: list = [None] * len(tasks)
    if workers == 1 or len(tasks) < 2:
        for i in first:
            results[i] = one(tasks[i])
    else:
        with _threads.pool(min(workers, len(tasks))) as pool:
            for i, rows in zip(first, pool.map(one, [tasks[i] for i in first])):
                results[i] = rows
    for rows in results:
        for column, values in rows:
            parts[column].append(np.asarray(values))


def _table(column, names: list[str]) -> pd.DataFrame:
    """The table of :func:`run_tests` from its concatenated parts.  ``test`` and ``scope`` arrive as codes into
    ``names`` and :data:`SCOPES`: taking a few pandas strings by code is a fraction of converting one Python
    string per row (2 ms a column of 60,000 rows)."""
    strings = lambda values, codes: pd.Series(pd.array(list(values), dtype=str).take(codes))  # noqa: E731
    return pd.DataFrame(
        {
            "test": strings(names, column("test").astype(np.intp)),
            "window_start": pd.Series(column("window_start"), dtype=np.int64),
            "window_end": pd.Series(column("window_end"), dtype=np.int64),
            "stat": pd.Series(column("stat"), dtype=float),
            "pvalue": pd.Series(column("pvalue"), dtype=float),
            "n": pd.Series(column("n"), dtype=np.int64),
            "distribution": pd.Series(column("distribution"), dtype=str),
            "note": pd.Series(column("note"), dtype=str),
            "scope": strings(SCOPES, column("scope").astype(np.intp)),
            # object columns keep None where a row has no firm-event or cluster label
            "event_id": pd.Series(column("event_id"), dtype=object),
            "ticker": pd.Series(column("ticker"), dtype=object),
        },
        columns=RESULT_COLUMNS,
        copy=False,  # the columns are new (concatenated parts): copying them again cost ~0.4 ms a table
    )
