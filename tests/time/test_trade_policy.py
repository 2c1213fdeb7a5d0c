"""The built-in ``trade-policy`` catalog against the research file it was built from, stacking catalogs, and the
signs of signed pooling (``event_signs``)."""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd
import pytest

from eventstudy import EventCatalogError, TradingCalendar, list_catalogs, load_events
from eventstudy.time.events import DIRECTION_SIGNS, DIRECTIONS, EVENT_COLUMNS, TRADE_CATEGORIES, event_signs


@pytest.fixture(scope="module")
def trade() -> pd.DataFrame:
    return load_events("trade-policy")


@pytest.fixture(scope="module")
def research(events_dir) -> pd.DataFrame:
    """The shared research file, read with plain pandas."""
    return pd.read_csv(events_dir / "trade_policy.csv", dtype=str, keep_default_na=False).set_index("id")


def test_listed_and_loaded_by_name(trade):
    assert "trade-policy" in list_catalogs()
    assert len(trade) == 40
    assert tuple(trade.columns) == EVENT_COLUMNS
    assert trade.attrs["catalog"] == "trade-policy"
    assert trade["id"].is_unique


def test_ids_dates_sessions_sources_and_categories_equal_the_research_file(trade, research):
    ours = trade.set_index("id")
    assert sorted(ours.index) == sorted(research.index)
    for event_id, row in research.iterrows():
        mine = ours.loc[event_id]
        assert f"{mine['date']:%Y-%m-%d}" == row["date"], event_id
        assert mine["session"] == row["session"], event_id
        assert mine["category"] == row["category"], event_id
        assert mine["sources"] == tuple(s for s in (row["source_1"], row["source_2"]) if s), event_id
        assert mine["sources"], f"{event_id} has no source"
        assert mine["affected"] == tuple(a for a in row["affected"].split(";") if a), event_id


def test_descriptions_are_our_own_words(trade, research):
    ours = trade.set_index("id")["description"]
    for event_id, row in research.iterrows():
        assert ours[event_id] and ours[event_id] != row["description"], event_id
        # not a light edit of the source's sentence either
        ratio = difflib.SequenceMatcher(None, ours[event_id], row["description"]).ratio()
        assert ratio < 0.7, (event_id, ratio)


def test_counts_by_category_are_the_readme_counts(trade):
    # README of the shared events folder: tariff 10, industrial-policy 9, trade-deal 8, retaliation 7,
    # tariff-relief 4, investigation 2; sessions pre 13, intraday 11, post 5, unknown 11
    counts = trade["category"].value_counts().to_dict()
    assert counts == {
        "tariff": 10, "industrial-policy": 9, "trade-deal": 8, "retaliation": 7, "tariff-relief": 4,
        "investigation": 2,
    }  # fmt: skip
    assert set(counts) == set(TRADE_CATEGORIES)
    assert trade["session"].value_counts().to_dict() == {"pre": 13, "unknown": 11, "intraday": 11, "post": 5}


def test_directions_follow_the_documented_coding(trade):
    assert set(trade["direction"]) <= set(DIRECTIONS)
    by_id = trade.set_index("id")
    expected = {"tariff": "tightening", "investigation": "tightening", "retaliation": "retaliation",
                "tariff-relief": "easing", "trade-deal": "easing", "industrial-policy": "mixed"}  # fmt: skip
    # README caveats: the 0% Section 301 action may read as relief; the IEEPA ruling is relief and escalation
    exceptions = {"s301-legacy-chip-action-2025-12-23": "mixed", "scotus-ieepa-ruling-2026-02-20": "mixed"}
    for event_id, row in by_id.iterrows():
        assert row["direction"] == exceptions.get(event_id, expected[row["category"]]), event_id


def test_day0_rule(trade):
    cal = TradingCalendar()
    day0 = trade.set_index("id")["day0"]
    assert all(cal.is_session(d) for d in day0)
    assert day0["liberation-day-tariffs-2025-04-02"] == pd.Timestamp("2025-04-03")  # after the close
    assert day0["trump-tweets-tariff-hike-2019-05-05"] == pd.Timestamp("2019-05-06")  # a Sunday
    assert day0["reciprocal-tariff-pause-2025-04-09"] == pd.Timestamp("2025-04-09")  # intraday


def test_category_filter_as_a_user_would(trade):
    tariffs = trade[trade["category"] == "tariff"]
    assert len(tariffs) == 10 and "liberation-day-tariffs-2025-04-02" in set(tariffs["id"])


def test_unknown_catalog_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"export-controls, trade-policy"):
        load_events("trade-polcy")


# -- several catalogs at once --------------------------------------------------------------------------------
def test_catalogs_stack_with_a_users_file(tmp_path, trade):
    mine = tmp_path / "mine.csv"
    mine.write_text("id,date,session\nmy-event-2025-04-07,2025-04-07,pre\n", encoding="utf-8")
    both = load_events(["export-controls", "trade-policy", mine])
    exports = load_events("export-controls")
    assert len(both) == len(exports) + len(trade) + 1
    assert set(both["id"]) == set(exports["id"]) | set(trade["id"]) | {"my-event-2025-04-07"}
    assert both.sort_values(["date", "id"]).index.equals(both.index)
    assert both.attrs["catalog"].startswith("export-controls+trade-policy+")


def test_stacked_catalogs_refuse_a_shared_id(tmp_path):
    mine = tmp_path / "mine.csv"
    mine.write_text("id,date,session\ngeneva-truce-2025-05-12,2025-05-12,pre\n", encoding="utf-8")
    with pytest.raises(EventCatalogError, match=r"geneva-truce-2025-05-12.*'trade-policy'.*mine\.csv"):
        load_events(["trade-policy", mine])


# -- signs -------------------------------------------------------------------------------------------------
def test_event_signs_by_the_map_and_a_sign_column():
    table = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "direction": ["easing", "tightening", "retaliation", "mixed"],
            "sign": [None, None, None, "+1"],
        }  # fmt: skip
    )
    assert event_signs(table).tolist() == [1, -1, -1, 1]
    assert DIRECTION_SIGNS == {"easing": 1, "tightening": -1, "retaliation": -1}
    assert event_signs(table.assign(sign=[-1, np.nan, 1.0, -1])).tolist() == [-1, -1, 1, -1]


def test_event_signs_name_the_row():
    table = pd.DataFrame({"event_id": ["a", "b"], "ticker": ["NVDA", "AMD"], "direction": ["easing", "mixed"]})
    with pytest.raises(ValueError, match=r"'direction' column, row 2 \(event 'b', ticker 'AMD'\): 'mixed'"):
        event_signs(table, id_column="event_id")
    with pytest.raises(ValueError, match=r"'sign' column, row 1 \(event 'a'.*got '2'"):
        event_signs(table.assign(sign=["2", "1"]), id_column="event_id")
    with pytest.raises(KeyError, match="direction"):
        event_signs(pd.DataFrame({"id": ["a"]}))


def test_a_direction_outside_the_coding_is_refused_naming_the_row(tmp_path):
    # "-1" meant as a sign would leave the event without one, and signed pooling would quietly stay off
    mine = tmp_path / "mine.csv"
    mine.write_text(
        "id,date,session,direction\nup-2025-04-07,2025-04-07,pre,Easing\ndown-2025-04-08,2025-04-08,pre,-1\n",
        encoding="utf-8",
    )
    with pytest.raises(
        EventCatalogError, match=r"row 2 \(id 'down-2025-04-08'\), column 'direction'.*got '-1'.*'sign'"
    ):
        load_events(mine)
    mine.write_text("id,date,session,direction\nup-2025-04-07,2025-04-07,pre, Easing \n", encoding="utf-8")
    assert load_events(mine)["direction"].tolist() == ["easing"]
