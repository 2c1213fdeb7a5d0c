"""The notebooks' and the README's prose agrees with the data: every figure or verdict written in a Markdown
cell is recomputed here from the shared files, the committed results or the catalog; every event time
written in code agrees with the catalog's release session (notebook 07 and the README once put the October
2022 rules at 16:30, after the close, where the catalog says during the session)."""

from __future__ import annotations

import csv
import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eventstudy as es

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SIZE_CSV = REPO / "results" / "size-power" / "size_power.csv"
STOCKS = ["NVDA", "AMD", "AVGO", "INTC", "MU", "QCOM", "ASML", "AMAT", "LRCX", "KLAC", "MRVL", "ARM", "TSM", "SMCI"]


def cells(name: str, kind: str) -> list[str]:
    notebook = json.loads((NOTEBOOKS / name).read_text())
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == kind]


def markdown(name: str) -> str:
    return "\n".join(cells(name, "markdown"))


def flat(text: str) -> str:
    return " ".join(text.split())


def close_to_close(prices_dir: Path, ticker: str, day: str) -> float:
    with (prices_dir / f"{ticker}.csv").open() as f:
        rows = [(r["Date"][:10], float(r["Adj Close"])) for r in csv.DictReader(f) if r["Adj Close"]]
    return next(now / before - 1 for (_, before), (d, now) in zip(rows, rows[1:]) if d == day)


def size_at_5pct(scenario: str, test: str) -> tuple[float, int]:
    with SIZE_CSV.open() as f:
        row = next(
            r
            for r in csv.DictReader(f)
            if r["scenario"] == scenario and r["test"] == test and abs(float(r["alpha"]) - 0.05) < 1e-12
        )
    return float(row["rejection_rate"]), int(row["n_valid"])


@pytest.fixture(scope="module")
def catalog() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.SessionAssumptionWarning)
        return es.load_events("export-controls")


STAMP = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d)?([+-]\d\d:\d\d)")


def mismatches(text: str, catalog: pd.DataFrame) -> list[str]:
    """Times with a zone in ``text`` on the date of a catalog event that fall outside its release session (on
    the NYSE clock: before 09:30 pre, to 16:00 intraday, then post), or that time an event of unknown session."""
    out = []
    for day, clock, offset in STAMP.findall(text):
        when = pd.Timestamp(f"{day}T{clock}{offset}").tz_convert("America/New_York")
        minutes = when.hour * 60 + when.minute
        written = "pre" if minutes < 570 else "intraday" if minutes < 960 else "post"
        for event_id, session in zip(catalog["id"], catalog["session"]):
            if event_id.endswith(f"{when:%Y-%m-%d}") and session != written:
                out.append(f"{day} {clock} is {written}; {event_id} is {session}")
    return out


def test_event_times_written_in_code_agree_with_the_catalogs_session(catalog):
    """A time with a zone on the date of a catalog event falls in that event's release session, and none is
    written for an event whose session the catalog does not know."""
    # what notebook 07 and the README once wrote for the October 2022 rules
    assert mismatches('"2022-10-07T16:30:00-04:00"', catalog) == [
        "2022-10-07 16:30 is post; bis-advanced-computing-rule-2022-10-07 is intraday"
    ]
    assert mismatches('"2025-05-13T18:00:00-04:00"', catalog)  # the rescission's session is unknown
    assert len(sorted(NOTEBOOKS.glob("*.ipynb"))) == 7  # every notebook is read
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        assert mismatches("\n".join(cells(path.name, "code") + cells(path.name, "markdown")), catalog) == [], path.name
    assert mismatches((REPO / "README.md").read_text(), catalog) == []


def test_notebook_07_uses_the_catalogs_session_and_its_day0s_hold(catalog):
    code = "\n".join(cells("07_global_listings.ipynb", "code"))
    assert "16:30" not in code and '"bis-advanced-computing-rule-2022-10-07"' in code
    text = flat(markdown("07_global_listings.ipynb"))
    assert "during the New York session" in text and "after the US close" not in text
    row = catalog[catalog["id"] == "bis-advanced-computing-rule-2022-10-07"].iloc[0]
    assert row["session"] == "intraday"
    # "NVIDIA's day 0 is that Friday; ... each one's day 0 is its next session": by the exchanges' calendars
    import exchange_calendars as xcals

    assert f"{row['date']:%A}" == "Friday"
    for code_, expected in (
        ("XHKG", "2022-10-10"),
        ("XSHG", "2022-10-10"),
        ("XTKS", "2022-10-11"),
        ("XTAI", "2022-10-11"),
    ):
        nxt = xcals.get_calendar(code_).date_to_session("2022-10-08", direction="next")
        assert f"{nxt:%Y-%m-%d}" == expected, code_
    readme = flat((REPO / "README.md").read_text())
    assert "Hong Kong and Shanghai on Monday 10 October, Tokyo and Taipei (closed that Monday) on the 11th" in readme


def test_notebook_03_measures_the_factor_gap_instead_of_asserting_it():
    text = flat(markdown("03_your_own_events.ipynb"))
    assert "rarely changes abnormal returns much" not in text
    assert "the cell after the table measures how far" in text
    code = cells("03_your_own_events.ipynb", "code")
    assert any("gap.idxmax()" in c and "Fama-French 3" in c for c in code)


def test_the_press_figures_in_notebooks_01_and_05_are_the_data(prices_dir, events_dir):
    # 01: "closed up about 3%", and "An 'about 3%' close matches the report day, 7 May"
    text = flat(markdown("01_rescission_case_study.ipynb"))
    assert 'An "about 3%" close matches the report day, 7 May' in text
    assert round(100 * close_to_close(prices_dir, "NVDA", "2025-05-07")) == 3
    assert round(100 * close_to_close(prices_dir, "NVDA", "2025-05-13")) != 3  # the other day does not match
    with (events_dir / "reported_moves.csv").open() as f:
        press = [r for r in csv.DictReader(f) if r["ticker"] == "NVDA" and r["basis"] == "close"]
    figures = [re.fullmatch(r"[+-]?\d+(?:\.\d+)?", r["move_pct"].strip()) for r in press]
    assert any(m and round(float(m.group(0))) == 3 for m in figures)
    # 05: "On 2025-05-13 NVIDIA closed 5.6% up"
    assert "On 2025-05-13 NVIDIA closed 5.6% up" in flat(markdown("05_intraday.ipynb"))
    assert f"{100 * close_to_close(prices_dir, 'NVDA', '2025-05-13'):.1f}" == "5.6"


def test_notebook_04s_verdicts_are_the_size_study(prices_dir):
    text = flat(markdown("04_size_and_power.ipynb"))
    # "on these data it [mvrm_joint] rejects more often than 5% even without an effect, while mvrm_average ..."
    assert "on these data it rejects more often than 5% even without an effect" in text
    band = 2 * math.sqrt(0.05 * 0.95 / 1000)
    assert size_at_5pct("clustered13_null", "mvrm_joint")[0] > 0.05 + band
    assert abs(size_at_5pct("clustered13_null", "mvrm_average")[0] - 0.05) <= band
    # "Single-firm tests ... have low power ... +1% is small": their power at +1% stays under 10%
    assert "have low power whatever the design" in text
    for test in ("ar_t", "car_t", "permutation"):
        for design in ("spread50", "spread13", "clustered13"):
            assert size_at_5pct(f"{design}_plus1pct", test)[0] < 0.10
    # "daily residual volatility, typically 2-3% (the median of the 14 stocks' market-model residual SD)"
    assert "typically 2-3% (the median of the 14 stocks' market-model residual SD)" in text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prices = es.CsvSource(prices_dir).get_prices([*STOCKS, "SPY"], "2021-04-12", "2026-04-10")
    rets = prices.pct_change(fill_method=None)
    sd = []
    for ticker in STOCKS:
        pair = rets[[ticker, "SPY"]].dropna().to_numpy()
        slope, intercept = np.polyfit(pair[:, 1], pair[:, 0], 1)
        sd.append(np.std(pair[:, 0] - intercept - slope * pair[:, 1], ddof=1))
    assert 0.02 <= float(np.median(sd)) <= 0.03


def test_no_notebook_or_readme_asserts_the_rescissions_release_time():
    """The catalog does not record when on 2025-05-13 the BIS release came out: no prose says 'after the
    close' of it (notebook 05 and the README's intraday example once did)."""
    texts = {
        p.name: flat("\n".join(cells(p.name, "markdown") + cells(p.name, "code"))) for p in NOTEBOOKS.glob("*.ipynb")
    }
    assert len(texts) == 7, sorted(texts)  # every notebook is read
    texts["README.md"] = flat((REPO / "README.md").read_text())
    claim = re.compile(r"BIS release[^.]{0,60}(after the close|came later|in the US evening, after)", re.I)
    for name, text in texts.items():
        assert not claim.search(text), f"{name}: {claim.search(text).group(0)!r}"
