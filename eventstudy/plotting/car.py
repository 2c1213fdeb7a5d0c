"""Figures of abnormal returns in event time: CAR paths with their bands (:func:`plot_car`) and each
firm-event's abnormal return on one day (:func:`plot_ar`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np

from eventstudy.foundation.validation import check_choice
from eventstudy.inference.advice import design
from eventstudy.plotting._common import (
    _MAX_HEIGHT,
    _check_day,
    _check_event_window,
    _check_results,
    _critical_value,
    _figure_and_axes,
    _parent_figure,
    _percent_axis,
)
from eventstudy.results.results import EventStudyResults

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_car", "plot_ar"]

_LEGEND_INSIDE = 12  # plot_car(kind="firm"): more firm-events than this move the legend outside
_LEGEND_MAX = 36  # ... and more than this drop it (point to kind="average")
_SIGNIFICANT, _NOT_SIGNIFICANT = "C3", "0.45"


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


def _portfolio_se(res: EventStudyResults, car: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    r"""Brown & Warner's (1985) standard error of the CAAR over ``lengths`` days: :math:`\sqrt{L}\,S`, with
    :math:`S` the standard deviation (ddof 1) over the estimation window of the average residual
    :math:`AAR_k`, the mean of the residuals on relative day :math:`k` of the firm-events in the plotted
    average that day (those with a finite CAR in ``car``, (N, T)); days without a residual are left out.
    Same-day firm-events' correlation shows in :math:`AAR_k`, so :math:`S` carries it."""
    residuals = res.fit.residuals()
    sets, which = np.unique(np.isfinite(car), axis=1, return_inverse=True)  # the distinct sets of firm-events
    sd = np.full(sets.shape[1], math.nan)
    for j in range(sets.shape[1]):
        chosen = residuals[sets[:, j]]
        has = np.isfinite(chosen)
        count = has.sum(axis=0)
        aar = np.where(has, chosen, 0.0).sum(axis=0)[count > 0] / count[count > 0]
        sd[j] = float(np.std(aar, ddof=1)) if len(aar) > 2 else math.nan
    return sd[np.ravel(which)] * np.sqrt(lengths)


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
    band: Literal["auto", "cross-section", "portfolio"] = "auto",
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
        ``"average"``: the mean CAR across firm-events (CAAR) with the band ``band`` chooses.
    ci : float
        Confidence level of the band, in (0, 1).
    window : (int, int), optional
        Relative trading days to plot, inside the event window (default: the event window).
    title : str, optional
        Axes title; a description of the plot when None, ``""`` for none.
    band : {"auto", "cross-section", "portfolio"}
        The average's band: ``"cross-section"`` for firm-events on separate dates, ``"portfolio"`` (Brown &
        Warner) when they share calendar days; ``"auto"`` takes the portfolio band when the design is
        clustered (:func:`eventstudy.inference.design`), else the cross-sectional one.

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

    For the average, :math:`\overline{CAR}(\tau_1, t)` is the mean of the :math:`N_t` finite CARs.  The
    cross-sectional band is :math:`\pm z\, s_t/\sqrt{N_t}` with :math:`s_t` their cross-sectional standard
    deviation: it allows event-induced variance but treats the firm-events as independent, so it is too
    narrow when they share calendar days (several tickers on one announcement).  The portfolio band is Brown &
    Warner's (1985) crude dependence adjustment, :math:`\pm z\sqrt{t-\tau_1+1}\,S`, with :math:`S` the
    estimation-window standard deviation of the average residual; the correlation between firm-events is in
    that average, so the band holds for same-day events (the ``brown_warner`` test is its t).  For tests that
    also allow event-induced variance, see ``kp_bmp`` (Kolari & Pynnönen 2010) and ``mvrm_average`` in
    :meth:`EventStudyResults.tests`.

    References
    ----------
    MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of Economic Literature*
    35(1), 13-39.

    Brown, S. J., & Warner, J. B. (1985). Using daily stock returns: The case of event studies. *Journal of
    Financial Economics*, 14(1), 3-31.

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
    band = check_choice("band", band, ("auto", "cross-section", "portfolio"))
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
        if band == "auto":
            band = "portfolio" if design(res.fit).clustered else "cross-section"
        if band == "portfolio":
            se = _portfolio_se(res, car, days - start + 1)
            label = f"{ci:.0%} CI, portfolio SE (Brown-Warner):\nholds when firm-events share dates"
        else:
            label = f"{ci:.0%} CI, cross-sectional SE:\nfor firm-events on separate dates"
        (line,) = ax.plot(days, mean, marker="o", markersize=3, linewidth=2, label=f"CAAR (N = {n.max()})")
        ax.fill_between(days, mean - z * se, mean + z * se, color=line.get_color(), alpha=0.2, linewidth=0, label=label)
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
