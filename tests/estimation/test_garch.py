"""GARCH market models against a direct ``arch_model(...).fit()`` on the same estimation window.

NVDA and AMD on 2025-05-13 (the diffusion-rule rescission) against SPY, real prices read at run time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arch import arch_model

import eventstudy as es

EVENT_DAY = pd.Timestamp("2025-05-13")
WINDOW = (-250, -11)


@pytest.fixture(scope="module")
def returns(prices_dir):
    closes = {
        t: pd.read_csv(prices_dir / f"{t}.csv", index_col="Date", parse_dates=True)["Adj Close"]
        for t in ("NVDA", "AMD", "SPY")
    }
    return es.returns(pd.DataFrame(closes).sort_index().loc["2024-01-01":"2025-06-30"])


@pytest.fixture(scope="module")
def events():
    return pd.DataFrame({"ticker": ["NVDA", "AMD"], "date": ["2025-05-13"] * 2, "session": ["pre"] * 2})


def direct(returns, ticker, **kwargs):
    """arch on the estimation window written out by hand: sessions -250..-11 before the event day."""
    frame = returns[[ticker, "SPY"]].dropna()
    pos = frame.index.get_loc(EVENT_DAY)
    window = frame.iloc[pos + WINDOW[0] : pos + WINDOW[1] + 1]
    am = arch_model(100 * window[ticker].to_numpy(), x=100 * window[["SPY"]].to_numpy(), mean="LS", **kwargs)
    res = am.fit(disp="off")
    horizon = -WINDOW[1]  # day 0 is 11 sessions after the last estimation day
    h = res.forecast(horizon=horizon, reindex=False, x=np.zeros((1, 1, horizon))).variance.to_numpy()[-1, -1]
    ar0 = frame.loc[EVENT_DAY, ticker] - res.params.iloc[0] / 100 - res.params.iloc[1] * frame.loc[EVENT_DAY, "SPY"]
    return res.params.to_numpy(), ar0, ar0 / np.sqrt(h / 100**2)


@pytest.mark.parametrize(
    ("model", "kwargs"),
    [
        ("garch", dict(vol="GARCH", p=1, o=0, q=1, dist="normal")),
        ("gjr-garch", dict(vol="GARCH", p=1, o=1, q=1, dist="normal")),
        ("garch-t", dict(vol="GARCH", p=1, o=0, q=1, dist="t")),
    ],
)
def test_params_and_day0_sar_equal_direct_arch_fit(returns, events, model, kwargs):
    res = es.EventStudy(events, returns=returns, market="SPY", model=model, estimation_window=WINDOW).fit()
    fit = res.fit
    day0 = list(fit.event_days).index(0)
    for row, ticker in enumerate(res.firm_events["ticker"]):
        params, ar0, sar0 = direct(returns, ticker, **kwargs)
        assert fit.params[row, 0] == pytest.approx(params[0] / 100, rel=1e-6)
        assert fit.params[row, 1] == pytest.approx(params[1], rel=1e-6)
        np.testing.assert_allclose(fit.vol_params[row], params[2:], rtol=1e-6, atol=1e-10)
        assert fit.ar_event[row, day0] == pytest.approx(ar0, rel=1e-8)
        assert fit.sar()[row, day0] == pytest.approx(sar0, rel=1e-6)
        # the results table reports the same standard error, and the CAR(0,0) t is the SAR
        car = res.car((0, 0)).set_index("ticker")
        assert car.loc[ticker, "t"] == pytest.approx(sar0, rel=1e-6)


def test_car_variance_is_the_sum_of_the_daily_forecasts(returns, events):
    res = es.EventStudy(events, returns=returns, market="SPY", model="garch").fit()
    fit = res.fit
    # independently: arch's own variance forecasts from the last estimation day, h = 10, 11, 12 sessions ahead
    # (days -1, 0 and +1 of the event), summed and put back in decimals
    for row, ticker in enumerate(res.firm_events["ticker"]):
        frame = returns[[ticker, "SPY"]].dropna()
        pos = frame.index.get_loc(EVENT_DAY)
        window = frame.iloc[pos - 250 : pos - 11 + 1]  # the study's default estimation window (-250, -11)
        arch_fit = arch_model(100 * window[ticker].to_numpy(), x=100 * window[["SPY"]].to_numpy(), mean="LS").fit(
            disp="off"
        )
        h = arch_fit.forecast(horizon=12, reindex=False, x=np.zeros((1, 1, 12))).variance.to_numpy()[-1]
        assert fit.car_variance((-1, 1))[row] == pytest.approx(h[9:12].sum() / 100**2, rel=1e-6)
    # the forecasts rise or fall monotonically toward the unconditional variance (GARCH(1,1), a + b < 1)
    h = fit.ar_variance()
    omega, a, b = fit.vol_params.T
    unconditional = omega / (1 - a - b) / 100**2
    gaps = np.abs(h - unconditional[:, None])
    assert (np.diff(gaps, axis=1) <= 1e-15).all()


def test_too_few_returns_for_garch_is_a_recorded_drop(returns, events):
    short = returns.copy()
    short.loc[:"2024-10-01", "AMD"] = np.nan  # AMD keeps ~145 estimation returns: enough for OLS, not GARCH
    model = es.Garch(min_obs=200)
    with pytest.warns(es.DroppedFirmEventsWarning):
        res = es.EventStudy(events, returns=short, market="SPY", model=model, min_estimation_obs=100).fit()
    assert list(res.firm_events["ticker"]) == ["NVDA"]
    reason = res.dropped.set_index("ticker").loc["AMD", "reason"]
    assert "fewer than the 200 a GARCH fit needs" in reason


@pytest.mark.slow
def test_parallel_fits_equal_serial_fits(returns):
    dates = returns.loc["2025-02-01":"2025-05-30"].index[::3]
    events = pd.DataFrame(
        {"ticker": np.repeat(["NVDA", "AMD"], len(dates)), "date": np.tile(dates, 2), "session": "pre"}
    )
    serial = es.EventStudy(events, returns=returns, market="SPY", model=es.Garch(workers=1, progress=False)).fit()
    parallel = es.EventStudy(events, returns=returns, market="SPY", model=es.Garch(workers=2, progress=False)).fit()
    assert serial.n == parallel.n >= 40
    np.testing.assert_array_equal(serial.fit.ar_variance(), parallel.fit.ar_variance())
    np.testing.assert_array_equal(serial.fit.params, parallel.fit.params)


def test_unknown_distribution_is_refused():
    with pytest.raises(ValueError, match="'dist' parameter"):
        es.Garch(dist="skewt")


def test_egarch_parameters_equal_direct_arch_fit(returns, events):
    res = es.EventStudy(events, returns=returns, market="SPY", model="egarch", estimation_window=WINDOW).fit()
    for row, ticker in enumerate(res.firm_events["ticker"]):
        frame = returns[[ticker, "SPY"]].dropna()
        pos = frame.index.get_loc(EVENT_DAY)
        window = frame.iloc[pos + WINDOW[0] : pos + WINDOW[1] + 1]
        direct_fit = arch_model(
            100 * window[ticker].to_numpy(), x=100 * window[["SPY"]].to_numpy(), mean="LS", vol="EGARCH", o=1
        ).fit(disp="off")
        np.testing.assert_allclose(res.fit.params[row], direct_fit.params.to_numpy()[:2] / [100, 1], rtol=1e-6)
        np.testing.assert_allclose(res.fit.vol_params[row], direct_fit.params.to_numpy()[2:], rtol=1e-6)
    assert (res.fit.ar_variance() > 0).all()
    assert "Savickas" in str(res.summary())


def test_volatility_parameters_are_columns_of_res_params(returns, events):
    """res.params holds the mean's alpha and beta and arch's volatility parameters, each equal to a direct fit."""
    res = es.EventStudy(events, returns=returns, market="SPY", model="gjr-garch-t", estimation_window=WINDOW).fit()
    params = res.params
    assert list(params.columns[params.columns.get_loc("alpha") :][:7]) == [
        "alpha", "beta_SPY", "omega", "alpha[1]", "gamma[1]", "beta[1]", "nu"
    ]  # fmt: skip
    for row, ticker in enumerate(res.firm_events["ticker"]):
        frame = returns[[ticker, "SPY"]].dropna()
        pos = frame.index.get_loc(EVENT_DAY)
        window = frame.iloc[pos + WINDOW[0] : pos + WINDOW[1] + 1]
        direct = arch_model(
            100 * window[ticker].to_numpy(), x=100 * window[["SPY"]].to_numpy(), mean="LS", o=1, dist="t"
        ).fit(disp="off")
        expected = direct.params.to_numpy()
        assert params.loc[row, "alpha"] == pytest.approx(expected[0] / 100, rel=1e-6)
        assert params.loc[row, "beta_SPY"] == pytest.approx(expected[1], rel=1e-6)
        for name, value in zip(["omega", "alpha[1]", "gamma[1]", "beta[1]", "nu"], expected[2:]):
            assert params.loc[row, name] == pytest.approx(value, rel=1e-6)


def test_a_fit_that_does_not_converge_reports_the_optimizer_message():
    from eventstudy.estimation.garch import fit_one

    x = np.random.default_rng(0).normal(0, 0.01, 240)
    kwargs = dict(vol="GARCH", p=1, o=0, q=1, dist="normal")
    *_, message = fit_one(0.5 * x, x, 5, kwargs)  # an exact fit: no residual variance to model
    assert message.startswith("GARCH fit did not converge: ") and len(message) > len("GARCH fit did not converge: ")


def test_garch_results_round_trip_through_save_and_load(returns, events, tmp_path):
    """The model is rebuilt from its state and the fit as a GarchFit: every table equals the saved one."""
    res = es.EventStudy(events, returns=returns, market="SPY", model="egarch-t", estimation_window=WINDOW).fit()
    back = es.load(res.save(tmp_path / "egarch"))
    assert back.model == res.model == es.Egarch(dist="t")
    assert type(back.fit) is type(res.fit)
    np.testing.assert_array_equal(back.fit.ar_variance(), res.fit.ar_variance())
    pd.testing.assert_frame_equal(back.params, res.params)
    for window in [(0, 0), (-5, 5)]:
        pd.testing.assert_frame_equal(back.car(window=window), res.car(window=window))


def test_egarch_variance_forecast_is_reproducible_and_near_a_long_direct_simulation(returns, events):
    """EGARCH's multi-step variance is simulated: two fits give the same standard errors (arch draws the shocks
    from the distribution's own generator, which used to be unseeded), and the forecast of the last event day
    lies within 3% of arch's own simulation with 50,000 paths on the same fit."""
    first = es.EventStudy(events, returns=returns, market="SPY", model="egarch", estimation_window=WINDOW).fit()
    again = es.EventStudy(events, returns=returns, market="SPY", model="egarch", estimation_window=WINDOW).fit()
    np.testing.assert_array_equal(first.fit.h_event, again.fit.h_event)
    pd.testing.assert_frame_equal(first.car(), again.car())
    for row, ticker in enumerate(first.firm_events["ticker"]):
        frame = returns[[ticker, "SPY"]].dropna()
        pos = frame.index.get_loc(EVENT_DAY)
        window = frame.iloc[pos + WINDOW[0] : pos + WINDOW[1] + 1]
        direct_fit = arch_model(
            100 * window[ticker].to_numpy(), x=100 * window[["SPY"]].to_numpy(), mean="LS", vol="EGARCH", o=1
        ).fit(disp="off")
        horizon = -WINDOW[1] + 5  # the event window's last day, (-5, +5) by default
        long = direct_fit.forecast(
            horizon=horizon, reindex=False, x=np.zeros((1, 1, horizon)), method="simulation", simulations=50_000
        )
        assert first.fit.h_event[row, -1] == pytest.approx(long.variance.to_numpy()[-1, -1] / 100**2, rel=0.03)
