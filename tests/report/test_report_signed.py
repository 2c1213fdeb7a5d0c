"""The report pools signed abnormal returns when its events mix directions, and says so.

The numbers in the sentence are checked against a separate fit of the same study through the library, signed
by hand (easing +1, tightening -1) for the average, and with ``align="direction"`` for the tests (which
tests/results/test_signed_pooling.py checks against hand-negated returns).
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
    events = catalog[catalog["id"].isin([EASING, TIGHTENING])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.EventStudyWarning)
        res = es.EventStudy(
            events, tickers=list(TICKERS), source=es.CsvSource(prices_dir), market="SPY", event_window=(-3, 3)
        ).fit()
    car = res.car((0, 0))
    by_hand = np.where(car["event_id"] == EASING, 1.0, -1.0) * car["car"].to_numpy()
    assert f"average signed day-0 abnormal return was {by_hand.mean():+.2%}" in sentence
    # the tests the report pools are those suited to the design (the advice of the measured size), on signed ARs
    suited = [name for name, _ in recommend(res.fit)]
    signed = res.tests([(0, 0)], tests=suited, align="direction")
    plain = res.tests([(0, 0)], tests=suited)
    signed, plain = signed[signed["scope"] != "single"], plain[plain["scope"] != "single"]
    assert len(signed)
    for test, event_id, stat in zip(signed["test"], signed["event_id"], signed["stat"]):
        where = f" [{event_id}]" if isinstance(event_id, str) else ""
        assert f"{test}{where}: stat {stat:.2f}, p " in sentence
    assert not np.allclose(signed["stat"].to_numpy(), plain["stat"].to_numpy())


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
