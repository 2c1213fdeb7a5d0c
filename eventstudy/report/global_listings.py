"""The report's section on non-US chip stocks: each listing on its own exchange's day 0, against its local index.

US export-control news reaches Hong Kong, Shanghai, Tokyo and Taipei at different local times, and their
holidays differ (Tokyo and Taipei were closed on Monday 2022-10-10, Hong Kong and Shanghai were not).  The
section runs one :class:`~eventstudy.EventStudy` with ``calendar="auto"`` and a local benchmark per listing,
so every listing's day 0 comes from the one resolver of event time, and reports each listing's day 0, its
abnormal return and CAR with MacKinlay t statistics.  The listings and their benchmarks are data
(``catalog/global_listings.csv``), not code.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Hashable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from eventstudy.data import CsvSource
from eventstudy.exceptions import DataSourceError, EventStudyWarning
from eventstudy.foundation.summary import format_value, window_label
from eventstudy.report._text import collapsed, md_table
from eventstudy.report.figures import save_png
from eventstudy.results.results import EventStudyResults
from eventstudy.results.study import EventStudy
from eventstudy.time.returns import returns

__all__ = ["load_listings", "global_study", "global_section"]

LISTINGS_FILE = "global_listings.csv"


def load_listings(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The non-US listings of the section: ``ticker, name, benchmark`` (default: the built-in file)."""
    if path is None:
        with resources.as_file(resources.files("eventstudy").joinpath("catalog", LISTINGS_FILE)) as where:
            return pd.read_csv(where, dtype=str, keep_default_na=False)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"The listings file {path} is not UTF-8 text (byte {exc.object[exc.start : exc.start + 1]!r} at position "
            f"{exc.start}, e.g. a Latin-1 accent in a company name). Save it as 'CSV UTF-8'."
        ) from None
    missing = {"ticker", "name", "benchmark"} - set(table.columns)
    if missing:
        raise KeyError(f"The listings file {path} lacks the column(s) {sorted(missing)}; it has {list(table.columns)}.")
    return table


def global_study(
    events: pd.DataFrame,
    global_dir: str | os.PathLike[str],
    *,
    listings: pd.DataFrame | None = None,
    estimation_window: tuple[int, int] = (-250, -11),
    event_window: tuple[int, int] = (-5, 5),
    unknown_session: Literal["pre", "post"] | None = None,
    source: CsvSource | None = None,
) -> tuple[EventStudyResults, dict[Hashable, Any]]:
    """Fit the listings of ``listings`` (default :func:`load_listings`) on ``events``, each on its own exchange.

    Listings whose files do not reach the events are recorded drops (``res.dropped``), never silent.
    ``source`` reads ``global_dir`` (default: a new :class:`~eventstudy.data.CsvSource`; a report passes one
    that keeps the files it read for its other sections).
    """
    listings = load_listings() if listings is None else listings
    tickers = list(listings["ticker"])
    market = dict(zip(listings["ticker"], listings["benchmark"]))
    source = CsvSource(global_dir) if source is None else source
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EventStudyWarning)  # files without Adj Close: recorded in the notes
        prices = source.get_prices(
            list(dict.fromkeys([*tickers, *market.values()])), "2019-01-01", "2026-12-31", missing="skip"
        )
    rets = returns(prices)
    study = EventStudy(
        events,
        rets,
        tickers=[t for t in tickers if t in rets.columns],
        market=market,
        estimation_window=estimation_window,
        event_window=event_window,
        unknown_session=unknown_session,
        catalog=events,
        name="non-US listings",
    )
    return study.fit(), prices.attrs


def global_table(
    res: EventStudyResults, listings: pd.DataFrame, windows: Sequence[tuple[int, int]] = ((0, 0), (0, 1))
) -> pd.DataFrame:
    """One row per listing and event: day 0 on its exchange, how it was placed, CARs with t and p."""
    names = dict(zip(listings["ticker"], listings["name"]))
    fe = res.firm_events[["event_id", "ticker", "exchange", "benchmarks", "day0", "day0_rule"]].copy()
    fe.insert(2, "name", fe["ticker"].map(names))
    for window in windows:
        car = res.car(window).set_index(["event_id", "ticker"])
        key = pd.MultiIndex.from_frame(fe[["event_id", "ticker"]])
        label = window_label(window)
        fe[f"car{label}"] = car["car"].reindex(key).to_numpy()
        fe[f"se{label}"] = car["se"].reindex(key).to_numpy()
        fe[f"df{label}"] = car["df"].reindex(key).to_numpy()
        fe[f"t{label}"] = car["t"].reindex(key).to_numpy()
        fe[f"p{label}"] = car["pvalue"].reindex(key).to_numpy()
    return fe.reset_index(drop=True)


def _figure(table: pd.DataFrame, out: Path, column: str) -> Path:
    """One panel per event, stacked on one CAR scale, each listing's CAR as a point with its 95% interval
    (the CAR plus or minus the t quantile of its degrees of freedom times its standard error), labelled with
    its own day 0; a listing without a CAR says so."""
    from matplotlib.figure import Figure
    from scipy.stats import t as t_dist

    label = column[3:]
    events = list(dict.fromkeys(table["event_id"]))
    per = table["ticker"].nunique()
    fig = Figure(figsize=(8.5, (0.34 * per + 1.1) * len(events)), layout="constrained")
    axes = fig.subplots(len(events), 1, squeeze=False, sharex=True)
    for ax, event in zip(axes[:, 0], events):
        rows = table[table["event_id"] == event].iloc[::-1]
        values = rows[column].to_numpy(dtype=float) * 100
        half = rows[f"se{label}"].to_numpy(dtype=float) * 100 * t_dist.ppf(0.975, rows[f"df{label}"].to_numpy(float))
        names = [
            f"{n}, day 0 {d:%d %b}" + ("" if np.isfinite(v) else " (no CAR)")
            for n, d, v in zip(rows["name"], rows["day0"], values)
        ]
        position = np.arange(len(rows))
        colours = np.where(values >= 0, "#2b7a3d", "#b23a3a")
        for y, v, h, colour in zip(position, values, half, colours):
            if np.isfinite(v):
                ax.errorbar(v, y, xerr=h if np.isfinite(h) else None, fmt="o", color=colour, markersize=4, capsize=2)
        ax.set_yticks(position, names)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.grid(axis="x", color="0.9", linewidth=0.6)
        ax.set_title(event, fontsize=10, loc="left")
        ax.tick_params(axis="y", labelsize=8.5)
    axes[-1, 0].set_xlabel(f"CAR{label} against the listing's local index, %, with its 95% interval")
    path = out / "figures" / "global_listings.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_png(fig, path)
    return path


def global_section(
    events: pd.DataFrame,
    global_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    estimation_window: tuple[int, int] = (-250, -11),
    event_window: tuple[int, int] = (-5, 5),
    unknown_session: Literal["pre", "post"] | None = None,
    heading_level: int = 2,
    title: str = "Non-US listings",
    listings: str | os.PathLike[str] | None = None,
    source: CsvSource | None = None,
) -> str:
    """Fit the non-US listings, write ``tables/global_listings.csv`` and ``figures/global_listings.png`` into
    ``out_dir``, and return the report section as Markdown (links relative to ``out_dir``).

    ``title`` heads the section (a study file's ``[sections.global] title``); ``listings`` is a file of
    ``ticker, name, benchmark`` (default: the built-in :func:`load_listings`); ``source`` reads ``global_dir``
    (default: a new :class:`~eventstudy.data.CsvSource`)."""
    folder = Path(global_dir)
    if not folder.is_dir():
        raise DataSourceError(f"The folder {folder} does not exist.", failures={str(folder): "no folder"})
    out = Path(out_dir)
    names = load_listings(listings)
    res, attrs = global_study(
        events,
        folder,
        listings=names,
        estimation_window=estimation_window,
        event_window=event_window,
        unknown_session=unknown_session,
        source=source,
    )
    table = global_table(res, names)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "tables" / "global_listings.csv", index=False)
    figure = _figure(table, out, "car(+0,+1)")
    h = "#" * heading_level
    columns = dict(attrs.get("eventstudy_price_columns", {}))
    closes = sorted(t for t, c in columns.items() if c == "Close")
    lines = [
        f"{h} {title}, each on its own exchange's day 0",
        "",
        "Each listing counts event time in its own exchange's sessions and is measured against its local index "
        "(market model, OLS on the same estimation window in its own sessions). Day 0 is the first session of "
        "that exchange that could react: a date with a release session is read on the US Eastern clock, and "
        "where that interval spans two sessions of an Asian exchange the earlier is taken (the rule column says "
        "so), so the (0, +1) window is the one to read. Inputs: the files in "
        f"`{folder.name}/` (see PROVENANCE-global-intraday.md for their price bases).",
        "",
    ]
    for event in dict.fromkeys(table["event_id"]):
        rows = table[table["event_id"] == event]
        days = ", ".join(f"{n} {d:%Y-%m-%d}" for n, d in rows.groupby("exchange")["day0"].first().items())
        significant = rows[rows["p(+0,+1)"] < 0.05]
        moved = (
            ", ".join(f"{n} {v:+.1%}" for n, v in zip(significant["name"], significant["car(+0,+1)"]))
            if len(significant)
            else "none"
        )
        lines.append(f"- **{event}**: day 0 by exchange: {days}. CAR(0,+1) significant at 5%: {moved}.")
    shown = table.copy()
    shown["day0"] = shown["day0"].dt.strftime("%Y-%m-%d")
    for column in [c for c in shown.columns if c.startswith("car")]:
        shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:+.2%}")
    for column in [c for c in shown.columns if c.startswith("t(")]:
        shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    for column in [c for c in shown.columns if c.startswith("p(")]:
        shown[column] = shown[column].map(lambda v: format_value(v, "p"))
    keep = [
        "event_id",
        "name",
        "exchange",
        "benchmarks",
        "day0",
        "car(0)",
        "t(0)",
        "car(+0,+1)",
        "t(+0,+1)",
        "p(+0,+1)",
    ]
    summary = f"Every listing: {len(shown)} rows (also <code>tables/global_listings.csv</code>)"
    lines += ["", collapsed(summary, md_table(shown[keep])), ""]
    if len(res.dropped):
        lines += ["Not estimated:", ""] + [
            f"- {r.ticker} on {r.event_id}: {r.reason}" for r in res.dropped.itertuples()
        ] + [""]  # fmt: skip
    notes = ["Samsung and SK Hynix (Seoul) and ASML (Amsterdam) are left out: the shared data hold no KOSPI or AEX "
             "series to measure them against, and ASML.AS ends in May 2024."]  # fmt: skip
    if closes:
        notes.append(
            f"Returns of {', '.join(closes)} come from Close (their files have no Adj Close: adjusted closes for "
            "the auto-adjusted files, forward-adjusted prices for the A-share files)."
        )
    lines += notes + ["", f"![CAR(0,+1) of the non-US listings]({figure.relative_to(out).as_posix()})", ""]
    return "\n".join(lines)
