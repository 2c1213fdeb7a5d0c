"""Saving and loading results (Parquet + JSON, no pickle), and the exports for Stata and R."""

from __future__ import annotations

import csv
import json
import warnings

import numpy as np
import pandas as pd
import pytest

import eventstudy as es

EVENTS = ["report-rescind-diffusion-rule-2025-05-07", "bis-rescinds-diffusion-huawei-guidance-2025-05-13"]
TICKERS = ["NVDA", "AMD", "MU"]
HOLE = pd.Timestamp("2025-05-12")  # an event-window day of AMD left without a return: a missing AR


@pytest.fixture(scope="module")
def inputs(prices_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.SessionAssumptionWarning)
        catalog = es.load_events("export-controls")
    prices = es.CsvSource(prices_dir).get_prices([*TICKERS, "SPY", "SOXX"], "2024-01-02", "2025-06-30")
    rets = es.returns(prices)
    rets.loc[HOLE, "AMD"] = np.nan
    return catalog[catalog["id"].isin(EVENTS)], rets, catalog


@pytest.fixture(scope="module", params=["market", "dimson", "multi-index"])
def res(request, inputs):
    events, rets, catalog = inputs
    model = es.Dimson(lags=2) if request.param == "dimson" else request.param
    market = ["SPY", "SOXX"] if request.param == "multi-index" else "SPY"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return es.EventStudy(
            events, rets, tickers=TICKERS, market=market, model=model, catalog=catalog, name=request.param
        ).fit()


def public_tables(res) -> dict[str, pd.DataFrame]:
    windows = [(0, 0), (-1, 1), (-5, 5)]
    return {
        "ar": res.ar,
        "aar": res.aar,
        "params": res.params,
        "dropped": res.dropped,
        "firm_events": res.firm_events,
        "decompose": res.decompose((0, 0)),
        "bhar": res.bhar(),
        "bhar_tests": res.bhar_tests(),
        "tests": res.tests(windows),
        **{f"car{w}": res.car(w) for w in windows},
    }


def test_save_and_load_give_every_table_back(res, tmp_path):
    path = res.save(tmp_path / "saved")
    files = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    assert "manifest.json" in files and all(f.endswith((".parquet", ".json")) for f in files), files
    back = es.load(path)
    assert isinstance(back, es.EventStudyResults)
    before, after = public_tables(res), public_tables(back)
    for name in before:
        pd.testing.assert_frame_equal(after[name], before[name], check_exact=True, obj=name)
    assert back.settings == res.settings and back.provenance == res.provenance
    assert back.model == res.model and back.market == res.market and back.name == res.name
    assert (back.estimation_window, back.event_window, back.n) == (res.estimation_window, res.event_window, res.n)
    assert str(back) == str(res)
    # a selection of the loaded results is the selection of the original
    pd.testing.assert_frame_equal(back.select(tickers=["NVDA"]).car(), res.select(tickers=["NVDA"]).car())


def test_the_saved_folder_carries_the_provenance_in_plain_json(res, tmp_path):
    manifest = json.loads((res.save(tmp_path / "saved") / "manifest.json").read_text())
    assert manifest["meta"]["provenance"]["returns_sha256"] == res.provenance["returns_sha256"]
    assert len(manifest["meta"]["provenance"]["returns_sha256"]) == 64
    assert manifest["meta"]["settings"]["estimation_window"] == [-250, -11]


def test_load_refuses_what_save_did_not_write(tmp_path, res):
    (tmp_path / "other").mkdir()
    with pytest.raises(FileNotFoundError, match="no manifest.json"):
        es.load(tmp_path / "other")
    path = res.save(tmp_path / "saved")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["format_version"] = 99
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="version 99"):
        es.load(path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="mine"):
        res.save(tmp_path / "mine")  # somebody's folder, not an earlier save: refused, not replaced
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_stata_file_holds_the_car_table(res, tmp_path):
    path = res.to_stata(tmp_path / "car.dta", windows=[(0, 0), (-1, 1)])
    back = pd.read_stata(path)
    want = pd.concat([res.car(w).assign(window_start=w[0], window_end=w[1]) for w in [(0, 0), (-1, 1)]])
    assert len(back) == len(want) == 2 * res.n
    np.testing.assert_allclose(back["car"], want["car"], rtol=0, atol=0)
    assert back["event_id"].tolist() == want["event_id"].tolist()
    labels = pd.io.stata.StataReader(path).variable_labels()
    assert labels["car"] == "cumulative abnormal return"
    ar = pd.read_stata(res.to_stata(tmp_path / "ar.dta", table="ar"))
    assert ar["date"].dt.strftime("%Y-%m-%d").tolist() == res.ar["date"].dt.strftime("%Y-%m-%d").tolist()


def test_r_csv_has_iso_dates_no_index_and_na(res, tmp_path):
    ar_path, car_path = res.to_r(tmp_path / "r")
    with ar_path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["event_id", "ticker", "event_time", "date", "ar", "se"]  # no unnamed index column
    amd_hole = [r for r in rows[1:] if r[1] == "AMD" and r[3] == f"{HOLE:%Y-%m-%d}"]
    assert amd_hole and all(r[4] == "NA" for r in amd_hole)  # R reads NA as missing; pandas' '' would be a string
    assert all(len(r[3]) == 10 and r[3][4] == "-" for r in rows[1:])
    nvda = next(r for r in rows[1:] if r[1] == "NVDA" and r[2] == "0" and r[0] == EVENTS[1])
    want = res.ar.query("ticker == 'NVDA' and event_time == 0 and event_id == @EVENTS[1]")["ar"].iloc[0]
    assert float(nvda[4]) == want  # full precision
    car = pd.read_csv(car_path)
    assert list(car.columns[:2]) == ["event_id", "ticker"] and len(car) == res.n
