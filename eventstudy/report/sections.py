"""The extra sections a study file asks for: volume, volatility and GARCH ("outcomes"), non-US listings
("global") and minute bars ("intraday").  Each writes its own table and figure and returns its Markdown."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from eventstudy.foundation.summary import window_label
from eventstudy.plotting.sensitivity import plot_sensitivity
from eventstudy.report._text import md_table
from eventstudy.report.figures import save_png
from eventstudy.report.global_listings import global_section
from eventstudy.report.intraday import intraday_section, load_cases
from eventstudy.report.outcomes import outcome_rows
from eventstudy.report.run import Report

__all__ = ["extra_sections", "sensitivity_section"]


def extra_sections(report: Report, out: Path) -> list[str]:
    """The sections of ``report.config.sections``, written into ``out``; a missing folder is said, not hidden."""
    config = report.config
    sections = []
    for name in config.sections:
        if name == "outcomes":  # reads the study's own source: volumes and high/low prices of the focus stocks
            sections.append(outcomes_section(report, out))
            continue
        if name == "sensitivity":  # refits the study's first specification: its own source
            sections.append(sensitivity_section(report, out))
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


def sensitivity_section(report: Report, out: Path) -> str:
    """The focus stocks' CARs under every specification the study file lists (``res.sensitivity``): a table of
    every cell (``tables/sensitivity.csv``), its range by firm-event and window, and a figure."""
    config = report.config
    res = report.runs[0].results
    benchmarks = [b.split("+") if "+" in b else b for b in config.sensitivity_benchmarks] or None
    table = res.sensitivity(
        config.table_windows,
        estimation_windows=list(config.sensitivity_estimation_windows) or None,
        models=list(config.sensitivity_models) or None,
        benchmarks=benchmarks,
    )
    table = table[table["ticker"].isin(config.focus_tickers)].reset_index(drop=True)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "tables" / "sensitivity.csv", index=False)
    report.tables["sensitivity"] = "tables/sensitivity.csv"
    specs = table.drop_duplicates(["model", "benchmark", "estimation_start", "estimation_end"])
    rows = []
    for (event_id, ticker, lo, hi), part in table.groupby(
        ["event_id", "ticker", "window_start", "window_end"], sort=False
    ):
        rows.append(
            {
                "event": event_id,
                "ticker": ticker,
                "window": window_label((int(lo), int(hi))),  # type: ignore[call-overload]
                "lowest CAR": f"{part['car'].min():+.2%}",
                "highest CAR": f"{part['car'].max():+.2%}",
                "p < 0.05": f"{int((part['pvalue'] < 0.05).sum())} of {len(part)}",
            }
        )
    (out / "figures").mkdir(parents=True, exist_ok=True)
    first = table.iloc[0]
    windows = list(dict.fromkeys(zip(table["window_start"], table["window_end"])))
    shown = (0, 1) if (0, 1) in windows else windows[0]
    fig = plot_sensitivity(table, event_id=str(first["event_id"]), ticker=str(first["ticker"]), window=shown)
    save_png(fig, out / "figures" / "sensitivity.png")
    import matplotlib.pyplot as plt

    plt.close(fig)
    report.figures["sensitivity"] = "figures/sensitivity.png"
    estimation = list(dict.fromkeys(zip(specs["estimation_start"], specs["estimation_end"])))
    dimensions = (
        f"models {', '.join(dict.fromkeys(specs['model']))}; benchmarks {', '.join(dict.fromkeys(specs['benchmark']))}; "
        f"estimation windows {', '.join(window_label((int(a), int(b))) for a, b in estimation)}"
    )
    return (
        f"## How much the answer depends on the specification ({', '.join(config.focus_tickers)})\n\n"
        f"Each CAR of {', '.join(config.focus_tickers)} refitted under {len(specs)} specifications ({dimensions}): "
        "the lowest and highest CAR across them and how many are significant at 5% (MacKinlay t). Every cell "
        "is in `tables/sensitivity.csv`; the figure shows "
        f"{first['ticker']}'s CAR{window_label((int(shown[0]), int(shown[1])))} under each.\n\n"
        + md_table(pd.DataFrame(rows))
        + "\n\n"
        f"![CAR by specification]({report.figures['sensitivity']})\n"
    )
