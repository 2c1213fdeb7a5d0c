"""``yfinance.download`` as Yahoo answered before an adjustment event, built from today's shared prices.

Used by ``scripts/faults.py`` and ``tests/data/test_cache_integrity.py`` to feed yfinance-shaped frames
through the real :class:`~eventstudy.data.YahooSource`, with no network.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FIELDS = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]


class YahooAsOf:
    """yfinance.download as it answered before ``event``, or after it once ``before_event`` is False.

    ``scale`` maps a field to the factor by which Yahoo's rows dated before ``event`` differed then from the
    shared (today's) values: 10 for the prices before a 10-for-1 split, 1.00323 for SPY's Adj Close before
    its June 2024 dividend (the jump of Adj Close / Close in the shared file on the ex-date). Before the
    event the history ends the day before it. ``fail_from``: a request starting on or before this date
    raises ``ConnectionError`` (a network failure mid-history). ``calls`` records every (start, end) asked.
    """

    def __init__(self, prices_dir: str | Path, event: str, scale: dict[str, float]):
        self.prices_dir, self.event, self.scale = Path(prices_dir), pd.Timestamp(event), scale
        self.before_event = True
        self.fail_from: str | None = None
        self.calls: list[tuple[str, str]] = []

    def __call__(self, tickers, *, start, end, **options):
        self.calls.append((start, end))
        if self.fail_from is not None and start <= self.fail_from:
            raise ConnectionError("connection reset by peer")
        rows = {}
        for ticker in tickers:
            raw = pd.read_csv(self.prices_dir / f"{ticker}.csv", index_col="Date", parse_dates=True)
            raw = raw.loc[(raw.index >= start) & (raw.index < end)].copy()
            if self.before_event:
                raw = raw.loc[raw.index < self.event]  # the future had not happened yet
                for field, factor in self.scale.items():
                    raw[field] = raw[field] * factor
            rows[ticker] = raw
        index = pd.DatetimeIndex(sorted(set().union(*[r.index for r in rows.values()])), name="Date")
        columns = pd.MultiIndex.from_product([FIELDS, sorted(rows)], names=["Price", "Ticker"])
        frame = pd.DataFrame(index=index, columns=columns, dtype="float64")
        for field, ticker in columns:
            frame[(field, ticker)] = rows[ticker][field].reindex(index)
        return frame
