"""The study run: events, prices, one fit per specification, and the tables every writer reads.

Nothing here draws or writes a file: :func:`run_study` returns a :class:`Report` that the figures
(:mod:`.figures`), the extra sections (:mod:`.sections`) and the writers (:mod:`.writing`) read.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from eventstudy.data import CsvSource, PriceSource, default_source
from eventstudy.estimation.models import DataNeeds, get_model
from eventstudy.exceptions import DataQualityWarning, DataSourceError, EstimationError, SessionAssumptionWarning
from eventstudy.report._text import rule_text
from eventstudy.report.config import ReportConfig
from eventstudy.report.provenance import describe_source, report_root
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
        """The ``car()`` row of one firm-event, or None when it was dropped (a window the tables do not show,
        such as day 0 for the headline, is computed here and not added to ``car``)."""
        if window not in self._car_rows:
            table = self.car[window] if window in self.car else self.results.car(window)
            self._car_rows[window] = FirstRows(table, ("event_id", "ticker"))
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
    source: dict[str, Any]  # the price source's description, paths relative to report_root()
    source_object: PriceSource  # the PriceSource the study read (the extra sections read it again)
    raw_moves: pd.DataFrame = field(default_factory=pd.DataFrame)
    reported: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    figures: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    sections: list[str] = field(default_factory=list)  # Markdown of the extra sections
    #: events whose release session is unknown, with day 0 by the other rule than the study's
    #: (``unknown_session``): the report shows both candidate day 0s side by side
    alternate_events: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: one fit per specification of :attr:`alternate_events` (same labels, benchmarks and windows as ``runs``)
    alternates: list[StudyRun] = field(default_factory=list)
    #: the firm-events of :attr:`alternate_events` dropped at their other candidate day 0, with ``benchmark``
    #: (also when no firm-event could be estimated there, and :attr:`alternates` is then empty)
    alternate_dropped: pd.DataFrame = field(default_factory=pd.DataFrame)
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
    """Load the events and prices of ``config``, fit every specification and tabulate each fit.

    An events file with a ``ticker`` column holds firm-events (each event for its own firms, as
    :class:`~eventstudy.EventStudy` takes them): ``config.tickers``, when given, keeps those tickers only;
    otherwise every event is crossed with ``config.tickers``.
    """
    bar.set_postfix_str("events")
    calendar = TradingCalendar(unknown_session=config.unknown_session)
    with warnings.catch_warnings():
        # warn below about the studied events only, not every catalog event of unknown session
        warnings.simplefilter("ignore", SessionAssumptionWarning)
        catalog = load_events(config.catalog, calendar=calendar, naive_tz=config.naive_tz)
    firm_specific = "ticker" in catalog.columns
    pairs = pick_events(catalog, config.events)
    if firm_specific:
        pairs = _firm_specific(pairs, config)
        config = replace(config, tickers=config.tickers or tuple(dict.fromkeys(pairs["ticker"])))
        catalog = catalog.drop(columns="ticker").drop_duplicates("id").reset_index(drop=True)
    elif not config.tickers:
        raise ValueError(
            f"the study {config.name!r} names no tickers: give tickers = [...] in its study file, or --tickers, "
            f"or a 'ticker' column in its events file {_file_name(config.catalog)} (one row per firm-event)"
        )
    events = pairs.drop(columns="ticker").drop_duplicates("id").reset_index(drop=True) if firm_specific else pairs
    unknown = events[events["session"] == "unknown"]
    other: Literal["pre", "post"] = "post" if config.unknown_session == "pre" else "pre"
    other_calendar = TradingCalendar(unknown_session=other)
    alternate = alt_pairs = pd.DataFrame()
    if len(unknown):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SessionAssumptionWarning)
            alt_catalog = load_events(config.catalog, calendar=other_calendar, naive_tz=config.naive_tz)
        alt_pairs = pick_events(alt_catalog, list(unknown["id"]))
        if firm_specific:  # the same firm-events, at the other candidate day 0
            keep = set(zip(pairs["id"], pairs["ticker"]))
            alt_pairs = alt_pairs[[(i, t) in keep for i, t in zip(alt_pairs["id"], alt_pairs["ticker"])]]
            alternate = alt_pairs.drop(columns="ticker").drop_duplicates("id").reset_index(drop=True)
        else:
            alternate = alt_pairs
        rule = rule_text(config.unknown_session)
        # released on a day without a session (a weekend, a holiday): the same first session either way
        differs = [e.day0 != a for e, a in zip(unknown.itertuples(), alternate["day0"])]
        warnings.warn(
            "Release session unknown for "
            + ", ".join(
                f"{e.id} (day 0 {e.day0:%Y-%m-%d}, or {a:%Y-%m-%d} with --unknown-session {other})"
                if two
                else f"{e.id} (day 0 {e.day0:%Y-%m-%d} with either --unknown-session)"
                for e, a, two in zip(unknown.itertuples(), alternate["day0"], differs)
            )
            + f": day 0 is {rule} the date"
            + ("; the report shows both candidate day 0s." if any(differs) else "."),
            SessionAssumptionWarning,
            stacklevel=2,
        )
        two_day0s = set(alternate["id"][differs])
        alternate = alternate[alternate["id"].isin(two_day0s)].reset_index(drop=True)
        alt_pairs = alt_pairs[alt_pairs["id"].isin(two_day0s)]
    bar.update()

    bar.set_postfix_str("prices")
    if source is None:
        # the extra sections read some of the same files again: keep the checked rows
        source = _keeping(CsvSource(config.prices_dir)) if config.prices_dir else default_source()
    specs = config.specifications
    needed = list(dict.fromkeys([*config.tickers, *(t for _, bench, _ in specs for t in bench)]))
    if firm_specific and isinstance(source, CsvSource):
        _check_available(source, list(config.tickers), config.catalog)
    # the widest leads and lags of the models fitted (Dimson's market returns around each day), around both
    # candidate day 0s of an event of unknown release session
    lags = max((get_model(model).needs().lags for _, _, model in specs), default=0)
    leads = max((get_model(model).needs().leads for _, _, model in specs), default=0)
    day0s = pd.concat([events[["day0"]], alternate[["day0"]]]) if len(alternate) else events[["day0"]]
    start, end = required_span(
        day0s, config.estimation_window, config.event_window, calendar, DataNeeds(lags=lags, leads=leads)
    )
    prices = _prices(source, needed, list(config.tickers), start, end, config)
    rets = to_returns(prices, config.return_kind, calendar=calendar)
    bar.update()

    def fit(label: str, bench: tuple[str, ...], model: str, studied: pd.DataFrame, on: TradingCalendar) -> StudyRun:
        study = EventStudy(
            studied,
            rets,
            tickers=None if firm_specific else list(config.tickers),
            market=bench[0] if len(bench) == 1 else list(bench),
            model=model,
            estimation_window=config.estimation_window,
            event_window=config.event_window,
            calendar=on,
            catalog=catalog,
            exclude_events=config.exclude_events,
            min_estimation_obs=config.min_estimation_obs,
            align_benchmarks=config.align_benchmarks,
            naive_tz=config.naive_tz,
            name=f"{config.name} {label}",
        )
        return StudyRun(label=label, benchmark=bench, model=model, results=study.fit())

    runs, alternates, alternate_dropped, unestimable = [], [], [], False
    for label, bench, model in specs:
        bar.set_postfix_str(label)
        runs.append(
            fit(label, bench, model, pairs if firm_specific else events, calendar).tabulate(config.table_windows)
        )
        if len(alternate):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SessionAssumptionWarning)  # said once above
                studied = alt_pairs if firm_specific else alternate
                try:
                    reading = fit(label, bench, model, studied, other_calendar)
                except EstimationError as error:  # nothing to show at the other day 0: the Dropped list says why
                    unestimable = True
                    alternate_dropped.append(error.dropped.assign(benchmark=label))
                else:
                    alternates.append(reading.tabulate(config.table_windows))
                    alternate_dropped.append(reading.results.dropped.assign(benchmark=label))
        bar.update()
    if unestimable:  # no reading at the other candidate day 0 to set beside the study's
        alternates, alternate = [], alternate.iloc[:0]
    report = Report(
        config=config,
        events=events,
        catalog=catalog,
        prices=prices,
        returns=rets,
        runs=runs,
        source=describe_source(source, report_root(config.out_dir), given=config.prices_dir),
        source_object=source,
        reported=reported_moves(config.reported_moves, events, rets) if config.reported_moves else None,
        alternate_events=alternate,
        alternates=alternates,
        alternate_dropped=pd.concat(alternate_dropped, ignore_index=True) if alternate_dropped else pd.DataFrame(),
    )
    report.raw_moves = raw_moves(events, rets)
    if isinstance(source, CsvSource) and source.path.is_dir():
        report.daily_sources[source.path] = source
    return report


def _prices(
    source: PriceSource, needed: list[str], studied: list[str], start, end, config: ReportConfig
) -> pd.DataFrame:
    """The prices of ``needed``; a studied ticker whose file holds no row in the span (listed after the
    events, or delisted before them) is kept as an empty column, so the study drops its firm-events with the
    reason instead of the whole report failing.  A missing file, or a benchmark without data, still fails."""
    try:
        return source.get_prices(needed, start, end, field=config.price_field)
    except DataSourceError:
        if not isinstance(source, CsvSource):
            raise
        prices = source.get_prices(needed, start, end, field=config.price_field, missing="skip")
        failures: dict[str, str] = prices.attrs.get("eventstudy_failures", {})
        if not all(t in studied and "no rows between" in str(why) for t, why in failures.items()):
            raise
    warnings.warn(
        "No prices in the span the study needs for "
        + "; ".join(f"{t} ({why})" for t, why in failures.items())
        + ": their firm-events are dropped (see the report's Dropped section).",
        DataQualityWarning,
        stacklevel=3,
    )
    return prices.reindex(columns=needed)


def _file_name(catalog: str) -> str:
    return repr(Path(catalog).name) if Path(catalog).suffix else f"(the built-in catalog {catalog!r})"


def _firm_specific(pairs: pd.DataFrame, config: ReportConfig) -> pd.DataFrame:
    """The firm-events of an events file with a ``ticker`` column, kept to ``config.tickers`` when given."""
    if not config.tickers:
        return pairs.reset_index(drop=True)
    listed = set(pairs["ticker"])
    absent = [t for t in config.tickers if t not in listed]
    if absent:
        raise ValueError(
            f"tickers {', '.join(absent)} are in no firm-event of the events file {_file_name(config.catalog)} "
            f"(its 'ticker' column lists {', '.join(sorted(listed))}); with a 'ticker' column, --tickers keeps "
            "some of its firms"
        )
    return pairs[pairs["ticker"].isin(config.tickers)].reset_index(drop=True)


def _check_available(source: CsvSource, tickers: list[str], catalog: str) -> None:
    """Refuse, before any work, the firm-events whose tickers have no prices in ``source``."""
    available = {t.lower().lstrip("^") for t in source.tickers()}
    missing = [t for t in tickers if t.lower().lstrip("^") not in available]
    if missing:
        raise ValueError(
            f"the events file {_file_name(catalog)} names tickers with no prices in {source.path}: "
            f"{', '.join(missing)}; add their price files or remove their rows"
        )


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
    """Press-reported moves for the studied events next to the close-to-close returns in the data; the
    difference only for rows whose ``basis`` is ``close`` (an intraday or after-hours figure is not comparable)."""
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
    # only a close-to-close figure is comparable with a close-to-close return: no difference for the others
    comparable = reported["basis"].astype(str).str.strip().str.lower() == "close"
    reported["difference_pp"] = (reported["data_pct"] - reported["move_pct"]).where(comparable)
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
