"""Files written aside and moved into place (issue 21): a full disk or a kill leaves the old file whole."""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from eventstudy.foundation.files import atomic_write_bytes
from eventstudy.foundation.summary import Summary, Table

REPO = Path(__file__).resolve().parents[2]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def full_disk_on(monkeypatch, name: str):
    real = os.replace

    def replace(src, dst):
        if Path(dst).name == name:
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def test_a_full_disk_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "car.csv"
    path.write_bytes(b"old,complete\n1,2\n")
    before = sha(path)
    full_disk_on(monkeypatch, "car.csv")
    with pytest.raises(OSError, match="No space left"):
        atomic_write_bytes(path, b"new\n" * 1000)
    assert sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["car.csv"]


def summary(label: str) -> Summary:
    car = pd.DataFrame({"ticker": ["NVDA", "AMD"], "car": [0.0418, 0.0291], "run": [label, label]})
    tests = pd.DataFrame({"test": ["car_t"], "stat": [1.53], "run": [label]})
    return Summary("study", [("Model", "market model")], [Table("CAR", car), Table("Tests", tests)])


def test_summary_csv_tables_survive_a_full_disk_whole(tmp_path, monkeypatch):
    first = summary("first").to_csv(tmp_path)
    before = {p.name: sha(p) for p in first}
    full_disk_on(monkeypatch, "tests.csv")  # the second table cannot be written
    with pytest.raises(OSError, match="No space left"):
        summary("second").to_csv(tmp_path)
    assert sha(tmp_path / "tests.csv") == before["tests.csv"]  # the old table, whole
    assert pd.read_csv(tmp_path / "car.csv")["run"].tolist() == ["second", "second"]  # written whole too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["car.csv", "tests.csv"]


@pytest.mark.slow
def test_a_writer_killed_mid_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "car.csv"
    path.write_bytes(b"old\n")
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        from pathlib import Path
        from eventstudy.foundation.files import atomic_write_bytes
        os.replace = lambda src, dst: os.kill(os.getpid(), signal.SIGKILL)
        atomic_write_bytes(Path({str(path)!r}), b"new\\n" * 100000)
        """
    )
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert child.returncode == -9
    assert path.read_bytes() == b"old\n"
