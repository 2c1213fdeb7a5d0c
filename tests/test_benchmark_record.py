"""The speed figures the READMEs state are the recorded run of ``benchmarks/targets.py``, and that run covers
every target of issue 23 (the ratios themselves are measured by the scripts, never by timed unit tests)."""

from __future__ import annotations

import importlib.util
import json
import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"

#: the targets issue 23 asks the table to show, each with its bound
ISSUE_23 = {
    "fit_vs_floor": 3.0,  # fit + car() at most 3x the floor
    "summary_vs_fit": 3.0,  # the first summary() within 3x the fit
    "tests_vs_fit": 3.0,  # all tests on 5,000 same-day firm-events within 3x the fit
    "simulate": 1.2,  # es.simulate 1,000 x 50 at most 1.2 s
    "million_vs_100k": 12.0,  # 1,000,000 firm-events within 12x the 100,000 run
    "million_peak": 2048.0,  # ... with peak memory under 2 GB
    "first_result": 1.0,  # the first result in a fresh process under 1 s
}


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def record() -> dict:
    return json.loads((BENCHMARKS / "targets.json").read_text(encoding="utf-8"))


def test_the_record_holds_every_target_of_issue_23_with_its_bound(record):
    found = {t["key"]: t for t in record["targets"]}
    assert set(ISSUE_23) <= set(found), sorted(set(ISSUE_23) - set(found))
    for key, bound in ISSUE_23.items():
        assert found[key]["limit"] == bound, key
        assert found[key]["met"] == (found[key]["value"] <= bound), key
    assert not record["errors"]


@pytest.mark.parametrize("path", ["README.md", "benchmarks/README.md"])
def test_the_readmes_speed_table_is_the_recorded_run(record, path):
    table = _module("targets").table(record)
    text = (ROOT / path).read_text(encoding="utf-8")
    begin, end = "<!-- targets:begin -->\n", "\n<!-- targets:end -->"
    assert begin in text and end in text, f"{path} has no targets block"
    block = text.split(begin, 1)[1].split(end, 1)[0]
    assert block == table
    for t in record["targets"]:  # each figure printed as recorded, e.g. "2.42x" for 2.4213, with its verdict
        row = next(line for line in block.splitlines() if line.startswith(f"| {t['what']} |"))
        number = f"{t['value']:.2f}" if t["unit"] in ("x", "s") else f"{t['value']:,.0f}"
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[1].startswith(number) and cells[4] == ("yes" if t["met"] else "**no**"), row


def test_the_benchmarks_readme_says_what_the_record_says_is_not_met(record):
    unmet = [t for t in record["targets"] if not t["met"]]
    text = (BENCHMARKS / "README.md").read_text(encoding="utf-8")
    if not unmet:
        assert "Every target of issue 23 is met in the recorded run" in text
    else:
        count = {1: "One", 2: "Two", 3: "Three", 4: "Four"}[len(unmet)]
        verb = "is" if len(unmet) == 1 else "are"
        assert f"{count} of issue 23's ratios {verb} not met in the recorded run" in text
    # the paragraph under the table that says so gives each of the three 3x ratios as recorded
    paragraph = text.split("<!-- targets:end -->", 1)[1].strip().split("\n\n", 1)[0]
    for key in ("fit_vs_floor", "summary_vs_fit", "tests_vs_fit"):
        value = next(t["value"] for t in record["targets"] if t["key"] == key)
        assert f"{value:.2f}x" in paragraph, (key, paragraph)
    # and any time or load average it states is the record's, as the scripts printed it
    seconds = {f"{v:.3f} s" for t in record["targets"] for k, v in t["figures"].items() if k.endswith("seconds")}
    for stated in re.findall(r"\b\d+\.\d{3} s\b", paragraph):
        assert stated in seconds, (stated, sorted(seconds))
    for stated in re.findall(r"load average (\d+\.\d)", paragraph):
        assert stated in {f"{record['load_before']:.1f}", f"{record['load_after']:.1f}"}, stated


def test_a_target_is_met_at_its_bound_and_not_above_or_when_nan(capsys):
    target = _module("record").target
    assert target("a", "a", 3.0, 3.0, "x")["met"]
    assert not target("b", "b", 3.0000001, 3.0, "x")["met"]
    assert not target("c", "c", math.nan, 3.0, "x")["met"]
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("TARGET ")]
    assert [json.loads(line[7:])["key"] for line in lines] == ["a", "b", "c"]
