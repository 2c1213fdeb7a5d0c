"""Prices over a span, rebased to 100, with the events marked and labelled (:func:`plot_prices`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from eventstudy.plotting._common import _figure_and_axes, _parent_figure, _short_id

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_prices"]

_MAX_EVENT_LABELS = 20  # plot_prices(labels=True): more labels than this turn into a wall of text
_EVENT_COLOR = "0.55"  # the vertical line of an event in plot_prices: grey, dotted
_EVENT_STYLE: Final = ":"


def _check_prices(prices: Any, start: Any, end: Any) -> pd.DataFrame:
    if isinstance(prices, pd.Series):
        prices = prices.to_frame(prices.name if prices.name is not None else "price")
    if not isinstance(prices, pd.DataFrame):
        raise TypeError(
            "The 'prices' parameter must be a DataFrame of prices, one column per ticker, "
            f"e.g. from CsvSource(...).get_prices. Got {type(prices).__name__} instead."
        )
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise TypeError(
            "The 'prices' parameter must have a DatetimeIndex. "
            f"Got {type(prices.index).__name__} instead; use read_csv(..., index_col=0, parse_dates=True)."
        )
    try:
        start = None if start is None else pd.Timestamp(start)
        end = None if end is None else pd.Timestamp(end)
    except (TypeError, ValueError) as error:
        raise ValueError(f"The 'start' and 'end' parameters must be dates such as '2025-01-31'. {error}") from None
    frame = prices.sort_index().loc[start:end].select_dtypes("number").dropna(axis=1, how="all")
    if frame.empty:
        raise ValueError(
            f"The 'prices' parameter has no numeric prices between {start or 'the start'} and {end or 'the end'}."
        )
    return frame


def _event_marks(events: Any, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """Events inside ``[first, last]`` as columns ``x`` (day 0, else date) and ``id``, one row per id."""
    if events is None:
        return pd.DataFrame({"x": pd.DatetimeIndex([]), "id": pd.Series([], dtype=object)})
    if not isinstance(events, pd.DataFrame):
        raise TypeError(
            "The 'events' parameter must be a DataFrame such as load_events() or res.firm_events returns. "
            f"Got {type(events).__name__} instead."
        )
    when = next((c for c in ("day0", "date") if c in events.columns), None)
    name = next((c for c in ("id", "event_id") if c in events.columns), None)
    if when is None or name is None:
        raise KeyError(
            "The 'events' parameter needs a 'day0' or 'date' column and an 'id' or 'event_id' column. "
            f"Got columns {list(events.columns)}."
        )
    marks = pd.DataFrame({"x": pd.to_datetime(events[when].to_numpy()), "id": events[name].to_numpy()})
    inside = marks["x"].between(first, last)
    return marks.loc[inside].drop_duplicates("id").sort_values("x", kind="stable").reset_index(drop=True)


def _label_cap(labels: Any) -> int:
    if isinstance(labels, (bool, np.bool_)):
        return _MAX_EVENT_LABELS if labels else 0
    if hasattr(labels, "__index__") and int(labels) >= 0:
        return int(labels)
    raise TypeError(
        f"The 'labels' parameter must be True, False or the largest number of labels (an int >= 0). "
        f"Got {labels!r} instead."
    )


def _place_labels(positions: np.ndarray, height: float, cap: int) -> list[tuple[int, str]]:
    """Which event lines get a label and on which side, so that no two labels overlap.

    ``positions`` are the sorted lines in axes fraction and ``height`` a rotated label's thickness.  A
    label sits just left of its line, or just right of it when the left side is taken (staggering close
    pairs); a line with neither side free stays unlabelled.  At most ``cap`` labels are kept, spread
    evenly over the placed ones.
    """
    placed: list[tuple[int, str]] = []
    taken = -np.inf  # right edge of the last label
    for i, x in enumerate(positions):
        if x - height >= taken:
            placed.append((i, "right"))  # horizontal alignment "right": the text ends at the line
            taken = x
        elif x >= taken:
            placed.append((i, "left"))
            taken = x + height
    if len(placed) > cap:
        picks = np.unique(np.linspace(0, len(placed) - 1, cap).round().astype(int)) if cap else np.array([], int)
        placed = [placed[j] for j in picks]
    return placed


def _label_events(
    ax: Axes, marks: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp, cap: int, chars: int = 24
) -> tuple[int, float]:
    """Write short ids rotated at the top of the axes, in headroom added above the lines.

    Returns how many labels were written and the share of the axes height their band takes.
    """
    fontsize = 7.0
    span = (last - first) / pd.Timedelta(days=1) or 1.0
    positions = ((marks["x"] - first) / pd.Timedelta(days=1) / span).to_numpy(float)
    width_px = max(ax.get_window_extent().width, 1.0)
    height = 1.3 * fontsize / 72.0 * _parent_figure(ax).dpi / width_px  # a rotated label's thickness
    placed = _place_labels(positions, height, cap)
    if not placed:
        return 0, 0.0
    texts = [_short_id(marks["id"].iloc[i], chars) for i, _ in placed]
    transform = ax.get_xaxis_transform()  # x in data, y in axes fraction
    for (i, side), text in zip(placed, texts):
        ax.text(
            marks["x"].iloc[i], 0.985, text, transform=transform, rotation=90, ha=side, va="top",
            fontsize=fontsize, color="0.25", bbox=dict(boxstyle="square,pad=0.1", facecolor="white",
                                                      edgecolor="none", alpha=0.7),
        )  # fmt: skip
    # Leave the top of the axes to the labels: their height as a fraction of the axes, plus a margin.
    height_px = max(ax.get_window_extent().height, 1.0)
    label_px = (max(map(len, texts)) * 0.6 + 1.0) * fontsize / 72.0 * _parent_figure(ax).dpi
    share = min(0.5, label_px / height_px + 0.03)
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + (high - low) * share / (1.0 - share))
    return len(placed), share


def plot_prices(
    prices: pd.DataFrame | pd.Series,
    *,
    events: pd.DataFrame | None = None,
    ax: Axes | None = None,
    rebase: bool = True,
    start: Any = None,
    end: Any = None,
    labels: bool | int = True,
    label_chars: int = 24,
    title: str | None = None,
) -> Figure:
    """Plot prices over a span, rebased to 100, with the events marked as vertical lines.

    Parameters
    ----------
    prices : DataFrame or Series
        Prices with a DatetimeIndex, one column per ticker (e.g. ``CsvSource(...).get_prices``).
        Non-numeric and all-missing columns are skipped; a line bridges a ticker's missing days.
    events : DataFrame, optional
        Events to mark: a ``day0`` or ``date`` column (``day0`` is used when both exist, so the line sits on
        the first session that could react) and an ``id`` or ``event_id`` column, as :func:`load_events`
        or :attr:`EventStudyResults.firm_events` give.  Only events inside the plotted span are drawn, once
        per id; other columns (such as ``title``) are not drawn, since they are too long for labels.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    rebase : bool
        Divide each column by its first valid price in the span and multiply by 100, so that tickers
        at different price levels share one scale.
    start, end : str or datetime-like, optional
        The span, inclusive (default: all the data).
    labels : bool or int
        Label the event lines with their id, without its trailing date and cut to 24 characters.
        ``True`` writes at most 20 labels, an int at most that many, ``False`` none.  Labels are rotated
        and written at the top of the axes, where headroom is added, on the left of their line or, when
        that side is taken by a neighbour, on the right.  Lines with neither side free, or beyond the cap
        (the labelled ones are spread evenly), stay unlabelled, and the legend (placed below the labels)
        says how many are labelled.
    label_chars : int
        The longest label: an id (without its trailing date) longer than this is cut, with an ellipsis.
    title : str, optional
        Axes title; a description of the plot when None, ``""`` for none.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.

    Raises
    ------
    TypeError
        If ``prices`` is not a DataFrame or Series with a DatetimeIndex, ``events`` is not a DataFrame,
        or ``labels`` is not a bool or a non-negative int.
    KeyError
        If ``events`` lacks a date (``day0``/``date``) or id (``id``/``event_id``) column.
    ValueError
        If no numeric price lies between ``start`` and ``end``, or they are not dates.

    Examples
    --------
    >>> import eventstudy as es
    >>> from eventstudy.plotting import plot_prices
    >>> source = es.CsvSource("prices/")  # doctest: +SKIP
    >>> prices = source.get_prices(["NVDA", "AMD", "SPY"], "2024-01-01", "2025-06-30")  # doctest: +SKIP
    >>> fig = plot_prices(prices, events=es.load_events(), start="2025-01-01")  # doctest: +SKIP
    >>> fig = plot_prices(prices["NVDA"], rebase=False, labels=False)  # doctest: +SKIP
    """
    frame = _check_prices(prices, start, end)
    cap = _label_cap(labels)
    first, last = frame.index[0], frame.index[-1]
    marks = _event_marks(events, first, last)
    if rebase:
        base = frame.apply(lambda column: column.loc[column.first_valid_index()])
        frame = frame / base * 100.0

    fig, ax = _figure_and_axes(ax, (10.0, 5.0))
    for column in frame.columns:
        series = frame[column].dropna()
        ax.plot(series.index, series.to_numpy(), linewidth=1.3, label=str(column))
    for x in marks["x"]:
        ax.axvline(x, color=_EVENT_COLOR, linestyle=_EVENT_STYLE, linewidth=0.9, zorder=0)
    if rebase:
        ax.axhline(100.0, color="0.35", linewidth=0.6, zorder=0)
    ax.set_xlim(first, last)
    _date_axis(ax)
    ax.set_ylabel("Price, rebased to 100 at the first date" if rebase else "Price")
    if isinstance(label_chars, bool) or not isinstance(label_chars, (int, np.integer)) or label_chars < 4:
        raise TypeError(f"The 'label_chars' parameter must be an int of at least 4. Got {label_chars!r} instead.")
    written, band = _label_events(ax, marks, first, last, cap, int(label_chars)) if len(marks) and cap else (0, 0.0)
    handles, _ = ax.get_legend_handles_labels()
    if len(marks):
        from matplotlib.lines import Line2D

        note = "event (day 0)" if written == len(marks) else f"event (day 0), {written} of {len(marks)} labelled"
        handles.append(Line2D([], [], color=_EVENT_COLOR, linestyle=_EVENT_STYLE, label=note))
    # "best" searches only below the band of labels at the top
    ax.legend(
        handles=handles, fontsize="small", loc="best", bbox_to_anchor=(0.0, 0.0, 1.0, 1.0 - band),
        ncols=max(1, math.ceil(len(handles) / 6)),
    )  # fmt: skip
    span = f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"
    default = f"{'Prices rebased to 100' if rebase else 'Prices'}\n{span}"
    if len(marks):
        default += f", {len(marks)} event{'s' if len(marks) != 1 else ''}"
    ax.set_title(default if title is None else title)
    return fig


def _date_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
