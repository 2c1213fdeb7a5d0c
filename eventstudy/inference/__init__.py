"""Inference: test statistics for event studies, the test registry and a size/power simulation.

>>> from eventstudy.inference import run_tests, recommend  # doctest: +SKIP
>>> run_tests(fit, [(0, 0), (-1, 1)])  # doctest: +SKIP

Every test is a function ``f(fit, window)`` of a :class:`~eventstudy.estimation.models.StackedFit` that returns a
:class:`TestResult` (cross-sectional tests) or a list of them (one per firm-event for ``ar_t``, ``car_t``
and ``permutation``; one per same-day cluster for ``mvrm_joint`` and ``mvrm_average``).  :data:`TESTS`
lists them with their scope, description, reference, null and alternative; :func:`tests_in_scope` names the
tests of some scopes (``tests_in_scope("cross-section", "clustered")``: the pooled ones).
:func:`test_statistics` returns one test's results as :class:`TestStatistic` objects (null, alternative,
reference distribution, critical values), built from the same arrays as :func:`run_tests`' rows.  The simulation
(:func:`simulate`, :func:`eligible_sessions`) lives in :mod:`eventstudy.inference.simulation` and is
imported on first use.
"""

from __future__ import annotations

# registration order = report order: parametric, nonparametric, then the same-day system tests
from eventstudy.inference import parametric  # noqa: F401  # isort: skip
from eventstudy.inference import nonparametric  # noqa: F401  # isort: skip
from eventstudy.inference import multivariate  # noqa: F401  # isort: skip
from eventstudy.inference import resampling  # noqa: F401  # isort: skip
from eventstudy.inference import crossevent  # noqa: F401  # isort: skip
from eventstudy.inference.advice import Design, design, recommend
from eventstudy.inference.base import MIN_FIRM_EVENTS, SMALL_SAMPLE, TESTS, TestResult, TestSpec, tests_in_scope
from eventstudy.inference.crossevent import im_t
from eventstudy.inference.multivariate import mvrm_average, mvrm_joint
from eventstudy.inference.nonparametric import (
    MIN_PERMUTATION_WINDOWS,
    generalized_sign,
    grank_t,
    grank_z,
    permutation,
    rank,
    sign,
    wilcoxon,
)
from eventstudy.inference.parametric import (
    MIN_OVERLAP,
    ar_t,
    average_correlation,
    bmp,
    brown_warner,
    car_t,
    csect_t,
    kp_bmp,
    kp_patell,
    patell,
)
from eventstudy.inference.resampling import boot_skew_t, pseudo_event, pseudo_event_mean, pseudo_event_t, skew_t, sq
from eventstudy.inference.runner import run_tests
from eventstudy.inference.statistic import EmpiricalDistribution, TestStatistic, test_statistics

__all__ = [
    "TestResult",
    "TestSpec",
    "TESTS",
    "run_tests",
    "tests_in_scope",
    "recommend",
    "design",
    "Design",
    "simulate",
    "eligible_sessions",
    "ar_t",
    "car_t",
    "permutation",
    "csect_t",
    "brown_warner",
    "patell",
    "bmp",
    "kp_patell",
    "kp_bmp",
    "average_correlation",
    "rank",
    "generalized_sign",
    "sign",
    "wilcoxon",
    "mvrm_joint",
    "mvrm_average",
    "grank_t",
    "grank_z",
    "pseudo_event",
    "pseudo_event_t",
    "pseudo_event_mean",
    "im_t",
    "sq",
    "skew_t",
    "boot_skew_t",
    "TestStatistic",
    "EmpiricalDistribution",
    "test_statistics",
    "MIN_FIRM_EVENTS",
    "SMALL_SAMPLE",
    "MIN_OVERLAP",
    "MIN_PERMUTATION_WINDOWS",
]


def __getattr__(name: str):
    if name in ("simulate", "eligible_sessions"):  # pandas-heavy; imported on first use
        from eventstudy.inference import simulation

        return getattr(simulation, name)
    raise AttributeError(f"module 'eventstudy.inference' has no attribute {name!r}")
