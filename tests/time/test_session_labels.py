"""A known time decides the label: the session of a timestamped event comes from its instant, and
"unknown" (with its warning) is left to events with no time."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import eventstudy as es
from eventstudy.exceptions import SessionAssumptionWarning
from eventstudy.time.eventtime import session_label, session_of


@pytest.mark.parametrize(
    ("instant", "session"),
    [
        ("2022-10-07T16:30:00-04:00", "post"),  # the README's global example: after the 16:00 ET close
        ("2022-10-07T20:30:00Z", "post"),  # the same instant in UTC
        ("2025-05-13T09:29:00-04:00", "pre"),  # a minute before the open
        ("2025-05-13T09:30:00-04:00", "intraday"),  # the open itself is in the session
        ("2025-05-13T15:59:00-04:00", "intraday"),
        ("2025-05-13T16:00:00-04:00", "post"),  # the close itself is after it
        ("2025-01-15T00:00:00-05:00", "pre"),  # midnight starts the day's pre interval (winter time)
        ("2025-04-16T08:00:00+09:00", "post"),  # Tokyo morning = 19:00 ET the day before
    ],
)
def test_session_of_an_instant_on_the_us_clock(instant, session):
    assert session_of(pd.DatetimeIndex([pd.Timestamp(instant)]))[0] == session


def test_no_time_known_is_unknown():
    assert session_of(pd.DatetimeIndex([pd.NaT], tz="UTC"))[0] == "unknown"


def _load(tmp_path, text: str, **kwargs) -> tuple[pd.DataFrame, list[warnings.WarningMessage]]:
    path = tmp_path / "events.csv"
    path.write_text(text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        events = es.load_events(path, **kwargs)
    return events, [w for w in caught if issubclass(w.category, SessionAssumptionWarning)]


def test_a_timestamp_with_an_empty_session_takes_its_session_and_no_warning(tmp_path):
    events, caught = _load(
        tmp_path,
        "id,date,session,timestamp\n"
        "oct7,2022-10-07T16:30:00-04:00,,\n"  # the README's example: the time in the date column
        "h20,2025-04-15,unknown,2025-04-15T16:15:00-04:00\n"  # 'unknown' beside a timestamp
        "plain,2025-05-13,,\n",  # no time at all
    )
    by_id = events.set_index("id")
    assert by_id.loc["oct7", "session"] == "post" and by_id.loc["h20", "session"] == "post"
    assert by_id.loc["plain", "session"] == "unknown"
    # day 0: the session after a post release; the unknown one on the date (unknown_session='pre')
    assert by_id.loc["oct7", "day0"] == pd.Timestamp("2022-10-10")
    assert by_id.loc["h20", "day0"] == pd.Timestamp("2025-04-16")
    labels = session_label(events).set_axis(events["id"])
    assert labels["oct7"] == "post, 16:30 EDT" and labels["h20"] == "post, 16:15 EDT"
    assert labels["plain"] == "unknown"
    # the one warning names only the event whose time is unknown
    assert len(caught) == 1
    assert "plain (2025-05-13)" in str(caught[0].message) and "oct7" not in str(caught[0].message)
    assert "h20" not in str(caught[0].message)


def test_a_study_of_the_derived_session_places_day0_where_the_timestamp_does(tmp_path):
    """Re-reading the events (date + the session taken from the timestamp + the timestamp) gives the same day 0,
    without a warning that the session disagrees with the timestamp."""
    events, _ = _load(tmp_path, "id,date,session,timestamp\nh20,2025-04-15,,2025-04-15T16:15:00-04:00\n")
    again = events[["id", "date", "session", "timestamp"]].assign(timestamp=lambda f: f["timestamp"].astype(str))
    path = tmp_path / "again.csv"
    again.assign(date=again["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SessionAssumptionWarning)
        reread = es.load_events(path)
    assert reread["day0"].tolist() == events["day0"].tolist() == [pd.Timestamp("2025-04-16")]


def test_label_of_a_frame_without_timestamps_is_the_session():
    frame = pd.DataFrame({"session": ["pre", "unknown"]})
    assert session_label(frame).tolist() == ["pre", "unknown"]


def test_run_offers_the_other_unknown_session_rule_only(capsys, tmp_path, prices_dir):
    from eventstudy.cli import main

    path = tmp_path / "e.csv"
    path.write_text("id,date,session\nplain,2025-05-13,\n")
    base = ["run", "--catalog", str(path), "--tickers", "NVDA", "--prices-dir", str(prices_dir), "--format", "csv"]
    assert main(base) == 0
    err = capsys.readouterr().err
    assert "plain (day 0 2025-05-13, or 2025-05-14 with --unknown-session post)" in err
    assert main([*base, "--unknown-session", "post"]) == 0
    err = capsys.readouterr().err
    assert "plain (day 0 2025-05-14, or 2025-05-13 with --unknown-session pre)" in err
    assert "--unknown-session post" not in err


def test_the_readme_global_example_takes_its_session_from_the_timestamp(prices_dir):
    """es.EventStudy on a timestamp with an empty session: the firm-event's session is 'post', no warning."""
    prices = es.CsvSource(prices_dir).get_prices(["NVDA", "SPY"], "2021-06-01", "2022-11-30")
    event = pd.DataFrame({"id": ["oct7"], "date": ["2022-10-07T16:30:00-04:00"], "session": [""]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", SessionAssumptionWarning)
        res = es.EventStudy(event, es.returns(prices), tickers=["NVDA"], market="SPY").fit()
    row = res.firm_events.iloc[0]
    assert row["session"] == "post" and row["day0"] == pd.Timestamp("2022-10-10")
