"""Where each security trades and what it is measured against: the study's blocks of sessions.

Every security counts event time in its own exchange's sessions and is regressed on benchmark returns
taken on those sessions.  Securities that share an exchange and a benchmark list form a **block**.  The
estimation engine works on one matrix per quantity (returns, regressors, usable days), so the blocks are
stacked along the time axis: block ``b`` owns rows ``start_b .. start_b + T_b - 1``, the sessions of its
exchange; a security's column is NaN outside its block; the regressor columns hold, in each block, that
block's own benchmarks.  Blocks are separated by :attr:`Layout.pad` empty rows (at least the relative-day
grid), so that no window of one block can read another block's rows.  Day 0 of a firm-event is then a row
of this stacked axis, and every vectorized step (window sums, gathers, tests) works unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventstudy.foundation.exchanges import exchange_of, sessions_code
from eventstudy.time.calendar import TradingCalendar, as_calendar

__all__ = ["same_sessions", "calendar_of", "CalendarSpec", "MarketSpec", "Block", "Layout"]


def same_sessions(a: str, b: str) -> bool:
    """Whether two exchange codes keep the same sessions (NYSE and Nasdaq do; Shenzhen and Shanghai do), by
    :data:`~eventstudy.foundation.exchanges.SESSIONS_OF`."""
    return sessions_code(a) == sessions_code(b)


@functools.lru_cache(maxsize=64)
def _calendar(code: str, unknown_session: str) -> TradingCalendar:
    return TradingCalendar(code, unknown_session=unknown_session)  # type: ignore[arg-type]


def calendar_of(code: str, unknown_session: str = "pre") -> TradingCalendar:
    """The :class:`TradingCalendar` of an exchange code, built once per process."""
    return _calendar(code, unknown_session)


class CalendarSpec:
    """Which exchange each security trades on: ``"auto"`` (from its symbol), one calendar for all, or a
    mapping ``{ticker: code}`` over ``"auto"``.

    Parameters
    ----------
    calendar
        ``"auto"``; an exchange code or :class:`TradingCalendar` used for every security; or a mapping.
    unknown_session
        The day-0 rule of a calendar built here from a code.
    """

    def __init__(self, calendar, *, unknown_session: str | None = None) -> None:
        self.overrides: dict[str, str] = {}
        self.single: TradingCalendar | None = None
        self._exchanges: dict[str, str] = {}  # ticker -> code, as found (the study asks for each ticker thrice)
        if isinstance(calendar, Mapping):
            for ticker, code in calendar.items():
                if not isinstance(code, str):
                    raise TypeError(
                        f"The 'calendar' mapping must map tickers to exchange codes such as 'XTKS'. Got {code!r} "
                        f"for {ticker!r}."
                    )
                calendar_of(code)  # an unknown code fails here, naming it
            self.overrides = {str(t): str(c) for t, c in calendar.items()}
        elif isinstance(calendar, str) and calendar.lower() == "auto":
            pass
        else:
            self.single = as_calendar(calendar, unknown_session=unknown_session)  # type: ignore[arg-type]
        self.unknown_session = self.single.unknown_session if self.single is not None else (unknown_session or "pre")

    def argument(self):
        """What :func:`eventstudy.returns` takes as ``calendar`` for the same placement."""
        if self.single is not None:
            return self.single
        return dict(self.overrides) if self.overrides else "auto"

    @property
    def name(self) -> str:
        """``"auto"``, or the one calendar's code."""
        return self.single.name if self.single is not None else "auto"

    def exchange(self, ticker: str) -> str:
        """The exchange code of ``ticker`` (the one calendar's, when one was given); each ticker read once."""
        if self.single is not None:
            return self.single.name
        code = self._exchanges.get(ticker)
        if code is None:
            code = self._exchanges[ticker] = exchange_of(ticker, self.overrides)
        return code

    def calendar(self, code: str) -> TradingCalendar:
        """The calendar of an exchange code (the one given, when one was)."""
        if self.single is not None:
            return self.single
        return calendar_of(code, self.unknown_session)


class MarketSpec:
    """The benchmark(s) of each security: one ticker or list for all, or a mapping by ticker or exchange code.

    ``{"XNYS": "SPY", "XTKS": "^N225", "0981.HK": "^HSI"}``: a ticker's own key wins over its exchange's.
    """

    def __init__(self, market) -> None:
        if isinstance(market, Mapping):
            if not market:
                raise ValueError("The 'market' mapping is empty: map tickers or exchange codes to benchmarks.")
            self.mapping = {str(k): _as_tuple(v, f"market[{k!r}]") for k, v in market.items()}
            self.single = None
        else:
            self.single = _as_tuple(market, "market")
            self.mapping = {}

    def of(self, ticker: str, exchange: str) -> tuple[str, ...]:
        """The benchmarks of ``ticker`` listed on ``exchange``."""
        if self.single is not None:
            return self.single
        if ticker in self.mapping:
            return self.mapping[ticker]
        if exchange in self.mapping:
            return self.mapping[exchange]
        for key, value in self.mapping.items():  # an exchange keeping the same sessions (Nasdaq: NYSE's key)
            if same_sessions(key, exchange):
                return value
        raise KeyError(
            f"The 'market' mapping has no benchmark for {ticker!r} (exchange {exchange}); add {ticker!r} or "
            f"{exchange!r} to it, e.g. market={{..., {exchange!r}: '<local index>'}}."
        )

    def all(self) -> list[str]:
        """Every benchmark named, in order, once."""
        values = [self.single] if self.single is not None else list(self.mapping.values())
        return list(dict.fromkeys(name for names in values for name in names))

    def describe(self):
        return list(self.single) if self.single is not None else {k: list(v) for k, v in self.mapping.items()}


def _as_tuple(value, name: str) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, Sequence) else None
    if names is None or not all(isinstance(m, str) for m in names):
        raise TypeError(f"The {name!r} parameter must be a ticker or a list of tickers. Got {value!r}.")
    return names


@dataclass(frozen=True, eq=False)
class Block:
    """Securities that share an exchange and benchmarks, on that exchange's sessions."""

    exchange: str
    calendar: TradingCalendar
    benchmarks: tuple[str, ...]
    tickers: tuple[str, ...]
    sessions: pd.DatetimeIndex
    start: int  # first row of the block in the stacked axis

    @property
    def stop(self) -> int:
        return self.start + len(self.sessions)


@dataclass(frozen=True, eq=False)
class Layout:
    """The stacked time axis of a study's blocks.

    Attributes
    ----------
    blocks : list of Block
    rows : DatetimeIndex
        The session of each row of the stacked axis (NaT on the padding between blocks).
    tickers : list of str
        The securities, one column each, in block order.
    column_block : ndarray of int
        Block of each security column.
    pad : int
        Empty rows between blocks.
    """

    blocks: list[Block]
    rows: pd.DatetimeIndex
    tickers: list[str]
    column_block: np.ndarray
    pad: int

    @classmethod
    def build(cls, groups: Sequence[tuple[str, TradingCalendar, tuple[str, ...], Sequence[str]]], first, last, pad):
        """Blocks for ``(exchange, calendar, benchmarks, tickers)`` groups, each on its sessions from
        ``first`` to ``last`` (clipped to the calendar)."""
        blocks: list[Block] = []
        pieces: list[np.ndarray] = []
        start = 0
        tickers: list[str] = []
        column_block: list[int] = []
        for b, (exchange, calendar, benchmarks, names) in enumerate(groups):
            lo, hi = max(pd.Timestamp(first), calendar.start), min(pd.Timestamp(last), calendar.end)
            sessions = calendar.sessions_in_range(lo, hi) if lo <= hi else calendar.sessions[:0]
            if b:
                pieces.append(np.full(pad, np.datetime64("NaT"), dtype="M8[ns]"))
                start += pad
            blocks.append(Block(exchange, calendar, tuple(benchmarks), tuple(names), sessions, start))
            pieces.append(sessions.to_numpy())
            start += len(sessions)
            tickers.extend(names)
            column_block.extend([b] * len(names))
        rows = pd.DatetimeIndex(np.concatenate(pieces) if pieces else np.array([], dtype="M8[ns]"), name="Date")
        return cls(blocks, rows, tickers, np.asarray(column_block, dtype=np.int64), pad)

    def spans(self) -> np.ndarray:
        """(M, 2) first and one-past-last row of each security column's block."""
        starts = np.array([b.start for b in self.blocks], dtype=np.int64)
        stops = np.array([b.stop for b in self.blocks], dtype=np.int64)
        return np.stack([starts[self.column_block], stops[self.column_block]], axis=1)

    def place(self, block: int, dates) -> np.ndarray:
        """Rows of ``dates`` in block ``block`` (-1 where a date is not one of its sessions)."""
        b = self.blocks[block]
        found = b.sessions.get_indexer(pd.DatetimeIndex(dates))
        return np.where(found >= 0, found + b.start, -1)

    def locate(self, tickers, dates) -> tuple[np.ndarray, np.ndarray]:
        """Column of each ticker and row of each date in that ticker's block (-1 where either is missing),
        one vectorized lookup per block."""
        # one look-up per distinct ticker (thousands of firm-events share a few hundred securities)
        codes, names = pd.factorize(tickers if isinstance(tickers, pd.Series) else np.asarray(tickers, dtype=object))
        column = {name: k for k, name in enumerate(self.tickers)}
        # the last entry, -1, is taken by the code of a missing ticker (-1 too): no column
        firm = np.array([column.get(name, -1) for name in names.tolist()] + [-1], dtype=np.intp)[codes]
        dates = pd.DatetimeIndex(dates)
        rows = np.full(len(firm), -1, dtype=np.int64)
        block_of = self.column_block[np.maximum(firm, 0)] if len(self.column_block) else np.zeros(len(firm), int)
        for b in range(len(self.blocks)):
            mine = np.flatnonzero((firm >= 0) & (block_of == b))
            rows[mine] = self.place(b, dates[mine])
        return firm, rows

    def stack(self, per_block) -> np.ndarray:
        """One (T, ...) array from a function of each block giving its (T_b, ...) array; NaN on the padding."""
        parts = [np.asarray(per_block(b), dtype=float) for b in self.blocks]
        shape = parts[0].shape[1:] if parts else ()
        out = np.full((len(self.rows), *shape), np.nan)
        for b, part in zip(self.blocks, parts):
            out[b.start : b.stop] = part
        return out
