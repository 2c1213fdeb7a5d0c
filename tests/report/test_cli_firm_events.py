"""The command line and the report accept what EventStudy accepts: firm-event files (a ``ticker`` column),
events with no estimated firm-event (dropped with the reason, the report still written), a timestamp that
decides the release session, and the CAR windows in the order asked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.cli import main

# NVDA's 8-K came after the close on 2025-04-15 (day 0 the 16th); AMD's the next morning; the tariff pause
# (2025-04-09, intraday) for both; ARM on 2022-10-07, before its September 2023 listing
FIRM_EVENTS = (
    "id,date,session,ticker,title\n"
    "nvda-8k-2025-04-15,2025-04-15T16:15:00-04:00,,NVDA,NVIDIA 8-K\n"
    "amd-8k-2025-04-16,2025-04-16,pre,AMD,AMD 8-K\n"
    "pause-2025-04-09,2025-04-09,intraday,NVDA,pause\n"
    "pause-2025-04-09,2025-04-09,intraday,AMD,pause\n"
    "old-2022-10-07,2022-10-07,intraday,ARM,before the listing\n"
)
DAY0 = {
    ("nvda-8k-2025-04-15", "NVDA"): "2025-04-16",
    ("amd-8k-2025-04-16", "AMD"): "2025-04-16",
    ("pause-2025-04-09", "NVDA"): "2025-04-09",
    ("pause-2025-04-09", "AMD"): "2025-04-09",
}


@pytest.fixture
def firm_file(tmp_path) -> Path:
    path = tmp_path / "firm_events.csv"
    path.write_text(FIRM_EVENTS)
    return path


def _report(folder: Path, prices_dir: Path, name: str, events: str, *options: str) -> Path:
    """Write ``events`` to ``folder/name``, run ``eventstudy report`` on them with ``options`` (offline, on the
    shared prices) and return the output folder; the run must succeed."""
    path = folder / name
    path.write_text(events)
    out = folder / "out"
    code = main(["report", "--catalog", str(path), *options, "--prices-dir", str(prices_dir), "--out", str(out),
                 "--no-progress"])  # fmt: skip
    assert code == 0
    return out


def _hand_day0_ar(prices_dir: Path, ticker: str, day0: str) -> float:
    """Market-model AR on day 0 by plain OLS on the 240 sessions (-250, -11) before it (MacKinlay 1997)."""

    def rets(name: str) -> pd.Series:
        frame = pd.read_csv(prices_dir / f"{name}.csv", parse_dates=["Date"]).set_index("Date")
        return frame["Adj Close"].pct_change().dropna()

    both = pd.concat({"r": rets(ticker), "m": rets("SPY")}, axis=1, join="inner")
    t0 = both.index.get_loc(pd.Timestamp(day0))
    window = both.iloc[t0 - 250 : t0 - 10]
    assert len(window) == 240
    beta, alpha = np.polyfit(window["m"], window["r"], 1)
    return float(both["r"].iloc[t0] - (alpha + beta * both["m"].iloc[t0]))


def test_run_takes_a_firm_event_file_and_equals_a_hand_market_model(capsys, prices_dir, firm_file):
    code = main(["run", "--catalog", str(firm_file), "--market", "SPY", "--prices-dir", str(prices_dir),
                 "--window", "0,0", "--format", "json"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    car = pd.DataFrame(json.loads(captured.out)["vs SPY"]["car"])
    # each event for its own firms: no cross of events and tickers; ARM's event before its listing is dropped
    assert set(zip(car["event_id"], car["ticker"])) == set(DAY0)
    for row in car.itertuples():
        want = _hand_day0_ar(prices_dir, row.ticker, DAY0[(row.event_id, row.ticker)])
        assert row.car == pytest.approx(want, abs=1e-10), (row.event_id, row.ticker)
    assert "1 of 5 firm-events could not be estimated" in captured.err


def test_tickers_keep_some_firms_of_a_firm_event_file(capsys, prices_dir, firm_file):
    code = main(["run", "--catalog", str(firm_file), "--tickers", "AMD", "--market", "SPY", "--prices-dir",
                 str(prices_dir), "--window", "0,0", "--format", "csv"])  # fmt: skip
    assert code == 0
    table = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert sorted(zip(table["event_id"], table["ticker"])) == [
        ("amd-8k-2025-04-16", "AMD"),
        ("pause-2025-04-09", "AMD"),
    ]


def test_a_ticker_in_no_firm_event_of_the_file_is_refused(capsys, prices_dir, firm_file):
    code = main(["run", "--catalog", str(firm_file), "--tickers", "AMD,INTC", "--prices-dir", str(prices_dir)])
    err = capsys.readouterr().err
    assert code == 2
    assert "tickers INTC are in no firm-event of the events file 'firm_events.csv'" in err


def test_firm_event_tickers_without_prices_are_refused_before_any_work(capsys, prices_dir, tmp_path):
    events = tmp_path / "mine.csv"
    events.write_text(FIRM_EVENTS + "x-2025-04-16,2025-04-16,pre,NOPE,unknown firm\n")
    out = tmp_path / "out"
    code = main(["report", "--catalog", str(events), "--prices-dir", str(prices_dir), "--out", str(out),
                 "--no-progress"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "the events file 'mine.csv' names tickers with no prices in" in err and ": NOPE;" in err
    assert not out.exists()


def test_one_firm_event_per_id_and_ticker(capsys, tmp_path):
    events = tmp_path / "twice.csv"
    events.write_text("id,date,session,ticker\na,2025-04-16,pre,AMD\na,2025-04-16,pre,AMD\n")
    assert main(["run", "--catalog", str(events)]) == 2
    assert "each (id, ticker) pair must be unique; duplicated: 'a / AMD' (rows 1, 2)" in capsys.readouterr().err


def test_events_without_tickers_nor_a_ticker_column_are_refused_naming_the_file(capsys, tmp_path):
    events = tmp_path / "e.csv"
    events.write_text("id,date,session\nx,2025-04-02,post\n")
    assert main(["run", "--catalog", str(events)]) == 2
    err = capsys.readouterr().err
    assert "names no tickers" in err and "a 'ticker' column in its events file 'e.csv'" in err


# -- the report -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def firm_report(tmp_path_factory, prices_dir):
    folder = tmp_path_factory.mktemp("firm")
    (folder / "firm_events.csv").write_text(FIRM_EVENTS)
    out = folder / "out"
    code = main(["report", "--catalog", str(folder / "firm_events.csv"), "--market", "SPY", "--prices-dir",
                 str(prices_dir), "--window", "0,0", "--window", "0,1", "--window=-1,1", "--out", str(out),
                 "--no-progress"])  # fmt: skip
    assert code == 0
    return out


@pytest.mark.slow
def test_a_report_with_an_event_before_a_listing_is_written_with_the_drop(firm_report):
    text = (firm_report / "report.md").read_text()
    dropped = text.split("## Dropped", 1)[1].split("\n## ", 1)[0]
    assert "No firm-event of old-2022-10-07 could be estimated" in dropped
    assert "| old-2022-10-07 | ARM      | no return on day 0; the ticker's returns start on 2023-09-15 |" in dropped
    figures = {p.name for p in (firm_report / "figures").iterdir()}
    assert "car_pause-2025-04-09.png" in figures and not any("old-2022" in name for name in figures)
    # the focus table lists the file's firm-events only: NVDA had no firm-event on AMD's 8-K
    focus = text.split("## Abnormal returns of the focus stocks", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in focus.splitlines() if line.startswith("| vs")]
    pairs = {(cells[1], cells[3]) for cells in rows}  # benchmark, event_id, day 0, ticker, ...
    assert ("amd-8k-2025-04-16", "NVDA") not in pairs and ("nvda-8k-2025-04-15", "NVDA") in pairs


@pytest.mark.slow
def test_the_report_keeps_the_windows_in_the_order_asked(firm_report):
    text = (firm_report / "report.md").read_text()
    focus = text.split("## Abnormal returns of the focus stocks", 1)[1]
    header = next(line for line in focus.splitlines() if line.startswith("| benchmark"))
    assert header.index("CAR (0)") < header.index("CAR (+0,+1)") < header.index("CAR (-1,+1)")
    study = json.loads((firm_report / "results.json").read_text())["studies"]["vs SPY"]
    assert list(study["car"]) == ["(0)", "(+0,+1)", "(-1,+1)"]
    windows = pd.DataFrame(study["tests"])[["window_start", "window_end"]].drop_duplicates()
    assert [tuple(w) for w in windows.to_numpy()] == [(0, 0), (0, 1), (-1, 1)]
    comparison = pd.read_csv(firm_report / "tables" / "comparison.csv").columns
    assert list(comparison[2:4]) == ["vs SPY car (0)", "vs SPY t (0)"] and "(+0,+1)" in comparison[5]


@pytest.mark.slow
def test_a_timestamp_with_an_empty_session_is_shown_with_its_time_not_unknown(firm_report):
    text = (firm_report / "report.md").read_text()
    assert "| nvda-8k-2025-04-15 | 2025-04-15 | post, 16:15 EDT   | 2025-04-16 |" in text
    assert "Release session unknown" not in text and "unknown release" not in text


@pytest.mark.slow
def test_a_ticker_listed_after_every_event_is_dropped_and_the_report_written(tmp_path, prices_dir):
    """ARM's prices start in September 2023: on events of 2022 and early 2023 it has no row at all."""
    out = _report(
        tmp_path,
        prices_dir,
        "old.csv",
        "id,date,session\nold,2022-10-07,intraday\nold2,2023-03-01,pre\n",
        "--tickers",
        "ARM,NVDA",
        "--market",
        "SPY",
    )
    text = (out / "report.md").read_text()
    dropped = text.split("## Dropped", 1)[1].split("\n## ", 1)[0]
    assert "No firm-event of the ticker(s) ARM could be estimated." in dropped
    assert dropped.count("| ARM      | no return on day 0; the ticker has no returns in the data |") == 2
    warned = text.split("## Warnings raised during the run", 1)[1]
    assert "No prices in the span the study needs for ARM (no rows between 2021-10-08 and 2023-03-08" in warned
    assert json.loads((out / "results.json").read_text())["studies"]["vs SPY"]["firm_events"]  # NVDA's


@pytest.fixture(scope="module")
def two_unknown_report(tmp_path_factory, prices_dir):
    """One report, two events of unknown release session, each for its own firm (built once for the tests
    below)."""
    folder = tmp_path_factory.mktemp("unknown")
    return _report(
        folder,
        prices_dir,
        "unknown.csv",
        "id,date,session,ticker\nu-nvda,2025-04-08,unknown,NVDA\nu-amd,2025-04-14,unknown,AMD\n",
        "--market",
        "SPY",
        "--focus",
        "AMD,NVDA",
    )


@pytest.mark.slow
def test_both_candidate_day0s_of_firm_events_list_only_the_files_firm_events(two_unknown_report, prices_dir):
    """Two events of unknown release session, each for one firm: the table of both candidate day 0s holds
    each event's own firm, at the hand market model's AR of each candidate day 0 (no row 'dropped' for the
    other focus stock, which was never one of the event's firms)."""
    text = (two_unknown_report / "report.md").read_text()
    bracket = text.split("Both candidate day 0s of an event whose release session is unknown", 1)[1]
    rows, header = [], []
    for line in bracket.split("![", 1)[0].splitlines():  # one table per event, each under its own header
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| event_id"):
            header = cells
        elif line.startswith("|") and not line.startswith("|:"):
            rows.append(dict(zip(header, cells)))
    assert sorted((r["event_id"], r["ticker"]) for r in rows) == [("u-amd", "AMD"), ("u-nvda", "NVDA")]
    for row, (first, second) in zip(
        sorted(rows, key=lambda r: r["event_id"]), [("2025-04-14", "2025-04-15"), ("2025-04-08", "2025-04-09")]
    ):
        for day0 in (first, second):
            want = _hand_day0_ar(prices_dir, row["ticker"], day0)
            assert row[f"AR {day0}"] == f"{want:+.2%}", (row["event_id"], day0)


@pytest.mark.slow
def test_an_unknown_session_on_a_weekend_has_one_day0_shown_once(tmp_path, prices_dir):
    """Released on Saturday 2025-04-12 at an unknown time: before or after a close, the first session that can
    react is Monday 2025-04-14 either way, so the report shows that day 0 once (one focus-table row per stock,
    at the hand market model's AR), not two identical 'candidates'."""
    out = _report(
        tmp_path,
        prices_dir,
        "weekend.csv",
        "id,date,session,ticker\nsat,2025-04-12,unknown,NVDA\nsat,2025-04-12,unknown,AMD\n",
        "--market",
        "SPY",
        "--focus",
        "AMD,NVDA",
    )
    text = (out / "report.md").read_text()
    assert "or 2025-04-14 with --unknown-session post" not in text
    assert "Both candidate day 0s" not in text and "With day 0" not in text
    rows = [line for line in text.splitlines() if line.startswith("| sat ")]
    day0_rows = [[c.strip() for c in line.strip("|").split("|")] for line in rows if "| vs SPY " in line]
    for ticker in ("AMD", "NVDA"):
        mine = [cells for cells in day0_rows if cells[2] == ticker and cells[1] == "2025-04-14"]
        assert len(mine) == 1, (ticker, mine)
        assert mine[0][5] == f"{_hand_day0_ar(prices_dir, ticker, '2025-04-14'):+.2%}"


@pytest.mark.slow
def test_two_unknown_session_events_get_a_table_of_their_own_day0s_each(two_unknown_report):
    """Each event's candidate day 0s name its columns; two such events in one table left cells 'nan'."""
    text = (two_unknown_report / "report.md").read_text()
    bracket = text.split("Both candidate day 0s of an event whose release session is unknown", 1)[1]
    bracket = bracket.split("![", 1)[0]
    headers = [line for line in bracket.splitlines() if line.startswith("| event_id")]
    assert len(headers) == 2
    assert "AR 2025-04-08" in headers[0] and "AR 2025-04-09" in headers[0] and "2025-04-14" not in headers[0]
    assert "AR 2025-04-14" in headers[1] and "AR 2025-04-15" in headers[1] and "2025-04-08" not in headers[1]
    assert "nan" not in bracket


@pytest.mark.slow
def test_the_car_figure_of_an_event_without_a_focus_stock_has_no_empty_panel(tmp_path, prices_dir):
    """AMD's own event has no focus stock (NVDA): its CAR figure is the average panel alone, half the width of
    the figure of NVDA's event (focus panel + average), not an empty focus panel beside it."""
    import matplotlib.image

    out = _report(
        tmp_path,
        prices_dir,
        "firms.csv",
        "id,date,session,ticker\nnv,2025-04-16,pre,NVDA\nam,2025-04-16,pre,AMD\n",
        "--market",
        "SPY",
        "--focus",
        "NVDA",
    )
    with_focus = matplotlib.image.imread(out / "figures" / "car_nv.png")
    without = matplotlib.image.imread(out / "figures" / "car_am.png")
    assert without.shape[0] == with_focus.shape[0]
    assert without.shape[1] < 0.7 * with_focus.shape[1]


@pytest.mark.slow
def test_a_firm_event_dropped_only_at_the_other_candidate_day0_is_listed_under_dropped(tmp_path, prices_dir):
    """Released on the last day of the price files at an unknown time: before the open, day 0 is that day and
    NVDA is estimated; after the close, day 0 is the next session, past the data, so NVDA is dropped in that
    reading. The table of both day 0s says 'dropped'; the Dropped section has to list it with the reason."""
    out = _report(
        tmp_path,
        prices_dir,
        "last.csv",
        "id,date,session,ticker\npause,2025-04-09,intraday,NVDA\nlast,2026-04-10,unknown,NVDA\n",
        "--market",
        "SPY",
        "--focus",
        "NVDA",
        "--event-window=-5,0",
        "--window",
        "0,0",
    )
    text = (out / "report.md").read_text()
    dropped = text.split("## Dropped", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in dropped.splitlines() if "| last " in line]
    assert len(rows) == 1, dropped
    assert (
        rows[0][:3] == ["vs SPY", "last", "NVDA"]
        and rows[0][3]
        == "at the other candidate day 0 (2026-04-13): day 0 lies outside the returns (2024-04-10 to 2026-04-10)"
    )
    table = pd.read_csv(out / "tables" / "dropped_other_day0.csv")
    assert table[["event_id", "ticker", "day0", "benchmark"]].values.tolist() == [
        ["last", "NVDA", "2026-04-13", "vs SPY"]
    ]
    assert (
        "- Every firm-event was estimated at the study's day 0; 1 could not be at the other candidate day 0: see "
        "[Dropped](#dropped)." in text
    )
