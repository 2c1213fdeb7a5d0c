"""TradingCalendar: NYSE sessions, the day-0 rule, counting sessions and aligning data."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy import DataQualityWarning, SessionAssumptionWarning, TradingCalendar
from eventstudy.data.base import NOTES_KEY as DATA_NOTES_KEY
from eventstudy.time.calendar import NOTES_KEY, as_calendar


@pytest.fixture(scope="module")
def cal() -> TradingCalendar:
    return TradingCalendar()


# -- sessions ----------------------------------------------------------------------------------------------
def test_sessions_are_naive_midnight_and_start_in_1990(cal):
    assert cal.name == "XNYS"
    assert cal.sessions.tz is None
    assert (cal.sessions == cal.sessions.normalize()).all()
    assert cal.sessions[0] == pd.Timestamp("1990-01-02")
    assert cal.sessions.is_monotonic_increasing and cal.sessions.is_unique


@pytest.mark.parametrize("code", ["XNYS", "XTKS", "XHKG", "XSHG"])
def test_calendars_equal_exchange_calendars_own(code):
    # eventstudy builds the sessions offset from the holidays of the calendar's span, not 1970-2200
    import exchange_calendars as xcals

    from eventstudy.foundation.xcals import get_calendar

    ours = get_calendar(code, "2018-01-01", "2026-06-30")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = xcals.get_calendar(code, start="2018-01-01", end="2026-06-30")
    assert type(ours) is type(theirs)
    # the index's freq is the offset itself, equal only between the bounds
    pd.testing.assert_frame_equal(ours.schedule, theirs.schedule, check_freq=False)
    assert ours.early_closes.equals(theirs.early_closes) and ours.late_opens.equals(theirs.late_opens)


def test_carter_mourning_day_is_closed(cal):
    assert not cal.is_session("2025-01-09")
    assert cal.is_session("2025-01-08") and cal.is_session("2025-01-10")


def test_2024_sessions_equal_spy_trading_days(cal, prices_dir):
    spy = pd.read_csv(prices_dir / "SPY.csv", parse_dates=["Date"])
    traded = pd.DatetimeIndex(spy["Date"][spy["Date"].dt.year == 2024]).as_unit("ns")
    expected = cal.sessions_in_range("2024-01-01", "2024-12-31")
    assert len(expected) == 252
    pd.testing.assert_index_equal(expected, traded, check_names=False)


def test_widen_with_start():
    old = TradingCalendar(start="1980-01-01")
    assert old.sessions[0] < pd.Timestamp("1980-01-10")
    assert old.day_zero("1985-07-06") == pd.Timestamp("1985-07-08")  # Saturday -> Monday


# -- day 0 ---------------------------------------------------------------------------------------------------
def test_after_close_event_moves_to_next_session(cal):
    # NVIDIA's H20 8-K came after the close on 2025-04-15
    assert cal.day_zero("2025-04-15", session="post") == pd.Timestamp("2025-04-16")


def test_after_close_before_a_closure_skips_the_closed_day(cal):
    # the diffusion-rule leak on 2025-01-08 after the close; 2025-01-09 closed (Carter mourning day)
    assert cal.day_zero("2025-01-08", session="post") == pd.Timestamp("2025-01-10")


@pytest.mark.parametrize("session", ["pre", "intraday"])
def test_pre_and_intraday_on_a_session_stay_on_it(cal, session):
    assert cal.day_zero("2025-04-15", session=session) == pd.Timestamp("2025-04-15")


def test_pre_on_a_saturday_gives_the_monday(cal):
    assert cal.day_zero("2024-11-09", session="pre") == pd.Timestamp("2024-11-11")  # TSMC order, Saturday


def test_pre_on_a_weekend_before_a_monday_holiday_gives_the_tuesday(cal):
    # Saturday 2025-01-18; Monday 2025-01-20 was MLK day (and the inauguration)
    assert cal.day_zero("2025-01-18", session="pre") == pd.Timestamp("2025-01-21")


def test_unknown_session_warns_once_and_takes_the_pre_answer(cal):
    with pytest.warns(SessionAssumptionWarning, match="2025-05-13") as record:
        day0 = cal.day_zero("2025-05-13", session="unknown")
    assert day0 == pd.Timestamp("2025-05-13")
    assert len(record) == 1
    message = str(record[0].message)
    assert "unknown_session='post'" in message and "(0, +1)" in message


def test_unknown_session_post_takes_the_next_session():
    cal = TradingCalendar(unknown_session="post")
    with pytest.warns(SessionAssumptionWarning):
        assert cal.day_zero("2025-05-13", session="unknown") == pd.Timestamp("2025-05-14")
    with pytest.warns(SessionAssumptionWarning):
        assert cal.day_zero("2025-01-08", session="unknown") == pd.Timestamp("2025-01-10")


def test_day_zeros_vectorized_warns_once_naming_labels(cal):
    dates = ["2025-04-15", "2025-01-08", "2025-05-13", "2024-11-09", "2024-12-02"]
    sessions = ["post", "post", "unknown", "pre", "unknown"]
    with pytest.warns(SessionAssumptionWarning) as record:
        out = cal.day_zeros(dates, sessions, labels=["a", "b", "c", "d", "e"])
    assert len(record) == 1
    assert "c (2025-05-13)" in str(record[0].message) and "e (2024-12-02)" in str(record[0].message)
    expected = pd.to_datetime(["2025-04-16", "2025-01-10", "2025-05-13", "2024-11-11", "2024-12-02"])
    np.testing.assert_array_equal(out.to_numpy(), expected.as_unit("ns").to_numpy())


def test_day_zeros_with_one_session_for_all(cal):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no unknown session, no warning
        out = cal.day_zeros(pd.Series(pd.to_datetime(["2025-01-08", "2025-04-15"])), "post")
    assert list(out) == [pd.Timestamp("2025-01-10"), pd.Timestamp("2025-04-16")]


def test_timezone_aware_dates_are_read_in_new_york_time(cal):
    # 01:00 UTC on Apr 16 is 21:00 ET on Apr 15, after the close
    stamp = pd.Timestamp("2025-04-16 01:00", tz="UTC")
    assert cal.day_zero(stamp, session="post") == pd.Timestamp("2025-04-16")
    assert cal.day_zero(dt.date(2025, 1, 8), session="post") == pd.Timestamp("2025-01-10")


def test_bad_session_names_the_argument(cal):
    with pytest.raises(ValueError, match=r"'session'.*'evening'"):
        cal.day_zero("2025-04-15", session="evening")
    with pytest.raises(ValueError, match="'unknown_session'"):
        TradingCalendar(unknown_session="intraday")
    with pytest.raises(ValueError, match=r"one session per date"):
        cal.day_zeros(["2025-04-15", "2025-04-16"], ["pre"])


def test_dates_outside_the_calendar_name_date_and_bounds(cal):
    with pytest.raises(ValueError, match=r"1985-01-02.*1990-01-01"):
        cal.day_zero("1985-01-02")
    with pytest.raises(ValueError, match=r"2099-01-02.*start=\.\.\., end=\.\.\."):
        cal.day_zero("2099-01-02")


def test_day_zeros_name_the_event_outside_the_calendar(cal):
    with pytest.raises(ValueError, match=r"Event 'old': date 1975-03-03 is outside the XNYS trading calendar"):
        cal.day_zeros(["2025-01-08", "1975-03-03"], "pre", labels=["ok", "old"])
    # the last session of the calendar has no session after it for news released after the close
    last = cal.last_session
    with pytest.raises(ValueError, match=rf"Event 'late': date {last:%Y-%m-%d}"):
        cal.day_zeros([last], "post", labels=pd.Series(["late"], index=[7]))


def test_unknown_exchange_is_a_value_error():
    with pytest.raises(ValueError, match="'name'"):
        TradingCalendar("NOPE")


@settings(max_examples=60, deadline=None)
@given(
    days=st.lists(st.dates(dt.date(1995, 1, 1), dt.date(2026, 12, 31)), min_size=1, max_size=20),
    kinds=st.lists(st.sampled_from(["pre", "intraday", "post"]), min_size=20, max_size=20),
)
def test_vectorized_day_zeros_match_the_scalar_rule(days, kinds):
    cal = TradingCalendar()
    sessions = kinds[: len(days)]
    out = cal.day_zeros(days, sessions)
    for day, kind, zero in zip(days, sessions, out):
        day = pd.Timestamp(day)
        assert zero == cal.day_zero(day, session=kind)
        assert cal.is_session(zero)
        assert zero > day if kind == "post" else zero >= day
        # nothing between the date and day 0 is a session that could have reacted
        between = cal.sessions_in_range(day, zero)
        assert list(between) in ([zero], [day, zero] if kind == "post" else [zero])


# -- counting sessions -----------------------------------------------------------------------------------------
def test_offset_counts_sessions_not_calendar_days(cal):
    assert cal.offset("2025-01-08", 1) == pd.Timestamp("2025-01-10")
    assert cal.offset("2025-01-10", -1) == pd.Timestamp("2025-01-08")
    assert cal.offset("2025-01-10", 0) == pd.Timestamp("2025-01-10")
    assert cal.offset("2024-11-27", 1) == pd.Timestamp("2024-11-29")  # Thanksgiving skipped


def test_positions_are_session_indices(cal):
    pos = cal.positions(["2025-01-08", "2025-01-10", "2025-01-13"])
    assert pos.dtype == np.int64
    assert list(np.diff(pos)) == [1, 1]
    assert cal.sessions[pos[0]] == pd.Timestamp("2025-01-08")


def test_positions_name_the_first_non_session(cal):
    with pytest.raises(ValueError, match=r"2025-01-09 is not a session.*day_zero"):
        cal.positions(["2025-01-08", "2025-01-09", "2025-01-11"])
    with pytest.raises(ValueError, match="2025-01-11"):
        cal.offset("2025-01-11", 1)


def test_sessions_in_range_is_inclusive(cal):
    got = cal.sessions_in_range("2025-01-08", "2025-01-13")
    assert list(got.strftime("%Y-%m-%d")) == ["2025-01-08", "2025-01-10", "2025-01-13"]
    with pytest.raises(ValueError, match="swap"):
        cal.sessions_in_range("2025-01-13", "2025-01-08")


# -- align -----------------------------------------------------------------------------------------------------
def _prices(index: list[str]) -> pd.DataFrame:
    n = len(index)
    return pd.DataFrame(
        {"NVDA": np.arange(100.0, 100.0 + n), "AMD": np.arange(50.0, 50.0 + n)},
        index=pd.DatetimeIndex(pd.to_datetime(index), name="Date"),
    )


def test_align_puts_nan_on_a_session_missing_for_one_ticker(cal):
    frame = _prices(["2025-01-06", "2025-01-07", "2025-01-08", "2025-01-10"])
    frame = frame.drop(columns="AMD").join(frame["AMD"].drop(pd.Timestamp("2025-01-07")))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = cal.align(frame)
    assert list(out.index.strftime("%Y-%m-%d")) == ["2025-01-06", "2025-01-07", "2025-01-08", "2025-01-10"]
    assert np.isnan(out.loc["2025-01-07", "AMD"])
    assert out.loc["2025-01-08", "AMD"] == frame.loc["2025-01-08", "AMD"]  # nothing shifted
    assert list(out.columns) == ["NVDA", "AMD"]


def test_align_inserts_a_session_missing_for_every_ticker(cal):
    frame = _prices(["2025-01-06", "2025-01-08"])
    out = cal.align(frame)
    assert out.loc["2025-01-07"].isna().all()
    assert any("2025-01-07" in note for note in out.attrs["eventstudy_notes"])


def test_align_drops_weekend_rows_with_one_warning_and_a_note(cal):
    frame = _prices(["2025-01-03", "2025-01-04", "2025-01-05", "2025-01-06", "2025-01-09", "2025-01-10"])
    frame.attrs["eventstudy_notes"] = ["loaded from test"]
    with pytest.warns(DataQualityWarning, match=r"3 row\(s\).*2025-01-04") as record:
        out = cal.align(frame)
    assert len(record) == 1
    kept = ["2025-01-03", "2025-01-06", "2025-01-07", "2025-01-08", "2025-01-10"]  # Jan 7-8 re-inserted as NaN
    assert list(out.index.strftime("%Y-%m-%d")) == kept
    assert out.loc["2025-01-06", "NVDA"] == 103.0
    notes = out.attrs["eventstudy_notes"]
    assert notes[0] == "loaded from test" and "2025-01-09" in notes[1]
    assert frame.attrs["eventstudy_notes"] == ["loaded from test"]  # input untouched


def test_align_requires_a_datetime_index(cal):
    with pytest.raises(TypeError, match="DatetimeIndex"):
        cal.align(pd.DataFrame({"A": [1.0]}, index=["2025-01-06"]))


# -- as_calendar -------------------------------------------------------------------------------------------
def test_as_calendar_builds_from_a_code_and_passes_an_instance_through(cal):
    built = as_calendar("XNYS", unknown_session="post")
    assert isinstance(built, TradingCalendar) and built.name == "XNYS" and built.unknown_session == "post"
    assert as_calendar("XNYS").unknown_session == "pre"
    assert as_calendar(cal) is cal
    assert as_calendar(cal, unknown_session="pre") is cal  # agrees with the calendar's own rule
    assert as_calendar(None) is None and as_calendar(None, unknown_session="post") is None
    # the exchange_calendars sessions, not a copy of some other rule: Jan 9 2025 closed
    assert built.day_zero("2025-01-08", session="post") == pd.Timestamp("2025-01-10")


def test_as_calendar_never_ignores_an_explicit_unknown_session():
    post = TradingCalendar(unknown_session="post")
    with pytest.raises(ValueError, match=r"'unknown_session' parameter \('pre'\).*unknown_session='post'"):
        as_calendar(post, unknown_session="pre")


def test_as_calendar_checks_its_arguments(cal):
    with pytest.raises(TypeError, match=r"'calendar' parameter must be an exchange code.*Got int"):
        as_calendar(1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"'unknown_session' parameter must be one of \('pre', 'post'\)"):
        as_calendar(cal, unknown_session="intraday")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'name'"):
        as_calendar("NOPE")


def test_notes_key_is_defined_once():
    assert NOTES_KEY is DATA_NOTES_KEY and NOTES_KEY == "eventstudy_notes"


def test_align_keeps_an_empty_notes_list(cal):
    frame = pd.DataFrame({"NVDA": [1.0, 2.0]}, index=pd.to_datetime(["2025-01-06", "2025-01-07"]))
    frame.attrs["eventstudy_notes"] = []
    assert cal.align(frame).attrs["eventstudy_notes"] == []
