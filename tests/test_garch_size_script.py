"""scripts/garch_size.py on the shared prices with tiny settings: complete, consistent outputs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "garch_size.py"

pytestmark = pytest.mark.slow  # GARCH fits through the script on the real prices


def load_script():
    spec = importlib.util.spec_from_file_location("garch_size", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["garch_size"] = module
    spec.loader.exec_module(module)
    return module


def test_tiny_run_writes_every_rate(prices_dir, tmp_path):
    script = load_script()
    argv = ["--prices", str(prices_dir), "--samples", "6", "--firms", "5", "--workers", "1", "--quiet"]
    assert script.main([*argv, "--out", str(tmp_path)]) == 0
    csv = pd.read_csv(tmp_path / "garch_size.csv")
    assert len(csv) == 2 * len(script.TESTS) * len(script.ABNORMAL) * len(script.ALPHAS)
    assert set(csv["model"]) == {"OLS", "GARCH"}
    assert csv["rejection_rate"].between(0, 1).all() and (csv["n_samples"] == 6).all()
    settings = json.loads((tmp_path / "garch_size.json").read_text())
    assert settings["pairs_drawn"] == 30 and settings["pairs_kept"] <= 30
    text = (tmp_path / "garch_size.md").read_text()
    assert "6 samples of 5 pseudo-events" in text and np.isfinite(csv["se"]).all()
