"""Shared fixtures.

Real data live in ``../shared/data`` beside the repository (third-party files, never copied in).  Set
``EVENTSTUDY_SHARED_DIR`` to point elsewhere.  Tests that need the data skip, with the reason, where it is
missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# the independent reference loops (tests/reference/inference_loops.py), importable from every test folder as
# ``import inference_loops as loops``
sys.path.insert(0, str(Path(__file__).resolve().parent / "reference"))

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """The shared data folder: ``$EVENTSTUDY_SHARED_DIR`` or ``<repo>/../shared``."""
    return Path(os.environ.get("EVENTSTUDY_SHARED_DIR", REPO_ROOT.parent / "shared")).resolve()


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(
            f"real data not found at {path}: put the shared data beside the repository or set EVENTSTUDY_SHARED_DIR"
        )
    return path


@pytest.fixture(scope="session")
def prices_dir() -> Path:
    """``shared/data/prices``: one ``<TICKER>.csv`` per ticker (Date, OHLC, Adj Close, Volume)."""
    return _require(shared_dir() / "data" / "prices")


@pytest.fixture(scope="session")
def global_prices_dir() -> Path:
    """``shared/data/prices_global``: non-US listings, their local indices and FX (bases differ by file; see
    ``PROVENANCE-global-intraday.md``)."""
    return _require(shared_dir() / "data" / "prices_global")


@pytest.fixture(scope="session")
def long_prices_dir() -> Path:
    """``shared/data/prices_adjclose_long``: adjusted closes from 2018 for the dane tickers."""
    return _require(shared_dir() / "data" / "prices_adjclose_long")


@pytest.fixture(scope="session")
def factors_dir() -> Path:
    """``shared/data/factors``: Ken French's daily factors (tidy CSVs, percent units; ``original/`` as published)."""
    return _require(shared_dir() / "data" / "factors")


@pytest.fixture(scope="session")
def events_dir() -> Path:
    """``shared/events``: the export-control research (export_controls.csv, reported_moves.csv)."""
    return _require(shared_dir() / "events")


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory, monkeypatch):
    """Every test gets its own empty cache and never reaches the network unless marked ``live``."""
    monkeypatch.setenv("EVENTSTUDY_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("EVENTSTUDY_PRICES_DIR", raising=False)
    monkeypatch.delenv("EVENTSTUDY_FACTORS_DIR", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")


@pytest.fixture(scope="module")
def catalog():
    """The built-in export-control catalog; loading it warns once about events of unknown release session."""
    import eventstudy as es

    with pytest.warns(es.SessionAssumptionWarning):
        return es.load_events("export-controls")


@pytest.fixture(scope="session")
def intraday_dir() -> Path:
    """``shared/data/intraday``: ``<TICKER>_<interval>.csv`` bars (see PROVENANCE-global-intraday.md)."""
    return _require(shared_dir() / "data" / "intraday")


PRUNE = {".git", ".venv", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache", "__pycache__"}


def checkout_files() -> set[Path]:
    """Every path in the checkout, apart from version control, the venv and the tools' own caches."""
    found = set()
    for root, dirs, files in os.walk(REPO_ROOT):
        dirs[:] = [d for d in dirs if d not in PRUNE]
        found.update(Path(root, name) for name in dirs + files)
    return found


@dataclass(frozen=True)
class Site:
    """The built site and whether the build left the checkout as it found it."""

    path: Path
    checkout_unchanged: bool


@pytest.fixture(scope="session")
def docs_site(prices_dir, tmp_path_factory) -> Site:
    """The documentation site, built once per session (``--strict``, every notebook executed) into a
    temporary folder: the docs test and the browser test read the same build."""
    pytest.importorskip("mkdocs_jupyter", reason="the docs extra is not installed: pip install -e '.[docs]'")
    env = {**os.environ, "EVENTSTUDY_SHARED_DIR": str(prices_dir.parents[1]), "NO_MKDOCS_2_WARNING": "1"}
    env.pop("EVENTSTUDY_DOCS_EXECUTE", None)
    site = tmp_path_factory.mktemp("docs") / "site"
    before = checkout_files()
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if done.returncode:
        errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
        pytest.fail("\n".join(["mkdocs build failed:", *errors, "", done.stderr[-6000:]]), pytrace=False)
    return Site(site, checkout_files() == before)
