"""Environment settings and the default source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from eventstudy import DataSourceError
from eventstudy.data import CachedSource, CsvSource, YahooSource, config, default_source


def test_cache_dir_from_env_or_platform(tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTSTUDY_CACHE_DIR", str(tmp_path / "c"))
    assert config.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("EVENTSTUDY_CACHE_DIR")
    import platformdirs

    assert config.cache_dir() == Path(platformdirs.user_cache_dir("eventstudy"))


@pytest.mark.parametrize(
    "value, expected",
    [("1", True), ("TRUE", True), ("Yes", True), ("on", True), ("0", False), ("no", False), ("", False)],
)
def test_offline_values(monkeypatch, value, expected):
    monkeypatch.setenv("EVENTSTUDY_OFFLINE", value)
    assert config.is_offline() is expected


def test_offline_unset(monkeypatch):
    monkeypatch.delenv("EVENTSTUDY_OFFLINE", raising=False)
    assert config.is_offline() is False


def test_folders_from_env(tmp_path, monkeypatch):
    assert config.prices_dir() is None and config.factors_dir() is None
    monkeypatch.setenv("EVENTSTUDY_PRICES_DIR", str(tmp_path))
    monkeypatch.setenv("EVENTSTUDY_FACTORS_DIR", str(tmp_path / "f"))
    assert config.prices_dir() == tmp_path and config.factors_dir() == tmp_path / "f"


def test_default_source_reads_the_prices_folder(prices_dir, monkeypatch):
    monkeypatch.setenv("EVENTSTUDY_PRICES_DIR", str(prices_dir))
    src = default_source()
    assert isinstance(src, CsvSource)
    day = src.get_prices("NVDA", "2025-05-12", "2025-05-13").pct_change().iloc[-1] * 100
    assert round(day["NVDA"], 2) == 5.63


def test_default_source_with_a_missing_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTSTUDY_PRICES_DIR", str(tmp_path / "missing"))
    with pytest.raises(DataSourceError, match=r"EVENTSTUDY_PRICES_DIR is set to .*missing"):
        default_source()


def test_default_source_is_cached_yahoo(monkeypatch):
    src = default_source()
    assert isinstance(src, CachedSource) and isinstance(src.source, YahooSource)
    assert src.name == "cache:yahoo"
    monkeypatch.setenv("EVENTSTUDY_OFFLINE", "1")
    with pytest.raises(DataSourceError, match="offline"):
        src.get_prices("NVDA", "2025-05-01", "2025-05-30")


def test_import_does_not_load_yfinance():
    code = "import sys, eventstudy, eventstudy.data; eventstudy.CsvSource; print('yfinance' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
