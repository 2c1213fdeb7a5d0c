"""A million firm-events: fit + ``car()`` against the 100,000 run, with peak memory, and how cost grows.

Run::

    python benchmarks/million.py                  # 100,000 then 1,000,000 firm-events
    python benchmarks/million.py --curve          # also the growth curves (firm-events, events per ticker,
                                                  # panel length), about two minutes more
    python benchmarks/million.py --sizes 100000,300000 --limit-gb 4

The panel and study are those of ``benchmarks/engine.py`` (market-model returns with 1 % missing, market
model, estimation (-260, -11), event (-10, 10)); by default 500 securities x 2,500 NYSE sessions, so a million
firm-events is 2,000 per security: nearly every session of every security is a day 0, the densest case for
the contamination and overlap checks (every firm-event's estimation window holds hundreds of catalog events
of its own ticker, its event window overlaps about 36 others).

Each size runs in its own child process whose address space is capped (``--limit-gb``, default 6), so a
runaway allocation fails with MemoryError there.  The child builds the data, warms up on 200 firm-events,
then times ``EventStudy(...).fit()`` + ``res.car()`` (best of ``--repeat``, default 2; the curves time one
run each), and reports its resident high-water mark
(``VmHWM``: the whole process, the data included) and what it was after building the data.

Targets (issue 13): the 1,000,000 run at most 12x the 100,000 run, peak memory under 2 GB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import target  # noqa: E402

TARGET_RATIO = 12.0
TARGET_PEAK_MB = 2048.0


def child(n: int, securities: int, sessions: int, limit_gb: float, repeat: int) -> None:
    import gc
    import resource

    limit = int(limit_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import engine

    import eventstudy as es

    out: dict = {"n": n, "securities": securities, "sessions": sessions}
    try:
        returns, events, _, _ = engine.make_panel(n, n_securities=securities, n_sessions=sessions)
        warnings.simplefilter("ignore")  # drops and gaps are expected with 1 % missing returns

        def fit_and_car(events):
            res = es.EventStudy(
                events, returns=returns, market="MKT", estimation_window=engine.ESTIMATION, event_window=engine.EVENT
            ).fit()
            return res, res.car()

        fit_and_car(events.iloc[:200])
        out["rss_after_data_mb"] = engine.maxrss_mb()
        times = []
        for _ in range(repeat):  # best of `repeat`; the previous result is dropped first, so peaks do not add
            res = car = None
            gc.collect()
            start = time.perf_counter()
            res, car = fit_and_car(events)
            times.append(time.perf_counter() - start)
        out["fit_car_s"] = min(times)
        out["kept"] = res.n
    except MemoryError as exc:
        out["error"] = f"MemoryError under a {limit_gb:g} GB address-space cap ({exc})"
    out["peak_mb"] = engine.maxrss_mb()
    print("RESULT " + json.dumps(out))


def run(n: int, securities: int, sessions: int, limit_gb: float, repeat: int = 1) -> dict:
    command = [
        sys.executable, __file__, "--child", f"{n},{securities},{sessions}", "--limit-gb", str(limit_gb),
        "--repeat", str(repeat),
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if not lines:
        return {"n": n, "securities": securities, "sessions": sessions, "error": proc.stderr[-1500:]}
    return json.loads(lines[-1][len("RESULT ") :])


def show(r: dict) -> str:
    head = f"{r['n']:>9,} firm-events, {r['securities']:>4} securities x {r['sessions']:>4} sessions"
    if "error" in r:
        return f"{head}: FAILED {r['error']}"
    per_ticker = r["n"] / r["securities"]
    return (
        f"{head} ({per_ticker:>5,.0f} per ticker): fit + car() {r['fit_car_s']:6.2f} s "
        f"({r['fit_car_s'] / r['n'] * 1e6:5.1f} us per firm-event), peak RSS {r['peak_mb']:5.0f} MB "
        f"(data {r['rss_after_data_mb']:.0f} MB)"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="firm-event counts; the first is the baseline")
    parser.add_argument("--curve", action="store_true", help="also sweep events per ticker and panel length")
    parser.add_argument("--limit-gb", type=float, default=6.0)
    parser.add_argument("--repeat", type=int, default=2, help="timed fits per size; the best is kept")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        n, securities, sessions = map(int, args.child.split(","))
        child(n, securities, sessions, args.limit_gb, args.repeat)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    runs = [run(n, 500, 2500, args.limit_gb, args.repeat) for n in sizes]
    print("firm-events (500 securities x 2,500 sessions):")
    for r in runs:
        print("  " + show(r))
    base, big = runs[0], runs[-1]
    if len(runs) > 1 and "error" not in base and "error" not in big:
        ratio = big["fit_car_s"] / base["fit_car_s"]
        print(
            f"  {big['n']:,} / {base['n']:,}: {ratio:.1f}x the time for {big['n'] / base['n']:.0f}x the firm-events "
            f"(target <= {TARGET_RATIO:g}x: {'met' if ratio <= TARGET_RATIO else 'NOT met'}); peak {big['peak_mb']:.0f} "
            f"MB (target < {TARGET_PEAK_MB:.0f} MB: {'met' if big['peak_mb'] < TARGET_PEAK_MB else 'NOT met'})"
        )
        target(
            "million_vs_100k", f"{big['n']:,} firm-events, fit + car()", ratio, TARGET_RATIO, "x",
            baseline=f"the {base['n']:,} run", seconds=big["fit_car_s"], baseline_seconds=base["fit_car_s"],
        )  # fmt: skip
        target("million_peak", f"{big['n']:,} firm-events, peak memory", big["peak_mb"], TARGET_PEAK_MB, "MB")
    if args.curve:
        print("firm-events, growth (500 securities x 2,500 sessions):")
        for n in (10_000, 30_000, 300_000):
            print("  " + show(run(n, 500, 2500, args.limit_gb)))
        print("events per ticker at 100,000 firm-events (2,500 sessions):")
        for securities in (100, 2000):
            print("  " + show(run(100_000, securities, 2500, args.limit_gb)))
        print("panel length at 100,000 firm-events (500 securities):")
        for sessions in (1000, 3700):
            print("  " + show(run(100_000, 500, sessions, args.limit_gb)))


if __name__ == "__main__":
    main()
