"""The report's intraday section: where, within the day, did the prices move?

:func:`intraday_section` reads a folder of ``<TICKER>_<interval>.csv`` bars, runs :class:`~eventstudy.IntradayStudy`
for each case, writes one figure and one CSV table into an output folder and returns the section as Markdown.
The cases are data (``catalog/intraday_cases.csv``, read by :func:`load_cases`), not code: pass your own file's
cases to study other days.

>>> from eventstudy.report.intraday import intraday_section
>>> markdown = intraday_section("../shared/data/intraday", "results/intraday")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from eventstudy.data import CsvSource
from eventstudy.data.bars import INTERVALS, calendar_for, exchange_calendar, schedule
from eventstudy.exceptions import DataSourceError
from eventstudy.foundation.summary import format_value
from eventstudy.intraday.study import IntradayResults, IntradayStudy, _sessions_used, session_gaps
from eventstudy.plotting import plot_intraday
from eventstudy.report._text import collapsed, md_table
from eventstudy.report.figures import save_png
from eventstudy.report.run import FirstRows
from eventstudy.time.returns import returns

__all__ = ["IntradayCase", "CASES_FILE", "load_cases", "intraday_section", "intraday_table"]


@dataclass(frozen=True)
class IntradayCase:
    """One day to look at: tickers against benchmarks from a stated instant, with other stated times.

    Attributes
    ----------
    name
        Short label used in tables and figure titles.
    time
        The event instant (tz-aware text or Timestamp): the first bar that could react starts at or after it.
    tickers, markets
        Firms and benchmarks (all on one exchange).
    intervals
        Bar intervals to use where files exist for the firm and the benchmark.
    label
        Stamp label of the files (``"end"`` for the Tokyo files).
    marks
        Other stated times (label -> tz-aware time) drawn on the figure and listed in the text.
    note
        A sentence of context printed with the case.
    """

    name: str
    time: str
    tickers: tuple[str, ...]
    markets: tuple[str, ...]
    intervals: tuple[str, ...] = ("1m", "5m")
    label: str = "start"
    marks: dict[str, str] = field(default_factory=dict)
    note: str = ""


CASES_FILE = Path(__file__).parents[1] / "catalog" / "intraday_cases.csv"


def load_cases(path: str | os.PathLike[str] | None = None) -> tuple[IntradayCase, ...]:
    """Read intraday cases from a CSV file (default: the built-in ``catalog/intraday_cases.csv``).

    Columns ``name, time`` (tz-aware ISO 8601), ``tickers``, ``markets`` and ``intervals`` (each a
    ``;``-separated list), ``label`` (``start`` or ``end``), ``marks`` (``label=time`` pairs separated by ``|``)
    and ``note``.  The built-in file holds 2025-05-13 and 2025-05-14 (NVDA, AMD, SMH against SPY and QQQ on 1-
    and 5-minute bars) and Tokyo's chip stocks against the Nikkei 225 on 2025-04-16.
    """
    where = Path(path) if path is not None else CASES_FILE
    try:
        table = pd.read_csv(where, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise DataSourceError(
            f"The cases file {where} cannot be read: {exc}.", failures={str(where): str(exc)}
        ) from None
    missing = [c for c in ("name", "time", "tickers", "markets") if c not in table.columns]
    if missing:
        raise KeyError(f"The cases file {where} lacks the column(s) {missing}; it has {list(table.columns)}.")
    cases = []
    for line, row in enumerate(table.to_dict("records"), start=2):  # line 1 is the header
        when = pd.Timestamp(row["time"])
        if when.tzinfo is None:
            raise ValueError(
                f"Row {line} of {where}: the time {row['time']!r} has no UTC offset; write e.g. 2025-05-13T09:30:00-04:00."
            )
        marks = {}
        for part in filter(None, (p.strip() for p in row.get("marks", "").split("|"))):
            label, _, stamp = part.rpartition("=")
            if not label or pd.Timestamp(stamp).tzinfo is None:
                raise ValueError(f"Row {line} of {where}: the mark {part!r} must read 'label=time' with a UTC offset.")
            marks[label.strip()] = stamp.strip()
        split = lambda text: tuple(x.strip() for x in text.split(";") if x.strip())  # noqa: E731
        cases.append(
            IntradayCase(
                name=row["name"],
                time=row["time"],
                tickers=split(row["tickers"]),
                markets=split(row["markets"]),
                intervals=split(row.get("intervals", "")) or ("1m", "5m"),
                label=row.get("label", "") or "start",
                marks=marks,
                note=row.get("note", ""),
            )
        )
    return tuple(cases)


#: fewest placebo sessions behind a placebo p-value the report prints: with N sessions the smallest attainable
#: p is 1 / (N + 1), so 19 are needed before a 5% verdict is even possible; with fewer the text says so
MIN_PLACEBO_SESSIONS = 19

#: one fitted study: the case, its results, the bar interval and the market
Fitted = tuple[IntradayCase, IntradayResults, str, str]

_COLUMNS = [
    "case", "interval", "ticker", "market", "window", "bars", "missing", "price_change", "market_price_change",
    "raw", "market_raw", "car", "se", "t",
    "pvalue", "placebo_pvalue", "n_placebo", "n_obs", "estimation_sessions",
]  # fmt: skip


def _files(folder: Path, interval: str) -> set[str]:
    return {p.name[: -len(f"_{interval}.csv")] for p in folder.glob(f"*_{interval}.csv")}


def _has(folder: Path, ticker: str, interval: str) -> bool:
    return ticker.lstrip("^") in _files(folder, interval) or ticker in _files(folder, interval)


def _bars_per_session(code: str, interval: str, day: pd.Timestamp) -> int:
    """Regular bars of ``interval`` in the session of ``day`` (lunch break left out)."""
    row = schedule(code, day, day).iloc[0]
    length = row["close"] - row["open"]
    if not pd.isna(row["break_start"]):
        length -= row["break_end"] - row["break_start"]
    return int(-(-length // INTERVALS[interval]))


def _windows(per_session: int, interval: str) -> dict[str, tuple[int, int]]:
    hour = pd.Timedelta(hours=1) // INTERVALS[interval]
    return {"first hour": (0, hour - 1), "rest of session": (hour, per_session - 1), "session": (0, per_session - 1)}


def _daily_legs(
    daily_dirs: list[Path],
    tickers: list[str],
    day: pd.Timestamp,
    code: str,
    sources: dict[Path, CsvSource] | None = None,
) -> dict[str, tuple[float, float, str]]:
    """Ticker -> (overnight, intraday) legs of ``day`` from the daily files that have opens, where any do.

    ``sources`` (resolved folder -> CsvSource), when given, keeps one source per folder across calls, each
    keeping the checked rows of the files it read (the cases of several days read the same files)."""
    sources = {} if sources is None else sources
    out: dict[str, tuple[float, float, str]] = {}
    for ticker in tickers:
        for folder in daily_dirs:
            path = folder / f"{ticker.lstrip('^')}.csv"
            if not path.exists():
                continue
            try:
                key = folder.resolve()
                if key not in sources:
                    sources[key] = CsvSource(folder)
                    sources[key]._kept_history = {}
                prices = sources[key].get_prices(
                    [ticker], day - pd.Timedelta(days=10), day, fields=["Open", "Close", "Adj Close"]
                )
            except (DataSourceError, ValueError):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # the package's TradingCalendar serves NYSE here; other exchanges' files are taken row by row
                cal = code if code == "XNYS" else None
                legs = (returns(prices, kind="overnight", calendar=cal), returns(prices, kind="intraday", calendar=cal))
            if day in legs[0].index:
                out[ticker] = (float(legs[0][ticker].loc[day]), float(legs[1][ticker].loc[day]), path.name)
                break
    return out


def _move(firm: float, market: float) -> dict[str, float]:
    """A gap or leg is both a raw return and a price change."""
    return {"raw": firm, "market_raw": market, "price_change": firm, "market_price_change": market}


def intraday_table(
    intraday_dir: str | os.PathLike[str],
    cases: tuple[IntradayCase, ...] | None = None,
    *,
    daily_dirs: list[str | os.PathLike[str]] | None = None,
    daily_sources: Sequence[CsvSource] = (),
    estimation_sessions: int = 10,
    placebo_sessions: int = 20,
) -> tuple[pd.DataFrame, list[Fitted]]:
    """Run every case and return the tidy table and the fitted results (case, results, interval, market)
    for the figure.

    Each case is fitted per interval and benchmark, on the ``estimation_sessions`` sessions before the
    event's session (fewer where the files start later: the table's ``estimation_sessions`` column says how
    many bore bar returns), with up to ``placebo_sessions`` placebo days.  A one-minute CAR tolerates up to 10
    missing bars, a five-minute one 2 (``missing`` column).  The overnight gap and the open-to-close return
    come from the daily files in ``daily_dirs`` where one has opens (default: ``prices`` and ``prices_global``
    beside the intraday folder; rows ``overnight gap (daily)`` and ``open to close (daily)``), and from the
    bars otherwise (``overnight gap (bars)``: the first bar's open over the previous session's last bar).
    ``daily_sources`` are sources of those folders already open (a report's, which keep the files they read).
    """
    folder = Path(intraday_dir)
    cases = load_cases() if cases is None else cases
    if daily_dirs is None:
        daily = [folder.parent / "prices", folder.parent / "prices_global"]
    else:
        daily = [Path(d) for d in daily_dirs]
    rows: list[dict] = []
    fitted: list[Fitted] = []
    # the daily legs of a day depend on its tickers and session only: a case's intervals share them
    legs_of: dict[tuple[tuple[str, ...], tuple[str, ...], pd.Timestamp, str], dict[str, tuple[float, float, str]]] = {}
    sources: dict[tuple[str, str], CsvSource] = {}
    daily_by_folder = {source.path: source for source in daily_sources}
    for case in cases:
        when = pd.Timestamp(case.time)
        code = calendar_for(case.tickers[0])
        local_day = when.tz_convert(exchange_calendar(code).tz).tz_localize(None).normalize()
        sessions = schedule(code, local_day - pd.Timedelta(days=60), local_day).index
        first_day = sessions[max(0, len(sessions) - 1 - max(estimation_sessions, placebo_sessions) - 1)]
        for interval in case.intervals:
            markets = [m for m in case.markets if _has(folder, m, interval)]
            tickers = [t for t in case.tickers if _has(folder, t, interval)]
            if not markets or not tickers:
                continue
            # one source per interval and label, keeping the bars it checked: the cases of nearby days read the
            # same files, and each file is read and checked once (the range is cut from the checked bars)
            if (interval, case.label) not in sources:
                sources[(interval, case.label)] = CsvSource(folder, interval=interval, label=case.label)
                sources[(interval, case.label)]._kept_bars = {}
            source = sources[(interval, case.label)]
            try:
                bars = source.get_bars([*tickers, *markets], first_day, local_day)
            except DataSourceError:
                continue
            per_session = _bars_per_session(code, interval, local_day)
            windows = _windows(per_session, interval)
            day_gaps = session_gaps(bars, [*tickers, *markets]).loc[[local_day]]
            gaps: dict[str, float] = {str(k): float(v) for k, v in day_gaps.iloc[0].items()}
            key = (tuple(tickers), tuple(markets), local_day, code)
            if key not in legs_of:
                legs_of[key] = _daily_legs(daily, [*tickers, *markets], local_day, code, daily_by_folder)
            legs = legs_of[key]
            events = pd.DataFrame({"event_id": list(tickers), "ticker": list(tickers), "time": when})
            for market in markets:
                study = IntradayStudy(
                    events,
                    bars,
                    market=market,
                    event_window=windows["session"],
                    estimation_window=(-estimation_sessions * per_session, -1),
                    placebo_sessions=placebo_sessions,
                    min_sessions=1,
                    max_missing=10 if interval == "1m" else 2,
                )
                res = study.fit()
                fitted.append((case, res, interval, market))
                used = _sessions_used(
                    res.panel,
                    np.isfinite(res.panel.returns) & np.isfinite(res.panel.returns[:, [res.panel.column(market)]]),
                    res.fit_.day0,
                    res.fit_.firm,
                    res.estimation_window,
                )
                params = res.params
                for ticker in res.events["ticker"]:
                    base = {"case": case.name, "interval": interval, "ticker": ticker, "market": market}
                    rows.append({**base, "window": "overnight gap (bars)", **_move(gaps[ticker], gaps[market])})
                    if ticker in legs:
                        other = legs.get(market, (np.nan, np.nan))
                        rows.append({**base, "window": "overnight gap (daily)",
                                     **_move(legs[ticker][0], other[0])})  # fmt: skip
                        rows.append({**base, "window": "open to close (daily)",
                                     **_move(legs[ticker][1], other[1])})  # fmt: skip
                for label, window in windows.items():
                    car = res.car(window)
                    for k, (event_id, row) in enumerate(car.iterrows()):
                        rows.append(
                            {
                                "case": case.name, "interval": interval, "ticker": row["ticker"], "market": market,
                                **{c: row[c] for c in _COLUMNS if c in row.index and c != "window"},
                                "window": label,
                                "n_obs": params.at[event_id, "n_obs"], "estimation_sessions": used[k],
                            }
                        )  # fmt: skip
    return pd.DataFrame(rows, columns=_COLUMNS), fitted


def _figure(fitted: list[Fitted], out: Path) -> Path:
    from matplotlib.figure import Figure

    picks = []
    for case, res, interval, market in fitted:
        first = (interval, market) == (case.intervals[0], case.markets[0])
        if first:
            for event_id in res.events["event_id"][:2]:
                picks.append((case, res, event_id))
    n = len(picks)
    cols = 2
    rows = max(1, -(-n // cols))
    fig = Figure(figsize=(14, 4.2 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, (case, res, event_id) in zip(axes.ravel(), picks):
        marks = {k: pd.Timestamp(v) for k, v in case.marks.items()}
        plot_intraday(
            res, event_id, marks=marks, ax=ax, title=f"{event_id}, {case.name}, {res.interval} vs {res.market}"
        )
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    path = out / "figures" / "intraday.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_png(fig, path)
    return path


def _where_text(rows: FirstRows, case: IntradayCase, ticker: str) -> str | None:
    """Where ``ticker`` moved against the first market: one sentence per bar interval its files allow; where
    two intervals disagree on the first hour (sign of the abnormal return, or its verdict at 5%), a sentence
    saying so and why."""
    texts: list[tuple[str, str]] = []
    for interval in case.intervals:
        text = _where_one(rows, case, ticker, interval, case.markets[0], legs=not texts)
        if text is not None:
            texts.append((interval, text))
    if not texts:
        return None
    out = " ".join(text for _, text in texts)
    hours: list[tuple[str, pd.Series]] = []
    for interval, _ in texts:
        hit = rows.get(case.name, ticker, "first hour", interval, case.markets[0])
        if hit is not None and np.isfinite(hit["car"]):
            hours.append((interval, hit))
    if len(hours) >= 2:
        (a, ha), (b, hb) = hours[0], hours[1]
        differ_sign = np.sign(ha["car"]) != np.sign(hb["car"])
        differ_verdict = (ha["pvalue"] < 0.05) != (hb["pvalue"] < 0.05)
        if differ_sign or differ_verdict:
            out += (
                f" The {a} and {b} bars disagree on the first hour (abnormal {ha['car']:+.2%}, p = "
                f"{format_value(ha['pvalue'], 'p')} against {hb['car']:+.2%}, p = {format_value(hb['pvalue'], 'p')}): "
                f"each window starts at its first bar's close, {_minutes(a)} after the open on {a} bars and "
                f"{_minutes(b)} on {b} bars, so the moves of the minutes between count in one and not the other"
                + (
                    f", and missing bars ({int(ha['missing'])} on {a}, {int(hb['missing'])} on {b}) are left out"
                    if int(ha["missing"]) or int(hb["missing"])
                    else ""
                )
                + "."
            )
    return out


def _minutes(interval: str) -> str:
    minutes = int(INTERVALS[interval] / pd.Timedelta(minutes=1))
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def _where_one(
    rows: FirstRows, case: IntradayCase, ticker: str, interval: str, market: str, *, legs: bool = True
) -> str | None:
    """The first hour and the rest of the session on ``interval`` bars; with ``legs`` also the overnight gap
    and the daily open-to-close return (said once per ticker, whatever the interval)."""
    gap = rows.get(case.name, ticker, "overnight gap (daily)", interval, market)
    source = "daily open over the previous close"
    if gap is None or not np.isfinite(gap["raw"]):
        gap = rows.get(case.name, ticker, "overnight gap (bars)", interval, market)
        source = "first bar's open over the previous session's last bar"
    day = rows.get(case.name, ticker, "open to close (daily)", interval, market)
    hour = rows.get(case.name, ticker, "first hour", interval, market)
    rest = rows.get(case.name, ticker, "rest of session", interval, market)
    if gap is None or hour is None or rest is None:
        return None

    def stat(row: pd.Series) -> str:
        if not np.isfinite(row["car"]):
            return f"abnormal return not computed ({int(row['missing'])} bars missing)"
        n = int(row["n_placebo"])
        placebo = (
            f"placebo p = {row['placebo_pvalue']:.2f} on {n} earlier sessions"
            if n >= MIN_PLACEBO_SESSIONS
            else f"too few sessions for a placebo p ({n} earlier, {MIN_PLACEBO_SESSIONS} needed)"
        )
        return f"abnormal {row['car']:+.2%} against {market}, t = {row['t']:.2f}, {placebo}"

    def pct(value: float) -> str:
        return f"{value:+.2%}" if np.isfinite(value) else "not measurable (a bar is missing, or a break lies inside)"

    gap_text = f"{gap['raw']:+.2%}" if np.isfinite(gap["raw"]) else "not measurable (a bar is missing)"
    day_text = f"; open to close in the daily file {day['raw']:+.2%}" if day is not None else ""
    if not legs:
        return (
            f"On {interval} bars: first hour {pct(hour['price_change'])} ({stat(hour)}); rest of the session "
            f"{pct(rest['price_change'])} ({stat(rest)})."
        )
    return (
        f"**{ticker}** ({interval} bars): overnight gap {gap_text} ({source}); first hour "
        f"{pct(hour['price_change'])} from the first bar's close ({stat(hour)}); rest of the session "
        f"{pct(rest['price_change'])} ({stat(rest)})"
        f"{day_text}."
    )


def intraday_section(
    intraday_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    cases: tuple[IntradayCase, ...] | None = None,
    *,
    daily_dirs: list[str | os.PathLike[str]] | None = None,
    daily_sources: Sequence[CsvSource] = (),
    heading_level: int = 2,
) -> str:
    """Write the intraday figure and table into ``out_dir`` and return the report section as Markdown.

    Parameters
    ----------
    intraday_dir
        Folder of ``<TICKER>_<interval>.csv`` bars (the shared ``data/intraday``).
    out_dir
        Where ``figures/intraday.png`` and ``tables/intraday.csv`` go (folders created); the Markdown links
        to them relative to ``out_dir``.
    cases
        The days to study (default: :func:`load_cases` of the built-in file, 2025-05-13 and 2025-05-14 for
        NVDA, AMD and SMH against SPY and QQQ, and Tokyo's chip stocks against the Nikkei 225 on 2025-04-16).
    daily_dirs
        Folders of daily ``<TICKER>.csv`` files for the overnight gaps (default: ``prices`` and
        ``prices_global`` beside ``intraday_dir``).
    daily_sources
        Sources of those folders already open, reused (with the files they keep) instead of new ones.
    heading_level
        Markdown level of the section heading.

    Returns
    -------
    str
        The section: what was measured, where each price moved, the table, the figure.
    """
    folder = Path(intraday_dir)
    if not folder.is_dir():
        raise DataSourceError(f"The intraday folder {folder} does not exist.", failures={str(folder): "no folder"})
    out = Path(out_dir)
    cases = load_cases() if cases is None else cases
    table, fitted = intraday_table(folder, cases, daily_dirs=daily_dirs, daily_sources=daily_sources)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "tables" / "intraday.csv", index=False)
    figure = _figure(fitted, out) if fitted else None
    h = "#" * heading_level
    lines = [
        f"{h} Intraday event windows: when did the price move?",
        "",
        "Daily returns cannot tell an announcement from the other news of its day. Here each day is split into "
        "the overnight gap (the first bar's open over the last close before it) and bar returns inside the "
        "regular session; a market model is fitted on bar returns of the sessions before (OLS, MacKinlay "
        "variances), and the placebo p-value ranks the event's CAR among the CARs of the same clock-time window "
        f"on earlier sessions, with no normality assumed (printed only from {MIN_PLACEBO_SESSIONS} sessions on, "
        "the fewest for which p can reach 5%). Where the 1- and 5-minute bars disagree, both are shown. Inputs: `tables/intraday.csv` and the bars in "
        f"`{folder.name}/` (see PROVENANCE-global-intraday.md; the Tokyo files stamp the bar end and are moved "
        "to the bar start).",
        "",
    ]
    rows = FirstRows(table, ("case", "ticker", "window", "interval", "market"))
    for case in cases:
        texts = [_where_text(rows, case, t) for t in case.tickers]
        texts = [t for t in texts if t]
        if not texts:
            continue
        lines += [f"{h}# {case.name}", "", case.note, ""] if case.note else [f"{h}# {case.name}", ""]
        lines += [f"- {t}" for t in texts] + [""]
    shown = table.loc[table["interval"].isin(["1m", "5m"])].copy()
    for column in ("price_change", "market_price_change", "car", "se"):
        shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:+.2%}")
    for column in ("t",):
        shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    shown["pvalue"] = shown["pvalue"].map(lambda v: format_value(v, "p"))
    shown["placebo_pvalue"] = [
        format_value(v, "p") if pd.isna(n) or n >= MIN_PLACEBO_SESSIONS else "too few sessions"
        for v, n in zip(shown["placebo_pvalue"], shown["n_placebo"])
    ]
    shown["n_placebo"] = shown["n_placebo"].map(lambda v: format_value(v, "{:.0f}"))
    keep = ["case", "interval", "ticker", "market", "window", "price_change", "market_price_change", "car", "t", "pvalue",
            "placebo_pvalue", "n_placebo"]  # fmt: skip
    summary = f"Every window, ticker and bar interval: {len(shown)} rows (also <code>tables/intraday.csv</code>)"
    lines += [collapsed(summary, md_table(shown[keep].fillna(""))), ""]
    if figure is not None:
        lines += [f"![Cumulative raw and abnormal returns through the day]({figure.relative_to(out).as_posix()})", ""]
    return "\n".join(lines)
