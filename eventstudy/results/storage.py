"""The on-disk formats of results: a checked folder of Parquet + JSON (never pickle), Stata and CSV exports.

This module knows files, not results: :meth:`EventStudyResults.save <eventstudy.results.results.EventStudyResults.save>`
hands :func:`save` the results' state (``res._state()``: a dict of ``meta`` -- plain values --, ``arrays`` and
``tables``), and :func:`eventstudy.load` rebuilds the results from what :func:`load` reads back.

A saved folder holds

- ``manifest.json``: ``format`` (``"eventstudy-results"``), ``format_version`` (:data:`FORMAT_VERSION`), the
  ``eventstudy_version`` that wrote it, the results' ``meta`` (model, benchmarks, settings, provenance, the
  shape of the fit), the shape and type of every array, the columns of every table, and under ``files`` the
  size and SHA-256 of every other file; ``manifest_sha256`` is the SHA-256 of the manifest itself
  (``json.dumps(manifest_without_it, indent=1, sort_keys=True)`` in UTF-8), and the file must be exactly
  that text followed by the checksum's line, so that no byte of it can change unnoticed;
- ``tables/<name>.parquet``: the tables (firm-events, drops, sessions, ...);
- ``arrays/<name>.parquet``: every array behind the tables, one flat column each, reshaped on loading.

The folder is written beside the target and moved into place whole (:func:`eventstudy.data.atomic.staged_folder`).
:func:`load` refuses, with a :class:`~eventstudy.exceptions.SavedResultsError` naming the file and the
fault, a folder whose manifest is truncated or edited, whose files changed (a checksum or a size differs)
or are missing, that was written in another format version, or whose manifest holds a field this version
does not know (a newer writer) or lacks one it needs.

Exports for other software, each written aside and moved into place so that a failure (a full disk) leaves
the earlier file whole: :func:`write_stata` (Stata ``.dta``, through pandas) and :func:`write_csvs` (CSV files
into a folder, every file complete or none replaced).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eventstudy._version import __version__
from eventstudy.data.atomic import staged_folder
from eventstudy.exceptions import SavedResultsError
from eventstudy.foundation.files import files_aside

__all__ = ["FORMAT_VERSION", "MANIFEST", "save", "load", "write_stata", "write_csvs"]

#: the layout written into ``manifest.json``; version 2 added the checksums and the ``meta`` block
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
_FORMAT = "eventstudy-results"
#: every field of a manifest of this version, no more and no less
_FIELDS = frozenset(
    {"format", "format_version", "eventstudy_version", "meta", "arrays", "tables", "files", "manifest_sha256"}
)
_CHUNK = 1 << 20


# --------------------------------------------------------------------------------------------------------
# JSON with tuples, timestamps and non-finite floats kept
# --------------------------------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, pd.Timestamp):
        return {"__timestamp__": value.isoformat()}
    if isinstance(value, np.generic):
        return _encode(value.item())
    if isinstance(value, float) and not np.isfinite(value):
        return {"__float__": repr(value)}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_decode(v) for v in value["__tuple__"])
        if set(value) == {"__timestamp__"}:
            return pd.Timestamp(value["__timestamp__"])
        if set(value) == {"__float__"}:
            return float(value["__float__"])
        return {k: _decode(v) for k, v in value.items()}
    return value


def _canonical(body: dict) -> str:
    return json.dumps(body, indent=1, sort_keys=True, allow_nan=False)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------------------
# arrays and tables as Parquet
# --------------------------------------------------------------------------------------------------------


def _write_array(folder: Path, name: str, array: np.ndarray) -> dict:
    array = np.asarray(array)
    if array.dtype == object:
        raise TypeError(f"cannot save the array {name!r} of Python objects (dtype object) without pickle")
    file = f"arrays/{name}.parquet"
    pd.DataFrame({"value": array.reshape(-1)}).to_parquet(folder / file, index=False)
    return {"file": file, "shape": list(array.shape), "dtype": array.dtype.str}


def _read_array(data: bytes, spec: dict) -> np.ndarray:
    flat = pd.read_parquet(io.BytesIO(data))["value"].to_numpy()
    return flat.astype(np.dtype(spec["dtype"]), copy=False).reshape(spec["shape"])


def _write_table(folder: Path, name: str, frame: pd.DataFrame) -> dict:
    """Parquet, with columns of tuples (ids, sources) as JSON text so that they come back as tuples."""
    out = frame.copy()
    tuples = []
    for column in out.columns:
        if out[column].dtype == object:
            values = out[column].dropna()
            if len(values) and all(isinstance(v, (tuple, list)) for v in values):
                tuples.append(str(column))
                out[column] = [None if v is None else json.dumps(_encode(tuple(v))) for v in out[column]]
    file = f"tables/{name}.parquet"
    out.to_parquet(folder / file, index=False)
    return {
        "file": file,
        "tuple_columns": tuples,
        "columns": [str(c) for c in frame.columns],
        "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()},
    }


def _read_table(data: bytes, spec: dict) -> pd.DataFrame:
    frame = pd.read_parquet(io.BytesIO(data))
    for column in spec["tuple_columns"]:
        frame[column] = pd.Series(
            [None if v is None else _decode(json.loads(v)) for v in frame[column]], index=frame.index, dtype=object
        )
    for column, dtype in spec["dtypes"].items():
        if column not in spec["tuple_columns"] and str(frame[column].dtype) != dtype:
            # Parquet reads text columns as str and may change a datetime's unit: back to what was saved
            frame[column] = frame[column].astype(object if dtype == "object" else dtype)
    return frame[spec["columns"]]


# --------------------------------------------------------------------------------------------------------
# save and load
# --------------------------------------------------------------------------------------------------------


def save(state: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write a results state (``meta``, ``arrays``, ``tables``) to the folder ``path``; return the path.

    The folder is written beside the target and moved into place whole; an existing folder is replaced only
    when it holds an earlier save (a ``manifest.json``), never any other folder.

    Parameters
    ----------
    state : mapping
        ``{"meta": dict of plain values (tuples and timestamps kept), "arrays": {name: ndarray},
        "tables": {name: DataFrame}}``, as ``EventStudyResults._state()`` gives it.
    path : str or path-like
        The folder to write.

    Returns
    -------
    Path
        ``path``.
    """
    target = Path(path)
    with staged_folder(target, marker=MANIFEST) as stage:
        (stage / "arrays").mkdir()
        (stage / "tables").mkdir()
        body: dict[str, Any] = {
            "format": _FORMAT,
            "format_version": FORMAT_VERSION,
            "eventstudy_version": __version__,
            "meta": _encode(dict(state["meta"])),
            "arrays": {name: _write_array(stage, name, array) for name, array in state["arrays"].items()},
            "tables": {name: _write_table(stage, name, frame) for name, frame in state["tables"].items()},
        }
        files = [spec["file"] for part in ("arrays", "tables") for spec in body[part].values()]
        body["files"] = {
            file: {"bytes": (stage / file).stat().st_size, "sha256": _sha256(stage / file)} for file in files
        }
        text = _canonical(body)
        body["manifest_sha256"] = hashlib.sha256(text.encode()).hexdigest()
        (stage / MANIFEST).write_text(_canonical(body) + "\n", encoding="utf-8")
    return target


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a folder :func:`save` wrote; return its state (``meta``, ``arrays``, ``tables``).

    Parameters
    ----------
    path : str or path-like
        The folder.

    Returns
    -------
    dict
        The state, equal to the one saved.

    Raises
    ------
    FileNotFoundError
        When ``path`` holds no ``manifest.json`` (not a saved folder).
    SavedResultsError
        When the manifest is not valid JSON (truncated), was edited, comes from another format version, holds
        a field this version does not know or lacks one; or when a file it lists is missing, of another size
        or checksum (changed or truncated), or unreadable.  The message names the file and the fault.
    """
    folder = Path(path)
    manifest = _read_manifest(folder)
    # each file is read once: the bytes whose checksum matched are the bytes parsed (no second read that a
    # change in between could slip past)
    checked = {file: _check_file(folder, file, expected) for file, expected in manifest["files"].items()}
    state: dict[str, Any] = {"meta": _decode(manifest["meta"]), "arrays": {}, "tables": {}}
    for part, read in (("arrays", _read_array), ("tables", _read_table)):
        for name, spec in manifest[part].items():
            file = spec.get("file") if isinstance(spec, dict) else None
            if not isinstance(file, str) or file not in checked:
                raise SavedResultsError(
                    f"{folder / MANIFEST}: the {part[:-1]} {name!r} has no checked file (its file {file!r} is not "
                    "listed with a checksum); the folder is damaged. Save the results again.",
                    path=folder / MANIFEST,
                )
            try:
                state[part][name] = read(checked[file], spec)
            except (OSError, ValueError, KeyError, TypeError) as exc:  # pyarrow raises its own ValueError kinds
                raise SavedResultsError(
                    f"{folder / file}: cannot be read as the saved {part[:-1]} {name!r} "
                    f"({type(exc).__name__}: {exc}). Save the results again.",
                    path=folder / file,
                ) from exc
    return state


def _read_manifest(folder: Path) -> dict:
    marker = folder / MANIFEST
    if not marker.is_file():
        raise FileNotFoundError(f"{folder} holds no saved results (no {MANIFEST}); write one with res.save(path)")
    raw = marker.read_bytes()
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SavedResultsError(
            f"{marker}: not a valid manifest ({exc}); the file is truncated or damaged. Save the results again.",
            path=marker,
        ) from exc
    if not isinstance(manifest, dict):
        raise SavedResultsError(f"{marker}: not a manifest (a JSON object was expected).", path=marker)
    if manifest.get("format") != _FORMAT:
        raise SavedResultsError(
            f"{marker}: not a saved eventstudy results folder (format {manifest.get('format')!r}).", path=marker
        )
    version, writer = manifest.get("format_version"), manifest.get("eventstudy_version", "an unknown version")
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION
        advice = (
            "Upgrade eventstudy to read it."
            if newer
            else "Load it with the eventstudy version that wrote it and save it again, or fit the study again."
        )
        raise SavedResultsError(
            f"{marker}: saved by eventstudy {writer} in format version {version!r}; this eventstudy "
            f"({__version__}) reads format version {FORMAT_VERSION}. {advice}",
            path=marker,
        )
    unknown = sorted(set(manifest) - _FIELDS)
    if unknown:
        raise SavedResultsError(
            f"{marker}: holds the field(s) {unknown} that format version {FORMAT_VERSION} does not have (written "
            f"by eventstudy {writer}, this is {__version__}); upgrade eventstudy to read it.",
            path=marker,
        )
    missing = sorted(_FIELDS - set(manifest))
    if missing:
        raise SavedResultsError(
            f"{marker}: lacks the field(s) {missing} of format version {FORMAT_VERSION}; the manifest is "
            "damaged. Save the results again.",
            path=marker,
        )
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    text = _canonical(body)
    if hashlib.sha256(text.encode()).hexdigest() != manifest["manifest_sha256"] or raw != (
        _canonical(manifest) + "\n"
    ).encode("utf-8"):
        raise SavedResultsError(
            f"{marker}: its checksum does not match its contents; the manifest was edited or damaged after it "
            "was saved. Save the results again.",
            path=marker,
        )
    for part in ("meta", "arrays", "tables", "files"):
        if not isinstance(manifest[part], dict):
            raise SavedResultsError(f"{marker}: the field {part!r} is not a JSON object.", path=marker)
    return manifest


def _check_file(folder: Path, file: str, expected: Any) -> bytes:
    """The bytes of ``file``, once its size and SHA-256 match the manifest's entry ``expected``."""
    path = folder / file
    if not isinstance(expected, dict) or set(expected) != {"bytes", "sha256"}:
        raise SavedResultsError(f"{folder / MANIFEST}: the entry of {file!r} under 'files' is malformed.", path=path)
    if Path(file).is_absolute() or ".." in Path(file).parts:
        raise SavedResultsError(f"{folder / MANIFEST}: the file {file!r} lies outside the folder.", path=path)
    if not path.is_file():
        raise SavedResultsError(f"{path}: missing from the saved folder. Save the results again.", path=path)
    data = path.read_bytes()
    size = len(data)
    if size != expected["bytes"]:
        raise SavedResultsError(
            f"{path}: {size} bytes where {expected['bytes']} were saved (truncated or changed). "
            "Save the results again.",
            path=path,
        )
    if hashlib.sha256(data).hexdigest() != expected["sha256"]:
        raise SavedResultsError(
            f"{path}: its SHA-256 differs from the one saved in {MANIFEST}; the file was changed or damaged "
            "after it was saved. Save the results again.",
            path=path,
        )
    return data


# --------------------------------------------------------------------------------------------------------
# exports
# --------------------------------------------------------------------------------------------------------


def write_stata(frame: pd.DataFrame, path: str | os.PathLike[str], *, labels: Mapping[str, str]) -> Path:
    """Write ``frame`` as a Stata ``.dta`` file (format 118, through :meth:`pandas.DataFrame.to_stata`).

    The file is written beside ``path`` and moved into place: a failure leaves an earlier file whole.  Text
    columns become Stata strings (missing as ``""``), datetime columns Stata daily dates (``%td``).

    Parameters
    ----------
    frame : DataFrame
    path : str or path-like
        The ``.dta`` file.
    labels : mapping
        A variable label for every column (at most 80 characters each).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        When a column has no label.
    """
    unlabelled = [str(c) for c in frame.columns if c not in labels]
    if unlabelled:
        raise ValueError(f"No Stata variable label for the column(s) {unlabelled}.")
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("str", "string"):
            out[column] = out[column].astype(object).where(out[column].notna(), "").astype(str)
    dates = {c: "td" for c in out.columns if pd.api.types.is_datetime64_any_dtype(out[c])}
    for column in dates:
        if getattr(out[column].dt, "tz", None) is not None:
            out[column] = out[column].dt.tz_localize(None)  # Stata dates carry no zone
    target = Path(path)
    with files_aside([target]) as (temp,):
        out.to_stata(
            temp,
            write_index=False,
            convert_dates=dates,  # type: ignore[arg-type]  # pandas-stubs types the keys as Never
            variable_labels={str(c): labels[c] for c in out.columns},
            version=118,
        )
    return target


def write_csvs(frames: Mapping[str, pd.DataFrame], directory: str | os.PathLike[str], **options: Any) -> list[Path]:
    """Write each frame to ``directory/<name>.csv`` (``DataFrame.to_csv(path, **options)``); return the paths.

    Every file is written aside first and the files are moved into place only when all are complete, so a
    failure leaves the earlier files whole and no partial file beside them.
    """
    folder = Path(directory)
    targets = [folder / f"{name}.csv" for name in frames]
    with files_aside(targets) as temps:
        for frame, temp in zip(frames.values(), temps):
            frame.to_csv(temp, **options)
    return targets
