"""Event catalogs: the built-in export-control catalog and user event files, checked against one schema.

Schema (the same for the built-in catalog and a user's file)
-------------------------------------------------------------
===============  ========  ==================================================================================
column           required  content
===============  ========  ==================================================================================
``id``           yes       unique, non-empty key of the event
``date``         yes       ISO date (``YYYY-MM-DD``) of the first public release, US Eastern calendar day
``session``      yes       ``pre``, ``intraday``, ``post`` or ``unknown`` (empty means ``unknown``)
``time_et``      no        free text on the release time
``issuer``       no        who acted or reported; ``Media report (...)`` marks press leaks
``title``        no        one-line summary
``description``  no        what changed and when
``affected``     no        ``;``-separated tickers (a list in YAML/JSON)
``confounders``  no        other news that could explain a move near the event
``sources``      no        ``;``-separated URLs (a list in YAML/JSON); ``source_1``, ``source_2`` ... columns
                           are merged into it
``category``     no        built-in catalog: ``us-official``, ``media-report`` or ``china-action``
``direction``    no        built-in catalog: ``tightening``, ``easing``, ``retaliation`` or ``mixed``
===============  ========  ==================================================================================

Missing optional columns are created empty; any other column is kept after these.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .calendar import SESSIONS, TradingCalendar, _NoDayZero, as_calendar
from .exceptions import EventCatalogError

__all__ = ["load_events", "list_catalogs", "CATEGORIES", "DIRECTIONS", "EVENT_COLUMNS"]

#: Coded ``category`` values of the built-in catalog.
CATEGORIES: tuple[str, ...] = ("us-official", "media-report", "china-action")
#: Coded ``direction`` values of the built-in catalog (the expected sign of the news for US chip stocks).
DIRECTIONS: tuple[str, ...] = ("tightening", "easing", "retaliation", "mixed")
#: Columns of :func:`load_events` output, in order (extra columns follow).
EVENT_COLUMNS: tuple[str, ...] = (
    "id", "date", "session", "day0", "issuer", "title", "description", "affected", "confounders", "sources",
    "category", "direction", "time_et",
)  # fmt: skip

_REQUIRED = ("id", "date", "session")
_TEXT = ("time_et", "issuer", "title", "description", "confounders", "category", "direction")
_LISTS = ("affected", "sources")
_BUILTIN: dict[str, str] = {"export-controls": "export_controls.csv"}
_SUFFIXES = (".csv", ".yaml", ".yml", ".json")
_SOURCE_N = re.compile(r"^source_(\d+)$")


def list_catalogs() -> list[str]:
    """Names of the built-in event catalogs, for :func:`load_events`.

    >>> list_catalogs()
    ['export-controls']
    """
    return sorted(_BUILTIN)


def load_events(
    name_or_path: str | Path = "export-controls",
    *,
    calendar: TradingCalendar | str | None = None,
    unknown_session: Literal["pre", "post"] | None = None,
) -> pd.DataFrame:
    """Load an event catalog, check it against the schema and compute each event's day 0.

    Parameters
    ----------
    name_or_path
        A built-in catalog name (see :func:`list_catalogs`; default ``"export-controls"``: US AI-chip
        export-control and chip-policy events 2019-2026) or the path of a ``.csv``, ``.yaml``/``.yml`` or
        ``.json`` file. YAML and JSON files hold a list of mappings, or a mapping whose ``events`` key holds it.
    calendar
        Trading calendar (or exchange code) for day 0. Default: ``TradingCalendar("XNYS",
        unknown_session=unknown_session)``.
    unknown_session
        Day-0 rule for events whose session is ``unknown``: ``"pre"`` (the earliest session that could
        react, conservative) or ``"post"``. Default: the rule of the ``calendar`` given, else ``"pre"``. With
        a :class:`~eventstudy.calendar.TradingCalendar` it must agree with the calendar's own rule.

    Returns
    -------
    pandas.DataFrame
        One row per event sorted by date then id, columns :data:`EVENT_COLUMNS` then any extra columns.
        ``date`` and ``day0`` are midnight datetimes; ``affected`` and ``sources`` are tuples of str.
        ``attrs["catalog"]`` holds the catalog name or path.

    Raises
    ------
    EventCatalogError
        If the file breaks the schema; the message names the file, the row (1-based data row and id) and the
        column, and says what was expected. Also when an event falls outside the calendar.
    ValueError
        If ``name_or_path`` is neither a built-in catalog nor an existing file, or ``unknown_session``
        contradicts the ``calendar`` given.

    Warns
    -----
    SessionAssumptionWarning
        Once, naming the events whose session is ``unknown`` and how their day 0 was set.

    Notes
    -----
    The built-in catalog's ``category`` separates official US actions, press reports of pending actions
    (pooling them with the acts they announce double-counts the news) and China-side actions;
    ``direction`` codes the expected sign (``tightening``, ``easing``, ``retaliation`` by China, or ``mixed``).
    Read ``confounders`` before trusting any abnormal return.

    Examples
    --------
    >>> events = load_events()  # doctest: +SKIP
    >>> events.loc[events.category != "media-report", ["id", "day0", "direction"]]  # doctest: +SKIP
    """
    cal = as_calendar("XNYS" if calendar is None else calendar, unknown_session=unknown_session)
    label, raw, origin = _read(name_or_path)
    events = _normalise(raw, label)
    try:
        # the private entry point lets the unknown-session warning point at the caller of load_events
        day0 = cal._day_zeros(
            pd.DatetimeIndex(events["date"]).as_unit("ns"),
            events["session"].to_numpy(dtype=object),
            labels=events["id"].tolist(),
            stacklevel=4,
        )
    except _NoDayZero as error:
        i = error.position
        raise EventCatalogError(
            f"{_where(label, i, events['id'].iloc[i])}, column 'date': {events['date'].iloc[i]:%Y-%m-%d} "
            f"(session {events['session'].iloc[i]}) has no day 0 inside the {cal.name} calendar "
            f"({cal.start:%Y-%m-%d} to {cal.end:%Y-%m-%d}); pass calendar=TradingCalendar(start=..., end=...) "
            "or drop the event."
        ) from None
    events.insert(3, "day0", pd.DatetimeIndex(day0).as_unit("ns"))
    events = events.sort_values(["date", "id"], kind="stable").reset_index(drop=True)
    events.attrs["catalog"] = origin
    return events


# -- reading ---------------------------------------------------------------------------------------------
def _read(name_or_path: str | Path) -> tuple[str, pd.DataFrame, str]:
    """Return (label for messages, raw frame of strings/lists, catalog name or path)."""
    if not isinstance(name_or_path, (str, Path)):
        raise TypeError(
            "The 'name_or_path' parameter must be a catalog name or a file path. "
            f"Got {type(name_or_path).__name__} instead."
        )
    if isinstance(name_or_path, str) and name_or_path.strip().lower().replace("_", "-") in _BUILTIN:
        name = name_or_path.strip().lower().replace("_", "-")
        resource = resources.files("eventstudy").joinpath("catalog", _BUILTIN[name])
        with resources.as_file(resource) as path:
            return f"{_BUILTIN[name]} (built-in catalog {name!r})", _read_csv(path, _BUILTIN[name]), name
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        raise ValueError(
            f"Unknown event catalog {str(name_or_path)!r}: it is not a built-in catalog "
            f"({', '.join(list_catalogs())}) and no file exists at that path. Pass a built-in name or the path "
            f"of an existing {', '.join(_SUFFIXES)} file."
        )
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = _read_csv(path, path.name)
    elif suffix in (".yaml", ".yml", ".json"):
        raw = _read_records(path, suffix)
    else:
        raise ValueError(
            f"Cannot read event file {path.name!r}: the suffix must be one of {', '.join(_SUFFIXES)}. "
            f"Got {suffix or 'none'!r}."
        )
    return path.name, raw, str(path)


def _read_csv(path: Path, label: str) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise EventCatalogError(
            f"{label}: the file is empty; expected a header with at least id, date, session."
        ) from None
    except pd.errors.ParserError as exc:
        raise EventCatalogError(f"{label}: not a readable CSV file ({exc}).") from None
    except UnicodeDecodeError as exc:
        raise EventCatalogError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start : exc.start + 1]!r} at position {exc.start}; "
            "Excel's 'CSV' and Latin-1 files do this). Save the file as 'CSV UTF-8', e.g. "
            f"iconv -f latin1 -t utf-8 {path.name} > fixed.csv."
        ) from None
    return raw.rename(columns=lambda c: str(c).strip())


def _read_records(path: Path, suffix: str) -> pd.DataFrame:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise EventCatalogError(f"{path.name}: not UTF-8 text ({exc}); save the file as UTF-8.") from None
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise EventCatalogError(f"{path.name}: not valid JSON ({exc}).") from None
    else:
        import yaml  # a dependency; imported here because most catalogs are CSV

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise EventCatalogError(f"{path.name}: not valid YAML ({exc}).") from None
    if isinstance(data, Mapping) and "events" in data:
        data = data["events"]
    if not isinstance(data, list):
        raise EventCatalogError(
            f"{path.name}: expected a list of events (mappings), or a mapping with an 'events' key holding that "
            f"list; got {type(data).__name__}."
        )
    for i, entry in enumerate(data):
        if not isinstance(entry, Mapping):
            raise EventCatalogError(
                f"{path.name} row {i + 1}: expected a mapping of column -> value; got {type(entry).__name__}."
            )
    columns: list[str] = []
    for entry in data:
        columns += [str(k).strip() for k in entry if str(k).strip() not in columns]
    records = [{str(k).strip(): _plain(v) for k, v in entry.items()} for entry in data]
    frame = pd.DataFrame.from_records(records, columns=columns) if records else pd.DataFrame(columns=columns)
    return frame.astype(object).where(frame.notna(), "")


def _plain(value: Any) -> Any:
    """YAML/JSON scalars as text (dates as ISO), lists kept as lists."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# -- checking ----------------------------------------------------------------------------------------------
def _where(label: str, i: int, event_id: Any = None) -> str:
    known = isinstance(event_id, str) and event_id.strip() != ""
    return f"{label} row {i + 1}" + (f" (id {event_id.strip()!r})" if known else "")


def _normalise(raw: pd.DataFrame, label: str) -> pd.DataFrame:
    raw = _merge_numbered_sources(raw)
    missing = [c for c in _REQUIRED if c not in raw.columns]
    if missing:
        found = ", ".join(map(str, raw.columns)) or "none"
        raise EventCatalogError(
            f"{label}: missing required column(s) {', '.join(map(repr, missing))}; required are "
            f"{', '.join(_REQUIRED)}. Columns found: {found}."
        )
    n = len(raw)
    ids = [_text(raw["id"].iloc[i], label, i, "id", None) for i in range(n)]
    for i, event_id in enumerate(ids):
        if event_id == "":
            raise EventCatalogError(f"{_where(label, i)}, column 'id': expected a non-empty string; got ''.")
    dupes = pd.Series(ids)[pd.Series(ids).duplicated(keep=False)]
    if len(dupes):
        detail = "; ".join(
            f"{key!r} (rows {', '.join(str(i + 1) for i in rows)})" for key, rows in dupes.groupby(dupes).groups.items()
        )
        raise EventCatalogError(f"{label}, column 'id': ids must be unique; duplicated: {detail}.")
    dates = [_date(raw["date"].iloc[i], label, i, ids[i]) for i in range(n)]
    sessions = [_session(raw["session"].iloc[i], label, i, ids[i]) for i in range(n)]
    out = pd.DataFrame(
        {
            "id": pd.Series(ids, dtype="str"),
            "date": pd.DatetimeIndex(dates, dtype="datetime64[ns]") if n else pd.DatetimeIndex([], dtype="M8[ns]"),
            "session": pd.Series(sessions, dtype="str"),
        }
    )
    for column in ("issuer", "title", "description"):
        out[column] = _column(raw, column, label, ids)
    out["affected"] = _list_column(raw, "affected", label, ids)
    out["confounders"] = _column(raw, "confounders", label, ids)
    out["sources"] = _list_column(raw, "sources", label, ids)
    for column in ("category", "direction", "time_et"):
        out[column] = _column(raw, column, label, ids)
    extras = [c for c in raw.columns if c not in out.columns]
    for column in extras:
        out[column] = raw[column].to_numpy()
    return out


def _merge_numbered_sources(raw: pd.DataFrame) -> pd.DataFrame:
    numbered = sorted((c for c in raw.columns if _SOURCE_N.match(str(c))), key=lambda c: int(c.split("_")[1]))
    if not numbered or "sources" in raw.columns:
        return raw
    merged = [
        ";".join(str(v).strip() for v in row if isinstance(v, str) and v.strip())
        for row in raw[numbered].itertuples(index=False)
    ]
    return raw.drop(columns=numbered).assign(sources=merged)


def _text(value: Any, label: str, i: int, column: str, event_id: str | None) -> str:
    if isinstance(value, list):
        raise EventCatalogError(
            f"{_where(label, i, event_id)}, column {column!r}: expected a single value; got a list {value!r}."
        )
    return str(value).strip()


def _date(value: Any, label: str, i: int, event_id: str) -> pd.Timestamp:
    text = _text(value, label, i, "date", event_id)
    try:
        ts = pd.Timestamp(pd.to_datetime(text, format="ISO8601")) if text else pd.NaT
    except (TypeError, ValueError):
        ts = pd.NaT
    if ts is pd.NaT:
        raise EventCatalogError(
            f"{_where(label, i, event_id)}, column 'date': expected an ISO date such as 2025-04-15; got {text!r}."
        )
    if ts.tzinfo is not None:
        ts = ts.tz_convert("America/New_York").tz_localize(None)
    return ts.normalize()


def _session(value: Any, label: str, i: int, event_id: str) -> str:
    text = _text(value, label, i, "session", event_id).lower() or "unknown"
    if text not in SESSIONS:
        raise EventCatalogError(
            f"{_where(label, i, event_id)}, column 'session': expected one of {', '.join(SESSIONS)}; got {text!r}."
        )
    return text


def _column(raw: pd.DataFrame, column: str, label: str, ids: Sequence[str]) -> pd.Series:
    if column not in raw.columns:
        return pd.Series([""] * len(raw), dtype="str")
    return pd.Series([_text(v, label, i, column, ids[i]) for i, v in enumerate(raw[column])], dtype="str")


def _list_column(raw: pd.DataFrame, column: str, label: str, ids: Sequence[str]) -> pd.Series:
    if column not in raw.columns:
        return pd.Series([()] * len(raw), dtype=object)
    values = []
    for i, value in enumerate(raw[column]):
        items = value if isinstance(value, list) else str(value).split(";")
        parsed = []
        for item in items:
            if isinstance(item, list):
                raise EventCatalogError(
                    f"{_where(label, i, ids[i])}, column {column!r}: expected a list of strings or ';'-separated "
                    f"text; got a nested list."
                )
            if str(item).strip():
                parsed.append(str(item).strip())
        values.append(tuple(parsed))
    return pd.Series(values, dtype=object)
