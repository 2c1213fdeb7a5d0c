"""The study run: events, prices, one fit per specification, and the tables every writer reads.

Nothing here draws or writes a file: :func:`run_study` returns a :class:`Report` that the figures
(:mod:`.figures`), the extra sections (:mod:`.sections`) and the writers (:mod:`.writing`) read.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from eventstudy.data import CsvSource, PriceSource, default_source
from eventstudy.exceptions import SessionAssumptionWarning
from eventstudy.report.config import ReportConfig
from eventstudy.report.provenance import describe_source
from eventstudy.results.results import EventStudyResults
from eventstudy.results.study import EventStudy, required_span
from eventstudy.time.calendar import TradingCalendar
from eventstudy.time.events import load_events
from eventstudy.time.returns import returns as to_returns

__all__ = ["StudyRun", "Report", "run_study", "Progress", "NoProgress"]

Window = tuple[int, int]


class Progress(Protocol):
    """What the run needs of a progress bar (tqdm's ``update`` and ``set_postfix_str``)."""

    def update(self, n: float | None = 1) -> bool | None: ...

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    """A progress bar that shows nothing (``--no-progress``, :func:`build_study`)."""

    def update(self, n: float | None = 1) -> bool | None:
        return None

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        return None

    def close(self) -> None:
        return None


class FirstRows:
    """The first row of ``table`` for each value of ``columns``, found by a dict: the report's text looks up
    dozens of rows, and a boolean mask over the table for each cost about a millisecond."""

    def __init__(self, table: pd.DataFrame, columns: Sequence[str]) -> None:
        self.table = table
        self.first: dict[tuple, int] = {}
        for position, key in enumerate(zip(*(table[c] for c in columns))):
            self.first.setdefault(key, position)

    def get(self, *key) -> pd.Series | None:
        position = self.first.get(key)
        return None if position is None else self.table.iloc[position]


@dataclass
class StudyRun:
    """One specification of the report, its results, and the tables every writer reads (computed once)."""

    label: str
    benchmark: tuple[str, ...]
    model: str
    results: EventStudyResults
    car: dict[Window, pd.DataFrame] = field(default_factory=dict)  # window -> res.car(window)
    tests: pd.DataFrame = field(default_factory=pd.DataFrame)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # name -> DataFrame (ar, bhar, aar, params, ...)
    _car_rows: dict[Window, FirstRows] = field(default_factory=dict, repr=False, compare=False)

    def tabulate(self, windows: Sequence[Window]) -> StudyRun:
        res = self.results
        self.car = {w: res.car(w) for w in windows}
        self._car_rows = {}
        self.tests = res.tests(list(windows))
        self.tables = {
            "ar": res.ar,
            "bhar": res.bhar(),
            "aar": res.aar,
            "params": res.params,
            "decompose": res.decompose((0, 0)),
            "dropped": res.dropped,
            "firm_events": res.firm_events,
        }
        return self

    def car_of(self, window: Window, event_id: str, ticker: str) -> pd.Series | None:
        """The ``car()`` row of one firm-event, or None when it was dropped."""
        if window not in self._car_rows:
            self._car_rows[window] = FirstRows(self.car[window], ("event_id", "ticker"))
        return self._car_rows[window].get(event_id, ticker)

    @property
    def pooled_tests(self) -> pd.DataFrame:
        return self.tests[self.tests["scope"] != "single"]


@dataclass
class Report:
    """Everything one report run computed, and what the writers add as they go (file names, sections)."""

    config: ReportConfig
    events: pd.DataFrame
    catalog: pd.DataFrame
    prices: pd.DataFrame
    returns: pd.DataFrame
    runs: list[StudyRun]
    source: dict[str, Any]  # the price source's description, paths relative to the report folder
    source_object: PriceSource  # the PriceSource the study read (the extra sections read it again)
    raw_moves: pd.DataFrame = field(default_factory=pd.DataFrame)
    reported: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    figures: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    sections: list[str] = field(default_factory=list)  # Markdown of the extra sections
    #: folders of daily prices the run has open, each source keeping the checked files it read: the extra
    #: sections read some files again (the focus stocks, the non-US listings behind the intraday gaps)
    daily_sources: dict[Path, CsvSource] = field(default_factory=dict)

    def daily_source(self, folder: Path) -> CsvSource:
        """The run's source of ``folder``, opened (keeping what it reads) on first use."""
        key = folder.resolve()
        if key not in self.daily_sources:
            self.daily_sources[key] = _keeping(CsvSource(folder))
        return self.daily_sources[key]


def run_study(config: ReportConfig, source: PriceSource | None, bar: Progress) -> Report:
    """Load the events and prices of ``config``, fit every specification and tabulate each fit."""
    if not config.tickers:
        raise ValueError(
            f"the study {config.name!r} names no tickers: give tickers = [...] in its study file, or --tickers"
        )
    bar.set_postfix_str("events")
    calendar = TradingCalendar(unknown_session=config.unknown_session)
    with warnings.catch_warnings():
        # warn below about the studied events only, not every catalog event of unknown session
        warnings.simplefilter("ignore", SessionAssumptionWarning)
        catalog = load_events(config.catalog, calendar=calendar)
    events = pick_events(catalog, config.events)
    unknown = events[events["session"] == "unknown"]
    if len(unknown):
        rule = "the first session on or after" if config.unknown_session == "pre" else "the session after"
        warnings.warn(
            "Release session unknown for "
            + ", ".join(f"{e.id} (day 0 {e.day0:%Y-%m-%d})" for e in unknown.itertuples())
            + f": day 0 is {rule} the date. Check with --unknown-session post, or read the (-1,+1) window.",
            SessionAssumptionWarning,
            stacklevel=2,
        )
    bar.update()

    bar.set_postfix_str("prices")
    if source is None:
        # the extra sections read some of the same files again: keep the checked rows
        source = _keeping(CsvSource(config.prices_dir)) if config.prices_dir else default_source()
    specs = config.specifications
    needed = list(dict.fromkeys([*config.tickers, *(t for _, bench, _ in specs for t in bench)]))
    start, end = required_span(events[["day0"]], config.estimation_window, config.event_window, calendar)
    prices = source.get_prices(needed, start, end, field=config.price_field)
    rets = to_returns(prices, config.return_kind, calendar=calendar)
    bar.update()

    runs = []
    for label, bench, model in specs:
        bar.set_postfix_str(label)
        study = EventStudy(
            events,
            rets,
            tickers=list(config.tickers),
            market=bench[0] if len(bench) == 1 else list(bench),
            model=model,
            estimation_window=config.estimation_window,
            event_window=config.event_window,
            calendar=calendar,
            catalog=catalog,
            exclude_events=config.exclude_events,
            name=f"{config.name} {label}",
        )
        run = StudyRun(label=label, benchmark=bench, model=model, results=study.fit())
        runs.append(run.tabulate(config.table_windows))
        bar.update()
    report = Report(
        config=config,
        events=events,
        catalog=catalog,
        prices=prices,
        returns=rets,
        runs=runs,
        source=describe_source(source, config.out_dir),
        source_object=source,
        reported=reported_moves(config.reported_moves, events, rets) if config.reported_moves else None,
    )
    report.raw_moves = raw_moves(events, rets)
    if isinstance(source, CsvSource) and source.path.is_dir():
        report.daily_sources[source.path] = source
    return report


def _keeping(source: CsvSource) -> CsvSource:
    source._kept_history = {}  # each file read is parsed and checked once, whatever ranges are asked of it
    return source


def pick_events(catalog: pd.DataFrame, wanted: Sequence[str]) -> pd.DataFrame:
    """The rows of ``catalog`` whose id is in ``wanted`` (all of them when ``wanted`` is empty)."""
    if not wanted:
        return catalog
    unknown = [w for w in wanted if w not in set(catalog["id"])]
    if unknown:
        hints = {u: difflib.get_close_matches(u, list(catalog["id"]), n=1) for u in unknown}
        hint = "; ".join(f"{u!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for u, h in hints.items())
        raise KeyError(f"unknown event id {hint}; 'eventstudy events list' shows the ids")
    return catalog[catalog["id"].isin(wanted)].reset_index(drop=True)


def reported_moves(path: str, events: pd.DataFrame, rets: pd.DataFrame) -> pd.DataFrame:
    """Press-reported close-to-close moves for the studied events next to the returns in the data."""
    try:
        reported = pd.read_csv(path)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"The reported-moves file {path} is not UTF-8 text (byte {exc.object[exc.start : exc.start + 1]!r} at "
            f"position {exc.start}, e.g. a Latin-1 accent). Save it as 'CSV UTF-8'."
        ) from None
    required = {"event_id", "trade_date", "ticker", "move_pct", "basis"}
    if not required <= set(reported.columns):
        raise KeyError(f"{path} needs columns {sorted(required)}; it has {list(reported.columns)}")
    reported = reported[reported["event_id"].isin(events["id"])].copy()
    reported["trade_date"] = pd.to_datetime(reported["trade_date"])
    reported["move_pct"] = pd.to_numeric(
        reported["move_pct"].astype(str).str.replace("+", "", regex=False), errors="coerce"
    )
    computed = []
    for date, ticker in zip(reported["trade_date"], reported["ticker"]):
        value = rets[ticker].get(date, np.nan) if ticker in rets.columns else np.nan
        computed.append(100 * value)
    reported["data_pct"] = computed
    reported["difference_pp"] = reported["data_pct"] - reported["move_pct"]
    columns = ["event_id", "trade_date", "ticker", "basis", "move_pct", "data_pct", "difference_pp"]
    return reported[columns].reset_index(drop=True)


def raw_moves(events: pd.DataFrame, rets: pd.DataFrame, days: Window = (-2, 2)) -> pd.DataFrame:
    """Raw returns of every ticker and benchmark on the days around each event's day 0."""
    rows = []
    sessions = rets.index
    for event_id, day0 in zip(events["id"], events["day0"]):
        centre = sessions.get_indexer(pd.DatetimeIndex([day0]))[0]
        for offset in range(days[0], days[1] + 1):
            if 0 <= centre + offset < len(sessions):
                date = sessions[centre + offset]
                rows.append({"event_id": event_id, "event_time": offset, "date": date, **rets.loc[date].to_dict()})
    return pd.DataFrame(rows)
