"""Kenneth R. French's daily factors: located in a folder, or downloaded and cached, and shaped for a model.

The files' formats (French's CSV as published, tidy CSVs, zips) are read by :mod:`eventstudy.data.factor_files`.

French publishes the factors in **percent**; :func:`load_factors` returns **decimals** (divided by 100).
Dates stay French's (trading days); aligning them with an exchange calendar is the calendar's job.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from eventstudy.data import config
from eventstudy.data._store import CorruptEntryError, quarantine, read_entry, storage_errors, write_entry
from eventstudy.data.factor_files import parse_factor_text, parse_french_csv, read_factor_file, unzip_text
from eventstudy.data.support import library_versions, retry, warn
from eventstudy.data.validation import DATE_UNIT, _squash, check_date_range, to_day
from eventstudy.exceptions import CacheError, DataQualityWarning, DataSourceError, EventStudyWarning
from eventstudy.foundation.keys import NOTES_KEY
from eventstudy.foundation.validation import check_choice

__all__ = ["load_factors", "parse_french_csv", "read_factor_file", "FRENCH_URL", "MODELS"]

#: Folder of French's data library that holds the zipped CSV files.
FRENCH_URL = "https://mba.tuck.dartmouth.edu/pages/faculty/ken.french/ftp"

Model = Literal["ff3", "ff5", "carhart", "momentum"]
MODELS: tuple[str, ...] = ("ff3", "ff5", "carhart", "momentum")

# dataset (French's file stem) -> its columns
_DATASETS = {
    "F-F_Research_Data_Factors_daily": ("Mkt-RF", "SMB", "HML", "RF"),
    "F-F_Research_Data_5_Factors_2x3_daily": ("Mkt-RF", "SMB", "HML", "RMW", "CMA", "RF"),
    "F-F_Momentum_Factor_daily": ("Mom",),
}
_MODEL_DATASETS = {
    "ff3": ("F-F_Research_Data_Factors_daily",),
    "ff5": ("F-F_Research_Data_5_Factors_2x3_daily",),
    "momentum": ("F-F_Momentum_Factor_daily",),
    "carhart": ("F-F_Research_Data_Factors_daily", "F-F_Momentum_Factor_daily"),
}
_FORMAT = "eventstudy-factor-cache"
_RETRY_HTTP = (408, 429, 500, 502, 503, 504)  # timeouts, rate limits and server trouble pass; the rest do not
_RETRIES = 3
_PAUSE = 1.0
_TIMEOUT = 30.0
_REFRESH_AFTER = pd.Timedelta(days=30)


# --------------------------------------------------------------------------------------------------
# locating, downloading and caching


def _find_in_directory(directory: Path, dataset: str) -> Path:
    files = {p.name.lower(): p for p in directory.iterdir() if p.is_file()}
    names = (f"{dataset}.csv", f"{dataset}_CSV.zip", f"{dataset}.zip", f"{dataset}.txt")
    for name in names:
        found = files.get(name.lower())
        if found is not None:
            return found
    raise DataSourceError(
        f"No {dataset} file in {directory}: expected one of {list(names)}. Download it from French's data library "
        f"({FRENCH_URL}/{dataset}_CSV.zip) into that folder.",
        failures={dataset: f"not found in {directory}"},
    )


def _worth_retrying(exc: BaseException) -> bool:
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code in _RETRY_HTTP
    return isinstance(exc, OSError)  # URLError, connection trouble and timeouts are OSErrors


def _download(url: str) -> bytes:
    def attempt() -> bytes:
        request = urllib.request.Request(url, headers={"User-Agent": "eventstudy (python urllib)"})
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as answer:
            return answer.read()

    try:
        return retry(attempt, retries=_RETRIES, pause=_PAUSE, retry_on=_worth_retrying)
    except urllib.error.HTTPError as exc:
        reason = f"HTTP {exc.code} {exc.reason}"
    except OSError as exc:
        reason = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    raise DataSourceError(
        f"Could not download {url} ({reason}). Check the network, or download the file yourself and set "
        "EVENTSTUDY_FACTORS_DIR to its folder (or pass path=).",
        url=url,
    )


def _cache_path(dataset: str, url: str) -> Path:
    """The Parquet file of the cached copy of ``url``; its metadata sit beside it as ``.json``."""
    stem = f"{dataset}-{hashlib.sha1(url.encode('utf-8')).hexdigest()[:8]}"
    return config.cache_dir() / "factors" / f"{stem}.parquet"


def _read_cached(parquet: Path) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """Return the cached frame and metadata, None when absent; raise CorruptEntryError when corrupt."""
    found = read_entry(parquet, expected_format=_FORMAT)
    if found is None:
        return None
    frame, meta = found
    try:
        pd.Timestamp(meta["fetched_at"])
    except (KeyError, TypeError, ValueError):
        raise CorruptEntryError(f"metadata of {parquet.name} has no readable 'fetched_at'") from None
    frame.attrs = {
        "vintage": meta.get("vintage"),
        "units": "percent",
        "url": meta.get("url"),
        "sha256": meta.get("zip_sha256"),
        "fetched_at": meta.get("fetched_at"),
    }
    return frame, meta


def _downloaded(dataset: str, base_url: str, end: pd.Timestamp | None) -> pd.DataFrame:
    url = f"{base_url.rstrip('/')}/{dataset}_CSV.zip"
    parquet = _cache_path(dataset, url)
    offline = config.is_offline()
    try:
        cached = _read_cached(parquet)
    except CorruptEntryError as exc:
        if offline:
            raise CacheError(
                f"The cached factor file is corrupt: {exc}. Go online to fetch it again, or set "
                "EVENTSTUDY_FACTORS_DIR to a folder of French's files.",
                failures={dataset: str(exc)},
                url=url,
            ) from None
        kept = quarantine(parquet)
        aside = f"moved it to {kept}" if kept is not None else "could not move it aside"
        warn(f"The cached factor file is corrupt ({exc}); {aside} and downloading {url} again.", DataQualityWarning)
        cached = None
    now = pd.Timestamp.now(tz="UTC")
    if cached is not None:
        frame, meta = cached
        age = now - pd.Timestamp(meta["fetched_at"])
        wants_newer = end is not None and end > frame.index[-1] and age > pd.Timedelta(days=1)
        if offline or not (age > _REFRESH_AFTER or wants_newer):
            return frame
    if offline:
        raise CacheError(
            f"offline: {dataset} is not in the cache ({parquet.parent}). Go online (unset EVENTSTUDY_OFFLINE) to "
            f"download {url}, or set EVENTSTUDY_FACTORS_DIR to a folder holding French's files.",
            failures={dataset: "not cached"},
            url=url,
        )
    try:
        data = _download(url)
    except DataSourceError as exc:
        if cached is None:
            raise
        warn(
            f"Could not refresh {dataset} ({exc}); using the cached copy fetched at {cached[1]['fetched_at']}.",
            DataQualityWarning,
        )
        return cached[0]
    frame = parse_factor_text(unzip_text(data, url), url)
    meta = {
        "format": _FORMAT,
        "dataset": dataset,
        "url": url,
        "fetched_at": now.isoformat(),
        "zip_sha256": hashlib.sha256(data).hexdigest(),
        "vintage": frame.attrs.get("vintage"),
        "rows": int(len(frame)),
        "first_date": f"{frame.index[0]:%Y-%m-%d}",
        "last_date": f"{frame.index[-1]:%Y-%m-%d}",
        "units": "percent",
        "versions": library_versions(),
    }
    try:
        write_entry(parquet, frame, meta)
    except storage_errors() as exc:  # the data are good; only caching failed
        warn(f"Could not write the factor cache {parquet} ({type(exc).__name__}: {exc}).", EventStudyWarning)
    frame.attrs.update({"url": url, "sha256": meta["zip_sha256"], "fetched_at": meta["fetched_at"]})
    return frame


def _dataset_frame(dataset: str, *, path: Path | None, base_url: str, end: pd.Timestamp | None) -> pd.DataFrame:
    if path is None:
        return _downloaded(dataset, base_url, end)
    if path.is_dir():
        return read_factor_file(_find_in_directory(path, dataset))
    return read_factor_file(path)


def _select(frame: pd.DataFrame, columns: tuple[str, ...], origin: str) -> pd.DataFrame:
    by_key = {_squash(c): c for c in frame.columns}
    missing = [c for c in columns if _squash(c) not in by_key]
    if missing:
        raise KeyError(
            f"The factor data from {origin} lack the column(s) {missing}; they have {list(frame.columns)}. "
            "Check that the file matches the model (e.g. ff5 needs F-F_Research_Data_5_Factors_2x3_daily)."
        )
    out = frame[[by_key[_squash(c)] for c in columns]].copy()
    out.columns = list(columns)
    return out


def _span(index: pd.Index) -> str:
    return f"{index[0]:%Y-%m-%d}..{index[-1]:%Y-%m-%d}" if len(index) else "none"


def load_factors(
    model: Model = "ff3",
    *,
    path: str | os.PathLike[str] | None = None,
    start: Any = None,
    end: Any = None,
    source: str | None = None,
) -> pd.DataFrame:
    """Load Fama-French (and momentum) daily factors as decimals.

    Parameters
    ----------
    model
        ``"ff3"`` (Mkt-RF, SMB, HML, RF), ``"ff5"`` (Mkt-RF, SMB, HML, RMW, CMA, RF), ``"momentum"``
        (Mom) or ``"carhart"`` (the ff3 columns and Mom, joined on date).
    path
        A factor file (French's CSV as published, a tidy ``Date,...`` CSV in percent, or a zip holding
        one) or a folder holding French's standard file names (``F-F_Research_Data_Factors_daily.csv``,
        ``F-F_Research_Data_5_Factors_2x3_daily.csv``, ``F-F_Momentum_Factor_daily.csv`` or their
        ``.zip`` / ``_CSV.zip`` forms).  Default: ``$EVENTSTUDY_FACTORS_DIR``, else download.
    start, end
        First and last date kept, inclusive; default all.
    source
        Base URL of the data library to download from; default :data:`FRENCH_URL`.  A mirror, or a
        ``file://`` folder, works the same.

    Returns
    -------
    pandas.DataFrame
        Decimals (French's percent / 100), DatetimeIndex ``Date`` on French's dates, float64 columns as
        listed above.  ``attrs["eventstudy_notes"]`` lists what was recorded (e.g. dates lost in the
        carhart join); ``attrs["provenance"]`` records the model, files or URLs, vintage and units.

    Raises
    ------
    DataSourceError
        When a file is missing or unreadable, or the download fails.
    CacheError
        When offline (``EVENTSTUDY_OFFLINE``) and the factors are neither cached nor in a local folder.
    KeyError
        When the file lacks a column the model needs.

    Notes
    -----
    Downloads (``<source>/<file>_CSV.zip``) use :mod:`urllib` with retries, and are cached in
    ``<cache dir>/factors`` as Parquet (percent, as parsed) plus JSON metadata (URL, fetch time,
    sha256s, vintage).  A cached copy is refreshed when it is more than 30 days old, or when ``end`` lies
    past its last date and it is more than a day old; if the refresh fails the cached copy is used with a
    warning.
    """
    check_choice("model", model, MODELS)
    first = to_day("start", start) if start is not None else None
    last = to_day("end", end) if end is not None else None
    if first is not None and last is not None:
        check_date_range(first, last)
    if source is not None and not isinstance(source, str):
        raise TypeError(f"The 'source' parameter must be a base URL string. Got {type(source).__name__} instead.")
    base_url = source or FRENCH_URL
    location: Path | None
    if path is not None:
        location = Path(path).expanduser()
        if not location.exists():
            raise DataSourceError(
                f"The 'path' parameter points to {location}, which does not exist. Give a factor file or a folder "
                "of French's files.",
                failures={str(location): "does not exist"},
            )
    else:
        location = config.factors_dir()
        if location is not None and not location.exists():
            raise DataSourceError(
                f"EVENTSTUDY_FACTORS_DIR points to {location}, which does not exist. Fix or unset it.",
                failures={str(location): "does not exist"},
            )

    datasets = _MODEL_DATASETS[model]
    if location is not None and location.is_file() and len(datasets) > 1:
        whole = read_factor_file(location)
        wanted = _DATASETS[datasets[0]] + _DATASETS[datasets[1]]
        parts = [_select(whole, wanted, str(location))]
        origins = [whole.attrs]
    else:
        parts, origins = [], []
        for dataset in datasets:
            frame = _dataset_frame(dataset, path=location, base_url=base_url, end=last)
            origins.append(frame.attrs)
            parts.append(
                _select(frame, _DATASETS[dataset], frame.attrs.get("file") or frame.attrs.get("url") or dataset)
            )

    notes: list[str] = []
    trimmed = []
    for part in parts:
        keep = np.ones(len(part), dtype=bool)
        if first is not None:
            keep &= part.index >= first
        if last is not None:
            keep &= part.index <= last
        trimmed.append(part.loc[keep])
    result = trimmed[0]
    if len(trimmed) > 1:
        left, right = trimmed
        result = left.join(right, how="inner")
        lost_left = left.index.difference(result.index)
        lost_right = right.index.difference(result.index)
        if len(lost_left) or len(lost_right):
            notes.append(
                f"carhart: the inner join on date dropped {len(lost_left)} Fama-French date(s) ({_span(lost_left)}) "
                f"and {len(lost_right)} momentum date(s) ({_span(lost_right)}) that the other file lacks."
            )
    if result.empty:
        raise DataSourceError(
            f"No {model} factor rows between {start} and {end}; the data cover {_span(parts[0].index)}.",
            failures={model: "no rows in range"},
        )
    result = (result / 100.0).astype("float64")
    result.index = pd.DatetimeIndex(result.index).as_unit(DATE_UNIT).rename("Date")
    result.columns.name = None
    result.attrs = {
        NOTES_KEY: notes,
        "provenance": {
            "model": model,
            "units": "decimal (French's percent / 100)",
            "files": [o.get("file") for o in origins if o.get("file")],
            "urls": [o.get("url") for o in origins if o.get("url")],
            "sha256": [o.get("sha256") for o in origins],
            "vintage": next((o.get("vintage") for o in origins if o.get("vintage")), None),
        },
    }
    return result
