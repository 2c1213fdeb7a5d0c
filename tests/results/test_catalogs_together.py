"""Contamination checks against both built-in catalogs and a user's own file at once."""

from __future__ import annotations

import warnings

import pandas as pd

import eventstudy as es

H20 = "nvda-h20-license-charge-2025-04-15"


def test_contamination_sees_events_of_every_catalog(tmp_path, prices_dir):
    mine = tmp_path / "mine.csv"
    mine.write_text("id,date,session\nmy-earnings-2025-02-26,2025-02-26,post\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.EventStudyWarning)
        catalog = es.load_events(["export-controls", "trade-policy", mine])
        events = catalog[catalog["id"] == H20]
        res = es.EventStudy(
            events, tickers=["NVDA"], source=es.CsvSource(prices_dir), market="SPY", catalog=catalog
        ).fit()
    found = set(res.firm_events["contaminated_by"].iloc[0])
    # the estimation window (-250, -11) before day 0 2025-04-16 runs from April 2024 to late March 2025: its
    # bounds counted in the price file's own sessions, then every catalog event whose day 0 falls in it
    sessions = pd.DatetimeIndex(pd.read_csv(prices_dir / "NVDA.csv", usecols=["Date"])["Date"])
    at = sessions.get_loc(pd.Timestamp("2025-04-16"))
    start, end = sessions[at - 250], sessions[at - 11]
    params = res.params.iloc[0]
    assert (params["estimation_start"], params["estimation_end"]) == (start, end)
    inside = catalog[(catalog["day0"] >= start) & (catalog["day0"] <= end)]
    assert found == set(inside["id"])
    assert "ieepa-fentanyl-tariffs-2025-02-01" in found  # trade-policy
    assert "bis-ai-diffusion-rule-2025-01-13" in found  # export-controls
    assert "my-earnings-2025-02-26" in found  # the user's own file
