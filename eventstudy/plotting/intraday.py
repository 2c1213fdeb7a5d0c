"""The figure of an intraday event: cumulative raw and abnormal returns through the session, stated times marked.

Like every plot of the package it takes ``ax=None`` and returns the Figure; matplotlib is imported inside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from eventstudy.data.bars import exchange_calendar, schedule
from eventstudy.plotting._common import _figure_and_axes, _percent_axis

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from eventstudy.intraday.study import IntradayResults

__all__ = ["plot_intraday", "session_paths"]

_SHADES = ("tab:blue", "tab:orange", "tab:green", "tab:purple")


def _event_row(res: IntradayResults, event_id: Any) -> int:
    """Row of ``event_id`` (compared as text, as the study stores ids) in ``res.events``; the first by default."""
    if event_id is None:
        return 0
    ids = res.events["event_id"].astype(str).to_numpy()
    matches = np.flatnonzero(ids == str(event_id))
    if not len(matches):
        raise KeyError(f"No event {event_id!r}; the study has {ids.tolist()}.")
    return int(matches[0])


def session_paths(res: IntradayResults, event_id: Any = None) -> pd.DataFrame:
    r"""Cumulative returns through the event's session, bar by bar (the data behind :func:`plot_intraday`).

    Returns
    -------
    pandas.DataFrame
        Index: UTC end of each regular bar of the event's session; columns ``raw`` (the firm's compounded
        bar returns from the first bar's close, :math:`\prod(1+r_b)-1`), ``market`` (the same for the market)
        and ``car`` (the running sum of abnormal returns with the event's :math:`\hat\alpha,\hat\beta`).
        Bars without a bar return add nothing (the first bar: the overnight gap is left out).
    """
    i = _event_row(res, event_id)
    panel, fit = res.panel, res.fit_
    session = panel.session[fit.day0[i]]
    rows = np.arange(panel.session_start[session], panel.session_start[session + 1])
    y = panel.returns[rows, fit.firm[i]]
    z = panel.returns[rows, panel.column(res.market)]
    alpha, beta = fit.params[i, 0], fit.params[i, 1]
    ar = y - alpha - beta * z
    return pd.DataFrame(
        {
            "raw": np.cumprod(1.0 + np.nan_to_num(y)) - 1.0,
            "market": np.cumprod(1.0 + np.nan_to_num(z)) - 1.0,
            "car": np.cumsum(np.nan_to_num(ar)),
        },
        index=(panel.grid[rows] + panel.step).rename("bar_end"),
    )


def plot_intraday(
    res: IntradayResults,
    event_id: Any = None,
    *,
    marks: Mapping[str, Any] | None = None,
    calendars: Sequence[str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Cumulative raw and abnormal returns through the event's session, with the stated times marked.

    Parameters
    ----------
    res
        What :meth:`IntradayStudy.fit <eventstudy.IntradayStudy.fit>` returns.
    event_id
        The event to draw (default: the first).
    marks
        Other stated times (confounders, releases) as label -> tz-aware time; each is drawn as a dashed line.
        The axis widens to show them.
    calendars
        Exchanges whose regular hours are shaded (default: the study's exchange, plus XNYS for a non-US
        study, so that New York's session shows beside Tokyo's).
    title
        Axes title (default: the event id and the market).
    ax
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.dates as mdates

    paths = session_paths(res, event_id)
    event = res.events.reset_index(drop=True).iloc[_event_row(res, event_id)]
    event_time = pd.Timestamp(event["time"])
    ticker = event["ticker"]
    tz = res.panel.tz
    stated = {}
    for label, when in (marks or {}).items():
        stamp = pd.Timestamp(when)
        if stamp.tzinfo is None:
            raise ValueError(f"The mark {label!r} has no time zone ({when!r}); give a tz-aware time.")
        stated[label] = stamp.tz_convert("UTC")
    if calendars is None:
        calendars = [res.panel.calendar] + (["XNYS"] if res.panel.calendar != "XNYS" else [])
    fig, ax = _figure_and_axes(ax, (10, 4.5))
    start = paths.index[0] - res.panel.step
    times = [start, *paths.index]
    lo = min([start, event_time, *stated.values()]) - pd.Timedelta(minutes=15)
    hi = max([paths.index[-1], event_time, *stated.values()]) + pd.Timedelta(minutes=15)
    for k, code in enumerate(calendars):
        sched = schedule(
            code, (lo - pd.Timedelta(days=1)).tz_localize(None).normalize(), hi.tz_localize(None).normalize()
        )
        legend: str | None = f"{code} regular hours"  # once per exchange in the legend
        for opens, closes, pause, resume in zip(
            sched["open"], sched["close"], sched["break_start"], sched["break_end"]
        ):
            spans = [(opens, closes)] if pd.isna(pause) else [(opens, pause), (resume, closes)]
            for a, b in spans:
                a, b = max(a, lo), min(b, hi)
                if a < b:
                    ax.axvspan(a, b, color=_SHADES[k % len(_SHADES)], alpha=0.08, label=legend, lw=0)
                    legend = None
    ax.plot(times, [0.0, *paths["raw"]], color="0.2", lw=1.4, label=f"{ticker} raw return")
    ax.plot(times, [0.0, *paths["market"]], color="0.6", lw=1.0, label=f"{res.market} raw return")
    ax.plot(times, [0.0, *paths["car"]], color="C3", lw=1.6, label=f"{ticker} cumulative abnormal return")
    ax.axhline(0.0, color="0.75", lw=0.8)
    # matplotlib's unit registry places a Timestamp on the date axis; its stubs ask for a float
    text = f"event: {event_time.tz_convert(tz):%H:%M %Z}"
    ax.axvline(event_time, color="k", lw=1.2, label=text)  # type: ignore[arg-type]
    for k, (label, when) in enumerate(stated.items()):
        text = f"{label}: {when.tz_convert(tz):%m-%d %H:%M %Z}"
        ax.axvline(when, color=f"C{k % 8}", lw=1.0, ls="--", label=text)  # type: ignore[arg-type]
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=exchange_calendar(res.panel.calendar).tz))
    ax.set_xlabel(f"time ({tz}); bars of {res.interval}, plotted at their close")
    ax.set_ylabel("return since the first bar's close")
    _percent_axis(ax.yaxis)
    ax.set_title(title or f"{event['event_id']} against {res.market}")
    # below the axes: the day's lines fill the plot, and a legend inside would hide some of them
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize="small", frameon=False)
    return fig
