"""Speed and memory of the estimation engine against a per-firm-event statsmodels loop.

Run::

    python benchmarks/engine.py                 # 10,000 firm-events + a 100,000 run
    python benchmarks/engine.py --n 10000 --big 100000 --loop 500 --repeat 3
    python benchmarks/engine.py --big 0         # skip the big run

The panel is synthetic: 500 securities x 2,500 NYSE sessions of market-model returns (1 % of firm returns
missing), firm-events spread evenly over the securities at random sessions, market model, estimation window
(-260, -11) (250 days), event window (-10, 10) (21 days).

Measured, in one process:

* end-to-end: ``es.EventStudy(...).fit()`` then ``res.car()`` and ``res.ar`` (the tables forced), best of
  ``--repeat`` after a warm-up fit that pays for the first imports;
* the same with ``catalog=`` an empty catalog, which skips the contamination check (to show what that step
  costs);
* the array core: ``AlignedData.build`` + ``estimate`` + CAR, its variance, AR and their variances;
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

import numpy as np
import pandas as pd

import eventstudy as es
from eventstudy.estimation.models import estimate
from eventstudy.estimation.panel import AlignedData

ESTIMATION = (-260, -11)
EVENT = (-10, 10)
TARGET_RATIO = 100.0
TARGET_SECONDS = 1.0


# ---------------------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------------------


def make_panel(n_events: int, n_securities: int = 500, n_sessions: int = 2500, seed: int = 0):
    """Wide returns (securities + MKT) on NYSE sessions and ``n_events`` firm-events (ticker, date)."""
    rng = np.random.default_rng(seed)
    sessions = es.TradingCalendar().sessions_in_range("2010-01-04", "2024-12-31")[:n_sessions]
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


def best_of(repeat, func, *args, **kwargs):
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = func(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return min(times), float(np.median(times)), result


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
    returns, events, day0, firm = make_panel(args.n, seed=args.seed)
    n = len(events)
    grid = max(EVENT[1], ESTIMATION[1]) - min(EVENT[0], ESTIMATION[0]) + 1
    print(
        f"panel: {returns.shape[1] - 1} securities x {len(returns)} sessions, {n:,} firm-events, market model, "
        f"estimation {ESTIMATION}, event {EVENT}"
    )

    run_engine(returns, events.iloc[:200])  # warm-up: first imports (scipy.stats), calendar build
    e2e_best, e2e_med, (res, car, ar) = best_of(args.repeat, run_engine, returns, events)
    nocat_best, nocat_med, _ = best_of(args.repeat, run_engine, returns, events, empty_catalog())
    fitcar_best, fitcar_med, _ = best_of(args.repeat, run_fit_car, returns, events)

    y = returns.drop(columns="MKT").to_numpy()
    z = returns[["MKT"]].to_numpy()
    core_best, core_med, _ = best_of(args.repeat, run_core, y, z, day0, firm)

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
    speed_ok = summary["end_to_end_s"] < TARGET_SECONDS
    ratio_ok = summary["ratio_end_to_end"] >= TARGET_RATIO
    print(
        f"  {summary['n']:,} firm-events end to end: {summary['end_to_end_s']:.3f} s "
        f"(target < {TARGET_SECONDS:g} s: {'met' if speed_ok else 'NOT met'})"
    )
    print(
        f"  speed-up vs statsmodels loop: fit + car() {summary['ratio_fit_car']:.0f}x "
        f"(target >= {TARGET_RATIO:.0f}x: {'met' if summary['ratio_fit_car'] >= TARGET_RATIO else 'NOT met'}); "
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="firm-events of the main run")
    parser.add_argument("--big", type=int, default=100_000, help="firm-events of the memory run (0 skips it)")
    parser.add_argument("--loop", type=int, default=500, help="firm-events timed with the statsmodels loop")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each engine timing (best is kept)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--big-limit-gb", type=float, default=8.0, help="address-space cap of the big run")
    parser.add_argument("--big-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.big_child:
        big_child(args.big_child, args.big_limit_gb, args.seed)
        return
    versions = f"numpy {np.__version__}, pandas {pd.__version__}, eventstudy {es.__version__}"
    print(f"{versions}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    summary = main_run(args)
    big = big_run(args) if args.big else None
    report(summary, big)


if __name__ == "__main__":
    main()
