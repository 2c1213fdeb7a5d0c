"""Test-statistic objects, the test registry and the machinery every statistic shares.

A statistic is a function ``f(fit, window) -> TestResult`` (or a list of them, one per firm-event or per
same-day cluster) that reads a :class:`~eventstudy.estimation.models.StackedFit`.  Behind each public function sits a
*kernel* that works on an :class:`Inputs` record and a grouping of the firm-events, so that the simulation can
compute one statistic for a thousand samples in one vectorized pass; the public function is the kernel with a
single group.

Scopes and return types
-----------------------
``"single"``
    One result per firm-event (``ar_t``, ``car_t``, ``permutation``): the function returns a list in the
    row order of the fit.
``"cross-section"``
    One result for all firm-events: the function returns a :class:`TestResult`.
``"clustered"``
    One result per same-day cluster (``mvrm_joint``, ``mvrm_average``): the function returns a list, one
    entry per cluster in order of day 0 (a single invalid entry when no two firm-events share a date).

A statistic that does not fit the design (too few firm-events, no shared dates, too few estimation days)
returns NaN with the reason in :attr:`TestResult.note`, as linearmodels' ``InvalidTestStatistic`` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from eventstudy.estimation.fit import StackedFit
from eventstudy.estimation.panel import gather
from eventstudy.foundation.threads import once
from eventstudy.foundation.validation import check_choice

__all__ = [
    "TestResult",
    "TestSpec",
    "TESTS",
    "MIN_FIRM_EVENTS",
    "SMALL_SAMPLE",
    "tests_in_scope",
]

#: cross-sectional tests need at least this many firm-events with a CAR over the window
MIN_FIRM_EVENTS = 5
#: below this many firm-events the normal approximations of patell, rank and generalized_sign are rough
SMALL_SAMPLE = 20

Scope = Literal["single", "cross-section", "clustered"]
SCOPES: tuple[str, ...] = ("single", "cross-section", "clustered")


# --------------------------------------------------------------------------------------------------------
# the result object
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestResult:
    """The outcome of one test on one window.

    Attributes
    ----------
    test : str
        Registry name of the test, e.g. ``"patell"``.
    stat : float
        The statistic (NaN when the test could not run).
    pvalue : float
        Two-sided p-value (NaN when the test could not run).
    n : int
        Firm-events (or firms of a cluster) the statistic uses.
    distribution : str
        Reference distribution of ``stat`` under the null, e.g. ``"t(238)"``, ``"N(0,1)"``,
        ``"F(3, 714)"``, ``"empirical (229 windows)"``, ``"binomial(12, 0.5)"``.
    window : (int, int)
        The tested window in relative trading days, inclusive.
    note : str
        Why the statistic is NaN, or a caveat (firm-events left out, the estimated correlation, ...).
    event_id, ticker : str or None
        Filled by callers for per-firm-event and per-cluster results.
    """

    __test__ = False  # not a pytest test class despite the name

    test: str
    stat: float
    pvalue: float
    n: int
    distribution: str
    window: tuple[int, int]
    note: str = ""
    event_id: str | None = None
    ticker: str | None = None

    @classmethod
    def invalid(
        cls, test: str, reason: str, *, window: tuple[int, int], n: int = 0, distribution: str = ""
    ) -> TestResult:
        """A result that could not be computed: ``stat`` and ``pvalue`` are NaN and ``note`` says why."""
        return cls(test, math.nan, math.nan, int(n), distribution, (int(window[0]), int(window[1])), reason)

    @property
    def valid(self) -> bool:
        """True when the statistic could be computed."""
        return math.isfinite(self.stat) and math.isfinite(self.pvalue)

    def to_dict(self) -> dict[str, Any]:
        """One row of :func:`run_tests`' table."""
        return {
            "test": self.test,
            "window_start": self.window[0],
            "window_end": self.window[1],
            "stat": self.stat,
            "pvalue": self.pvalue,
            "n": self.n,
            "distribution": self.distribution,
            "note": self.note,
            "event_id": self.event_id,
            "ticker": self.ticker,
        }

    def __repr__(self) -> str:
        who = "".join(f" {v}" for v in (self.event_id, self.ticker) if v is not None)
        head = f"TestResult({self.test}{who}, window={self.window}"
        if not self.valid:
            return f"{head}, invalid: {self.note})"
        tail = f", note={self.note!r}" if self.note else ""
        return f"{head}, stat={self.stat:.4f}, pvalue={self.pvalue:.4g}, {self.distribution}, n={self.n}{tail})"

    __str__ = __repr__


@dataclass(frozen=True)
class TestSpec:
    """A registered test: its name, public function, scope, one-line description and reference."""

    __test__ = False

    name: str
    function: Callable
    scope: Scope
    description: str
    reference: str
    kernel: Callable = field(repr=False)  # (Inputs, **options) -> Batch
    #: the null hypothesis, in words (shown by :class:`~eventstudy.inference.statistic.TestStatistic`)
    null: str = "no abnormal return over the window"
    #: ``"two-sided"``: the p-value counts both tails of ``stat``; ``"upper"``: large values reject (F, chi2)
    alternative: str = "two-sided"
    #: what the test computes once per fit, with blocks or chunks on threads, and shares with other tests
    #: (``compute(inputs)``, caching its result on the fit): :func:`~eventstudy.inference.run_tests` runs
    #: these before the tests, on every thread, so that no test waits for them on one thread
    shared: tuple[Callable[[Inputs], object], ...] = ()


#: every test by name, in the order :func:`run_tests` reports them
TESTS: dict[str, TestSpec] = {}


def register(spec: TestSpec) -> TestSpec:
    TESTS[spec.name] = spec
    return spec


def share(names: Sequence[str], compute: Callable[[Inputs], object]) -> None:
    """Declare ``compute`` (cached on the fit) as shared by the registered tests ``names`` (:attr:`TestSpec.shared`)."""
    for name in names:
        TESTS[name] = replace(TESTS[name], shared=TESTS[name].shared + (compute,))


def state_nulls(nulls: dict[str, str], **changes) -> None:
    """Set the null hypothesis (and other :class:`TestSpec` fields in ``changes``) of registered tests."""
    for name, null in nulls.items():
        TESTS[name] = replace(TESTS[name], null=null, **changes)


# --------------------------------------------------------------------------------------------------------
# groups of firm-events and the shared inputs
# --------------------------------------------------------------------------------------------------------


class Groups:
    """A partition of the firm-events into groups (one group for a study; one per sample in a simulation).

    Sums over the rows of each group are one reshape and reduction when the groups have equal sizes in row
    order (a study's single group, a simulation's samples), else ``np.add.reduceat`` on rows sorted by
    group, so a statistic of a thousand samples costs one vectorized pass.  The sorted rows get a zero row appended, so that every
    group's start is a valid index even when the last groups are empty.
    """

    def __init__(self, ids: np.ndarray | None, n_rows: int, n_groups: int | None = None):
        ids = np.zeros(n_rows, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
        self.ids = ids
        self.n = int(n_groups if n_groups is not None else (ids.max() + 1 if len(ids) else 1))
        monotone = bool(np.all(ids[1:] >= ids[:-1]))
        self.order = None if monotone else np.argsort(ids, kind="stable")
        sorted_ids = ids if monotone else ids[self.order]
        self.starts = np.searchsorted(sorted_ids, np.arange(self.n))
        self.counts = np.bincount(ids, minlength=self.n)
        # groups of equal size in row order (one group for a study, the samples of a simulation): sums are
        # a reshape and one reduction, without reduceat's strided pass over a padded copy
        size = len(ids) // self.n if self.n else 0
        self.block = size if (monotone and size > 0 and bool(np.all(self.counts == size))) else None

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` (NaN-free, first axis = firm-events) over the rows of each group."""
        values = np.asarray(values)
        # booleans are counted in int64 by the reduction itself (an int64 copy of an (N, L) mask was most of
        # a simulation's time in this method)
        dtype = np.int64 if values.dtype == bool else None
        if self.block is not None:
            return values.reshape((self.n, self.block) + values.shape[1:]).sum(axis=1, dtype=dtype)
        if self.order is not None:
            values = values[self.order]
        # reduceat sums rows starts[g] .. starts[g+1]-1, and the last group to the end: with the zero row
        # appended, empty trailing groups start at that row (sum 0) and the last non-empty group keeps its
        # final row.  An empty group inside gets values[starts[g]] from reduceat, hence the reset.
        padded = np.concatenate([values, np.zeros((1,) + values.shape[1:], dtype=values.dtype)])
        out = np.add.reduceat(padded, self.starts, axis=0, dtype=dtype)
        out[self.counts == 0] = 0
        return out

    def expand(self, per_group: np.ndarray) -> np.ndarray:
        """A per-group value repeated on each of the group's firm-events."""
        return np.asarray(per_group)[self.ids]

    def members(self, mask: np.ndarray | None = None) -> list[np.ndarray]:
        """Row positions of each group (restricted to ``mask``)."""
        order = np.arange(len(self.ids)) if self.order is None else self.order
        bounds = np.append(self.starts, len(order))
        rows = [order[bounds[g] : bounds[g + 1]] for g in range(self.n)]
        return rows if mask is None else [r[mask[r]] for r in rows]


def unique_rows(keys: np.ndarray):
    """``np.unique(keys, axis=0, return_inverse=True, return_counts=True)`` for integer keys, (N, k).

    Rows of non-negative keys become one mixed-radix int64 code each, whose order is the rows' lexicographic
    order, so a 1-d unique does the work: about 15 times faster than the structured sort of ``axis=0`` on
    the (group, date) keys of a simulation chunk.  Returns the distinct rows, the inverse (N,) and counts.
    """
    keys = np.asarray(keys, dtype=np.int64)
    if not len(keys) or keys.min() < 0 or np.prod((keys.max(axis=0) + 1).astype(float)) >= 2.0**62:
        rows, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
        return rows, inverse.ravel(), counts
    spans = keys.max(axis=0) + 1
    code = keys[:, 0].copy()
    for j in range(1, keys.shape[1]):
        code = code * spans[j] + keys[:, j]
    _, first, inverse, counts = np.unique(code, return_index=True, return_inverse=True, return_counts=True)
    return keys[first], inverse.ravel(), counts


class Inputs:
    """The arrays the statistics read from a fit for one window, computed once and shared by every test.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)
        The tested window, inside the fit's event window
        (:class:`~eventstudy.exceptions.EventWindowError` otherwise).
    groups : ndarray of int, shape (N,), optional
        Group of each firm-event (default: one group).  Cross-sectional statistics are computed per group.
    n_groups : int, optional
        Number of groups, so that groups without firm-events (after the last id in ``groups``) still get an
        entry; by default one more than the largest id.
    clusters : array_like, shape (N,), optional
        Labels that split same-day firm-events into separate systems for the MVRM tests.
    exclude : optional
        Sessions left out of the resampling tests' nulls (:func:`~eventstudy.inference.run_tests`).
    tests : collection of str, optional
        The registered tests that will run on these inputs (default: any), so that what two of them could
        make in one pass is made in one only when both run (:meth:`runs_any`).
    """

    def __init__(
        self,
        fit: StackedFit,
        window: tuple[int, int],
        *,
        groups=None,
        n_groups=None,
        clusters=None,
        exclude=None,
        tests=None,
    ):
        self.positions = fit.event_positions(window)  # EventWindowError outside the event window
        lo, hi = fit.event_window
        start, end = lo + int(self.positions[0]), lo + int(self.positions[-1])
        self.fit = fit
        self.window = (start, end)
        self.length = end - start + 1
        grid = fit.event_time
        self.grid = grid
        self.grid_positions = np.arange(start - grid[0], end - grid[0] + 1)
        self.event_grid_positions = np.arange(lo - grid[0], hi - grid[0] + 1)
        self.groups = Groups(groups, fit.n, n_groups)
        self.memo: dict = {}  # results shared by several tests (the MVRM systems, the KP correlation, ...)
        self._locks: dict = {}
        self.exclude = _session_mask(exclude, fit)
        self.tests = None if tests is None else frozenset(tests)
        self.clusters = None if clusters is None else np.asarray(clusters)
        if self.clusters is not None and len(self.clusters) != fit.n:
            raise ValueError(
                f"The 'clusters' parameter must give one label per firm-event ({fit.n}). "
                f"Got {len(self.clusters)} labels instead."
            )

    def runs_any(self, names) -> bool:
        """Whether any of the registered tests ``names`` runs on these inputs (True when they were not named)."""
        return self.tests is None or not self.tests.isdisjoint(names)

    def once(self, key, compute):
        """``memo[key]``, set to ``compute()`` by the first test that asks; tests of this window running on
        other threads (:func:`~eventstudy.inference.run_tests`) wait for it instead of computing it again."""
        return once(self.memo, self._locks, key, compute)

    def once_per_fit(self, key: str, compute, residuals: np.ndarray):
        """``compute()`` of what does not depend on the window, cached on the fit under ``"inference:" + key``
        while ``residuals`` are the fit's own (every window and test then shares it); on this window's inputs
        (:meth:`once`) when they are not (a simulation's, or an exclusion's)."""
        if residuals is not self.fit._cache.get("inference:residuals"):
            return self.once(key, compute)
        return self.fit.cached(f"inference:{key}", compute)

    # abnormal returns (the simulation overrides these two to add an abnormal return on day 0)
    @cached_property
    def ar_event(self) -> np.ndarray:
        """Event-window abnormal returns, (N, W)."""
        return self.fit.ar_event

    @cached_property
    def ar(self) -> np.ndarray:
        """Residuals and abnormal returns on the whole relative-day grid, (N, L)."""
        return self.fit.ar

    @cached_property
    def estimation_mask(self) -> np.ndarray:
        return self.fit.estimation_mask

    @cached_property
    def residuals(self) -> np.ndarray:
        """Estimation-window residuals, NaN on days not used in the fit, (N, L)."""
        if type(self).ar is Inputs.ar and type(self).estimation_mask is Inputs.estimation_mask:
            # the fit's own: one array for every window (cached on the fit), not one per window
            return self.fit._cached("inference:residuals", self.fit.residuals)
        return np.where(self.estimation_mask, self.ar, np.nan)

    @cached_property
    def null_residuals(self) -> np.ndarray:
        """:attr:`residuals` without the excluded sessions: the days the resampling tests' nulls draw on."""
        if self.exclude is None:
            return self.residuals
        hit = gather(self.exclude[:, None], self.fit.day0, self.grid, np.zeros(self.fit.n, dtype=np.int64), fill=False)
        return np.where(hit, np.nan, self.residuals)

    @cached_property
    def car(self) -> np.ndarray:
        """:math:`CAR_i` over the window, NaN when a day of the window lacks an abnormal return."""
        return self.ar_event[:, self.positions].sum(axis=1)

    @cached_property
    def car_variance(self) -> np.ndarray:
        """MacKinlay (1997) prediction-error variance of :math:`CAR_i` (:meth:`StackedFit.car_variance`)."""
        return self.fit.car_variance(self.window)

    @cached_property
    def df(self) -> np.ndarray:
        """:math:`T_i - K`, the residual degrees of freedom."""
        return np.asarray(self.fit.df, dtype=float)

    @cached_property
    def used(self) -> np.ndarray:
        """Firm-events with a CAR over the whole window, a positive variance and :math:`T_i-K>2`."""
        var = self.car_variance
        with np.errstate(invalid="ignore"):
            return np.isfinite(self.car) & np.isfinite(var) & (var > 0) & (self.df > 2)

    @cached_property
    def scar(self) -> np.ndarray:
        r"""Standardized CAR :math:`CAR_i/\sqrt{\operatorname{Var}(CAR_i)}`, NaN where not :attr:`used`."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.used, self.car / np.sqrt(self.car_variance), np.nan)

    @cached_property
    def n_used(self) -> np.ndarray:
        """Firm-events used per group."""
        return self.groups.sum(self.used)


def _session_mask(exclude, fit) -> np.ndarray | None:
    """``exclude`` as a boolean mask over the fit's sessions (rows of ``fit.data``), or None."""
    if exclude is None:
        return None
    sessions = fit.data.y.shape[0]
    exclude = np.asarray(exclude)
    if exclude.dtype == bool:
        if exclude.shape != (sessions,):
            raise ValueError(
                f"The 'exclude' parameter must be a boolean mask over the {sessions} sessions of the data or "
                f"session rows. Got shape {exclude.shape} instead."
            )
        return exclude
    if exclude.size and not np.issubdtype(exclude.dtype, np.integer):
        raise TypeError(
            f"The 'exclude' parameter must hold session rows (int) or a boolean mask. Got dtype {exclude.dtype}; "
            "res.tests(exclude_dates=...) takes dates."
        )
    mask = np.zeros(sessions, dtype=bool)
    mask[exclude[(exclude >= 0) & (exclude < sessions)].astype(np.int64)] = True
    return mask


# --------------------------------------------------------------------------------------------------------
# a batch of results, as arrays
# --------------------------------------------------------------------------------------------------------


class Batch:
    """Results of one test as arrays: one entry per group, per firm-event or per cluster.

    ``fail(mask, reason)`` marks entries invalid (the first reason given wins); ``caveat`` adds a note to
    entries that stay valid.  :meth:`results` turns the arrays into :class:`TestResult` objects.
    """

    def __init__(self, size: int, *, group: np.ndarray | None = None, rows: list | None = None):
        self.stat = np.full(size, np.nan)
        self.pvalue = np.full(size, np.nan)
        self.n = np.zeros(size, dtype=np.int64)
        self.distribution = np.full(size, "", dtype=object)
        self.note = np.full(size, "", dtype=object)
        self.failed = np.zeros(size, dtype=bool)
        self.group = np.arange(size) if group is None else np.asarray(group)
        self.rows = rows
        #: resampling tests: ``draws(k)`` gives entry k's statistic draws under the null (its empirical
        #: distribution), computed only when a TestStatistic asks for it
        self.draws: Callable[[int], np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.stat)

    def fail(self, mask, reason) -> None:
        mask = np.asarray(mask, dtype=bool) & ~self.failed
        if not mask.any():
            return
        self.note[mask] = reason[mask] if isinstance(reason, np.ndarray) else reason
        self.failed |= mask

    def fail_each(self, mask, values, reason) -> None:
        """:meth:`fail` with one reason per entry, ``reason(value)`` for each of ``values`` (counts, usually).

        Only the entries that fail get a text, and each distinct value is formatted once (a simulation has
        thousands of entries and a handful of counts)."""
        mask = np.asarray(mask, dtype=bool) & ~self.failed
        if not mask.any():
            return
        distinct, inverse = np.unique(np.asarray(values)[mask], return_inverse=True)
        texts = np.full(len(mask), "", dtype=object)
        texts[mask] = np.array([reason(v) for v in distinct], dtype=object)[inverse.ravel()]
        self.fail(mask, texts)

    def caveat(self, mask, text) -> None:
        mask = np.asarray(mask, dtype=bool) & ~self.failed
        if not mask.any():
            return
        extra = text[mask] if isinstance(text, np.ndarray) else np.full(mask.sum(), text, dtype=object)
        current = self.note[mask]
        noted = current != ""
        if noted.any():  # joined only where a note is already there (object additions cost ~1 ms per 5,000)
            extra = np.array(extra, dtype=object)
            extra[noted] = current[noted] + "; " + extra[noted]
        self.note[mask] = extra

    def finish(self) -> Batch:
        """Set NaN where failed or where the statistic is not finite."""
        bad = ~(np.isfinite(self.stat) & np.isfinite(self.pvalue))
        self.fail(bad, "the statistic is not finite (no variation in the data)")
        self.stat[self.failed] = np.nan
        self.pvalue[self.failed] = np.nan
        self.distribution[self.failed] = ""
        return self

    @property
    def valid(self) -> np.ndarray:
        return ~self.failed

    def copy(self) -> Batch:
        """An independent copy (the arrays are copied; ``group`` and ``rows`` are shared, never modified)."""
        out = Batch(0, group=self.group, rows=self.rows)
        out.draws = self.draws
        for name in ("stat", "pvalue", "n", "distribution", "note", "failed"):
            setattr(out, name, getattr(self, name).copy())
        return out

    def results(self, test: str, window: tuple[int, int]) -> list[TestResult]:
        return [
            TestResult(test, float(s), float(p), int(k), str(d), (int(window[0]), int(window[1])), str(note))
            for s, p, k, d, note in zip(self.stat, self.pvalue, self.n, self.distribution, self.note)
        ]


def fmt_df(df) -> str:
    """A degrees-of-freedom value for a distribution label: integer when whole, one decimal otherwise."""
    df = float(df)
    if not math.isfinite(df):
        return "nan"
    return str(int(round(df))) if abs(df - round(df)) < 1e-9 else f"{df:.1f}"


def dist_labels(kind: str, *dfs: np.ndarray) -> np.ndarray:
    """Labels like ``t(238)`` or ``F(3, 714)`` for arrays of degrees of freedom."""
    arrays = [np.atleast_1d(np.asarray(d, dtype=float)) for d in dfs]
    size = max(len(a) for a in arrays)
    columns = [np.broadcast_to(a, (size,)) for a in arrays]
    label = lambda i: f"{kind}({', '.join(fmt_df(c[i]) for c in columns)})"  # noqa: E731
    if size <= _FORMAT_EACH:  # a cross-sectional test's row or a few clusters: coding them costs more
        return np.array([label(i) for i in range(size)], dtype=object)
    # few distinct values (a simulation has thousands of rows): format each once.  The rows are coded by
    # hashing (pandas.factorize; NaN a value of its own), column after column: numpy's unique over rows
    # sorted a structured view, most of a single-firm test's time on 15,000 rows
    rows = pd.factorize(columns[0], use_na_sentinel=False)[0]
    for column in columns[1:]:
        codes = pd.factorize(column, use_na_sentinel=False)[0]
        rows = pd.factorize(rows * (int(codes.max(initial=0)) + 1) + codes)[0]
    # codes count up from 0 in order of first appearance, so the first rows of each are found in that order
    first = np.unique(rows, return_index=True)[1]
    return np.array([label(i) for i in first.tolist()], dtype=object)[rows]


#: up to this many rows :func:`dist_labels` formats each row (~2 us) instead of coding the rows (~100 us)
_FORMAT_EACH = 64


def cross_section_checks(batch: Batch, inp: Inputs, test: str) -> None:
    """Fail groups with fewer than :data:`MIN_FIRM_EVENTS` firm-events; note the ones left out."""
    n_used = inp.n_used
    batch.n[:] = n_used
    few = n_used < MIN_FIRM_EVENTS
    if few.any():
        batch.fail_each(
            few,
            n_used,
            lambda k: (
                f"{test} is a cross-sectional test and needs at least {MIN_FIRM_EVENTS} firm-events with a CAR "
                f"over the window; got {k}. Use car_t or permutation per firm-event."
            ),
        )
    dropped = inp.groups.counts - n_used
    if dropped.any():
        texts = np.array(
            [
                f"{d} of {c} firm-events left out: no CAR over the whole window or no usable variance"
                for d, c in zip(dropped, inp.groups.counts)
            ],
            dtype=object,
        )
        batch.caveat(dropped > 0, texts)


def single(batch: Batch, test: str, window) -> TestResult:
    return batch.results(test, window)[0]


# --------------------------------------------------------------------------------------------------------
# the registry, by scope
# --------------------------------------------------------------------------------------------------------


def tests_in_scope(*scopes: str) -> list[str]:
    """Names of the registered tests of the given scopes, in the order of :data:`TESTS`.

    ``scopes`` are among ``"single"`` (one result per firm-event), ``"cross-section"`` (one result for all
    firm-events) and ``"clustered"`` (one per same-day cluster); with none, every test.  The pooled tests,
    without the per-firm-event ones, are ``tests_in_scope("cross-section", "clustered")``, to pass as
    ``run_tests(fit, windows, tests=...)``.
    """
    wanted = {check_choice("scopes", scope, SCOPES) for scope in scopes} or set(SCOPES)
    return [name for name, spec in TESTS.items() if spec.scope in wanted]


tests_in_scope.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, where a test module imports it
