"""The CARs of every firm-event as a matrix of events by tickers (:func:`plot_car_heatmap`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from eventstudy.foundation.summary import window_label
from eventstudy.plotting._common import (
    _MAX_HEIGHT,
    _check_event_window,
    _check_results,
    _figure_and_axes,
    _parent_figure,
    _percent_axis,
    _short_id,
)
from eventstudy.results.results import EventStudyResults

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

__all__ = ["plot_car_heatmap"]

_ROW_LABEL_CHARS = 40  # row labels: the event's id without its date, cut only beyond this


def _check_clip(clip: Any) -> float:
    """The quantile the colour scale ends at: ``clip`` in (0, 1], 1 for None."""
    if clip is None:
        return 1.0
    if isinstance(clip, bool) or not isinstance(clip, (int, float, np.integer, np.floating)):
        raise TypeError(f"The 'clip' parameter must be a quantile such as 0.95, or None. Got {clip!r} instead.")
    if not 0.0 < float(clip) <= 1.0:
        raise ValueError(f"The 'clip' parameter must lie in (0, 1], e.g. 0.95. Got {clip!r} instead.")
    return float(clip)


def _car_matrix(res: EventStudyResults, window: tuple[int, int]) -> tuple[pd.DataFrame, pd.Series]:
    """CARs as events (rows, by day 0) x tickers (columns, in first-appearance order), and each row's day 0."""
    table = res.car(window).merge(res.firm_events[["event_id", "ticker", "day0"]], on=["event_id", "ticker"])
    day0 = table.groupby("event_id", sort=False)["day0"].min()
    rows = day0.reset_index().sort_values(["day0", "event_id"], kind="stable")["event_id"]
    columns = pd.unique(table["ticker"])
    matrix = table.pivot(index="event_id", columns="ticker", values="car").reindex(index=rows, columns=columns)
    return matrix, day0.reindex(rows)


def _colormap(cmap: Any) -> Colormap:
    import matplotlib
    from matplotlib.colors import Colormap

    if isinstance(cmap, Colormap):
        found = cmap
    elif isinstance(cmap, str):
        try:
            found = matplotlib.colormaps[cmap]
        except KeyError:
            raise ValueError(
                f"The 'cmap' parameter must name a matplotlib colormap, e.g. 'RdBu_r'. Got {cmap!r} instead."
            ) from None
    else:
        raise TypeError(f"The 'cmap' parameter must be a colormap name or Colormap. Got {type(cmap).__name__} instead.")
    return found.with_extremes(bad=(0.0, 0.0, 0.0, 0.0))  # missing cells stay blank


def plot_car_heatmap(
    res: EventStudyResults,
    *,
    window: tuple[int, int] = (-1, 1),
    ax: Axes | None = None,
    cmap: str | Colormap = "RdBu_r",
    annotate: bool = True,
    clip: float | None = 0.95,
    title: str | None = None,
) -> Figure:
    r"""Plot the CARs of every firm-event as a matrix: events (rows) by tickers (columns).

    Parameters
    ----------
    res : EventStudyResults
        What :meth:`EventStudy.fit` returns.
    window : (int, int)
        CAR window in relative trading days, inside the event window (default ``(-1, 1)``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure, sized to the matrix, when None.  The colour bar takes its space
        from this axes.
    cmap : str or matplotlib.colors.Colormap
        A diverging colormap; its centre is CAR = 0 (limits symmetric around zero).
    annotate : bool
        Write each CAR in its cell, in percent with one decimal.
    clip : float or None
        The colour scale ends at this quantile of the absolute CARs (default 0.95), so that one outlier
        does not wash out every other cell; cells beyond it take the end colour (the written value stays
        exact) and the colour bar says where it is clipped.  ``None`` or ``1.0``: the largest absolute CAR.
    title : str, optional
        Axes title; a description of the plot when None, ``""`` for none.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes and the colour bar.

    Raises
    ------
    TypeError
        If ``res`` is not an :class:`EventStudyResults` or ``window``, ``cmap`` or ``ax`` has the wrong type.
    ValueError
        If ``window`` reaches outside the event window or ``cmap`` is not a known colormap.

    Notes
    -----
    Rows are events ordered by day 0 (the earliest day 0 of the event's firm-events) and labelled with the
    short id and that day; columns are tickers in the order they first appear in ``res.firm_events``.  A
    cell is :math:`CAR_i(\tau_1, \tau_2)` of that firm-event, as in :meth:`EventStudyResults.car`;
    cells without a firm-event, or with a CAR missing a day, stay blank.  The colour shows size only, not
    significance; see :func:`plot_ar` or ``res.car(window)`` for standard errors.

    Examples
    --------
    >>> from eventstudy.plotting import plot_car_heatmap
    >>> fig = plot_car_heatmap(res)  # doctest: +SKIP
    >>> fig = plot_car_heatmap(res, window=(0, 5), cmap="PuOr_r", annotate=False)  # doctest: +SKIP
    """
    res = _check_results(res)
    window = _check_event_window(res, window)
    colormap = _colormap(cmap)
    matrix, day0 = _car_matrix(res, window)
    values = matrix.to_numpy(dtype=float)
    finite = np.isfinite(values)
    quantile = _check_clip(clip)
    largest = float(np.abs(values[finite]).max()) if finite.any() else 0.0
    limit = float(np.quantile(np.abs(values[finite]), quantile)) if finite.any() else 0.0
    limit = limit if limit > 0 else (largest if largest > 0 else 0.01)
    clipped = largest > limit
    row_labels = [f"{_short_id(e, _ROW_LABEL_CHARS)} ({d:%Y-%m-%d})" for e, d in zip(matrix.index, day0)]
    n_rows, n_cols = values.shape

    width = min(16.0, 3.5 + 0.08 * max(map(len, row_labels)) + 0.85 * n_cols)
    height = min(_MAX_HEIGHT, 1.8 + 0.4 * n_rows)
    fig, ax = _figure_and_axes(ax, (width, height))
    image = ax.imshow(
        np.ma.masked_invalid(values), cmap=colormap, vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest"
    )
    ax.set_xticks(np.arange(n_cols), [str(c) for c in matrix.columns])
    ax.set_yticks(np.arange(n_rows), row_labels)
    if n_cols > 6 or max(len(str(c)) for c in matrix.columns) > 6:
        ax.tick_params(axis="x", labelrotation=45)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
    ax.set_xticks(np.arange(n_cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(n_rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if annotate:
        fontsize = "small" if n_cols <= 12 else "x-small"
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                red, green, blue, _ = colormap(image.norm(value))
                dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
                ax.text(j, i, f"{value:.1%}", ha="center", va="center", fontsize=fontsize,
                        color="white" if dark else "black")  # fmt: skip
    colorbar = _parent_figure(ax).colorbar(
        image, ax=ax, shrink=0.9 if n_rows > 3 else 1.0, extend="both" if clipped else "neither"
    )
    _percent_axis(colorbar.ax.yaxis)
    bar_label = f"CAR{window_label(window)}"
    if clipped:
        bar_label += f"\ncolours clipped at \u00b1{limit:.1%}\n({quantile:.0%} quantile of |CAR|)"
    colorbar.set_label(bar_label)
    default = f"CAR{window_label(window)} by event and ticker\n{res.name}"
    ax.set_title(default if title is None else title)
    return fig
