"""Cost of the test statistics: every test at 5,000 firm-events against the fit, and ``es.simulate``.

Run::

    python benchmarks/inference.py             # 5,000 firm-events; simulate 1,000 samples x 50 firms
    python benchmarks/inference.py --n 5000 --samples 1000 --firms 50 --repeat 3

The panel and study are those of ``benchmarks/engine.py`` (random sessions, market model, estimation
(-260, -11), event (-10, 10)).  Timed, best of ``--repeat``:

* **baseline**: ``EventStudy(...).fit()`` then ``res.car()``;
* **all tests**: ``res.tests()`` (every registered test on day 0 and the event window), and each test alone;
* **simulate**: ``es.simulate(returns, "MKT", n_samples, n_firms)`` on the same panel.

Targets (issue 13, owned by the inference code): all tests within 3x the fit; simulate 1,000 x 50 at most
1.2 s.  This script only measures.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engine  # noqa: E402 - the same synthetic panel

import eventstudy as es  # noqa: E402
from eventstudy.inference import TESTS  # noqa: E402

TARGET_RATIO = 3.0
TARGET_SIMULATE = 1.2


def best(repeat, func):
    times, out = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - start)
    return min(times), out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5_000)
    parser.add_argument("--samples", type=int, default=1_000)
    parser.add_argument("--firms", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    returns, events, _, _ = engine.make_panel(args.n)
    warnings.simplefilter("ignore")  # drops and gaps are expected on a panel with 1 % missing returns

    def fit():
        res = es.EventStudy(
            events, returns=returns, market="MKT", estimation_window=engine.ESTIMATION, event_window=engine.EVENT
        ).fit()
        res.car()
        return res

    fit()
    fit_s, res = best(args.repeat, fit)
    res.tests()  # warm-up
    tests_s, _ = best(args.repeat, res.tests)
    print(f"{res.n:,} firm-events; best of {args.repeat}")
    print(f"  baseline fit + car():  {fit_s:7.3f} s")
    print(f"  res.tests(), all tests: {tests_s:7.3f} s = {tests_s / fit_s:.1f}x the fit (target <= {TARGET_RATIO:g}x: "
          f"{'met' if tests_s / fit_s <= TARGET_RATIO else 'NOT met'})")  # fmt: skip
    each = []
    for name in TESTS:
        seconds, _ = best(1, lambda name=name: res.tests(tests=[name]))
        each.append((seconds, name))
    for seconds, name in sorted(each, reverse=True)[:6]:
        print(f"    {name:20s} {seconds:7.3f} s")
    es.simulate(returns, "MKT", n_samples=10, n_firms=args.firms)  # warm-up
    sim_s, _ = best(args.repeat, lambda: es.simulate(returns, "MKT", n_samples=args.samples, n_firms=args.firms))
    print(f"  es.simulate {args.samples:,} x {args.firms}: {sim_s:7.3f} s (target <= {TARGET_SIMULATE:g} s: "
          f"{'met' if sim_s <= TARGET_SIMULATE else 'NOT met'})")  # fmt: skip


if __name__ == "__main__":
    main()
