"""Speed and memory of the estimation engine against the floor kernel and a per-firm-event statsmodels loop.

Run::

    python benchmarks/engine.py                 # 10,000 firm-events + a 100,000 run
    python benchmarks/engine.py --panel 3000x400 --big 0 --profile   # issue 23's panel, where the time goes
    python benchmarks/engine.py --n 10000 --big 100000 --loop 500 --repeat 3
    python benchmarks/engine.py --big 0         # skip the big run

The panel is synthetic: 500 securities x 2,500 NYSE sessions of market-model returns (1 % of firm returns
missing), firm-events spread evenly over the securities at random sessions, market model, estimation window
(-260, -11) (250 days), event window (-10, 10) (21 days). ``--panel SESSIONSxSECURITIES`` changes the shape
(issue 23 measures 3000x400); ``--profile`` lists the package steps of one fit + ``car()`` over 5 ms.

Measured, in one process:

* end-to-end: ``es.EventStudy(...).fit()`` then ``res.car()`` and ``res.ar`` (the tables forced), best of
  ``--repeat`` after a warm-up fit that pays for the first imports;
* the same with ``catalog=`` an empty catalog, which skips the contamination check (to show what that step
  costs);
* the array core: ``AlignedData.build`` + ``estimate`` + CAR, its variance, AR and their variances;
* the floor (issue 23's baseline, ``run_floor``): the same market model as a plain numpy kernel over prefix
  sums of the panel, vectorized over firm-events, no checks; its CARs and SEs must equal the package's to
  1e-10 (relative) with the same NaNs, or the script stops.  Headline: fit + ``car()`` / floor, target <= 3x,
  each best of ``--repeat`` with fit + ``car()``, the core and the floor timed in turn (fit, core, floor, fit,
  ...: the machine is shared, and a slow minute then falls on both sides of the ratio);
* a per-firm-event loop (``statsmodels.OLS`` on the estimation rows, prediction over the event window, AR and
  SE, CAR and ``Var(CAR) = s^2 (L + 1'X*(X'X)^-1X*'1)``) on ``--loop`` firm-events, scaled to N; its CARs
  and SEs are checked against the engine's;
* peak memory: ``tracemalloc`` peak of a separate fit + car() + ar, and the process's resident high-water
  mark (``VmHWM``, i.e. max RSS).

The ``--big`` run happens in a child process with its address space capped (``--big-limit-gb``), so a
runaway allocation fails there with MemoryError instead of starving the machine; it reports the peak of
fit + car() (no (N, L) array asked for) and then of ``res.ar``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import target  # noqa: E402

import eventstudy as es
from eventstudy.estimation.models import estimate
from eventstudy.estimation.panel import AlignedData

ESTIMATION = (-260, -11)
EVENT = (-10, 10)
TARGET_RATIO = 100.0  # issue 13, retired by issue 23 (kept as a secondary line)
TARGET_FLOOR = 3.0  # issue 23: fit + car() at most 3x the floor kernel
TARGET_SECONDS = 1.0
FLOOR_TOLERANCE = 1e-10  # relative, floor vs package CAR and SE (STYLE: vectorized vs loop)


# ---------------------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------------------


def make_panel(n_events: int, n_securities: int = 500, n_sessions: int = 2500, seed: int = 0):
    """Wide returns (securities + MKT) on NYSE sessions and ``n_events`` firm-events (ticker, date)."""
    rng = np.random.default_rng(seed)
    sessions = es.TradingCalendar().sessions_in_range("2010-01-04", "2024-12-31")[:n_sessions]
    if len(sessions) < n_sessions:
        raise ValueError(f"--panel asks for {n_sessions} sessions; 2010-2024 holds {len(sessions)}")
    t = len(sessions)
    market = rng.normal(0.0004, 0.011, t)
    beta = rng.uniform(0.4, 1.8, n_securities)
    alpha = rng.normal(0.0002, 0.0005, n_securities)
    firms = alpha + market[:, None] * beta + rng.normal(0.0, 0.02, (t, n_securities))
    firms[rng.random(firms.shape) < 0.01] = np.nan
    names = [f"S{i:04d}" for i in range(n_securities)]
    returns = pd.DataFrame(firms, index=sessions, columns=names)
    returns["MKT"] = market

    first, last = -ESTIMATION[0], t - EVENT[1] - 1  # full windows inside the data
    per = np.full(n_securities, n_events // n_securities)
    per[: n_events % n_securities] += 1
    day0 = np.concatenate([rng.choice(np.arange(first, last + 1), k, replace=False) for k in per])
    firm = np.repeat(np.arange(n_securities), per)
    events = pd.DataFrame({"ticker": np.asarray(names, dtype=object)[firm], "date": sessions[day0]})
    return returns, events, day0, firm


# ---------------------------------------------------------------------------------------------------------
# the contenders
# ---------------------------------------------------------------------------------------------------------


def run_engine(returns, events, catalog=None):
    """End to end, as a user would: fit, then force the CAR table and the AR table."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DroppedFirmEventsWarning)  # a 1 % gap can fall on day 0
        warnings.simplefilter("ignore", es.DataQualityWarning)  # ... or inside an event window
        res = es.EventStudy(
            events,
            returns=returns,
            market="MKT",
            model="market",
            estimation_window=ESTIMATION,
            event_window=EVENT,
            catalog=catalog,
        ).fit()
    car = res.car()
    ar = res.ar
    return res, car, ar


def run_fit_car(returns, events):
    """What the issue's target times: fit, then the CAR table (no (N, L) AR table)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DroppedFirmEventsWarning)
        warnings.simplefilter("ignore", es.DataQualityWarning)
        res = es.EventStudy(
            events, returns=returns, market="MKT", model="market", estimation_window=ESTIMATION, event_window=EVENT
        ).fit()
    return res.car()


def run_core(y, z, day0, firm):
    """The array core on float64 arrays: fit, CAR and its variance, AR and its variance."""
    data = AlignedData.build(y, z)
    fit = estimate(data, day0, firm, ESTIMATION, EVENT)
    out = (fit.car(EVENT), fit.car_variance(EVENT), fit.ar_event, fit.ar_variance())
    return fit, out


def run_floor(y, x, day0, firm, min_obs: int = 125):
    r"""The floor (issue 23): the same market model as a plain numpy kernel over prefix sums, no checks.

    ``y`` is the (sessions, securities) panel of firm returns (NaN where missing), ``x`` the market's, ``day0``
    and ``firm`` each firm-event's session row and column.  Prefix sums over the sessions of the count of usable
    days and of x, y, x^2, xy, y^2 (a day counts where both returns are finite) give each firm-event's
    estimation-window sums by one difference; from them, by OLS,

    .. math::

        \hat\beta = S_{xy} / S_{xx}, \quad \hat\alpha = \bar y - \hat\beta \bar x, \quad
        \hat\sigma^2 = (S_{yy} - \hat\beta S_{xy}) / (T - 2)

    with sums :math:`S` centred over the :math:`T` usable estimation days.  The event-window ARs are
    :math:`y_t - \hat\alpha - \hat\beta x_t`, the CAR their sum (NaN where a return in the window is
    missing), and MacKinlay's (1997, eqs. 7, 8, 13, with the market model's X*) variance

    .. math::

        \operatorname{Var}(CAR) = \hat\sigma^2 (L + \mathbf 1' X^* (X'X)^{-1} X^{*\prime} \mathbf 1)
        = \hat\sigma^2 \left(L + \frac{L^2}{T} + \frac{(\sum_{\text{event}} x_t - L \bar x)^2}{S_{xx}}\right).

    A firm-event with fewer than ``min_obs`` usable estimation days or a missing day-0 return gets NaN (the
    package drops it).  Returns (car, se, ar) with ar of shape (N, L).

    MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of Economic Literature*, 35(1),
    13-39.
    """
    t, s = y.shape
    ok = np.isfinite(y) & np.isfinite(x)[:, None]
    prefix = np.empty((t + 1, 6, s))  # one row per session: count, x, y, x^2, xy, y^2 of each security
    prefix[0] = 0.0
    count, sx, sy, sxx, sxy, syy = (prefix[1:, k] for k in range(6))
    count[...] = ok
    market = np.where(np.isfinite(x), x, 0.0)[:, None]
    np.multiply(ok, market, out=sx)
    np.copyto(sy, y)
    sy[~ok] = 0.0
    np.multiply(sx, market, out=sxx)
    np.multiply(sx, sy, out=sxy)
    np.multiply(sy, sy, out=syy)
    flat = prefix.reshape(t + 1, 6 * s)
    for row in range(1, t + 1):  # the running sum row by row: np.cumsum(axis=0) is about 4x slower here
        np.add(flat[row - 1], flat[row], out=flat[row])
    start, stop = day0 + ESTIMATION[0], day0 + ESTIMATION[1] + 1
    n, sx, sy, sxx, sxy, syy = (prefix[stop, :, firm] - prefix[start, :, firm]).T
    xbar, ybar = sx / n, sy / n
    cxx, cxy, cyy = sxx - sx * xbar, sxy - sx * ybar, syy - sy * ybar
    beta = cxy / cxx
    alpha = ybar - beta * xbar
    s2 = (cyy - beta * cxy) / (n - 2)

    rows = day0[:, None] + np.arange(EVENT[0], EVENT[1] + 1)
    ar = y[rows, firm[:, None]] - alpha[:, None] - beta[:, None] * x[rows]
    length = EVENT[1] - EVENT[0] + 1
    car = ar.sum(axis=1)
    se = np.sqrt(s2 * (length + length**2 / n + (x[rows].sum(axis=1) - length * xbar) ** 2 / cxx))
    bad = (n < min_obs) | ~np.isfinite(y[day0, firm])
    car[bad] = np.nan
    se[bad] = np.nan
    return car, se, ar


def run_loop(returns, day0, firm):
    """One statsmodels OLS per firm-event: params, AR and SE over the event window, CAR and its SE."""
    import statsmodels.api as sm

    r = returns.to_numpy()
    market = returns["MKT"].to_numpy()
    days = np.arange(EVENT[0], EVENT[1] + 1)
    out = []
    for d, f in zip(day0, firm):
        rows = np.arange(d + ESTIMATION[0], d + ESTIMATION[1] + 1)
        y, x = r[rows, f], market[rows]
        ok = np.isfinite(y) & np.isfinite(x)
        if ok.sum() < 125 or not np.isfinite(r[d, f]):
            out.append((np.nan, np.nan))
            continue
        design = sm.add_constant(x[ok])
        ols = sm.OLS(y[ok], design).fit()
        s2 = ols.ssr / ols.df_resid
        xtx_inv = np.linalg.inv(design.T @ design)
        x_event = np.column_stack([np.ones(len(days)), market[d + days]])
        ar = r[d + days, f] - x_event @ ols.params
        se = np.sqrt(s2 * (1.0 + np.einsum("ij,jk,ik->i", x_event, xtx_inv, x_event)))  # noqa: F841 (part of the work)
        total = x_event.sum(axis=0)
        car_var = s2 * (len(days) + total @ xtx_inv @ total)
        out.append((ar.sum(), math.sqrt(car_var)))
    return np.array(out)


# ---------------------------------------------------------------------------------------------------------
# measurement helpers
# ---------------------------------------------------------------------------------------------------------


def best_of(repeat, func, *args):
    """Best and median time of ``repeat`` runs of ``func(*args)``, with the last run's result."""
    return alternating(repeat, (func, args))[0]


def alternating(repeat, *calls):
    """Best and median time of each of ``calls`` (``(func, args)`` pairs), run in turn ``repeat`` times
    (a, b, a, b, ...) with the result of each one's last run: a slow minute on a shared machine then falls on
    every side of a ratio between them, not on one side only."""
    times: list[list[float]] = [[] for _ in calls]
    results: list = [None] * len(calls)
    for _ in range(repeat):
        for k, (func, args) in enumerate(calls):
            gc.collect()
            start = time.perf_counter()
            results[k] = func(*args)
            times[k].append(time.perf_counter() - start)
    return [(min(t), float(np.median(t)), result) for t, result in zip(times, results)]


def traced_peak(func, *args, **kwargs):
    """Peak bytes allocated (tracemalloc, numpy included) while running ``func``; the result is dropped."""
    gc.collect()
    tracemalloc.start()
    try:
        result = func(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak


def maxrss_mb() -> float:
    """This process's resident-set high-water mark in MB.

    Linux keeps ``ru_maxrss`` across fork and exec, so a child would report its parent's peak; ``VmHWM``
    in /proc/self/status belongs to the current address space only.  Elsewhere fall back to ru_maxrss.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 1024)  # bytes on macOS, kilobytes on Linux


def empty_catalog() -> pd.DataFrame:
    return pd.DataFrame({"id": pd.Series([], dtype=object), "date": pd.Series([], dtype="datetime64[ns]")})


MB = 2**20


# ---------------------------------------------------------------------------------------------------------
# the runs
# ---------------------------------------------------------------------------------------------------------


def main_run(args) -> dict:
    returns, events, day0, firm = make_panel(args.n, args.securities, args.sessions, seed=args.seed)
    n = len(events)
    grid = max(EVENT[1], ESTIMATION[1]) - min(EVENT[0], ESTIMATION[0]) + 1
    print(
        f"panel: {returns.shape[1] - 1} securities x {len(returns)} sessions, {n:,} firm-events, market model, "
        f"estimation {ESTIMATION}, event {EVENT}"
    )

    run_engine(returns, events.iloc[:200])  # warm-up: first imports (scipy.stats), calendar build
    e2e_best, e2e_med, (res, car, ar) = best_of(args.repeat, run_engine, returns, events)
    nocat_best, nocat_med, _ = best_of(args.repeat, run_engine, returns, events, empty_catalog())
    y = returns.drop(columns="MKT").to_numpy()
    z = returns[["MKT"]].to_numpy()
    x = returns["MKT"].to_numpy()
    run_floor(y, x, day0[:200], firm[:200])  # warm-up too: the first panel-sized allocation pays page faults
    # the headline ratio's two sides, and the core, in turn (alternating says why)
    (fitcar_best, fitcar_med, _), (core_best, core_med, _), (floor_best, floor_med, floor_out) = alternating(
        args.repeat, (run_fit_car, (returns, events)), (run_core, (y, z, day0, firm)), (run_floor, (y, x, day0, firm))
    )
    floor_car, floor_se, _ = floor_out

    # the floor and the package agree on every firm-event: the same CARs and SEs, NaN for the same ones
    engine_all = car.set_index(["event_id", "ticker"])[["car", "se"]]
    floor_table = pd.DataFrame(
        {"car": floor_car, "se": floor_se},
        index=pd.MultiIndex.from_arrays([events["date"].dt.strftime("%Y-%m-%d"), events["ticker"]]),
    )
    floor_got = floor_table.reindex(engine_all.index).to_numpy()  # the package's kept firm-events
    floor_dropped = int(floor_table.loc[~floor_table.index.isin(engine_all.index), "car"].notna().sum())
    engine_vals = engine_all.to_numpy()
    floor_same_gaps = bool((np.isnan(floor_got) == np.isnan(engine_vals)).all())
    both_finite = np.isfinite(floor_got) & np.isfinite(engine_vals)
    floor_max_rel = float(np.max(np.abs(floor_got - engine_vals)[both_finite] / np.abs(engine_vals[both_finite])))

    m = min(args.loop, n)
    pick = np.random.default_rng(args.seed + 1).choice(n, m, replace=False)
    # best of up to three as well: a single loop run on a shared machine would flatter the ratio
    loop_time, _, loop_out = best_of(min(args.repeat, 3), run_loop, returns, day0[pick], firm[pick])
    loop_scaled = loop_time / m * n

    # the loop and the engine agree on the firm-events both kept
    engine_car = car.set_index(["event_id", "ticker"])
    keys = list(zip(events["date"].iloc[pick].dt.strftime("%Y-%m-%d"), events["ticker"].iloc[pick]))
    both = [(i, k) for i, k in enumerate(keys) if k in engine_car.index]
    got = engine_car.loc[[k for _, k in both], ["car", "se"]].to_numpy()
    want = loop_out[[i for i, _ in both]]
    same_gaps = bool((np.isnan(got) == np.isnan(want)).all())  # a missing return in the window: NaN CAR in both
    finite = np.isfinite(want)
    max_rel = float(np.max(np.abs(got[finite] - want[finite]) / np.abs(want[finite])))

    peak_e2e = traced_peak(run_engine, returns, events)
    peak_nocat = traced_peak(run_engine, returns, events, empty_catalog())
    peak_core = traced_peak(run_core, y, z, day0, firm)

    summary = {
        "n": n,
        "kept": res.n,
        "end_to_end_s": e2e_best,
        "end_to_end_median_s": e2e_med,
        "no_contamination_check_s": nocat_best,
        "fit_car_s": fitcar_best,
        "array_core_s": core_best,
        "floor_s": floor_best,
        "floor_median_s": floor_med,
        "ratio_fit_car_floor": fitcar_best / floor_best,
        "ratio_core_floor": core_best / floor_best,
        "floor_vs_engine_max_rel_diff": floor_max_rel,
        "floor_vs_engine_same_gaps": floor_same_gaps,
        "floor_finite_not_kept": floor_dropped,
        "loop_firm_events": m,
        "loop_s": loop_time,
        "loop_scaled_s": loop_scaled,
        "ratio_end_to_end": loop_scaled / e2e_best,
        "ratio_no_contamination_check": loop_scaled / nocat_best,
        "ratio_fit_car": loop_scaled / fitcar_best,
        "ratio_core": loop_scaled / core_best,
        "loop_vs_engine_max_rel_diff": max_rel,
        "loop_vs_engine_same_gaps": same_gaps,
        "peak_end_to_end_mb": peak_e2e / MB,
        "peak_no_contamination_check_mb": peak_nocat / MB,
        "peak_core_mb": peak_core / MB,
        "maxrss_mb": maxrss_mb(),
        "grid_array_mb": n * grid * 8 / MB,
    }
    print(f"  end to end (fit + car() + ar), best of {args.repeat}: {e2e_best:8.3f} s  (median {e2e_med:.3f} s)")
    print(f"  same, contamination check skipped (empty catalog): {nocat_best:8.3f} s  (median {nocat_med:.3f} s)")
    print(f"  fit + car() (the issue's target):                 {fitcar_best:8.3f} s  (median {fitcar_med:.3f} s)")
    print(f"  array core (estimate + CAR/var + AR/var):        {core_best:8.3f} s  (median {core_med:.3f} s)")
    print(f"  floor (numpy prefix-sum kernel, no checks):      {floor_best:8.3f} s  (median {floor_med:.3f} s)")
    print(
        f"  floor vs engine CAR/SE, max relative difference: {floor_max_rel:.2e} over {int(both_finite.sum()):,} "
        f"CARs and SEs (NaN for the same firm-events: {'yes' if floor_same_gaps else 'NO'}; finite in the floor "
        f"but not kept by the package: {floor_dropped})"
    )
    if not (floor_max_rel <= FLOOR_TOLERANCE and floor_same_gaps and floor_dropped == 0):
        raise SystemExit(f"the floor does not reproduce the package's CARs and SEs to {FLOOR_TOLERANCE:g}: not a floor")
    print(f"  statsmodels loop: {loop_time:.3f} s for {m} firm-events -> {loop_scaled:.1f} s for {n:,} (scaled)")
    print(
        f"  loop vs engine CAR/SE, max relative difference: {max_rel:.2e} over {len(both)} firm-events "
        f"(NaN where a window has a gap: {'same in both' if same_gaps else 'DIFFERENT'})"
    )
    print(
        f"  speed-up vs loop: fit + car() {summary['ratio_fit_car']:.0f}x, end to end {summary['ratio_end_to_end']:.0f}x, "
        f"no contamination check {summary['ratio_no_contamination_check']:.0f}x, core {summary['ratio_core']:.0f}x"
    )
    print(
        f"  peak memory (tracemalloc): end to end {summary['peak_end_to_end_mb']:.0f} MB, "
        f"no contamination check {summary['peak_no_contamination_check_mb']:.0f} MB, "
        f"core {summary['peak_core_mb']:.0f} MB; process maxrss {summary['maxrss_mb']:.0f} MB"
    )
    return summary


def profile_fit_car(returns, events, threshold: float = 0.005, depth: int = 4) -> list[tuple[int, str, float]]:
    """cProfile of one fit + car() (after the warm-up): the call tree down to ``depth``, steps over ``threshold``.

    Each line is a callee's cumulative time under its caller (so siblings add up to at most their parent), the
    package's functions as ``module.function:line``, others by file and name.  Returns (level, step, seconds).
    cProfile adds its own overhead to every Python call, so the times are inflated against an untraced run;
    read them as shares.
    """
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    gc.collect()
    profiler.enable()
    run_fit_car(returns, events)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    children: dict[tuple, list[tuple[float, tuple]]] = {}
    for callee, (*_, callers) in stats.items():
        for caller, timing in callers.items():
            children.setdefault(caller, []).append((timing[3], callee))
    package = os.sep + "eventstudy" + os.sep

    def label(key: tuple) -> str:
        filename, line, name = key
        if package in filename:
            return f"{filename.split(package, 1)[1].removesuffix('.py').replace(os.sep, '.')}.{name}:{line}"
        if filename == "~":
            return name
        parts = filename.split(os.sep)
        return f"{os.sep.join(parts[-2:])}:{name}"

    root = next(key for key in stats if key[2] == "run_fit_car")
    rows: list[tuple[int, str, float]] = []

    def walk(key: tuple, level: int) -> None:
        shown = 0.0
        for seconds, callee in sorted(children.get(key, []), key=lambda item: -item[0]):
            if seconds > threshold:
                rows.append((level, label(callee), seconds))
                shown += seconds
                if level < depth:
                    walk(callee, level + 1)
        rest = stats[key][3] - shown
        if shown and rest > threshold:  # what the listed steps leave out: smaller steps and own time
            rows.append((level, "(the rest: steps under the threshold and own time)", rest))

    walk(root, 0)
    print(f"\nprofile of one fit + car() (cProfile, {stats[root][3]:.3f} s traced): steps over {threshold * 1e3:g} ms")
    for level, step, seconds in rows:
        print(f"  {seconds * 1e3:7.1f} ms  {'  ' * level}{step}")
    return rows


def big_child(n: int, limit_gb: float, seed: int) -> None:
    """Runs in a child process with a capped address space; prints one JSON line."""
    limit = int(limit_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    out: dict = {"n": n, "limit_gb": limit_gb}
    try:
        returns, events, _, _ = make_panel(n, seed=seed)
        run_engine(returns, events.iloc[:200])
        out["rss_after_data_mb"] = maxrss_mb()

        def fit_and_car():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", es.DroppedFirmEventsWarning)
                warnings.simplefilter("ignore", es.DataQualityWarning)
                res = es.EventStudy(
                    events, returns=returns, market="MKT", estimation_window=ESTIMATION, event_window=EVENT
                ).fit()
            return res, res.car()

        # timings without tracing (tracemalloc slows the Python-level parts several-fold) ...
        gc.collect()
        start = time.perf_counter()
        res, _ = fit_and_car()
        out["fit_car_s"] = time.perf_counter() - start
        start = time.perf_counter()
        out["ar_rows"] = len(res.ar)
        out["ar_s"] = time.perf_counter() - start
        out["kept"] = res.n
        del res
        # ... then the same work again under tracemalloc for the peaks
        gc.collect()
        tracemalloc.start()
        res, _ = fit_and_car()
        out["fit_car_peak_mb"] = tracemalloc.get_traced_memory()[1] / MB
        tracemalloc.reset_peak()
        ar = res.ar
        out["ar_peak_mb"] = tracemalloc.get_traced_memory()[1] / MB
        tracemalloc.stop()
        del ar
    except MemoryError as exc:
        out["error"] = f"MemoryError under a {limit_gb:g} GB address-space cap ({exc})"
    except Exception as exc:  # report, do not hide: the parent prints it
        out["error"] = f"{type(exc).__name__}: {exc}"
    out["maxrss_mb"] = maxrss_mb()
    print("RESULT " + json.dumps(out))


def big_run(args) -> dict:
    grid = max(EVENT[1], ESTIMATION[1]) - min(EVENT[0], ESTIMATION[0]) + 1
    print(f"\nbig run: {args.big:,} firm-events in a child process (address space capped at {args.big_limit_gb:g} GB)")
    command = [
        sys.executable,
        __file__,
        "--big-child",
        str(args.big),
        "--big-limit-gb",
        str(args.big_limit_gb),
        "--seed",
        str(args.seed),
    ]
    proc = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        print(f"  child failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
        return {"n": args.big, "error": f"child exit {proc.returncode}"}
    out = json.loads(lines[-1][len("RESULT ") :])
    out["grid_array_mb"] = args.big * grid * 8 / MB
    if "error" in out:
        print(f"  FAILED: {out['error']}; child maxrss {out['maxrss_mb']:.0f} MB")
    else:
        print(f"  fit + car(): {out['fit_car_s']:.2f} s, tracemalloc peak {out['fit_car_peak_mb']:.0f} MB")
        print(f"  res.ar ({out['ar_rows']:,} rows): {out['ar_s']:.2f} s, peak {out['ar_peak_mb']:.0f} MB")
        print(
            f"  child maxrss {out['maxrss_mb']:.0f} MB (after building the data and a warm-up fit: "
            f"{out['rss_after_data_mb']:.0f} MB); one (N, {grid}) float64 grid array would be "
            f"{out['grid_array_mb']:.0f} MB"
        )
    return out


def report(summary: dict, big: dict | None) -> None:
    print("\nsummary")
    floor_ok = summary["ratio_fit_car_floor"] <= TARGET_FLOOR
    print(
        f"  fit + car() / floor: {summary['ratio_fit_car_floor']:.1f}x ({summary['fit_car_s']:.3f} s / "
        f"{summary['floor_s']:.3f} s; target <= {TARGET_FLOOR:g}x, issue 23: {'met' if floor_ok else 'NOT met'}); "
        f"array core / floor {summary['ratio_core_floor']:.1f}x"
    )
    target(
        "fit_vs_floor", f"{summary['n']:,} random-date firm-events, fit + car()", summary["ratio_fit_car_floor"],
        TARGET_FLOOR, "x", baseline="the floor: a plain numpy prefix-sum market model (run_floor)",
        seconds=summary["fit_car_s"], baseline_seconds=summary["floor_s"], core_vs_floor=summary["ratio_core_floor"],
    )  # fmt: skip
    speed_ok = summary["end_to_end_s"] < TARGET_SECONDS
    ratio_ok = summary["ratio_end_to_end"] >= TARGET_RATIO
    print(
        f"  {summary['n']:,} firm-events end to end: {summary['end_to_end_s']:.3f} s "
        f"(target < {TARGET_SECONDS:g} s: {'met' if speed_ok else 'NOT met'})"
    )
    print(
        f"  speed-up vs statsmodels loop (issue 13's retired baseline): fit + car() {summary['ratio_fit_car']:.0f}x "
        f"(was >= {TARGET_RATIO:.0f}x: {'met' if summary['ratio_fit_car'] >= TARGET_RATIO else 'NOT met'}); "
        f"with the AR table {summary['ratio_end_to_end']:.0f}x ({'met' if ratio_ok else 'NOT met'})"
    )
    print(
        f"  without the contamination check: {summary['no_contamination_check_s']:.3f} s, "
        f"{summary['ratio_no_contamination_check']:.0f}x; array core {summary['array_core_s']:.3f} s, "
        f"{summary['ratio_core']:.0f}x"
    )
    print(
        f"  peak memory: {summary['peak_end_to_end_mb']:.0f} MB end to end, "
        f"{summary['peak_no_contamination_check_mb']:.0f} MB without the contamination check"
    )
    if big is not None:
        if "error" in big:
            print(f"  {big['n']:,} firm-events: FAILED ({big['error']})")
        else:
            print(
                f"  {big['n']:,} firm-events: fit + car() {big['fit_car_s']:.2f} s, "
                f"peak {big['fit_car_peak_mb']:.0f} MB; res.ar peak {big['ar_peak_mb']:.0f} MB"
            )


def panel_shape(text: str) -> tuple[int, int]:
    """``--panel 3000x400`` -> (3000 sessions, 400 securities)."""
    try:
        sessions, securities = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--panel must be SESSIONSxSECURITIES, e.g. 3000x400; got {text!r}") from None
    if sessions < ESTIMATION[1] - ESTIMATION[0] + EVENT[1] - EVENT[0] + 2 or securities < 1:
        raise argparse.ArgumentTypeError(f"--panel {text!r}: too few sessions for the windows, or no securities")
    return sessions, securities


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="firm-events of the main run")
    parser.add_argument("--big", type=int, default=100_000, help="firm-events of the memory run (0 skips it)")
    parser.add_argument("--loop", type=int, default=500, help="firm-events timed with the statsmodels loop")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each engine timing (best is kept)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="cProfile one fit + car() and list steps over 5 ms")
    parser.add_argument(
        "--panel",
        type=panel_shape,
        default=(2500, 500),
        help="the returns panel as SESSIONSxSECURITIES (default 2500x500; issue 23's panel: 3000x400)",
    )
    parser.add_argument("--big-limit-gb", type=float, default=8.0, help="address-space cap of the big run")
    parser.add_argument("--big-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sessions, args.securities = args.panel
    if args.big_child:
        big_child(args.big_child, args.big_limit_gb, args.seed)
        return
    versions = f"numpy {np.__version__}, pandas {pd.__version__}, eventstudy {es.__version__}"
    print(f"{versions}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    summary = main_run(args)
    if args.profile:
        returns, events, _, _ = make_panel(args.n, args.securities, args.sessions, seed=args.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            profile_fit_car(returns, events)
    big = big_run(args) if args.big else None
    report(summary, big)


if __name__ == "__main__":
    main()
