"""A corrupt cache entry is never served: every byte flip is caught, kept aside and refetched (issue 21).

A checksum mismatch counts as an interrupted write only when the write journal records the sha256 of that
very file; anything else is corruption.  The entries are written by the real cache from the shared NVDA
prices (CsvSource stands in for the network), then damaged byte by byte.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy import CacheError, DataQualityWarning
from eventstudy.data import CachedSource, CsvSource
from eventstudy.data._store import CorruptEntryError, journal_path, read_entry

START, END = "2024-01-02", "2024-12-31"


def expected(prices_dir: Path, start: str = START, end: str = END) -> pd.Series:
    frame = pd.read_csv(prices_dir / "NVDA.csv", index_col="Date", parse_dates=True)
    return frame["Adj Close"].loc[start:end]


@pytest.fixture
def entry(prices_dir, tmp_path):
    """A year of NVDA cached by the real cache: (cache dir, parquet, json, the good frame read back)."""
    CachedSource(CsvSource(prices_dir), cache_dir=tmp_path).get_prices("NVDA", START, END)
    folder = tmp_path / "prices" / "csv"
    parquet = next(folder.glob("NVDA.parquet"), None)
    if parquet is None:  # the source's folder name is safe_name(source.name)
        parquet = next(tmp_path.glob("prices/*/NVDA.parquet"))
    good = read_entry(parquet)
    assert good is not None
    return tmp_path, parquet, parquet.with_suffix(".json"), good[0]


def flipped(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :]


@pytest.mark.parametrize(
    ("which", "every"),
    [
        ("json", 1),
        ("parquet", 37),  # fast: 1 byte in 37 (about 600 positions, header to footer)
        pytest.param("parquet", 1, marks=pytest.mark.slow),  # every byte (about 20,000)
    ],
)
def test_no_single_byte_flip_is_served(entry, which, every):
    """Each byte of the entry flipped in turn: each read fails (CorruptEntryError) or serves the good values."""
    _, parquet, meta, good = entry
    target = parquet if which == "parquet" else meta
    original = target.read_bytes()
    positions = list(range(0, len(original), every)) + [len(original) - 1]
    # a journal left by an earlier write interrupted before its Parquet rename records another file's sha256:
    # it must prove nothing about this one
    journal_path(parquet).write_text(json.dumps({"parquet_file": parquet.name, "sha256": "0" * 64}))
    served_wrong, detected, harmless = [], 0, 0
    for position in positions:
        target.write_bytes(flipped(original, position))
        try:
            found = read_entry(parquet, expected_format="eventstudy-price-cache", recover=True)
        except CorruptEntryError:
            detected += 1
            continue
        assert found is not None
        if found[0].equals(good):
            harmless += 1
        else:
            served_wrong.append(position)
    target.write_bytes(original)
    assert served_wrong == []
    assert detected + harmless == len(positions) > 500
    assert detected == len(positions)  # the sha256 and the embedded record catch every flip, harmless or not


def test_a_flipped_byte_is_quarantined_and_refetched_online_refused_offline(entry, prices_dir):
    cache_dir, parquet, meta, _ = entry
    original = parquet.read_bytes()
    want = expected(prices_dir)
    positions = np.linspace(0, len(original) - 1, 12).astype(int)  # header, pages, footer, magic bytes
    for position in positions:
        original = parquet.read_bytes()  # the entry as the last refetch wrote it, beside its own JSON
        bad = flipped(original, int(position))
        parquet.write_bytes(bad)
        with pytest.raises(CacheError, match=r"cache entry for NVDA is corrupt: .*NVDA\.parquet"):
            CachedSource(CsvSource(prices_dir), cache_dir=cache_dir, offline=True).get_prices("NVDA", START, END)
        assert parquet.read_bytes() == bad  # offline nothing is moved or rewritten
        with pytest.warns(DataQualityWarning, match=r"NVDA: the cache entry is corrupt .*moved it to .*\.quarantine"):
            got = CachedSource(CsvSource(prices_dir), cache_dir=cache_dir).get_prices("NVDA", START, END)
        assert got["NVDA"].tolist() == want.tolist()  # refetched: the right prices, not the flipped ones
        kept = sorted((parquet.parent / ".quarantine").glob("NVDA-*/NVDA.parquet"))
        assert kept and kept[-1].read_bytes() == bad  # the corrupt file is kept aside as it was
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # and served again without a word
            CachedSource(CsvSource(prices_dir), cache_dir=cache_dir, offline=True).get_prices("NVDA", START, END)
    assert len(list((parquet.parent / ".quarantine").iterdir())) == len(positions)


def test_metadata_claiming_a_range_beyond_the_data_refetch_it_and_blame_the_cache(entry, prices_dir):
    cache_dir, parquet, meta, _ = entry
    record = json.loads(meta.read_text())
    record["covered_end"] = "2025-06-30"  # the JSON says more is cached than the data hold
    meta.write_text(json.dumps(record, indent=2))
    with pytest.raises(CacheError, match=r"NVDA\.json disagree with the record inside data file NVDA\.parquet"):
        CachedSource(CsvSource(prices_dir), cache_dir=cache_dir, offline=True).get_prices("NVDA", START, "2025-06-30")
    with pytest.warns(DataQualityWarning, match=r"NVDA: the cache entry is corrupt .*covered_end.*2025-06-30") as seen:
        got = CachedSource(CsvSource(prices_dir), cache_dir=cache_dir).get_prices("NVDA", START, "2025-06-30")
    assert not [w for w in seen if "missing" in str(w.message) and "cache" not in str(w.message)]
    assert got["NVDA"].tolist() == expected(prices_dir, START, "2025-06-30").tolist()  # 2025 refetched


def test_a_missing_metadata_file_without_a_journal_is_corruption_not_a_recovery(entry, prices_dir):
    cache_dir, parquet, meta, _ = entry
    meta.unlink()
    with pytest.raises(CacheError, match=r"NVDA\.json is missing and no write journal shows an interrupted write"):
        CachedSource(CsvSource(prices_dir), cache_dir=cache_dir, offline=True).get_prices("NVDA", START, END)
    with pytest.warns(DataQualityWarning, match=r"corrupt .*moved it to"):
        CachedSource(CsvSource(prices_dir), cache_dir=cache_dir).get_prices("NVDA", START, END)
    assert not journal_path(parquet).exists() and meta.exists()
