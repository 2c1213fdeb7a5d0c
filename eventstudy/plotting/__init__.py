"""Figures of an event study: CAR paths, abnormal returns on one day, prices around events, CAR heatmaps, and
the returns through an intraday event's session, and a CAR under many specifications.

Every function takes ``ax=None`` (draw on a new figure) or an existing Axes to draw on, and returns the
Figure, so that figures compose in notebooks and reports (the pattern of statsmodels'
``graphics.utils.create_mpl_ax``).  Nothing is shown: call ``plt.show()`` or ``fig.savefig(...)`` yourself.

matplotlib is imported inside the functions, so ``import eventstudy.plotting`` needs no display.
"""

from __future__ import annotations

from eventstudy.plotting.car import plot_ar, plot_car
from eventstudy.plotting.heatmap import plot_car_heatmap
from eventstudy.plotting.intraday import plot_intraday
from eventstudy.plotting.prices import plot_prices
from eventstudy.plotting.sensitivity import plot_sensitivity

__all__ = ["plot_car", "plot_ar", "plot_prices", "plot_car_heatmap", "plot_intraday", "plot_sensitivity"]
