"""scripts/size_power.py on the shared prices with tiny settings: complete, consistent outputs."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.inference import TESTS

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "size_power.py"

pytestmark = pytest.mark.slow  # two runs of the script on the real prices

ALPHAS = [0.01, 0.05, 0.10]


def load_script():
    spec = importlib.util.spec_from_file_location("size_power", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["size_power"] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=[5, 16], ids=["5-firms", "16-firms"])
def run(request, prices_dir, tmp_path_factory):
    """20 samples per scenario; 16 firms exceed the 14 stocks, so stocks repeat and same-day samples are capped."""
    out = tmp_path_factory.mktemp(f"size-power-{request.param}")
    argv = ["--prices-dir", str(prices_dir), "--samples", "20", "--firms", str(request.param), "--seed", "3"]
    assert load_script().main([*argv, "--out", str(out), "--quiet"]) == 0
    csv = pd.read_csv(out / "size_power.csv")
    settings = json.loads((out / "size_power.json").read_text())
    return request.param, out, csv, settings


def markdown_rates(text: str) -> dict[tuple[str, str], str]:
    """(scenario label, test) -> the cell of the 5% table, markers stripped."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    cells = {}
    for line in rows[2:]:
        values = [c.strip() for c in line.strip("|").split("|")]
        test = values[0].strip("`")
        for label, value in zip(header[2:], values[2:]):
            cells[label, test] = re.sub(r"[*†]", "", value)
    return cells


def test_outputs_exist(run):
    _, out, _, settings = run
    for name in ("size_power.csv", "size_power.md", "size_power.json"):
        assert (out / name).stat().st_size > 0
    assert settings["samples"] == 20 and settings["seed"] == 3
    assert settings["data"]["folder"] == "prices" and settings["data"]["market"] == "SPY"
    assert settings["seconds"]["total"] > 0 and settings["versions"]["eventstudy"]


def test_every_scenario_test_and_alpha_once(run):
    firms, _, csv, settings = run
    scenarios = [sc["key"] for sc in settings["scenarios"]]
    expected = pd.MultiIndex.from_product([scenarios, list(TESTS), ALPHAS], names=["scenario", "test", "alpha"])
    got = pd.MultiIndex.from_frame(csv[["scenario", "test", "alpha"]])
    assert len(got) == len(expected) and got.sort_values().equals(expected.sort_values())
    # 0, +1% and +2% for each design; the same-day design never has more firms than stocks on one date
    design = settings["design"]
    assert sorted(csv["abnormal"].unique()) == [0.0, 0.01, 0.02]
    assert design["firms_spread"] == firms
    assert design["firms_clustered"] == min(firms, 13)
    assert len(scenarios) == (9 if firms > 13 else 6)
    assert set(csv.loc[csv["clustered"], "n_firms"]) == {design["firms_clustered"]}


def test_rates_are_probabilities(run):
    _, _, csv, _ = run
    ran = csv["n_valid"] > 0
    assert csv.loc[ran, "rejection_rate"].between(0, 1).all()
    assert csv.loc[~ran, "rejection_rate"].isna().all()
    se = np.sqrt(csv["rejection_rate"] * (1 - csv["rejection_rate"]) / csv["n_valid"])
    np.testing.assert_allclose(csv.loc[ran, "se"], se[ran], rtol=1e-4, atol=1e-6)
    # a rate at a wider level is never below the rate at a stricter one
    wide = csv[ran].pivot_table(index=["scenario", "test"], columns="alpha", values="rejection_rate")
    assert ((wide[0.01] <= wide[0.05] + 1e-12) & (wide[0.05] <= wide[0.10] + 1e-12)).all()


def test_markdown_table_shows_the_csv_at_5_percent(run):
    _, out, csv, settings = run
    cells = markdown_rates((out / "size_power.md").read_text())
    labels = {sc["key"]: sc["label"] for sc in settings["scenarios"]}
    at5 = csv[np.isclose(csv["alpha"], 0.05)]
    assert len(cells) == len(at5)
    for row in at5.itertuples():
        expected = "n/a" if row.n_valid == 0 else f"{row.rejection_rate:.3f}"
        assert cells[labels[row.scenario], row.test] == expected, (row.scenario, row.test)
