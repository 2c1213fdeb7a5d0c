"""Tests as objects (TestStatistic), multiple-testing adjustment and excluded sessions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from eventstudy.inference import run_tests
from eventstudy.inference.statistic import EmpiricalDistribution, frozen_distribution, test_statistics
from eventstudy.results.results import adjust_pvalues


def test_statistic_matches_the_table_row(study):
    fit, _ = study
    table = run_tests(fit, (-1, 1), tests=["bmp", "car_t", "mvrm_joint"])
    for name in ("bmp", "car_t", "mvrm_joint"):
        rows = table[table["test"] == name]
        objs = test_statistics(fit, name, (-1, 1))
        assert len(objs) == len(rows)
        for obj, (_, row) in zip(objs, rows.iterrows()):
            assert obj.stat == row["stat"] or (math.isnan(obj.stat) and math.isnan(row["stat"]))
            assert obj.dist_name == row["distribution"] and obj.note == row["note"]


def test_critical_values_are_the_scipy_quantiles(study):
    fit, _ = study
    bmp = test_statistics(fit, "bmp", (0, 0))[0]
    n = bmp.n
    assert bmp.alternative == "two-sided" and "standardized CAR" in bmp.null
    # t(N-1) two-sided: +-t_{1-a/2}
    for level, (lo, hi) in bmp.critical_values.items():
        assert hi == pytest.approx(stats.t.ppf(1 - level / 2, n - 1), rel=1e-12) and lo == pytest.approx(-hi)
    # the p-value is the distribution's two-sided tail at the statistic
    assert bmp.pvalue == pytest.approx(2 * bmp.distribution.sf(abs(bmp.stat)), rel=1e-12)
    joint = test_statistics(fit, "mvrm_joint", (0, 0))[0]
    assert joint.alternative == "upper"
    d1, d2 = (float(v) for v in joint.dist_name[2:-1].split(","))
    assert joint.critical_values[0.05] == (-math.inf, pytest.approx(stats.f.ppf(0.95, d1, d2), rel=1e-12))
    assert "Critical values" in str(joint) and "<table>" in joint._repr_html_()


def test_invalid_statistic_says_why(study):
    fit, _ = study
    few = fit.take(np.arange(3))
    result = test_statistics(few, "csect_t", (0, 0))[0]
    assert not result.valid and "needs at least 5 firm-events" in result.note
    assert result.critical_values == {} and result.distribution is None
    assert str(result).startswith("Invalid test statistic") and "needs at least" in result._repr_html_()


def test_permutation_distribution_is_the_estimation_window_cars(study):
    fit, records = study
    obj = test_statistics(fit, "permutation", (0, 0))[0]
    rec = records[0]
    # the loop: every estimation day's residual, scaled by their standard deviation
    resid = np.array([rec["resid"][t] for t in sorted(rec["resid"])])
    draws = np.sort(resid / resid.std(ddof=1))
    np.testing.assert_allclose(obj.distribution.draws, draws, rtol=1e-10)
    q = np.sort(np.abs(draws))[math.ceil(0.95 * len(draws)) - 1]
    assert obj.critical_values[0.05] == (pytest.approx(-q, rel=1e-12), pytest.approx(q, rel=1e-12))
    assert obj.note.endswith("tail (positive)") or obj.note.endswith("tail (negative)")


def test_empirical_distribution_tails():
    dist = EmpiricalDistribution([3.0, 1.0, 2.0, 4.0])
    assert dist.cdf(2.0) == 0.5 and dist.sf(2.0) == 0.75 and dist.ppf(0.5) == 2.0
    assert dist.support() == (1.0, 4.0)
    assert frozen_distribution("N(0,1), tie-corrected").ppf(0.975) == pytest.approx(1.959963984540054)
    assert frozen_distribution("binomial(12, 0.5)").mean() == 6.0
    assert frozen_distribution("exact signed-rank(9)") is None


def holm_loop(p):
    """Holm (1979) step-down, written out: sort, multiply by (m - k), running maximum, cap at 1."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    out, running = [0.0] * len(p), 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - k) * p[i]))
        out[i] = running
    return out


def bh_loop(p):
    """Benjamini & Hochberg (1995): p_(k) m / k, running minimum from the largest down, cap at 1."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out, running = [0.0] * m, 1.0
    for k in range(m - 1, -1, -1):
        i = order[k]
        running = min(running, p[i] * m / (k + 1))
        out[i] = running
    return out


def test_adjusted_pvalues_against_the_step_down_loops():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.5, 0.002])
    ok = np.isfinite(p)
    holm = adjust_pvalues(p, "holm")
    bh = adjust_pvalues(p, "fdr_bh")
    np.testing.assert_allclose(holm[ok], holm_loop(list(p[ok])), rtol=1e-12)
    np.testing.assert_allclose(bh[ok], bh_loop(list(p[ok])), rtol=1e-12)
    assert np.isnan(holm[2]) and np.isnan(bh[2])
    with pytest.raises(ValueError, match="'adjust'"):
        adjust_pvalues(p, "bonferoni")


def test_excluded_sessions_leave_the_null(study):
    fit, records = study
    rec = records[0]
    first = min(rec["resid"])  # the first estimation day of firm-event 0, relative to its day 0
    session = int(fit.day0[0]) + first
    full = test_statistics(fit, "permutation", (0, 0))[0]
    cut = test_statistics(fit, "permutation", (0, 0), exclude=[session])[0]
    assert full.dist_name == f"empirical ({len(rec['resid'])} windows)"
    assert cut.dist_name == f"empirical ({len(rec['resid']) - 1} windows)"
    mask = np.zeros(fit.data.y.shape[0], dtype=bool)
    mask[session] = True
    assert test_statistics(fit, "permutation", (0, 0), exclude=mask)[0].pvalue == cut.pvalue
    with pytest.raises(ValueError, match="'exclude'"):
        run_tests(fit, (0, 0), tests=["permutation"], exclude=mask[:-1])
    with pytest.raises(TypeError, match="'exclude'"):
        run_tests(fit, (0, 0), tests=["permutation"], exclude=[1.5])


def test_sign_test_bounds_are_the_exact_binomial_ones(study):
    fit, _ = study
    obj = test_statistics(fit, "sign", (0, 0))[0]
    n = obj.n
    # by hand: the two-sided exact p-value of every count, the rejecting counts nearest the centre, as z
    for level, (lo, hi) in obj.critical_values.items():
        p = [stats.binomtest(k, n, 0.5).pvalue for k in range(n + 1)]
        rejecting = [k for k in range(n + 1) if p[k] <= level]
        below, above = [k for k in rejecting if k < n / 2], [k for k in rejecting if k > n / 2]
        want_lo = (max(below) - n / 2) / math.sqrt(n / 4) if below else -math.inf
        want_hi = (min(above) - n / 2) / math.sqrt(n / 4) if above else math.inf
        assert (lo, hi) == (pytest.approx(want_lo), pytest.approx(want_hi))
