"""The committed report reproduces byte for byte, from any checkout depth, and names no machine's path.

The slow test copies the package into two checkouts at different depths (``<tmp>/a/repo`` and
``<tmp>/a/b/c/repo``), each with the shared data linked as ``../shared`` beside it, runs the README's first command
in each, and compares every file it writes with the file committed at ``HEAD`` (read with ``git show``, so a run
that already overwrote ``results/`` cannot satisfy it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from eventstudy.data import CsvSource
from eventstudy.report import ReportConfig
from eventstudy.report.provenance import (
    config_record,
    describe_source,
    input_paths,
    name_paths_relative,
    relative_path,
    report_root,
)
from tests.conftest import shared_dir

REPO = Path(__file__).resolve().parents[2]
REPORT = "results/ai-diffusion-rescission"
README_COMMAND = [
    "report",
    "--no-progress",
    "--prices-dir", "../shared/data/prices",
    "--reported-moves", "../shared/events/reported_moves.csv",
]  # fmt: skip


def test_text_is_never_rewritten_as_a_path(tmp_path):
    """Sentences with slashes stay as written; only the run's own input paths, given exactly, are made relative."""
    prices = tmp_path / "shared" / "prices"
    prices.mkdir(parents=True)
    config = ReportConfig(prices_dir=str(prices), out=str(tmp_path / "results" / "study"))
    known = input_paths(config, report_root(config.out_dir))
    assert name_paths_relative("up 5% /week; tariffs cut to 30%/10%", known) == "up 5% /week; tariffs cut to 30%/10%"
    assert name_paths_relative(f"{prices}/NVDA.csv row 3: bad price", known) == (
        "../shared/prices/NVDA.csv row 3: bad price"
    )


def test_paths_are_recorded_relative_to_the_folder_holding_the_report(tmp_path):
    """Config fields and the source's location, relative to ``results/``'s parent layout; a linked data folder
    is written as the link the user named, not where it points."""
    real = tmp_path / "elsewhere" / "prices"
    real.mkdir(parents=True)
    (real / "SPY.csv").write_text("Date,Adj Close\n2025-01-02,1\n")
    checkout = tmp_path / "deep" / "er" / "repo"
    checkout.mkdir(parents=True)
    (checkout.parent / "shared").symlink_to(real.parent, target_is_directory=True)
    given = str(checkout / ".." / "shared" / "prices")
    config = ReportConfig(
        prices_dir=given,
        out=str(checkout / "results" / "study"),
        command=(("--prices-dir", given, True), ("--event", "x", False)),
    )
    root = report_root(config.out_dir)
    assert root == checkout / "results"
    record = config_record(config, root)
    assert record["prices_dir"] == "../../shared/prices"
    assert record["out"] == "study"
    assert record["command"] == [["--prices-dir", "../../shared/prices", True], ["--event", "x", False]]
    source = describe_source(CsvSource(given), root, given=given)
    assert source["location"] == "../../shared/prices" and source["name"] == "csv:../../shared/prices"
    assert relative_path("/a/b/c", "/a/x") == "../b/c"


def _committed_files() -> dict[str, bytes]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout (the committed report is read with `git show HEAD:<file>`)")
    listed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", "HEAD", REPORT], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    if not listed:
        pytest.fail(f"{REPORT} is not committed: run the README's first command and commit it")
    show = (subprocess.run(["git", "show", f"HEAD:{f}"], cwd=REPO, capture_output=True, check=True) for f in listed)
    return {name[len(REPORT) + 1 :]: done.stdout for name, done in zip(listed, show)}


def _checkout(where: Path, shared: Path) -> Path:
    """A copy of the package's tracked files at ``where``/repo, with ``where``/shared linked to the data."""
    repo = where / "repo"
    tracked = subprocess.run(
        ["git", "ls-files", "eventstudy"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    for name in filter(None, tracked):
        source = REPO / name
        if source.is_file():  # the working tree's version: the code under test
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    (where / "shared").symlink_to(shared, target_is_directory=True)
    return repo


@pytest.mark.slow
@pytest.mark.parametrize("depth", ["a", "a/b/c"])
def test_readme_command_reproduces_the_committed_report(tmp_path, depth):
    shared = shared_dir()
    if not (shared / "data" / "prices").is_dir() or not (shared / "events" / "reported_moves.csv").exists():
        pytest.skip(
            f"real data not found at {shared}: put the shared data beside the repository or set EVENTSTUDY_SHARED_DIR"
        )
    committed = _committed_files()
    repo = _checkout(tmp_path / depth, shared)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTSTUDY_")}
    env |= {"EVENTSTUDY_OFFLINE": "1", "PYTHONPATH": str(repo), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-m", "eventstudy", *README_COMMAND], cwd=repo, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    written = repo / REPORT
    produced = {p.relative_to(written).as_posix(): p.read_bytes() for p in written.rglob("*") if p.is_file()}
    assert sorted(produced) == sorted(committed), "the report writes other files than are committed"
    differ = [name for name in committed if produced[name] != committed[name]]
    assert not differ, f"differ from HEAD from {depth}/repo (rerun the README's first command and commit): {differ}"
    for name, data in produced.items():  # no machine's path: neither the checkout nor the data's real folder
        if name.endswith((".json", ".md", ".html", ".csv")):
            text = data.decode()
            for machine in {str(tmp_path), str(shared), str(REPO), os.path.expanduser("~")} - {"/"}:
                assert machine not in text, (name, machine)
