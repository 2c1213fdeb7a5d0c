"""MVRM (same-day cluster) tests against an explicit dummy-variable regression and linearmodels' SUR."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eventstudy.inference import mvrm_average, mvrm_joint
from eventstudy.models import estimate
from eventstudy.panel import AlignedData

_spec = importlib.util.spec_from_file_location(
    "inference_loops", Path(__file__).resolve().parents[1] / "reference" / "inference_loops.py"
)
loops = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(loops)

CLUSTER = [0, 1, 2, 3]  # the four firm-events on session 180 (securities 0-3)
WINDOWS = [(0, 0), (-1, 1), (-3, 3)]
RTOL = 1e-10


@pytest.fixture(scope="module")
def study():
    y, market, day0, firm = loops.synthetic()
    fit = estimate(AlignedData.build(y, market), day0, firm, loops.ESTIMATION, loops.EVENT)
    return fit, y, market


def reference(study, window):
    _, y, market = study
    return loops.mvrm(y, market, 180, CLUSTER, loops.ESTIMATION, window)


@pytest.mark.parametrize("window", WINDOWS)
def test_wald_form_matches_the_dummy_regression(study, window):
    fit, _, _ = study
    ref = reference(study, window)
    results = mvrm_joint(fit, window, form="wald")
    first = results[0]
    assert first.stat == pytest.approx(ref["wald"], rel=RTOL)
    assert first.pvalue == pytest.approx(stats.chi2.sf(ref["wald"], 4 * ref["L"]), rel=1e-12)
    assert first.distribution == f"chi2({4 * ref['L']})" and first.n == 4
    average = mvrm_average(fit, window, form="wald")[0]
    assert average.stat == pytest.approx(ref["average"] / math.sqrt(ref["average_var"]), rel=RTOL)
    # the single firm-events of sessions 200, 215, 230 and 232 form no system
    assert [r.valid for r in results] == [True, False, False, False, False]
    assert all("at least 2 firm-events" in r.note for r in results[1:])


@pytest.mark.parametrize("window", [(0, 0), (-1, 1)])
@pytest.mark.parametrize("debiased", [True, False])
def test_wald_matches_linearmodels_sur(study, window, debiased):
    from linearmodels.system import SUR

    fit, _, _ = study
    ref = reference(study, window)
    columns = ["const", "market"] + [f"day{d}" for d in range(window[0], window[1] + 1)]
    exog = pd.DataFrame(ref["X"], columns=columns)
    equations = {f"firm{i}": {"dependent": pd.Series(ref["Y"][:, i]), "exog": exog} for i in range(4)}
    res = SUR(equations).fit(method="ols", cov_type="unadjusted", debiased=debiased)
    names = list(res.params.index)
    dummies = [f"firm{i}_{c}" for i in range(4) for c in columns[2:]]
    restriction = np.zeros((len(dummies), len(names)))
    restriction[np.arange(len(dummies)), [names.index(d) for d in dummies]] = 1.0
    theta, cov = res.params.to_numpy(), res.cov.to_numpy()
    wald = (restriction @ theta) @ np.linalg.solve(restriction @ cov @ restriction.T, restriction @ theta)
    average_row = restriction.sum(axis=0, keepdims=True) / 4
    wald_average = (average_row @ theta) ** 2 / (average_row @ cov @ average_row.T)
    # linearmodels divides Sigma by T + L observations unless debiased, which divides by T + L - (K + L) = T - K
    scale = 1.0 if debiased else (ref["nu"] + ref["L"] + 2) / ref["nu"]
    assert mvrm_joint(fit, window, form="wald")[0].stat * scale == pytest.approx(wald, rel=1e-6)
    assert mvrm_average(fit, window, form="wald")[0].stat ** 2 * scale == pytest.approx(wald_average.item(), rel=1e-6)


def test_exact_form_is_hotellings_t2_for_one_day(study):
    fit, _, _ = study
    ref = reference(study, (0, 0))
    n, nu = 4, ref["nu"]
    result = mvrm_joint(fit, (0, 0))[0]
    f = (nu - n + 1) / (n * nu) * ref["wald"]
    assert result.stat == pytest.approx(f, rel=RTOL)
    assert result.pvalue == pytest.approx(stats.f.sf(f, n, nu - n + 1), rel=1e-10)
    assert result.distribution == f"F({n}, {nu - n + 1})"


def test_exact_form_uses_mckeons_approximation_for_several_days(study):
    fit, _, _ = study
    ref = reference(study, (-1, 1))
    p, q, nu = 4, 3, ref["nu"]
    a = p * q
    big_b = (nu + q - p - 1) * (nu - 1) / ((nu - p - 3) * (nu - p))
    b = 4 + (a + 2) / (big_b - 1)
    c = a * (b - 2) / (b * (nu - p - 1))
    f = ref["wald"] / nu / c
    result = mvrm_joint(fit, (-1, 1))[0]
    assert result.stat == pytest.approx(f, rel=RTOL)
    assert result.pvalue == pytest.approx(stats.f.sf(f, a, b), rel=1e-10)


def test_binder_form(study):
    fit, _, _ = study
    ref = reference(study, (-1, 1))
    result = mvrm_joint(fit, (-1, 1), form="binder")[0]
    assert result.stat == pytest.approx(ref["wald"] / 12, rel=RTOL)
    assert result.pvalue == pytest.approx(stats.f.sf(ref["wald"] / 12, 12, 4 * ref["nu"]), rel=1e-10)
    assert result.distribution == f"F(12, {4 * ref['nu']})"
    average = mvrm_average(fit, (-1, 1), form="binder")[0]
    assert average.distribution == f"t({4 * ref['nu']})"


@pytest.mark.parametrize("window", WINDOWS)
def test_average_is_the_portfolio_t_test(study, window):
    """The equally weighted portfolio's CAR over its prediction-error sd, t(T - K)."""
    fit, y, market = study
    ref = reference(study, window)
    first, last = loops.ESTIMATION
    days = [
        t for t in range(first, last + 1) if np.isfinite(y[180 + t, CLUSTER]).all() and np.isfinite(market[180 + t])
    ]
    portfolio = y[:, CLUSTER].mean(axis=1)
    x = np.column_stack([np.ones(len(days)), market[[180 + t for t in days]]])
    b, ssr = np.linalg.lstsq(x, portfolio[[180 + t for t in days]], rcond=None)[:2]
    sigma2 = ssr[0] / (len(days) - 2)
    win = range(window[0], window[1] + 1)
    car = sum(portfolio[180 + t] - b @ [1.0, market[180 + t]] for t in win)
    s = sum(np.array([1.0, market[180 + t]]) for t in win)
    var = sigma2 * (len(win) + s @ np.linalg.inv(x.T @ x) @ s)
    t = car / math.sqrt(var)
    result = mvrm_average(fit, window)[0]
    assert len(days) - 2 == ref["nu"]
    assert result.stat == pytest.approx(t, rel=RTOL)
    assert result.pvalue == pytest.approx(2 * stats.t.sf(abs(t), len(days) - 2), rel=1e-10)
    assert result.distribution == f"t({len(days) - 2})"


def test_no_shared_date_is_invalid():
    y, market, _, _ = loops.synthetic()
    fit = estimate(AlignedData.build(y, market), np.array([100, 120, 140, 160, 180]), np.arange(5),
                   loops.ESTIMATION, loops.EVENT)
    for function in (mvrm_joint, mvrm_average):
        (result,) = function(fit, (0, 0))
        assert not result.valid and result.note == "mvrm needs firm-events that share an event date"


def test_more_firms_than_estimation_days_is_invalid():
    rng = np.random.default_rng(5)
    market = rng.normal(0, 0.01, 100)
    y = market[:, None] + rng.normal(0, 0.02, (100, 12))
    fit = estimate(AlignedData.build(y, market), np.full(12, 80), np.arange(12), (-12, -3), (0, 0))
    for form in ("exact", "binder", "wald"):
        (result,) = mvrm_joint(fit, (0, 0), form=form)
        assert not result.valid and "12 firm-events but only 10 common estimation days" in result.note
    # 5 firms and T - K = 8: enough for the Wald and Binder forms, not for the exact F (needs T - K > N + 3)
    small = fit.take(np.arange(5))
    assert mvrm_joint(small, (0, 0), form="binder")[0].valid
    assert "T - K > N + 3" in mvrm_joint(small, (0, 0))[0].note


def test_clusters_split_a_date_into_systems(study):
    fit, y, market = study
    labels = ["a", "a", "b", "b", "c", "d", "e", "f"]
    results = mvrm_joint(fit, (0, 0), clusters=labels, form="wald")
    valid = [r for r in results if r.valid]
    assert len(valid) == 2 and all(r.n == 2 for r in valid)
    ref = loops.mvrm(y, market, 180, [2, 3], loops.ESTIMATION, (0, 0))
    assert valid[1].stat == pytest.approx(ref["wald"], rel=RTOL)


def test_the_same_security_twice_on_one_date_is_invalid():
    y, market, _, _ = loops.synthetic()
    fit = estimate(AlignedData.build(y, market), np.array([180, 180, 180]), np.array([0, 1, 1]),
                   loops.ESTIMATION, loops.EVENT)
    (result,) = mvrm_joint(fit, (0, 0), form="wald")
    assert not result.valid and "singular" in result.note


def test_form_is_validated(study):
    fit, _, _ = study
    with pytest.raises(ValueError, match="'form'"):
        mvrm_joint(fit, (0, 0), form="lr")
