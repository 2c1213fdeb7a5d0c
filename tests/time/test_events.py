"""load_events(): the built-in export-control catalog and user event files, one schema for both."""

from __future__ import annotations

import difflib
import re

import pandas as pd
import pytest

from eventstudy import EventCatalogError, SessionAssumptionWarning, TradingCalendar, list_catalogs, load_events
from eventstudy.time.events import CATEGORIES, DIRECTIONS, EVENT_COLUMNS


@pytest.fixture(scope="module")
def shared(events_dir) -> pd.DataFrame:
    """The research file the catalog was built from, read with plain pandas."""
    return pd.read_csv(events_dir / "export_controls.csv", dtype=str, keep_default_na=False).set_index("id")


def _readme_dates(events_dir, label: str) -> list[str]:
    text = (events_dir / "README.md").read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if label in line)
    return re.findall(r"\d{4}-\d{2}-\d{2}", line)


# -- the built-in catalog -------------------------------------------------------------------------------------
def test_list_catalogs():
    assert list_catalogs() == ["export-controls", "trade-policy"]


def test_columns_types_and_order(catalog):
    assert tuple(catalog.columns) == EVENT_COLUMNS
    assert isinstance(catalog.index, pd.RangeIndex)
    assert catalog["date"].dtype.kind == "M" and catalog["day0"].dtype.kind == "M"
    assert (catalog["date"] == catalog["date"].dt.normalize()).all()
    assert all(isinstance(v, tuple) for v in catalog["affected"])
    assert all(isinstance(v, tuple) and all(isinstance(u, str) for u in v) for v in catalog["sources"])
    assert catalog.attrs["catalog"] == "export-controls"
    assert catalog.sort_values(["date", "id"]).index.equals(catalog.index)


def test_ids_are_unique(catalog):
    assert catalog["id"].is_unique
    assert (catalog["id"].str.len() > 0).all()


def test_every_day0_is_an_nyse_session_on_or_after_the_date(catalog):
    cal = TradingCalendar()
    assert all(cal.is_session(day) for day in catalog["day0"])
    assert (catalog["day0"] >= catalog["date"]).all()
    post = catalog["session"] == "post"
    assert (catalog.loc[post, "day0"] > catalog.loc[post, "date"]).all()


def test_known_day0s(catalog):
    day0 = catalog.set_index("id")["day0"]
    assert day0["bloomberg-ai-diffusion-tiers-report-2025-01-08"] == pd.Timestamp("2025-01-10")  # Jan 9 closed
    assert day0["nvda-h20-license-charge-2025-04-15"] == pd.Timestamp("2025-04-16")
    assert day0["bloomberg-milder-sme-rules-report-2024-11-27"] == pd.Timestamp("2024-11-29")  # Thanksgiving
    assert day0["bis-chinese-parent-guidance-2026-05-31"] == pd.Timestamp("2026-06-01")  # Sunday, pre


def test_unknown_session_post_moves_only_unknown_events(catalog):
    with pytest.warns(SessionAssumptionWarning, match="unknown_session='post'"):
        later = load_events(unknown_session="post")
    unknown = catalog["session"] == "unknown"
    assert unknown.sum() > 0
    assert (later.loc[unknown, "day0"] > catalog.loc[unknown, "day0"]).all()
    assert later.loc[~unknown, "day0"].equals(catalog.loc[~unknown, "day0"])


def test_facts_match_the_shared_research_file(catalog, shared):
    ours = catalog.set_index("id")
    assert sorted(ours.index) == sorted(shared.index)
    theirs = shared.loc[ours.index]
    assert list(ours["date"].dt.strftime("%Y-%m-%d")) == list(theirs["date"])
    assert list(ours["session"]) == list(theirs["session"])
    assert list(ours["time_et"]) == list(theirs["time_et"])
    assert list(ours["issuer"]) == list(theirs["issuer"])
    assert [";".join(a) for a in ours["affected"]] == list(theirs["affected"])
    expected_sources = [tuple(u for u in (a, b) if u) for a, b in zip(theirs["source_1"], theirs["source_2"])]
    assert list(ours["sources"]) == expected_sources


@pytest.mark.parametrize("column", ["title", "description", "confounders"])
def test_text_is_rewritten_not_copied(catalog, shared, column):
    for event_id, ours in catalog.set_index("id")[column].items():
        theirs = shared.loc[event_id, column]
        assert ours.strip(), f"{event_id}: empty {column}"
        assert ours != theirs, f"{event_id}: {column} copied verbatim"
        similarity = difflib.SequenceMatcher(None, ours, theirs).ratio()
        assert similarity < 0.9, f"{event_id}: {column} too close to the shared text ({similarity:.2f})"


def test_categories_and_directions_use_the_coded_values(catalog):
    assert set(catalog["category"]) == set(CATEGORIES)
    assert set(catalog["direction"]) <= set(DIRECTIONS)
    media = catalog["issuer"].str.startswith("Media report")
    assert (catalog.loc[media, "category"] == "media-report").all()
    assert (catalog.loc[~media, "category"] != "media-report").all()


def test_readme_easing_events_are_coded_easing(catalog, events_dir):
    dates = _readme_dates(events_dir, "**Sign of the event.**")
    assert len(dates) == 10
    for day in dates:
        rows = catalog[catalog["date"] == pd.Timestamp(day)]
        assert len(rows) == 1, day
        assert rows["direction"].iloc[0] == "easing", rows["id"].iloc[0]


def test_readme_china_retaliation_events_are_china_actions(catalog, events_dir):
    dates = _readme_dates(events_dir, "**China retaliation rows.**")
    assert len(dates) == 10
    for day in dates:
        rows = catalog[(catalog["date"] == pd.Timestamp(day)) & (catalog["category"] == "china-action")]
        assert len(rows) == 1, day
        assert rows["direction"].iloc[0] == "retaliation", rows["id"].iloc[0]


def test_unknown_catalog_name_lists_the_built_ins():
    with pytest.raises(ValueError, match=r"export-controls.*existing"):
        load_events("no-such-catalog")


# -- user files --------------------------------------------------------------------------------------------------
CSV = """id,date,session,title,affected,sources,desk
b-event,2025-01-08,post,Leak,NVDA;AMD,https://a.example;https://b.example,rates
a-event,2025-04-15,pre,Rule,NVDA,,equities
"""

YAML = """events:
  - id: b-event
    date: 2025-01-08
    session: post
    title: Leak
    affected: [NVDA, AMD]
    sources:
      - https://a.example
      - https://b.example
    desk: rates
  - id: a-event
    date: "2025-04-15"
    session: pre
    title: Rule
    affected: NVDA
    desk: equities
"""


def test_csv_and_yaml_give_the_same_frame(tmp_path):
    (tmp_path / "events.csv").write_text(CSV, encoding="utf-8")
    (tmp_path / "events.yaml").write_text(YAML, encoding="utf-8")
    from_csv = load_events(tmp_path / "events.csv")
    from_yaml = load_events(str(tmp_path / "events.yaml"))
    pd.testing.assert_frame_equal(from_csv, from_yaml)
    assert list(from_csv.columns) == [*EVENT_COLUMNS, "desk"]  # extra column kept, last
    assert list(from_csv["id"]) == ["b-event", "a-event"]  # sorted by date
    first = from_csv.iloc[0]
    assert first["day0"] == pd.Timestamp("2025-01-10")
    assert first["affected"] == ("NVDA", "AMD")
    assert first["sources"] == ("https://a.example", "https://b.example")
    assert from_csv.iloc[1]["sources"] == ()
    assert from_csv["description"].eq("").all() and from_csv["category"].eq("").all()
    assert from_csv.attrs["catalog"] == str(tmp_path / "events.csv")


def test_yaml_plain_list_and_json(tmp_path):
    (tmp_path / "e.yml").write_text("- {id: x, date: 2025-05-13, session: intraday}\n", encoding="utf-8")
    (tmp_path / "e.json").write_text('[{"id": "x", "date": "2025-05-13", "session": "intraday"}]', encoding="utf-8")
    assert load_events(tmp_path / "e.yml")["day0"].iloc[0] == pd.Timestamp("2025-05-13")
    pd.testing.assert_frame_equal(load_events(tmp_path / "e.yml"), load_events(tmp_path / "e.json"))


def test_the_shared_research_file_loads_as_a_user_file(events_dir, catalog):
    with pytest.warns(SessionAssumptionWarning):
        research = load_events(events_dir / "export_controls.csv")
    assert list(research["id"]) == list(catalog["id"])
    assert list(research["sources"]) == list(catalog["sources"])  # source_1, source_2 merged
    assert research["day0"].equals(catalog["day0"])


def test_empty_session_means_unknown(tmp_path):
    (tmp_path / "e.csv").write_text("id,date,session\nx,2025-05-13,\n", encoding="utf-8")
    with pytest.warns(SessionAssumptionWarning, match=r"x \(2025-05-13\)"):
        events = load_events(tmp_path / "e.csv")
    assert events["session"].iloc[0] == "unknown"


def _schema_error(tmp_path, text: str, name: str = "events.csv") -> str:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(EventCatalogError) as info:
        load_events(tmp_path / name)
    return str(info.value)


def test_bad_session_names_file_row_id_and_column(tmp_path):
    message = _schema_error(tmp_path, "id,date,session\na,2025-01-08,pre\nb,2025-01-09,pre\nx,2025-01-10,evening\n")
    assert message == (
        "events.csv row 3 (id 'x'), column 'session': expected one of pre, intraday, post, unknown; got 'evening'."
    )


def test_bad_date_names_row_and_column(tmp_path):
    message = _schema_error(tmp_path, "id,date,session\na,2025-01-08,pre\nb,08/01/2025,pre\n")
    assert "events.csv row 2 (id 'b'), column 'date'" in message and "'08/01/2025'" in message


def test_missing_id_column_lists_the_columns_found(tmp_path):
    message = _schema_error(tmp_path, "event,date,session\na,2025-01-08,pre\n")
    assert "missing required column(s) 'id'" in message and "Columns found: event, date, session" in message


def test_duplicate_ids_are_named_with_their_rows(tmp_path):
    message = _schema_error(tmp_path, "id,date,session\na,2025-01-08,pre\nb,2025-01-09,pre\na,2025-01-10,post\n")
    assert "column 'id'" in message and "'a' (rows 1, 3)" in message


def test_empty_id_names_the_row(tmp_path):
    message = _schema_error(tmp_path, "id,date,session\na,2025-01-08,pre\n,2025-01-09,pre\n")
    assert "events.csv row 2, column 'id': expected a non-empty string" in message


def test_yaml_schema_errors_name_the_entry(tmp_path):
    message = _schema_error(tmp_path, "- {id: a, date: 2025-01-08, session: later}\n", "events.yaml")
    assert message.startswith("events.yaml row 1 (id 'a'), column 'session'")
    message = _schema_error(tmp_path, "events: {id: a}\n", "bad.yaml")
    assert "expected a list of events" in message


def test_event_outside_the_calendar_names_the_row(tmp_path):
    message = _schema_error(tmp_path, "id,date,session\nok,2025-01-08,pre\nold,1975-03-03,pre\n")
    assert "row 2 (id 'old'), column 'date'" in message and "calendar" in message
    wider = TradingCalendar(start="1970-01-01")
    assert load_events(tmp_path / "events.csv", calendar=wider)["day0"].iloc[0] == pd.Timestamp("1975-03-03")


def test_unknown_session_must_agree_with_the_calendar_given(tmp_path):
    (tmp_path / "e.csv").write_text("id,date,session\nx,2025-01-08,unknown\n", encoding="utf-8")
    post = TradingCalendar(unknown_session="post")
    with pytest.raises(ValueError, match=r"'unknown_session' parameter \('pre'\) contradicts .*'post'"):
        load_events(tmp_path / "e.csv", calendar=post, unknown_session="pre")
    # without unknown_session the calendar's own rule applies: the session after Jan 9 2025 (closed)
    with pytest.warns(SessionAssumptionWarning, match="unknown_session='post'"):
        events = load_events(tmp_path / "e.csv", calendar=post)
    assert events["day0"].iloc[0] == pd.Timestamp("2025-01-10")
    with pytest.warns(SessionAssumptionWarning, match="unknown_session='post'"):
        by_code = load_events(tmp_path / "e.csv", calendar="XNYS", unknown_session="post")
    assert by_code["day0"].iloc[0] == pd.Timestamp("2025-01-10")
    with pytest.raises(TypeError, match="'calendar' parameter"):
        load_events(tmp_path / "e.csv", calendar=42)  # type: ignore[arg-type]


def test_invalid_yaml_json_and_encoding_are_schema_errors(tmp_path):
    message = _schema_error(tmp_path, "- {id: a, date: [unclosed\n", "bad.yaml")
    assert message.startswith("bad.yaml: not valid YAML")
    message = _schema_error(tmp_path, '[{"id": "a",]', "bad.json")
    assert message.startswith("bad.json: not valid JSON")
    (tmp_path / "latin.json").write_bytes('[{"id": "caf\u00e9"}]'.encode("latin-1"))
    with pytest.raises(EventCatalogError, match=r"latin\.json: not UTF-8 text"):
        load_events(tmp_path / "latin.json")


def test_a_missing_yaml_library_is_not_reported_as_bad_yaml(tmp_path, monkeypatch):
    import sys

    (tmp_path / "e.yaml").write_text("- {id: a, date: 2025-01-08, session: pre}\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "yaml", None)  # as if PyYAML were not installed
    with pytest.raises(ImportError):
        load_events(tmp_path / "e.yaml")


def test_unsupported_suffix(tmp_path):
    (tmp_path / "events.txt").write_text("id,date,session\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"suffix must be one of \.csv"):
        load_events(tmp_path / "events.txt")
