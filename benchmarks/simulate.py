"""Speed of ``es.simulate``: 1,000 samples of 50 firm-events, every registered test, against a 1.2 s target.

Run::

    python benchmarks/simulate.py                      # 1,000 x 50, spread-out dates
    python benchmarks/simulate.py --samples 1000 --firms 50 --repeat 3 --clustered

The returns are the synthetic panel of ``benchmarks/engine.py`` (500 securities x 2,500 NYSE sessions of
market-model returns with 1 % of firm returns missing, benchmark ``MKT``).  Market model, estimation window
(-250, -11), event window (0, 0), no abnormal return (a size run).

Timed, best of ``--repeat`` after a warm-up:

* ``es.simulate(...)`` end to end (drawing the samples, one fit of all of them, every test on every chunk);
* each test alone (``tests=[name]``), so the split by test shows where the time goes; the shared part (the
  draw and the fit) is ``simulate(tests=[])``-like and is printed as ``draw + fit``.

The target is at most 1.2 s for the whole run.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import eventstudy as es
from eventstudy.inference import TESTS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import best_of, make_panel  # noqa: E402
from record import target  # noqa: E402

TARGET = 1.2


def run(returns, args, tests=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.EventStudyWarning)
        return es.simulate(
            returns,
            market="MKT",
            n_samples=args.samples,
            n_firms=args.firms,
            clustered=args.clustered,
            tests=tests,
            seed=0,
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="samples (default 1000)")
    parser.add_argument("--firms", type=int, default=50, help="firm-events per sample (default 50)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, best taken (default 3)")
    parser.add_argument("--clustered", action="store_true", help="one date per sample")
    parser.add_argument("--per-test", action="store_true", help="also time each test alone")
    args = parser.parse_args(argv)

    returns, _, _, _ = make_panel(0)
    run(returns, args)  # warm-up: imports, first allocations
    seconds, _, table = best_of(args.repeat, run, returns, args)
    kind = "clustered" if args.clustered else "spread-out"
    print(f"es.simulate: {args.samples:,} samples x {args.firms} firms ({kind}), {len(TESTS)} tests")
    print(f"time (best of {args.repeat}): {seconds:7.3f} s")
    print(f"ratio to the {TARGET:g} s target: {seconds / TARGET:.2f} -> {'met' if seconds <= TARGET else 'NOT met'}")
    target("simulate", f"es.simulate {args.samples:,} samples x {args.firms} firms ({kind}), {len(TESTS)} tests",
           seconds, TARGET, "s")  # fmt: skip
    if args.per_test:
        # the draw and the fit are shared; one cheap test measures them
        base, _, _ = best_of(args.repeat, run, returns, args, ["csect_t"])
        print(f"  {'draw + fit (+ csect_t)':<24} {base:7.3f} s")
        for name in TESTS:
            alone, _, _ = best_of(args.repeat, run, returns, args, [name])
            print(f"  {name:<24} {max(alone - base, 0.0):7.3f} s  (alone {alone:.3f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
