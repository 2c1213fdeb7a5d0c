"""The README's "What the default study finds" is computed: its block is what the committed results give, and
its numbers and verdicts agree with the results and the price files, recomputed here by plain loops."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest

from eventstudy.report.findings import END, findings_markdown, update_readme

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
RESULTS = REPO / "results" / "ai-diffusion-rescission" / "results.json"
SIZE_CSV = REPO / "results" / "size-power" / "size_power.csv"


def block(text: str) -> str:
    return text.split("<!-- computed:start", 1)[1].split("-->", 1)[1].split(END, 1)[0].strip("\n") + "\n"


@pytest.fixture(scope="module")
def payload() -> dict:
    return json.loads(RESULTS.read_text())


def test_the_readme_block_is_what_the_committed_results_give(payload):
    assert block(README.read_text()) == findings_markdown(payload), "run scripts/readme_findings.py"


def test_update_readme_rewrites_only_the_block(tmp_path, payload):
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\nbefore\n\n<!-- computed:start -->\nstale 99%\n<!-- computed:end -->\n\nafter\n")
    results = tmp_path / "results.json"
    results.write_text(json.dumps(payload))
    assert update_readme(readme, results) is True
    text = readme.read_text()
    assert text.startswith("# x\n\nbefore\n\n<!-- computed:start: written by") and text.endswith("-->\n\nafter\n")
    assert "stale" not in text and "from results.json;" in text
    assert update_readme(readme, results) is False  # a second run changes nothing
    (tmp_path / "bare.md").write_text("no block\n")
    with pytest.raises(ValueError, match="bare.md has no"):
        update_readme(tmp_path / "bare.md", results)


def test_the_significant_single_stock_returns_named_are_every_one_in_the_results(payload):
    """The README once said no single-stock abnormal return was significant; MRVL (t -2.72), SMCI (p 0.029)
    and QCOM against SOXX (p 0.019) were. Each sentence now names its whole set, checked by a plain loop."""
    text = block(README.read_text())
    sentences = [line for line in text.splitlines() if "single-stock day-0 abnormal returns" in line]
    assert sentences
    first = sentences[0]
    significant, total = set(), 0
    for label, study in payload["studies"].items():
        for row in study["car"]["(0)"]:
            total += 1
            if row["pvalue"] < 0.05:
                day0 = next(e["day0"] for e in payload["events"] if e["id"] == row["event_id"])
                significant.add((row["ticker"], day0, label))
    assert first.startswith(f"Of the {total} single-stock")
    named = set(re.findall(r"([A-Z]{2,5}) on (\d{4}-\d\d-\d\d) (vs [\w+]+) \(", first))
    assert named == significant
    assert {
        ("MRVL", "2025-05-07", "vs SPY"),
        ("SMCI", "2025-05-13", "vs SPY"),
        ("QCOM", "2025-05-13", "vs SOXX"),
    } <= named
    assert f", {len(significant)} are significant at 5%" in first
    assert f"about {0.05 * total:.1f} would be by chance" in first
    assert "None of" not in first


def test_the_abnormal_return_table_is_the_results(payload):
    lines = [line for line in block(README.read_text()).splitlines() if line.startswith("| vs ")]
    other = {e["id"]: e["day0"] for e in (payload.get("other_day0") or {}).get("events", [])}
    checked = 0
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        label, event_id, day0 = cells[:3]
        studies = payload["other_day0"]["studies"] if other.get(event_id) == day0 else payload["studies"]
        rows = {r["ticker"]: r for r in studies[label]["car"]["(0)"] if r["event_id"] == event_id}
        for k, ticker in enumerate(payload["config"]["focus"]):
            car, t, p = cells[3 + 3 * k : 6 + 3 * k]
            assert float(car.rstrip("%")) == pytest.approx(100 * rows[ticker]["car"], abs=0.005)
            assert float(t) == pytest.approx(rows[ticker]["t"], abs=0.005)
            assert float(p) == pytest.approx(rows[ticker]["pvalue"], abs=0.0005)
            checked += 1
    n_readings = len(payload["events"]) + len(other)
    assert checked == len(payload["studies"]) * n_readings * len(payload["config"]["focus"])


def test_the_raw_moves_and_the_press_are_the_price_files(payload, prices_dir):
    text = block(README.read_text())
    first = text.splitlines()[0]
    groups = re.findall(r"((?:[A-Z]{2,5} [+-]\d+\.\d\d%(?:,| and)? ?)+) on (\d{4}-\d\d-\d\d)", first)
    assert groups, first  # the sentence of raw moves is there to check
    for group, day in groups:
        for ticker, value in re.findall(r"([A-Z]{2,5}) ([+-]\d+\.\d\d)%", group):
            with (prices_dir / f"{ticker}.csv").open() as f:
                rows = [(r["Date"][:10], float(r["Adj Close"])) for r in csv.DictReader(f) if r["Adj Close"]]
            raw = next(now / before - 1 for (_, before), (d, now) in zip(rows, rows[1:]) if d == day)
            assert float(value) == pytest.approx(100 * raw, abs=0.005), (ticker, day)
    # "The press said NVIDIA closed up about 3%": a close-to-close press figure, and the data, round to 3
    intro = README.read_text().split("## What the default study finds", 1)[1].split("<!-- computed:start", 1)[0]
    assert "closed up about 3%" in intro
    nvda = [r for r in payload["press_check"] if r["ticker"] == "NVDA" and r["basis"] == "close"]
    assert any(round(r["move_pct"]) == 3 and round(r["data_pct"]) == 3 for r in nvda)


def test_the_tests_called_unsuited_over_reject_on_same_day_samples():
    text = block(README.read_text())
    pooled = next(line for line in text.splitlines() if line.startswith("Across all"))
    unsuited = re.findall(r"`(\w+)`", pooled.split("not suited", 1)[1])
    assert "csect_t" in unsuited
    with SIZE_CSV.open() as f:
        size = {
            r["test"]: float(r["rejection_rate"])
            for r in csv.DictReader(f)
            if r["scenario"] == "clustered13_null" and abs(float(r["alpha"]) - 0.05) < 1e-12 and r["rejection_rate"]
        }
    band = 2 * math.sqrt(0.05 * 0.95 / 1000)
    assert all(size[t] > 0.05 + band for t in unsuited), {t: size[t] for t in unsuited}


def test_none_significant_names_its_whole_set():
    payload = {
        "config": {"focus": ["AAA"]},
        "events": [{"id": "e", "day0": "2025-01-02"}],
        "raw_returns": [{"event_id": "e", "event_time": 0, "date": "2025-01-02", "AAA": 0.01}],
        "studies": {
            "vs M": {
                "car": {"(0)": [{"event_id": "e", "ticker": t, "car": 0.001, "t": 0.1, "pvalue": 0.9} for t in "AB"]},
                "tests": [],
                "suited_tests": ["kp_bmp"],
            }
        },
    }
    text = findings_markdown(payload)
    assert "None of the 2 single-stock day-0 abnormal returns (2 stocks x 1 event x 1 benchmark) is significant" in text


def test_the_guides_numbers_are_the_committed_results(payload):
    guide = " ".join((REPO / "docs" / "guide" / "tests.md").read_text().split())
    tests = [
        t
        for t in payload["studies"]["vs SPY"]["tests"]
        if t["window_start"] == 0 and t["window_end"] == 0 and t["scope"] != "single"
    ]
    p = {(t["test"], t["event_id"]): t["pvalue"] for t in tests}
    said = re.search(
        r"cross-sectional t rejects \(p = ([\d.]+)\) while Kolari-Pynnonen's BMP \(p = ([\d.]+)\) and Binder's "
        r"multivariate regression on each day's portfolio \(p = ([\d.]+) and ([\d.]+)\) do not",
        guide,
    )
    assert said, "the guide's sentence on the rescission study changed: check it against results.json"
    mvrm = [v for (name, _), v in p.items() if name == "mvrm_average"]
    expected = [p[("csect_t", None)], p[("kp_bmp", None)], *mvrm]
    assert [float(x) for x in said.groups()] == [round(v, 3) for v in expected]
    assert p[("csect_t", None)] < 0.05 and all(v >= 0.05 for v in expected[1:])
