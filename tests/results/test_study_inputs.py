"""How a study treats its inputs: unknown sessions, late-listed tickers, tickers a source lacks, selections."""

from __future__ import annotations

import pandas as pd
import pytest

import eventstudy as es

RESCISSION = "bis-rescinds-diffusion-huawei-guidance-2025-05-13"  # release session unknown


@pytest.fixture(scope="module")
def rets(prices_dir):
    with pytest.warns(es.DataQualityWarning, match="ARM: the data cover 2023-09-14"):  # listed in 2023
        prices = es.CsvSource(prices_dir).get_prices(["NVDA", "ARM", "SPY"], "2021-04-12", "2025-06-30")
    return es.returns(prices)


def test_unknown_session_rule_of_the_study_applies_to_a_catalog(catalog, rets):
    event = catalog[catalog["id"] == RESCISSION]
    early = es.EventStudy(event, rets, tickers=["NVDA"], market="SPY").fit()
    late = es.EventStudy(event, rets, tickers=["NVDA"], market="SPY", unknown_session="post").fit()
    assert early.firm_events.loc[0, "day0"] == pd.Timestamp("2025-05-13")
    assert late.firm_events.loc[0, "day0"] == pd.Timestamp("2025-05-14")  # the next session


def test_an_event_before_a_listing_names_the_first_return(catalog, rets):
    event = catalog[catalog["id"] == "bis-rule-update-2023-10-17"]  # ARM listed on 2023-09-14
    with pytest.warns(es.DroppedFirmEventsWarning):
        res = es.EventStudy(event, rets, tickers=["NVDA", "ARM"], market="SPY").fit()
    # ARM's first close is 2023-09-14 (PROVENANCE.md), so its first return is on the next session, 2023-09-15,
    # 12 sessions before the estimation window ends on day -11 (2023-10-02)
    assert res.dropped.set_index("ticker").loc["ARM", "reason"] == (
        "12 estimation-window returns, fewer than the minimum 120; the ticker's returns start on 2023-09-15"
    )
    early = catalog[catalog["id"] == "bloomberg-fdpr-allies-report-2024-07-17"].assign(date="2023-08-01", day0=pd.NaT)
    early = early.drop(columns="day0")
    with pytest.warns(es.DroppedFirmEventsWarning):
        res = es.EventStudy(early, rets, tickers=["NVDA", "ARM"], market="SPY").fit()
    assert res.dropped.set_index("ticker").loc["ARM", "reason"] == (
        "no return on day 0; the ticker's returns start on 2023-09-15"
    )


def test_a_ticker_the_source_lacks_is_a_recorded_drop(catalog, prices_dir):
    event = catalog[catalog["id"] == RESCISSION]
    study = es.EventStudy(event, source=es.CsvSource(prices_dir), tickers=["NVDA", "NOPE"], market="SPY")
    with pytest.warns(es.DroppedFirmEventsWarning, match="1 of 2"):
        res = study.fit()
    assert res.firm_events["ticker"].tolist() == ["NVDA"]
    assert res.dropped.loc[0, "reason"].startswith("no prices for this ticker: no file NOPE.csv")


def test_a_benchmark_the_source_lacks_is_an_error(catalog, prices_dir):
    event = catalog[catalog["id"] == RESCISSION]
    study = es.EventStudy(event, source=es.CsvSource(prices_dir), tickers=["NVDA"], market="NOPE")
    with pytest.raises(es.DataSourceError, match="NOPE"):
        study.fit()


def test_select_can_ignore_ids_another_study_did_not_estimate(catalog, rets):
    events = catalog[catalog["id"].isin([RESCISSION, "report-rescind-diffusion-rule-2025-05-07"])]
    res = es.EventStudy(events, rets, tickers=["NVDA"], market="SPY").fit()
    with pytest.raises(KeyError, match="missing='ignore'"):
        res.select(event_ids=[RESCISSION, "huawei-entity-list-2019-05-15"])
    picked = res.select(event_ids=[RESCISSION, "huawei-entity-list-2019-05-15"], missing="ignore")
    assert picked.firm_events["event_id"].tolist() == [RESCISSION]
    assert picked.car((0, 0))["car"].item() == res.car((0, 0)).set_index("event_id").loc[RESCISSION, "car"]


def test_a_calendar_and_a_contradicting_unknown_session_are_refused(catalog, rets):
    event = catalog[catalog["id"] == RESCISSION]
    calendar = es.TradingCalendar(unknown_session="pre")
    with pytest.raises(ValueError, match="unknown_session"):
        es.EventStudy(event, rets, tickers=["NVDA"], market="SPY", calendar=calendar, unknown_session="post").fit()
    late = es.EventStudy(event, rets, tickers=["NVDA"], market="SPY",
                         calendar=es.TradingCalendar(unknown_session="post")).fit()  # fmt: skip
    assert late.firm_events.loc[0, "day0"] == pd.Timestamp("2025-05-14")


def test_select_keeps_the_dropped_rows_of_the_selected_tickers_only(catalog, rets):
    event = catalog[catalog["id"] == "bis-rule-update-2023-10-17"]
    with pytest.warns(es.DroppedFirmEventsWarning):
        res = es.EventStudy(event, rets, tickers=["NVDA", "ARM"], market="SPY").fit()
    assert res.dropped["ticker"].tolist() == ["ARM"]
    assert res.select(tickers=["NVDA"]).dropped.empty
    assert res.select(event_ids=["bis-rule-update-2023-10-17"]).dropped["ticker"].tolist() == ["ARM"]


def test_a_factor_model_runs_once_in_the_report_not_once_per_benchmark():
    from eventstudy.report import DEFAULT_REPORT, with_overrides

    assert [label for label, _, _ in with_overrides(DEFAULT_REPORT, model="ff3").specifications] == ["ff3"]
    labels = [label for label, _, _ in DEFAULT_REPORT.specifications]
    assert labels == ["vs SPY", "vs QQQ", "vs SOXX", "vs SPY+SOXX"]
    models = [model for _, _, model in DEFAULT_REPORT.specifications]
    assert models == ["market", "market", "market", "multi-index"]
