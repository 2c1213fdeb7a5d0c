r"""Size and power of the tests by simulation, in the manner of Brown & Warner (1985).

Each sample draws ``n_firms`` securities and pseudo-event dates from a table of real (or synthetic)
daily returns, adds a known abnormal return on day 0 and runs every test; the rejection rate over the
samples estimates the size (``abnormal=0``) or the power of each test.  All samples are fitted in one call
of :func:`~eventstudy.estimation.models.estimate` on the returns table itself, and every statistic is computed for
all samples of a chunk in one vectorized pass (samples are the groups of
:class:`~eventstudy.inference.base.Inputs`), so a thousand samples of fifty firms take seconds.

References
----------
Brown, S. J., & Warner, J. B. (1985). Using daily stock returns: The case of event studies. *Journal of
Financial Economics*, 14(1), 3-31.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from functools import cached_property

import numpy as np
import pandas as pd

from eventstudy.estimation.models import estimate, get_model
from eventstudy.estimation.panel import AlignedData, relative_days
from eventstudy.exceptions import EventStudyWarning
from eventstudy.foundation import threads as _threads
from eventstudy.foundation.validation import check_positive_int, check_windows
from eventstudy.inference.base import TESTS, Inputs
from eventstudy.inference.runner import _test_names, single_threaded_blas

__all__ = ["simulate", "eligible_sessions"]

#: cells of (firm-events x relative days) held per chunk of samples
CHUNK_CELLS = 3_000_000


class _Injected(Inputs):
    """Inputs with ``abnormal`` added to every firm-event's abnormal return on day 0.

    Day 0 lies outside the estimation window, so adding the return to the data would leave the fitted
    parameters and variances unchanged and shift only the day-0 prediction error: adding it to the
    abnormal returns is the same and needs no copy of the returns table.
    """

    def __init__(self, fit, window, *, abnormal: float, **kwargs):
        super().__init__(fit, window, **kwargs)
        self.abnormal = float(abnormal)

    def _shift(self, values: np.ndarray, column: int) -> np.ndarray:
        if self.abnormal == 0.0:
            return values
        values = values.copy()
        values[:, column] += self.abnormal
        return values

    @cached_property
    def ar_event(self) -> np.ndarray:
        return self._shift(self.fit.ar_event, -self.fit.event_window[0])

    @cached_property
    def ar(self) -> np.ndarray:
        return self._shift(self.fit.ar, -int(self.grid[0]))


def _eligible(usable: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """(T, M): security m has usable data on every day of the grid around session s."""
    t = usable.shape[0]
    prefix = np.zeros((t + 1, usable.shape[1]), dtype=np.int64)
    np.cumsum(usable, axis=0, out=prefix[1:])
    sessions = np.arange(t)
    start, stop = sessions + grid[0], sessions + grid[-1] + 1
    inside = (start >= 0) & (stop <= t)
    start, stop = np.clip(start, 0, t), np.clip(stop, 0, t)
    full = (prefix[stop] - prefix[start]) == len(grid)
    return full & inside[:, None]


def _prepare(returns, market, model, estimation_window, event_window):
    """Check the arguments shared by :func:`simulate` and :func:`eligible_sessions`; align the data.

    Returns the model, the benchmarks, the securities (every other column), the aligned data, both windows
    and the relative-day grid.
    """
    if not isinstance(returns, pd.DataFrame):
        raise TypeError(
            f"The 'returns' parameter must be a DataFrame of daily returns. Got {type(returns).__name__} instead."
        )
    if not isinstance(returns.index, pd.DatetimeIndex):
        raise TypeError("The 'returns' parameter must have a DatetimeIndex of sessions.")
    benchmarks = (market,) if isinstance(market, str) else tuple(market)
    missing = [name for name in benchmarks if name not in returns.columns]
    if missing:
        raise KeyError(f"The 'market' column(s) {missing} are not in 'returns'; it has {list(returns.columns)[:10]}...")
    spec = get_model(model)
    needs = spec.needs()
    if needs.factors is not None or needs.risk_free:
        raise ValueError(
            f"The 'model' parameter must be a model computed from the returns alone ('market', 'constant-mean', "
            f"'market-adjusted', 'multi-index'). Got {model!r}, which needs factor or risk-free data."
        )
    spec.validate_market(benchmarks)
    # the abnormal return is injected into the abnormal returns, which equals adding it to the data only when
    # no event day is in the fit (see _Injected); EventStudy refuses such windows for the same reason
    estimation_window, event_window = check_windows(estimation_window, event_window)
    firms = [c for c in returns.columns if c not in benchmarks]
    if not firms:
        raise ValueError("The 'returns' parameter holds no security besides the market.")
    y = returns[firms].to_numpy(dtype=float)
    offset = spec.offset(benchmarks)
    if offset is not None:
        y = y - returns[offset].to_numpy(dtype=float)[:, None]
    z = returns[list(spec.regressors(benchmarks))].to_numpy(dtype=float).reshape(len(returns), -1)
    data = AlignedData.build(y, z)
    grid = relative_days(estimation_window, event_window)
    return spec, firms, data, estimation_window, event_window, grid


def eligible_sessions(
    returns: pd.DataFrame,
    market: str | Sequence[str] = "SPY",
    estimation_window: tuple[int, int] = (-250, -11),
    event_window: tuple[int, int] = (0, 0),
    *,
    model: str = "market",
) -> pd.DataFrame:
    """The sessions :func:`simulate` may draw as day 0 of each security.

    Parameters
    ----------
    returns, market, model
        As in :func:`simulate`.
    estimation_window, event_window : (int, int)
        As in :func:`simulate`; the estimation window must end before the event window starts.

    Returns
    -------
    DataFrame of bool
        Indexed by the sessions of ``returns``, one column per security (every column but the benchmarks):
        True where the security has usable returns (the return and every regressor of the model observed) on
        every relative day from the start of the estimation window to the end of the event window, any gap
        included, so that a firm-event with that day 0 is fitted on the whole estimation window.
    """
    _, firms, data, _, _, grid = _prepare(returns, market, model, estimation_window, event_window)
    return pd.DataFrame(_eligible(data.usable, grid), index=returns.index, columns=pd.Index(firms))


def _draw_spread(rng, eligible: np.ndarray, n_samples: int, n_firms: int):
    """Securities without replacement within a sample (where the universe allows), each on its own date."""
    counts = eligible.sum(axis=0)
    pool = np.flatnonzero(counts > 0)
    if len(pool) >= n_firms:
        keys = rng.random((n_samples, len(pool)))
        firms = pool[np.argpartition(keys, n_firms - 1, axis=1)[:, :n_firms]]
    else:
        extra = rng.choice(pool, size=(n_samples, n_firms - len(pool)))
        firms = np.concatenate([np.tile(pool, (n_samples, 1)), extra], axis=1)
    firms = firms.ravel()
    # eligible sessions of every security, flattened column by column
    sessions = np.nonzero(eligible.T)[1]  # sorted by security, then session
    offsets = np.concatenate([[0], np.cumsum(counts)])
    sample = np.repeat(np.arange(n_samples), n_firms)
    pick = offsets[firms] + (rng.random(len(firms)) * counts[firms]).astype(np.int64)
    # a security drawn twice in a sample must not land twice on the same date (the same firm-event twice):
    # redraw the collisions until none is left; they are rare, so this takes a round or two
    for _ in range(100):
        key = (sample * eligible.shape[1] + firms) * eligible.shape[0] + sessions[pick]
        _, first = np.unique(key, return_index=True)
        again = np.ones(len(key), dtype=bool)
        again[first] = False
        if not again.any():
            break
        pick[again] = offsets[firms[again]] + (rng.random(again.sum()) * counts[firms[again]]).astype(np.int64)
    return sessions[pick], firms


def _draw_clustered(rng, eligible: np.ndarray, n_samples: int, n_firms: int):
    """One date per sample and ``n_firms`` different securities with data around it."""
    per_date = eligible.sum(axis=1)
    k = int(min(n_firms, per_date.max()))
    dates = np.flatnonzero(per_date >= k)
    # distinct dates while there are enough, so that samples are not repeats of one another
    day = rng.choice(dates, size=n_samples, replace=n_samples > len(dates))
    keys = np.where(eligible[day], rng.random((n_samples, eligible.shape[1])), np.inf)
    firms = np.argpartition(keys, k - 1, axis=1)[:, :k] if k < eligible.shape[1] else np.argsort(keys, axis=1)
    return np.repeat(day, k), firms[:, :k].ravel(), k


def _rate_columns(alphas: Sequence[float]) -> list[str]:
    return [f"{a:.2f}" if round(a, 2) == a else repr(float(a)) for a in alphas]


def simulate(
    returns: pd.DataFrame,
    market: str | Sequence[str] = "SPY",
    n_samples: int = 1000,
    n_firms: int = 50,
    abnormal: float = 0.0,
    event_window: tuple[int, int] = (0, 0),
    clustered: bool = False,
    tests: str | Sequence[str] | None = None,
    seed: int = 0,
    *,
    estimation_window: tuple[int, int] = (-250, -11),
    alphas: Sequence[float] = (0.01, 0.05, 0.10),
    model: str = "market",
    workers: int | None = None,
) -> pd.DataFrame:
    r"""Rejection rates of the tests in Brown & Warner (1985) style samples.

    Parameters
    ----------
    returns : DataFrame
        Daily returns in decimals, a DatetimeIndex of sessions and one column per ticker, the benchmark
        included (it is not drawn as a firm).
    market : str or sequence of str
        The benchmark column(s) the model uses.
    n_samples, n_firms : int
        Samples, and firm-events per sample.  Securities are drawn without replacement within a sample
        when there are enough of them (with replacement across samples).
    abnormal : float
        Return added to every firm-event's day 0 (``0.01`` is +1%); day 0 must lie in ``event_window``.
    event_window : (int, int)
        The fitted and tested window.
    clustered : bool
        False: each firm-event gets its own random date.  True: the firm-events of a sample share one date
        (when fewer securities have data around any date, each sample uses as many as there are, with a
        warning).
    tests : str or sequence of str, optional
        Names from :data:`~eventstudy.inference.TESTS`; all by default.
    seed : int
    estimation_window : (int, int)
        Must end before the event window starts (as in :class:`~eventstudy.EventStudy`), else
        :class:`~eventstudy.exceptions.EventWindowError`.
    alphas : sequence of float
        Two-sided significance levels.
    model : str
        A normal-return model computed from the returns table alone: ``"market"``, ``"constant-mean"``,
        ``"market-adjusted"`` or ``"multi-index"``.
    workers : int, optional
        Threads that compute the statistics of separate chunks of samples (default ``EVENTSTUDY_THREADS``,
        else the CPUs up to 4; 1 runs them in turn; more than the CPUs are capped at them, with a warning).
        The table does not depend on it.

    Returns
    -------
    DataFrame
        Indexed by test name: one float column per alpha (``"0.01"``, ``"0.05"``, ``"0.10"``) with the share
        of valid results with :math:`p<\alpha`; ``n_valid``, the results that could be computed; ``mean_stat``
        and ``scope``.  Cross-sectional tests give one result per sample, single-firm tests (``car_t``,
        ``ar_t``, ``permutation``, ``sq``) one per firm-event of every sample, and the MVRM tests one per same-day
        cluster.  Single-firm and MVRM results within one same-day sample are correlated, so a binomial
        standard error from ``n_valid`` understates their Monte Carlo error.  ``attrs`` holds the settings,
        the distinct event dates drawn and the time taken.

    Notes
    -----
    A pseudo-event date is a session around which the security has usable returns on every day of the
    estimation window, the event window and any gap between them.  Under the null the rejection rate of a
    well-specified test is :math:`\alpha` up to the binomial error :math:`\sqrt{\alpha(1-\alpha)/n}`.
    Dates are drawn independently across firms when ``clustered=False``, so two firm-events of a sample
    share a date now and then and the KP and MVRM tests run on those pairs.
    """
    started = time.perf_counter()
    spec, _, data, estimation_window, event_window, grid = _prepare(
        returns, market, model, estimation_window, event_window
    )
    n_samples = check_positive_int("n_samples", n_samples)
    n_firms = check_positive_int("n_firms", n_firms)
    workers = _threads.check_workers(workers)
    if abnormal != 0 and not event_window[0] <= 0 <= event_window[1]:
        raise ValueError(
            f"The 'abnormal' return is added on day 0, which must lie in the 'event_window' {event_window}."
        )
    names = _test_names(tests)
    alphas = tuple(float(a) for a in alphas)

    eligible = _eligible(data.usable, grid)
    if not eligible.any():
        raise ValueError(
            f"No security has {len(grid)} consecutive usable sessions for the windows {estimation_window} and "
            f"{event_window}; the returns cover {len(returns)} sessions."
        )

    rng = np.random.default_rng(seed)
    if clustered:
        day0, firm, per_sample = _draw_clustered(rng, eligible, n_samples, n_firms)
        if per_sample < n_firms:
            n_dates = int((eligible.sum(axis=1) >= per_sample).sum())
            warnings.warn(
                f"simulate: at most {per_sample} securities have data around any one date, so each clustered "
                f"sample uses {per_sample} firms instead of n_firms={n_firms}, on the {n_dates} dates where "
                f"{per_sample} securities have full windows.",
                EventStudyWarning,
                stacklevel=2,
            )
    else:
        day0, firm = _draw_spread(rng, eligible, n_samples, n_firms)
        per_sample = n_firms
    fit = estimate(
        data, day0, firm, estimation_window, event_window, intercept=spec.intercept, estimated=spec.estimated
    )

    collected: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {name: ([], []) for name in names}
    chunk = max(1, CHUNK_CELLS // (per_sample * len(grid)))
    # as many chunks for every thread: a multiple of the workers, each no larger than the cap
    n_chunks = -(-n_samples // chunk)
    n_chunks = -(-n_chunks // workers) * workers
    chunk = -(-n_samples // n_chunks)

    def run_chunk(first: int) -> list[tuple[np.ndarray, np.ndarray]]:
        last = min(n_samples, first + chunk)
        inp = _Injected(
            fit.take(np.arange(first * per_sample, last * per_sample)),
            event_window,
            abnormal=abnormal,
            groups=np.repeat(np.arange(last - first), per_sample),
            n_groups=last - first,
            tests=names,
        )
        batches = [TESTS[name].kernel(inp) for name in names]
        return [(batch.pvalue[batch.valid], batch.stat[batch.valid]) for batch in batches]

    # chunks of samples are independent: numpy's sorts, reductions and BLAS release the GIL, so threads share
    # the cores without copying the fit; one BLAS thread each (and one threadpoolctl lookup for the run, which
    # cost more than some statistics when entered per test and chunk)
    starts = range(0, n_samples, chunk)
    with single_threaded_blas(), _threads.pool(min(workers, len(starts))) as pool:
        for results in pool.map(run_chunk, starts):  # in order: the table does not depend on the workers
            for name, (pvalues, stats) in zip(names, results):
                collected[name][0].append(pvalues)
                collected[name][1].append(stats)

    columns = _rate_columns(alphas)
    table = []
    for name in names:
        pvalues = np.concatenate(collected[name][0])
        stat = np.concatenate(collected[name][1])
        n = len(pvalues)
        row: dict[str, object] = {
            col: (float(np.mean(pvalues < a)) if n else np.nan) for col, a in zip(columns, alphas)
        }
        row.update(n_valid=n, mean_stat=float(stat.mean()) if n else np.nan, scope=TESTS[name].scope)
        table.append(row)
    out = pd.DataFrame(table, index=pd.Index(names, name="test"))
    out["n_valid"] = out["n_valid"].astype(np.int64)
    out.attrs.update(
        n_samples=n_samples,
        n_firms=per_sample,
        abnormal=float(abnormal),
        event_window=event_window,
        estimation_window=estimation_window,
        clustered=bool(clustered),
        model=spec.name,
        seed=seed,
        distinct_dates=int(len(np.unique(day0))),
        seconds=time.perf_counter() - started,
    )
    return out
