"""Issue 12, class 3: an interrupted or failing `eventstudy report` leaves the previous report intact.

A first report is written for real (two tickers, one event, the shared prices); each test then runs a second
report into the same folder and makes it fail while writing: a full disk, Ctrl-C, a process killed with
SIGKILL, a kill in the instant between the two renames.  Afterwards the folder must hold the first report
byte for byte, and no staging folder may be left once the next run has started.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from eventstudy.data.atomic import leftovers, staged_folder
from eventstudy.report import ReportConfig, build_report

REPO = Path(__file__).resolve().parents[2]
EVENT = "bis-rescinds-diffusion-huawei-guidance-2025-05-13"


def small(prices_dir, out, title) -> ReportConfig:
    return ReportConfig(
        title=title,
        tickers=("NVDA", "AMD"),
        focus=("NVDA",),
        market=("SPY",),
        events=(EVENT,),
        prices_dir=str(prices_dir),
        out=str(out),
    )


def build(config):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unknown release session of the event: not what is tested here
        return build_report(config, progress=False)


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def first_report(tmp_path_factory, prices_dir):
    out = tmp_path_factory.mktemp("first") / "study"
    build(small(prices_dir, out, "first run"))
    return out


@pytest.fixture
def previous(first_report, tmp_path):
    out = tmp_path / "study"
    shutil.copytree(first_report, out)
    return out, snapshot(out)


def test_the_first_report_is_complete(first_report):
    names = set(snapshot(first_report))
    assert {"report.md", "report.html", "results.json", "tables/car_vs-spy.csv", "figures/prices.png"} <= names
    assert "# first run" in (first_report / "report.md").read_text()
    umask = os.umask(0)
    os.umask(umask)
    assert first_report.stat().st_mode & 0o777 == 0o777 & ~umask  # published with the user's umask, not 0o700


def test_a_full_disk_while_writing_leaves_the_previous_report(previous, prices_dir, monkeypatch):
    out, before = previous
    real = Path.write_text

    def full_disk(self, text, *args, **kwargs):
        if self.name == "report.md":
            real(self, text[: len(text) // 2], *args, **kwargs)  # a truncated file, then the error
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        build(small(prices_dir, out, "second run"))
    assert snapshot(out) == before
    assert leftovers(out) == []


@pytest.mark.slow
def test_ctrl_c_while_writing_leaves_the_previous_report(previous, prices_dir, monkeypatch):
    out, before = previous
    real = Path.write_text

    def interrupted(self, text, *args, **kwargs):
        if self.name == "report.html":  # results.json and report.md written, then the user presses Ctrl-C
            raise KeyboardInterrupt
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build(small(prices_dir, out, "second run"))
    assert snapshot(out) == before  # not the second run's report.md beside the first run's report.html
    assert leftovers(out) == []


@pytest.mark.slow
def test_a_failing_rename_into_place_puts_the_previous_report_back(previous, prices_dir, monkeypatch):
    out, before = previous
    real = os.replace

    def refuse_stage(src, dst):
        if ".study.tmp-" in str(src):
            raise OSError(errno.EACCES, "Permission denied", str(dst))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", refuse_stage)
    with pytest.raises(OSError, match="Permission denied"):
        build(small(prices_dir, out, "second run"))
    assert snapshot(out) == before
    assert leftovers(out) == []


@pytest.mark.slow
def test_a_successful_run_replaces_the_report_as_a_whole(previous, prices_dir):
    out, before = previous
    (out / "tables" / "stale_from_an_old_version.csv").write_text("x\n1\n")
    build(small(prices_dir, out, "second run"))
    assert "# second run" in (out / "report.md").read_text()
    assert not (out / "tables" / "stale_from_an_old_version.csv").exists()  # no mix of two runs
    assert set(snapshot(out)) == set(before)
    assert leftovers(out) == []


def test_a_folder_that_is_not_a_report_is_not_replaced(tmp_path, prices_dir):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    with pytest.raises(FileExistsError, match=r"holds files but no results\.json"):
        build(small(prices_dir, mine, "oops"))
    assert (mine / "thesis.tex").read_text() == "years of work"


KILLER = """
import os, signal, sys, warnings
sys.path.insert(0, {repo!r})
from pathlib import Path
from eventstudy.report import ReportConfig, build_report

mode = sys.argv[1]
if mode == "mid-write":  # killed while report.md is half written
    real = Path.write_text
    def write_text(self, text, *a, **k):
        if self.name == "report.md":
            real(self, text[: len(text) // 2], *a, **k)
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, text, *a, **k)
    Path.write_text = write_text
if mode == "between-renames":  # killed after the old report was set aside, before the new one went in
    real_replace = os.replace
    def replace(src, dst):
        if ".study.tmp-" in str(src):
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst)
    os.replace = replace
config = ReportConfig(title="killed run", tickers=("NVDA", "AMD"), focus=("NVDA",), market=("SPY",),
                      events=({event!r},), prices_dir={prices!r}, out={out!r})
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    build_report(config, progress=False)
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["mid-write", "between-renames"])
def test_a_killed_run_loses_nothing_and_the_next_run_cleans_up(previous, prices_dir, tmp_path, mode):
    out, before = previous
    script = tmp_path / "killer.py"
    script.write_text(KILLER.format(repo=str(REPO), event=EVENT, prices=str(prices_dir), out=str(out)))
    child = subprocess.run([sys.executable, str(script), mode], capture_output=True, timeout=120)
    assert child.returncode == -9, child.stderr.decode()[-2000:]
    assert leftovers(out)  # what the kill left: a staging folder, or the old report set aside
    if mode == "mid-write":
        assert snapshot(out) == before
    else:
        assert not out.exists()  # the instant between the two renames
    # the next run for the same folder first puts back or removes what the dead run left
    with pytest.raises(RuntimeError), staged_folder(out, marker="results.json"):
        raise RuntimeError("a run that fails at once")
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_an_output_path_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "report"
    target.write_text("a file, not a folder")
    with pytest.raises(NotADirectoryError, match=r"report exists and is not a folder"), staged_folder(target):
        pass
    assert target.read_text() == "a file, not a folder"
    assert leftovers(target) == []
