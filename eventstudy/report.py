"""The report script: one complete event study written to a folder.

A study is data: a TOML study file (see :mod:`eventstudy.study`) read into a :class:`ReportConfig` by
:func:`load_study`.  ``eventstudy report`` with no arguments runs the study shipped with the package
(:data:`eventstudy.study.DEFAULT_STUDY`); ``--study FILE`` runs another, and options swap in other events, a
user's own catalog, tickers, benchmarks, model and windows.  ``ReportConfig()`` itself holds no study: its
defaults are the field's conventions only.  The folder receives ``report.md`` and ``report.html`` (the story in
plain words, tables, figures, confounders and the data's provenance), ``figures/*.png``, ``tables/*.csv``
and ``results.json`` with every number.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ._atomic import staged_folder
from .exceptions import EventStudyWarning, SessionAssumptionWarning
from .summary import format_table, format_value, window_label

__all__ = ["ReportConfig", "DEFAULT_REPORT", "load_study", "build_report", "build_study", "StudyRun", "records"]


@dataclass(frozen=True)
class ReportConfig:
    """Everything a report run needs; the defaults are the field's conventions, and no study of its own.

    A study file (:func:`load_study`) fills it in. ``benchmarks`` lists one entry per specification: a ticker
    gives the market model (or ``model``) against it; several tickers joined by ``+`` give the multi-index
    model on them. ``events`` empty means every event of the catalog; ``focus`` empty means the first two
    tickers; ``title`` empty means a title made from ``name``.
    """

    name: str = "study"
    title: str = ""
    question: str = ""
    catalog: str = "export-controls"
    events: tuple[str, ...] = ()
    tickers: tuple[str, ...] = ()
    focus: tuple[str, ...] = ()
    benchmarks: tuple[str, ...] = ("SPY",)
    model: str = "market"
    estimation_window: tuple[int, int] = (-250, -11)
    event_window: tuple[int, int] = (-5, 5)
    windows: tuple[tuple[int, int], ...] = ((0, 0), (-1, 1), (-5, 5))
    unknown_session: str = "pre"
    exclude_events: bool = False
    return_kind: str = "simple"
    price_field: str = "Adj Close"
    prices_dir: str | None = None
    reported_moves: str | None = None
    out: str | None = None
    #: extra sections, as a study file asks: volume, volatility and GARCH of the focus stocks ("outcomes"),
    #: non-US listings ("global") and minute bars ("intraday")
    sections: tuple[str, ...] = ()
    outcomes_garch: str = "garch"  # the GARCH model of the "outcomes" section
    global_events: tuple[str, ...] = ()  # the catalog events of the "global" section
    global_title: str = "Non-US listings"  # its heading
    global_listings: str | None = None  # its listings file (default: the built-in catalog/global_listings.csv)
    intraday_cases: str | None = None  # the "intraday" section's cases file (default: the built-in cases)
    global_dir: str | None = None  # default: prices_global beside prices_dir
    intraday_dir: str | None = None  # default: intraday beside prices_dir
    #: paragraphs of the study's own, by slot (:data:`eventstudy.study.PROSE_SLOTS`)
    prose: dict[str, str] = field(default_factory=dict)
    study: str | None = None  # the study file's name, and its SHA-256 (recorded in results.json)
    study_sha256: str | None = None

    @property
    def heading(self) -> str:
        """The report's title: the study's own, else one made from its name."""
        return self.title or f"Event study: {self.name}"

    @property
    def focus_tickers(self) -> tuple[str, ...]:
        """The stocks the story is about: ``focus``, else the first two tickers."""
        return self.focus or self.tickers[:2]

    @property
    def out_dir(self) -> Path:
        return Path(self.out) if self.out else Path("results") / self.name

    def folder(self, section: str) -> Path | None:
        """The data folder of an extra section: given, or the shared layout's sibling of ``prices_dir``."""
        if section == "outcomes":
            return Path(self.prices_dir) if self.prices_dir else None
        given = {"global": self.global_dir, "intraday": self.intraday_dir}[section]
        if given:
            return Path(given)
        if self.prices_dir:
            return Path(self.prices_dir).parent / {"global": "prices_global", "intraday": "intraday"}[section]
        return None

    @property
    def specifications(self) -> list[tuple[str, tuple[str, ...], str]]:
        """(label, benchmarks, model) of each fit: one per benchmark for models that use one, a single fit
        for models that ignore the benchmark (constant mean, Fama-French, Carhart)."""
        from .models import get_model

        model = get_model(self.model)
        probe = ("BENCHMARK",)
        if probe[0] not in model.regressors(probe) and model.offset(probe) != probe[0]:
            return [(model.name, (self.benchmarks[0].split("+")[0],), self.model)]
        specs = []
        for entry in self.benchmarks:
            tickers = tuple(entry.split("+"))
            specs.append((f"vs {entry}", tickers, self.model if len(tickers) == 1 else "multi-index"))
        return specs

    @property
    def table_windows(self) -> list[tuple[int, int]]:
        """Day 0, (-1, +1) and the configured CAR windows, as far as the event window allows."""
        lo, hi = self.event_window
        wanted = [(0, 0), (-1, 1), *self.windows]
        return [w for w in dict.fromkeys(tuple(w) for w in wanted) if lo <= w[0] and w[1] <= hi]


def load_study(path: str | os.PathLike[str]) -> ReportConfig:
    """Read a study file (TOML, see :mod:`eventstudy.study`) into a :class:`ReportConfig`.

    Parameters
    ----------
    path : str or path-like
        The study file; relative paths inside it are read against its folder.

    Returns
    -------
    ReportConfig
        Keys the file leaves out keep the generic defaults of :class:`ReportConfig`.
    """
    from .study import read_study

    return ReportConfig(**read_study(path))


def _default_report() -> ReportConfig:
    from .study import DEFAULT_STUDY

    return load_study(DEFAULT_STUDY)


#: the study ``eventstudy report`` runs with no ``--study``: the package's ``studies/ai-diffusion-rescission.toml``
DEFAULT_REPORT = _default_report()


@dataclass
class StudyRun:
    """One specification of the report, its results, and the tables every writer reads (computed once)."""

    label: str
    benchmark: tuple[str, ...]
    model: str
    results: object  # EventStudyResults
    car: dict = field(default_factory=dict)  # window -> res.car(window)
    tests: pd.DataFrame | None = None
    tables: dict = field(default_factory=dict)  # name -> DataFrame (ar, bhar, aar, params, ...)

    def tabulate(self, windows: Sequence[tuple[int, int]]) -> StudyRun:
        res = self.results
        self.car = {w: res.car(w) for w in windows}
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

    def car_of(self, window, event_id: str, ticker: str) -> pd.Series | None:
        """The ``car()`` row of one firm-event, or None when it was dropped."""
        table = self.car[window]
        hit = table[(table["event_id"] == event_id) & (table["ticker"] == ticker)]
        return hit.iloc[0] if len(hit) else None

    @property
    def pooled_tests(self) -> pd.DataFrame:
        return self.tests[self.tests["scope"] != "single"]


@dataclass
class _Report:
    config: ReportConfig
    events: pd.DataFrame
    catalog: pd.DataFrame
    prices: pd.DataFrame
    returns: pd.DataFrame
    runs: list[StudyRun]
    source: dict
    raw_moves: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    reported: pd.DataFrame | None = None
    figures: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    out_dir: Path | None = None  # where the writers put the files (a staging folder beside config.out_dir)
    sections: list[str] = field(default_factory=list)  # Markdown of the extra sections
    source_object: object = None  # the PriceSource the study read (the extra sections read it again)


# --------------------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------------------


def build_report(config: ReportConfig = DEFAULT_REPORT, *, source=None, progress: bool | None = None) -> Path:
    """Run the study described by ``config`` and write the report folder; return its path.

    Parameters
    ----------
    config : ReportConfig
    source : PriceSource, optional
        Where prices come from; default a :class:`~eventstudy.data.CsvSource` on ``config.prices_dir`` if
        set, else :func:`~eventstudy.data.default_source` (Yahoo Finance through a local cache).
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    """
    from tqdm.auto import tqdm

    steps = [
        "load events",
        "load prices",
        *[f"fit {label}" for label, _, _ in config.specifications],
        "figures",
        "write",
    ]
    bar = tqdm(total=len(steps), desc=config.name, unit="step", disable=None if progress is None else not progress)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EventStudyWarning)
        try:
            report = _run(config, source, bar)
            # written beside the target and moved into place whole: an interrupted or failing run (Ctrl-C, a
            # full disk) leaves the previous report as it was, never a mix of two runs
            with staged_folder(config.out_dir, marker="results.json") as stage:
                report.out_dir = stage
                bar.set_postfix_str("figures")
                _write_figures(report)
                report.sections = _extra_sections(report)
                bar.update()
                bar.set_postfix_str("writing")
                report.warnings = _unique_messages(caught)
                _write_all(report)
                bar.update()
        finally:
            bar.close()
    for message in report.warnings:  # re-issued once each, after the progress bar
        warnings.warn(message, EventStudyWarning, stacklevel=2)
    return config.out_dir


def build_study(config: ReportConfig = DEFAULT_REPORT, *, source=None) -> list[StudyRun]:
    """Fit every specification of ``config`` and return them, without writing anything."""
    from tqdm.auto import tqdm

    with tqdm(disable=True) as bar:
        return _run(config, source, bar).runs


def _unique_messages(caught) -> list[str]:
    return list(
        dict.fromkeys(" ".join(str(w.message).split()) for w in caught if issubclass(w.category, EventStudyWarning))
    )


def _run(config: ReportConfig, source, bar) -> _Report:
    from . import EventStudy, TradingCalendar, load_events
    from ._returns import returns as to_returns
    from .data import CsvSource, default_source
    from .estimation import required_span

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
    events = _pick_events(catalog, config.events)
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
        if config.prices_dir:
            source = CsvSource(config.prices_dir)
            source._kept_history = {}  # the outcomes section reads some of the same files again
        else:
            source = default_source()
    specs = config.specifications
    needed = list(dict.fromkeys([*config.tickers, *(t for _, bench, _ in specs for t in bench)]))
    start, end = required_span(events["day0"], config.estimation_window, config.event_window, calendar)
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
    describe = getattr(source, "describe", None)
    reported = _reported_moves(config.reported_moves, events, rets) if config.reported_moves else None
    report = _Report(
        config=config,
        events=events,
        catalog=catalog,
        prices=prices,
        returns=rets,
        runs=runs,
        source=portable(dict(describe()) if callable(describe) else {"source": type(source).__name__}, config.out_dir),
        reported=reported,
        source_object=source,
    )
    report.raw_moves = _raw_moves(report)
    return report


def portable(value, base: Path):
    """``value`` with every absolute path in it written relative to ``base`` (the report folder), so that a
    committed report names its inputs the same way on every machine."""
    if isinstance(value, dict):
        return {k: portable(v, base) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(portable(v, base) for v in value)
    if isinstance(value, str):
        prefix, _, rest = value.rpartition(":") if value.startswith(("csv:", "yahoo:", "cache:")) else ("", "", value)
        if os.path.isabs(rest):
            relative = Path(os.path.relpath(rest, base.resolve())).as_posix()
            return f"{prefix}:{relative}" if prefix else relative
    return value


def _pick_events(catalog: pd.DataFrame, wanted: Sequence[str]) -> pd.DataFrame:
    if not wanted:
        return catalog
    unknown = [w for w in wanted if w not in set(catalog["id"])]
    if unknown:
        import difflib

        hints = {u: difflib.get_close_matches(u, list(catalog["id"]), n=1) for u in unknown}
        hint = "; ".join(f"{u!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for u, h in hints.items())
        raise KeyError(f"unknown event id {hint}; 'eventstudy events list' shows the ids")
    return catalog[catalog["id"].isin(wanted)].reset_index(drop=True)


def _reported_moves(path: str, events: pd.DataFrame, rets: pd.DataFrame) -> pd.DataFrame:
    """Press-reported close-to-close moves for the studied events next to the returns in the data."""
    reported = pd.read_csv(path)
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


# --------------------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------------------


def _write_figures(report: _Report) -> None:
    from matplotlib.figure import Figure

    from .plotting import plot_ar, plot_car, plot_car_heatmap, plot_prices

    out = report.out_dir / "figures"
    out.mkdir(parents=True, exist_ok=True)
    primary = report.runs[0].results
    focus = [t for t in report.config.focus_tickers if t in set(primary.firm_events["ticker"])]

    def save(fig, name: str) -> None:
        path = out / f"{name}.png"
        fig.savefig(path, dpi=110)  # constrained layout already fits the figure: no second, tight-bbox pass
        report.figures[name] = f"figures/{path.name}"

    first = report.events["day0"].min() - pd.Timedelta(days=45)
    last = report.events["day0"].max() + pd.Timedelta(days=30)
    shown = [
        t
        for t in [*report.config.focus_tickers, *dict.fromkeys(b for run in report.runs for b in run.benchmark)]
        if t in report.prices
    ]
    fig = Figure(layout="constrained", figsize=(10, 4.5))
    plot_prices(report.prices[shown], events=report.catalog, ax=fig.subplots(), start=first, end=last)
    save(fig, "prices")

    for event_id in report.events["id"]:
        sub = primary.select(event_ids=[event_id])
        fig = Figure(layout="constrained", figsize=(12, 4.5))
        left, right = fig.subplots(1, 2)
        if focus:
            plot_car(
                sub.select(tickers=focus), kind="firm", ax=left, title=f"{', '.join(focus)} {report.runs[0].label}"
            )
        plot_car(sub, kind="average", ax=right, title=f"Average of {sub.n} stocks {report.runs[0].label}")
        fig.suptitle(f"Cumulative abnormal returns around {event_id}")
        save(fig, f"car_{_slug(event_id)}")

        fig = Figure(layout="constrained", figsize=(7, max(3.0, 0.32 * sub.n + 1.2)))
        plot_ar(sub, day=0, ax=fig.subplots(), title=f"Day-0 abnormal returns {report.runs[0].label}\n{event_id}")
        save(fig, f"ar_day0_{_slug(event_id)}")

    for run in report.runs:
        res = run.results
        fig = Figure(
            layout="constrained",
            figsize=(
                max(6.0, 0.55 * res.firm_events["ticker"].nunique() + 2),
                1.1 * res.firm_events["event_id"].nunique() + 2,
            ),
        )
        window = _inner_window(report.config)
        plot_car_heatmap(
            res, window=window, ax=fig.subplots(), title=f"CAR {window_label(window)} by event and stock, {run.label}"
        )
        save(fig, f"heatmap_{_slug(run.label)}")


def _extra_sections(report: _Report) -> list[str]:
    """The non-US listings and the minute bars, where their folders exist; a missing folder is said, not hidden."""
    config = report.config
    out = report.out_dir  # the staging folder: set before the sections are written
    sections = []
    for name in config.sections:
        if name == "outcomes":  # reads the study's own source: volumes and high/low prices of the focus stocks
            sections.append(_outcomes_section(report))
            continue
        folder = config.folder(name)
        if folder is None or not folder.is_dir():
            where = (
                f"`{folder.name}/` beside the prices"
                if folder is not None
                else "local files (--global-dir, --intraday-dir)"
            )
            sections.append(f"## {config.global_title if name == 'global' else 'Intraday event windows'}\n\nNot run: "
                            f"this section reads {where}, which this run did not have.\n")  # fmt: skip
            continue
        if name == "global":
            from .report_global import global_section

            # the section's own events (a study may add events the main table does not study), else the study's
            events = report.catalog[report.catalog["id"].isin(config.global_events or tuple(report.events["id"]))]
            sections.append(
                global_section(
                    events,
                    folder,
                    out,
                    estimation_window=config.estimation_window,
                    event_window=config.event_window,
                    unknown_session=config.unknown_session,
                    title=config.global_title,
                    listings=config.global_listings,
                )
            )
            report.tables["global"] = "tables/global_listings.csv"
        elif name == "intraday":
            from .report_intraday import intraday_section, load_cases

            cases = load_cases(config.intraday_cases) if config.intraday_cases else None
            sections.append(intraday_section(folder, out, cases))
            report.tables["intraday"] = "tables/intraday.csv"
    return sections


def _outcomes_section(report: _Report) -> str:
    """Abnormal volume, abnormal volatility and a GARCH row beside OLS for the focus stocks (issue 11)."""
    from .outcomes_report import outcome_rows

    config = report.config
    rows, markdown = outcome_rows(
        report.events,
        tickers=list(config.focus_tickers),
        source=report.source_object,
        market=report.runs[0].benchmark[0],
        windows=config.table_windows[:2],  # day 0 and (-1, +1), as far as the event window allows
        estimation_window=config.estimation_window,
        event_window=config.event_window,
        garch=config.outcomes_garch,
    )
    out = report.out_dir  # the staging folder: set before the sections are written
    (out / "tables").mkdir(parents=True, exist_ok=True)
    rows.to_csv(out / "tables" / "outcomes.csv", index=False)
    report.tables["outcomes"] = "tables/outcomes.csv"
    return (
        f"## Volume, volatility and a GARCH model for {', '.join(config.focus_tickers)}\n\n"
        "An export control is an uncertainty shock: its trace may be in trading volume and volatility rather than "
        "in a significant mean move, and a GARCH model standardises each day's abnormal return by the variance "
        "forecast for that day instead of one OLS sigma.\n\n" + markdown.strip() + "\n"
    )


def _inner_window(config: ReportConfig) -> tuple[int, int]:
    lo, hi = config.event_window
    return (-1, 1) if lo <= -1 and hi >= 1 else (lo, hi)


# --------------------------------------------------------------------------------------------------------
# tables, JSON, Markdown, HTML
# --------------------------------------------------------------------------------------------------------


def _write_all(report: _Report) -> None:
    out = report.out_dir
    tables = out / "tables"
    tables.mkdir(parents=True, exist_ok=True)

    def table(name: str, frame: pd.DataFrame) -> None:
        path = tables / f"{name}.csv"
        frame.to_csv(path, index=False, date_format="%Y-%m-%d")
        report.tables[name] = f"tables/{path.name}"

    table("events", _event_table(report.events))
    table("raw_returns", report.raw_moves)
    for run in report.runs:
        slug = _slug(run.label)
        table(f"car_{slug}", pd.concat(run.car.values(), ignore_index=True))
        table(f"tests_{slug}", run.tests)
        for name in ("ar", "bhar", "params", "decompose", "dropped"):
            table(f"{name}_{slug}", run.tables[name])
    table("comparison", _comparison(report))
    if report.reported is not None:
        table("press_check", report.reported)
    payload = _json_payload(report)
    (out / "results.json").write_text(json.dumps(payload, indent=2, default=_json_default) + "\n")
    markdown = _markdown(report)
    (out / "report.md").write_text(markdown)
    (out / "report.html").write_text(_html(markdown, report.config.heading))


def _event_table(events: pd.DataFrame) -> pd.DataFrame:
    frame = events[["id", "date", "session", "day0", "category", "direction", "title"]].copy()
    return frame


def _raw_moves(report: _Report, days: tuple[int, int] = (-2, 2)) -> pd.DataFrame:
    """Raw returns of every ticker and benchmark on the days around each event's day 0."""
    rows = []
    sessions = report.returns.index
    for event in report.events.itertuples():
        centre = sessions.get_indexer([event.day0])[0]
        for offset in range(days[0], days[1] + 1):
            if 0 <= centre + offset < len(sessions):
                date = sessions[centre + offset]
                rows.append(
                    {"event_id": event.id, "event_time": offset, "date": date, **report.returns.loc[date].to_dict()}
                )
    return pd.DataFrame(rows)


def _comparison(report: _Report) -> pd.DataFrame:
    """Day-0 and (-1,+1) abnormal returns of each firm-event under every benchmark, side by side."""
    frames = []
    for window in report.config.table_windows[:2]:
        wide = pd.concat(
            {
                run.label: run.car[window].set_index(["event_id", "ticker"])[["car", "t", "pvalue"]]
                for run in report.runs
            },
            axis=1,
        )
        wide.columns = [f"{label} {stat} {window_label(window)}" for label, stat in wide.columns]
        frames.append(wide)
    return pd.concat(frames, axis=1).reset_index()


def _json_payload(report: _Report) -> dict:
    config = report.config
    studies = {}
    for run in report.runs:
        studies[run.label] = {
            "benchmark": list(run.benchmark),
            "model": run.model,
            "settings": run.results.settings,
            "car": {window_label(w): records(table) for w, table in run.car.items()},
            "tests": records(run.tests),
            **{name: records(table) for name, table in run.tables.items() if name != "decompose"},
            "decompose_day0": records(run.tables["decompose"]),
            "provenance": run.results.provenance,
        }
    # no time stamp and no absolute path: rerunning the same inputs rewrites the same file on any machine
    return portable(
        {
            "study": config.name,
            "title": config.heading,
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()},
            "events": records(_event_table(report.events)),
            "source": report.source,
            "warnings": report.warnings,
            "raw_returns": records(report.raw_moves),
            "press_check": records(report.reported) if report.reported is not None else None,
            "studies": studies,
        },
        config.out_dir,
    )


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows of ``frame`` as JSON-ready dicts (ISO dates, None for NaN)."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
    return [{k: _json_default(v) for k, v in row.items()} for row in out.to_dict(orient="records")]


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (tuple, list, np.ndarray)):
        return [_json_default(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dict):
        return {str(k): _json_default(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------------------------------------
# the written report
# --------------------------------------------------------------------------------------------------------


def _markdown(report: _Report) -> str:
    config = report.config
    primary = report.runs[0]
    lines = [f"# {config.heading}", ""]
    if config.question:
        lines += [f"**Question.** {' '.join(config.question.split())}", ""]
    if config.prose.get("intro"):
        lines += [config.prose["intro"], ""]
    lines += [
        f"*Study `{config.name}`: {len(report.events)} event(s), {len(config.tickers)} tickers, "
        f"{_model_text(config)}, estimation window {window_label(config.estimation_window)}, event window "
        f"{window_label(config.event_window)} trading days. {_regenerate(config)}*",
        "",
        "## The answer in brief",
        "",
    ]
    lines += _headline(report)
    lines += ["", "## Events studied", ""]
    ev = report.events
    lines.append(
        _md_table(
            pd.DataFrame(
                {
                    "event": ev["id"],
                    "date": ev["date"].dt.strftime("%Y-%m-%d"),
                    "release session": ev["session"],
                    "day 0": ev["day0"].dt.strftime("%Y-%m-%d"),
                    "kind": ev["category"] + ", " + ev["direction"],
                    "what happened": ev["title"],
                }
            )
        )
    )
    if (ev["session"] == "unknown").any():
        lines += [
            "",
            "Where the release session is unknown, day 0 is the first session on or after the date (the earliest "
            "session that could react); the (-1, +1) window covers the next session too.",
        ]
    lines += ["", "## Raw moves around the events", ""]
    raw = report.raw_moves
    shown = [
        t
        for t in [*config.focus_tickers, *dict.fromkeys(b for run in report.runs for b in run.benchmark)]
        if t in raw.columns
    ]
    raw_view = raw[["event_id", "event_time", "date", *shown]].copy()
    raw_view["date"] = raw_view["date"].dt.strftime("%Y-%m-%d")
    raw_view = format_table(raw_view, dict.fromkeys(shown, "pct"))
    lines.append(_md_table(raw_view))
    lines += [
        "",
        f"Close-to-close returns from {config.price_field.lower()} prices; `tables/raw_returns.csv` has every ticker.",
    ]
    if report.reported is not None and len(report.reported):
        lines += ["", "### What the press reported, against the data", ""]
        view = report.reported.copy()
        view["trade_date"] = view["trade_date"].dt.strftime("%Y-%m-%d")
        for column in ("move_pct", "data_pct", "difference_pp"):
            view[column] = view[column].map(lambda v: format_value(v, "{:+.2f}"))
        lines.append(
            _md_table(
                view.rename(
                    columns={"move_pct": "reported %", "data_pct": "data %", "difference_pp": "difference (pp)"}
                )
            )
        )
        lines += [
            "",
            "Only `close` rows are close-to-close returns; intraday and after-hours figures are not comparable.",
        ]
    lines += ["", "## Abnormal returns of the focus stocks", ""]
    lines.append(_md_table(_focus_table(report)))
    lines += [
        "",
        "AR/CAR in percent; t uses MacKinlay's (1997) variance with the prediction-error term and the full covariance "
        "of the window's abnormal returns (T-K degrees of freedom). `tables/comparison.csv` has every stock.",
    ]
    decomposition = _decomposition_text(report)
    if decomposition:
        lines += ["", "## Where the day-0 move came from", ""] + decomposition
    lines += ["", "## Tests across the stocks (same-day events)", ""]
    lines += _tests_text(report)
    for section in report.sections:
        lines += ["", section.rstrip()]
    lines += ["", "## What else happened", ""]
    for event in report.events.itertuples():
        text = (
            event.confounders.strip()
            if isinstance(event.confounders, str) and event.confounders.strip()
            else "none recorded in the catalog"
        )
        lines.append(f"- **{event.id}**: {text}")
    notes = primary.results.contamination_notes(confounders=False)
    if notes:
        lines += ["", "Catalog events inside the estimation windows (contamination):", ""] + [f"- {n}" for n in notes]
    lines += ["", "## Figures", ""]
    for name, path in report.figures.items():
        lines += [f"![{name}]({path})", ""]
    if config.prose.get("closing"):
        lines += [config.prose["closing"], ""]
    lines += ["## Method", ""]
    lines += _method_text(report)
    lines += ["", "## Data provenance", ""]
    lines += _provenance_text(report)
    if report.warnings:
        lines += ["", "## Warnings raised during the run", ""] + [f"- {w}" for w in report.warnings]
    lines += ["", "## Files", ""]
    lines += [f"- `{path}`" for path in [*report.tables.values()]] + ["- `results.json`: every number above"]
    return "\n".join(lines) + "\n"


def _regenerate(config: ReportConfig) -> str:
    from .study import DEFAULT_STUDY

    if config.study == DEFAULT_STUDY.name and config.study_sha256 == DEFAULT_REPORT.study_sha256:
        return f"Regenerate with `eventstudy report` (the study file `{config.study}`; options below)."
    if config.study:
        return f"Regenerate with `eventstudy report --study {config.study}` (options below)."
    return "Regenerate with `eventstudy report` and the options recorded in `results.json`."


def _model_text(config: ReportConfig) -> str:
    specs = ", ".join(("market model vs " if "+" not in b else "multi-index model on ") + b for b in config.benchmarks)
    return specs if config.model == "market" else f"{config.model} model" + (f"; {specs}" if specs else "")


def _headline(report: _Report) -> list[str]:
    lines = []
    config = report.config
    for event in report.events.itertuples():
        parts = []
        for ticker in config.focus_tickers:
            if ticker not in report.returns.columns:
                continue
            raw = report.returns[ticker].get(event.day0, np.nan)
            abnormal = []
            for run in report.runs:
                r = run.car_of((0, 0), event.id, ticker)
                if r is not None:
                    abnormal.append(
                        f"{format_value(r['car'], 'pct')} {run.label} (t = {r['t']:.2f}, p = {format_value(r['pvalue'], 'p')})"
                    )
            parts.append(f"{ticker} {format_value(raw, 'pct')} raw; abnormal " + "; ".join(abnormal))
        window = report.returns.index
        position = window.get_indexer([event.day0])[0]
        focus = [t for t in config.focus_tickers if t in report.returns.columns]
        biggest = ""
        if focus:
            lo, hi = config.event_window
            span = report.returns.iloc[max(position + lo, 0) : position + hi + 1][focus[0]]
            if span.notna().any():
                day = span.abs().idxmax()
                rel = window.get_loc(day) - position
                biggest = f" {focus[0]}'s largest raw move in the event window was {format_value(span[day], 'pct')} on {day:%Y-%m-%d} (day {rel:+d})."
        lines.append(
            f"- **{event.id}** (day 0 = {event.day0:%Y-%m-%d}, {event.session} release): "
            + " | ".join(parts)
            + "."
            + biggest
        )
    pooled = _pooled_day0(report)
    if pooled:
        lines += ["", pooled]
    reading = config.prose.get(
        "reading", "Check the confounders below before reading any abnormal return as the events' effect."
    )
    lines += ["", reading]
    return lines


def _pooled_day0(report: _Report) -> str:
    run = report.runs[0]
    tests = run.tests
    day0 = (tests["window_start"] == 0) & (tests["window_end"] == 0)
    pick = tests[tests["test"].isin(["kp_bmp", "mvrm_average", "csect_t"]) & day0]
    if pick.empty:
        return ""
    parts = []
    for row in pick.itertuples():
        where = f" [{row.event_id}]" if isinstance(row.event_id, str) else ""
        if np.isfinite(row.stat):
            parts.append(f"{row.test}{where}: stat {row.stat:.2f}, p = {format_value(row.pvalue, 'p')}")
        else:
            parts.append(f"{row.test}{where}: not computed ({row.note})")
    aar = run.tables["aar"]
    day0 = aar.loc[aar["event_time"] == 0, "aar"]
    return (
        f"Across all {run.results.n} firm-events {run.label}, the average day-0 abnormal return was "
        f"{format_value(day0.iloc[0], 'pct') if len(day0) else 'n/a'}; same-day tests: " + "; ".join(parts) + "."
    )


def _focus_table(report: _Report) -> pd.DataFrame:
    rows = []
    for run in report.runs:
        for ticker in report.config.focus_tickers:
            for event_id in report.events["id"]:
                row = {"benchmark": run.label, "event": event_id, "ticker": ticker}
                for window in run.car:
                    hit = run.car_of(window, event_id, ticker)
                    label = window_label(window)
                    row[f"CAR {label}"] = format_value(hit["car"], "pct") if hit is not None else "dropped"
                    row[f"t {label}"] = format_value(hit["t"], "{:.2f}") if hit is not None else ""
                rows.append(row)
    return pd.DataFrame(rows)


def _decomposition_text(report: _Report) -> list[str]:
    multi = [run for run in report.runs if len(run.benchmark) > 1]
    if not multi:
        return []
    run = multi[0]
    parts = run.tables["decompose"]
    parts = parts[parts["ticker"].isin(report.config.focus_tickers)]
    view = parts.drop(columns=["window_start", "window_end"])
    view = format_table(view, dict.fromkeys(view.columns[2:], "pct"))
    return [
        f"The {run.label} model splits each raw day-0 return into the part explained by each index (beta times "
        "the index's return), the stock's usual drift (alpha) and the abnormal remainder:",
        "",
        _md_table(view),
    ]


def _tests_text(report: _Report) -> list[str]:
    lines = []
    for run in report.runs:
        first_two = report.config.table_windows[:2]
        pooled = run.pooled_tests
        pooled = pooled[[w in first_two for w in zip(pooled["window_start"], pooled["window_end"])]]
        view = pooled[["test", "event_id", "window_start", "window_end", "stat", "pvalue", "n", "note"]].copy()
        view["window"] = [window_label((a, b)) for a, b in zip(view.pop("window_start"), view.pop("window_end"))]
        view["event_id"] = view["event_id"].fillna("all")
        view = format_table(view, {"stat": "{:.2f}", "pvalue": "p"})
        lines += [
            f"### {run.label}",
            "",
            _md_table(view[["test", "event_id", "window", "stat", "pvalue", "n", "note"]]),
            "",
        ]
        if run is report.runs[0]:
            from .inference import recommend

            lines += (
                ["Suited to this design:", ""]
                + [f"- `{name}`: {why}" for name, why in recommend(run.results.fit)]
                + [""]
            )
    lines.append(
        "All firms react on the same day, so their abnormal returns are correlated: the plain cross-sectional "
        "t (`csect_t`), `patell` and `bmp` over-reject. Kolari-Pynnonen (`kp_*`) and the multivariate regression "
        "(`mvrm_*`, Binder 1985) account for it."
    )
    return lines


def _method_text(report: _Report) -> list[str]:
    config = report.config
    return [
        f"- Normal-return model: {_model_text(config)}, fitted by OLS on each firm-event's estimation window "
        f"{window_label(config.estimation_window)} (trading days relative to day 0).",
        "- Day 0 is the first NYSE session that could react to the release: the event date for releases before the "
        "open or during the session, the next session for releases after the close.",
        "- Abnormal return = actual minus the model's prediction; CAR sums them over the window; standard errors "
        "follow MacKinlay (1997) with the prediction-error term and the full covariance of the window.",
        f"- Returns: {config.return_kind} close-to-close returns from {config.price_field} prices, aligned to NYSE "
        "sessions without filling gaps.",
        "- Tests: Patell (1976), Boehmer-Musumeci-Poulsen (1991), Kolari-Pynnonen (2010), Corrado (1989) rank and "
        "Cowan (1992) generalized sign, Brown-Warner (1985), Binder (1985) multivariate regression; see "
        "`eventstudy.inference` for formulas.",
    ]


def _provenance_text(report: _Report) -> list[str]:
    primary = report.runs[0].results.provenance
    lines = [f"- Price source: `{json.dumps(report.source, default=str)}`"]
    lines.append(f"- SHA-256 of the returns used: `{primary.get('returns_sha256', '')}`")
    ranges = primary.get("return_ranges", {})
    if ranges:
        lines.append("- Return ranges: " + "; ".join(f"{k} {v[0]}..{v[1]}" for k, v in ranges.items() if v))
    for note in primary.get("notes", []):
        lines.append(f"- Note: {note}")
    versions = primary.get("versions", {})
    lines.append("- Software: " + ", ".join(f"{k} {v}" for k, v in versions.items() if v))
    dropped = pd.concat([run.tables["dropped"].assign(benchmark=run.label) for run in report.runs], ignore_index=True)
    if len(dropped):
        lines += [
            "",
            "Firm-events that could not be estimated:",
            "",
            _md_table(dropped[["benchmark", "event_id", "ticker", "reason"]]),
        ]
    else:
        lines.append("- Every firm-event was estimated (none dropped).")
    return lines


def _html(markdown_text: str, title: str) -> str:
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables"])
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}"
        "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}th,td{border:1px solid #ccc;padding:3px 7px}"
        "th{background:#f3f3f3}img{max-width:100%}code{background:#f5f5f5;padding:0 3px}"
    )
    return (
        f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>\n{body}\n</body></html>\n"
    )


def _md_table(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False) if len(frame) else "(none)"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def with_overrides(config: ReportConfig, **changes) -> ReportConfig:
    """``config`` with the non-None ``changes`` applied (used by the command line)."""
    return replace(config, **{k: v for k, v in changes.items() if v is not None})
