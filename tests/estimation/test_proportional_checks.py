"""Issue 23: checks whose work is proportional to what they find give what a plain loop over every cell gives.

The implausible-return check and the return-value check first bound each column by its extremes and read
again only the columns that could fail; catalog events in estimation windows are found by one search over
every ticker at once.  Each is compared here with a loop written out cell by cell (or firm-event by
firm-event), on panels with planted splits, impossible returns, infinite values, percent columns and days
just inside and just outside the bound.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from eventstudy.data.base import RATE_TICKERS
from eventstudy.estimation.contamination import Catalog, window_hits
from eventstudy.estimation.quality import IMPLAUSIBLE_LOG_RETURN, IMPLAUSIBLE_ROBUST_Z, implausible_returns
from eventstudy.foundation.misread import check_return_values

LIMIT = math.log(1.8)


def loop_implausible(returns: pd.DataFrame, market, columns) -> list[tuple]:
    """(ticker, date, return, robust z or NaN) of every flagged day, column by column, day by day."""
    found = []
    dates = list(returns.index)
    m = [math.log1p(v) if v > -1 else math.nan for v in returns[market]] if market in returns else None
    for name in columns:
        if str(name).lstrip("^").upper() in RATE_TICKERS:
            continue
        r = [float(v) for v in returns[name]]
        a = [math.log1p(v) if v > -1 else math.nan for v in r]
        if m is not None and name != market:
            a = [x - y for x, y in zip(a, m)]
        seen = sorted(x for x in a if not math.isnan(x))
        flags = {}
        if len(seen) >= 20:
            centre = float(np.median(seen))
            scale = 1.4826 * float(np.median([abs(x - centre) for x in seen]))
            for t, x in enumerate(a):
                if scale > 0 and not math.isnan(x) and abs(x) > LIMIT and abs((x - centre) / scale) > 12:
                    flags[t] = (x - centre) / scale
        for t, v in enumerate(r):
            if v <= -1:
                flags[t] = math.nan
        found += [(name, dates[t], r[t], flags[t]) for t in sorted(flags)]
    return found


def panel(seed: int = 7, days: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2020-01-01", periods=days)
    market = rng.normal(0.0003, 0.01, days)
    frame = pd.DataFrame({f"S{k}": market + rng.normal(0, 0.02, days) for k in range(12)}, index=index)
    frame["MKT"] = market
    frame.loc[index[40], "S1"] = -0.5  # an unadjusted 2-for-1 split
    frame.loc[index[41], "S2"] = -0.99  # pence to pounds
    frame.loc[index[50], "S3"] = -1.0  # impossible: a price of 0
    frame.loc[index[60], "S3"] = -1.7  # impossible, below
    frame.loc[index[70], "S4"] = 2.5  # a reverse split
    # a day just beyond ln 1.8 after the market's move, and one just short of it
    frame.loc[index[80], "S5"] = 1.8 * (1 + market[80]) * (1 + 1e-9) - 1
    frame.loc[index[90], "S6"] = 1.8 * (1 + market[90]) * (1 - 1e-9) - 1
    frame.loc[index[95], "S6"] = (1 + market[95]) / 1.8 * (1 - 1e-9) - 1  # a fall just beyond, by the market
    frame["S7"] = np.nan  # no value at all
    frame.loc[index[:15], "S8"] = frame.loc[index[:15], "S8"].to_numpy()
    frame.loc[index[15:], "S8"] = np.nan
    frame.loc[index[5], "S8"] = 3.0  # too short a history to judge (fewer than 20 returns) ...
    frame.loc[index[6], "S8"] = -1.0  # ... but an impossible return is flagged whatever the history
    frame.loc[index[100], "MKT"] = -0.6  # the benchmark itself, judged on its raw returns
    frame["^IRX"] = rng.normal(0, 0.5, days)  # a yield: its changes are not judged
    frame.loc[index[3:], "S9"] = frame.loc[index[3:], "S9"] * 0  # a flat column: zero spread, never judged
    return frame


def as_tuples(found: pd.DataFrame) -> list[tuple]:
    return list(zip(found["ticker"], found["date"], found["return"], found["robust_z"]))


@pytest.mark.parametrize(
    "market, columns",
    [
        ("MKT", None),
        (None, None),
        ("MKT", ["S6", "MKT", "S3", "S1", "^IRX", "S8", "S5"]),  # a subset in another order
        ("MKT", ["S0", "S2"]),  # the market not among the judged columns: still taken off
    ],
)
def test_implausible_returns_match_a_loop_over_every_cell(market, columns):
    returns = panel()
    got = implausible_returns(returns, market, columns=columns)
    want = loop_implausible(returns, market, list(returns.columns) if columns is None else columns)
    assert len(want) >= (2 if columns == ["S0", "S2"] else 6)  # the planted days are there to be found
    assert [row[:3] for row in as_tuples(got)] == [row[:3] for row in want]
    for (*_, z), (*_, expected) in zip(as_tuples(got), want):
        assert (math.isnan(z) and math.isnan(expected)) or z == pytest.approx(expected, rel=1e-12)


def test_the_day_just_short_of_the_bound_is_not_flagged_and_the_one_beyond_is():
    found = implausible_returns(panel(), "MKT")
    days = set(zip(found["ticker"], found["date"]))
    index = panel().index
    assert ("S5", index[80]) in days and ("S6", index[90]) not in days and ("S6", index[95]) in days
    assert abs(math.log1p(panel().loc[index[90], "S6"]) - math.log1p(panel().loc[index[90], "MKT"])) > 0.9999 * LIMIT
    assert IMPLAUSIBLE_LOG_RETURN == LIMIT and IMPLAUSIBLE_ROBUST_Z == 12.0


@pytest.mark.parametrize("seed", range(6))
def test_random_panels_with_random_jumps_match_the_loop(seed):
    rng = np.random.default_rng(100 + seed)
    returns = panel(seed=seed, days=120)
    cells = rng.integers(0, returns.size, 25)
    for cell in cells:  # jumps anywhere, the benchmark's days included, of any size
        row, col = divmod(int(cell), returns.shape[1])
        returns.iloc[row, col] = rng.choice([-1.2, -1.0, -0.7, -0.45, 0.5, 0.81, 1.5, 9.0])
    want = loop_implausible(returns, "MKT", list(returns.columns))
    assert [row[:3] for row in as_tuples(implausible_returns(returns, "MKT"))] == [row[:3] for row in want]


def test_return_values_are_checked_in_the_columns_asked_for_only():
    returns = panel()
    returns.loc[returns.index[9], "S7"] = np.inf  # not read: no error
    check_return_values(returns, columns=["S0", "S1", "MKT"])
    returns.loc[returns.index[30], "S4"] = -np.inf
    returns.loc[returns.index[20], "S2"] = np.inf  # the first by date among the columns read
    with pytest.raises(ValueError, match=r"'S2' on 2020-01-29 is inf; 2 such value\(s\)"):
        check_return_values(returns, columns=["S4", "S2", "S0"])
    with pytest.raises(ValueError, match=r"'S7' on 2020-01-14 is inf; 1 such"):
        check_return_values(returns, columns=["S7"])


def test_percent_and_prices_are_named_in_the_order_asked_for():
    returns = panel().drop(columns=["^IRX"])
    returns["S3"] = returns["S3"].clip(lower=-0.9)
    percent = returns.assign(S2=returns["S2"] * 100, S5=returns["S5"] * 100)
    with pytest.raises(ValueError, match=r"percent.*'S5' \(median absolute value [0-9.]+\), 'S2'"):
        check_return_values(percent, columns=["S0", "S5", "S2"])
    check_return_values(percent, columns=["S0", "S1"])  # the percent columns are not read
    prices = returns.assign(S4=100 * (1 + returns["S4"].clip(lower=-0.5)).cumprod())
    with pytest.raises(ValueError, match=r"prices.*'S4'"):
        check_return_values(prices)
    # a column with a few days beyond 0.2 but a small median is fine
    check_return_values(returns.assign(S0=np.where(np.arange(len(returns)) % 3 == 0, 0.5, 0.001)))


def loop_hits(catalog: Catalog, day0, tickers, window) -> list[tuple]:
    """Per firm-event: the ids of the market-wide events, then its ticker's, in day-0 order, in the window."""
    out = []
    for d, t in zip(day0, tickers):
        market = [(p, k) for k, (p, who) in enumerate(zip(catalog.position, catalog.ticker)) if who is None and p >= 0]
        own = [(p, k) for k, (p, who) in enumerate(zip(catalog.position, catalog.ticker)) if who == t and p >= 0]
        inside = [catalog.ids[k] for p, k in sorted(market) if d + window[0] <= p <= d + window[1]]
        inside += [catalog.ids[k] for p, k in sorted(own) if d + window[0] <= p <= d + window[1]]
        out.append(tuple(inside))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_catalog_events_in_the_windows_match_a_loop_over_firm_events(seed):
    rng = np.random.default_rng(seed)
    size = 160
    tickers = np.array(["A", "B", "C", "D", None], dtype=object)  # None: a market-wide event
    who = tickers[rng.integers(0, len(tickers), size)]
    position = rng.integers(-1, 400, size)  # -1: outside the data
    catalog = Catalog(np.array([f"e{k}" for k in range(size)], dtype=object), position, who, {})
    firms = np.array(["A", "B", "C", "E"], dtype=object)[rng.integers(0, 4, 300)]  # E has no catalog event
    day0 = rng.integers(0, 400, 300)
    for window in [(-250, -11), (-5, 5), (3, 40)]:
        hits = window_hits(catalog, day0, firms, window)
        assert hits.contaminated_by() == loop_hits(catalog, day0, firms, window)
        assert (hits.any_contamination() == np.array([bool(h) for h in loop_hits(catalog, day0, firms, window)])).all()
    # a catalog of firm-specific events only, and one of market-wide events only
    for keep in (who != None, who == None):  # noqa: E711 - elementwise on an object array
        part = Catalog(catalog.ids[keep], position[keep], who[keep], {})
        assert window_hits(part, day0, firms, (-30, -1)).contaminated_by() == loop_hits(part, day0, firms, (-30, -1))


# ---- the firm-event table on integer codes -------------------------------------------------------------


def test_ids_named_by_their_date_match_strftime_row_by_row():
    from eventstudy.estimation.firmevents import firm_events

    rng = np.random.default_rng(5)
    days = pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, 400), unit="D")
    naive = pd.DataFrame({"ticker": [f"T{k}" for k in range(400)], "date": days})
    got = firm_events(naive, None)["event_id"].tolist()
    assert got == [d.strftime("%Y-%m-%d") for d in days]
    # a timestamp with a zone is named by its own wall-clock date (23:30 in New York is the next day in UTC)
    stamps = pd.Series(days + pd.Timedelta(hours=23, minutes=30)).dt.tz_localize("America/New_York")
    zoned = pd.DataFrame({"ticker": [f"T{k}" for k in range(400)], "timestamp": stamps})
    assert firm_events(zoned, None)["event_id"].tolist() == [d.strftime("%Y-%m-%d") for d in stamps]


def test_one_event_with_two_times_is_found_as_a_loop_finds_it():
    from eventstudy.estimation.firmevents import firm_events

    rng = np.random.default_rng(8)
    outcomes = []
    for trial in range(20):
        n = 60
        ids = [f"E{k}" for k in rng.integers(0, 25, n)]
        dates = pd.to_datetime("2024-03-01") + pd.to_timedelta(rng.integers(0, 3, n), unit="D")
        sessions = rng.choice(["pre", "post"], n)
        if trial % 4 < 2:  # one time per id, but for a few rows of one id
            dates = pd.to_datetime("2024-03-01") + pd.to_timedelta([int(i[1:]) % 3 for i in ids], unit="D")
            sessions = np.array(["pre" if int(i[1:]) % 2 else "post" for i in ids])
            if trial % 4 == 1:  # the last row of the id with the most rows moved a day: one stray row
                stray_id = pd.Series(ids).value_counts().index[0]
                stray = [k for k, i in enumerate(ids) if i == stray_id][-1]
                dates = dates.where(np.arange(n) != stray, dates[stray] + pd.Timedelta(days=1))
        frame = pd.DataFrame({"event_id": ids, "ticker": [f"T{k}" for k in range(n)], "date": dates})
        if trial % 2:
            frame["session"] = sessions
        # the loop: each id's distinct (date, session) texts
        seen: dict[str, set] = {}
        for row in frame.itertuples(index=False):
            seen.setdefault(row.event_id, set()).add((str(row.date), getattr(row, "session", "")))
        clashing = sorted(i for i, values in seen.items() if len(values) > 1)
        outcomes.append(bool(clashing))
        if trial % 4 < 2:  # the planned cases: none, or the one stray row's id
            assert clashing == ([stray_id] if trial % 4 == 1 else []), trial
        if clashing:
            with pytest.raises(ValueError, match=rf"Event id '{clashing[0]}' has different dates or times"):
                firm_events(frame, None)
        else:
            assert len(firm_events(frame, None)) == n
    assert 0 < sum(outcomes) < len(outcomes)  # both outcomes were tried


def test_first_rows_are_the_rows_drop_duplicates_keeps():
    from eventstudy.estimation.firmevents import first_rows

    rng = np.random.default_rng(2)
    values = pd.Series(rng.choice(["a", "b", "c", None, "d"], 300), dtype="str")
    assert first_rows(values).tolist() == values.drop_duplicates().index.tolist()
