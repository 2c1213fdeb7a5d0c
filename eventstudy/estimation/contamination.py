"""Contamination: other catalog events inside a firm-event's estimation window, and overlapping event windows.

Catalog events are placed on the stacked session axis of the study's blocks (:mod:`eventstudy.time.layout`), one
day 0 per exchange, so a firm-event is checked against the events as its own market saw them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from eventstudy.estimation.firmevents import object_array, parse, resolve_rows
from eventstudy.exceptions import SessionAssumptionWarning
from eventstudy.foundation.validation import check_instance
from eventstudy.time.layout import CalendarSpec, Layout

__all__ = [
    "Catalog",
    "Hits",
    "catalog_positions",
    "in_windows",
    "window_hits",
    "excluded_days",
    "flag_contamination",
    "with_hits",
]


@dataclass
class Catalog:
    ids: np.ndarray  # (C,) event ids
    position: np.ndarray  # (C,) session row of each event's day 0 (-1 outside the data)
    ticker: np.ndarray  # (C,) ticker of firm-specific events, None for market-wide ones
    confounders: dict  # event id -> confounder text

    def groups(self):
        """(ticker or None, sorted positions, ids in that order): market-wide events, then each ticker's."""
        inside = np.flatnonzero(self.position >= 0)
        market_wide = pd.isna(self.ticker[inside])
        if market_wide.any():
            yield None, *self._sorted(inside[market_wide])
        rest = inside[~market_wide]
        # one stable sort by (ticker, position) for every ticker at once; tickers in order of appearance
        codes, uniques = pd.factorize(self.ticker[rest])
        order = rest[np.lexsort((self.position[rest], codes))]
        bounds = np.searchsorted(np.sort(codes), np.arange(len(uniques) + 1))
        for k, key in enumerate(uniques):
            members = order[bounds[k] : bounds[k + 1]]
            yield key, self.position[members], self.ids[members]

    def _sorted(self, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = members[np.argsort(self.position[members], kind="stable")]
        return self.position[order], self.ids[order]


def catalog_positions(
    catalog, events, firm_events, calendars: CalendarSpec, layout: Layout, *, located: np.ndarray | None = None
) -> Catalog:
    """Rows of the stacked axis holding each catalog event's day 0, on every block's exchange.

    A market-wide catalog event (no ``ticker``) is placed on each block's calendar with the one resolver of
    event time; a firm-specific one on its security's block only.  The study's own firm-events are placed
    where the study placed them (``located``: their rows, when the caller has them from
    :meth:`Layout.locate <eventstudy.time.layout.Layout.locate>`).
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
    frame = catalog.reset_index(drop=True)
    if id_column != "event_id":
        frame = frame.rename(columns={id_column: "event_id"})
    frame["event_id"] = frame["event_id"].astype(str)
    confounders = (
        dict(zip(frame["event_id"], frame["confounders"].fillna(""))) if "confounders" in frame.columns else {}
    )
    columns = pd.Index(layout.tickers)
    if catalog is firm_events:  # already placed: day 0 on each firm-event's own exchange
        position = located if located is not None else layout.locate(frame["ticker"], frame["day0"])[1]
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
            _, place = layout.locate(frame["ticker"].astype(str).to_numpy()[known], day0)
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
    return window_hits(catalog, day0, tickers, window).contaminated_by()


@dataclass(frozen=True, eq=False)
class Hits:
    """Contamination of N firm-events, kept as offsets into two id arrays; tuples are built when shown.

    A firm-event's catalog events are ``ids[market_lo:market_hi]`` (market-wide events) then
    ``ids[own_lo:own_hi]`` (its ticker's), each in day-0 order.  Its overlapping firm-events are the
    neighbours ``near_lo <= j < near_hi`` (itself, at ``position``, excluded) of ``neighbours``, the
    study's firm-events sorted by security and day 0: of one security, the firm-events whose event windows
    overlap a firm-event's are one run of that order.  With thousands of events per ticker there are
    hundreds of hits per firm-event; offsets cost four integers per firm-event, tuples hundreds of objects.
    """

    ids: np.ndarray
    market_lo: np.ndarray
    market_hi: np.ndarray
    own_lo: np.ndarray
    own_hi: np.ndarray
    neighbours: np.ndarray
    position: np.ndarray
    near_lo: np.ndarray
    near_hi: np.ndarray
    confounders_added: bool = False  # the catalog's confounders column was added after these two

    def take(self, rows) -> Hits:
        """The firm-events ``rows`` (positions or a mask); ids and neighbours are shared."""
        per_row = ("market_lo", "market_hi", "own_lo", "own_hi", "position", "near_lo", "near_hi")
        return replace(self, **{name: getattr(self, name)[rows] for name in per_row})

    def contaminated_by(self) -> list[tuple]:
        """Per firm-event, the ids of the catalog events in its window: market-wide first, then its ticker's."""
        ids = self.ids
        return [
            tuple(ids[a:b]) + tuple(ids[c:d]) if b > a or d > c else ()
            for a, b, c, d in zip(
                self.market_lo.tolist(), self.market_hi.tolist(), self.own_lo.tolist(), self.own_hi.tolist()
            )
        ]

    def overlaps(self) -> list[tuple]:
        """Per firm-event, the other firm-events of its ticker whose event windows overlap, nearest first
        (the one before, the one after, two before, ...)."""
        ids = self.neighbours
        out: list[tuple] = []
        for i, lo, hi in zip(self.position.tolist(), self.near_lo.tolist(), self.near_hi.tolist()):
            if hi - lo <= 1:
                out.append(())
                continue
            found = []
            for lag in range(1, max(i - lo, hi - 1 - i) + 1):
                if i - lag >= lo:
                    found.append(ids[i - lag])
                if i + lag < hi:
                    found.append(ids[i + lag])
            out.append(tuple(found))
        return out

    def any_contamination(self) -> np.ndarray:
        return (self.market_hi > self.market_lo) | (self.own_hi > self.own_lo)

    def groups_hit(self, groups: np.ndarray, n_groups: int, own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per group of firm-events (``groups`` as in :meth:`by_group`): whether a catalog event other than
        the group's own (``own[g]``) lies in a window of its firm-events, and whether one of its firm-events
        overlaps another, without building :meth:`by_group`'s lists: the first is True exactly where the
        group's list of catalog events holds an id other than its own, the second where its list of
        overlapping firm-events is not empty.  Catalog rows without an id count for neither, as in
        :meth:`by_group`."""
        hit, ids = self._catalog_hits(groups)
        other = (ids != own[hit]) & ~pd.isna(ids)
        contaminated = np.bincount(hit[other], minlength=n_groups) > 0
        itself = (self.position >= self.near_lo) & (self.position < self.near_hi)
        near = self.near_hi - self.near_lo - itself > 0
        return contaminated, np.bincount(groups[near], minlength=n_groups) > 0

    def _catalog_hits(self, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every (group, catalog id) pair of a catalog event in a window of the group's firm-events (the
        market's and the own ranges), as two arrays, one entry per hit."""
        ranges = [(self.market_lo, self.market_hi), (self.own_lo, self.own_hi)]
        rows = np.concatenate([_rows(lo, hi) for lo, hi in ranges])
        return groups[rows], self.ids[np.concatenate([_positions(lo, hi) for lo, hi in ranges])]

    def by_group(self, groups: np.ndarray, n_groups: int) -> tuple[list[list], list[list]]:
        """Per group of firm-events (``groups``, codes ``0 .. n_groups - 1`` per firm-event): the distinct
        catalog ids in their windows and the distinct ids of their overlapping firm-events, each sorted.

        The offsets are expanded into one array of (group, id) pairs and made unique at once, so the cost is
        that of the hits, with no tuple per firm-event.
        """
        contaminated = _distinct(*self._catalog_hits(groups), n_groups)
        near = _positions(self.near_lo, self.near_hi)
        owner = _rows(self.near_lo, self.near_hi)
        other = near != self.position[owner]
        return contaminated, _distinct(groups[owner[other]], self.neighbours[near[other]], n_groups)


def _rows(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The row of each position of the ranges ``lo[i] <= p < hi[i]``, in order."""
    return np.repeat(np.arange(len(lo)), np.maximum(hi - lo, 0))


def _positions(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Every position of the ranges ``lo[i] <= p < hi[i]``, row after row."""
    lengths = np.maximum(hi - lo, 0)
    starts = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(starts - lo, lengths)


def _distinct(groups: np.ndarray, values: np.ndarray, n_groups: int) -> list[list]:
    """Per group code, the distinct ``values`` paired with it, sorted."""
    out: list[list] = [[] for _ in range(n_groups)]
    codes, names = pd.factorize(values, sort=True)  # a missing value: -1, left out (it names no event)
    groups, codes = groups[codes >= 0], codes[codes >= 0]
    if not len(codes):
        return out
    pairs = np.unique(groups.astype(np.int64) * len(names) + codes)
    owner, which = np.divmod(pairs, len(names))
    starts = np.append(0, np.flatnonzero(np.diff(owner)) + 1)
    stops = np.append(starts[1:], len(pairs))
    found = names[which].tolist()
    for group, start, stop in zip(owner[starts].tolist(), starts.tolist(), stops.tolist()):
        out[group] = found[start:stop]
    return out


def window_hits(
    catalog: Catalog,
    day0: np.ndarray,
    tickers: np.ndarray | pd.Series,
    window: tuple[int, int],
    firm: np.ndarray | None = None,
    event_ids: np.ndarray | None = None,
    event_window: tuple[int, int] | None = None,
) -> Hits:
    """:class:`Hits` of the catalog events whose day 0 lies in ``day0 + window`` (binary search in each
    group's sorted positions) and, given ``firm``, ``event_ids`` and ``event_window``, of the firm-events of
    one security whose event windows overlap."""
    n = len(day0)
    market_lo, market_hi = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    pieces: list[np.ndarray] = []
    inside = np.flatnonzero(catalog.position >= 0)
    market_wide = pd.isna(catalog.ticker[inside])
    if market_wide.any():  # every firm-event searches the market-wide events
        positions, ids = catalog._sorted(inside[market_wide])
        market_lo[:] = np.searchsorted(positions, day0 + window[0], side="left")
        market_hi[:] = np.searchsorted(positions, day0 + window[1], side="right")
        pieces.append(ids)
    offset = sum(map(len, pieces))
    own_ids, own_lo, own_hi = _own_hits(catalog, inside[~market_wide], day0, tickers, window)
    own_lo += offset
    own_hi += offset
    ids = np.concatenate([*pieces, own_ids])
    if firm is None:
        empty = np.zeros(n, dtype=np.int64)
        return Hits(ids, market_lo, market_hi, own_lo, own_hi, np.array([], dtype=object), empty, empty, empty)
    if event_window is None:
        raise TypeError("window_hits needs the 'event_window' to match the firm-events of 'firm'.")
    lo_day, hi_day = event_window
    width = hi_day - lo_day
    # windows overlap when day 0s are at most `width` apart; one security's run of such neighbours is a slice
    key = firm.astype(np.int64) * (1 << 32) + day0
    order = np.argsort(key, kind="stable")  # by security, then day 0 (a lexsort, but faster)
    key_sorted = key[order]
    near_lo = np.searchsorted(key_sorted, key_sorted - width, side="left")
    near_hi = np.searchsorted(key_sorted, key_sorted + width, side="right")
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    unsorted_lo, unsorted_hi = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    unsorted_lo[order], unsorted_hi[order] = near_lo, near_hi
    neighbours = np.asarray(event_ids, dtype=object)[order]
    return Hits(ids, market_lo, market_hi, own_lo, own_hi, neighbours, position, unsorted_lo, unsorted_hi)


def _own_hits(catalog: Catalog, members: np.ndarray, day0: np.ndarray, tickers, window):
    """The firm-specific catalog events ``members`` sorted by ticker (in order of appearance), then by day 0
    (stably), as ``(ids, lo, hi)``: each firm-event's events are ``ids[lo:hi]``, those of its ticker whose
    day 0 lies in ``day0 + window``.

    One binary search for all tickers at once: an event's key is its ticker's code times a stride wider than
    the session axis plus its position, so each ticker's events are one run of the sorted keys, and a query
    clipped to just outside the positions cannot reach a neighbouring ticker's run.
    """
    n = len(day0)
    codes, uniques = pd.factorize(catalog.ticker[members])
    positions = catalog.position[members].astype(np.int64)
    top = int(positions.max(initial=0)) + 1
    stride = top + 2  # positions 0..top-1 and queries clipped to -1..top, all shifted by one: 0..top+1
    keys = codes.astype(np.int64) * stride + positions + 1
    order = np.argsort(keys, kind="stable")  # by ticker, then day 0, then catalog order (a lexsort, but faster)
    ids, keys = catalog.ids[members[order]], keys[order]
    if not len(members) or not n:
        return ids, np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    # each firm-event's ticker code among the catalog's: one look-up per distinct ticker
    own, names = pd.factorize(pd.Series(tickers, copy=False) if not isinstance(tickers, pd.Series) else tickers)
    lookup = {name: k for k, name in enumerate(uniques)}
    code = np.array([lookup.get(name, -1) for name in names.tolist()], dtype=np.int64)[
        own
    ]  # -1: no event of that ticker
    found = code >= 0
    base = np.where(found, code, 0).astype(np.int64) * stride + 1
    lo = np.searchsorted(keys, base + np.clip(day0 + window[0], -1, top), side="left")
    hi = np.searchsorted(keys, base + np.clip(day0 + window[1], -1, top), side="right")
    return ids, np.where(found, lo, 0), np.where(found, hi, 0)


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


def flag_contamination(kept: pd.DataFrame, fit, catalog: Catalog, estimation_window, event_window):
    """``kept`` with the catalog's ``confounders``, and the :class:`Hits` behind ``contaminated_by`` (catalog
    events whose day 0 falls in the estimation window) and ``overlaps`` (other firm-events of the same
    ticker whose event windows overlap), which :func:`with_hits` adds as columns when a table is shown."""
    kept = kept.copy(deep=False)  # a column is added or replaced, none changed in place
    ids = kept["event_id"].to_numpy(dtype=object)
    hits = window_hits(catalog, fit.day0, kept["ticker"], estimation_window, fit.firm, ids, event_window)
    if "confounders" not in kept.columns:
        codes, names = pd.factorize(kept["event_id"])  # one look-up per event, not per firm-event
        looked = [catalog.confounders.get(name, "") for name in names.tolist()]
        column = pd.Series(object_array(looked)[codes], index=kept.index, dtype=object)
        # as the column would read after astype(object).fillna(""): objects, no missing value
        missing = any(pd.api.types.is_scalar(value) and pd.isna(value) for value in looked)
        kept["confounders"] = column.fillna("") if missing else column
        return kept, replace(hits, confounders_added=True)
    kept["confounders"] = kept["confounders"].astype(object).fillna("")
    return kept, hits


def with_hits(firm_events: pd.DataFrame, hits: Hits | None) -> pd.DataFrame:
    """``firm_events`` with ``contaminated_by`` and ``overlaps`` as columns of tuples, before ``confounders``."""
    if hits is None:
        return firm_events.copy()
    last = hits.confounders_added and "confounders" in firm_events.columns
    table = firm_events.drop(columns="confounders") if last else firm_events.copy()
    table["contaminated_by"] = hits.contaminated_by()
    table["overlaps"] = hits.overlaps()
    if last:
        table["confounders"] = firm_events["confounders"].to_numpy()
    return table
