"""staged_folder under races, full disks and impossible paths (issue 21): one run wins whole, the other ends
cleanly, errors name the user's folder, and the earlier output is never changed (checked by sha256)."""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from eventstudy.data.atomic import leftovers, staged_folder

REPO = Path(__file__).resolve().parents[2]


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def publish(target: Path, label: str, files: int = 3) -> None:
    with staged_folder(target, marker="results.json") as stage:
        for k in range(files):
            (stage / f"part{k}.txt").write_text(f"{label} {k}\n")
        (stage / "results.json").write_text(f'{{"run": "{label}"}}\n')


def test_a_run_publishing_between_our_two_renames_does_not_break_ours(tmp_path, monkeypatch):
    target = tmp_path / "same"
    publish(target, "earliest")
    real = os.replace
    injected = []

    def racing(src, dst):
        # just before our output goes in, another run's complete output lands at the target
        if ".same.tmp-" in str(src) and Path(dst) == target and not injected:
            injected.append(True)
            other = tmp_path / "other-run"
            other.mkdir()
            (other / "results.json").write_text('{"run": "other"}\n')
            real(other, dst)  # the target was set aside a moment ago: the other run's output goes in
        return real(src, dst)

    monkeypatch.setattr(os, "replace", racing)
    publish(target, "ours")  # before issue 21: [Errno 39] Directory not empty: '.same.old-...'
    assert injected
    assert (target / "results.json").read_text() == '{"run": "ours"}\n'
    assert sorted(snapshot(target)) == ["part0.txt", "part1.txt", "part2.txt", "results.json"]  # whole, no mix
    assert leftovers(target) == []


def test_a_full_disk_while_writing_names_the_users_file_and_changes_nothing(tmp_path):
    target = tmp_path / "study"
    publish(target, "first")
    before = snapshot(target)
    with pytest.raises(OSError, match=r"could not write .*study/tables/car\.csv \(No space left on device\)") as info:
        with staged_folder(target, marker="results.json") as stage:
            (stage / "tables").mkdir()
            raise OSError(errno.ENOSPC, "No space left on device", str(stage / "tables" / "car.csv"))
    assert info.value.errno == errno.ENOSPC and ".tmp-" not in str(info.value)
    assert snapshot(target) == before
    assert leftovers(target) == []


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs a /proc file system")
def test_an_output_folder_that_cannot_be_created_names_the_users_path():
    with pytest.raises(OSError, match=r"cannot create the output folder /proc/x") as info:
        with staged_folder("/proc/x"):
            pass  # pragma: no cover - never reached
    assert ".x.tmp-" not in str(info.value) and info.value.filename == "/proc/x"


@pytest.mark.slow
def test_two_processes_racing_into_one_folder_both_end_cleanly(tmp_path):
    """Two processes publish 60 outputs each into one folder: no error, and the folder is always one run's whole."""
    target = tmp_path / "same"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from pathlib import Path
        from eventstudy.data.atomic import staged_folder
        label = sys.argv[1]
        for k in range(60):
            with staged_folder(Path({str(target)!r}), marker="results.json") as stage:
                for j in range(5):
                    (stage / f"part{{j}}.txt").write_text(f"{{label}} {{k}}\\n")
                (stage / "results.json").write_text(f"{{label}} {{k}}\\n")
        """
    )
    runs = [subprocess.Popen([sys.executable, "-c", script, name], stderr=subprocess.PIPE) for name in ("A", "B")]
    for run in runs:
        assert run.wait(120) == 0, run.stderr.read().decode() if run.stderr else ""
    stamp = (target / "results.json").read_text()
    assert {p.read_text() for p in target.glob("part*.txt")} == {stamp}  # one run's output, whole
    assert leftovers(target) == []


def test_a_target_another_run_swaps_away_meanwhile_is_no_users_folder(tmp_path, monkeypatch):
    """The checks read the target once each: a folder that vanishes between them (another run swapping its
    output in) is neither 'not a folder' nor somebody's files (CI saw 1 such race in 120 swaps)."""
    target = tmp_path / "same"
    target.mkdir()
    (target / "other.txt").write_text("another run's half-swapped folder")
    real_scandir = os.scandir

    def vanished(path):
        if not isinstance(path, int) and Path(path) == target:
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", vanished)
    with staged_folder(target, marker="results.json") as stage:
        (stage / "results.json").write_text("{}")
    monkeypatch.undo()
    assert (target / "results.json").read_text() == "{}"
