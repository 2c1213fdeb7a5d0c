"""The report pools signed abnormal returns when its events mix directions, and says so.

The numbers in the sentence are checked against a plain study with no signing option, in which each
tightening firm-event is a column ``<ticker>NEG`` holding minus the firm's returns: OLS is linear in the
dependent variable, so the market model fitted to -R gives the abnormal returns -AR with the same variance
(tests/results/test_signed_pooling.py), and every pooled test of that study is the signed test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import eventstudy as es
from eventstudy.inference import recommend
from eventstudy.report import ReportConfig, build_report

EASING = "report-rescind-diffusion-rule-2025-05-07"
TIGHTENING = "nvda-h20-license-charge-2025-04-15"
TICKERS = ("NVDA", "AMD", "MU", "AVGO")


def _report(tmp_path, prices_dir, events):
    config = ReportConfig(
        name="mixed", tickers=TICKERS, benchmarks=("SPY",), events=events, event_window=(-3, 3),
        windows=((0, 0),), prices_dir=str(prices_dir), out=str(tmp_path / "mixed"),
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.EventStudyWarning)
        build_report(config, progress=False)
    return (tmp_path / "mixed" / "report.md").read_text(encoding="utf-8")


def test_mixed_directions_pool_signed_and_say_so(tmp_path, prices_dir, catalog):
    text = _report(tmp_path, prices_dir, (EASING, TIGHTENING))
    sentence = next(line for line in text.splitlines() if "differ in direction" in line)
    # by hand: the tightening event's firms as columns of minus their returns, in a study with no signing
    prices = es.CsvSource(prices_dir).get_prices([*TICKERS, "SPY"], "2023-01-03", "2025-06-30")
    returns = es.returns(prices)
    negated = -returns[list(TICKERS)]
    negated.columns = [f"{t}NEG" for t in TICKERS]
    day0 = catalog.set_index("id")["day0"]
    firm_events = pd.DataFrame(
        [(EASING, t, day0[EASING]) for t in TICKERS] + [(TIGHTENING, f"{t}NEG", day0[TIGHTENING]) for t in TICKERS],
        columns=["event_id", "ticker", "day0"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.EventStudyWarning)
        by_hand = es.EventStudy(
            firm_events, returns=pd.concat([returns, negated], axis=1), market="SPY", event_window=(-3, 3)
        ).fit()
        plain = es.EventStudy(
            firm_events.assign(ticker=firm_events["ticker"].str.removesuffix("NEG")), returns=returns, market="SPY",
            event_window=(-3, 3),
        ).fit()  # fmt: skip
    car = by_hand.car((0, 0))["car"].to_numpy()
    assert f"average signed day-0 abnormal return was {car.mean():+.2%}" in sentence
    np.testing.assert_allclose(car, np.r_[1, 1, 1, 1, -1, -1, -1, -1] * plain.car((0, 0))["car"].to_numpy(), rtol=1e-12)
    # the tests the report pools are those suited to the design (the advice of the measured size)
    suited = [name for name, _ in recommend(by_hand.fit)]
    tests = by_hand.tests([(0, 0)], tests=suited)
    tests = tests[tests["scope"] != "single"]
    assert len(tests)
    for test, event_id, stat in zip(tests["test"], tests["event_id"], tests["stat"]):
        where = f" [{event_id}]" if isinstance(event_id, str) else ""
        assert f"{test}{where}: stat {stat:.2f}, p " in sentence
    unsigned = plain.tests([(0, 0)], tests=suited)
    assert not np.allclose(unsigned[unsigned["scope"] != "single"]["stat"].to_numpy(), tests["stat"].to_numpy())


def test_one_direction_pools_as_before(tmp_path, prices_dir):
    text = _report(tmp_path, prices_dir, (EASING,))
    assert "differ in direction" not in text
    assert "the average day-0 abnormal return was" in text


def test_mixed_directions_without_a_sign_are_said_to_pool_unsigned(tmp_path, prices_dir, catalog, monkeypatch):
    # an events file of the user's: one easing, one tightening, one 'mixed' (no sign), no sign column
    events = catalog[catalog["id"].isin([EASING, TIGHTENING])].copy()
    extra = events.iloc[[0]].assign(id="my-mixed-2025-03-03", direction="mixed", date=pd.Timestamp("2025-03-03"))
    path = tmp_path / "mine.csv"
    out = pd.concat([events, extra])[["id", "date", "session", "direction"]]
    out.assign(date=out["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    config = ReportConfig(
        name="mixed", catalog=str(path), tickers=TICKERS, benchmarks=("SPY",), event_window=(-3, 3),
        windows=((0, 0),), prices_dir=str(prices_dir), out=str(tmp_path / "mixed"),
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.EventStudyWarning)
        build_report(config, progress=False)
    text = (tmp_path / "mixed" / "report.md").read_text(encoding="utf-8")
    assert "differ in direction" not in text
    assert "pool easing and tightening events unsigned" in text and "direction (mixed) has no sign" in text
