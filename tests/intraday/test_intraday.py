"""IntradayStudy against a plain recomputation from the raw CSV files.

The reference reads the files with pandas, lays out the regular minutes of each session with a loop
(09:30-16:00 New York time; the sessions used here have no holiday or early close), computes bar returns,
fits the market model with ``np.linalg.lstsq`` and sums the abnormal returns in plain Python.  Nothing of the
package is used to build it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy import DroppedFirmEventsWarning, EstimationError

NY = "America/New_York"


def raw_closes(intraday_dir, ticker, interval):
    raw = pd.read_csv(intraday_dir / f"{ticker}_{interval}.csv")
    stamps = pd.to_datetime(raw["Datetime"], utc=True).dt.tz_convert(NY)
    return dict(zip(stamps, raw["Close"].astype(float)))


def slots(days, minutes):
    """Every regular bar start of the given sessions, by a plain loop."""
    out = []
    for day in days:
        t = pd.Timestamp(f"{day} 09:30", tz=NY)
        while t < pd.Timestamp(f"{day} 16:00", tz=NY):
            out.append(t)
            t += pd.Timedelta(minutes=minutes)
    return out


def bar_return(closes, grid, k):
    t = grid[k]
    if k == 0 or t.strftime("%H:%M") == "09:30":
        return None
    now, before = closes.get(t), closes.get(grid[k - 1])
    if now is None or before is None:
        return None
    return now / before - 1.0


class Reference:
    def __init__(self, intraday_dir, ticker, market, interval, minutes, days):
        self.grid = slots(days, minutes)
        firm, mkt = raw_closes(intraday_dir, ticker, interval), raw_closes(intraday_dir, market, interval)
        self.y = [bar_return(firm, self.grid, k) for k in range(len(self.grid))]
        self.x = [bar_return(mkt, self.grid, k) for k in range(len(self.grid))]
        self.first = [t.strftime("%H:%M") == "09:30" for t in self.grid]

    def fit(self, event_row, est):
        rows = [k for k in range(event_row + est[0], event_row + est[1] + 1) if k >= 0]
        rows = [k for k in rows if self.y[k] is not None and self.x[k] is not None]
        X = np.array([[1.0, self.x[k]] for k in rows])
        y = np.array([self.y[k] for k in rows])
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        resid = y - X @ coef
        sigma2 = resid @ resid / (len(rows) - 2)
        return coef, sigma2, np.linalg.inv(X.T @ X), len(rows)

    def car(self, start_row, window, coef):
        total, missing, used, s = 0.0, 0, 0, np.zeros(2)
        for k in range(start_row + window[0], start_row + window[1] + 1):
            if k < 0 or k >= len(self.grid):
                return None, None, None
            if self.first[k]:
                continue
            if self.y[k] is None or self.x[k] is None:
                missing += 1
                continue
            total += self.y[k] - coef[0] - coef[1] * self.x[k]
            used += 1
            s += [1.0, self.x[k]]
        return total, missing, (used, s)


def study(events, bars, market, **options):
    return es.IntradayStudy(events, bars, market=market, **options).fit()


def test_nvda_minute_car_equals_a_plain_recomputation(intraday_dir):
    days = ["2025-05-09", "2025-05-12", "2025-05-13", "2025-05-14"]
    ref = Reference(intraday_dir, "NVDA", "SPY", "1m", 1, days)
    bars = es.CsvSource(intraday_dir, interval="1m").get_bars(["NVDA", "SPY"], "2025-05-09", "2025-05-14")
    when = pd.Timestamp("2025-05-13 10:02:30", tz=NY)  # the event bar is the next one to start: 10:03
    events = pd.DataFrame({"ticker": ["NVDA"], "time": [when]})
    window, est = (0, 59), (-780, -31)
    res = study(events, bars, "SPY", event_window=window, estimation_window=est, max_missing=5)
    event_row = ref.grid.index(pd.Timestamp("2025-05-13 10:03", tz=NY))
    coef, sigma2, xtx_inv, n = ref.fit(event_row, est)
    car, missing, (used, s) = ref.car(event_row, window, coef)
    got = res.car().iloc[0]
    assert got["event_bar"] == pd.Timestamp("2025-05-13 14:03", tz="UTC")
    assert res.params.iloc[0]["n_obs"] == n
    np.testing.assert_allclose(res.params.iloc[0][["alpha", "beta"]].to_numpy(float), coef, rtol=1e-9, atol=1e-12)
    assert got["bars"] == used and got["missing"] == missing
    np.testing.assert_allclose(got["car"], car, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(got["se"], np.sqrt(sigma2 * (used + s @ xtx_inv @ s)), rtol=1e-9)
    np.testing.assert_allclose(got["t"], car / np.sqrt(sigma2 * (used + s @ xtx_inv @ s)), rtol=1e-9)


def test_placebo_pvalue_is_its_definition_recomputed_by_hand(intraday_dir):
    # SMH against SPY on 5-minute bars: enough earlier sessions for a real placebo distribution
    days = [f"{d:%Y-%m-%d}" for d in pd.bdate_range("2025-04-24", "2025-05-14")]
    ref = Reference(intraday_dir, "SMH", "SPY", "5m", 5, days)
    bars = es.CsvSource(intraday_dir, interval="5m").get_bars(["SMH", "SPY"], "2025-04-24", "2025-05-14")
    events = pd.DataFrame(
        {
            "ticker": ["SMH", "SMH"],
            "time": [pd.Timestamp("2025-05-13 09:30", tz=NY), pd.Timestamp("2025-05-14 11:00", tz=NY)],
        }
    )
    window, est, n_placebo = (0, 11), (-390, -13), 8
    res = study(events, bars, "SPY", event_window=window, estimation_window=est, placebo_sessions=n_placebo)
    got = res.car()
    per_day = 78
    for i, when in enumerate(events["time"]):
        event_row = ref.grid.index(when)
        coef, *_ = ref.fit(event_row, est)
        car, missing, _ = ref.car(event_row, window, coef)
        assert missing == 0
        placebo = []
        for back in range(1, n_placebo + 1):
            row = event_row - back * per_day  # same clock time, `back` sessions earlier
            if row < 0:
                continue
            p_car, p_missing, _ = ref.car(row, window, coef)
            if p_car is not None and p_missing == 0:
                placebo.append(p_car)
        expected = (1 + sum(abs(c) >= abs(car) for c in placebo)) / (1 + len(placebo))
        np.testing.assert_allclose(got["car"].iloc[i], car, rtol=1e-10, atol=1e-14)
        assert got["n_placebo"].iloc[i] == len(placebo) == n_placebo
        assert got["placebo_pvalue"].iloc[i] == pytest.approx(expected, abs=1e-15)


def test_windows_count_bars_and_skip_the_first_bar_of_a_session(intraday_dir):
    bars = es.CsvSource(intraday_dir, interval="5m").get_bars(["NVDA", "SPY"], "2025-05-12", "2025-05-14")
    events = pd.DataFrame({"ticker": ["NVDA"], "time": [pd.Timestamp("2025-05-14 09:30", tz=NY)]})
    res = study(events, bars, "SPY", event_window=(0, 5), estimation_window=(-150, -1), min_sessions=2)
    ar = res.ar
    assert ar["first_bar"].tolist() == [True, False, False, False, False, False]
    assert np.isnan(ar["ar"].iloc[0])  # the overnight gap is not a bar return
    assert res.car()["bars"].iloc[0] == 5


def test_an_event_in_a_closed_market_or_outside_the_bars_is_dropped_naming_it(intraday_dir):
    bars = es.CsvSource(intraday_dir, interval="1m").get_bars(["NVDA", "SPY"], "2025-05-09", "2025-05-16")
    times = ["2025-05-13 10:00", "2025-05-13 18:00", "2025-05-20 10:00"]
    events = pd.DataFrame({"ticker": "NVDA", "time": [pd.Timestamp(t, tz=NY) for t in times]})
    with pytest.warns(DroppedFirmEventsWarning, match="2 intraday event"):
        res = study(events, bars, "SPY", max_missing=5)
    reasons = res.dropped.set_index("event_id")["reason"]
    assert "market closed" in reasons["NVDA@2025-05-13T22:00Z"]
    assert "2025-05-14 09:30:00-04:00" in reasons["NVDA@2025-05-13T22:00Z"]
    assert "outside the bars of NVDA" in reasons["NVDA@2025-05-20T14:00Z"]
    only_closed = events.iloc[[1]]
    with pytest.raises(EstimationError, match="market closed"):
        study(only_closed, bars, "SPY")


def test_an_estimation_window_on_too_few_sessions_is_dropped(intraday_dir):
    bars = es.CsvSource(intraday_dir, interval="5m").get_bars(["NVDA", "SPY"], "2025-05-12", "2025-05-14")
    events = pd.DataFrame({"ticker": ["NVDA"], "time": [pd.Timestamp("2025-05-13 14:00", tz=NY)]})
    with pytest.raises(EstimationError, match=r"crosses 1 session\(s\).*min_sessions=2"):
        study(events, bars, "SPY", event_window=(0, 5), estimation_window=(-50, -1))


def test_bars_on_two_clocks_are_refused(intraday_dir):
    us = es.CsvSource(intraday_dir, interval="5m").get_bars(["NVDA"], "2025-04-14", "2025-05-14")
    jp = es.CsvSource(intraday_dir, interval="5m", label="end").get_bars(["^N225"], "2025-04-14", "2025-05-14")
    both = pd.concat([us, jp])
    both.attrs = {
        **us.attrs,
        "eventstudy_calendars": {**us.attrs["eventstudy_calendars"], **jp.attrs["eventstudy_calendars"]},
    }
    events = pd.DataFrame({"ticker": ["NVDA"], "time": [pd.Timestamp("2025-05-13 10:00", tz=NY)]})
    with pytest.raises(ValueError, match=r"different clocks: NVDA on XNYS, \^N225 on XTKS"):
        study(events, both, "^N225")
    # one file shifted by two minutes: same exchange, another clock
    shifted = us.copy()
    shifted.index = shifted.index.set_levels(["SPY"], level=0).set_levels(
        shifted.index.levels[1] + pd.Timedelta(minutes=2), level=1
    )
    mixed = pd.concat([us, shifted])
    mixed.attrs = {**us.attrs, "eventstudy_calendars": {"NVDA": "XNYS", "SPY": "XNYS"}}
    with pytest.raises(ValueError, match=r"SPY: the regular bar at 2025-05-12 09:32:00-04:00 is off the XNYS 5m clock"):
        study(events, mixed, "SPY")


def test_event_times_need_a_zone(intraday_dir):
    bars = es.CsvSource(intraday_dir, interval="1m").get_bars(["NVDA", "SPY"], "2025-05-12", "2025-05-13")
    events = pd.DataFrame({"ticker": ["NVDA"], "time": [pd.Timestamp("2025-05-13 10:00")]})
    with pytest.raises(ValueError, match=r"row 0 \(NVDA\).*no time\s+zone"):
        study(events, bars, "SPY")
    with pytest.raises(KeyError, match="'time'"):
        study(pd.DataFrame({"ticker": ["NVDA"]}), bars, "SPY")


def test_plot_intraday_draws_on_the_given_axes_and_returns_its_figure(intraday_dir):
    import matplotlib.pyplot as plt

    bars = es.CsvSource(intraday_dir, interval="5m", label="end").get_bars(
        ["8035.T", "^N225"], "2025-03-01", "2025-04-16"
    )
    events = pd.DataFrame({"ticker": ["8035.T"], "time": [pd.Timestamp("2025-04-16 09:00", tz="Asia/Tokyo")]})
    res = study(events, bars, "^N225", event_window=(0, 65), max_missing=3)
    fig, axes = plt.subplots(1, 2)
    mark = pd.Timestamp("2025-04-15 16:00", tz=NY)
    assert es.plot_intraday(res, marks={"NVIDIA 8-K": mark}, ax=axes[1]) is fig
    labels = axes[1].get_legend_handles_labels()[1]
    assert "XTKS regular hours" in labels and "XNYS regular hours" in labels
    assert any(label.startswith("NVIDIA 8-K: 04-16 05:00") for label in labels)
    # the cumulative abnormal return drawn at the session's last bar is the CAR of the whole session
    line = next(ln for ln in axes[1].get_lines() if ln.get_label().endswith("cumulative abnormal return"))
    assert line.get_ydata()[-1] == pytest.approx(res.car((0, 65))["car"].iloc[0], abs=1e-12)
    plt.close(fig)


def test_session_gaps_and_bar_returns_match_the_raw_file(intraday_dir):
    bars = es.CsvSource(intraday_dir, interval="1m").get_bars(["NVDA", "SPY"], "2025-05-12", "2025-05-13")
    raw = pd.read_csv(intraday_dir / "NVDA_1m.csv")
    stamps = pd.to_datetime(raw["Datetime"], utc=True).dt.tz_convert(NY)
    opens, closes = dict(zip(stamps, raw["Open"])), dict(zip(stamps, raw["Close"]))
    gap = opens[pd.Timestamp("2025-05-13 09:30", tz=NY)] / closes[pd.Timestamp("2025-05-12 15:59", tz=NY)] - 1
    assert es.session_gaps(bars).loc["2025-05-13", "NVDA"] == pytest.approx(gap, abs=1e-15)
    returns = es.bar_returns(bars)["NVDA"]
    at = pd.Timestamp("2025-05-13 11:00", tz=NY)
    expected = closes[at] / closes[at - pd.Timedelta(minutes=1)] - 1
    assert returns.loc[at] == pytest.approx(expected, abs=1e-15)
    assert np.isnan(returns.loc[pd.Timestamp("2025-05-13 09:30", tz=NY)])  # a session's first bar
    # 09:35 is missing from the file: neither it nor the bar after it has a return (nothing bridged)
    assert pd.Timestamp("2025-05-13 09:35", tz=NY) not in closes
    assert np.isnan(returns.loc[pd.Timestamp("2025-05-13 09:35", tz=NY)])
    assert np.isnan(returns.loc[pd.Timestamp("2025-05-13 09:36", tz=NY)])


def test_sessions_crossed_by_an_estimation_window_is_counted_exactly(intraday_dir):
    from eventstudy.intraday.study import BarPanel, _sessions_used

    bars = es.CsvSource(intraday_dir, interval="5m").get_bars(["NVDA", "SMH", "SPY"], "2025-04-24", "2025-06-30")
    panel = BarPanel.from_bars(bars)
    usable = np.isfinite(panel.returns) & np.isfinite(panel.returns[:, [panel.column("SPY")]])
    rng = np.random.default_rng(1)
    t = len(panel.grid)
    for _ in range(200):
        day0, firm = rng.integers(0, t + 200, size=5), rng.integers(0, 3, size=5)
        lo = -int(rng.integers(1, 900))
        hi = lo + int(rng.integers(0, 900))
        got = _sessions_used(panel, usable, day0, firm, (lo, hi))
        for k in range(5):
            rows = [r for r in range(day0[k] + lo, day0[k] + hi + 1) if 0 <= r < t and usable[r, firm[k]]]
            assert got[k] == len({int(panel.session[r]) for r in rows})


def test_timestamp_column_and_event_ids_are_accepted(intraday_dir):
    bars = es.CsvSource(intraday_dir, interval="5m").get_bars(["SMH", "SPY"], "2025-04-24", "2025-05-14")
    events = pd.DataFrame(
        {"event_id": ["forum"], "ticker": ["SMH"], "timestamp": [pd.Timestamp("2025-05-13 13:30", tz="UTC")]}
    )
    res = study(events, bars, "SPY", event_window=(0, 11), estimation_window=(-390, -13))
    assert res.car().index.tolist() == ["forum"]
    assert res.car()["event_bar"].iloc[0] == pd.Timestamp("2025-05-13 09:30", tz=NY)
