"""The figures of the main study: prices around the events, CAR paths, day-0 abnormal returns, CAR heatmaps.

matplotlib is imported inside :func:`write_figures`, so importing the report needs no display.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from eventstudy.foundation.summary import window_label
from eventstudy.plotting import plot_ar, plot_car, plot_car_heatmap, plot_prices
from eventstudy.report._text import slug
from eventstudy.report.run import Report

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["write_figures", "save_png", "DPI"]

DPI = 110  # of every PNG of the report


def save_png(fig: Figure, path: Path) -> None:
    """Write ``fig`` to ``path`` as a PNG at :data:`DPI`, laid out once.

    ``savefig`` on a figure with a layout engine draws it twice: once without rendering, only to run the
    layout, then for real.  Running the layout here, at the output's dpi, and saving without the engine
    gives the same pixels for one draw instead of two (about a fifth of a figure's CPU).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig.set_dpi(DPI)
    FigureCanvasAgg(fig)  # the renderer the layout measures text with, as savefig's would
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
        fig.set_layout_engine(None)  # positions stay where the layout put them
    fig.savefig(path, dpi=DPI)


def write_figures(report: Report, out: Path) -> None:
    """Draw the study's figures into ``out/figures`` and record each one's relative path in ``report.figures``."""
    from matplotlib.figure import Figure

    folder = out / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    primary = report.runs[0].results
    label = report.runs[0].label
    focus = [t for t in report.config.focus_tickers if t in set(primary.firm_events["ticker"])]

    def save(fig: Figure, name: str) -> None:
        path = folder / f"{name}.png"
        save_png(fig, path)  # constrained layout already fits the figure: no second, tight-bbox pass
        report.figures[name] = f"figures/{path.name}"

    first = report.events["day0"].min() - pd.Timedelta(days=45)
    last = report.events["day0"].max() + pd.Timedelta(days=30)
    shown = [
        t
        for t in [*report.config.focus_tickers, *dict.fromkeys(b for run in report.runs for b in run.benchmark)]
        if t in report.prices
    ]
    fig = Figure(layout="constrained", figsize=(10, 4.5))
    studied = report.events  # the events of the study only: the title counts what the report studies
    plot_prices(
        report.prices[shown],
        events=studied,
        ax=fig.subplots(),
        start=first,
        end=last,
        label_chars=48,
        title=f"Prices rebased to 100 around the {len(studied)} event{'s' if len(studied) != 1 else ''} studied "
        f"(dotted lines: day 0)",
    )
    save(fig, "prices")

    estimated = set(primary.firm_events["event_id"])
    other_day0 = dict(zip(report.alternate_events.get("id", []), report.alternate_events.get("day0", [])))
    for event_id, day0 in zip(report.events["id"], report.events["day0"]):
        if event_id not in estimated:  # every firm-event of it dropped: the report lists them, no figure to draw
            continue
        # an event of unknown release session: one row per candidate day 0, the study's first
        readings = [(primary, day0)]
        if event_id in other_day0 and report.alternates:
            readings.append((report.alternates[0].results, other_day0[event_id]))
        # firm-events: each event its own firms; the focus panel only where a focus stock is one of them
        firms = {t for results, _ in readings for t in results.select(event_ids=[event_id]).firm_events["ticker"]}
        panels = 2 if firms & set(focus) else 1
        fig = Figure(layout="constrained", figsize=(12 if panels == 2 else 6, 4.5 * len(readings)))
        axes = fig.subplots(len(readings), panels, squeeze=False)
        for row, (results, when) in zip(axes, readings):
            left, right = row[0] if panels == 2 else None, row[-1]
            sub = results.select(event_ids=[event_id])
            at = f", day 0 {when:%Y-%m-%d}" if len(readings) > 1 else ""
            mine = [t for t in focus if t in set(sub.firm_events["ticker"])]
            if mine and left is not None:
                plot_car(sub.select(tickers=mine), kind="firm", ax=left, title=f"{', '.join(mine)} {label}{at}")
            elif left is not None:  # a focus stock estimated at the other candidate day 0 only
                left.set_axis_off()
                left.text(0.5, 0.5, f"no focus stock estimated{at.replace(',', ' at', 1)}", ha="center", va="center")
            plot_car(sub, kind="average", ax=right, title=f"Average of {sub.n} stocks {label}{at}")
        fig.suptitle(
            f"Cumulative abnormal returns around {event_id}"
            + (
                (" " if panels == 2 else "\n") + "at both candidate day 0s (release session unknown)"
                if len(readings) > 1
                else ""
            )
        )
        save(fig, f"car_{slug(event_id)}")

        sub = primary.select(event_ids=[event_id])  # the day-0 bars: the study's own day 0
        fig = Figure(layout="constrained", figsize=(7, max(3.0, 0.32 * sub.n + 1.2)))
        plot_ar(sub, day=0, ax=fig.subplots(), title=f"Day-0 abnormal returns {label}\n{event_id}")
        save(fig, f"ar_day0_{slug(event_id)}")

    window = report.config.inner_window
    for run in report.runs:
        res = run.results
        fig = Figure(
            layout="constrained",
            figsize=(
                max(6.0, 0.55 * res.firm_events["ticker"].nunique() + 2),
                1.1 * res.firm_events["event_id"].nunique() + 2,
            ),
        )
        plot_car_heatmap(
            res, window=window, ax=fig.subplots(), title=f"CAR {window_label(window)} by event and stock, {run.label}"
        )
        save(fig, f"heatmap_{slug(run.label)}")
