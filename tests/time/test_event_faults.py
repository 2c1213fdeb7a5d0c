"""Event times that pass unnoticed (issue 21): DST gaps and overlaps, a day 0 far from its event's date.

Worked by hand: on 2025-03-09 New York clocks jumped from 02:00 to 03:00 (02:30 never happened); on
2025-11-02 they went back from 02:00 to 01:00 (01:30 happened twice, at -04:00 and at -05:00).
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import eventstudy as es
from eventstudy.exceptions import SessionAssumptionWarning


def write(tmp_path, text):
    path = tmp_path / "e.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("clock", "message"),
    [
        ("2025-03-09,02:30", r"2025-03-09 02:30 does not exist in America/New_York"),
        ("2025-11-02,01:30", r"2025-11-02 01:30 happened twice in America/New_York"),
    ],
)
def test_a_time_in_a_dst_gap_or_overlap_is_refused_naming_the_row(tmp_path, clock, message):
    path = write(
        tmp_path,
        f"id,date,session,time,timezone\nfine,2025-05-13,,10:00,America/New_York\nedge,{clock[:10]},,{clock[11:]},America/New_York\n",
    )
    with pytest.raises(ValueError, match=r"edge.*columns 'time' and 'timezone': " + message) as info:
        es.load_events(path)
    assert "row 2 (id 'edge')" in str(info.value)  # the second event of the file (its data rows count from 1)


def test_the_hour_after_the_dst_change_still_reads(tmp_path):
    events = es.load_events(write(tmp_path, "id,date,session,time,timezone\nx,2025-03-09,,03:30,America/New_York\n"))
    assert events.loc[0, "timestamp"] == pd.Timestamp("2025-03-09T07:30:00Z")  # 03:30 EDT = UTC-4


def test_a_day0_five_sessions_before_the_date_is_warned(tmp_path):
    # 2025-05-13 (Tue): five sessions before is 2025-05-06 (Tue), seven calendar days
    path = write(tmp_path, "id,date,session,day0\nfar,2025-05-13,post,2025-05-06\nnear,2025-05-09,post,2025-05-12\n")
    with pytest.warns(SessionAssumptionWarning, match=r"1 given day 0\(s\) lie more than 5 calendar days") as seen:
        events = es.load_events(path)
    text = " ".join(str(w.message) for w in seen)
    assert "far" in text and "day 0 2025-05-06, -7 days from its date 2025-05-13" in text
    assert "near" not in text.split("calendar days", 1)[1].split(". Check")[0]
    assert events.set_index("id").loc["far", "day0"] == pd.Timestamp("2025-05-06")  # used as given


def test_a_day0_after_a_long_weekend_is_not_warned(tmp_path):
    # Friday 2025-05-23 after the close; Monday 2025-05-26 was Memorial Day: Tuesday, 4 calendar days later
    path = write(tmp_path, "id,date,session,day0\nx,2025-05-23,post,2025-05-27\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SessionAssumptionWarning)
        es.load_events(path)
