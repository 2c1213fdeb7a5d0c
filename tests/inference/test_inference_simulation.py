"""Size and power by simulation: Brown & Warner (1985) samples from seeded synthetic (and real) returns."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.estimation.models import estimate
from eventstudy.estimation.panel import AlignedData
from eventstudy.exceptions import EventStudyWarning, EventWindowError
from eventstudy.inference import TESTS, bmp, eligible_sessions
from eventstudy.inference.base import Inputs
from eventstudy.inference.simulation import _Injected

CROSS_SECTION = [name for name, spec in TESTS.items() if spec.scope == "cross-section"]


def universe(seed: int, *, firms: int = 120, sessions: int = 700, rho: float = 0.0) -> pd.DataFrame:
    """Daily returns: market SPY, firms r = beta * market + c * industry + e, iid normal.

    ``rho`` is the correlation of two firms' market-model residuals (the industry factor is not in the model).
    """
    rng = np.random.default_rng(seed)
    market = rng.normal(0.0004, 0.01, sessions)
    industry = rng.normal(0.0, 0.01, sessions)
    beta = rng.uniform(0.5, 1.5, firms)
    c = math.sqrt(rho / (1 - rho)) * 0.02 / 0.01
    returns = beta * market[:, None] + c * industry[:, None] + rng.normal(0.0, 0.02, (sessions, firms))
    index = pd.bdate_range("2020-01-01", periods=sessions)
    frame = pd.DataFrame(returns, index=index, columns=[f"F{i}" for i in range(firms)])
    frame["SPY"] = market
    return frame


def within(rate: float, n: int, alpha: float = 0.05, k: float = 3.0) -> bool:
    return abs(rate - alpha) <= k * math.sqrt(alpha * (1 - alpha) / n)


@pytest.fixture(scope="module")
def independent():
    return es.simulate(universe(0), n_samples=300, n_firms=30, seed=0)


def test_simulation_table(independent):
    assert list(independent.columns) == ["0.01", "0.05", "0.10", "n_valid", "mean_stat", "scope"]
    assert list(independent.index) == list(TESTS) and independent.index.name == "test"
    assert independent["n_valid"].dtype == np.int64
    assert independent.loc["car_t", "n_valid"] == 300 * 30
    assert independent.loc["bmp", "n_valid"] == 300
    assert independent.attrs["n_samples"] == 300 and independent.attrs["seconds"] > 0
    rates = independent[["0.01", "0.05", "0.10"]].dropna()
    assert ((rates["0.01"] <= rates["0.05"]) & (rates["0.05"] <= rates["0.10"])).all()


@pytest.mark.parametrize("name", CROSS_SECTION)
def test_size_on_independent_returns(independent, name):
    row = independent.loc[name]
    if name.startswith("kp_"):
        # spread-out dates: KP runs only in samples where two firm-events happen to share a date
        assert 0 < row["n_valid"] < 300
    if row["n_valid"] >= 100:
        assert within(row["0.05"], row["n_valid"]), (name, row["0.05"])


@pytest.mark.parametrize("name", ["car_t", "ar_t", "permutation"])
def test_size_of_single_firm_tests(independent, name):
    row = independent.loc[name]
    assert within(row["0.05"], row["n_valid"]) and within(row["0.01"], row["n_valid"], alpha=0.01)


def test_cross_correlated_same_day_events():
    """Residual correlation 0.2 among 30 same-day firms: csect_t over-rejects, kp_bmp does not."""
    out = es.simulate(universe(1, rho=0.2), n_samples=200, n_firms=30, clustered=True, seed=1)
    assert out.loc["csect_t", "0.05"] > 0.25
    assert out.loc["bmp", "0.05"] > 0.25
    for name in ["kp_bmp", "kp_patell", "brown_warner", "mvrm_average", "mvrm_joint"]:
        assert out.loc[name, "n_valid"] == 200
        assert within(out.loc[name, "0.05"], 200), (name, out.loc[name, "0.05"])


def test_power_grows_with_the_abnormal_return():
    returns = universe(2)
    rates = [
        es.simulate(returns, n_samples=100, n_firms=30, abnormal=a, tests=["bmp", "car_t"], seed=2).loc["bmp", "0.05"]
        for a in (0.0, 0.005, 0.02)
    ]
    assert rates[0] < rates[1] < rates[2] and rates[2] > 0.95


def test_injected_abnormal_return_equals_adding_it_to_the_data():
    returns = universe(3, firms=10)
    y, market = returns.drop(columns="SPY").to_numpy(), returns["SPY"].to_numpy()
    day0, firm = 300 + 20 * np.arange(10), np.arange(10)
    shocked = y.copy()
    shocked[day0, firm] += 0.01
    fit = estimate(AlignedData.build(y, market), day0, firm, (-250, -11), (-1, 1))
    fit_shocked = estimate(AlignedData.build(shocked, market), day0, firm, (-250, -11), (-1, 1))
    injected = _Injected(fit, (-1, 1), abnormal=0.01)
    direct = Inputs(fit_shocked, (-1, 1))
    np.testing.assert_allclose(injected.car, direct.car, rtol=1e-12)
    np.testing.assert_allclose(injected.ar, direct.ar, rtol=1e-12, equal_nan=True)
    assert TESTS["bmp"].kernel(injected).stat[0] == pytest.approx(bmp(fit_shocked, (-1, 1)).stat, rel=1e-12)


def test_arguments_are_checked():
    returns = universe(4, firms=20, sessions=400)
    with pytest.raises(KeyError, match="market"):
        es.simulate(returns, market="QQQ", n_samples=5)
    with pytest.raises(ValueError, match="day 0"):
        es.simulate(returns, n_samples=5, abnormal=0.01, event_window=(1, 2))
    with pytest.raises(ValueError, match="'model'"):
        es.simulate(returns, n_samples=5, model="ff3")
    with pytest.raises(TypeError, match="DatetimeIndex"):
        es.simulate(returns.reset_index(drop=True), n_samples=5)
    with pytest.raises(ValueError, match="'tests'"):
        es.simulate(returns, n_samples=5, tests=["nope"])


@pytest.mark.parametrize(
    # the suggestion keeps the window's length and ends it on day -1 (EventStudy's message)
    "estimation_window, suggestion",
    [((-100, 5), (-106, -1)), ((-100, 0), (-101, -1)), ((5, 104), (-100, -1))],
)
def test_estimation_window_must_end_before_the_event_window(estimation_window, suggestion):
    """As EventStudy: injecting the abnormal return into the AR equals adding it to the data only when no
    event day is in the fit."""
    returns = universe(4, firms=20, sessions=400)
    with pytest.raises(EventWindowError, match=r"overlaps the event window \(0, 0\)") as info:
        es.simulate(returns, n_samples=5, estimation_window=estimation_window)
    assert f"estimation_window={suggestion}" in str(info.value)
    # the error is a ValueError too, as EventStudy's
    assert isinstance(info.value, ValueError)
    with pytest.raises(EventWindowError, match="overlaps"):
        es.EventStudy(
            pd.DataFrame({"ticker": ["F0"], "date": ["2020-06-01"]}),
            returns=returns,
            estimation_window=estimation_window,
            event_window=(0, 0),
        ).fit()


def test_eligible_sessions_need_every_day_from_estimation_start_to_event_end():
    returns = universe(6, firms=3, sessions=120)
    returns.iloc[40, 0] = np.nan  # F0 misses a day
    returns.iloc[90, returns.columns.get_loc("SPY")] = np.nan  # the market misses a day: every firm does
    out = eligible_sessions(returns, "SPY", (-30, -6), (-1, 2))
    assert list(out.columns) == ["F0", "F1", "F2"] and out.index.equals(returns.index)
    # a plain loop: day 0 at row s needs rows s - 30 .. s + 2 inside the data, firm and market observed
    ok = returns.notna().to_numpy()
    for s in range(len(returns)):
        for j, ticker in enumerate(["F0", "F1", "F2"]):
            rows = range(s - 30, s + 3)
            expected = rows[0] >= 0 and rows[-1] < len(returns) and all(ok[r, j] and ok[r, 3] for r in rows)
            assert out.iloc[s][ticker] == expected, (s, ticker)
    assert out["F1"].sum() == 88 - 30  # day 0 on rows 30..117, but not on 88..117, whose span holds row 90
    with pytest.raises(EventWindowError, match="overlaps"):
        eligible_sessions(returns, "SPY", (-30, 0), (0, 0))


def test_market_adjusted_and_multi_day_windows():
    out = es.simulate(
        universe(5, firms=40, sessions=500),
        n_samples=40,
        n_firms=20,
        event_window=(-1, 1),
        model="market-adjusted",
        tests=["ar_t", "car_t", "bmp", "rank"],
        seed=5,
    )
    assert out.loc["ar_t", "n_valid"] == 0 and math.isnan(out.loc["ar_t", "0.05"])
    assert out.loc["car_t", "n_valid"] == 800 and out.loc["bmp", "n_valid"] == 40


def _real_returns(prices_dir) -> pd.DataFrame:
    closes = {
        path.stem: pd.read_csv(path, index_col="Date", parse_dates=True)["Adj Close"]
        for path in sorted(prices_dir.glob("*.csv"))
        if path.stem != "IRX"  # a yield index, not a price
    }
    frame = pd.DataFrame(closes)
    frame = frame[frame["SPY"].notna()]
    return frame.pct_change(fill_method=None).iloc[1:]


def test_real_returns(prices_dir):
    returns = _real_returns(prices_dir)
    out = es.simulate(returns, n_samples=60, n_firms=15, seed=0)
    assert out.loc["bmp", "n_valid"] == 60
    assert out[["0.01", "0.05", "0.10"]].stack().between(0, 1).all()
    # fewer securities than firms asked for on one date: each clustered sample uses them all, with a warning
    with pytest.warns(EventStudyWarning, match="instead of n_firms=50"):
        clustered = es.simulate(returns, n_samples=30, n_firms=50, clustered=True, seed=0)
    assert clustered.attrs["n_firms"] < 50 and clustered.loc["kp_bmp", "n_valid"] == 30


def test_threads_and_chunks_do_not_change_the_table(monkeypatch):
    # one thread over many small chunks, then three threads over three chunks: the draw is seeded and each
    # sample is a group of its own, so the tables must be equal to the last bit
    kwargs = dict(n_samples=60, n_firms=20, seed=4, tests=["bmp", "rank", "kp_bmp", "pseudo_event"], clustered=True)
    monkeypatch.setattr("eventstudy.inference.simulation.CHUNK_CELLS", 20_000)
    one = es.simulate(universe(5, rho=0.1), workers=1, **kwargs)
    monkeypatch.setattr("eventstudy.inference.simulation.CHUNK_CELLS", 10**9)
    three = es.simulate(universe(5, rho=0.1), workers=3, **kwargs)
    pd.testing.assert_frame_equal(one, three, check_exact=True)
    with pytest.raises(ValueError, match="workers"):
        es.simulate(universe(5), workers=0, n_samples=5, n_firms=5)
