r"""Test statistics as objects: the statistic, its null, alternative, distribution and critical values.

:func:`test_statistics` runs one registered test on one window and returns :class:`TestStatistic` objects
built from the same arrays (:class:`~eventstudy.inference.base.Batch`) as the rows of
:func:`~eventstudy.inference.run_tests`, so the object and the table cannot disagree.  A test that cannot
run on the design returns an invalid statistic whose ``note`` says why, as linearmodels'
``InvalidTestStatistic`` does (``linearmodels/shared/hypotheses.py``).

The reference distribution is a scipy frozen distribution (``t``, ``norm``, ``f``, ``chi2``, ``binom``)
or, for the resampling tests, an :class:`EmpiricalDistribution` of the statistic's draws under the null.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eventstudy.inference.base import TESTS, Batch, Inputs
from eventstudy.inference.runner import _labels, _test_names, entry_labels, single_threaded_blas

__all__ = ["TestStatistic", "EmpiricalDistribution", "frozen_distribution", "test_statistics", "LEVELS"]

#: the levels :attr:`TestStatistic.critical_values` reports
LEVELS = (0.10, 0.05, 0.01)
#: the alternative of a test that ranks ``|stat|`` among the absolute draws (``permutation``)
ABSOLUTE = "two-sided (|stat| ranked among |draws|)"


class EmpiricalDistribution:
    """The empirical distribution of a statistic's draws under the null (pseudo-events, resamples).

    Offers the part of scipy's frozen-distribution interface a test needs: ``cdf``, ``sf``, ``ppf``,
    ``isf``, ``mean``, ``std`` and ``support``.  ``ppf`` is the inverted empirical CDF (numpy's
    ``"inverted_cdf"`` quantile), so a statistic beyond ``ppf(1 - a)`` exceeds at most a share ``a`` of draws.
    """

    def __init__(self, draws, *, label: str = ""):
        draws = np.sort(np.asarray(draws, dtype=float).ravel())
        self.draws = draws[np.isfinite(draws)]
        self.label = label or f"empirical ({len(self.draws)} draws)"

    def __len__(self) -> int:
        return len(self.draws)

    def cdf(self, x):
        """Share of draws at or below ``x``."""
        return np.searchsorted(self.draws, np.asarray(x, dtype=float), side="right") / len(self.draws)

    def sf(self, x):
        """Share of draws at or above ``x`` (the tail a resampling p-value counts)."""
        return 1.0 - np.searchsorted(self.draws, np.asarray(x, dtype=float), side="left") / len(self.draws)

    def ppf(self, q):
        return np.quantile(self.draws, q, method="inverted_cdf")

    def isf(self, q):
        return self.ppf(1.0 - np.asarray(q, dtype=float))

    def mean(self) -> float:
        return float(self.draws.mean())

    def std(self) -> float:
        return float(self.draws.std(ddof=1))

    def support(self) -> tuple[float, float]:
        return float(self.draws[0]), float(self.draws[-1])

    def __repr__(self) -> str:
        return f"EmpiricalDistribution({self.label})"


_LABEL = re.compile(r"^(t|F|chi2|binomial)\(([^)]*)\)")


def frozen_distribution(label: str):
    """The scipy frozen distribution a distribution label names: ``"t(238)"`` -> ``scipy.stats.t(238)``.

    ``"N(0,1)..."`` is the standard normal, ``"F(a, b)"``, ``"chi2(k)"`` and ``"binomial(n, p)"`` the
    matching scipy distributions; ``"exact signed-rank(n)"`` has no scipy distribution (None).
    """
    from scipy import stats  # here: only a test object asked for its distribution needs scipy.stats (0.45 s)

    if label.startswith("N(0,1)"):
        return stats.norm()
    match = _LABEL.match(label)
    if match is None:
        return None
    args = [float(a) for a in match.group(2).split(",")]
    kind = match.group(1)
    if kind == "t":
        return stats.t(*args)
    if kind == "F":
        return stats.f(*args)
    if kind == "chi2":
        return stats.chi2(*args)
    return stats.binom(int(args[0]), args[1])


@dataclass(frozen=True)
class TestStatistic:
    """One test on one window as an object: statistic, p-value, null, alternative and distribution.

    Attributes
    ----------
    test : str
        Registry name of the test.
    stat, pvalue : float
        NaN when the test could not run (``valid`` is False and ``note`` says why).
    n : int
        Firm-events (or dates, or firms of a cluster) the statistic uses.
    distribution : scipy frozen distribution, EmpiricalDistribution or None
        The reference distribution of ``stat`` under the null.
    dist_name : str
        Its label, as in the ``distribution`` column of ``res.tests()``.
    null, alternative : str
        The null hypothesis in words, and ``"two-sided"`` or ``"upper"`` (large values reject).
    window : (int, int)
    note : str
        The reason for an invalid statistic, or a caveat (the tail hit, firm-events left out, ...).
    event_id, ticker : str or None
        The event (and firm) the row belongs to.
    description, reference : str
        From the registry.
    """

    __test__ = False

    test: str
    stat: float
    pvalue: float
    n: int
    distribution: Any
    dist_name: str
    null: str
    alternative: str
    window: tuple[int, int]
    note: str = ""
    event_id: str | None = None
    ticker: str | None = None
    description: str = ""
    reference: str = ""

    @property
    def valid(self) -> bool:
        return math.isfinite(self.stat) and math.isfinite(self.pvalue)

    @property
    def critical_values(self) -> dict[float, tuple[float, float]]:
        """Rejection bounds ``{level: (lower, upper)}``: reject when ``stat`` is below ``lower`` or above
        ``upper``.  Two-sided tests split the level equally between the tails; upper-tail tests (F, chi2,
        ``|CAR|`` ranks) have ``lower = -inf``; the sign test's exact bounds are the rejecting counts shown on
        its z scale.  For empirical distributions the bounds are the draws' quantiles, while the p-value counts
        the event among the draws (``(1 + k) / (1 + M)``), so at the boundary the p-value is the more
        conservative of the two.  Empty when the test is invalid or has no distribution."""
        dist = self.distribution
        if not self.valid or dist is None:
            return {}
        if self.dist_name.startswith("binomial"):
            return self._binomial_bounds()
        out = {}
        for level in LEVELS:
            if self.alternative == ABSOLUTE:  # |stat| ranked among |draws|: symmetric bounds
                q = float(np.quantile(np.abs(dist.draws), 1.0 - level, method="inverted_cdf"))
                out[level] = (-q, q)
            elif self.alternative == "upper":
                out[level] = (-math.inf, float(dist.ppf(1.0 - level)))
            else:
                out[level] = (float(dist.ppf(level / 2.0)), float(dist.ppf(1.0 - level / 2.0)))
        return out

    def _binomial_bounds(self) -> dict[float, tuple[float, float]]:
        r"""The sign test's exact bounds, on the scale of its displayed statistic.

        ``stat`` is :math:`z=(w-N/2)/\sqrt{N/4}` while the p-value is the exact binomial one, so the bounds
        are the counts :math:`w` the exact test rejects at, expressed as :math:`z`: the largest lower count
        and the smallest upper count whose two-sided p-value is at most the level.
        """
        dist = self.distribution
        n, p = dist.args
        counts = np.arange(n + 1)
        low = np.minimum(counts, n - counts)
        exact = np.where(2 * low == n, 1.0, dist.cdf(low) + dist.sf(n - low - 1))
        scale = np.sqrt(n * p * (1 - p))
        out = {}
        for level in LEVELS:
            reject = counts[exact <= level]
            lower = reject[reject < n * p]
            upper = reject[reject > n * p]
            out[level] = (
                float((lower.max() - n * p) / scale) if len(lower) else -math.inf,
                float((upper.min() - n * p) / scale) if len(upper) else math.inf,
            )
        return out

    def _who(self) -> str:
        parts = [f"event {self.event_id}" if self.event_id else "", self.ticker or ""]
        return ", ".join(p for p in parts if p)

    def _lines(self) -> list[tuple[str, str]]:
        window = f"({self.window[0]:+d}, {self.window[1]:+d})" if self.window != (0, 0) else "day 0"
        rows = [("Test", f"{self.test}: {self.description}" if self.description else self.test)]
        if self._who():
            rows.append(("For", self._who()))
        rows += [("Window", window), ("H0", self.null), ("Alternative", self.alternative)]
        if not self.valid:
            rows.append(("Invalid", self.note or "the statistic could not be computed"))
            return rows
        rows += [
            ("Statistic", f"{self.stat:.4f}"),
            ("P-value", f"{self.pvalue:.4g}"),
            ("Distribution", self.dist_name),
            ("N", str(self.n)),
        ]
        crit = self.critical_values
        if crit:
            text = "; ".join(
                f"{level:.0%}: " + (f"> {hi:.3f}" if self.alternative == "upper" else f"< {lo:.3f} or > {hi:.3f}")
                for level, (lo, hi) in crit.items()
            )
            rows.append(("Critical values", text))
        if self.note:
            rows.append(("Note", self.note))
        if self.reference:
            rows.append(("Reference", self.reference))
        return rows

    def __str__(self) -> str:
        rows = self._lines()
        width = max(len(label) for label, _ in rows)
        title = "Invalid test statistic" if not self.valid else "Test statistic"
        return "\n".join([title, "=" * len(title)] + [f"{label:<{width}}  {value}" for label, value in rows])

    def __repr__(self) -> str:
        who = f" {self._who()}" if self._who() else ""
        head = f"TestStatistic({self.test}{who}, window={self.window}"
        if not self.valid:
            return f"{head}, invalid: {self.note})"
        return f"{head}, stat={self.stat:.4f}, pvalue={self.pvalue:.4g}, {self.dist_name}, n={self.n})"

    def _repr_html_(self) -> str:
        title = "Invalid test statistic" if not self.valid else "Test statistic"
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(label)}</th>"
            f"<td style='text-align:left'>{html.escape(value)}</td></tr>"
            for label, value in self._lines()
        )
        return f"<div class='eventstudy-test'><h5>{title}</h5><table>{body}</table></div>"


def _distribution(batch: Batch, k: int):
    if not batch.valid[k]:
        return None
    if batch.draws is not None:
        return EmpiricalDistribution(batch.draws(k), label=str(batch.distribution[k]))
    return frozen_distribution(str(batch.distribution[k]))


def statistics_from_batch(name: str, batch: Batch, window, who: Sequence[np.ndarray]) -> list[TestStatistic]:
    """:class:`TestStatistic` objects of one test's batch; ``who`` is the (event_id, ticker) arrays."""
    spec = TESTS[name]
    return [
        TestStatistic(
            test=name,
            stat=float(batch.stat[k]),
            pvalue=float(batch.pvalue[k]),
            n=int(batch.n[k]),
            distribution=_distribution(batch, k),
            dist_name=str(batch.distribution[k]),
            null=spec.null,
            alternative=spec.alternative,
            window=tuple(window),
            note=str(batch.note[k]),
            event_id=who[0][k],
            ticker=who[1][k],
            description=spec.description,
            reference=spec.reference,
        )
        for k in range(len(batch))
    ]


def test_statistics(
    fit, name: str, window: tuple[int, int], *, labels=None, clusters=None, exclude=None
) -> list[TestStatistic]:
    """Run the registered test ``name`` on ``window`` and return its results as :class:`TestStatistic` objects.

    Parameters
    ----------
    fit : StackedFit
    name : str
        A name from :data:`~eventstudy.inference.TESTS`.
    window : (int, int)
    labels, clusters, exclude
        As in :func:`~eventstudy.inference.run_tests`.

    Returns
    -------
    list of TestStatistic
        One for a cross-sectional test, one per firm-event for a single-firm test, one per same-day
        cluster for a clustered test.
    """
    (name,) = _test_names([name])
    spec = TESTS[name]
    inp = Inputs(fit, window, clusters=clusters, exclude=exclude, tests=(name,))
    with single_threaded_blas():
        batch = spec.kernel(inp)
    event_id, ticker = _labels(labels, fit.n)
    return statistics_from_batch(name, batch, inp.window, entry_labels(spec, batch, event_id, ticker))


test_statistics.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite the name
