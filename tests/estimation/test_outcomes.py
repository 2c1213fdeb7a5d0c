"""Abnormal volume and abnormal volatility against hand computations on real prices (read at run time)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import eventstudy as es
from eventstudy.estimation.outcomes import abnormal_volatility, parkinson_variance, volatility_tests

EVENT_DAY = pd.Timestamp("2025-05-13")
WINDOW = (-250, -11)


@pytest.fixture(scope="module")
def frames(prices_dir):
    read = {t: pd.read_csv(prices_dir / f"{t}.csv", index_col="Date", parse_dates=True) for t in ("NVDA", "AMD", "SPY")}
    cut = slice("2024-01-01", "2025-06-30")
    volume = pd.DataFrame({t: f["Volume"] for t, f in read.items()}).sort_index().loc[cut]
    close = pd.DataFrame({t: f["Adj Close"] for t, f in read.items()}).sort_index().loc[cut]
    return volume, close


@pytest.fixture(scope="module")
def events():
    return pd.DataFrame({"ticker": ["NVDA", "AMD"], "date": ["2025-05-13"] * 2, "session": ["pre"] * 2})


def hand_log_volume_ar(volume, ticker, model):
    """OLS of log(V + 1) on the benchmark's log(V + 1) over sessions -250..-11, by numpy least squares."""
    logs = np.log(volume[[ticker, "SPY"]].astype(float) + 1.0).dropna()
    pos = logs.index.get_loc(EVENT_DAY)
    est = logs.iloc[pos + WINDOW[0] : pos + WINDOW[1] + 1]
    y = est[ticker].to_numpy()
    x = np.column_stack([np.ones(len(est)), est["SPY"].to_numpy()]) if model == "market" else np.ones((len(est), 1))
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    x0 = np.array([1.0, logs.loc[EVENT_DAY, "SPY"]])[: x.shape[1]]
    return logs.loc[EVENT_DAY, ticker] - x0 @ coef


@pytest.mark.parametrize("model", ["market", "constant-mean"])
def test_day0_abnormal_log_volume_equals_hand_ols(frames, events, model):
    volume, _ = frames
    res = es.EventStudy(
        events, returns=volume, market="SPY", model=model, outcome="volume", estimation_window=WINDOW
    ).fit()
    ar = res.ar.query("event_time == 0").set_index("ticker")["ar"]
    for ticker in ("NVDA", "AMD"):
        assert ar[ticker] == pytest.approx(hand_log_volume_ar(volume, ticker, model), rel=1e-9)
    assert res.settings["outcome"] == "volume"


def test_volume_read_from_a_source_equals_volume_given(frames, events, prices_dir):
    volume, _ = frames
    given = es.EventStudy(events, returns=volume, market="SPY", outcome="volume").fit()
    read = es.EventStudy(events, source=es.CsvSource(prices_dir), market="SPY", outcome="volume").fit()
    np.testing.assert_allclose(given.fit.ar_event, read.fit.ar_event, rtol=1e-9)  # prefix sums over other ranges


def test_zero_volume_on_day0_is_a_recorded_drop(frames, events):
    volume, _ = frames
    bad = volume.copy()
    bad.loc[EVENT_DAY, "AMD"] = 0.0
    with pytest.warns(es.DataQualityWarning, match="AMD: zero volume on 1 day"):
        with pytest.warns(es.DroppedFirmEventsWarning):
            res = es.EventStudy(events, returns=bad, market="SPY", outcome="volume").fit()
    assert list(res.firm_events["ticker"]) == ["NVDA"]
    assert res.dropped.set_index("ticker").loc["AMD", "reason"].startswith("no volume on day 0")


def test_negative_volume_is_an_error_naming_ticker_and_date(frames, events):
    volume, _ = frames
    bad = volume.copy()
    bad.loc["2025-03-03", "NVDA"] = -5.0
    with pytest.raises(ValueError, match="Negative volume for NVDA on 2025-03-03"):
        es.EventStudy(events, returns=bad, market="SPY", outcome="volume").fit()


def test_lots_against_shares_warns_and_market_adjusted_refuses(frames):
    volume, _ = frames
    lots = volume.rename(columns={"NVDA": "688981.SS"})  # a Shanghai symbol: volumes counted in lots of 100
    events = pd.DataFrame({"ticker": ["688981.SS"], "date": ["2025-05-13"], "session": ["pre"]})
    with pytest.warns(es.DataQualityWarning, match="only the constant"):
        es.EventStudy(events, returns=lots, market="SPY", outcome="volume", calendar="XNYS").fit()
    with pytest.raises(ValueError, match="no constant to absorb"):
        es.EventStudy(
            events, returns=lots, market="SPY", model="market-adjusted", outcome="volume", calendar="XNYS"
        ).fit()


def test_unknown_outcome_is_refused(frames, events):
    with pytest.raises(ValueError, match="'outcome' parameter"):
        es.EventStudy(events, returns=frames[1], outcome="spread").fit()


# --------------------------------------------------------------------------------------------------------
# volatility
# --------------------------------------------------------------------------------------------------------


def test_squared_ar_ratio_and_f_test_by_hand(frames, events):
    _, close = frames
    rets = es.returns(close)
    res = es.EventStudy(events, returns=rets, market="SPY", estimation_window=WINDOW).fit()
    table = abnormal_volatility(res, (-1, 1)).set_index("ticker")
    for ticker in ("NVDA", "AMD"):
        frame = rets[[ticker, "SPY"]].dropna()
        pos = frame.index.get_loc(EVENT_DAY)
        est = frame.iloc[pos + WINDOW[0] : pos + WINDOW[1] + 1]
        x = np.column_stack([np.ones(len(est)), est["SPY"]])
        coef, ssr, *_ = np.linalg.lstsq(x, est[ticker].to_numpy(), rcond=None)
        sigma2 = ssr[0] / (len(est) - 2)
        days = frame.iloc[pos - 1 : pos + 2]
        ar = days[ticker] - coef[0] - coef[1] * days["SPY"]
        ratio = np.mean(ar**2) / sigma2
        assert table.loc[ticker, "ratio"] == pytest.approx(ratio, rel=1e-9)
        assert table.loc[ticker, "pvalue_F"] == pytest.approx(stats.f.sf(ratio, 3, len(est) - 2), rel=1e-9)
        resid = est[ticker] - coef[0] - coef[1] * est["SPY"]
        means = np.convolve(resid.to_numpy() ** 2, np.ones(3) / 3, mode="valid")
        rank = (1 + np.sum(means >= np.mean(ar**2))) / (1 + len(means))
        assert table.loc[ticker, "pvalue_rank"] == pytest.approx(rank)
    pooled = volatility_tests(table.reset_index()).set_index("test")
    stat = 3 * table["ratio"].sum()
    assert pooled.loc["chi2", "pvalue"] == pytest.approx(stats.chi2.sf(stat, 6))


def test_range_ratio_by_hand(prices_dir, events):
    vol = es.EventStudy(events, source=es.CsvSource(prices_dir), market="SPY", outcome="volatility").fit()
    table = vol.table((0, 0), method="range").set_index("ticker")
    raw = pd.read_csv(prices_dir / "AMD.csv", index_col="Date", parse_dates=True)
    park = (np.log(raw["High"]) - np.log(raw["Low"])) ** 2 / (4 * np.log(2))
    returns = raw["Adj Close"].pct_change().dropna()
    pos = returns.index.get_loc(EVENT_DAY)
    est_days = returns.index[pos - 250 : pos - 10]
    assert table.loc["AMD", "ratio"] == pytest.approx(park[EVENT_DAY] / park[est_days].mean(), rel=1e-9)


def test_range_without_high_low_says_what_is_missing(frames, events):
    _, close = frames
    vol = es.EventStudy(events, returns=es.returns(close), market="SPY", outcome="volatility").fit()
    with pytest.raises(ValueError, match="needs High and Low"):
        vol.table(method="range")
    bad = parkinson_variance(
        pd.DataFrame({"NVDA": [np.nan]}, index=[EVENT_DAY]), pd.DataFrame({"NVDA": [1.0]}, index=[EVENT_DAY])
    )
    with pytest.warns(es.DataQualityWarning, match="NVDA: High/Low missing"):
        out = abnormal_volatility(vol.returns.select(tickers=["NVDA"]), (0, 0), method="range", range_variance=bad)
    assert np.isnan(out["ratio"]).all()


def test_report_rows_hold_the_hand_computed_volume_and_variance(frames, events, prices_dir):
    volume, close = frames
    rows, markdown = es.outcome_rows(events, source=es.CsvSource(prices_dir), market="SPY", windows=[(0, 0)])
    rows = rows.set_index(["ticker", "measure"])
    rets = es.returns(close)
    for ticker in ("NVDA", "AMD"):
        expected = hand_log_volume_ar(volume, ticker, "market")
        assert rows.loc[(ticker, "abnormal log volume, market-volume model"), "estimate"] == pytest.approx(expected)
        frame = rets[[ticker, "SPY"]].dropna()
        pos = frame.index.get_loc(EVENT_DAY)
        est = frame.iloc[pos + WINDOW[0] : pos + WINDOW[1] + 1]
        x = np.column_stack([np.ones(len(est)), est["SPY"]])
        coef, ssr, *_ = np.linalg.lstsq(x, est[ticker].to_numpy(), rcond=None)
        ar0 = frame.loc[EVENT_DAY, ticker] - coef[0] - coef[1] * frame.loc[EVENT_DAY, "SPY"]
        ratio = ar0**2 / (ssr[0] / (len(est) - 2))
        assert rows.loc[(ticker, "volatility ratio, squared AR"), "estimate"] == pytest.approx(ratio, rel=1e-8)
        assert f"- {ticker}, " in markdown and "day-0 t is" in markdown
    assert {"return, OLS market model", "volatility ratio, Parkinson range"} <= set(rows.index.get_level_values(1))
    # one unit per column: each measure has its own table, the CARs in percent (not the CSV's fractions)
    car = rows.loc[("NVDA", "return, OLS market model"), "estimate"]
    assert f" {100 * car:+.2f}% " in markdown and f"{car:.4f}" not in markdown
    headers = {
        cell.strip() for line in markdown.splitlines() if line.startswith("| event_id") for cell in line.split("|")
    }
    assert markdown.count("<details") == 3 and {"CAR", "abnormal log volume", "variance ratio"} <= headers


def test_a_series_that_switches_from_shares_to_lots_is_named(frames, events):
    volume, _ = frames
    spliced = volume.copy()
    spliced.loc["2024-09-03":, "AMD"] /= 100  # from September on, AMD's file counts lots of 100
    with pytest.warns(es.DataQualityWarning, match=r"AMD: median volume changes by a factor of \d+ around 2024-09-03"):
        es.EventStudy(events, returns=spliced, market="SPY", outcome="volume").fit()
    clean = es.log_volume(volume)
    assert not any("median volume changes" in n for n in clean.attrs["eventstudy_notes"])


class _Untouchable:
    """A price source that fails the test when read: a refusal must come before any data is loaded."""

    def get_prices(self, *args, **kwargs):
        raise AssertionError("the source was read before the combination was refused")


@pytest.mark.parametrize("model", ["capm", "ff3", "ff5", "carhart"])
def test_volume_with_a_model_of_factor_returns_is_refused_before_loading(events, model):
    with pytest.raises(ValueError, match=f"model='{model}' with outcome='volume' is not supported"):
        es.EventStudy(events, source=_Untouchable(), market="SPY", model=model, outcome="volume").fit()


@pytest.mark.parametrize("model", ["capm", "ff3"])
def test_the_same_models_study_returns_and_volatility(events, model):
    for outcome in ("returns", "volatility"):
        with pytest.raises(AssertionError, match="source was read"):  # validation passed: loading began
            es.EventStudy(events, source=_Untouchable(), market="SPY", model=model, outcome=outcome).fit()
