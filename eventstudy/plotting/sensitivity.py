"""The robustness of a CAR: :func:`plot_sensitivity` draws a table of :meth:`EventStudyResults.sensitivity`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from eventstudy.foundation.summary import window_label
from eventstudy.plotting._common import _MAX_HEIGHT, _critical_value, _figure_and_axes, _percent_axis

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_sensitivity"]

_COLUMNS = ("event_id", "ticker", "model", "benchmark", "estimation_start", "estimation_end", "window_start",
            "window_end", "car", "se")  # fmt: skip


def plot_sensitivity(
    table: pd.DataFrame,
    *,
    event_id: str | None = None,
    ticker: str | None = None,
    window: tuple[int, int] | None = None,
    ci: float = 0.95,
    ax: Axes | None = None,
) -> Figure:
    r"""One firm-event's CAR under every specification of a sensitivity table, with its confidence interval.

    One row per (model, benchmark, estimation window, event window), the CAR as a dot and
    :math:`CAR \\pm z_{(1+ci)/2}\\,\\hat\\sigma(CAR)` as a bar (normal critical value; the table's ``t`` and
    ``pvalue`` use Student's t).  A dashed line marks zero.

    Parameters
    ----------
    table : DataFrame
        What ``res.sensitivity(...)`` returns.
    event_id, ticker : str, optional
        The firm-event to draw; default the table's first (each must be given when the table holds several
        events or tickers and the first is not the one wanted).
    window : (int, int), optional
        Draw this event window only (default: every event window of the table).
    ci : float
        Confidence level of the bars.
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.

    Returns
    -------
    Figure
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"The 'table' parameter must be a DataFrame from res.sensitivity(). Got {type(table).__name__}."
        )
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise KeyError(f"The 'table' parameter lacks {missing}: pass what res.sensitivity() returns.")
    if not len(table):
        raise ValueError("The 'table' parameter is empty; there is nothing to plot.")
    z = _critical_value(ci)
    if event_id is None:
        event_id = str(table["event_id"].iloc[0])
    if ticker is None:
        of_event = table.loc[table["event_id"] == event_id, "ticker"]
        ticker = str(of_event.iloc[0]) if len(of_event) else None
    rows = table[(table["event_id"] == event_id) & (table["ticker"] == ticker)]
    if window is not None:
        rows = rows[(rows["window_start"] == window[0]) & (rows["window_end"] == window[1])]
    if not len(rows):
        raise KeyError(f"No row of the table has event_id={event_id!r}, ticker={ticker!r} and window={window!r}.")
    labels = [
        f"{m} | {b} | est {window_label((int(e0), int(e1)))} | CAR{window_label((int(w0), int(w1)))}"
        for m, b, e0, e1, w0, w1 in zip(
            rows["model"], rows["benchmark"], rows["estimation_start"], rows["estimation_end"],
            rows["window_start"], rows["window_end"],
        )
    ]  # fmt: skip
    height = min(_MAX_HEIGHT, 1.2 + 0.28 * len(rows))
    fig, axes = _figure_and_axes(ax, (7.5, height))
    y = np.arange(len(rows))[::-1]
    car, se = rows["car"].to_numpy(float), rows["se"].to_numpy(float)
    axes.errorbar(car, y, xerr=z * se, fmt="o", color="C0", ecolor="0.5", capsize=3)
    axes.axvline(0.0, color="0.3", linestyle="--", linewidth=0.8)
    axes.set_yticks(y, labels, fontsize=8)
    _percent_axis(axes.xaxis)
    axes.set_xlabel(f"CAR with {ci:.0%} interval")
    axes.set_title(f"{ticker}, {event_id}", fontsize=9)
    return fig
