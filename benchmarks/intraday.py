"""Speed of the intraday study against a per-event statsmodels loop, on real 5-minute bars.

Run::

    python benchmarks/intraday.py                 # 125 event times x 4 tickers = 500 firm-events
    python benchmarks/intraday.py --events 100 --loop 100 --repeat 3

The bars are the shared 5-minute files (``$EVENTSTUDY_SHARED_DIR/data/intraday``, default ``../shared``
beside the repository): NVDA, AMD and SMH, and QQQ and SPY from ``alt/`` (the copies that cover the same
2025-05-12..2026-03-12 sessions), about 210 NYSE sessions of 78 regular bars.  They are linked into a
temporary folder under ``<TICKER>_5m.csv`` names; nothing is copied into the repository.  Event times are
drawn at random regular bars of the last 190 sessions; every event time is studied for every ticker against
SPY, estimation window (-780, -31) (ten sessions), event window (0, 30), 20 placebo sessions.

Timed, in one process, best of ``--repeat`` after a warm-up:

* ``es.IntradayStudy(...).fit()`` then ``res.car()`` (the placebo p-values included) on bars already read;
* the per-event loop: for each firm-event ``statsmodels.OLS`` on the estimation bars, then the CAR, its
  MacKinlay variance and the CARs of the same window on the 20 previous sessions (the placebo), on
  ``--loop`` firm-events, scaled to N; its CARs, SEs and placebo p-values are checked against the study's.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import eventstudy as es
from eventstudy.intraday.study import BarPanel

TICKERS = ["NVDA", "AMD", "SMH", "QQQ"]
FILES = {
    "NVDA": "NVDA_5m.csv",
    "AMD": "AMD_5m.csv",
    "SMH": "SMH_5m.csv",
    "QQQ": "alt/QQQ_5m__alert_overlay.csv",
    "SPY": "alt/SPY_5m__alert_overlay.csv",
}
ESTIMATION, EVENT, PLACEBO = (-780, -31), (0, 30), 20


def shared_intraday() -> Path:
    root = Path(os.environ.get("EVENTSTUDY_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
    return root / "data" / "intraday"


def read_bars(folder: Path) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as tmp:
        for ticker, name in FILES.items():
            os.symlink(folder / name, Path(tmp) / f"{ticker}_5m.csv")
        return es.CsvSource(tmp, interval="5m").get_bars([*TICKERS, "SPY"], "2025-05-12", "2026-03-11")


def draw_events(bars: pd.DataFrame, n_times: int, seed: int = 7) -> pd.DataFrame:
    panel = BarPanel.from_bars(bars, [*TICKERS, "SPY"])
    rng = np.random.default_rng(seed)
    rows = rng.choice(
        np.arange(panel.session_start[20], panel.session_start[-1] - EVENT[1] - 1), n_times, replace=False
    )
    times = panel.grid[np.sort(rows)]
    return pd.DataFrame(
        {
            "event_id": [f"{t}@{s:%Y-%m-%dT%H:%M}" for s in times for t in TICKERS],
            "ticker": TICKERS * len(times),
            "time": np.repeat(times, len(TICKERS)),
        }
    )


def run_study(events, bars):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = es.IntradayStudy(
            events, bars, market="SPY", event_window=EVENT, estimation_window=ESTIMATION, placebo_sessions=PLACEBO,
            max_missing=2,
        ).fit()  # fmt: skip
    return res, res.car()


def car_at(start, y, m, first, alpha, beta):
    """CAR over the event window from bar ``start``, its bar count and summed design, by hand."""
    w = np.arange(start + EVENT[0], start + EVENT[1] + 1)
    if w[0] < 0 or w[-1] >= len(y):
        return np.nan, 0, np.zeros(2)
    keep = ~first[w]
    ar = y[w] - alpha - beta * m[w]
    present = keep & np.isfinite(ar)
    if (keep & ~present).sum() > 2:
        return np.nan, 0, np.zeros(2)
    return ar[present].sum(), present.sum(), np.array([present.sum(), m[w][present].sum()])


def loop(events, panel: BarPanel, n: int):
    """One statsmodels OLS per firm-event, then CAR, Var(CAR) and the placebo CARs by hand."""
    import statsmodels.api as sm

    y_all, m = panel.returns, panel.returns[:, panel.column("SPY")]
    first = panel.segment_first
    out = []
    for event in events.head(n).itertuples():
        col = panel.column(event.ticker)
        e = int(panel.grid.searchsorted(event.time))
        rows = np.arange(max(e + ESTIMATION[0], 0), e + ESTIMATION[1] + 1)
        ok = np.isfinite(y_all[rows, col]) & np.isfinite(m[rows])
        X = sm.add_constant(m[rows][ok], has_constant="add")
        fit = sm.OLS(y_all[rows, col][ok], X).fit()
        alpha, beta = fit.params
        xtx_inv = np.linalg.inv(X.T @ X)

        car, length, s = car_at(e, y_all[:, col], m, first, alpha, beta)
        se = np.sqrt(fit.scale * (length + s @ xtx_inv @ s))
        session = panel.session[e]
        position = e - panel.session_start[session]
        placebo = []
        for back in range(1, PLACEBO + 1):
            k = session - back
            if k < 0 or position >= panel.session_start[k + 1] - panel.session_start[k]:
                continue
            start = panel.session_start[k] + position
            if start + EVENT[1] >= e + EVENT[0]:
                continue
            value = car_at(start, y_all[:, col], m, first, alpha, beta)[0]
            if np.isfinite(value):
                placebo.append(value)
        p = (1 + sum(abs(c) >= abs(car) for c in placebo)) / (1 + len(placebo)) if placebo else np.nan
        out.append((event.event_id, car, se, p))
    return pd.DataFrame(out, columns=["event_id", "car", "se", "placebo_pvalue"]).set_index("event_id")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=125, help="event times (each studied for 4 tickers)")
    parser.add_argument("--loop", type=int, default=100, help="firm-events timed in the statsmodels loop")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    bars = read_bars(shared_intraday())
    read_seconds = time.perf_counter() - started
    events = draw_events(bars, args.events)
    panel = BarPanel.from_bars(bars, [*TICKERS, "SPY"])
    n = len(events)
    print(
        f"bars: {len(bars):,} rows, {len(panel.session_dates)} sessions of 5-minute bars, read in {read_seconds:.2f} s"
    )
    print(f"events: {args.events} times x {len(TICKERS)} tickers = {n} firm-events against SPY")

    run_study(events, bars)  # warm-up: imports, calendars
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        res, car = run_study(events, bars)
        times.append(time.perf_counter() - started)
    best = min(times)

    started = time.perf_counter()
    reference = loop(events, panel, args.loop)
    loop_seconds = time.perf_counter() - started
    scaled = loop_seconds / len(reference) * n
    both = car.join(reference.add_suffix("_loop"), how="inner")
    finite = both["car"].notna() & both["car_loop"].notna()
    diff = max(
        float(np.max(np.abs(both["car"] - both["car_loop"])[finite] / np.abs(both["car_loop"][finite]).clip(1e-12))),
        float(np.max(np.abs(both["se"] - both["se_loop"])[finite] / both["se_loop"][finite])),
    )
    same_p = bool(np.allclose(both["placebo_pvalue"][finite], both["placebo_pvalue_loop"][finite], rtol=0, atol=1e-15))
    same_nan = bool((both["car"].isna() == both["car_loop"].isna()).all())

    print(f"IntradayStudy.fit() + car(): {best:.3f} s (runs: {', '.join(f'{t:.3f}' for t in times)}), "
          f"{len(res.events)} estimated, {len(res.dropped)} dropped")  # fmt: skip
    print(f"statsmodels loop: {loop_seconds:.2f} s for {len(reference)} firm-events, so {scaled:.2f} s scaled to {n}")
    print(f"ratio: {scaled / best:.0f}x faster than the loop")
    print(f"loop vs study: max relative difference in CAR and SE {diff:.1e} over {int(finite.sum())} firm-events; "
          f"placebo p-values equal: {same_p}; same NaN pattern: {same_nan}")  # fmt: skip
    print(f"target under 1 s: {'met' if best < 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
