"""Contamination: other catalog events inside a firm-event's estimation window, and overlapping event windows.

Catalog events are placed on the stacked session axis of the study's blocks (:mod:`eventstudy.layout`), one
day 0 per exchange, so a firm-event is checked against the events as its own market saw them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validation import check_instance
from .exceptions import SessionAssumptionWarning
from .firmevents import parse, resolve_rows
from .layout import CalendarSpec, Layout

__all__ = ["Catalog", "catalog_positions", "in_windows", "excluded_days", "flag_contamination"]


@dataclass
class Catalog:
    ids: np.ndarray  # (C,) event ids
    position: np.ndarray  # (C,) session row of each event's day 0 (-1 outside the data)
    ticker: np.ndarray  # (C,) ticker of firm-specific events, None for market-wide ones
    confounders: dict  # event id -> confounder text

    def groups(self):
        """(ticker or None, sorted positions, ids in that order): market-wide events, then each ticker's."""
        inside = np.flatnonzero(self.position >= 0)
        tickers = pd.Series(self.ticker[inside], dtype=object)
        market_wide = tickers.isna().to_numpy()
        if market_wide.any():
            yield None, *self._sorted(inside[market_wide])
        for key, members in tickers[~market_wide].groupby(tickers[~market_wide], sort=False).indices.items():
            yield key, *self._sorted(inside[~market_wide][members])

    def _sorted(self, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = members[np.argsort(self.position[members], kind="stable")]
        return self.position[order], self.ids[order]


def catalog_positions(catalog, events, firm_events, calendars: CalendarSpec, layout: Layout) -> Catalog:
    """Rows of the stacked axis holding each catalog event's day 0, on every block's exchange.

    A market-wide catalog event (no ``ticker``) is placed on each block's calendar with the one resolver of
    event time; a firm-specific one on its security's block only.  The study's own firm-events are placed
    where the study placed them.
    """
    if catalog is None:
        catalog = (
            events
            if "ticker" not in events.columns and ("id" in events.columns or "event_id" in events.columns)
            else None
        )
    if catalog is None:
        catalog = firm_events
    check_instance("catalog", catalog, pd.DataFrame, "a DataFrame of events (see eventstudy.load_events)")
    id_column = "id" if "id" in catalog.columns else "event_id"
    if id_column not in catalog.columns:
        raise KeyError("The 'catalog' parameter needs an 'id' column naming each event.")
    frame = catalog.reset_index(drop=True).rename(columns={id_column: "event_id"})
    frame["event_id"] = frame["event_id"].astype(str)
    confounders = (
        dict(zip(frame["event_id"], frame["confounders"].fillna(""))) if "confounders" in frame.columns else {}
    )
    columns = pd.Index(layout.tickers)
    if catalog is firm_events:  # already placed: day 0 on each firm-event's own exchange
        firm = columns.get_indexer(frame["ticker"])
        ok = firm >= 0
        position = np.full(len(frame), -1, dtype=np.int64)
        for b in range(len(layout.blocks)):
            rows = np.flatnonzero(ok & (layout.column_block[np.maximum(firm, 0)] == b))
            position[rows] = layout.place(b, frame["day0"].iloc[rows])
        return Catalog(frame["event_id"].to_numpy(), position, frame["ticker"].to_numpy(dtype=object), confounders)
    times = parse(frame, calendars)
    ids, positions, tickers = [], [], []
    if "ticker" in frame.columns:
        firm = columns.get_indexer(frame["ticker"].astype(str))
        known = np.flatnonzero(firm >= 0)
        exchanges = np.array([layout.blocks[layout.column_block[f]].exchange for f in firm[known]], dtype=object)
        if len(known):
            with warnings.catch_warnings():  # the study's own events already warned about their sessions
                warnings.simplefilter("ignore", SessionAssumptionWarning)
                day0, _ = resolve_rows(times.take(known), exchanges, calendars, warn=False)
            blocks = layout.column_block[firm[known]]
            place = np.array([layout.place(b, [d])[0] for b, d in zip(blocks, day0)], dtype=np.int64)
            ids.append(frame["event_id"].to_numpy()[known])
            positions.append(place)
            tickers.append(frame["ticker"].astype(str).to_numpy(dtype=object)[known])
    else:
        for b, block in enumerate(layout.blocks):
            exchanges = np.full(len(frame), block.exchange, dtype=object)
            day0, _ = resolve_rows(times, exchanges, calendars, warn=False)
            ids.append(frame["event_id"].to_numpy())
            positions.append(layout.place(b, day0))
            tickers.append(np.full(len(frame), None, dtype=object))
    if not ids:
        return Catalog(
            np.array([], dtype=object), np.array([], dtype=np.int64), np.array([], dtype=object), confounders
        )
    return Catalog(np.concatenate(ids), np.concatenate(positions), np.concatenate(tickers), confounders)


def in_windows(catalog: Catalog, day0: np.ndarray, tickers: np.ndarray, window: tuple[int, int]) -> list[tuple]:
    """Ids of the catalog events whose day 0 lies in ``day0 + window``, per firm-event (same ticker or
    market-wide events), by binary search in each group's sorted positions."""
    found: list[tuple] = [()] * len(day0)
    rows_of = pd.Series(tickers, dtype=object).groupby(tickers, sort=False).indices
    for key, positions, ids in catalog.groups():  # a loop over the catalog's tickers, not over firm-events
        rows = np.arange(len(day0)) if key is None else rows_of.get(key, np.array([], dtype=np.int64))
        lo = np.searchsorted(positions, day0[rows] + window[0], side="left")
        hi = np.searchsorted(positions, day0[rows] + window[1], side="right")
        hits = np.flatnonzero(hi > lo)
        for row, a, b in zip(rows[hits], lo[hits], hi[hits]):  # only firm-events with a catalog event inside
            found[row] = found[row] + tuple(ids[a:b])
    return found


def excluded_days(catalog: Catalog, tickers, sessions, event_window) -> np.ndarray:
    """(T, M) mask of the sessions inside any catalog event's window, per security."""
    excluded = np.zeros((len(sessions), len(tickers)), dtype=bool)
    columns = pd.Index(tickers)
    for key, positions, _ in catalog.groups():
        days = np.zeros(len(sessions) + 1, dtype=np.int64)
        np.add.at(days, np.clip(positions + event_window[0], 0, len(sessions)), 1)
        np.add.at(days, np.clip(positions + event_window[1] + 1, 0, len(sessions)), -1)
        inside = np.cumsum(days[:-1]) > 0  # sessions covered by at least one window of this group
        if key is None:
            excluded |= inside[:, None]
        elif key in columns:
            excluded[:, columns.get_loc(key)] |= inside
    return excluded


def flag_contamination(kept: pd.DataFrame, fit, catalog: Catalog, estimation_window, event_window) -> pd.DataFrame:
    """Add ``contaminated_by`` (catalog events whose day 0 falls in the estimation window) and ``overlaps``
    (other firm-events of the same ticker whose event windows overlap)."""
    kept = kept.copy()
    n = len(kept)
    tickers = kept["ticker"].to_numpy(dtype=object)
    kept["contaminated_by"] = in_windows(catalog, fit.day0, tickers, estimation_window)
    lo, hi = event_window
    width = hi - lo
    order = np.lexsort((fit.day0, fit.firm))
    overlaps: list[tuple] = [()] * n
    firm_sorted, day_sorted = fit.firm[order], fit.day0[order]
    ids = kept["event_id"].to_numpy()
    lag = 1
    while lag < n:  # lags grow only while some firm has that many events within one window width
        close = (day_sorted[lag:] - day_sorted[:-lag] <= width) & (firm_sorted[lag:] == firm_sorted[:-lag])
        if not close.any():
            break
        for j in np.flatnonzero(close):  # the few overlapping pairs, not every firm-event
            a, b = order[j], order[j + lag]
            overlaps[a] = overlaps[a] + (ids[b],)
            overlaps[b] = overlaps[b] + (ids[a],)
        lag += 1
    kept["overlaps"] = overlaps
    if "confounders" not in kept.columns:
        kept["confounders"] = [catalog.confounders.get(event_id, "") for event_id in ids]
    kept["confounders"] = kept["confounders"].astype(object).fillna("")
    return kept
