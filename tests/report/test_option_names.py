"""Every option under one name: EventStudy's arguments, the command line's options and the study file's keys.

The three sets are read from the code (the signatures, the argparse parser, the study file's schema) and
compared; what differs on purpose is listed below, each with the reason.
"""

from __future__ import annotations

import inspect
import io

import pandas as pd
import pytest

from eventstudy import EventStudy
from eventstudy.cli import build_parser
from eventstudy.report import ReportConfig, load_study
from eventstudy.report.study import ALIASES, KEYS, PYTHON_ONLY, read_study

# -- deliberate exceptions ---------------------------------------------------------------------------------
#: EventStudy arguments no front end but Python gives: data objects, and settings the report fixes.
PYTHON_ONLY_ARGUMENTS = {
    "events",  # the DataFrame itself; a study names its file (catalog) and picks ids (events, below)
    "returns",  # the report reads prices (prices_dir) and computes returns
    "source",  # a PriceSource object; the front ends give prices_dir
    "factors",  # factor tables (DataFrames)
    "risk_free",  # a Series
    "calendar",  # a report counts event time on NYSE sessions
    "outcome",  # the report's [sections.outcomes] gives abnormal volume and volatility
    "client",  # EventStudy.fit's dask.distributed client, a Python object
    "partitions",  # how fit(client=...) splits the securities
}
#: EventStudy's ``events`` is the DataFrame; in a study it is the ids picked from the catalog (same name,
#: the front ends' form of it).  Checked below to be a key and an option all the same.
#: Options of the command line that describe the run, not the study: no study file key.
CLI_ONLY = {
    "study",  # the study file itself
    "out",  # where this run writes (the study's folder is results/<name>)
    "no_progress",  # display
    "format",  # `run`'s output format
    "debug",  # display
    "help",
}
#: Study file keys that are structured tables, not one value: no single option.
TOML_ONLY = {"sections", "prose"}
#: The flag of a key, where it is not the key with '-' for '_': a repeated flag for a list key.
FLAG_OF = {"windows": "--window"}
#: Former names, still accepted: on the command line (flag -> option) and in study files (ALIASES).
CLI_ALIASES = {"--event": "events"}


def _cli_options(command: str) -> dict[str, list[str]]:
    parser = build_parser()
    sub = parser.subparsers.choices[command]  # type: ignore[attr-defined]
    return {a.dest: list(a.option_strings) for a in sub._actions if a.option_strings}


def _python_arguments() -> set[str]:
    names = set(inspect.signature(EventStudy.__init__).parameters) - {"self"}
    fit = set(inspect.signature(EventStudy.fit).parameters) - {"self"}
    return names | fit


def test_python_cli_and_study_file_name_every_option_alike():
    cli = _cli_options("report")
    python = _python_arguments()
    toml = set(KEYS)
    # every key is an option of the command line, under the key's name (or its listed flag)
    for key in toml - TOML_ONLY:
        assert key in cli, f"study file key {key!r} has no command-line option"
        assert FLAG_OF.get(key, "--" + key.replace("_", "-")) == cli[key][0], (key, cli[key])
    # every option is a key, except those that describe the run
    assert set(cli) - toml == CLI_ONLY - {"format"}, set(cli) - toml
    # every EventStudy argument that a front end can give has the same name there; the rest are listed
    assert python - toml == PYTHON_ONLY_ARGUMENTS - {"events"}, python - toml
    assert "events" in toml and "events" in cli
    # the study file refuses the Python-only ones with a reason (not as unknown keys)
    assert set(PYTHON_ONLY) == PYTHON_ONLY_ARGUMENTS - {"events"}
    # ReportConfig holds every key under the same name
    fields = set(ReportConfig.__dataclass_fields__)
    assert toml - TOML_ONLY - {"prose", "sections"} <= fields, toml - fields
    # the former names are aliases only
    for flag, dest in CLI_ALIASES.items():
        assert flag in cli[dest]
    assert ALIASES == {"benchmarks": "market"}


def test_run_takes_the_same_study_options_as_report():
    report, run = _cli_options("report"), _cli_options("run")
    report_only = {"title", "question", "focus", "reported_moves", "global_dir", "intraday_dir", "out", "no_progress"}
    assert set(run) - {"format"} == set(report) - report_only
    for dest in run:
        if dest in report:
            assert run[dest] == report[dest], dest


@pytest.mark.parametrize("key", sorted(PYTHON_ONLY))
def test_a_python_only_key_is_refused_naming_the_key_and_the_file(tmp_path, key):
    study = tmp_path / "mine.toml"
    study.write_text(f'{key} = "x"\n')
    with pytest.raises(ValueError, match=rf"mine\.toml: key\(s\) \['{key}'\] exist only in Python") as info:
        read_study(study)
    assert PYTHON_ONLY[key] in str(info.value)


def test_a_former_key_name_is_read_and_both_names_are_refused(tmp_path):
    study = tmp_path / "s.toml"
    study.write_text('tickers = ["NVDA"]\nbenchmarks = ["SPY", "QQQ"]\n')
    assert load_study(study).market == ("SPY", "QQQ")
    study.write_text('market = ["SPY"]\nbenchmarks = ["QQQ"]\n')
    with pytest.raises(ValueError, match=r"s\.toml: give 'market' only \('benchmarks' is its former name\)"):
        read_study(study)


def test_study_file_keys_and_options_reach_the_config_alike(tmp_path):
    """The same settings from a study file and from the command line give the same ReportConfig."""
    from eventstudy.cli import _config

    (tmp_path / "prices").mkdir()
    study = tmp_path / "s.toml"
    study.write_text(
        'catalog = "export-controls"\ntickers = ["NVDA", "AMD"]\nmarket = ["SPY", "SPY+SOXX"]\n'
        'windows = [[0, 0], [0, 1], [-1, 1]]\nmin_estimation_obs = 120\nalign_benchmarks = "same-date"\n'
        'naive_tz = "America/New_York"\nreturn_kind = "log"\nprices_dir = "prices"\n'
    )
    from_file = load_study(study)
    parser = build_parser()
    args = parser.parse_args(
        ["report", "--catalog", "export-controls", "--tickers", "NVDA,AMD", "--market", "SPY", "--market",
         "SPY+SOXX", "--window", "0,0", "--window", "0,1", "--window=-1,1", "--min-estimation-obs", "120",
         "--align-benchmarks", "same-date", "--naive-tz", "America/New_York", "--return-kind", "log",
         "--prices-dir", str(tmp_path / "prices")]
    )  # fmt: skip
    from_cli = _config(args)
    for key in ("tickers", "market", "windows", "min_estimation_obs", "align_benchmarks", "naive_tz", "return_kind"):
        assert getattr(from_cli, key) == getattr(from_file, key), key
    assert from_file.windows == ((0, 0), (0, 1), (-1, 1))  # in the order given
    assert from_file.prices_dir == str((tmp_path / "prices").resolve())


def test_window_and_events_flags_are_repeatable_in_order():
    args = build_parser().parse_args(
        ["report", "--window", "0,1", "--window=-1,1", "--window", "0,0", "--event", "a", "--events", "b", "c"]
    )
    assert args.windows == [(0, 1), (-1, 1), (0, 0)]
    assert args.events == ["a", "b", "c"]


def test_run_shows_the_study_files_windows_in_their_order(capsys, tmp_path, prices_dir):
    from eventstudy.cli import main

    (tmp_path / "e.csv").write_text("id,date,session\npause,2025-04-09,intraday\n")
    study = tmp_path / "s.toml"
    study.write_text('catalog = "e.csv"\ntickers = ["NVDA"]\nwindows = [[0, 1], [0, 0], [-1, 1]]\n')
    assert main(["run", "--study", str(study), "--prices-dir", str(prices_dir), "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(zip(table["window_start"], table["window_end"])) == [(0, 1), (0, 0), (-1, 1)]
    # --window overrides the file's
    assert main(["run", "--study", str(study), "--prices-dir", str(prices_dir), "--format", "csv", "--window",
                 "0,2"]) == 0  # fmt: skip
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(zip(table["window_start"], table["window_end"])) == [(0, 2)]
