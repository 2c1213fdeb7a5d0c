"""What every figure of the package shares: the figure and axes to draw on, checks of the arguments, a percent
axis and short event ids.

matplotlib is imported inside the functions, so importing this module needs no display.
"""

from __future__ import annotations

import re
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from eventstudy.foundation.validation import check_inside
from eventstudy.results.results import EventStudyResults

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure, SubFigure

_SHORT_ID_CHARS = 24
_MAX_HEIGHT = 30.0  # inches: plot_ar and plot_car_heatmap grow with the rows up to this


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
    """Format ``axis`` (values as fractions) in percent, the same way in every figure: whole percents when the
    axis spans at least 3 percentage points ("20%"), one decimal below that ("0.5%")."""
    from matplotlib.ticker import FuncFormatter

    def percent(value: float, _position: Any = None) -> str:
        low, high = axis.get_view_interval()
        decimals = 0 if abs(high - low) >= 0.03 else 1
        return f"{100 * value:.{decimals}f}%".replace("-", "\u2212")

    axis.set_major_formatter(FuncFormatter(percent))


def _short_id(event_id: Any, width: int = _SHORT_ID_CHARS) -> str:
    """Catalog ids end in their date (``huawei-fdpr-2020-05-15``); drop it and cut long ids to ``width``."""
    text = str(event_id)
    short = re.sub(r"[-_ ]?\d{4}-\d{2}-\d{2}$", "", text) or text
    return short if len(short) <= width else short[: width - 1] + "\u2026"
