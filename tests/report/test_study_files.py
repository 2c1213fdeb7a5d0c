"""Study files: a study is data (TOML) read by the one generic report; nothing of one study leaks into another."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import pandas as pd
import pytest

from eventstudy.cli import main
from eventstudy.report import DEFAULT_REPORT, ReportConfig, load_study
from eventstudy.report.study import DEFAULT_STUDY, read_study

REPO = Path(__file__).resolve().parents[2]
TARIFFS = (
    "id,date,session,title\n"
    "liberation-day-2025-04-02,2025-04-02,post,Reciprocal tariffs announced\n"
    "tariff-pause-2025-04-09,2025-04-09,intraday,90-day pause\n"
)
# words that belong to the built-in rescission study only
RESCISSION_WORDS = (
    "Diffusion", "diffusion", "semiconductor", "rescission", "NVDA", "AMD", "chip", "policy's effect",
)  # fmt: skip


def test_the_repository_study_file_is_the_packaged_default():
    assert DEFAULT_STUDY.parent.name == "studies" and DEFAULT_STUDY.parent.parent.name == "report"
    repo_file = REPO / "studies" / "ai-diffusion-rescission.toml"
    assert repo_file.read_bytes() == DEFAULT_STUDY.read_bytes()
    assert load_study(repo_file) == DEFAULT_REPORT
    # what the README and the committed report say the study is
    assert DEFAULT_REPORT.name == "ai-diffusion-rescission"
    assert DEFAULT_REPORT.events == (
        "report-rescind-diffusion-rule-2025-05-07",
        "bis-rescinds-diffusion-huawei-guidance-2025-05-13",
    )
    assert len(DEFAULT_REPORT.tickers) == 14 and DEFAULT_REPORT.focus == ("NVDA", "AMD")
    assert DEFAULT_REPORT.benchmarks == ("SPY", "QQQ", "SOXX", "SPY+SOXX")
    assert DEFAULT_REPORT.estimation_window == (-250, -11) and DEFAULT_REPORT.windows[-1] == (-5, 5)
    assert DEFAULT_REPORT.sections == ("outcomes", "global", "intraday")


def test_report_config_alone_holds_no_study():
    config = ReportConfig()
    text = repr(dataclasses.asdict(config))
    assert not any(word in text for word in RESCISSION_WORDS), text
    assert config.events == () and config.tickers == () and config.sections == () and config.prose == {}
    assert config.heading == "Event study: study"
    assert ReportConfig(tickers=("A", "B", "C")).focus_tickers == ("A", "B")


def test_unknown_keys_and_wrong_types_name_the_file_and_the_key(tmp_path):
    study = tmp_path / "s.toml"
    study.write_text('name = "x"\nbenchmark = ["SPY"]\n')
    with pytest.raises(ValueError, match=r"s\.toml: unknown key\(s\) \['benchmark'\]"):
        read_study(study)
    study.write_text("tickers = 'NVDA'\n")
    with pytest.raises(ValueError, match="'tickers' must be a list of strings"):
        read_study(study)
    study.write_text("event_window = [5, -5]\n")
    with pytest.raises(ValueError, match="'event_window' must be"):
        read_study(study)
    study.write_text("[prose]\nending = 'x'\n")
    with pytest.raises(ValueError, match=r"unknown \[prose\] key\(s\) \['ending'\]"):
        read_study(study)
    study.write_text("name = \n")
    with pytest.raises(ValueError, match="not valid TOML"):
        read_study(study)


def test_section_options_are_read_with_their_paths_against_the_file(tmp_path):
    (tmp_path / "sub").mkdir()
    study = tmp_path / "sub" / "s.toml"
    study.write_text(
        '[sections.global]\ntitle = "Non-US banks"\nlistings = "../banks.csv"\nevents = ["a"]\n'
        '[sections.intraday]\ncases = "cases.csv"\n'
    )
    config = load_study(study)
    assert config.sections == ("global", "intraday") and config.global_events == ("a",)
    assert config.global_title == "Non-US banks"
    assert Path(config.global_listings) == (tmp_path / "banks.csv").resolve()
    assert Path(config.intraday_cases) == (tmp_path / "sub" / "cases.csv").resolve()
    study.write_text("[sections.global]\nheading = 'x'\n")
    with pytest.raises(ValueError, match=r"\[sections.global\] takes only"):
        read_study(study)


def test_paths_in_a_study_file_are_read_against_its_folder(tmp_path, monkeypatch, capsys, prices_dir):
    folder = tmp_path / "my-study"
    folder.mkdir()
    (folder / "tariffs.csv").write_text(TARIFFS)
    (folder / "study.toml").write_text(
        'name = "tariffs"\ncatalog = "tariffs.csv"\ntickers = ["AVGO", "INTC"]\nbenchmarks = ["SPY"]\n'
    )
    monkeypatch.chdir(tmp_path)  # not the study's folder
    code = main(["run", "--study", "my-study/study.toml", "--prices-dir", str(prices_dir), "--format", "csv"])
    assert code == 0
    table = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert set(table["event_id"]) == {"liberation-day-2025-04-02", "tariff-pause-2025-04-09"}
    assert set(table["ticker"]) == {"AVGO", "INTC"} and set(table["benchmark"]) == {"vs SPY"}


@pytest.fixture(scope="module")
def own_catalog_report(tmp_path_factory, prices_dir):
    folder = tmp_path_factory.mktemp("own")
    (folder / "tariffs.csv").write_text(TARIFFS)
    out = folder / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["report", "--catalog", str(folder / "tariffs.csv"), "--tickers", "AVGO,INTC,MU", "--name",
                     "tariffs", "--prices-dir", str(prices_dir), "--out", str(out), "--no-progress"])  # fmt: skip
    assert code == 0
    return out


@pytest.mark.slow
def test_a_report_on_your_own_catalog_says_nothing_of_the_builtin_study(own_catalog_report):
    text = (own_catalog_report / "report.md").read_text()
    assert text.startswith("# Event study: tariffs\n")
    assert not [word for word in RESCISSION_WORDS if word in text]
    # the focus is the first two tickers given, not the default study's stocks
    assert "- **liberation-day-2025-04-02** (day 0 2025-04-03, post release): AVGO " in text
    assert "| INTC " in text and "MU " not in text.split("## Abnormal returns of the focus stocks")[1].split("##")[0]
    html = (own_catalog_report / "report.html").read_text()
    assert "<title>Event study: tariffs</title>" in html


@pytest.mark.slow
def test_the_regenerate_command_carries_every_option_given(own_catalog_report):
    # run from the folder holding `out`, the command rebuilds this study: its catalog, tickers and name, and
    # no absolute path (the test passed absolute ones)
    text = (own_catalog_report / "report.md").read_text()
    command = text.split("## How to regenerate", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    words = " ".join(command.replace("\\\n", " ").split())
    assert words.startswith("eventstudy report --catalog tariffs.csv --tickers AVGO,INTC,MU ")
    assert " --name tariffs " in words and " --prices-dir ../" in words and words.endswith(" --out out")
    assert " /" not in words


@pytest.mark.slow
def test_a_study_file_brings_its_title_question_prose_and_focus(tmp_path, prices_dir):
    (tmp_path / "tariffs.csv").write_text(TARIFFS)
    (tmp_path / "tariffs.toml").write_text(
        'name = "tariffs"\ntitle = "Did the tariff pause lift chip stocks?"\n'
        'question = "Did the 90-day pause move memory makers?"\ncatalog = "tariffs.csv"\n'
        'events = ["tariff-pause-2025-04-09"]\ntickers = ["AVGO", "INTC", "MU"]\nfocus = ["MU"]\n'
        'benchmarks = ["SPY"]\nevent_window = [-3, 3]\nwindows = [[0, 1]]\n'
        '[prose]\nintro = "An intro of ours."\nreading = "Read it our way."\nclosing = "A closing of ours."\n'
    )
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["report", "--study", str(tmp_path / "tariffs.toml"), "--prices-dir", str(prices_dir),
                     "--out", str(out), "--no-progress"])  # fmt: skip
    assert code == 0
    text = (out / "report.md").read_text()
    lines = text.splitlines()
    assert lines[0] == "# Did the tariff pause lift chip stocks?"
    assert "**Question.** Did the 90-day pause move memory makers?" in lines
    assert text.index("An intro of ours.") < text.index("## The answer in brief") < text.index("Read it our way.")
    assert text.index("A closing of ours.") < text.index("## Method")
    command = text.split("## How to regenerate", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    assert "--study tariffs.toml" in command and "--out out" in command  # run from tmp_path, which holds both
    assert "- **tariff-pause-2025-04-09** (day 0 2025-04-09, intraday release): MU " in text
    assert "liberation-day" not in text.split("## Events studied")[1].split("##")[0]
    assert "CAR (+0,+1)" in text and "CAR (-5,+5)" not in text


def test_the_default_study_ships_as_package_data():
    import tomllib

    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["eventstudy"]
    shipped = {p for pattern in patterns for p in (REPO / "eventstudy").glob(pattern)}
    assert DEFAULT_STUDY in shipped


H20_STUDY = REPO / "studies" / "h20-licence-requirement.toml"


def test_the_second_study_ships_beside_the_first():
    import tomllib

    assert H20_STUDY.is_symlink() and H20_STUDY.resolve() == DEFAULT_STUDY.with_name(H20_STUDY.name)
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["eventstudy"]
    shipped = {p for pattern in patterns for p in (REPO / "eventstudy").glob(pattern)}
    config = load_study(H20_STUDY)
    assert H20_STUDY.resolve() in shipped and Path(config.intraday_cases).resolve() in shipped
    assert config.events == ("nvda-h20-license-charge-2025-04-15",) and config.name == "h20-licence-requirement"
    assert config.sections == ("sensitivity", "global", "intraday")
    assert config.sensitivity_estimation_windows == ((-250, -11), (-120, -11), (-60, -11), (-250, -31))
    assert config.sensitivity_models == ("market", "market_adjusted")
    assert config.sensitivity_benchmarks == ("SPY", "SOXX")


def test_sensitivity_section_options_are_checked(tmp_path):
    study = tmp_path / "s.toml"
    study.write_text("[sections.sensitivity]\nestimation_windows = [[-100, -11], [5, 1]]\n")
    with pytest.raises(ValueError, match=r"\[sections.sensitivity\] estimation_windows"):
        read_study(study)
    study.write_text("[sections.sensitivity]\nmodels = 'market'\n")
    with pytest.raises(ValueError, match=r"\[sections.sensitivity\] models must be a list"):
        read_study(study)
    study.write_text("[sections.sensitivity]\nwindows = [[0, 1]]\n")
    with pytest.raises(ValueError, match=r"\[sections.sensitivity\] takes only"):
        read_study(study)


@pytest.mark.parametrize("path", sorted((REPO / "studies").glob("*.toml")), ids=lambda p: p.name)
def test_the_functions_a_study_file_cites_exist(path):
    import importlib
    import re

    cited = re.findall(r"\beventstudy(?:\.[A-Za-z_]\w*)+", path.read_text(encoding="utf-8"))
    assert cited, f"{path.name} cites no function to read it with"
    for name in cited:
        module, _, attribute = name.rpartition(".")
        assert hasattr(importlib.import_module(module), attribute), f"{path.name} cites {name}, which does not exist"


def test_the_docs_show_the_edits_that_made_the_second_study():
    import difflib

    first = DEFAULT_STUDY.read_text(encoding="utf-8").splitlines()
    second = H20_STUDY.read_text(encoding="utf-8").splitlines()
    diff = difflib.unified_diff(
        first, second, "studies/ai-diffusion-rescission.toml", "studies/h20-licence-requirement.toml", lineterm=""
    )
    page = (REPO / "docs" / "guide" / "second-study.md").read_text(encoding="utf-8")
    shown = page.split("```diff\n", 1)[1].split("\n```", 1)[0]
    assert shown == "\n".join(diff)
