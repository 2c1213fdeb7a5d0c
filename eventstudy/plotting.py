"""Figures of an event study: CAR paths, abnormal returns on one day, prices around events, CAR heatmaps.

Every function takes ``ax=None`` (draw on a new figure) or an existing Axes to draw on, and returns the
Figure, so that figures compose in notebooks and reports (the pattern of statsmodels'
``graphics.utils.create_mpl_ax``).  Nothing is shown: call ``plt.show()`` or ``fig.savefig(...)`` yourself.

matplotlib is imported inside the functions, so ``import eventstudy.plotting`` needs no display.
"""

from __future__ import annotations

import math
import re
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import pandas as pd

from ._validation import check_choice, check_inside
from .results import EventStudyResults
from .summary import window_label

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure, SubFigure

__all__ = ["plot_car", "plot_ar", "plot_prices", "plot_car_heatmap"]

_MAX_EVENT_LABELS = 20  # plot_prices(labels=True): more labels than this turn into a wall of text
_SHORT_ID_CHARS = 24
_LEGEND_INSIDE = 12  # plot_car(kind="firm"): more firm-events than this move the legend outside
_LEGEND_MAX = 36  # ... and more than this drop it (point to kind="average")
_MAX_HEIGHT = 30.0  # inches: plot_ar and plot_car_heatmap grow with the rows up to this
_SIGNIFICANT, _NOT_SIGNIFICANT = "C3", "0.45"
_EVENT_COLOR = "0.55"  # the vertical line of an event in plot_prices: grey, dotted
_EVENT_STYLE: Final = ":"


# --- shared helpers ---------------------------------------------------------------------------------------
def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """Return ``(figure, axes)``: a new Figure with one Axes when ``ax`` is None, else ``ax`` and its figure.

    A new figure uses constrained layout so that labels, legends and colour bars do not overlap.  The
    figure returned for a given ``ax`` is the top-level Figure (also when ``ax`` lives in a SubFigure).
    """
    if ax is None:
        import matplotlib.pyplot as plt

        return plt.subplots(figsize=figsize, layout="constrained")
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    if not isinstance(ax, Axes):
        raise TypeError(f"The 'ax' parameter must be a matplotlib Axes or None. Got {type(ax).__name__} instead.")
    figure = _parent_figure(ax)
    return (figure if isinstance(figure, Figure) else figure.figure), ax  # a SubFigure's .figure is the root


def _parent_figure(ax: Axes) -> Figure | SubFigure:
    """The (Sub)Figure ``ax`` is drawn on."""
    figure = ax.get_figure()
    if figure is None:
        raise ValueError("The 'ax' parameter must be an Axes placed on a figure (fig.subplots() or plt.subplots()).")
    return figure


def _check_results(res: Any) -> EventStudyResults:
    if not isinstance(res, EventStudyResults):
        raise TypeError(
            "The 'res' parameter must be an EventStudyResults, what EventStudy(...).fit() returns. "
            f"Got {type(res).__name__} instead."
        )
    if res.n == 0:
        raise ValueError("The 'res' parameter holds no estimated firm-events; there is nothing to plot.")
    return res


def _critical_value(ci: Any) -> float:
    """Two-sided normal critical value :math:`z_{(1+ci)/2}` for a confidence level ``ci`` in (0, 1)."""
    if isinstance(ci, bool) or not isinstance(ci, (int, float, np.integer, np.floating)):
        raise TypeError(f"The 'ci' parameter must be a confidence level such as 0.95. Got {ci!r} instead.")
    if not 0.0 < float(ci) < 1.0:
        raise ValueError(f"The 'ci' parameter must lie strictly between 0 and 1, e.g. 0.95. Got {ci!r} instead.")
    return NormalDist().inv_cdf((1.0 + float(ci)) / 2.0)


def _check_event_window(res: EventStudyResults, window: Any) -> tuple[int, int]:
    return check_inside("window", window, res.event_window)


def _check_day(res: EventStudyResults, day: Any) -> int:
    if isinstance(day, bool) or not hasattr(day, "__index__"):
        raise TypeError(f"The 'day' parameter must be a whole trading day such as 0. Got {day!r} instead.")
    day = int(day)
    lo, hi = res.event_window
    if not lo <= day <= hi:
        raise ValueError(f"The 'day' parameter must lie inside the event window ({lo}, {hi}). Got {day} instead.")
    return day


def _percent_axis(axis: Axis) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0))


def _short_id(event_id: Any, width: int = _SHORT_ID_CHARS) -> str:
    """Catalog ids end in their date (``huawei-fdpr-2020-05-15``); drop it and cut long ids to ``width``."""
    text = str(event_id)
    short = re.sub(r"[-_ ]?\d{4}-\d{2}-\d{2}$", "", text) or text
    return short if len(short) <= width else short[: width - 1] + "\u2026"


# --- plot_car ---------------------------------------------------------------------------------------------
def _car_paths(res: EventStudyResults, window: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days, CAR from the window start to each day ``(N, L)`` and its MacKinlay variance ``(N, L)``."""
    fit = res.fit
    start, end = window
    days = np.arange(start, end + 1)
    columns = days - res.event_window[0]
    car = np.cumsum(fit.ar_event[:, columns], axis=1)  # NaN from a missing day on, as in fit.car
    variance = np.column_stack([fit.car_variance((start, int(t))) for t in days])
    return days, car, variance


def _cross_section(car: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard error (sd / sqrt(N), ddof=1) and N of the finite CARs in each column."""
    finite = np.isfinite(car)
    n = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(finite, car, 0.0).sum(axis=0) / n
        deviation = np.where(finite, car - mean, 0.0)
        sd = np.sqrt((deviation**2).sum(axis=0) / (n - 1))
        se = sd / np.sqrt(n)
    return mean, np.where(n > 1, se, np.nan), n


def _place_legend(ax: Axes, n: int, title: str) -> None:
    if n <= _LEGEND_INSIDE:
        ax.legend(title=title, fontsize="small", title_fontsize="small", loc="best")
    elif n <= _LEGEND_MAX:
        ax.legend(
            title=title,
            fontsize="x-small",
            title_fontsize="small",
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            ncols=math.ceil(n / 18),
        )
    else:
        ax.text(
            0.01, 0.99, f"{n} firm-events. {title}.\nFor one line, use kind='average'.",
            transform=ax.transAxes, ha="left", va="top", fontsize="small", color="0.3",
        )  # fmt: skip


def plot_car(
    res: EventStudyResults,
    *,
    ax: Axes | None = None,
    kind: Literal["firm", "average"] = "firm",
    ci: float = 0.95,
    window: tuple[int, int] | None = None,
    title: str | None = None,
) -> Figure:
    r"""Plot cumulative abnormal returns over event time, with a confidence band.

    The CAR on day :math:`t` cumulates the abnormal returns from the start :math:`\tau_1` of ``window`` to
    :math:`t`, so each line starts at the first day's abnormal return.

    Parameters
    ----------
    res : EventStudyResults
        What :meth:`EventStudy.fit` returns.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    kind : {"firm", "average"}
        ``"firm"``: one line per firm-event, labelled ``"TICKER event_id"`` (just the ticker when there is one
        event), with its own band.
        ``"average"``: the mean CAR across firm-events (CAAR) with a cross-sectional band.
    ci : float
        Confidence level of the band, in (0, 1).
    window : (int, int), optional
        Relative trading days to plot, inside the event window (default: the event window).
    title : str, optional
        Axes title; a description of the plot when None, ``""`` for none.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.

    Raises
    ------
    TypeError
        If ``res`` is not an :class:`EventStudyResults`, or ``ci``, ``window`` or ``ax`` has the wrong type.
    ValueError
        If ``kind`` is not ``"firm"`` or ``"average"``, ``ci`` is outside (0, 1) or ``window`` reaches
        outside the event window.

    See Also
    --------
    EventStudyResults.car : the CARs and their standard errors as a table.
    EventStudyResults.tests : cross-sectional tests robust to event-day clustering (``kp_bmp``, ``mvrm``).

    Notes
    -----
    For a firm-event the band is :math:`CAR_i(\tau_1, t) \pm z_{(1+ci)/2}\sqrt{\operatorname{Var}(CAR_i(\tau_1,
    t))}` with MacKinlay's (1997) variance including the parameter-estimation error
    (:meth:`StackedFit.car_variance`, the ``se`` of :meth:`EventStudyResults.car`).

    For the average, :math:`\overline{CAR}(\tau_1, t)` is the mean of the :math:`N_t` finite CARs and the band
    is :math:`\pm z\, s_t/\sqrt{N_t}` with :math:`s_t` their cross-sectional standard deviation.  This
    treats the firm-events as independent.  Firm-events that share a calendar day (several tickers on one
    announcement) have correlated abnormal returns, so the band is then too narrow; use the
    clustering-robust tests of :meth:`EventStudyResults.tests` (``kp_bmp``, Kolari & Pynnönen 2010, or
    ``mvrm``, the multivariate regression model) for inference.

    References
    ----------
    MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of Economic Literature*
    35(1), 13-39.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import eventstudy as es
    >>> from eventstudy.plotting import plot_car
    >>> res = es.EventStudy(events, rets, market="SPY").fit()  # doctest: +SKIP
    >>> fig = plot_car(res, kind="firm", ci=0.9)  # doctest: +SKIP
    >>> fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))  # doctest: +SKIP
    >>> plot_car(res, ax=left, window=(-1, 5))  # doctest: +SKIP
    >>> plot_car(res, ax=right, kind="average")  # doctest: +SKIP
    """
    res = _check_results(res)
    kind = check_choice("kind", kind, ("firm", "average"))
    z = _critical_value(ci)
    window = res.event_window if window is None else _check_event_window(res, window)
    days, car, variance = _car_paths(res, window)

    fig, ax = _figure_and_axes(ax, (8.0, 4.8))
    start = window[0]
    if kind == "firm":
        pairs = list(res.firm_events[["event_id", "ticker"]].itertuples(index=False))
        one_event = len({event_id for event_id, _ in pairs}) == 1
        labels = [ticker if one_event else f"{ticker} {event_id}" for event_id, ticker in pairs]
        many = len(labels) > _LEGEND_INSIDE
        alpha = min(0.18, max(0.03, 0.25 / len(labels)))  # overlapping bands stay see-through
        for label, path, var in zip(labels, car, variance):
            half = z * np.sqrt(var)
            (line,) = ax.plot(
                days, path, marker=None if many else "o", markersize=3, linewidth=1.0 if many else 1.5, label=label
            )
            ax.fill_between(days, path - half, path + half, color=line.get_color(), alpha=alpha, linewidth=0)
        _place_legend(ax, len(labels), f"Shaded: {ci:.0%} CI (MacKinlay)")
        default = f"Cumulative abnormal return from day {start} by firm-event"
    else:
        mean, se, n = _cross_section(car)
        (line,) = ax.plot(days, mean, marker="o", markersize=3, linewidth=2, label=f"CAAR (N = {n.max()})")
        ax.fill_between(
            days, mean - z * se, mean + z * se, color=line.get_color(), alpha=0.2, linewidth=0,
            label=f"{ci:.0%} CI, cross-sectional SE\n(too narrow for same-day events)",
        )  # fmt: skip
        ax.legend(fontsize="small", loc="best")
        default = f"Average cumulative abnormal return from day {start} (N = {n.max()})"

    ax.axvline(0, color="0.35", linestyle="--", linewidth=1, zorder=0)
    ax.axhline(0, color="0.35", linewidth=0.8, zorder=0)
    ax.set_xlabel("Trading days relative to the event")
    ax.set_ylabel("Cumulative abnormal return")
    if len(days) <= 21:
        ax.set_xticks(days)
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(days[0] - 0.5, days[-1] + 0.5)
    _percent_axis(ax.yaxis)
    ax.set_title(f"{default}\n{res.name}" if title is None else title)
    return fig


# --- plot_ar ----------------------------------------------------------------------------------------------
def plot_ar(
    res: EventStudyResults,
    *,
    day: int = 0,
    ax: Axes | None = None,
    ci: float = 0.95,
    sort: bool = True,
    title: str | None = None,
) -> Figure:
    r"""Plot each firm-event's abnormal return on one day, with its confidence interval.

    One row per firm-event, labelled ``"TICKER (event_id)"`` (just the ticker when all rows share one event): a point at :math:`AR_{i,day}` and a bar of
    :math:`\pm z_{(1+ci)/2}\,\mathrm{SE}_i`, in colour where the interval excludes zero.

    Parameters
    ----------
    res : EventStudyResults
        What :meth:`EventStudy.fit` returns.
    day : int
        Relative trading day inside the event window (default 0, the first session that could react).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure, sized to the number of firm-events, when None.
    ci : float
        Confidence level of the bars, in (0, 1).
    sort : bool
        Order rows by abnormal return (largest at the top); False keeps the order of ``res.firm_events``
        from the top down.
    title : str, optional
        Axes title; a description of the plot when None, ``""`` for none.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.

    Raises
    ------
    TypeError
        If ``res`` is not an :class:`EventStudyResults`, or ``day``, ``ci`` or ``ax`` has the wrong type.
    ValueError
        If ``day`` lies outside the event window or ``ci`` outside (0, 1).

    Notes
    -----
    The standard error is MacKinlay's (1997), :math:`\sigma_i\sqrt{1 + x_t'(X_i'X_i)^{-1}x_t}`, the ``se``
    column of :attr:`EventStudyResults.ar`.  "Significant" means :math:`|AR| > z\,\mathrm{SE}`, a normal
    approximation; the ``pvalue`` of ``res.car((day, day))`` uses the Student t and can differ slightly.
    Firm-events whose abnormal return is missing on ``day`` are left out and counted in the caption
    under the axis.  With many rows only every k-th is labelled, so that the labels stay legible.

    Examples
    --------
    >>> from eventstudy.plotting import plot_ar
    >>> fig = plot_ar(res)  # doctest: +SKIP
    >>> fig.savefig("ar_day0.png", dpi=150)  # doctest: +SKIP
    >>> fig = plot_ar(res, day=1, ci=0.99, sort=False)  # doctest: +SKIP
    """
    res = _check_results(res)
    day = _check_day(res, day)
    z = _critical_value(ci)
    table = res.ar
    table = table.loc[table["event_time"] == day].reset_index(drop=True)
    missing = int(table["ar"].isna().sum())
    table = table.dropna(subset=["ar"])
    table = table.sort_values("ar", kind="stable") if sort else table.iloc[::-1]
    labels = table["ticker"].astype(str).to_numpy()
    if table["event_id"].nunique() > 1:  # name the event only where there is more than one
        labels = (table["ticker"].astype(str) + " (" + table["event_id"].astype(str) + ")").to_numpy()
    ar = table["ar"].to_numpy(float)
    half = z * table["se"].to_numpy(float)
    significant = np.abs(ar) > half
    n = len(table)

    fig, ax = _figure_and_axes(ax, (7.5, min(_MAX_HEIGHT, max(3.0, 0.3 * n + 2.0))))
    y = np.arange(n)
    for mask, colour in ((significant, _SIGNIFICANT), (~significant, _NOT_SIGNIFICANT)):
        if mask.any():
            ax.errorbar(
                ar[mask], y[mask], xerr=half[mask], fmt="o", color=colour, ecolor=colour,
                markersize=5 if n <= 40 else 2, capsize=3 if n <= 40 else 0, linewidth=1.2 if n <= 40 else 0.6,
            )  # fmt: skip
    ax.axvline(0, color="0.35", linewidth=0.8, zorder=0)
    step = _tick_step(ax, n, fontsize=7.0 if n > 40 else 10.0)
    ax.set_yticks(y[::-1][::step], labels[::-1][::step])  # from the top row down
    if n > 40:
        ax.tick_params(axis="y", labelsize=7.0)
    ax.set_ylim(-0.7, max(n, 1) - 0.3)
    _percent_axis(ax.xaxis)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # percent labels are wide; fewer ticks keep them apart
    # The caption sits under the axis, where it cannot cover a bar.
    caption = (
        f"Abnormal return on day {day}\n"
        f"bars: AR \u00b1 {z:.2f} SE ({ci:.0%} CI, MacKinlay); red: the CI excludes 0, grey: it covers 0"
    )
    if missing:
        caption += f"\n{missing} firm-event(s) without an AR on day {day} left out"
    if step > 1:
        caption += f"\n{n} firm-events, 1 in {step} labelled"
    ax.set_xlabel(caption, fontsize="small")
    if not n:
        ax.text(0.5, 0.5, f"No abnormal returns on day {day}", transform=ax.transAxes, ha="center", va="center")
    default = f"Abnormal return on day {day} by firm-event\n{res.name}"
    ax.set_title(default if title is None else title)
    return fig


def _tick_step(ax: Axes, n: int, fontsize: float) -> int:
    """Label every ``step``-th of ``n`` rows so that the tick labels, ``fontsize`` points high, do not overlap."""
    height_pt = ax.get_window_extent().height / _parent_figure(ax).dpi * 72.0
    return max(1, math.ceil(n * 1.2 * fontsize / max(height_pt, 1.0)))


# --- plot_prices ------------------------------------------------------------------------------------------
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
    ax: Axes, marks: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp, cap: int
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
    texts = [_short_id(marks["id"].iloc[i]) for i, _ in placed]
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
    written, band = _label_events(ax, marks, first, last, cap) if len(marks) and cap else (0, 0.0)
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


# --- plot_car_heatmap -------------------------------------------------------------------------------------
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
    limit = float(np.abs(values[finite]).max()) if finite.any() else 0.0
    limit = limit if limit > 0 else 0.01
    row_labels = [f"{_short_id(e)} ({d:%Y-%m-%d})" for e, d in zip(matrix.index, day0)]
    n_rows, n_cols = values.shape

    width = min(16.0, 3.0 + 0.08 * max(map(len, row_labels)) + 0.85 * n_cols)
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
    colorbar = _parent_figure(ax).colorbar(image, ax=ax, shrink=0.9 if n_rows > 3 else 1.0)
    _percent_axis(colorbar.ax.yaxis)
    colorbar.set_label(f"CAR{window_label(window)}")
    default = f"CAR{window_label(window)} by event and ticker\n{res.name}"
    ax.set_title(default if title is None else title)
    return fig
