"""The command line: `eventstudy events list|show`, error lines and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pandas as pd
import pytest

from eventstudy import __version__
from eventstudy.cli import build_parser, main

RESCISSION = "bis-rescinds-diffusion-huawei-guidance-2025-05-13"


def test_events_list_prints_every_event(capsys):
    assert main(["events", "list"]) == 0
    out, err = capsys.readouterr()
    assert RESCISSION in out
    assert out.splitlines()[0].split() == ["id", "date", "session", "day0", "category", "direction", "title"]
    assert len(out.splitlines()) == 2 + 54  # header, rule, one line per event
    assert "Traceback" not in err


def test_events_list_json_parses_and_filters(capsys):
    assert main(["events", "list", "--format", "json", "--category", "media-report", "--since", "2025-01-01"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records and {r["category"] for r in records} == {"media-report"}
    assert all(r["date"] >= "2025-01-01" for r in records)
    leak = next(r for r in records if r["id"] == "bloomberg-ai-diffusion-tiers-report-2025-01-08")
    assert leak["day0"] == "2025-01-10"


def test_events_list_csv(capsys):
    assert main(["events", "list", "--format", "csv", "--direction", "easing"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(table.columns) == ["id", "date", "session", "day0", "category", "direction", "title"]
    assert set(table["direction"]) == {"easing"}
    assert RESCISSION in set(table["id"])


def test_events_list_trade_policy_tariffs(capsys, events_dir):
    assert main(["events", "list", "--catalog", "trade-policy", "--category", "tariff", "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    research = pd.read_csv(events_dir / "trade_policy.csv")
    assert sorted(table["id"]) == sorted(research.loc[research["category"] == "tariff", "id"])
    assert set(table["category"]) == {"tariff"}


def test_unknown_catalog_names_the_built_in_ones(capsys):
    assert main(["events", "list", "--catalog", "trade-polcy"]) == 2
    assert "export-controls, trade-policy" in capsys.readouterr().err


def test_events_show_prints_all_fields_and_day0(capsys):
    assert main(["events", "show", RESCISSION]) == 0
    out = capsys.readouterr().out
    assert f"id:          {RESCISSION}" in out
    assert "day0:        2025-05-13" in out and "session unknown" in out
    for field in ("issuer:", "description:", "confounders:", "sources:", "affected:", "direction:   easing"):
        assert field in out


def test_events_show_unknown_id_is_one_line_and_exit_2(capsys):
    assert main(["events", "show", "bis-rescinds-diffusion-huawei-guidance-2025-05-14"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    typo = "bis-rescinds-diffusion-huawei-guidance-2025-05-14"
    assert lines[0].startswith(f"eventstudy: error: unknown event id '{typo}';")
    assert f"did you mean '{RESCISSION}'" in lines[0]


def test_user_catalog_and_schema_error(tmp_path, capsys):
    good = tmp_path / "mine.csv"
    good.write_text("id,date,session,title\nmy-event,2025-01-08,post,My event\n", encoding="utf-8")
    assert main(["events", "show", "my-event", "--catalog", str(good)]) == 0
    assert "day0:        2025-01-10" in capsys.readouterr().out

    bad = tmp_path / "bad.csv"
    bad.write_text("id,date,session\nx,2025-01-08,evening\n", encoding="utf-8")
    assert main(["events", "list", "--catalog", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "eventstudy: error: bad.csv row 1 (id 'x'), column 'session': expected one of pre, intraday, post, "
        "unknown; got 'evening'."
    ]


def test_input_errors_exit_2_without_traceback(capsys):
    assert main(["events", "list", "--catalog", "no-such-catalog"]) == 2
    assert main(["events", "list", "--category", "nonsense"]) == 2
    assert main(["events", "list", "--since", "yesterday"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("eventstudy: error:") == 3


def test_debug_shows_the_traceback(capsys):
    assert main(["--debug", "events", "list", "--catalog", "no-such-catalog"]) == 2
    assert "Traceback" in capsys.readouterr().err
    assert main(["events", "list", "--catalog", "no-such-catalog", "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_usage_errors_and_version(capsys):
    assert main([]) == 2
    assert main(["events", "list", "--format", "xml"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"eventstudy {__version__}"


def test_parser_exposes_subparsers_for_more_commands():
    parser = build_parser()
    assert "events" in parser.subparsers.choices


@pytest.mark.slow
def test_python_dash_m(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "eventstudy", "events", "show", RESCISSION],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2025-05-13" in done.stdout
