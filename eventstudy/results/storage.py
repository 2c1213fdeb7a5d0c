"""Saving, loading and exporting results: Parquet plus JSON, never pickle.

``res.save(path)`` writes a folder (moved into place whole, like the report):

- ``manifest.json``: the format version, the model, benchmarks, settings, provenance and the name of the study,
  the shape and type of every array, and which table columns hold tuples;
- ``firm_events.parquet``, ``dropped.parquet``, ``sessions.parquet``: the tables;
- ``arrays/<name>.parquet``: every array behind the tables (the fitted parameters, the aligned returns), one
  flat column each, reshaped on loading.

``es.load(path)`` rebuilds the same :class:`~eventstudy.results.results.EventStudyResults`: every table and test it
gives equals the saved object's. Exports for other software: :func:`to_stata` (Stata ``.dta`` of the AR and
CAR tables, through pandas) and :func:`to_r` (CSV that R's ``read.csv`` reads as it is: ISO dates, no index,
``NA`` for missing).
"""

from __future__ import annotations

import dataclasses
import json
import os
import typing
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from eventstudy import __version__
from eventstudy.estimation.models import from_state
from eventstudy.foundation.validation import check_choice
from eventstudy.results.results import EventStudyResults

__all__ = ["FORMAT_VERSION", "save", "load", "to_stata", "to_r"]

#: written into ``manifest.json``; a folder of another version is refused with the version it has
FORMAT_VERSION = 1
_MARKER = "manifest.json"


# --------------------------------------------------------------------------------------------------------
# JSON with tuples and timestamps kept
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
        return value.item()
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


# --------------------------------------------------------------------------------------------------------
# arrays and tables as Parquet
# --------------------------------------------------------------------------------------------------------


def _write_array(folder: Path, name: str, array: np.ndarray) -> dict:
    array = np.asarray(array)
    if array.dtype == object:
        raise TypeError(f"cannot save the array {name!r} of Python objects (dtype object) without pickle")
    pd.DataFrame({"value": array.reshape(-1)}).to_parquet(folder / "arrays" / f"{name}.parquet", index=False)
    return {"shape": list(array.shape), "dtype": array.dtype.str}


def _read_array(folder: Path, name: str, spec: dict) -> np.ndarray:
    flat = pd.read_parquet(folder / "arrays" / f"{name}.parquet")["value"].to_numpy()
    return flat.astype(np.dtype(spec["dtype"]), copy=False).reshape(spec["shape"])


def _write_table(folder: Path, name: str, frame: pd.DataFrame) -> dict:
    """Parquet, with columns of tuples (ids, sources) as JSON text so that they come back as tuples."""
    out = frame.copy()
    tuples = []
    for column in out.columns:
        if out[column].dtype == object:
            values = out[column].dropna()
            if len(values) and all(isinstance(v, (tuple, list)) for v in values):
                tuples.append(column)
                out[column] = [None if v is None else json.dumps(_encode(tuple(v))) for v in out[column]]
    out.to_parquet(folder / f"{name}.parquet", index=False)
    return {
        "tuple_columns": tuples,
        "columns": [str(c) for c in frame.columns],
        "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()},
    }


def _read_table(folder: Path, name: str, spec: dict) -> pd.DataFrame:
    frame = pd.read_parquet(folder / f"{name}.parquet")
    for column in spec["tuple_columns"]:
        frame[column] = pd.Series(
            [None if v is None else _decode(json.loads(v)) for v in frame[column]], index=frame.index, dtype=object
        )
    for column, dtype in spec.get("dtypes", {}).items():
        if column not in spec["tuple_columns"] and str(frame[column].dtype) != dtype:
            # Parquet reads text columns as str and may change a datetime's unit: back to what was saved
            frame[column] = frame[column].astype(object if dtype == "object" else dtype)
    return frame[spec["columns"]]


def _dataclass_fields(obj) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(obj) if f.init and not f.name.startswith("_")]


def _save_dataclass(obj, folder: Path, prefix: str) -> dict:
    """The fields of a dataclass of arrays and plain values (nested dataclasses flattened by name)."""
    out: dict[str, Any] = {"arrays": {}, "values": {}, "nested": {}}
    for f in _dataclass_fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, np.ndarray):
            out["arrays"][f.name] = _write_array(folder, f"{prefix}{f.name}", value)
        elif dataclasses.is_dataclass(value):
            out["nested"][f.name] = _save_dataclass(value, folder, f"{prefix}{f.name}.")
        else:
            out["values"][f.name] = _encode(value)
    out["type"] = type(obj).__name__
    return out


def _load_dataclass(cls, spec: dict, folder: Path, prefix: str):
    kwargs: dict[str, Any] = {name: _decode(value) for name, value in spec["values"].items()}
    for name, array in spec["arrays"].items():
        kwargs[name] = _read_array(folder, f"{prefix}{name}", array)
    for name, nested in spec["nested"].items():
        nested_cls = _nested_class(cls, name)
        kwargs[name] = _load_dataclass(nested_cls, nested, folder, f"{prefix}{name}.")
    return cls(**kwargs)


def _nested_class(cls, name: str) -> type:
    resolved = typing.get_type_hints(cls)[name]
    if not dataclasses.is_dataclass(resolved):
        raise TypeError(f"{cls.__name__}.{name} is not a dataclass field that can be loaded")
    return cast(type, resolved)


# --------------------------------------------------------------------------------------------------------
# save and load
# --------------------------------------------------------------------------------------------------------


def save(res: EventStudyResults, path: str | os.PathLike[str]) -> Path:
    """Write ``res`` to the folder ``path`` (Parquet + JSON); return the path.

    The folder is written beside the target and moved into place whole; an existing folder is replaced only
    when it holds an earlier save (a ``manifest.json``), never any other folder.

    Parameters
    ----------
    res : EventStudyResults
        The results to save.
    path : str or path-like
        The folder to write.

    Returns
    -------
    Path
        ``path``.
    """
    from eventstudy.data.atomic import (
        staged_folder,  # here: _atomic imports eventstudy.data (~40 ms), which load() needs not
    )

    target = Path(path)
    with staged_folder(target, marker=_MARKER) as stage:
        (stage / "arrays").mkdir(parents=True, exist_ok=True)
        model = res.model
        manifest = {
            "format": "eventstudy-results",
            "format_version": FORMAT_VERSION,
            "eventstudy_version": __version__,
            "name": res._name,
            "model": {
                "name": model.name,
                "fields": {f.name: _encode(getattr(model, f.name)) for f in _dataclass_fields(model)},
            },
            "market": _encode(tuple(res.market)),
            "regressor_names": _encode(tuple(res._regressor_names)),
            "return_kind": res._return_kind,
            "settings": _encode(res.settings),
            "provenance": _encode(res.provenance),
            "fit": _save_dataclass(res.fit, stage, "fit."),
            "raw": _write_array(stage, "raw", res._raw),
            "offset": _write_array(stage, "offset", res._offset),
            "tables": {
                "firm_events": _write_table(stage, "firm_events", res.firm_events),
                "dropped": _write_table(stage, "dropped", res._dropped),
            },
            "sessions": {"name": res._sessions.name, "tz": str(res._sessions.tz) if res._sessions.tz else None},
        }
        pd.DataFrame({"session": res._sessions}).to_parquet(stage / "sessions.parquet", index=False)
        (stage / _MARKER).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return target


def load(path: str | os.PathLike[str]) -> EventStudyResults:
    """Read results written by :meth:`EventStudyResults.save <eventstudy.results.results.EventStudyResults.save>`.

    Parameters
    ----------
    path : str or path-like
        The folder ``save`` wrote.

    Returns
    -------
    EventStudyResults
        Equal, table for table, to the saved results.

    Raises
    ------
    FileNotFoundError
        When ``path`` has no ``manifest.json``.
    ValueError
        When the folder was written in another format version.
    """
    folder = Path(path)
    marker = folder / _MARKER
    if not marker.is_file():
        raise FileNotFoundError(f"{folder} holds no saved results (no {_MARKER}); write one with res.save(path)")
    manifest = json.loads(marker.read_text())
    if manifest.get("format") != "eventstudy-results" or manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{folder} was saved in format {manifest.get('format')!r} version {manifest.get('format_version')!r}; "
            f"this eventstudy reads version {FORMAT_VERSION}"
        )
    spec = manifest["model"]
    model = from_state({"name": spec["name"], "fields": {k: _decode(v) for k, v in spec["fields"].items()}})
    sessions = pd.DatetimeIndex(
        pd.read_parquet(folder / "sessions.parquet")["session"], name=manifest["sessions"]["name"]
    )
    return EventStudyResults(
        fit=_load_dataclass(model.fit_class(), manifest["fit"], folder, "fit."),
        firm_events=_read_table(folder, "firm_events", manifest["tables"]["firm_events"]),
        dropped=_read_table(folder, "dropped", manifest["tables"]["dropped"]),
        sessions=sessions,
        raw=_read_array(folder, "raw", manifest["raw"]),
        offset=_read_array(folder, "offset", manifest["offset"]),
        regressor_names=_decode(manifest["regressor_names"]),
        model=model,
        market=_decode(manifest["market"]),
        settings=_decode(manifest["settings"]),
        provenance=_decode(manifest["provenance"]),
        return_kind=manifest["return_kind"],
        name=manifest["name"],
    )


# --------------------------------------------------------------------------------------------------------
# exports
# --------------------------------------------------------------------------------------------------------


def _export_tables(res: EventStudyResults, windows) -> dict[str, pd.DataFrame]:
    windows = [res.event_window] if windows is None else [tuple(w) for w in windows]
    car = pd.concat([res.car(w).assign(window_start=w[0], window_end=w[1]) for w in windows], ignore_index=True)
    return {"ar": res.ar, "car": car}


def to_stata(res: EventStudyResults, path: str | os.PathLike[str], *, windows=None, table: str = "car") -> Path:
    """Write the CAR (or AR) table of ``res`` as a Stata ``.dta`` file (through :meth:`pandas.DataFrame.to_stata`).

    Parameters
    ----------
    res : EventStudyResults
    path : str or path-like
        The ``.dta`` file.
    windows : list of (int, int), optional
        CAR windows, stacked with ``window_start`` and ``window_end`` columns (default: the event window).
    table : {"car", "ar"}
        Which table.

    Returns
    -------
    Path
        ``path``. Dates are Stata daily dates (``%td``); variable labels say what each column is.
    """
    check_choice("table", table, ("car", "ar"))
    frame = _export_tables(res, windows if table == "car" else None)[table]
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype) in ("str", "string"):
            frame[column] = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
    dates = {c: "td" for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])}
    labels = {
        "event_id": "event id",
        "ticker": "security",
        "event_time": "trading days relative to day 0",
        "ar": "abnormal return",
        "car": "cumulative abnormal return",
        "se": "standard error (MacKinlay 1997)",
        "t": "t statistic",
        "pvalue": "two-sided p-value",
        "window_start": "first day of the CAR window",
        "window_end": "last day of the CAR window",
    }
    target = Path(path)
    frame.to_stata(
        target,
        write_index=False,
        convert_dates=dates,  # type: ignore[arg-type]  # pandas-stubs types the keys as Never
        variable_labels={k: v for k, v in labels.items() if k in frame.columns},
        version=118,
    )
    return target


def to_r(res: EventStudyResults, directory: str | os.PathLike[str], *, windows=None) -> list[Path]:
    """Write ``ar.csv`` and ``car.csv`` for R: ISO dates, no index column, ``NA`` for missing values.

    ``read.csv("car.csv")`` (or ``readr::read_csv``) reads them without options; numbers keep full
    precision.

    Parameters
    ----------
    res : EventStudyResults
    directory : str or path-like
        Folder to write into (created).
    windows : list of (int, int), optional
        CAR windows, stacked with ``window_start`` and ``window_end`` columns (default: the event window).

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in _export_tables(res, windows).items():
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False, na_rep="NA", date_format="%Y-%m-%d", lineterminator="\n", float_format="%.17g")
        paths.append(path)
    return paths
