"""Speed of the GARCH market model: 1,000 firm-events on real prices, fitted in parallel.

Run::

    python benchmarks/garch.py                       # 1,000 firm-events, 2 workers
    python benchmarks/garch.py --n 200 --workers 1   # a serial run to compare

The firm-events are the US semiconductor stocks of ``shared/data/prices`` (read at run time, never copied)
on evenly spaced sessions of 2023-2025, against SPY, estimation window (-250, -11), event window (-5, 5).
The OLS part of the study (placing, estimating, dropping) is timed apart from the GARCH fits, which are
timed by :func:`eventstudy.estimation.garch.timed`.  Target: under 60 s for 1,000 fits on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import eventstudy as es
from eventstudy.estimation.garch import Garch, timed

TICKERS = ["NVDA", "AMD", "AVGO", "QCOM", "INTC", "MU", "AMAT", "LRCX", "KLAC", "MRVL", "TSM", "ASML", "ARM", "SMCI"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="firm-events (default 1000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--model", default="garch", choices=["garch", "gjr-garch", "egarch"])
    parser.add_argument(
        "--prices",
        default=os.environ.get("EVENTSTUDY_SHARED_DIR", str(Path(__file__).resolve().parents[2] / "shared"))
        + "/data/prices",
    )
    args = parser.parse_args()

    closes = {}
    for ticker in [*TICKERS, "SPY"]:
        path = Path(args.prices) / f"{ticker}.csv"
        if path.exists():
            closes[ticker] = pd.read_csv(path, index_col="Date", parse_dates=True)["Adj Close"]
    returns = es.returns(pd.DataFrame(closes).sort_index())
    tickers = [t for t in TICKERS if t in returns.columns and returns[t].loc[:"2023-01-01"].notna().sum() > 260]
    dates = returns.loc["2023-03-01":"2025-09-30"].index
    per = int(np.ceil(args.n / len(tickers)))
    picked = dates[np.linspace(0, len(dates) - 1, per).astype(int)]
    events = pd.DataFrame(
        {"ticker": np.repeat(tickers, len(picked)), "date": np.tile(picked, len(tickers)), "session": "pre"}
    ).iloc[: args.n]

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ols = es.EventStudy(events, returns=returns, market="SPY", estimation_window=(-250, -11)).fit()
    ols_seconds = time.perf_counter() - start
    model = es.get_model(args.model)
    model = type(model)(workers=args.workers, progress=True) if isinstance(model, Garch) else model
    fit, reasons, timing = timed(ols.fit, model)
    failed = int(sum(r is not None for r in reasons))
    print(f"firm-events: {ols.n} ({len(tickers)} tickers x {len(picked)} sessions), model {args.model}")
    print(f"workers: {args.workers} (cores seen: {os.cpu_count()})")
    print(f"OLS study (place, estimate, drops): {ols_seconds:.2f} s")
    print(f"GARCH fits: total {timing.seconds:.2f} s, per fit {1000 * timing.per_fit:.1f} ms (wall / fits)")
    print(f"failed fits (recorded drops): {failed}")
    ok = timing.seconds < 60 if ols.n >= 1000 else True
    print("target (< 60 s for 1,000 fits):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
