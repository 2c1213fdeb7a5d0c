"""Fama-French factors: French's published CSV, the tidy CSVs, download + cache, offline mode.

Reference values: the tidy files in shared/data/factors (read here with plain pandas) and the values
printed in French's files (e.g. 2026-04-30 Mkt-RF 1.13 %, 1926-07-01 Mkt-RF 0.09 %).
"""

from __future__ import annotations

import json
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

from eventstudy import CacheError, DataSourceError
from eventstudy.data import load_factors, parse_french_csv

FF3 = "F-F_Research_Data_Factors_daily"
FF5 = "F-F_Research_Data_5_Factors_2x3_daily"
MOM = "F-F_Momentum_Factor_daily"


def tidy(factors_dir, name):
    """The tidy file read with plain pandas (percent)."""
    return pd.read_csv(factors_dir / f"{name}.csv", index_col="Date", parse_dates=True)


def original_text(factors_dir, name):
    return (factors_dir / "original" / f"{name}.csv").read_bytes().decode("ascii")


@pytest.mark.parametrize("name", [FF3, MOM])
def test_published_file_parses_to_the_tidy_file_exactly(factors_dir, name):
    text = original_text(factors_dir, name)
    assert "\r\n" in text and "Copyright" in text  # really the published layout
    parsed = parse_french_csv(text)
    expected = tidy(factors_dir, name)
    assert list(parsed.columns) == list(expected.columns)
    np.testing.assert_array_equal(parsed.index.to_numpy(), expected.index.to_numpy(dtype="datetime64[ns]"))
    np.testing.assert_array_equal(parsed.to_numpy(), expected.to_numpy())  # percent, bit for bit
    assert parsed.attrs["vintage"] == "202604"
    assert parsed.index.name == "Date"


def test_load_factors_from_the_published_file_gives_decimals(factors_dir):
    ff3 = load_factors("ff3", path=factors_dir / "original" / f"{FF3}.csv")
    expected = tidy(factors_dir, FF3) / 100
    np.testing.assert_array_equal(ff3.to_numpy(), expected.to_numpy())
    assert list(ff3.columns) == ["Mkt-RF", "SMB", "HML", "RF"]
    assert ff3.loc["2026-04-30", "Mkt-RF"] == 1.13 / 100
    assert ff3.loc["1926-07-01", "Mkt-RF"] == 0.09 / 100
    assert ff3.loc["2026-04-30", "Mkt-RF"] == pytest.approx(0.0113, abs=1e-15)
    assert len(ff3) == 26233 and ff3.index[0] == pd.Timestamp("1926-07-01")  # PROVENANCE section 3
    assert ff3.attrs["provenance"]["vintage"] == "202604"


def test_tidy_files_and_date_range(factors_dir):
    ff5 = load_factors("ff5", path=factors_dir / f"{FF5}.csv", start="2025-05-12", end="2025-05-16")
    assert list(ff5.columns) == ["Mkt-RF", "SMB", "HML", "RMW", "CMA", "RF"]
    assert list(ff5.index) == list(pd.bdate_range("2025-05-12", "2025-05-16"))
    expected = tidy(factors_dir, FF5).loc["2025-05-12":"2025-05-16"] / 100
    np.testing.assert_array_equal(ff5.to_numpy(), expected.to_numpy())
    # Mkt-RF, HML and RF are identical in the 3- and 5-factor files (PROVENANCE section 3)
    ff3 = load_factors("ff3", path=factors_dir, start="2025-05-12", end="2025-05-16")
    pd.testing.assert_frame_equal(ff3[["Mkt-RF", "HML", "RF"]], ff5[["Mkt-RF", "HML", "RF"]])


def test_carhart_joins_momentum(factors_dir):
    carhart = load_factors("carhart", path=factors_dir)
    assert list(carhart.columns) == ["Mkt-RF", "SMB", "HML", "RF", "Mom"]
    mom = tidy(factors_dir, MOM) / 100
    ff3 = tidy(factors_dir, FF3) / 100
    assert carhart.index[0] == pd.Timestamp("1926-11-03")  # momentum starts later
    assert len(carhart) == len(ff3.index.intersection(mom.index))
    day = pd.Timestamp("2026-04-30")
    assert carhart.loc[day, "Mom"] == 2.17 / 100 == mom.loc[day, "Mom"]
    assert carhart.loc[day, "Mkt-RF"] == ff3.loc[day, "Mkt-RF"]
    notes = carhart.attrs["eventstudy_notes"]
    assert len(notes) == 1 and "dropped 101 Fama-French date(s)" in notes[0]
    recent = load_factors("carhart", path=factors_dir, start="2020-01-01")
    assert recent.attrs["eventstudy_notes"] == []  # no dates lost


def test_momentum_alone(factors_dir):
    mom = load_factors("momentum", path=factors_dir / "original", end="1926-11-05")
    assert list(mom.columns) == ["Mom"]
    assert mom["Mom"].tolist() == [0.54 / 100, -0.51 / 100, tidy(factors_dir, MOM).loc["1926-11-05", "Mom"] / 100]


SYNTHETIC = (
    "This file was created by using the 202401 CRSP database.\r\n"
    "Missing data are indicated by -99.99 or -999.\r\n"
    "\r\n"
    ",Mkt-RF,SMB,HML,RF\r\n"
    "20240102,   -0.71,  -99.99,    0.78,    0.02\r\n"
    "20240103,   -1.02,   -0.34,  -999,    0.02\r\n"
    "20240104,    0.05,    0.12,   -0.20,    0.02\r\n"
    "\r\n"
    "  Annual Factors: January-December \r\n"
    ",Mkt-RF,SMB,HML,RF\r\n"
    "  2023,   21.69,   -1.18,  -13.43,    5.04\r\n"
    "\r\n"
    "Copyright 2024 Kenneth R. French\r\n"
)


def test_missing_codes_and_annual_section():
    parsed = parse_french_csv(SYNTHETIC)
    assert len(parsed) == 3 and parsed.index[-1] == pd.Timestamp("2024-01-04")
    assert np.isnan(parsed.loc["2024-01-02", "SMB"]) and np.isnan(parsed.loc["2024-01-03", "HML"])
    assert parsed.loc["2024-01-03", "Mkt-RF"] == -1.02
    assert parsed.attrs["vintage"] == "202401"


def test_parser_errors_name_the_line():
    with pytest.raises(ValueError, match="monthly"):
        parse_french_csv(",Mkt-RF,SMB,HML,RF\n192607,    2.89,   -2.55,   -2.39,    0.22\n")
    with pytest.raises(ValueError, match=r"line 3 has 3 value\(s\)"):
        parse_french_csv(",Mkt-RF,SMB,HML,RF\n20240102,1,2,3,4\n20240103,1,2,3\n")
    with pytest.raises(ValueError, match=r"line 2 holds a value that is not a number"):
        parse_french_csv(",Mkt-RF\n20240102,abc\n")
    with pytest.raises(ValueError, match="No daily factor rows"):
        parse_french_csv("just some text\n")


def test_directory_with_zip_files(factors_dir, tmp_path):
    # French's download form: <name>_CSV.zip holding <name>.CSV
    for name in (FF3, MOM):
        with zipfile.ZipFile(tmp_path / f"{name}_CSV.zip", "w") as archive:
            archive.writestr(f"{name}.CSV", original_text(factors_dir, name))
    carhart = load_factors("carhart", path=tmp_path, start="2025-05-12", end="2025-05-16")
    assert carhart.loc["2025-05-13", "Mom"] == tidy(factors_dir, MOM).loc["2025-05-13", "Mom"] / 100
    assert len(carhart) == 5


def test_missing_files_and_columns(factors_dir, tmp_path):
    with pytest.raises(DataSourceError, match=r"No F-F_Research_Data_5_Factors_2x3_daily file in .*_CSV\.zip"):
        load_factors("ff5", path=factors_dir / "original")
    with pytest.raises(KeyError, match=r"lack the column\(s\) \['RMW', 'CMA'\]"):
        load_factors("ff5", path=factors_dir / f"{FF3}.csv")
    with pytest.raises(DataSourceError, match="does not exist"):
        load_factors("ff3", path=tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="'model' parameter must be one of"):
        load_factors("ff4")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'start' parameter .* is after the 'end' parameter"):
        load_factors("ff3", path=factors_dir, start="2025-01-02", end="2024-01-02")


def test_factors_dir_from_the_environment(factors_dir, monkeypatch):
    monkeypatch.setenv("EVENTSTUDY_FACTORS_DIR", str(factors_dir))
    monkeypatch.setenv("EVENTSTUDY_OFFLINE", "1")  # a local folder needs no network
    ff3 = load_factors("ff3", start="2026-04-30")
    assert ff3["Mkt-RF"].tolist() == [1.13 / 100]


def serve_zips(factors_dir, folder):
    """A local copy of the library's download folder (a file:// URL), built from the published files."""
    for name in (FF3, MOM):
        with zipfile.ZipFile(folder / f"{name}_CSV.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{name}.CSV", original_text(factors_dir, name))
    return folder.as_uri()


def test_download_is_cached_and_served_offline(factors_dir, tmp_path, monkeypatch):
    from eventstudy.data import config

    url = serve_zips(factors_dir, tmp_path)
    ff3 = load_factors("ff3", source=url, start="2026-04-01")
    assert ff3.loc["2026-04-30", "Mkt-RF"] == 1.13 / 100
    stored = sorted((config.cache_dir() / "factors").iterdir())
    assert [p.suffix for p in stored] == [".json", ".parquet"]
    meta = json.loads(stored[0].read_text())
    assert meta["url"] == f"{url}/{FF3}_CSV.zip" and meta["vintage"] == "202604"
    assert meta["rows"] == 26233 and len(meta["sha256"]) == 64 and meta["fetched_at"]
    # the zip is gone and the network is off: the cache answers
    (tmp_path / f"{FF3}_CSV.zip").unlink()
    monkeypatch.setenv("EVENTSTUDY_OFFLINE", "on")
    again = load_factors("ff3", source=url, start="2026-04-01")
    pd.testing.assert_frame_equal(again, ff3)


def test_offline_without_cache_raises(tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTSTUDY_OFFLINE", "1")
    with pytest.raises(CacheError, match=r"offline: F-F_Research_Data_Factors_daily is not in the cache"):
        load_factors("carhart", source=tmp_path.as_uri())
    with pytest.raises(CacheError, match="offline"):
        load_factors("ff3")  # the default French URL is never contacted


def test_failed_download_is_retried_then_reported(tmp_path, monkeypatch):
    pauses = []
    monkeypatch.setattr(time, "sleep", pauses.append)
    with pytest.raises(
        DataSourceError, match=r"Could not download file://.*F-F_Research_Data_Factors_daily_CSV\.zip"
    ) as info:
        load_factors("ff3", source=tmp_path.as_uri())
    assert pauses == [1.0, 2.0, 4.0]
    assert info.value.url.endswith("_CSV.zip")


def test_corrupt_factor_cache_offline(factors_dir, tmp_path, monkeypatch):
    url = serve_zips(factors_dir, tmp_path)
    load_factors("momentum", source=url)
    from eventstudy.data import config

    parquet = next((config.cache_dir() / "factors").glob("*.parquet"))
    parquet.write_bytes(b"garbage")
    monkeypatch.setenv("EVENTSTUDY_OFFLINE", "1")
    with pytest.raises(CacheError, match="corrupt"):
        load_factors("momentum", source=url)
    monkeypatch.delenv("EVENTSTUDY_OFFLINE")
    with pytest.warns(Warning, match="corrupt"):
        mom = load_factors("momentum", source=url, start="2026-04-30")
    assert mom["Mom"].tolist() == [2.17 / 100]


@pytest.mark.live
def test_live_french_ff3_download():
    ff3 = load_factors("ff3", start="2025-05-12", end="2025-05-16")
    assert list(ff3.columns) == ["Mkt-RF", "SMB", "HML", "RF"]
    assert len(ff3) == 5 and ff3.abs().max().max() < 0.2  # decimals, not percent


def test_factor_cache_records_the_sha256_of_its_parquet(factors_dir, tmp_path):
    import hashlib

    from eventstudy.data import config

    url = serve_zips(factors_dir, tmp_path)
    load_factors("momentum", source=url)
    folder = config.cache_dir() / "factors"
    parquet = next(folder.glob("*.parquet"))
    meta = json.loads(parquet.with_suffix(".json").read_text())
    assert meta["sha256"] == hashlib.sha256(parquet.read_bytes()).hexdigest()
    assert meta["parquet_file"] == parquet.name and meta["format"] == "eventstudy-factor-cache"
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_factor_cache_write_failures_warn_and_bugs_propagate(factors_dir, tmp_path, monkeypatch):
    import os

    from eventstudy import EventStudyWarning

    url = serve_zips(factors_dir, tmp_path)

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.warns(EventStudyWarning, match="Could not write the factor cache .*No space left"):
        mom = load_factors("momentum", source=url, start="2026-04-30")
    assert mom["Mom"].tolist() == [2.17 / 100]  # the data were served all the same

    def bug(src, dst):
        raise RuntimeError("not a storage problem")

    monkeypatch.setattr(os, "replace", bug)
    with pytest.raises(RuntimeError, match="not a storage problem"):
        load_factors("momentum", source=url)
