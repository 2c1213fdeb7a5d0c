"""Saves that check themselves, GARCH and volatility studies that round-trip, exports that never lose a file.

The saved folder's manifest holds a format version and the SHA-256 of every file (issue 21): a file edited,
a byte flipped, a file truncated or missing, a manifest from a newer version or with a field missing is
refused with a :class:`eventstudy.SavedResultsError` naming the file.  ``res.to_stata`` and ``res.to_r`` write
aside and move into place, so a full disk leaves the earlier files byte for byte as they were.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.estimation.models import model_names

WINDOWS = [(0, 0), (-1, 1), (0, 1), (-5, 5)]


@pytest.fixture(scope="module")
def events():
    return pd.DataFrame(
        {
            "event_id": ["rescission", "rescission", "guidance"],
            "ticker": ["NVDA", "AMD", "NVDA"],
            "date": ["2025-05-13", "2025-05-13", "2025-01-13"],
            "session": ["pre", "pre", "post"],
        }
    )


@pytest.fixture(scope="module")
def res(events, prices_dir):
    return es.EventStudy(events, source=es.CsvSource(prices_dir), market="SPY", name="checked").fit()


@pytest.fixture()
def saved(res, tmp_path):
    return res.save(tmp_path / "saved")


def digests(folder) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def reseal(path, manifest: dict) -> None:
    """Write ``manifest`` with a valid checksum, as a (newer) writer would: the checksum is the SHA-256 of the
    manifest without it, dumped with ``indent=1, sort_keys=True``."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    body["manifest_sha256"] = hashlib.sha256(json.dumps(body, indent=1, sort_keys=True).encode()).hexdigest()
    (path / "manifest.json").write_text(json.dumps(body, indent=1, sort_keys=True) + "\n")


# --------------------------------------------------------------------------------------------------------
# round trips
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["garch", "gjr-garch-t"])
def test_garch_results_round_trip(events, prices_dir, tmp_path, model):
    res = es.EventStudy(events, source=es.CsvSource(prices_dir), market="SPY", model=model).fit()
    back = es.load(res.save(tmp_path / model))
    assert type(back.fit) is type(res.fit) and back.model == res.model
    for window in WINDOWS:
        before, after = res.car(window), back.car(window)
        assert after[["event_id", "ticker"]].equals(before[["event_id", "ticker"]])
        for column in ("car", "se", "t", "pvalue"):
            np.testing.assert_allclose(after[column], before[column], rtol=1e-12, atol=0)
    tests_before, tests_after = res.tests(WINDOWS), back.tests(WINDOWS)
    assert tests_after["test"].tolist() == tests_before["test"].tolist()
    for column in ("stat", "pvalue"):
        np.testing.assert_allclose(tests_after[column], tests_before[column], rtol=1e-12, atol=0)
    numeric = res.params.select_dtypes("number").columns
    np.testing.assert_allclose(back.params[numeric], res.params[numeric], rtol=1e-12, atol=0)
    for name in ("vol_params", "h_event", "horizon"):
        np.testing.assert_allclose(getattr(back.fit, name), getattr(res.fit, name), rtol=1e-12, atol=0)
    assert back.fit.vol_names == res.fit.vol_names


def test_a_volatility_study_is_one_results_type_and_round_trips(events, prices_dir, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DataQualityWarning)
        vol = es.EventStudy(events, source=es.CsvSource(prices_dir), market="SPY", outcome="volatility").fit()
    plain = es.EventStudy(events, source=es.CsvSource(prices_dir), market="SPY").fit()
    assert isinstance(vol, es.EventStudyResults) and isinstance(vol, es.VolatilityResults)
    # the volatility study is the returns study: the same CARs, and the ratios of its squared ARs
    pd.testing.assert_frame_equal(vol.car((-1, 1)), plain.car((-1, 1)))
    pd.testing.assert_frame_equal(vol.volatility((-1, 1)), es.abnormal_volatility(plain, (-1, 1)))
    assert vol.table((-1, 1)).equals(vol.volatility((-1, 1)))
    assert "Abnormal volatility over the event window" in str(vol)
    back = es.load(vol.save(tmp_path / "vol"))
    assert type(back) is es.VolatilityResults
    pd.testing.assert_frame_equal(back.range_variance, vol.range_variance, check_freq=False)
    for method in ("squared-ar", "range"):
        pd.testing.assert_frame_equal(back.volatility((0, 1), method=method), vol.volatility((0, 1), method=method))
        pd.testing.assert_frame_equal(back.volatility_tests(method=method), vol.volatility_tests(method=method))


def test_a_model_outside_the_registry_is_refused_before_anything_is_written(res, tmp_path):
    class Mine(es.MarketModel):
        name = "mine"

    mine = res._with(model=Mine())
    with pytest.raises(ValueError, match="not one of eventstudy's registered models"):
        mine.save(tmp_path / "mine")
    assert not (tmp_path / "mine").exists()


@pytest.mark.parametrize("name", model_names(variants=True))
def test_every_registered_model_is_saved_by_its_declared_state(name):
    """The saved model is the model's own ``state()`` (JSON as written), rebuilt by its class's ``from_state``."""
    from eventstudy.results.results import _model_from_state, _model_state

    model = es.get_model(name)
    state = _model_state(model)
    assert state == model.state() == json.loads(json.dumps(state))
    rebuilt = _model_from_state(state)
    assert type(rebuilt) is type(model) and rebuilt == model


def test_a_saved_model_with_a_field_its_class_does_not_know_is_refused():
    from eventstudy.results.results import _model_from_state

    with pytest.raises(es.SavedResultsError, match=r"fields \['window'\] that Dimson does not know"):
        _model_from_state({"name": "dimson", "fields": {"lags": 2, "window": 3}})
    with pytest.raises(es.SavedResultsError, match="'garch-x' is not one of"):
        _model_from_state({"name": "garch-x", "fields": {}})


def test_a_subclass_under_a_registered_name_is_refused(res, tmp_path):
    class Lookalike(es.MarketModel):  # inherits the name "market": es.load would rebuild a plain MarketModel
        pass

    with pytest.raises(ValueError, match=r"Lookalike \('market'\) is not one of eventstudy's registered models"):
        res._with(model=Lookalike()).save(tmp_path / "lookalike")
    assert not (tmp_path / "lookalike").exists()


# --------------------------------------------------------------------------------------------------------
# saves that check themselves
# --------------------------------------------------------------------------------------------------------


def test_an_edited_parameter_is_refused(saved):
    path = saved / "arrays" / "fit.params.parquet"
    frame = pd.read_parquet(path)
    frame.loc[1, "value"] += 0.001  # NVDA's beta, a little
    frame.to_parquet(path, index=False)
    with pytest.raises(es.SavedResultsError, match=r"fit\.params\.parquet: its SHA-256 differs"):
        es.load(saved)


def test_a_file_changed_after_its_check_is_not_what_is_loaded(res, saved, monkeypatch):
    """Another process rewrites the parameters the moment load has read them to check their checksum: what
    load returns is what it checked (each file read once), not the edited values a second read would parse."""
    path = saved / "arrays" / "fit.params.parquet"
    edited = pd.read_parquet(path)
    edited.loc[1, "value"] += 0.001
    real_open = io.open
    done = []

    def open_then_edit(file, mode="r", *args, **kwargs):
        if not done and "r" in mode and os.fspath(file) == os.fspath(path):
            done.append(file)
            with real_open(file, "rb") as handle:
                data = handle.read()
            edited.to_parquet(path, index=False)  # the file on disk changes once its bytes have been read
            return io.BytesIO(data)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(io, "open", open_then_edit)
    monkeypatch.setattr("builtins.open", open_then_edit)
    loaded = es.load(saved)
    monkeypatch.undo()
    assert done  # the checksum was read through open
    np.testing.assert_array_equal(loaded.fit.params, res.fit.params)
    with pytest.raises(es.SavedResultsError, match=r"fit\.params\.parquet: its SHA-256 differs"):
        es.load(saved)  # the edit is on disk now, and refused


def test_every_flipped_byte_in_every_file_is_refused(saved):
    rng = np.random.default_rng(21)
    files = [p for p in sorted(saved.rglob("*")) if p.is_file()]
    flips = 0
    for path in files:
        original = path.read_bytes()
        for _ in range(-(-200 // len(files))):  # 200 flips or more, spread over every file
            data = bytearray(original)
            at = int(rng.integers(len(data)))
            data[at] ^= int(rng.integers(1, 256))
            path.write_bytes(bytes(data))
            with pytest.raises(es.SavedResultsError, match=path.name):
                es.load(saved)
            flips += 1
        path.write_bytes(original)
    assert flips >= 200
    es.load(saved)  # every file put back: the folder loads again


def test_truncated_or_missing_files_are_refused(saved):
    for path in [p for p in sorted(saved.rglob("*")) if p.is_file()]:
        original = path.read_bytes()
        for size in (0, len(original) // 2, len(original) - 1):
            path.write_bytes(original[:size])
            with pytest.raises(es.SavedResultsError, match=path.name):
                es.load(saved)
        path.write_bytes(original)
    (saved / "tables" / "dropped.parquet").unlink()
    with pytest.raises(es.SavedResultsError, match="dropped.parquet: missing"):
        es.load(saved)


def test_a_manifest_from_a_newer_version_is_refused_with_the_version(saved):
    manifest = json.loads((saved / "manifest.json").read_text())
    reseal(saved, manifest | {"format_version": 3, "eventstudy_version": "9.0"})
    with pytest.raises(es.SavedResultsError, match=r"eventstudy 9.0 in format version 3.*Upgrade eventstudy"):
        es.load(saved)
    # the same version number with a field this version does not know: named, never a TypeError
    reseal(saved, manifest | {"annotations": {}})
    with pytest.raises(es.SavedResultsError, match=r"\['annotations'\].*does not have"):
        es.load(saved)
    reseal(saved, manifest | {"meta": manifest["meta"] | {"weights": [1, 2]}})
    with pytest.raises(es.SavedResultsError, match=r"manifest.json: .*\['weights'\] this version does not know"):
        es.load(saved)
    model = manifest["meta"]["model"] | {"fields": manifest["meta"]["model"]["fields"] | {"shrinkage": 0.5}}
    reseal(saved, manifest | {"meta": manifest["meta"] | {"model": model}})
    with pytest.raises(es.SavedResultsError, match=r"manifest.json: the saved model .*shrinkage"):
        es.load(saved)
    fit = manifest["meta"]["fit"] | {"values": manifest["meta"]["fit"]["values"] | {"jitter": 1}}
    reseal(saved, manifest | {"meta": manifest["meta"] | {"fit": fit}})
    with pytest.raises(es.SavedResultsError, match=r"manifest.json: the saved 'fit' .*\['jitter'\]"):
        es.load(saved)


def test_missing_keys_and_a_truncated_manifest_are_refused(saved):
    manifest = json.loads((saved / "manifest.json").read_text())
    reseal(saved, {k: v for k, v in manifest.items() if k != "meta"})
    with pytest.raises(es.SavedResultsError, match=r"lacks the field\(s\) \['meta'\]"):
        es.load(saved)
    reseal(saved, manifest | {"meta": {k: v for k, v in manifest["meta"].items() if k != "fit"}})
    with pytest.raises(es.SavedResultsError, match=r"manifest.json: .*lack the field\(s\) \['fit'\]"):
        es.load(saved)
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    (saved / "manifest.json").write_text(text[: len(text) // 2])
    with pytest.raises(es.SavedResultsError, match="manifest.json: not a valid manifest"):
        es.load(saved)
    # an edit that keeps valid JSON (a setting changed by hand) breaks the manifest's own checksum
    edited = json.loads(text)
    edited["meta"]["settings"]["estimation_window"] = [-200, -11]
    (saved / "manifest.json").write_text(json.dumps(edited, indent=1, sort_keys=True) + "\n")
    with pytest.raises(es.SavedResultsError, match="manifest.json: its checksum does not match"):
        es.load(saved)


def test_a_save_of_the_earlier_format_names_its_version(saved):
    manifest = json.loads((saved / "manifest.json").read_text())
    reseal(saved, manifest | {"format_version": 1})
    with pytest.raises(es.SavedResultsError, match=r"format version 1; this eventstudy .* reads format version 2"):
        es.load(saved)


# --------------------------------------------------------------------------------------------------------
# exports written aside: a full disk leaves the earlier files whole
# --------------------------------------------------------------------------------------------------------


def _disk_full_after(monkeypatch, method: str, calls_ok: int, partial: bytes = b"x" * 200):
    """Make ``pd.DataFrame.<method>`` succeed ``calls_ok`` times, then write ``partial`` and fail as a full
    disk does."""
    original = getattr(pd.DataFrame, method)
    count = {"n": 0}

    def writer(self, path, *args, **kwargs):
        count["n"] += 1
        if count["n"] <= calls_ok:
            return original(self, path, *args, **kwargs)
        with open(path, "wb") as handle:
            handle.write(partial)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, method, writer)


def test_to_stata_on_a_full_disk_leaves_the_old_file_whole(res, tmp_path, monkeypatch):
    path = res.to_stata(tmp_path / "car.dta")
    before = digests(tmp_path)
    _disk_full_after(monkeypatch, "to_stata", 0)
    with pytest.raises(OSError, match="No space left"):
        res.to_stata(tmp_path / "car.dta", windows=[(0, 0)])
    assert digests(tmp_path) == before  # the old car.dta, byte for byte, and no partial file beside it
    monkeypatch.undo()
    assert len(pd.read_stata(path)) == res.n


def test_to_r_on_a_full_disk_leaves_no_partial_file(res, tmp_path, monkeypatch):
    res.to_r(tmp_path / "r")
    (tmp_path / "r" / "notes.txt").write_text("the user's own file")
    before = digests(tmp_path)
    _disk_full_after(monkeypatch, "to_csv", 1)  # ar.csv is written, car.csv fails halfway
    with pytest.raises(OSError, match="No space left"):
        res.to_r(tmp_path / "r", windows=[(0, 0), (-1, 1)])
    assert digests(tmp_path) == before
    monkeypatch.undo()
    fresh = res.to_r(tmp_path / "new")
    assert [p.name for p in fresh] == ["ar.csv", "car.csv"]
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["ar.csv", "car.csv"]


def test_to_csv_on_a_full_disk_leaves_the_old_tables(res, tmp_path, monkeypatch):
    written = res.to_csv(tmp_path / "tables")
    assert len(written) >= 2
    before = digests(tmp_path)
    _disk_full_after(monkeypatch, "to_csv", 1)
    with pytest.raises(OSError, match="No space left"):
        res.to_csv(tmp_path / "tables", windows=[(0, 0)])
    assert digests(tmp_path) == before


def test_a_save_on_a_full_disk_leaves_the_old_save(res, saved, monkeypatch):
    before = digests(saved)
    _disk_full_after(monkeypatch, "to_parquet", 3)
    with pytest.raises(OSError, match="No space left"):
        res.save(saved)
    monkeypatch.undo()
    assert digests(saved) == before
    assert [p.name for p in saved.parent.iterdir()] == ["saved"]  # no staging folder left behind
    es.load(saved)


# --------------------------------------------------------------------------------------------------------
# Stata: every variable labelled, the day-0 date to merge on
# --------------------------------------------------------------------------------------------------------


def test_stata_exports_label_every_variable_and_carry_day0(res, tmp_path):
    car_path = res.to_stata(tmp_path / "car.dta", windows=[(0, 0), (-1, 1)])
    ar_path = res.to_stata(tmp_path / "ar.dta", table="ar")
    for path, columns in (
        (car_path, ["event_id", "ticker", "day0", "window_start", "window_end", "car", "se", "t", "df", "pvalue"]),
        (ar_path, ["event_id", "ticker", "event_time", "date", "ar", "se"]),
    ):
        with pd.read_stata(path, iterator=True) as reader:
            labels = reader.variable_labels()
        assert list(labels) == columns
        assert all(label.strip() for label in labels.values()), labels
    car = pd.read_stata(car_path)
    # day 0 merges on the study's own firm-events: each row's date is the firm-event's day 0
    day0 = res.firm_events.set_index(["event_id", "ticker"])["day0"].dt.strftime("%Y-%m-%d")
    got = car.set_index(["event_id", "ticker"])["day0"].dt.strftime("%Y-%m-%d")
    assert got.to_dict() == day0.to_dict()
    assert day0.to_dict()[("rescission", "NVDA")] == "2025-05-13"
    assert day0.to_dict()[("guidance", "NVDA")] == "2025-01-14"  # released after the close: the next session
    r_car = pd.read_csv(res.to_r(tmp_path / "r")[1])
    assert r_car["day0"].tolist() == res.firm_events["day0"].dt.strftime("%Y-%m-%d").tolist()


def test_copied_folders_load_and_stray_staging_is_not_left(saved, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    es.load(copy)  # a save holds no machine's path: a copied folder loads
    assert digests(copy) == digests(saved)  # and loading changes nothing in it
    staging = [p.name for p in saved.parent.iterdir() if p.name.startswith(f".{saved.name}.")]
    assert staging == [], staging  # the save moved its staging folder into place: nothing left beside it


# --------------------------------------------------------------------------------------------------------
# every model and outcome: save/load, Stata and R give the direct path's numbers
# --------------------------------------------------------------------------------------------------------

STUDIES = {
    "market": {},
    "constant-mean": {"model": "constant-mean"},
    "market-adjusted": {"model": "market-adjusted"},
    "multi-index": {"model": "multi-index", "market": ["SPY", "SOXX"]},
    "dimson": {"model": "dimson"},
    "scholes-williams": {"model": "scholes-williams"},
    "capm": {"model": "capm", "factors": "ff3"},
    "ff3": {"model": "ff3", "factors": "ff3"},
    "ff5": {"model": "ff5", "factors": "ff5"},
    "carhart": {"model": "carhart", "factors": "carhart"},
    "volume": {"outcome": "volume"},
}


@pytest.mark.slow  # eleven fits on the shared prices, about 15 s
@pytest.mark.parametrize("study", list(STUDIES))
def test_every_model_and_outcome_round_trips_and_exports(study, events, prices_dir, factors_dir, tmp_path):
    options = {"market": "SPY", **STUDIES[study]}
    if "factors" in options:
        options["factors"] = es.load_factors(options["factors"], path=factors_dir, start="2023-06-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.EventStudyWarning)
        res = es.EventStudy(events, source=es.CsvSource(prices_dir), **options).fit()
    back = es.load(res.save(tmp_path / "saved"))
    assert back.model == res.model and back.settings == res.settings
    for window in WINDOWS:
        pd.testing.assert_frame_equal(back.car(window), res.car(window), check_exact=True)
        pd.testing.assert_frame_equal(back.bhar(window), res.bhar(window), check_exact=True)
    pd.testing.assert_frame_equal(back.tests(WINDOWS), res.tests(WINDOWS), check_exact=True)
    for name in ("ar", "params", "dropped", "firm_events"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(res, name), check_exact=True, obj=name)
    assert str(back) == str(res)
    # the exports hold the same numbers to the last bit: Stata doubles, and R's CSV at 17 significant digits
    want = pd.concat([res.car(w) for w in WINDOWS], ignore_index=True)
    stata = pd.read_stata(back.to_stata(tmp_path / "car.dta", windows=WINDOWS))
    r_car = pd.read_csv(back.to_r(tmp_path / "r", windows=WINDOWS)[1], keep_default_na=False, na_values=["NA"])
    for column in ("car", "se", "t", "pvalue"):
        np.testing.assert_array_equal(stata[column].to_numpy(), want[column].to_numpy())
        np.testing.assert_array_equal(r_car[column].to_numpy(), want[column].to_numpy())


def test_the_next_export_removes_what_a_killed_one_left(res, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = tmp_path / f".car.dta.tmp-{int(dead.stdout)}-k1ll3d"  # a SIGKILL midway leaves this
    orphan.write_bytes(b"half a file")
    running = tmp_path / f".car.dta.tmp-{os.getpid()}-busy"  # a live process's: left alone
    running.write_bytes(b"in progress")
    res.to_stata(tmp_path / "car.dta")
    assert not orphan.exists() and running.exists()
