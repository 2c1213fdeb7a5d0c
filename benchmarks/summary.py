"""Cost of ``res.summary()`` (and its text) against the fit it summarises, at 10,000 random-date firm-events.

Run::

    python benchmarks/summary.py               # 10,000 firm-events, best of 3
    python benchmarks/summary.py --n 2000 --repeat 5

The panel and study are those of ``benchmarks/engine.py`` (500 securities x 2,500 NYSE sessions, market
model, estimation (-260, -11), event (-10, 10)); firm-events fall on random sessions, so almost every
firm-event shares its event window with others (the clustered design, where the summary runs the
Kolari-Pynnonen and rank tests).  Timed, best of ``--repeat``:

* **baseline**: ``EventStudy(...).fit()`` then ``res.car()``;
* **summary**: ``res.summary()`` then ``as_text()`` on the fitted results, and its parts: the pooled tests
  (``res.tests(windows, tests=tests_in_scope("cross-section", "clustered"))``), everything else, and the
  text rendering.  The number of printed lines is reported too (long tables are cut at ``max_rows``).

Target (issue 13): summary within 3x the fit; long tables cut with a note.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engine  # noqa: E402 - the same synthetic panel

import eventstudy as es  # noqa: E402
from eventstudy.inference import tests_in_scope  # noqa: E402

TARGET_RATIO = 3.0


def fit(returns, events):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DroppedFirmEventsWarning)
        warnings.simplefilter("ignore", es.DataQualityWarning)
        res = es.EventStudy(
            events, returns=returns, market="MKT", estimation_window=engine.ESTIMATION, event_window=engine.EVENT
        ).fit()
    res.car()
    return res


def best(repeat, func, *args):
    times, out = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        out = func(*args)
        times.append(time.perf_counter() - start)
    return min(times), out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    returns, events, _, _ = engine.make_panel(args.n)
    fit(returns, events.iloc[:200])  # warm-up: imports, calendar
    fit_s, res = best(args.repeat, fit, returns, events)
    res.summary()  # warm-up: the inference imports
    summary_s, text = best(args.repeat, lambda: res.summary().as_text())
    windows = res.default_windows()
    tests_s, _ = best(args.repeat, lambda: res.tests(windows, tests=tests_in_scope("cross-section", "clustered")))
    summary = res.summary()
    text_s, _ = best(args.repeat, summary.as_text)
    gc.collect()
    tracemalloc.start()
    res.summary().as_text()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    ratio = summary_s / fit_s
    print(f"{res.n:,} firm-events estimated of {args.n:,}; best of {args.repeat}")
    print(f"  baseline fit + car():          {fit_s:7.3f} s")
    print(f"  summary() + as_text():         {summary_s:7.3f} s = {ratio:.1f}x the fit, tracemalloc peak {peak:.0f} MB")
    print(f"    of which the pooled tests:   {tests_s:7.3f} s (eventstudy.inference)")
    print(f"    text rendering:              {text_s:7.3f} s; {text.count(chr(10)) + 1} lines printed")
    print(f"  target summary <= {TARGET_RATIO:g}x the fit: {'met' if ratio <= TARGET_RATIO else 'NOT met'}")


if __name__ == "__main__":
    main()
