"""The command line end to end on the real offline data: `eventstudy report` and `eventstudy run`."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.cli import main

REPO = Path(__file__).resolve().parents[2]
RESCISSION = ["report-rescind-diffusion-rule-2025-05-07", "bis-rescinds-diffusion-huawei-guidance-2025-05-13"]


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory, prices_dir, events_dir):
    out = tmp_path_factory.mktemp("report") / "study"
    code = main(
        [
            "report",
            "--prices-dir", str(prices_dir),
            "--reported-moves", str(events_dir / "reported_moves.csv"),
            "--out", str(out),
            "--no-progress",
        ]
    )  # fmt: skip
    assert code == 0
    return out


@pytest.fixture(scope="module")
def api_results(prices_dir):
    """The same study through the library, step by step, as a notebook user would write it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.SessionAssumptionWarning)
        catalog = es.load_events("export-controls")
    events = catalog[catalog["id"].isin(RESCISSION)]
    tickers = [
        "NVDA",
        "AMD",
        "AVGO",
        "INTC",
        "MU",
        "QCOM",
        "ASML",
        "AMAT",
        "LRCX",
        "KLAC",
        "MRVL",
        "ARM",
        "TSM",
        "SMCI",
    ]
    prices = es.CsvSource(prices_dir).get_prices([*tickers, "SPY", "SOXX"], "2024-01-02", "2025-06-30")
    rets = es.returns(prices)
    return {
        market: es.EventStudy(events, rets, tickers=tickers, market=market, catalog=catalog).fit()
        for market in ("SPY", "SOXX")
    }


@pytest.mark.slow
def test_report_writes_every_file(report_dir):
    for name in ("report.md", "report.html", "results.json", "figures/prices.png", "tables/comparison.csv",
                 "tables/car_vs-spy.csv", "tables/tests_vs-spy.csv", "tables/press_check.csv"):  # fmt: skip
        assert (report_dir / name).stat().st_size > 0, name
    pngs = list((report_dir / "figures").glob("*.png"))
    assert len(pngs) >= 5
    html = (report_dir / "report.html").read_text()
    assert "<table>" in html and "figures/prices.png" in html


@pytest.mark.slow
def test_report_numbers_equal_the_api(report_dir, api_results):
    payload = json.loads((report_dir / "results.json").read_text())
    for market in ("SPY", "SOXX"):
        got = pd.DataFrame(payload["studies"][f"vs {market}"]["car"]["(-1,+1)"])
        want = api_results[market].car((-1, 1))
        merged = want.merge(got, on=["event_id", "ticker"], suffixes=("", "_json"))
        assert len(merged) == len(want) == 28
        np.testing.assert_allclose(merged["car_json"], merged["car"], rtol=1e-12)
        np.testing.assert_allclose(merged["t_json"], merged["t"], rtol=1e-12)


@pytest.mark.slow
def test_report_tells_the_raw_move_and_the_press_check(report_dir):
    text = (report_dir / "report.md").read_text()
    # NVDA closed +5.63 % on 2025-05-13 and +3.10 % on 2025-05-07 (PROVENANCE.md section 4.4; press: +3.1 %)
    assert "NVDA rose 5.63%" in text and "NVDA rose 3.10%" in text
    press = pd.read_csv(report_dir / "tables" / "press_check.csv")
    row = press[(press["ticker"] == "NVDA") & (press["trade_date"] == "2025-05-07")].iloc[0]
    assert row["move_pct"] == pytest.approx(3.1) and abs(row["difference_pp"]) < 0.01
    assert "Riyadh" in text or "Humain" in text  # the confounders of 05-13 from the catalog


@pytest.mark.slow
def test_the_answer_in_brief_reads_one_sentence_per_event_then_a_table(report_dir):
    text = (report_dir / "report.md").read_text()
    brief = text.split("## The answer in brief", 1)[1].split("\n## ", 1)[0]
    sentences = [line for line in brief.splitlines() if line.startswith("- **")]
    assert len(sentences) == 2  # the study's two events
    header = next(line for line in brief.splitlines() if line.startswith("| event"))
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "event_id", "day 0", "ticker", "raw day 0", "benchmark", "abnormal day 0", "t", "p"
    ]  # fmt: skip
    # 2 events x 2 focus stocks x 4 benchmarks; t with two decimals in every row (tabulate used to print 0.5)
    rows = [line for line in brief.splitlines() if line.startswith("| ") and "%" in line and "| day 0" not in line]
    day0_rows = [row for row in rows if row.count("%") == 2]
    assert len(day0_rows) == 16
    assert all(re.fullmatch(r"-?\d+\.\d\d", row.strip("|").split("|")[6].strip()) for row in day0_rows)
    assert "![Prices around the events](figures/prices.png)" in brief


@pytest.mark.slow
def test_the_report_says_how_to_regenerate_it_without_a_machine_path(report_dir):
    text = (report_dir / "report.md").read_text()
    section = text.split("## How to regenerate", 1)[1].split("\n## ", 1)[0]
    command = section.split("```bash", 1)[1].split("```", 1)[0]
    assert command.strip().startswith("eventstudy report") and f"--out {report_dir.name}" in command
    assert "--prices-dir " in command and not re.search(r"--prices-dir /", command)
    assert "[How to regenerate](#how-to-regenerate)" in text
    assert 'id="how-to-regenerate"' in (report_dir / "report.html").read_text()


def test_unknown_event_id_is_one_line_and_exit_2(capsys, prices_dir, tmp_path):
    code = main(["report", "--event", "no-such-event", "--prices-dir", str(prices_dir), "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("eventstudy: error: unknown event id 'no-such-event'")


def test_ticker_without_data_is_one_line_and_exit_1(capsys, prices_dir, tmp_path):
    code = main(["report", "--tickers", "NVDA,NOPE", "--prices-dir", str(prices_dir), "--out", str(tmp_path),
                 "--no-progress"])  # fmt: skip
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert code == 1
    assert len(err) == 1 and "NOPE" in err[0] and "Traceback" not in err[0]


def test_no_network_is_one_line_and_exit_1(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("EVENTSTUDY_OFFLINE", "1")  # no prices folder, no cache, no network
    code = main(["report", "--out", str(tmp_path), "--no-progress"])
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert code == 1
    assert len(err) == 1 and "offline" in err[0]
    assert not (tmp_path / "report.md").exists()


def test_run_json_equals_the_api(capsys, prices_dir, api_results):
    code = main(["run", "--prices-dir", str(prices_dir), "--market", "SPY", "--window=-1,1", "--format", "json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    got = pd.DataFrame(payload["vs SPY"]["car"])
    want = api_results["SPY"].car((-1, 1))
    np.testing.assert_allclose(got["car"].to_numpy(), want["car"].to_numpy(), rtol=1e-12)
    tests = pd.DataFrame(payload["vs SPY"]["tests"])
    assert {"kp_bmp", "mvrm_average", "csect_t"} <= set(tests["test"])


def test_run_on_a_users_catalog_with_csv_output(capsys, prices_dir, tmp_path):
    events = tmp_path / "tariffs.csv"
    events.write_text(
        "id,date,session,title\n"
        "liberation-day-2025-04-02,2025-04-02,post,Reciprocal tariffs announced\n"
        "tariff-pause-2025-04-09,2025-04-09,intraday,90-day pause\n"
    )
    code = main(["run", "--catalog", str(events), "--tickers", "NVDA,AMD", "--market", "SPY", "--prices-dir",
                 str(prices_dir), "--format", "csv"])  # fmt: skip
    assert code == 0
    table = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert set(table["event_id"]) == {"liberation-day-2025-04-02", "tariff-pause-2025-04-09"}
    assert set(table["ticker"]) == {"NVDA", "AMD"}


def test_catalog_without_tickers_is_a_usage_error(capsys, tmp_path):
    events = tmp_path / "e.csv"
    events.write_text("id,date,session\nx,2025-04-02,post\n")
    assert main(["run", "--catalog", str(events)]) == 2
    assert "names no tickers: give tickers = [...] in its study file, or --tickers" in capsys.readouterr().err


@pytest.mark.slow
def test_committed_results_are_current(report_dir):
    """results/ holds what the code produces now: rerunning the main job gives the same numbers."""
    committed = REPO / "results" / "ai-diffusion-rescission" / "results.json"
    if not committed.exists():
        pytest.fail("results/ai-diffusion-rescission/results.json is missing: run the README's first command")
    old = json.loads(committed.read_text())["studies"]
    new = json.loads((report_dir / "results.json").read_text())["studies"]
    assert old.keys() == new.keys()
    for label in new:
        for window in new[label]["car"]:
            a = pd.DataFrame(old[label]["car"][window])
            b = pd.DataFrame(new[label]["car"][window])
            pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12)
        a, b = pd.DataFrame(old[label]["tests"]), pd.DataFrame(new[label]["tests"])
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12)


@pytest.mark.slow
def test_committed_second_study_is_current(tmp_path, prices_dir, events_dir):
    """results/h20-licence-requirement holds what its study file gives now, sensitivity table included."""
    name = "h20-licence-requirement"
    committed = REPO / "results" / name
    if not (committed / "results.json").exists():
        pytest.fail(f"results/{name}/results.json is missing: run eventstudy report --study studies/{name}.toml")
    out = tmp_path / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.EventStudyWarning)
        code = main(["report", "--study", str(REPO / "studies" / f"{name}.toml"), "--prices-dir", str(prices_dir),
                     "--reported-moves", str(events_dir / "reported_moves.csv"), "--out", str(out), "--no-progress"])  # fmt: skip
    assert code == 0
    old = json.loads((committed / "results.json").read_text())["studies"]
    new = json.loads((out / "results.json").read_text())["studies"]
    assert old.keys() == new.keys() == {"vs SPY", "vs SOXX"}
    for label in new:
        for window in new[label]["car"]:
            a, b = pd.DataFrame(old[label]["car"][window]), pd.DataFrame(new[label]["car"][window])
            pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12)
        a, b = pd.DataFrame(old[label]["tests"]), pd.DataFrame(new[label]["tests"])
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12)
    for table in ("sensitivity.csv", "global_listings.csv", "intraday.csv"):
        a, b = pd.read_csv(committed / "tables" / table), pd.read_csv(out / "tables" / table)
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12)
    # the report's sections: the study file's own, the volume section of the first study left out
    text = (committed / "report.md").read_text(encoding="utf-8")
    assert "## How much the answer depends on the specification (NVDA, AMD)" in text
    assert "Volume, volatility and a GARCH model" not in text


def test_second_study_sensitivity_sentences_match_its_table():
    """Each range the committed report prints is the min and max of the committed sensitivity table."""
    folder = REPO / "results" / "h20-licence-requirement"
    if not (folder / "tables" / "sensitivity.csv").exists():
        pytest.skip("results/h20-licence-requirement is not committed in this checkout")
    table = pd.read_csv(folder / "tables" / "sensitivity.csv")
    section = (folder / "report.md").read_text(encoding="utf-8").split("## How much the answer depends")[1]
    rows = [line.split("|")[1:-1] for line in section.split("\n\n")[2].splitlines()[2:]]
    assert len(rows) == table.groupby(["ticker", "window_start", "window_end"]).ngroups
    for event_id, ticker, window, low, high, significant in ([c.strip() for c in row] for row in rows):
        lo, hi = (0, 0) if window == "(0)" else map(int, window.strip("()").split(","))
        part = table[(table["event_id"] == event_id) & (table["ticker"] == ticker)
                     & (table["window_start"] == lo) & (table["window_end"] == hi)]  # fmt: skip
        assert low == f"{part['car'].min():+.2%}" and high == f"{part['car'].max():+.2%}"
        assert significant == f"{int((part['pvalue'] < 0.05).sum())} of {len(part)}"
