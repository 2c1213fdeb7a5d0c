"""The written report: the story in Markdown (answer, events, raw moves, abnormal returns, tests, confounders,
figures, method, provenance) and the same text as a standalone HTML page."""

from __future__ import annotations

import html
import shlex
from pathlib import Path

import markdown as markdown_lib
import numpy as np
import pandas as pd

from eventstudy.foundation.summary import format_table, format_value, window_label
from eventstudy.inference import recommend
from eventstudy.report._text import collapsed, join_words, md_table, p_text, rule_text, slug
from eventstudy.report.config import ReportConfig, is_default_study
from eventstudy.report.provenance import relative_path, report_root
from eventstudy.report.run import Report, StudyRun
from eventstudy.time.eventtime import session_label

__all__ = ["render_markdown", "render_html"]


def render_markdown(report: Report) -> str:
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
        f"{window_label(config.event_window)} trading days. Regenerate it with the command under [How to regenerate](#how-to-regenerate).*",
        "",
        "## The answer in brief",
        "",
    ]
    lines += _headline(report)
    lines += ["", "## Events studied", ""]
    ev = report.events
    lines.append(
        md_table(
            pd.DataFrame(
                {
                    "event_id": ev["id"],
                    "date": ev["date"].dt.strftime("%Y-%m-%d"),
                    "release session": session_label(ev),
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
            f"Where the release session is unknown, the catalog cannot say whether the release came before or after "
            f"the close: day 0 is {rule_text(config.unknown_session)} the date, and the brief and the focus table also "
            "show the other candidate day 0 (the (0,+1) window covers both).",
        ]
    lines += _dropped_section(report)
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
    lines.append(md_table(raw_view))
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
            md_table(
                view.rename(
                    columns={"move_pct": "reported %", "data_pct": "data %", "difference_pp": "difference (pp)"}
                )
            )
        )
        lines += [
            "",
            "Only `close` rows are close-to-close returns; intraday, day and after-hours figures are not "
            "comparable, so no difference is computed for them.",
        ]
    lines += ["", "## Abnormal returns of the focus stocks", ""]
    lines.append(md_table(_focus_table(report)))
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
        if name != "prices":  # shown with the answer in brief
            lines += [f"![{name}]({path})", ""]
    if config.prose.get("closing"):
        lines += [config.prose["closing"], ""]
    lines += ["## Method", ""]
    lines += _method_text(report)
    lines += ["", "## Data provenance", ""]
    lines += _provenance_text(report)
    if report.warnings:
        listed = "\n".join(f"- {w}" for w in report.warnings)
        lines += ["", "## Warnings raised during the run", "", collapsed(f"{len(report.warnings)} warnings", listed)]
    lines += ["", "## How to regenerate", ""] + _regenerate_section(config)
    lines += ["", "## Files", ""]
    files = [f"- `{path}`" for path in [*report.tables.values()]]
    lines += ["- `results.json`: every number above", "", collapsed(f"{len(files)} tables (CSV)", "\n".join(files))]
    return "\n".join(lines) + "\n"


def _regenerate_section(config: ReportConfig) -> list[str]:
    """The command that wrote this report, run from the folder that holds the report's folder, with the
    inputs' paths relative to it (so the text is the same on every machine with the same layout)."""
    root = report_root(config.out_dir)
    options = list(config.command or ())
    if config.command is None:  # built from Python, not the command line: what the config says of its inputs
        if config.study and not is_default_study(config):
            options.append(("--study", config.study, False))
        for flag, value in (("--prices-dir", config.prices_dir), ("--reported-moves", config.reported_moves)):
            if value:
                options.append((flag, value, True))
    words = ["eventstudy report"]
    for flag, value, is_path in options:
        if flag == "--out":
            continue
        shown = relative_path(value, root) if is_path and value else value
        words.append(flag if value is None else f"{flag} {_quoted(shown)}")
    words.append(f"--out {_quoted(config.out_dir.name)}")
    where = Path(config.out).parent if config.out and not Path(config.out).is_absolute() else None
    holder = f" (`{where.as_posix()}/` here)" if where is not None and where.parts else ""
    if config.out is None:
        holder = " (`results/` here)"
    origin = (
        "These are the options this report was built with; the study's other settings come from its study file "
        "(the package's own when no `--study` is given)."
        if config.command is not None
        else "This report was built from Python: the command gives its inputs; `results.json` records every setting."
    )
    return [
        f"From the folder that holds this report's folder{holder}:",
        "",
        "```bash",
        " \\\n  ".join(words),
        "```",
        "",
        origin,
        "",
        "- `--prices-dir`: a folder of `<TICKER>.csv` daily prices, read offline; without it prices come from Yahoo "
        "Finance through the local cache (`EVENTSTUDY_OFFLINE=1` forbids the network).",
        "- `--reported-moves`: press-reported price moves to check against the data.",
        "- `--unknown-session post`: place events whose release session is unknown on the next session instead of "
        "the first that could react."
        if config.unknown_session == "pre"
        else "- `--unknown-session pre`: place events whose release session is unknown on the first session that "
        "could react instead of the next.",
        "- `--study FILE`: another study (title, question, events, tickers, benchmarks, windows, focus stocks, prose); "
        "`eventstudy report --help` lists every option.",
        "",
        "Every number above is in `results.json`, with the settings and the SHA-256 of the returns used.",
    ]


def _quoted(text: str | None) -> str:
    """A shell word: quoted when it holds spaces or shell characters."""
    return shlex.quote(text) if text else ""


def _model_text(config: ReportConfig) -> str:
    specs = ", ".join(("market model vs " if "+" not in b else "multi-index model on ") + b for b in config.market)
    return specs if config.model == "market" else f"{config.model} model" + (f"; {specs}" if specs else "")


def _headline(report: Report) -> list[str]:
    """One sentence per event, the day-0 numbers behind them in one table (both candidate day 0s of an event
    whose release session is unknown, and the (0,+1) window that covers both), then the price figure."""
    config = report.config
    focus = [t for t in config.focus_tickers if t in report.returns.columns]
    rows = _day0_rows(report, focus)
    lines = [f"- {_event_sentence(report, event, rows)}" for event in report.events.itertuples()]
    shown = rows[
        [
            not (e in set(report.alternate_events.get("id", [])) and d != f"{day0:%Y-%m-%d}")
            for e, d, day0 in zip(
                rows["event_id"],
                rows["day 0"],
                rows["event_id"].map(dict(zip(report.events["id"], report.events["day0"]))),
            )
        ]
    ]
    if len(shown):
        table = shown.assign(
            raw=shown["raw"].map(lambda v: format_value(v, "pct")),
            abnormal=shown["abnormal"].map(lambda v: format_value(v, "pct")),
            t=shown["t"].map(lambda v: format_value(v, "{:.2f}")),
            p=shown["p"].map(lambda v: format_value(v, "p")),
        ).rename(columns={"raw": "raw day 0", "abnormal": "abnormal day 0"})
        lines += [
            "",
            md_table(table),
            "",
            "Raw: the close-to-close return on day 0. Abnormal: minus the model's prediction, with MacKinlay's t and "
            "its two-sided p (T-K degrees of freedom)."
            + (
                " An event whose release session is unknown is shown at the study's day 0 here, at both below."
                if len(report.alternate_events)
                else ""
            ),
        ]
    bracket = _bracket_table(report, focus)
    if len(bracket):
        lines += [
            "",
            "Both candidate day 0s of an event whose release session is unknown, and the (0,+1) window from the "
            "first, which covers both:",
        ]
        for _, one in bracket.groupby("event_id", sort=False):  # each event's own day 0s name its columns
            lines += ["", md_table(one.dropna(axis=1, how="all"))]
    if "prices" in report.figures:
        lines += ["", f"![Prices around the events]({report.figures['prices']})"]
    pooled = _pooled_day0(report)
    if pooled:
        lines += ["", pooled]
    reading = config.prose.get(
        "reading", "Check the confounders below before reading any abnormal return as the events' effect."
    )
    lines += ["", reading]
    return lines


def _day0_rows(report: Report, focus: list[str]) -> pd.DataFrame:
    """Event, day 0, ticker, benchmark, raw day-0 return, abnormal return, t and p of every focus firm-event;
    an event of unknown release session once per candidate day 0 (the study's, then the other rule's)."""
    rows = []
    readings = [(report.events, report.runs)]
    if len(report.alternate_events):
        readings.append((report.alternate_events, report.alternates))
    for events, runs in readings:
        for event_id, day0 in zip(events["id"], events["day0"]):
            for ticker in focus:
                raw = report.returns[ticker].get(day0, np.nan)
                for run in runs:
                    hit = run.car_of((0, 0), event_id, ticker)
                    if hit is not None:
                        rows.append(
                            {"event_id": event_id, "day 0": f"{day0:%Y-%m-%d}", "ticker": ticker, "raw": raw}
                            | {"benchmark": run.label, "abnormal": hit["car"], "t": hit["t"], "p": hit["pvalue"]}
                        )
    columns = ["event_id", "day 0", "ticker", "raw", "benchmark", "abnormal", "t", "p"]
    frame = pd.DataFrame(rows, columns=columns)
    order = {e: k for k, e in enumerate(report.events["id"])}
    return frame.sort_values(
        ["event_id", "day 0"], key=lambda c: c.map(order) if c.name == "event_id" else c, kind="stable"
    ).reset_index(drop=True)


def _bracket_table(report: Report, focus: list[str]) -> pd.DataFrame:
    """For each event of unknown release session: every focus stock's day-0 abnormal return at both candidate
    day 0s and its CAR over (0,+1) from the first, against every benchmark (percent, t, p)."""
    rows: list[dict] = []
    if report.alternate_events.empty:
        return pd.DataFrame(rows)
    for event_id, first, second in zip(
        report.alternate_events["id"],
        report.events.set_index("id").loc[report.alternate_events["id"], "day0"],
        report.alternate_events["day0"],
    ):
        for ticker in focus:
            for run, other in zip(report.runs, report.alternates):
                studied = {*zip(run.results.firm_events["event_id"], run.results.firm_events["ticker"])}
                studied |= {*zip(run.results.dropped["event_id"], run.results.dropped["ticker"])}
                if (event_id, ticker) not in studied:  # a firm-event design: not one of this event's firms
                    continue
                a, b = run.car_of((0, 0), event_id, ticker), other.car_of((0, 0), event_id, ticker)
                both = run.results.car((0, 1))
                c = both[(both["event_id"] == event_id) & (both["ticker"] == ticker)]
                row = {"event_id": event_id, "ticker": ticker, "benchmark": run.label}
                for label, hit in ((f"AR {first:%Y-%m-%d}", a), (f"AR {second:%Y-%m-%d}", b)):
                    row[label] = format_value(hit["car"], "pct") if hit is not None else "dropped"
                    row[f"t {label[3:]}"] = format_value(hit["t"], "{:.2f}") if hit is not None else ""
                    row[f"p {label[3:]}"] = format_value(hit["pvalue"], "p") if hit is not None else ""
                row["CAR (0,+1)"] = format_value(c["car"].iloc[0], "pct") if len(c) else "dropped"
                row["t (0,+1)"] = format_value(c["t"].iloc[0], "{:.2f}") if len(c) else ""
                rows.append(row)
    return pd.DataFrame(rows)


def _event_sentence(report: Report, event, rows: pd.DataFrame) -> str:
    """``**id** (day 0 ..., session release): NVDA rose 3.10% and AMD 1.76%; abnormal NVDA +2.17% vs SPY, ...;
    whether any benchmark makes one significant at 5%; the suited same-day test's verdict; the largest raw move
    when it fell on another day.``  An event whose release session is unknown gets the same clauses for each
    candidate day 0, then the conclusions (significance at 5% of a focus stock against a benchmark) that
    differ between them."""
    mine = rows[rows["event_id"] == event.id]
    if mine.empty:
        return (
            f"**{event.id}** (day 0 {event.day0:%Y-%m-%d}, {event.session} release): no focus stock was estimated "
            "around this event."
        )
    day0s = list(dict.fromkeys(mine["day 0"]))
    if len(day0s) == 1:
        head = f"**{event.id}** (day 0 {event.day0:%Y-%m-%d}, {event.session} release)"
        body = _day0_clauses(mine, bracketed=False) + _suited_verdict(report.runs[0], event.id)
        return f"{head}: {body}" + _largest_move(report, event.day0, str(mine["ticker"].iloc[0]))
    head = (
        f"**{event.id}** (release session not in the catalog, so two candidate day 0s: {day0s[0]} if the release "
        f"came before that session's close, {day0s[1]} if after)"
    )
    parts = [
        f"With day 0 {day0s[0]}: {_day0_clauses(mine[mine['day 0'] == day0s[0]], bracketed=True)}"
        + _suited_verdict(report.runs[0], event.id),
        f"With day 0 {day0s[1]}: {_day0_clauses(mine[mine['day 0'] == day0s[1]], bracketed=True)}"
        + (_suited_verdict(report.alternates[0], event.id) if report.alternates else ""),
    ]
    return f"{head}: " + " ".join(parts) + " " + _changes(mine, day0s)


def _suited_verdict(run: StudyRun, event_id: str) -> str:
    """The day-0 verdict of the same-day tests suited to the design (:func:`recommend`) that test this event's
    firm-events as one cluster, e.g. `` Across the 14 stocks (mvrm_average vs SPY): p = 0.104.``"""
    suited = [name for name, _ in recommend(run.results.fit)]
    tests = run.tests
    pick = tests[
        tests["test"].isin(suited)
        & (tests["event_id"] == event_id)
        & (tests["window_start"] == 0)
        & (tests["window_end"] == 0)
        & (tests["scope"] == "clustered")
    ]
    parts = [
        f"{test} {run.label}: {p_text(p)} over {n} stocks"
        for test, p, n in zip(pick["test"], pick["pvalue"], pick["n"])
        if np.isfinite(p)
    ]
    return f" Suited same-day test: {'; '.join(parts)}." if parts else ""


def _day0_clauses(mine: pd.DataFrame, *, bracketed: bool) -> str:
    """Raw moves, abnormal returns against every benchmark, and the verdict at 5% of one day 0's rows."""
    clauses = []
    moves = [
        f"{t} {'rose' if r > 0 else 'fell' if r < 0 else 'was flat'}{f' {abs(r):.2%}' if r else ''}"
        for t, r in mine.drop_duplicates("ticker")[["ticker", "raw"]].itertuples(index=False)
        if np.isfinite(r)
    ]
    if moves:
        clauses.append(f"{join_words(moves)}" + ("" if bracketed else " on day 0"))
    abnormal = [
        f"{ticker} "
        + ", ".join(f"{format_value(a, 'pct') or 'n/a'} {b}" for b, a in zip(group["benchmark"], group["abnormal"]))
        for ticker, group in mine.groupby("ticker", sort=False)
    ]
    clauses.append("abnormal " + "; ".join(abnormal))
    sentence = "; ".join(clauses) + "."
    tested = mine[mine["p"].notna()]
    significant = tested[tested["p"] < 0.05]
    if tested.empty:
        sentence += " No day-0 abnormal return could be tested."
    elif significant.empty:
        k = int(np.argmin(tested["p"].to_numpy()))
        count = tested["benchmark"].nunique()
        against = "the benchmark" if count == 1 else f"any of the {count} benchmarks"
        sentence += (
            f" No day-0 abnormal return of {join_words(list(dict.fromkeys(tested['ticker'])))} is significant at "
            f"5% against {against} (smallest {p_text(tested['p'].iloc[k])}, "
            f"{tested['ticker'].iloc[k]} {tested['benchmark'].iloc[k]})."
        )
    else:
        shown = [
            f"{t} {b} ({p_text(p)})" for t, b, p in significant[["ticker", "benchmark", "p"]].itertuples(index=False)
        ]
        sentence += f" Significant at 5%: {join_words(shown)}."
    return sentence


def _changes(mine: pd.DataFrame, day0s: list[str]) -> str:
    """Which focus stock / benchmark verdicts at 5% differ between the two candidate day 0s."""
    verdict = {
        d: {
            (t, b): p < 0.05
            for t, b, p in mine[mine["day 0"] == d][["ticker", "benchmark", "p"]].itertuples(index=False)
            if np.isfinite(p)
        }
        for d in day0s
    }
    first, second = verdict[day0s[0]], verdict[day0s[1]]
    only = {
        d: [f"{t} {b}" for (t, b), sig in mine_v.items() if sig and not other.get((t, b), False)]
        for d, mine_v, other in ((day0s[0], first, second), (day0s[1], second, first))
    }
    if not only[day0s[0]] and not only[day0s[1]]:
        return "The choice of day 0 changes no verdict at 5%."
    said = [f"significant at 5% only with day 0 {d}: {join_words(names)}" for d, names in only.items() if names]
    return "The choice of day 0 changes the verdict: " + "; ".join(said) + "."


def _largest_move(report: Report, day0: pd.Timestamp, ticker: str) -> str:
    """A sentence when ``ticker``'s largest raw move in the event window fell on another day than day 0."""
    position = int(report.returns.index.get_indexer(pd.DatetimeIndex([day0]))[0])
    if position < 0:  # day 0 outside the returns: no window to search
        return ""
    lo, hi = report.config.event_window
    first = max(position + lo, 0)
    span = report.returns[ticker].iloc[first : position + hi + 1]
    if not span.notna().any():
        return ""
    k = int(np.nanargmax(span.abs().to_numpy()))  # the first largest, as idxmax
    day, rel = span.index[k], first + k - position
    if rel == 0:
        return ""
    return f" {ticker}'s largest raw move in the event window was {format_value(span.iloc[k], 'pct')} on {day:%Y-%m-%d} (day {rel:+d})."


def _pooled_day0(report: Report) -> str:
    """The average day-0 abnormal return and the verdicts of the tests suited to the design (:func:`recommend`,
    from the measured size); tests that reject at 5% but are not suited are named as such."""
    run = report.runs[0]
    res = run.results
    tests = run.tests
    suited = [name for name, _ in recommend(res.fit)]
    signed = _signs(res)
    if signed is not None:  # the study mixes easing and tightening: pool signed abnormal returns
        tests = res.tests([(0, 0)], tests=suited, align="direction")
    day0 = (tests["window_start"] == 0) & (tests["window_end"] == 0) & (tests["scope"] != "single")
    pick = tests[tests["test"].isin(suited) & day0]
    parts = []
    for test, event_id, stat, pvalue, note in zip(
        pick["test"], pick["event_id"], pick["stat"], pick["pvalue"], pick["note"]
    ):
        where = f" [{event_id}]" if isinstance(event_id, str) else ""
        if np.isfinite(stat):
            parts.append(f"{test}{where}: stat {stat:.2f}, {p_text(pvalue)}")
        else:
            parts.append(f"{test}{where}: not computed ({note})")
    if signed is not None:
        ar0 = res.car((0, 0))["car"].to_numpy() * signed
        average = float(np.nanmean(ar0)) if np.isfinite(ar0).any() else float("nan")
        return (
            "The events differ in direction (easing and tightening), so the pooled figures use signed abnormal "
            "returns: each firm-event's times +1 for easing news and -1 for tightening or retaliation, so that a "
            "positive value means the stocks moved the way the news was expected to move them "
            f'(res.tests(..., align="direction")). Across all {res.n} firm-events {run.label}, the average '
            f"signed day-0 abnormal return was {format_value(average, 'pct')}; same-day tests on signed "
            "abnormal returns: " + "; ".join(parts) + "."
        )
    aar = run.tables["aar"]
    mean = aar.loc[aar["event_time"] == 0, "aar"]
    text = (
        f"Across all {run.results.n} firm-events {run.label}, the average day-0 abnormal return was "
        f"{format_value(mean.iloc[0], 'pct') if len(mean) else 'n/a'}"
    )
    if parts:
        text += "; the tests suited to this design: " + "; ".join(parts)
    rejecting = tests[day0 & ~tests["test"].isin(suited) & (tests["pvalue"] < 0.05)]
    if len(rejecting):
        named = [
            f"{test}{f' [{e}]' if isinstance(e, str) else ''} ({p_text(p)})"
            for test, e, p in zip(rejecting["test"], rejecting["event_id"], rejecting["pvalue"])
        ]
        text += (
            f". Rejecting at 5% but not suited here, because on this design they reject more or less often than "
            f"5% with no effect (results/size-power): {join_words(named)}"
        )
    return text + "." + _unsigned_note(res)


def _unsigned_note(res) -> str:
    """A sentence when the events mix easing and tightening but some have no sign, so pooling stays unsigned."""
    fe = res.firm_events
    if "direction" not in fe.columns:
        return ""
    directions = set(fe["direction"].astype(str).str.strip().str.lower())
    if not ({"easing"} & directions and {"tightening", "retaliation"} & directions):
        return ""
    unsigned = sorted(d or "(empty)" for d in directions - {"easing", "tightening", "retaliation"})
    if not unsigned or "sign" in fe.columns:
        return ""
    return (
        " These figures pool easing and tightening events unsigned, so opposite moves can cancel: some events' "
        f"direction ({', '.join(unsigned)}) has no sign; give the events a 'sign' column (+1 or -1) to pool "
        "signed abnormal returns."
    )


def _signs(res) -> np.ndarray | None:
    """Each firm-event's sign when the study mixes directions that all have one (else None: pool as they are)."""
    fe = res.firm_events
    if "direction" not in fe.columns and "sign" not in fe.columns:
        return None
    try:
        signs = res.signs()
    except (KeyError, ValueError):  # a direction without a sign (mixed, empty): nothing to align by
        return None
    return signs if len(set(signs.tolist())) > 1 else None


def _focus_table(report: Report) -> pd.DataFrame:
    """CARs and t of the focus stocks on every window and benchmark; an event of unknown release session
    once per candidate day 0."""
    rows = []
    alternates = dict(zip(report.alternate_events.get("id", []), report.alternate_events.get("day0", [])))
    for k, run in enumerate(report.runs):
        res = run.results
        studied = {*zip(res.firm_events["event_id"], res.firm_events["ticker"])}
        studied |= {*zip(res.dropped["event_id"], res.dropped["ticker"])}
        for ticker in report.config.focus_tickers:
            for event_id, day0 in zip(report.events["id"], report.events["day0"]):
                if (event_id, ticker) not in studied:  # a firm-event design: not one of this event's firms
                    continue
                readings = [(run, day0)]
                if event_id in alternates and k < len(report.alternates):
                    readings.append((report.alternates[k], alternates[event_id]))
                for source, when in readings:
                    row = {"benchmark": run.label, "event_id": event_id, "day 0": f"{when:%Y-%m-%d}", "ticker": ticker}
                    for window in source.car:
                        hit = source.car_of(window, event_id, ticker)
                        label = window_label(window)
                        row[f"CAR {label}"] = format_value(hit["car"], "pct") if hit is not None else "dropped"
                        row[f"t {label}"] = format_value(hit["t"], "{:.2f}") if hit is not None else ""
                    rows.append(row)
    return pd.DataFrame(rows)


def _decomposition_text(report: Report) -> list[str]:
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
        md_table(view),
    ]


def _tests_text(report: Report) -> list[str]:
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
            collapsed(
                f"Every test {run.label}: {len(view)} rows (also <code>tables/tests_{slug(run.label)}.csv</code>)",
                md_table(view[["test", "event_id", "window", "stat", "pvalue", "n", "note"]]),
            ),
            "",
        ]
        if run is report.runs[0]:
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


def _method_text(report: Report) -> list[str]:
    config = report.config
    return [
        f"- Normal-return model: {_model_text(config)}, fitted by OLS on each firm-event's estimation window "
        f"{window_label(config.estimation_window)} (trading days relative to day 0).",
        "- Day 0 is the first NYSE session that could react to the release: the event date for releases before the "
        "open or during the session, the next session for releases after the close; where the catalog does not "
        "record the release session, both candidates are fitted and shown.",
        "- Abnormal return = actual minus the model's prediction; CAR sums them over the window; standard errors "
        "follow MacKinlay (1997) with the prediction-error term and the full covariance of the window.",
        f"- Returns: {config.return_kind} close-to-close returns from {config.price_field} prices, aligned to NYSE "
        "sessions without filling gaps.",
        "- Tests: Patell (1976), Boehmer-Musumeci-Poulsen (1991), Kolari-Pynnonen (2010), Corrado (1989) rank and "
        "Cowan (1992) generalized sign, Brown-Warner (1985), Binder (1985) multivariate regression; see "
        "`eventstudy.inference` for formulas.",
    ]


def _provenance_text(report: Report) -> list[str]:
    primary = report.runs[0].results.provenance
    lines = ["- Price source:"] + [f"    - {line}" for line in _source_lines(report.source)]
    lines.append(f"- SHA-256 of the returns used: `{primary.get('returns_sha256', '')}`")
    ranges = primary.get("return_ranges", {})
    if ranges:
        lines.append("- Return ranges: " + "; ".join(f"{k} {v[0]}..{v[1]}" for k, v in ranges.items() if v))
    for note in primary.get("notes", []):
        lines.append(f"- Note: {note}")
    versions = primary.get("versions", {})
    lines.append("- Software: " + ", ".join(f"{k} {v}" for k, v in versions.items() if v))
    dropped = _dropped(report)
    if len(dropped):
        other = len(report.alternate_dropped)  # the last rows of _dropped
        first = (
            f"{len(dropped) - other} firm-event(s) could not be estimated"
            if len(dropped) > other
            else "Every firm-event was estimated at the study's day 0"
        )
        lines.append(
            f"- {first}"
            + (f"; {other} could not be at the other candidate day 0" if other else "")
            + ": see [Dropped](#dropped)."
        )
    else:
        lines.append("- Every firm-event was estimated (none dropped).")
    return lines


#: how the Dropped table marks a firm-event dropped when an unknown-session event is read at its other day 0
_OTHER_DAY0 = "at the other candidate day 0 "


def _dropped(report: Report) -> pd.DataFrame:
    """Every run's dropped firm-events, then those dropped only when an event of unknown release session is
    read at its other candidate day 0 (their reason says so)."""
    tables = [run.tables["dropped"].assign(benchmark=run.label) for run in report.runs]
    other = report.alternate_dropped
    if len(other):
        days = pd.to_datetime(other["day0"]).dt.strftime("%Y-%m-%d")
        tables.append(other.assign(reason=_OTHER_DAY0 + "(" + days + "): " + other["reason"]))
    return pd.concat(tables, ignore_index=True)


def _dropped_section(report: Report) -> list[str]:
    """The firm-events that could not be estimated, each with its reason (none: no section)."""
    dropped = _dropped(report)
    if dropped.empty:
        return []
    lines = ["", "## Dropped", ""]
    estimated = {e for run in report.runs for e in run.results.firm_events["event_id"]}
    gone = [e for e in report.events["id"] if e not in estimated]
    if gone:
        lines += [
            f"No firm-event of {', '.join(gone)} could be estimated: the figures and tables leave "
            f"{'it' if len(gone) == 1 else 'them'} out.",
            "",
        ]
    firms = {t for run in report.runs for t in run.results.firm_events["ticker"]}
    idle = [t for t in report.config.tickers if t not in firms]
    if idle:
        lines += [f"No firm-event of the ticker(s) {', '.join(idle)} could be estimated.", ""]
    lines.append(md_table(dropped[["benchmark", "event_id", "ticker", "reason"]]))
    return lines


#: the standalone page's style: readable on screen, and printed (A4 or Letter) in a dozen pages, the exhaustive
#: tables folded (``<details>``) and the figures two to a page
_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}th,td{border:1px solid #ccc;padding:3px 7px}
th{background:#f3f3f3}img{max-width:100%}code{background:#f5f5f5;padding:0 3px}
.wide{overflow-x:auto;max-width:100%}
nav.toc{border:1px solid #ddd;background:#fafafa;padding:0.3em 1em;margin:1em 0}
nav.toc ul{columns:2;margin:0.3em 0;padding-left:1.2em}nav.toc h2{font-size:1.1em;margin:0.4em 0}
details{margin:0.8em 0}summary{cursor:pointer;color:#1a4d8f}
pre{background:#f5f5f5;padding:0.5em;overflow-x:auto}
@page{margin:12mm}
@media print{
body{max-width:none;margin:0;padding:0;font-size:9pt;line-height:1.3}
table{font-size:7.5pt}th,td{padding:1px 4px}
img{display:block;max-height:72mm;width:auto;max-width:100%;margin:0 auto;break-inside:avoid}
h1,h2,h3{break-after:avoid}h1{font-size:16pt}h2{font-size:12.5pt;margin:0.8em 0 0.3em}h3{font-size:10.5pt}
.wide{overflow:visible}pre{white-space:pre-wrap}summary{color:#000}
nav.toc ul{columns:3}
a{color:inherit;text-decoration:none}
}
""".replace("\n", "")


def _source_lines(source: dict) -> list[str]:
    """The price source's description as readable lines, one field each (its versions are listed apart)."""
    lines = []
    for key, value in source.items():
        if key in ("name", "versions") or value in (None, "", [], {}):
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        lines.append(
            f"{key.replace('_', ' ')}: `{shown}`"
            if key in ("location", "path", "file")
            else f"{key.replace('_', ' ')}: {shown}"
        )
    return lines


def render_html(markdown_text: str, title: str) -> str:
    """The report's Markdown as one standalone page: a table of contents after the title, wide tables that
    scroll instead of widening the page, the ``<details>`` blocks of the Markdown folded."""
    # toc: ids on headings and the contents; fenced_code: the command to regenerate; md_in_html: the tables
    # inside <details>
    converter = markdown_lib.Markdown(
        extensions=["tables", "toc", "fenced_code", "md_in_html"], extension_configs={"toc": {"toc_depth": "2-2"}}
    )
    body = converter.convert(markdown_text).replace("<table>", '<div class="wide"><table>')
    body = body.replace("</table>", "</table></div>")
    contents = getattr(converter, "toc", "")
    if contents and "</h1>" in body:
        nav = f'<nav class="toc" aria-label="Contents"><h2>Contents</h2>\n{contents}</nav>'
        body = body.replace("</h1>", "</h1>\n" + nav, 1)
    return (
        f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{_STYLE}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )
