"""The summary's facts line counts the firm-events of every design right."""

from __future__ import annotations

import pandas as pd

from eventstudy.results.results import firm_event_facts


def test_facts_line_counts_a_cross_and_a_firm_event_design():
    cross = pd.DataFrame({"event_id": ["a", "a", "b", "b"], "ticker": ["X", "Y", "X", "Y"]})
    assert firm_event_facts(cross, 0) == "4 estimated (2 events x 2 tickers), 0 dropped"
    # each event for its own firm: 3 events, 2 tickers, not "3 events x 2 tickers"
    own = pd.DataFrame({"event_id": ["a", "b", "c"], "ticker": ["X", "Y", "X"]})
    assert firm_event_facts(own, 1) == "3 estimated over 3 events and 2 tickers (1 per event), 1 dropped"
    ragged = pd.DataFrame({"event_id": ["a", "a", "b"], "ticker": ["X", "Y", "X"]})
    assert firm_event_facts(ragged, 1) == "3 estimated over 2 events and 2 tickers (1-2 per event), 1 dropped"
