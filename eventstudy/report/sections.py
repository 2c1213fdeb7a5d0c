"""The extra sections a study file asks for: volume, volatility and GARCH ("outcomes"), non-US listings
("global") and minute bars ("intraday").  Each writes its own table and figure and returns its Markdown."""

from __future__ import annotations

from pathlib import Path

from eventstudy.report.global_listings import global_section
from eventstudy.report.intraday import intraday_section, load_cases
from eventstudy.report.outcomes import outcome_rows
from eventstudy.report.run import Report

__all__ = ["extra_sections"]


def extra_sections(report: Report, out: Path) -> list[str]:
    """The sections of ``report.config.sections``, written into ``out``; a missing folder is said, not hidden."""
    config = report.config
    sections = []
    for name in config.sections:
        if name == "outcomes":  # reads the study's own source: volumes and high/low prices of the focus stocks
            sections.append(outcomes_section(report, out))
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
                    source=report.daily_source(folder),
                )
            )
            report.tables["global"] = "tables/global_listings.csv"
        elif name == "intraday":
            cases = load_cases(config.intraday_cases) if config.intraday_cases else None
            # the daily files behind the overnight gaps: those the study and the sections before read are kept
            daily = list(report.daily_sources.values())
            sections.append(intraday_section(folder, out, cases, daily_sources=daily))
            report.tables["intraday"] = "tables/intraday.csv"
    return sections


def outcomes_section(report: Report, out: Path) -> str:
    """Abnormal volume, abnormal volatility and a GARCH row beside OLS for the focus stocks (issue 11)."""
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
    (out / "tables").mkdir(parents=True, exist_ok=True)
    rows.to_csv(out / "tables" / "outcomes.csv", index=False)
    report.tables["outcomes"] = "tables/outcomes.csv"
    return (
        f"## Volume, volatility and a GARCH model for {', '.join(config.focus_tickers)}\n\n"
        "An export control is an uncertainty shock: its trace may be in trading volume and volatility rather than "
        "in a significant mean move, and a GARCH model standardises each day's abnormal return by the variance "
        "forecast for that day instead of one OLS sigma.\n\n" + markdown.strip() + "\n"
    )
