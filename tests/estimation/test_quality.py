"""Issue 12, classes 2, 5, 6 and 7: implausible returns, unidentified models, values that only look like
data, and comparisons across different specifications.  Every case either raises a message that names the
value and the fix, or records a drop / warning naming the ticker, the date and the reason.

Returns are computed from the shared real prices (shared/data/prices) at test time.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.data import CsvSource
from eventstudy.estimation.quality import implausible_returns

EVENT = pd.DataFrame({"ticker": ["NVDA", "AMD"], "date": ["2025-05-13", "2025-05-13"]})


@pytest.fixture(scope="module")
def rets(prices_dir):
    prices = CsvSource(prices_dir).get_prices(["NVDA", "AMD", "SPY", "SOXX"], "2024-01-02", "2025-06-30")
    return es.returns(prices)


def fit(events, returns, **options):
    options.setdefault("market", "SPY")
    return es.EventStudy(events, returns=returns, **options).fit()


# ---- class 2: implausible returns are warned with ticker and date, and kept -----------------------------


def test_the_real_returns_of_the_shared_tickers_raise_no_flag(rets):
    # NVDA +16 % (2024-02-22), -17 % (2025-01-27 DeepSeek) and AMD +24 % (2025-10-06) are real moves
    assert implausible_returns(rets, "SPY").empty


def test_an_unadjusted_split_is_flagged_with_ticker_date_and_the_price_ratio(prices_dir):
    # NVDA's raw closes as printed before the 10-for-1 split: the Close column times 10 before 2024-06-10
    raw = pd.read_csv(prices_dir / "NVDA.csv", index_col="Date", parse_dates=True)["Close"].loc["2023-06":"2024-12"]
    unadjusted = raw.where(raw.index >= "2024-06-10", raw * 10)
    spy = pd.read_csv(prices_dir / "SPY.csv", index_col="Date", parse_dates=True)["Adj Close"]
    returns = es.returns(pd.DataFrame({"NVDA": unadjusted, "SPY": spy}).loc["2023-06":"2024-12"])
    events = pd.DataFrame({"ticker": ["NVDA"], "date": ["2024-06-12"]})
    with pytest.warns(
        es.DataQualityWarning, match=r"NVDA on 2024-06-10: -89\.9% while SPY moved \+0\.3%.*price ratio of about 9\.93"
    ):
        res = fit(events, returns, estimation_window=(-120, -11))
    # kept, not dropped: the user decides; the note travels with the results
    assert res.n == 1
    assert any("NVDA: implausible return -89.9% on 2024-06-10 kept" in n for n in res.provenance["notes"])


def test_a_quote_switching_from_pence_to_pounds_is_flagged(rets):
    pence = rets.copy()
    # AMD quoted in pence until 2025-03-14, in pounds from then on: that day's return is /100
    pence.loc["2025-03-14", "AMD"] = (1 + pence.loc["2025-03-14", "AMD"]) / 100 - 1
    found = implausible_returns(pence, "SPY")
    assert found[["ticker", "date"]].values.tolist() == [["AMD", pd.Timestamp("2025-03-14")]]
    assert found["return"].iloc[0] == pytest.approx(-0.99, abs=0.001)


def test_a_real_data_artefact_in_the_shared_global_prices_is_found(prices_dir):
    """ASML.AS in shared/data/prices_global jumps from 17.91 to 55.79 between 1999-12-31 and 2000-01-03: the
    1999 rows are on another basis.  Found without being told."""
    path = prices_dir.parent / "prices_global" / "ASML.AS.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    adj = pd.read_csv(path, index_col="Date", parse_dates=True)["Adj Close"].loc[:"2000-12-31"]
    found = implausible_returns(adj.pct_change().to_frame("ASML.AS"))
    assert found["date"].tolist() == [pd.Timestamp("2000-01-03")]
    assert found["return"].iloc[0] == pytest.approx(43.395332 / 13.928408 - 1, rel=1e-9)


# ---- class 5: unidentified models are recorded drops with their reason --------------------------------


@pytest.mark.parametrize("bad", [-1.0, -1.5])
def test_a_return_at_or_below_minus_100_percent_is_flagged_as_impossible(rets, bad):
    # a price of 0 (-100 %) or below (-150 %): impossible for a share, flagged whatever its history; before
    # issue 21 such a day was dropped from the check and the CAR came out at -146 % without a word
    broken = rets.copy()
    broken.loc["2025-05-12", "NVDA"] = bad
    found = implausible_returns(broken, "SPY")
    assert found[["ticker", "date"]].values.tolist() == [["NVDA", pd.Timestamp("2025-05-12")]]
    assert found["return"].iloc[0] == bad and np.isnan(found["robust_z"].iloc[0])
    assert found["hint"].iloc[0].startswith("impossible")
    with pytest.warns(es.DataQualityWarning, match=rf"NVDA on 2025-05-12: {bad:+.1%}.*impossible.*price of 0 or below"):
        fit(EVENT, broken)


def test_a_benchmark_at_minus_100_percent_is_flagged_too(rets):
    broken = rets.copy()
    broken.loc["2025-02-03", "SPY"] = -1.0
    found = implausible_returns(broken, "SPY")
    assert found[["ticker", "date"]].values.tolist() == [["SPY", pd.Timestamp("2025-02-03")]]


def test_a_constant_benchmark_is_a_recorded_drop_not_a_made_up_beta(rets):
    flat = rets.assign(SPY=0.001)  # a stale benchmark: the same return every day
    with pytest.raises(es.EstimationError) as raised:
        fit(EVENT, flat)
    reasons = raised.value.dropped.set_index("ticker")["reason"]
    assert reasons["NVDA"].startswith("model not identified: regressor SPY does not vary")
    assert "every value 0.001" in reasons["NVDA"]


def test_a_ticker_identical_to_its_benchmark_and_a_benchmark_against_itself_are_drops(rets):
    events = pd.DataFrame({"ticker": ["NVDA", "COPY", "SPY"], "date": ["2025-05-13"] * 3})
    with pytest.warns(es.DroppedFirmEventsWarning, match="2 of 3"):
        res = fit(events, rets.assign(COPY=rets["SPY"]))
    reasons = res.dropped.set_index("ticker")["reason"]
    assert reasons["COPY"].startswith("COPY's returns are identical to the regressor SPY")
    assert "(the benchmark studied against itself)" in reasons["SPY"]
    assert res.firm_events["ticker"].tolist() == ["NVDA"]
    # NVDA's CAR(-1,+1) is untouched by the drops: the market model by hand on the same 240 days
    car = res.car((-1, 1)).set_index("ticker")["car"]
    day0 = rets.index.get_loc(pd.Timestamp("2025-05-13"))
    est = rets.iloc[day0 - 250 : day0 - 10]
    beta, alpha = np.polyfit(est["SPY"], est["NVDA"], 1)
    window = rets.iloc[day0 - 1 : day0 + 2]
    assert car["NVDA"] == pytest.approx((window["NVDA"] - alpha - beta * window["SPY"]).sum(), rel=1e-9)


def test_market_adjusted_returns_of_the_benchmark_itself_are_a_drop(rets):
    events = pd.DataFrame({"ticker": ["NVDA", "SPY"], "date": ["2025-05-13"] * 2})
    with pytest.warns(es.DroppedFirmEventsWarning):
        res = fit(events, rets, model="market-adjusted")
    assert res.dropped.set_index("ticker")["reason"]["SPY"].startswith("abnormal returns are zero on every")


def test_an_exact_linear_copy_has_zero_residual_variance_and_is_dropped(rets):
    events = pd.DataFrame({"ticker": ["NVDA", "LEVERED"], "date": ["2025-05-13"] * 2})
    levered = rets.assign(LEVERED=0.0001 + 2 * rets["SPY"])  # a 2x ETF with no tracking error
    with pytest.warns(es.DroppedFirmEventsWarning):
        res = fit(events, levered, market=["SOXX", "SPY"], model="multi-index")
    assert res.dropped.set_index("ticker")["reason"]["LEVERED"].startswith("zero residual variance")
    assert res.firm_events["ticker"].tolist() == ["NVDA"]


# ---- class 6: values that look like data ---------------------------------------------------------------


def test_an_infinite_return_names_ticker_date_and_fix(rets):
    bad = rets.copy()
    bad.loc["2025-03-03", "AMD"] = np.inf
    with pytest.raises(ValueError, match=r"'AMD' on 2025-03-03 is inf.*replace\(\[np\.inf, -np\.inf\], np\.nan\)"):
        fit(EVENT, bad)


def test_returns_in_percent_are_not_called_prices(rets):
    with pytest.raises(ValueError, match=r"looks like returns in percent.*'NVDA'.*Divide by 100"):
        fit(EVENT, rets * 100)
    with pytest.raises(ValueError, match=r"looks like prices.*no negative value"):
        fit(EVENT, (1 + rets.fillna(0)).cumprod() * 100)


def test_integer_dates_are_refused_with_the_conversion(rets):
    events = EVENT.assign(date=[20250513, 20250513])
    with pytest.raises(TypeError, match=r"'date' column holds numbers \(20250513\).*format='%Y%m%d'"):
        fit(events, rets)
    with pytest.raises(TypeError, match=r"'start' parameter .* the number 20250101"):
        CsvSource(".").get_prices("NVDA", 20250101, "2025-05-30")


def test_a_lower_case_ticker_is_dropped_with_the_spelling_that_exists(rets):
    events = pd.DataFrame({"ticker": ["nvda", "AMD"], "date": ["2025-05-13"] * 2})
    with pytest.warns(es.DroppedFirmEventsWarning):
        res = fit(events, rets)
    assert "'nvda' -> 'NVDA'" in res.dropped.set_index("ticker")["reason"]["nvda"]
    with pytest.raises(KeyError, match=r"'spy' -> 'SPY'"):
        fit(EVENT, rets, market="spy")


def test_a_gap_inside_the_event_window_is_named(rets):
    gap = rets.copy()
    gap.loc["2025-05-15", "NVDA"] = np.nan
    with pytest.warns(es.DataQualityWarning, match=r"NVDA \(day 0 2025-05-13\) on 2025-05-15 \(day \+2, no return\)"):
        res = fit(EVENT, gap)
    car = res.car((-5, 5)).set_index("ticker")["car"]
    assert np.isnan(car["NVDA"]) and np.isfinite(car["AMD"])
    assert np.isfinite(res.car((-1, 1)).set_index("ticker")["car"]["NVDA"])


def test_a_latin1_catalog_names_the_file(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_bytes("id,date,session,title\nx,2025-05-13,pre,Décision\n".encode("latin-1"))
    with pytest.raises(es.EventCatalogError, match=r"mine\.csv: not UTF-8 text.*b'\\xe9'.*CSV UTF-8"):
        es.load_events(path)


# ---- class 7: comparisons say what differs --------------------------------------------------------------


def test_compare_names_different_windows_and_models_in_the_table(rets):
    wide = fit(EVENT, rets, event_window=(-5, 5))
    narrow = fit(EVENT, rets, event_window=(-1, 1))
    side = es.compare({"wide": wide, "narrow": narrow})
    assert list(side.columns.get_level_values(0).unique()) == ["wide [CAR(-5,+5)]", "narrow [CAR(-1,+1)]"]
    same = es.compare({"wide": wide, "narrow": narrow}, window=(-1, 1))
    assert list(same.columns.get_level_values(0).unique()) == ["wide", "narrow"]  # one window: nothing to say
    adjusted = fit(EVENT, rets, model="market-adjusted", event_window=(-1, 1))
    models = es.compare({"a": narrow, "b": adjusted})
    assert list(models.columns.get_level_values(0).unique()) == ["a [market model]", "b [market-adjusted model]"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.SessionAssumptionWarning)
        pre = fit(EVENT.assign(session="unknown"), rets, unknown_session="pre", event_window=(-1, 1))
        post = fit(EVENT.assign(session="unknown"), rets, unknown_session="post", event_window=(-1, 1))
    rules = es.compare({"pre": pre, "post": post})
    assert list(rules.columns.get_level_values(0).unique()) == ["pre [day 0 pre]", "post [day 0 post]"]


def test_the_command_line_reads_a_negative_window_after_a_space():
    from eventstudy.cli import build_parser

    args = build_parser().parse_args(
        ["run", "--window", "-1,1", "--event-window", "-5,5", "--estimation-window", "-250,-11"]
    )
    assert args.windows == [(-1, 1)] and args.event_window == (-5, 5) and args.estimation_window == (-250, -11)


def test_the_command_line_names_an_empty_benchmark_in_the_market_option(capsys):
    from eventstudy.cli import main

    assert main(["run", "--market", "SPY+", "--prices-dir", "."]) == 2
    err = capsys.readouterr().err
    assert "--market 'SPY+' has an empty ticker beside '+'" in err and "'tickers' parameter" not in err
