"""Normal-return model specifications and the stacked fit, read as usage examples.

Reference values come from numpy least squares or statsmodels on the same rows, never from the engine.
Vectorized vs loop: rtol 1e-10.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import eventstudy as es
from eventstudy.estimation.base import NormalReturnModel
from eventstudy.estimation.models import StackedFit, estimate
from eventstudy.estimation.panel import AlignedData

RTOL = 1e-10


# ---------------------------------------------------------------------------------------------------------
# specifications
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("constant-mean", es.ConstantMean),
        ("market-adjusted", es.MarketAdjusted),
        ("market", es.MarketModel),
        ("multi-index", es.MultiIndexModel),
        ("capm", es.CAPM),
        ("ff3", es.FamaFrench3),
        ("ff5", es.FamaFrench5),
        ("carhart", es.Carhart4),
        ("Market_Model", es.MarketModel),
        ("ff4", es.Carhart4),
        ("fama-french-3", es.FamaFrench3),
    ],
)
def test_get_model_by_name_and_alias(name, cls):
    assert type(es.get_model(name)) is cls


REGISTERED = {
    "constant-mean": es.ConstantMean,
    "market-adjusted": es.MarketAdjusted,
    "market": es.MarketModel,
    "multi-index": es.MultiIndexModel,
    "dimson": es.Dimson,
    "scholes-williams": es.ScholesWilliams,
    "capm": es.CAPM,
    "ff3": es.FamaFrench3,
    "ff5": es.FamaFrench5,
    "carhart": es.Carhart4,
    "garch": es.Garch,
    "gjr-garch": es.GjrGarch,
    "egarch": es.Egarch,
}


def test_one_registry_holds_every_model_garch_included():
    from eventstudy.estimation.models import REGISTRY, model_names

    assert REGISTRY == REGISTERED
    assert model_names() == (*REGISTERED, "garch-t", "gjr-garch-t", "egarch-t")
    for name, cls in REGISTERED.items():
        assert issubclass(cls, NormalReturnModel) and type(es.get_model(name)) is cls
    assert es.get_model("EGARCH-t") == es.Egarch(dist="t")


@pytest.mark.parametrize(("alias", "cls"), [("sw", es.ScholesWilliams), ("market-model", es.MarketModel)])
def test_aliases_are_the_class_own_not_inherited(alias, cls):
    """CAPM and Garch subclass MarketModel; 'market-model' still selects the market model."""
    assert type(es.get_model(alias)) is cls


def test_the_interface_cannot_be_instantiated_without_regressors():
    with pytest.raises(TypeError, match="abstract"):
        NormalReturnModel()  # type: ignore[abstract]


def test_unknown_model_lists_every_registered_name():
    with pytest.raises(ValueError, match="Got 'garch-x' instead") as caught:
        es.get_model("garch-x")
    for name in (*REGISTERED, "egarch-t"):
        assert repr(name) in str(caught.value)


@pytest.mark.parametrize(
    "model",
    [
        *[cls() for cls in REGISTERED.values()],
        es.Dimson(lags=3),
        es.CAPM(intercept=True),
        es.Garch(dist="t", min_obs=150, workers=1, progress=False),
    ],
    ids=repr,
)
def test_state_is_json_and_rebuilds_the_model(model):
    from eventstudy.estimation.models import from_state

    state = json.loads(json.dumps(model.state()))
    assert from_state(state) == model and type(from_state(state)) is type(model)
    assert type(model).from_state(state) == model


def test_state_of_another_model_or_an_unknown_name_is_refused():
    from eventstudy.estimation.models import from_state

    with pytest.raises(ValueError, match="cannot be rebuilt as MarketModel"):
        es.MarketModel.from_state(es.Dimson().state())
    with pytest.raises(ValueError, match="'arima' is not one of"):
        from_state({"name": "arima", "fields": {}})
    with pytest.raises(ValueError, match=r"fields \['lags'\]"):
        es.MarketModel.from_state({"name": "market", "fields": {"lags": 2}})


@pytest.mark.parametrize(
    ("model", "lags", "leads", "factors"),
    [
        (es.MarketModel(), 0, 0, None),
        (es.Dimson(), 1, 1, None),
        (es.Dimson(lags=3), 3, 3, None),
        (es.ScholesWilliams(), 1, 1, None),
        (es.Carhart4(), 0, 0, "carhart"),
        (es.Garch(), 0, 0, None),
    ],
)
def test_models_declare_the_data_they_need(model, lags, leads, factors):
    needs = model.needs()
    assert (needs.lags, needs.leads, needs.factors) == (lags, leads, factors)


def test_get_model_passes_instances_through_and_rejects_other_types():
    capm = es.CAPM(intercept=True)
    assert es.get_model(capm) is capm
    with pytest.raises(TypeError, match="'model' parameter must be a model name"):
        es.get_model(3)
    with pytest.raises(ValueError, match=r"must be one of \('constant-mean'"):
        es.get_model("fama-french-7")


@pytest.mark.parametrize(
    ("model", "market", "names"),
    [
        ("constant-mean", ("SPY",), ("alpha",)),
        ("market-adjusted", ("SPY",), ()),
        ("market", ("SPY",), ("alpha", "beta_SPY")),
        ("multi-index", ("SPY", "SOXX"), ("alpha", "beta_SPY", "beta_SOXX")),
        ("capm", ("SPY",), ("beta_SPY",)),
        ("ff3", ("SPY",), ("alpha", "beta_Mkt-RF", "beta_SMB", "beta_HML")),
        ("ff5", ("SPY",), ("alpha", "beta_Mkt-RF", "beta_SMB", "beta_HML", "beta_RMW", "beta_CMA")),
        ("carhart", ("SPY",), ("alpha", "beta_Mkt-RF", "beta_SMB", "beta_HML", "beta_Mom")),
    ],
)
def test_parameter_names(model, market, names):
    spec = es.get_model(model)
    assert spec.param_names(market) == names
    if model == "market-adjusted":
        assert not spec.estimated and spec.offset(market) == "SPY"


def test_capm_is_restricted_by_default():
    """MacKinlay (1997, 4.2): the Sharpe-Lintner CAPM has no intercept; the excess-return market model has one."""
    assert es.CAPM().intercept is False and es.CAPM().excess
    assert es.CAPM(intercept=True).param_names(("SPY",)) == ("alpha", "beta_SPY")


@pytest.mark.parametrize("model", ["market", "market-adjusted", "capm"])
def test_one_benchmark_models_reject_two(model):
    with pytest.raises(ValueError, match="takes one benchmark"):
        es.get_model(model).validate_market(("SPY", "SOXX"))


def test_multi_index_needs_two_benchmarks():
    with pytest.raises(ValueError, match="two or more benchmarks"):
        es.get_model("multi-index").validate_market(("SPY",))


def test_describe():
    assert es.get_model("market").describe(("SPY",)) == "market model (SPY)"
    assert es.get_model("ff3").describe(("SPY",)) == "Fama-French 3-factor model"


# ---------------------------------------------------------------------------------------------------------
# fits through EventStudy
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data():
    sessions = es.TradingCalendar().sessions_in_range("2022-01-03", "2023-12-29")
    rng = np.random.default_rng(3)
    t = len(sessions)
    mkt = rng.normal(0.0004, 0.01, t)
    rf = np.full(t, 0.0001)
    factors = pd.DataFrame(
        {"Mkt-RF": mkt, "SMB": rng.normal(0, 0.005, t), "HML": rng.normal(0, 0.005, t), "RF": rf}, index=sessions
    )
    returns = pd.DataFrame({"SPY": mkt + rf, "A": 0.0008 + 1.3 * mkt + rng.normal(0, 0.02, t)}, index=sessions)
    return returns, factors


def test_unrestricted_capm_is_ols_of_excess_returns_with_a_constant(data):
    returns, factors = data
    events = pd.DataFrame({"ticker": ["A"], "date": [returns.index[400]]})
    res = es.EventStudy(events, returns=returns, model=es.CAPM(intercept=True), factors=factors).fit()

    rows = returns.iloc[400 - 250 : 400 - 10]
    y = rows["A"] - factors["RF"].iloc[400 - 250 : 400 - 10]
    x = sm.add_constant(rows["SPY"] - factors["RF"].iloc[400 - 250 : 400 - 10])
    ols = sm.OLS(y, x).fit(method="qr")
    np.testing.assert_allclose(res.params.loc[0, ["alpha", "beta_SPY"]].to_numpy(dtype=float), ols.params, rtol=RTOL)
    np.testing.assert_allclose(res.params.loc[0, "sigma"], np.sqrt(ols.scale), rtol=RTOL)
    assert res.car()["df"].item() == 238


def test_restricted_capm_has_one_parameter_and_t_minus_one_dof(data):
    returns, factors = data
    events = pd.DataFrame({"ticker": ["A"], "date": [returns.index[400]]})
    res = es.EventStudy(events, returns=returns, model="capm", factors=factors).fit()
    assert "alpha" not in res.params.columns
    assert res.car()["df"].item() == 239


def test_capm_with_a_given_risk_free_rate_needs_no_factor_file(data, monkeypatch):
    returns, factors = data
    monkeypatch.setenv("EVENTSTUDY_OFFLINE", "1")  # a factor download would fail loudly
    events = pd.DataFrame({"ticker": ["A"], "date": [returns.index[400]]})
    res = es.EventStudy(events, returns=returns, model="capm", risk_free=factors["RF"]).fit()
    rows = slice(400 - 250, 400 - 10)
    y = (returns["A"] - factors["RF"]).iloc[rows]
    x = (returns["SPY"] - factors["RF"]).iloc[rows]
    beta = float((x * y).sum() / (x * x).sum())  # no intercept: the restricted CAPM
    np.testing.assert_allclose(res.params.loc[0, "beta_SPY"], beta, rtol=RTOL)
    parts = res.decompose((0, 0))
    assert {"risk-free", "SPY - RF", "abnormal"} <= set(parts.columns)


def test_risk_free_in_percent_is_refused(data):
    returns, factors = data
    events = pd.DataFrame({"ticker": ["A"], "date": [returns.index[400]]})
    with pytest.raises(ValueError, match="risk_free.*decimals"):
        es.EventStudy(events, returns=returns, model="capm", risk_free=factors["RF"] * 100 * 252).fit()


def test_estimation_residuals_are_the_ols_residuals(data):
    returns, _ = data
    events = pd.DataFrame({"ticker": ["A"], "date": [returns.index[400]]})
    res = es.EventStudy(events, returns=returns, market="SPY").fit()
    rows = returns.iloc[400 - 250 : 400 - 10]
    ols = sm.OLS(rows["A"], sm.add_constant(rows["SPY"])).fit(method="qr")
    residuals = res.fit.residuals()[0]
    grid = res.fit.event_time
    inside = (grid >= -250) & (grid <= -11)
    np.testing.assert_allclose(residuals[inside], ols.resid.to_numpy(), rtol=1e-9, atol=1e-15)
    assert np.isnan(residuals[~inside]).all()


def test_regressor_without_variation_is_dropped_as_not_identified(data):
    returns, _ = data
    flat = returns.copy()
    flat["FLAT"] = 0.0  # a benchmark that never moves: beta is not identified
    flat["B"] = returns["A"]
    events = pd.DataFrame({"ticker": ["A"], "date": [returns.index[400]]})
    with pytest.raises(es.EstimationError, match="not identified"):
        es.EventStudy(events, returns=flat, market="FLAT").fit()


def test_exclude_events_leaves_other_event_windows_out_of_the_estimation_window(data):
    """exclude_events=True: an earlier event's (-5, 5) days are not used to estimate a later one."""
    returns, _ = data
    events = pd.DataFrame({"ticker": ["A", "A"], "date": [returns.index[300], returns.index[400]]})
    res = es.EventStudy(events, returns=returns, market="SPY", exclude_events=True).fit()

    keep = np.ones(len(returns), dtype=bool)
    keep[300 - 5 : 300 + 6] = False
    rows = np.arange(400 - 250, 400 - 10)
    rows = rows[keep[rows]]
    ols = sm.OLS(returns["A"].iloc[rows], sm.add_constant(returns["SPY"].iloc[rows])).fit(method="qr")
    later = res.params.iloc[1]
    assert later["n_obs"] == 229
    np.testing.assert_allclose(later[["alpha", "beta_SPY"]].to_numpy(dtype=float), ols.params, rtol=RTOL)


def test_log_returns_compound_with_exp_in_bhar(data):
    returns, _ = data
    logs = np.log1p(returns)
    logs.attrs["return_kind"] = "log"
    events = pd.DataFrame({"ticker": ["A"], "date": [returns.index[400]]})
    res = es.EventStudy(events, returns=logs, market="SPY").fit()
    ar = res.ar.set_index("event_time")["ar"].loc[0:5].to_numpy()
    raw = logs["A"].iloc[400:406].to_numpy()
    expected = np.exp(raw.sum()) - np.exp((raw - ar).sum())
    np.testing.assert_allclose(res.bhar(window=(0, 5))["bhar"].item(), expected, rtol=RTOL)


# ---------------------------------------------------------------------------------------------------------
# the array core: estimate() on AlignedData
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("regressor_gap", [False, True], ids=["complete_regressors", "regressor_gap"])
def test_estimate_on_arrays_matches_lstsq_per_row(regressor_gap):
    """Firm gaps, a window cut by the start of the data, and (second case) one missing regressor value."""
    rng = np.random.default_rng(5)
    t, m = 400, 6
    z = rng.normal(0, 0.01, (t, 2))
    y = 0.001 + (z @ [1.2, 0.4])[:, None] + rng.normal(0, 0.02, (m, t)).T
    y[rng.random(y.shape) < 0.05] = np.nan
    if regressor_gap:
        z[17, 1] = np.nan  # inside only the cut window (day0=150 uses rows 0..139); must not leak into others
    data = AlignedData.build(y, z)
    day0 = np.array([300, 320, 150, 399 - 5, 260, 300])
    firm = np.array([0, 1, 2, 3, 4, 5])
    fit = estimate(data, day0, firm, (-200, -11), (-5, 5))
    assert isinstance(fit, StackedFit) and fit.n == 6

    for i, (d, f) in enumerate(zip(day0, firm)):
        rows = np.arange(max(d - 200, 0), d - 10)
        x = np.column_stack([np.ones(len(rows)), z[rows]])
        ok = np.isfinite(y[rows, f]) & np.isfinite(x).all(axis=1)
        b, ssr, *_ = np.linalg.lstsq(x[ok], y[rows, f][ok], rcond=None)
        assert fit.n_obs[i] == ok.sum()
        np.testing.assert_allclose(fit.params[i], b, rtol=RTOL)
        np.testing.assert_allclose(fit.sigma2[i], ssr[0] / (ok.sum() - 3), rtol=RTOL)
        np.testing.assert_allclose(fit.xtx_inv[i], np.linalg.inv(x[ok].T @ x[ok]), rtol=1e-9)

        xs = np.column_stack([np.ones(11), z[d - 5 : d + 6]])
        cov = fit.sigma2[i] * (np.eye(11) + xs @ np.linalg.inv(x[ok].T @ x[ok]) @ xs.T)
        np.testing.assert_allclose(fit.ar_variance()[i], np.diag(cov), rtol=RTOL)
        np.testing.assert_allclose(fit.car_variance((-2, 3))[i], cov[3:9, 3:9].sum(), rtol=RTOL)


def test_prefix_sums_in_blocks_give_the_same_fit(monkeypatch):
    """Securities are summed in blocks that fit PREFIX_BUDGET; one security per block changes nothing."""
    import eventstudy.estimation.panel

    rng = np.random.default_rng(9)
    z = rng.normal(0, 0.01, (300, 2))
    y = (z @ [1.0, 0.5])[:, None] + rng.normal(0, 0.02, (300, 7))
    y[rng.random(y.shape) < 0.05] = np.nan
    data = AlignedData.build(y, z)
    day0 = rng.integers(150, 294, 20)
    firm = rng.integers(0, 7, 20)
    whole = estimate(data, day0, firm, (-120, -11), (-5, 5))
    monkeypatch.setattr(eventstudy.estimation.panel, "PREFIX_BUDGET", 1)
    blocks = estimate(data, day0, firm, (-120, -11), (-5, 5))
    np.testing.assert_allclose(blocks.params, whole.params, rtol=1e-12)
    np.testing.assert_allclose(blocks.sigma2, whole.sigma2, rtol=1e-12)
    np.testing.assert_array_equal(blocks.n_obs, whole.n_obs)


def test_stacked_arrays_are_read_only_and_take_selects_rows():
    rng = np.random.default_rng(6)
    z = rng.normal(0, 0.01, (300, 1))
    y = z + rng.normal(0, 0.02, (300, 3))
    fit = estimate(AlignedData.build(y, z), np.array([250, 260, 270]), np.array([0, 1, 2]), (-200, -11), (-5, 5))
    with pytest.raises(ValueError):
        fit.ar_event[0, 0] = 1.0
    sub = fit.take([2, 0])
    np.testing.assert_array_equal(sub.params, fit.params[[2, 0]])
    np.testing.assert_array_equal(sub.ar_event, fit.ar_event[[2, 0]])


@pytest.mark.parametrize(
    ("model", "market", "fits"),
    [
        ("constant-mean", (), True),
        ("constant-mean", ("SPY", "QQQ"), True),
        ("ff3", ("SPY", "QQQ", "SOXX"), True),
        ("dimson", ("SPY",), True),
        ("dimson", ("SPY", "SOXX"), False),
        ("garch", ("SPY", "SOXX"), False),
        ("multi-index", ("SPY", "SOXX", "QQQ"), True),
        ("market-adjusted", (), False),
    ],
)
def test_benchmark_counts_are_checked_from_the_declared_needs(model, market, fits):
    spec = es.get_model(model)
    if fits:
        spec.validate_market(market)
    else:
        with pytest.raises(ValueError, match=re.escape(f"The {spec.label} takes one benchmark. Got market=")):
            spec.validate_market(market)
