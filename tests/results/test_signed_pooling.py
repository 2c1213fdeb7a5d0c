"""Signed pooling (``align="direction"``) against hand-signed returns, and the warnings a fit gives about its
design: market-wide shocks inside event windows, and "firms" that are indices, yields or their own benchmark.

Hand-signing: OLS is linear in the dependent variable, so fitting the market model to :math:`-R_{it}` gives
:math:`-\\hat\\alpha_i, -\\hat\\beta_i` and residuals and abnormal returns :math:`-AR_{it}`, with the same
variance.  A tightening event's firm is therefore studied a second time as a column ``<ticker>-NEG`` holding
minus its returns, with no signing option at all; every pooled test of that plain study must equal the same
test of the signed one.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import eventstudy as es

TICKERS = ["NVDA", "AMD", "MU", "INTC"]
EVENTS = [
    "bis-advanced-computing-rule-2022-10-07",  # tightening
    "nvda-h20-license-charge-2025-04-15",  # tightening
    "report-rescind-diffusion-rule-2025-05-07",  # easing
    "bis-rescinds-diffusion-huawei-guidance-2025-05-13",  # easing
]
WINDOWS = [(0, 0), (0, 1), (-1, 1)]


@pytest.fixture(scope="module")
def returns(prices_dir) -> pd.DataFrame:
    prices = es.CsvSource(prices_dir).get_prices([*TICKERS, "SPY"], "2021-06-01", "2025-06-30")
    return es.returns(prices)


@pytest.fixture(scope="module")
def firm_events(catalog) -> pd.DataFrame:
    events = catalog[catalog["id"].isin(EVENTS)]
    rows = [
        {"event_id": e["id"], "ticker": t, "day0": e["day0"], "direction": e["direction"]}
        for _, e in events.iterrows()
        for t in TICKERS
    ]
    return pd.DataFrame(rows)


def _fit(firm_events, returns):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.EventStudyWarning)
        return es.EventStudy(firm_events, returns=returns, market="SPY").fit()


@pytest.fixture(scope="module")
def signed(firm_events, returns):
    return _fit(firm_events, returns)


@pytest.fixture(scope="module")
def by_hand(firm_events, returns):
    """The same firm-events with tightening events' firms replaced by columns of minus their returns."""
    flip = firm_events["direction"].isin(["tightening", "retaliation"])
    hand = firm_events.assign(ticker=np.where(flip, firm_events["ticker"] + "-NEG", firm_events["ticker"]))
    negated = -returns[TICKERS].add_suffix("-NEG")
    return _fit(hand.drop(columns="direction"), pd.concat([returns, negated], axis=1))


def test_the_design_mixes_directions(signed):
    assert sorted(set(signed.signs())) == [-1.0, 1.0]
    assert signed.n == len(EVENTS) * len(TICKERS)


def test_signed_car_equals_the_car_of_hand_signed_returns(signed, by_hand):
    for window in WINDOWS:
        ours = signed.car(window, align="direction")
        hand = by_hand.car(window)
        assert ours["event_id"].tolist() == hand["event_id"].tolist()
        np.testing.assert_allclose(ours["signed_car"], hand["car"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours["signed_t"], hand["t"], rtol=1e-9)
        np.testing.assert_allclose(ours["signed_car"], ours["sign"] * ours["car"], rtol=0, atol=0)
        # the unsigned columns are unchanged
        np.testing.assert_array_equal(ours["car"], signed.car(window)["car"])


def test_every_pooled_test_on_signed_cars_equals_the_test_on_hand_signed_cars(signed, by_hand):
    ours = signed.tests(WINDOWS, align="direction")
    hand = by_hand.tests(WINDOWS)
    pooled = ours["scope"] != "single"
    assert pooled.sum() > 20  # every cross-sectional and clustered test, on three windows
    keys = ["test", "window_start", "window_end", "scope"]
    a = ours[pooled].reset_index(drop=True)
    b = hand[hand["scope"] != "single"].reset_index(drop=True)
    assert a[keys].equals(b[keys])
    assert set(a["test"]) == set(es.inference.tests_in_scope("cross-section", "clustered"))
    np.testing.assert_allclose(a["stat"].to_numpy(float), b["stat"].to_numpy(float), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a["pvalue"].to_numpy(float), b["pvalue"].to_numpy(float), rtol=1e-8, atol=1e-10)
    assert (a["note"].fillna("") == b["note"].fillna("")).all()


def test_signing_changes_the_pooled_answer(signed):
    # a tightening event's negative CARs and an easing event's positive ones no longer cancel
    plain = signed.tests([(0, 1)], tests=["csect_t"])["stat"].iloc[0]
    aligned = signed.tests([(0, 1)], tests=["csect_t"], align="direction")["stat"].iloc[0]
    cars = signed.car((0, 1))
    x = cars["car"].to_numpy() * signed.signs()
    by_loop = x.mean() / (x.std(ddof=1) / np.sqrt(len(x)))
    assert aligned == pytest.approx(by_loop, rel=1e-10)
    assert aligned != pytest.approx(plain)


def test_one_test_object_signs_too(signed, by_hand):
    ours = signed.test("bmp", (0, 1), align="direction")
    assert ours.stat == pytest.approx(by_hand.test("bmp", (0, 1)).stat, rel=1e-10)


def test_a_direction_without_a_sign_names_the_row(firm_events, returns):
    mixed = firm_events.assign(direction=np.where(firm_events.index == 5, "mixed", firm_events["direction"]))
    res = _fit(mixed, returns)
    with pytest.raises(ValueError, match=r"'direction' column, row 6 \(event '.*', ticker 'AMD'\): 'mixed'"):
        res.tests([(0, 0)], align="direction")
    with pytest.raises(ValueError, match="'align'"):
        res.car((0, 0), align="sign")
    # a user's sign column settles it
    given = _fit(mixed.assign(sign=np.where(mixed.index == 5, -1, np.nan)), returns)
    assert given.signs()[5] == -1


# -- warnings -------------------------------------------------------------------------------------------------
def test_a_market_shock_inside_an_event_window_is_a_warning_naming_the_date(firm_events, returns):
    h20 = firm_events[firm_events["event_id"] == "nvda-h20-license-charge-2025-04-15"]
    with pytest.warns(es.MarketShockWarning, match=r"2025-04-09 \(SPY \+10\.\d%\).*nvda-h20-license-charge"):
        es.EventStudy(h20, returns=returns, market="SPY", event_window=(-5, 5)).fit()
    # the day: SPY's return, by hand from the prices
    assert returns.loc["2025-04-09", "SPY"] == pytest.approx(0.105, abs=0.001)


def test_no_shock_warning_when_the_window_holds_none(firm_events, returns):
    h20 = firm_events[firm_events["event_id"] == "nvda-h20-license-charge-2025-04-15"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", es.MarketShockWarning)
        es.EventStudy(h20, returns=returns, market="SPY", event_window=(0, 1)).fit()


def test_an_index_or_the_benchmark_studied_as_a_firm_is_a_warning(returns):
    frame = returns[["NVDA", "SPY"]].assign(**{"^GSPC": returns["SPY"] * 0.99, "^IRX": returns["NVDA"] * 0.01})
    events = pd.DataFrame({"ticker": ["NVDA", "^GSPC", "^IRX", "SPY"], "day0": pd.Timestamp("2025-05-13")})
    with pytest.warns(es.NotAFirmWarning) as record:
        es.EventStudy(events, returns=frame, market="SPY").fit()
    (text,) = [str(w.message) for w in record if w.category is es.NotAFirmWarning]
    assert "^GSPC is an index or a yield" in text and "^IRX is an index or a yield" in text
    assert "SPY is its own benchmark" in text and "NVDA" not in text
