"""MVRM (same-day cluster) tests against an explicit dummy-variable regression and linearmodels' SUR."""

from __future__ import annotations

import math

import inference_loops as loops
import numpy as np
import pandas as pd
import pytest
import scipy.linalg
from scipy import stats

from eventstudy.estimation.models import estimate
from eventstudy.estimation.panel import AlignedData
from eventstudy.inference import mvrm_average, mvrm_joint
from eventstudy.inference.multivariate import _STACKED_INV, _positive_definite, _row_keys, _triangular_inverses

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


def test_one_day_joint_test_is_hotellings_t2(study):
    fit, _, _ = study
    ref = reference(study, (0, 0))
    n, nu = 4, ref["nu"]
    result = mvrm_joint(fit, (0, 0))[0]
    # Hotelling's T^2 is the Wald statistic; (nu - N + 1) T^2 / (N nu) ~ F(N, nu - N + 1)
    f = (nu - n + 1) / (n * nu) * ref["wald"]
    assert result.stat == pytest.approx(f, rel=RTOL)
    assert result.pvalue == pytest.approx(stats.f.sf(f, n, nu - n + 1), rel=1e-10)
    assert result.distribution == f"F({n}, {nu - n + 1})"
    assert mvrm_joint(fit, (0, 0), form="mckeon")[0] == result


def test_hotellings_t2_needs_only_as_many_degrees_of_freedom_as_firms():
    """N = 5 firms, nu = T - K = 6: below McKeon's nu > N + 3, but Hotelling's F(5, 2) is exact."""
    rng = np.random.default_rng(8)
    market = rng.normal(0, 0.01, 40)
    y = 0.9 * market[:, None] + rng.normal(0, 0.02, (40, 5))
    fit = estimate(AlignedData.build(y, market), np.full(5, 30), np.arange(5), (-8, -1), (0, 0))
    x = np.column_stack([np.ones(8), market[22:30]])
    coef, ssr = np.linalg.lstsq(x, y[22:30], rcond=None)[:2]
    resid = y[22:30] - x @ coef
    sigma = resid.T @ resid / 6
    x0 = np.array([1.0, market[30]])
    ar = y[30] - x0 @ coef
    t2 = ar @ np.linalg.solve(sigma, ar) / (1 + x0 @ np.linalg.inv(x.T @ x) @ x0)
    f = (6 - 5 + 1) / (5 * 6) * t2
    result = mvrm_joint(fit, (0, 0))[0]
    assert result.stat == pytest.approx(f, rel=1e-9)
    assert result.pvalue == pytest.approx(stats.f.sf(f, 5, 2), rel=1e-9)
    assert result.distribution == "F(5, 2)"


def test_several_days_use_mckeons_f_approximation(study):
    """McKeon (1974): U = W / nu referred to F(a, b) scaled by c, transcribed from the paper."""
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
    # McKeon matches the first moment of U: E(c F) = c b / (b - 2) = pq / (nu - p - 1)
    assert c * b / (b - 2) == pytest.approx(p * q / (nu - p - 1), rel=1e-12)


def lawley_hotelling_draws(n: int, q: int, nu: int, draws: int, rng) -> np.ndarray:
    """Monte Carlo draws of U = tr(H E^-1), H ~ W_n(q, I) and E ~ W_n(nu, I) independent.

    E = A A' by Bartlett's decomposition (A lower triangular, A_ii^2 ~ chi2(nu - i), A_ij ~ N(0, 1) below
    the diagonal) and H = Z Z' with Z (n x q) standard normal, so U = ||A^-1 Z||_F^2.  Sigma = I loses no
    generality: U is invariant to Sigma.
    """
    a = np.zeros((draws, n, n))
    for i in range(n):
        a[:, i, i] = np.sqrt(rng.chisquare(nu - i, draws))
        a[:, i, :i] = rng.standard_normal((draws, i))
    z = rng.standard_normal((draws, n, q))
    return (np.linalg.solve(a, z) ** 2).sum(axis=(1, 2))


@pytest.mark.slow
def test_mckeons_approximation_against_a_monte_carlo_of_the_lawley_hotelling_trace():
    """Four firms, a 3-day window and nu = 28: every cluster's p-value against the simulated null of U."""
    rng = np.random.default_rng(0)
    n, q, nu, clusters, sessions = 4, 3, 28, 300, 40
    u = np.sort(lawley_hotelling_draws(n, q, nu, 400_000, rng))
    assert u.mean() == pytest.approx(n * q / (nu - n - 1), rel=0.01)  # E(U) = nq / (nu - n - 1)
    market = rng.normal(0, 0.01, sessions * clusters)
    y = market[:, None] + rng.normal(0, 0.02, (len(market), n))
    day0 = np.repeat(np.arange(clusters) * sessions + 35, n)
    fit = estimate(AlignedData.build(y, market), day0, np.tile(np.arange(n), clusters), (-30, -1), (-1, 1))
    wald = np.array([r.stat for r in mvrm_joint(fit, (-1, 1), form="wald")])
    results = mvrm_joint(fit, (-1, 1))
    assert all(r.valid and r.distribution.startswith("F(12, ") for r in results)
    simulated = 1.0 - np.searchsorted(u, wald / nu) / len(u)  # P(U >= u_observed) under the null
    # Monte Carlo error <= 0.0008; McKeon's error here about 0.002 at most
    np.testing.assert_allclose([r.pvalue for r in results], simulated, atol=0.005)


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
    fit = estimate(
        AlignedData.build(y, market), np.array([100, 120, 140, 160, 180]), np.arange(5), loops.ESTIMATION, loops.EVENT
    )
    for function in (mvrm_joint, mvrm_average):
        (result,) = function(fit, (0, 0))
        assert not result.valid and result.note == "mvrm needs firm-events that share an event date"


@pytest.fixture(scope="module")
def large_cluster():
    """40 firms on one date with 30 estimation days (T - K = 28 < N); window days -1..1."""
    rng = np.random.default_rng(2)
    market = rng.normal(0, 0.01, 80)
    y = 0.0005 + rng.uniform(0.5, 1.5, 40) * market[:, None] + rng.normal(0, 0.02, (80, 40))
    fit = estimate(AlignedData.build(y, market), np.full(40, 60), np.arange(40), (-40, -11), (-1, 1))
    return fit, y, market


@pytest.mark.parametrize("window", [(0, 0), (-1, 1)])
def test_average_runs_on_a_cluster_larger_than_the_estimation_window(large_cluster, window):
    """The equally weighted portfolio regressed on the market (statsmodels OLS): t of its CAR, t(28)."""
    import statsmodels.api as sm

    fit, y, market = large_cluster
    portfolio = y.mean(axis=1)
    estimation = np.arange(60 - 40, 60 - 10)
    ols = sm.OLS(portfolio[estimation], sm.add_constant(market[estimation])).fit()
    days = np.arange(60 + window[0], 60 + window[1] + 1)
    summed = np.array([[len(days), market[days].sum()]])  # the CAR's regressors: sum of x_t over the window
    prediction = ols.get_prediction(summed)
    car = portfolio[days].sum() - prediction.predicted_mean[0]
    # Var(CAR) = sigma^2 L + Var(s'b-hat), the prediction-error variance of the portfolio's CAR
    t = car / math.sqrt(len(days) * ols.scale + prediction.se_mean[0] ** 2)
    result = mvrm_average(fit, window)[0]
    assert ols.df_resid == 28
    assert result.valid and result.n == 40
    assert result.stat == pytest.approx(t, rel=1e-9)
    assert result.pvalue == pytest.approx(2 * stats.t.sf(abs(t), 28), rel=1e-9)
    assert result.distribution == "t(28)"
    for form in ("mckeon", "binder", "wald"):
        (joint,) = mvrm_joint(fit, window, form=form)
        assert not joint.valid
        assert joint.note == (
            "the cluster has 40 firm-events but only 30 common estimation days (T - K = 28); the joint test "
            "needs T - K >= N (mvrm_average does not)"
        )


def test_mckeons_f_needs_four_more_degrees_of_freedom_than_firms(large_cluster):
    fit, _, _ = large_cluster
    # 25 firms and T - K = 28: Hotelling's F for one day, Binder and Wald forms run; McKeon for 3 days not
    small = fit.take(np.arange(25))
    assert mvrm_joint(small, (0, 0))[0].distribution == "F(25, 4)"
    assert mvrm_joint(small, (-1, 1), form="binder")[0].valid
    (mckeon,) = mvrm_joint(small, (-1, 1))
    assert not mckeon.valid and "McKeon's F for a 3-day window needs T - K > N + 3" in mckeon.note
    assert mvrm_joint(fit.take(np.arange(24)), (-1, 1))[0].valid


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
    fit = estimate(
        AlignedData.build(y, market), np.array([180, 180, 180]), np.array([0, 1, 1]), loops.ESTIMATION, loops.EVENT
    )
    (result,) = mvrm_joint(fit, (0, 0), form="wald")
    assert not result.valid and "singular" in result.note
    # the average needs no inverse: the portfolio of securities 0, 1 and 1 again
    assert mvrm_average(fit, (0, 0))[0].valid


def test_form_is_validated(study):
    fit, _, _ = study
    with pytest.raises(ValueError, match="'form'"):
        mvrm_joint(fit, (0, 0), form="lr")
    with pytest.raises(ValueError, match="'mckeon', 'binder', 'wald'"):
        mvrm_joint(fit, (0, 0), form="exact")  # McKeon's F is an approximation for L > 1: not "exact"
    with pytest.raises(ValueError, match="'exact', 'binder', 'wald'"):
        mvrm_average(fit, (0, 0), form="mckeon")


def test_windows_whose_clusters_differ_share_one_fit():
    """A member without a return on day +1 leaves the (-1, 1) system but not day 0's: the systems cached on
    the fit cluster by cluster (estimation days, Sigma-hat) must be those of each window's own members."""
    y, market, day0, firm = loops.synthetic()
    y = y.copy()
    y[181, 3] = np.nan  # security 3, day +1 of session 180
    fit = estimate(AlignedData.build(y, market), day0, firm, loops.ESTIMATION, loops.EVENT)
    members = {(0, 0): CLUSTER, (-1, 1): [0, 1, 2], (-3, 3): [0, 1, 2]}
    for window in [(0, 0), (-1, 1), (0, 0), (-3, 3), (-1, 1)]:
        ref = loops.mvrm(y, market, 180, members[window], loops.ESTIMATION, window)
        joint = mvrm_joint(fit, window, form="wald")[0]
        average = mvrm_average(fit, window, form="wald")[0]
        assert joint.n == len(members[window])
        assert joint.stat == pytest.approx(ref["wald"], rel=RTOL)
        assert average.stat == pytest.approx(ref["average"] / math.sqrt(ref["average_var"]), rel=RTOL)


def test_a_window_that_keeps_one_of_two_cached_systems():
    """Two pairs share a batch on day 0; on (-1, 1) one pair loses a member, so the other is read alone from
    the batch cached on day 0."""
    y, market, _, _ = loops.synthetic()
    y = y.copy()
    y[201, 3] = np.nan  # security 3, day +1 of session 200
    day0, firm = np.array([180, 180, 200, 200]), np.array([0, 1, 2, 3])
    fit = estimate(AlignedData.build(y, market), day0, firm, loops.ESTIMATION, loops.EVENT)
    for window in [(0, 0), (-1, 1)]:
        ref = loops.mvrm(y, market, 180, [0, 1], loops.ESTIMATION, window)
        first = mvrm_joint(fit, window, form="wald")[0]
        assert first.n == 2 and first.stat == pytest.approx(ref["wald"], rel=RTOL)
    assert [r.valid for r in mvrm_joint(fit, (-1, 1), form="wald")] == [True, False]


def test_the_joint_test_after_the_average_test_on_one_fit():
    """The average test alone skips Sigma-hat's inverse; the joint test asked afterwards on the same fit (the
    systems cached without it) adds it, and equals the joint test of a fresh fit, notes included."""
    y, market, day0, firm = loops.synthetic()
    day0, firm = np.append(day0, [180, 180]), np.append(firm, [1, 5])  # session 180: security 1 twice
    data = AlignedData.build(y, market)
    fit = estimate(data, day0, firm, loops.ESTIMATION, loops.EVENT)
    fresh = estimate(data, day0, firm, loops.ESTIMATION, loops.EVENT)
    for window in WINDOWS:
        average = mvrm_average(fit, window)
        joint, expected = mvrm_joint(fit, window, form="wald"), mvrm_joint(fresh, window, form="wald")
        np.testing.assert_array_equal([[r.stat, r.pvalue] for r in joint], [[r.stat, r.pvalue] for r in expected])
        assert [r.note for r in joint] == [r.note for r in expected]
        assert "singular" in joint[0].note and average[0].valid
        again = mvrm_average(fresh, window)
        np.testing.assert_array_equal([r.stat for r in average], [r.stat for r in again])
        assert [r.note for r in average] == [r.note for r in again]


def test_the_joint_test_leaves_the_cached_systems_of_the_average_test_unchanged():
    """Other threads read a cached batch of systems outside the cache's lock (the average test of another
    window, say): the joint test adds its part to a new batch instead of changing the cached one."""
    y, market, day0, firm = loops.synthetic()
    fit = estimate(AlignedData.build(y, market), day0, firm, loops.ESTIMATION, loops.EVENT)
    mvrm_average(fit, (0, 0))
    cached = dict(fit._cache["inference:mvrm"])  # one table of clusters per size
    before = {size: {name: np.copy(values) for name, values in table.arrays.items()} for size, table in cached.items()}
    mvrm_joint(fit, (0, 0))
    for size, table in cached.items():
        assert sorted(table.arrays) == sorted(before[size])
        for name, values in table.arrays.items():
            np.testing.assert_array_equal(values, before[size][name])
    assert all("sigma_root" in table.arrays for table in fit._cache["inference:mvrm"].values())
    assert all(table is not cached[size] for size, table in fit._cache["inference:mvrm"].items())


def mixed_panel(seed: int = 11):
    """Twelve securities, 320 sessions; clusters of 2 to 5 firm-events on six dates, a date with one firm-event.

    Gaps: firm-event (security 2, session 250) lacks day +1, so it leaves the systems of windows covering
    day +1; securities 5 and 9 miss a few estimation days, which changes the common days of their clusters;
    security 7 appears twice on session 290, so that cluster's Sigma-hat is singular.
    """
    rng = np.random.default_rng(seed)
    market, y = _market_panel(rng, 320, 12, common=0.5, missing=0.01)
    y[200:240, [5, 9]] = np.where(rng.random((40, 2)) < 0.2, np.nan, y[200:240, [5, 9]])
    dates = {150: [0, 1], 170: [2, 3, 4], 190: [5, 6, 7], 250: [0, 2, 8, 9, 10], 270: [1, 3, 5, 11], 290: [7, 7, 4]}
    dates[300] = [6]
    day0, firm = _with_event_days(y, dates)
    y[251, 2] = np.nan  # the one gap the test is about
    return y, market, day0, firm, dates


def _market_panel(rng, t: int, m: int, *, common: float, missing: float):
    """A market return and ``m`` securities' returns on it with a common shock and ``missing`` of the days
    missing at random."""
    market = rng.normal(0.0004, 0.01, t)
    shock = rng.normal(0.0, 0.01, t)
    y = 0.0002 + rng.uniform(0.6, 1.5, m) * market[:, None] + common * shock[:, None] + rng.normal(0, 0.015, (t, m))
    y[rng.random((t, m)) < missing] = np.nan
    return market, y


def _with_event_days(y: np.ndarray, dates: dict) -> tuple[np.ndarray, np.ndarray]:
    """Day 0 and security of each firm-event of ``dates`` (day 0: securities), with their event window's days
    (-2 to +2) filled in ``y`` where missing."""
    day0 = np.concatenate([[d] * len(f) for d, f in dates.items()])
    firm = np.concatenate(list(dates.values()))
    for d, members in dates.items():
        y[d - 2 : d + 3, members] = np.where(np.isnan(y[d - 2 : d + 3, members]), 0.001, y[d - 2 : d + 3, members])
    return day0, firm


@pytest.mark.parametrize("adjusted", [False, True])
@pytest.mark.parametrize("first", ["average", "joint", "alternate"])
def test_clusters_of_mixed_sizes_and_changing_members_against_the_dummy_regression(adjusted, first):
    """Every cluster of every window against the explicit system of its members with a CAR (market model, or
    market-adjusted returns), on one fit whose cached systems the windows share, whichever test comes first
    (``alternate``: the average test alone, then the joint test, which finds some systems cached without its
    part, computes others)."""
    y, market, day0, firm, dates = mixed_panel()
    est, event = (-100, -11), (-2, 2)
    if adjusted:
        y, z = y - market[:, None], np.zeros((len(y), 0))
        fit = estimate(AlignedData.build(y, z), day0, firm, est, event, intercept=False, estimated=False)
    else:
        z = market
        fit = estimate(AlignedData.build(y, z), day0, firm, est, event)
    for i, window in enumerate([(0, 0), (-1, 1), (-2, 2), (0, 0), (-1, 1)]):
        tests = {"average": [mvrm_average, mvrm_joint], "joint": [mvrm_joint, mvrm_average]}.get(first)
        if first == "alternate":
            tests = [mvrm_joint, mvrm_average] if i % 2 else [mvrm_average]
        found = {function: function(fit, window, form="wald") for function in tests}
        average = found[mvrm_average]
        joint = found.get(mvrm_joint, average)  # the average test alone: its results stand in for both
        assert len(joint) == len(average) == len(dates)
        for k, (d, members) in enumerate(dates.items()):
            days = range(d + window[0], d + window[1] + 1)
            kept = [f for f in members if all(np.isfinite(y[t, f]) for t in days)]
            assert joint[k].n == average[k].n == len(kept)
            if len(kept) < 2:
                assert not joint[k].valid and not average[k].valid and "at least 2 firm-events" in joint[k].note
                continue
            ref = loops.mvrm(y, z, d, kept, est, window, intercept=not adjusted, wald=len(set(kept)) == len(kept))
            assert average[k].stat == pytest.approx(ref["average"] / math.sqrt(ref["average_var"]), rel=RTOL)
            if mvrm_joint not in found:
                continue
            if len(set(kept)) < len(kept):  # the same security twice
                assert not joint[k].valid and "singular" in joint[k].note
            else:
                assert joint[k].stat == pytest.approx(ref["wald"], rel=RTOL)


def test_groupings_that_share_firm_events_share_one_fit(monkeypatch):
    """Systems are cached on the fit by their members: two ways of splitting a date into systems, asked in
    turn on one fit, give what each gives on a fresh fit, even when every cluster's cache key collides (the
    members themselves decide a match)."""
    from eventstudy.inference import multivariate

    y, market, day0, firm, dates = mixed_panel()
    data, est, event = AlignedData.build(y, market), (-100, -11), (-2, 2)
    # session 250's five firm-events as two systems, in two ways: the first row starts a pair both times
    first = np.where(day0 == 250, np.array(["a", "a", "b", "b", "b"])[np.cumsum(day0 == 250) - 1], "x")
    second = np.where(day0 == 250, np.array(["a", "b", "a", "b", "b"])[np.cumsum(day0 == 250) - 1], "x")
    expected = {}
    for labels in (first, second):
        fresh = estimate(data, day0, firm, est, event)
        expected[labels.tobytes()] = [r.stat for r in mvrm_joint(fresh, (0, 0), clusters=labels, form="wald")]
    for collide in (False, True):
        if collide:
            monkeypatch.setattr(multivariate, "_row_keys", lambda rows: np.zeros(len(rows), dtype=np.uint64))
        fit = estimate(data, day0, firm, est, event)
        for labels in (first, second, first):
            stats = [r.stat for r in mvrm_joint(fit, (0, 0), clusters=labels, form="wald")]
            np.testing.assert_array_equal(stats, expected[labels.tobytes()])
    ref = loops.mvrm(y, market, 250, [0, 8], est, (0, 0))  # the second split's pair (securities 0 and 8)
    assert expected[second.tobytes()][0] == pytest.approx(ref["wald"], rel=RTOL)  # label "a" first


def test_cluster_labels_changed_in_place_between_windows():
    """The clusters found for one window are reused by the next only for the same labels: an array of labels
    that its owner rewrites between two calls gives the new systems, as on a fresh fit, and the plain loop's."""
    y, market, day0, firm, dates = mixed_panel()
    data, est, event = AlignedData.build(y, market), (-100, -11), (-2, 2)
    labels = np.full(len(day0), "x")
    fit = estimate(data, day0, firm, est, event)
    together = mvrm_average(fit, (0, 0), clusters=labels, form="wald")
    labels[day0 == 250] = ["a", "b", "a", "b", "b"]  # session 250's five firm-events as two systems
    apart = mvrm_average(fit, (-1, 1), clusters=labels, form="wald")
    expected = mvrm_average(estimate(data, day0, firm, est, event), (-1, 1), clusters=labels, form="wald")
    assert len(apart) == len(together) + 1
    np.testing.assert_array_equal([r.stat for r in apart], [r.stat for r in expected])
    # label "a" first: securities 0 and 8 of session 250; then "b": 9 and 10 (security 2 lacks day +1)
    for result, members in zip(apart[:2], ([0, 8], [9, 10])):
        ref = loops.mvrm(y, market, 250, members, est, (-1, 1))
        assert result.n == 2 and result.stat == pytest.approx(ref["average"] / math.sqrt(ref["average_var"]), rel=RTOL)


def test_cluster_keys_differ_for_different_clusters():
    # a linear key gave (10, 20) and (7, 21) one value: the second cluster was never found in the cache and was
    # recomputed and appended on every call
    assert len(set(_row_keys(np.array([[10, 20], [7, 21], [20, 10], [0, 30]])).tolist())) == 4
    rng = np.random.default_rng(5)
    for size in (2, 3, 7):
        clusters = np.unique(np.sort(rng.integers(0, 20_000, (50_000, size)), axis=1), axis=0)
        assert len(np.unique(_row_keys(clusters))) == len(clusters)


def large_clusters_panel(seed: int = 21):
    """70 securities, 400 sessions; clusters of 52, 52 and 60 firm-events (more than the 48 whose Sigma-hat
    inverses are taken in one stacked call) and one of 50 with security 0 twice (its Sigma-hat singular)."""
    rng = np.random.default_rng(seed)
    market, y = _market_panel(rng, 400, 70, common=0.4, missing=0.002)
    dates = {
        150: list(range(49)) + [0],
        200: list(range(52)),
        260: list(range(10, 62)),
        330: list(range(60)),
    }
    day0, firm = _with_event_days(y, dates)
    return y, market, day0, firm, dates


@pytest.mark.parametrize("first", ["average", "joint"])
def test_clusters_larger_than_a_stacked_inverse_against_the_dummy_regression(first):
    """Sigma-hat of more than 48 firm-events is inverted matrix by matrix from its Cholesky factor (two
    clusters of one size share a batch): every cluster's Wald statistic and average t against the explicit
    system; the cluster with a security twice is singular for the joint test, not for the average test."""
    y, market, day0, firm, dates = large_clusters_panel()
    est, event = (-120, -11), (-2, 2)
    fit = estimate(AlignedData.build(y, market), day0, firm, est, event)
    for window in [(0, 0), (-1, 1)]:
        order = [mvrm_average, mvrm_joint] if first == "average" else [mvrm_joint, mvrm_average]
        found = {function: function(fit, window, form="wald") for function in order}
        joint, average = found[mvrm_joint], found[mvrm_average]
        assert len(joint) == len(average) == len(dates)
        for k, (d, members) in enumerate(dates.items()):
            twice = len(set(members)) < len(members)
            ref = loops.mvrm(y, market, d, members, est, window, wald=not twice)
            assert ref["nu"] >= len(members) and joint[k].n == len(members)
            assert average[k].stat == pytest.approx(ref["average"] / math.sqrt(ref["average_var"]), rel=RTOL)
            if twice:
                assert not joint[k].valid and "singular" in joint[k].note
            else:
                assert joint[k].stat == pytest.approx(ref["wald"], rel=RTOL)


@pytest.mark.parametrize("window", [(0, 0), (-1, 1)])
def test_a_batch_of_clusters_with_and_without_enough_common_days(window):
    """Three clusters of ten share a batch; the first has fewer common estimation days than firms (no inverse
    of Sigma-hat), so the inverses of the other two are those of the second and third of the batch: each
    cluster against the explicit system, the first invalid for the joint test only."""
    rng = np.random.default_rng(5)
    market, y = _market_panel(rng, 400, 30, common=0.4, missing=0.002)
    dates = {150: list(range(10)), 250: list(range(10, 20)), 330: list(range(20, 30))}
    day0, firm = _with_event_days(y, dates)
    y[30:132, 0] = np.nan  # security 0 on date 150's estimation days (-120, -11): 8 left, nu = 6 < 10
    est = (-120, -11)
    fit = estimate(AlignedData.build(y, market), day0, firm, est, (-2, 2))
    joint, average = mvrm_joint(fit, window, form="wald"), mvrm_average(fit, window, form="wald")
    for k, (d, members) in enumerate(dates.items()):
        ref = loops.mvrm(y, market, d, members, est, window, wald=k > 0)
        assert joint[k].n == average[k].n == 10
        assert average[k].stat == pytest.approx(ref["average"] / math.sqrt(ref["average_var"]), rel=RTOL)
        if k == 0:
            assert ref["nu"] < 10 and not joint[k].valid and "T - K >= N" in joint[k].note
        else:
            assert ref["nu"] >= 10 and joint[k].stat == pytest.approx(ref["wald"], rel=RTOL)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("n", [5, _STACKED_INV + 12])
def test_inverses_of_cholesky_factors_whatever_the_stack_layout(order, n):
    """Cholesky factors are inverted in one stacked call when small, else one at a time by trtri over each
    factor's transpose in place: each must equal the inverse a triangular solve finds (scipy's, another
    route than numpy's LU), also for a stack that is not in C order, whose transposes are not in Fortran
    order, and for a factor of nearly collinear members (where an LU pivots).  trtri leaves exact zeros above
    the diagonal; the stacked LU, rounding there (U'U is Sigma^-1 either way)."""
    rng = np.random.default_rng(7)
    a = rng.normal(size=(3, n, 2 * n))
    a[2, 1] = a[2, 0] + 1e-4 * rng.normal(size=2 * n)  # two members nearly the same: a pivoting LU
    cov = a @ np.swapaxes(a, 1, 2) / (2 * n)
    scale = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    factors = np.linalg.cholesky(cov / scale[:, :, None] / scale[:, None, :])
    expected = np.stack([scipy.linalg.solve_triangular(m, np.eye(n), lower=True) for m in factors])
    stack = factors.copy() if order == "C" else np.asfortranarray(factors)
    inverses = _triangular_inverses(stack)
    np.testing.assert_allclose(inverses, expected, rtol=1e-8, atol=1e-8 * np.abs(expected).max())
    np.testing.assert_allclose(factors @ inverses, np.broadcast_to(np.eye(n), factors.shape), atol=1e-9)
    above = np.abs(np.triu(inverses, 1)).max()
    assert above == 0.0 if n > _STACKED_INV else above <= 1e-12 * np.abs(inverses).max()


@pytest.mark.parametrize("n", [4, _STACKED_INV + 6])
def test_a_stack_with_an_indefinite_correlation_matrix(n):
    """One matrix of the stack not positive definite fails the stacked Cholesky factorization: each is then
    decided by its smallest eigenvalue, and the positive definite ones still get the inverse of their Cholesky
    factor (U'U the matrix's inverse), as a plain loop finds them; the failing one gets the identity."""
    rng = np.random.default_rng(3)
    a = rng.normal(size=(3, n, 3 * n))
    cov = a @ np.swapaxes(a, 1, 2)
    scale = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    corr = cov / scale[:, :, None] / scale[:, None, :]
    corr[1, 0, 1] = corr[1, 1, 0] = 1.2  # a correlation above one: not positive definite
    ok, roots = _positive_definite(corr.copy())
    assert ok.tolist() == [True, False, True]
    for m in (0, 2):
        expected = scipy.linalg.solve_triangular(np.linalg.cholesky(corr[m]), np.eye(n), lower=True)
        np.testing.assert_allclose(roots[m], expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(roots[m].T @ roots[m], np.linalg.inv(corr[m]), rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(roots[1], np.eye(n))


def test_each_cluster_too_short_for_the_joint_test_names_its_own_firms_and_days():
    """Clusters of 10, 12 and 10 firm-events with 8, 7 and 10 common estimation days (counted here, day by day),
    in one window: each note of the joint test names its own N and T (one text per distinct pair, mapped back
    to its clusters); the average test runs on all three."""
    rng = np.random.default_rng(5)
    market, y = _market_panel(rng, 400, 32, common=0.4, missing=0.0)
    dates = {150: list(range(10)), 250: list(range(10, 22)), 330: list(range(22, 32))}
    day0, firm = _with_event_days(y, dates)
    est = (-120, -11)
    y[30:132, 0] = np.nan  # date 150's estimation days are sessions 30-139: 8 left
    y[130:233, 10] = np.nan  # date 250's are 130-239: 7 left
    y[210:310, 22] = np.nan  # date 330's are 210-319: 10 left
    fit = estimate(AlignedData.build(y, market), day0, firm, est, (-2, 2))
    joint, average = mvrm_joint(fit, (0, 0)), mvrm_average(fit, (0, 0))
    for k, (d, members) in enumerate(dates.items()):
        sessions = range(d + est[0], d + est[1] + 1)
        common = sum(all(np.isfinite(y[t, f]) for f in members) for t in sessions)
        assert common == [8, 7, 10][k]
        assert average[k].valid and not joint[k].valid
        assert joint[k].note == (
            f"the cluster has {len(members)} firm-events but only {common} common estimation days "
            f"(T - K = {common - 2}); the joint test needs T - K >= N (mvrm_average does not)"
        )
