"""The summary's facts line counts the firm-events of every design right: its numbers multiply out."""

from __future__ import annotations

import pandas as pd

from eventstudy.results.results import firm_event_facts


def _frame(pairs):
    return pd.DataFrame(pairs, columns=["event_id", "ticker"])


NONE = _frame([])


def test_facts_line_counts_a_cross_and_a_firm_event_design():
    cross = _frame([("a", "X"), ("a", "Y"), ("b", "X"), ("b", "Y")])
    assert firm_event_facts(cross, NONE) == "4 of 4 firm-events estimated (2 events x 2 tickers), 0 dropped"
    # a dropped firm-event of the cross still belongs to the design: 3 of 4, and 2 x 2 multiplies out
    dropped = _frame([("b", "Y")]).assign(reason="too few returns")
    assert firm_event_facts(cross.iloc[:3], dropped) == "3 of 4 firm-events estimated (2 events x 2 tickers), 1 dropped"
    # each event for its own firm: 3 events, 2 tickers, not "3 events x 2 tickers"
    own = _frame([("a", "X"), ("b", "Y"), ("c", "X")])
    assert firm_event_facts(own, _frame([("d", "Y")])) == (
        "3 of 4 firm-events estimated over 4 events and 2 tickers (1 per event), 1 dropped"
    )
    ragged = _frame([("a", "X"), ("a", "Y"), ("b", "X")])
    assert (
        firm_event_facts(ragged, NONE)
        == "3 of 3 firm-events estimated over 2 events and 2 tickers (1-2 per event), 0 dropped"
    )
