"""Event catalogs: the built-in catalogs (export controls, trade policy) and user event files, one schema.

Schema (the same for the built-in catalog and a user's file)
-------------------------------------------------------------
===============  ========  ==================================================================================
column           required  content
===============  ========  ==================================================================================
``id``           yes       unique, non-empty key of the event (unique per ticker where a ``ticker`` column is given)
``date``         yes       ISO date (``YYYY-MM-DD``) of the first public release, US Eastern calendar day,
                           or a timestamp with its zone (``2025-04-11T22:00:00-04:00``)
``session``      yes       ``pre``, ``intraday``, ``post`` or ``unknown`` (empty means ``unknown``), on the
                           US Eastern clock; a timestamp decides the session by itself
``timestamp``    no        release instant with its zone (ISO 8601 with offset); with it ``session`` is checked
``time``,        no        a clock time (``17:27``) and the zone it is read in (``America/New_York``)
``timezone``
``day0``         no        a day 0 you fix yourself; respected, never recomputed (it must be a session)
``time_et``      no        free text on the release time
``issuer``       no        who acted or reported; ``Media report (...)`` marks press leaks
``title``        no        one-line summary
``description``  no        what changed and when
``affected``     no        ``;``-separated tickers (a list in YAML/JSON)
``confounders``  no        other news that could explain a move near the event
``sources``      no        ``;``-separated URLs (a list in YAML/JSON); ``source_1``, ``source_2`` ... columns
                           are merged into it
``category``     no        ``export-controls``: ``us-official``, ``media-report`` or ``china-action``;
                           ``trade-policy``: ``tariff``, ``tariff-relief``, ``industrial-policy``,
                           ``trade-deal``, ``retaliation`` or ``investigation``
``direction``    no        ``tightening``, ``easing``, ``retaliation``, ``mixed`` or empty (any case; other
                           values are refused); the sign of signed pooling (:data:`DIRECTION_SIGNS`)
``sign``         no        ``+1`` or ``-1``: your own sign for signed pooling, ahead of ``direction``
``ticker``       no        firm-events: each row is one security's event (an id may repeat, once per ticker,
                           with the same time), as :class:`eventstudy.EventStudy` takes them
===============  ========  ==================================================================================

Missing optional columns are created empty; any other column is kept after these.  Day 0 comes from the one
resolver of event time, :mod:`eventstudy.time.eventtime`, which :class:`eventstudy.EventStudy` uses too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from eventstudy.exceptions import EventCatalogError
from eventstudy.time.calendar import SESSIONS, TradingCalendar, as_calendar
from eventstudy.time.eventtime import parse_event_times, resolve_day0, session_of

__all__ = [
    "load_events", "list_catalogs", "event_signs", "CATEGORIES", "TRADE_CATEGORIES", "DIRECTIONS",
    "DIRECTION_SIGNS", "EVENT_COLUMNS",
]  # fmt: skip

#: Coded ``category`` values of the ``export-controls`` catalog.
CATEGORIES: tuple[str, ...] = ("us-official", "media-report", "china-action")
#: Coded ``category`` values of the ``trade-policy`` catalog.
TRADE_CATEGORIES: tuple[str, ...] = (
    "tariff", "tariff-relief", "industrial-policy", "trade-deal", "retaliation", "investigation",
)  # fmt: skip
#: Coded ``direction`` values of the built-in catalogs (the expected sign of the news for US chip stocks).
DIRECTIONS: tuple[str, ...] = ("tightening", "easing", "retaliation", "mixed")
#: The sign signed pooling gives each ``direction``: news expected to raise US chip stocks' prices (easing)
#: keeps its sign, news expected to lower them (tightening, China's retaliation) is flipped.  ``mixed`` has
#: no sign: such events need a ``sign`` column (see :func:`event_signs`).
DIRECTION_SIGNS: dict[str, int] = {"easing": 1, "tightening": -1, "retaliation": -1}
#: Columns of :func:`load_events` output, in order (extra columns follow).
EVENT_COLUMNS: tuple[str, ...] = (
    "id", "date", "session", "day0", "issuer", "title", "description", "affected", "confounders", "sources",
    "category", "direction", "time_et", "timestamp", "day0_rule", "unknown_session",
)  # fmt: skip

_REQUIRED = ("id", "date", "session")
_TIME_COLUMNS = ("timestamp", "time", "timezone", "day0")
_TEXT = ("time_et", "issuer", "title", "description", "confounders", "category", "direction")
_LISTS = ("affected", "sources")
_BUILTIN: dict[str, str] = {"export-controls": "export_controls.csv", "trade-policy": "trade_policy.csv"}
_SUFFIXES = (".csv", ".yaml", ".yml", ".json")
_SOURCE_N = re.compile(r"^source_(\d+)$")


def list_catalogs() -> list[str]:
    """Names of the built-in event catalogs, for :func:`load_events`.

    >>> list_catalogs()
    ['export-controls', 'trade-policy']
    """
    return sorted(_BUILTIN)


def load_events(
    name_or_path: str | Path | Sequence[str | Path] = "export-controls",
    *,
    calendar: TradingCalendar | str | None = None,
    unknown_session: Literal["pre", "post"] | None = None,
    naive_tz: str | None = None,
) -> pd.DataFrame:
    """Load an event catalog, check it against the schema and compute each event's day 0.

    Parameters
    ----------
    name_or_path
        A built-in catalog name (see :func:`list_catalogs`; default ``"export-controls"``: US AI-chip
        export-control and chip-policy events 2019-2026; ``"trade-policy"``: 40 US and Chinese trade- and
        industrial-policy events 2018-2026, with a ``category`` such as ``tariff``) or the path of a ``.csv``, ``.yaml``/``.yml`` or
        ``.json`` file. YAML and JSON files hold a list of mappings, or a mapping whose ``events`` key holds it.
        A list of them loads each and stacks them into one catalog (``["export-controls", "trade-policy",
        "mine.csv"]``, for contamination checks across all of them); ids must be unique across the list.
    calendar
        Trading calendar (or exchange code) for day 0. Default: ``TradingCalendar("XNYS",
        unknown_session=unknown_session)``.
    unknown_session
        Day-0 rule for events whose session is ``unknown``: ``"pre"`` (the earliest session that could
        react, conservative) or ``"post"``. Default: the rule of the ``calendar`` given, else ``"pre"``. With
        a :class:`~eventstudy.time.calendar.TradingCalendar` it must agree with the calendar's own rule.  The rule
        travels with the events (column ``unknown_session``), so a study of them uses it too.
    naive_tz
        The zone of times written without one (``"America/New_York"``); by default they are refused.

    Returns
    -------
    pandas.DataFrame
        One row per event sorted by date then id, columns :data:`EVENT_COLUMNS` then any extra columns.
        ``date`` and ``day0`` are midnight datetimes (``date`` on the US Eastern clock); ``timestamp`` is the
        release instant in UTC where one was given (NaT elsewhere), and where the file left ``session`` empty
        or ``unknown`` beside a timestamp, ``session`` is the one the instant falls in
        (:func:`~eventstudy.time.eventtime.session_of`); ``day0_rule`` says how day 0 was placed
        (``given`` for a day 0 of the file); ``unknown_session`` is the rule applied to unknown sessions;
        ``affected`` and ``sources`` are tuples of str.
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
    if isinstance(name_or_path, Sequence) and not isinstance(name_or_path, str):
        return _load_many(name_or_path, calendar=calendar, unknown_session=unknown_session, naive_tz=naive_tz)
    cal = as_calendar("XNYS" if calendar is None else calendar, unknown_session=unknown_session)
    label, raw, origin = _read(name_or_path)
    events = _normalise(raw, label)
    ids = events["id"].tolist()
    times_frame = events[["date", "session"]].copy()
    for column in _TIME_COLUMNS:
        if column in raw.columns:
            times_frame[column] = raw[column].to_numpy()
    try:
        times = parse_event_times(
            times_frame,
            where=lambda i: _where(label, i, ids[i]),
            names=ids,
            naive_tz=naive_tz,
            unknown_session=cal.unknown_session,
        )
        # the private stack level lets the unknown-session warning point at the caller of load_events
        resolved = resolve_day0(times, cal, stacklevel=4)
    except ValueError as error:  # the message names the file, row and column
        raise EventCatalogError(str(error)) from None
    events["date"] = times.date
    events.insert(3, "day0", pd.DatetimeIndex(resolved.day0).as_unit("ns"))
    instants = times.instants(cal.tz)  # naive_tz="exchange": the catalog calendar's zone
    events["timestamp"] = pd.DatetimeIndex(instants.view("M8[ns]")).tz_localize("UTC")
    # a known instant decides the session: an empty session beside a timestamp is not "unknown"
    derive = (events["session"] == "unknown").to_numpy() & events["timestamp"].notna().to_numpy()
    if derive.any():
        events.loc[derive, "session"] = session_of(events["timestamp"][derive])
    events["day0_rule"] = resolved.rule
    events["unknown_session"] = times.unknown_session
    columns = [c for c in EVENT_COLUMNS if c in events.columns]
    events = events[columns + [c for c in events.columns if c not in columns]]
    events = events.sort_values(["date", "id"], kind="stable").reset_index(drop=True)
    events.attrs["catalog"] = origin
    events.attrs["calendar"] = cal.name
    return events


def _load_many(names: Sequence[str | Path], **options: Any) -> pd.DataFrame:
    """Several catalogs stacked into one (ids unique across them), sorted by date then id."""
    if not names:
        raise ValueError("The 'name_or_path' parameter is an empty list; give at least one catalog name or path.")
    frames = [load_events(name, **options) for name in names]
    seen: dict[str, str] = {}
    for name, frame in zip(names, frames):
        for event_id in frame["id"]:
            if event_id in seen:
                raise EventCatalogError(
                    f"Event id {event_id!r} is in both {seen[event_id]!r} and {str(name)!r}; ids must be unique "
                    "across the catalogs loaded together (rename one in your file)."
                )
            seen[event_id] = str(name)
    events = pd.concat(frames, ignore_index=True)
    events = events.sort_values(["date", "id"], kind="stable").reset_index(drop=True)
    events.attrs["catalog"] = "+".join(str(frame.attrs["catalog"]) for frame in frames)
    events.attrs["calendar"] = frames[0].attrs["calendar"]
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
    # a 'ticker' column makes each row a firm-event: an id may then repeat, once per ticker
    firms = [_text(raw["ticker"].iloc[i], label, i, "ticker", ids[i]) for i in range(n)] if "ticker" in raw else None
    if firms is not None:
        for i, firm in enumerate(firms):
            if firm == "":
                raise EventCatalogError(
                    f"{_where(label, i, ids[i])}, column 'ticker': expected a ticker (each row is one firm-event); "
                    "got ''."
                )
    keys = ids if firms is None else [f"{i} / {t}" for i, t in zip(ids, firms)]
    dupes = pd.Series(keys)[pd.Series(keys).duplicated(keep=False)]
    if len(dupes):
        detail = "; ".join(
            f"{key!r} (rows {', '.join(str(i + 1) for i in rows)})" for key, rows in dupes.groupby(dupes).groups.items()
        )
        what = "ids must be unique" if firms is None else "each (id, ticker) pair must be unique"
        raise EventCatalogError(f"{label}, column 'id': {what}; duplicated: {detail}.")
    dates = [_text(raw["date"].iloc[i], label, i, "date", ids[i]) for i in range(n)]
    sessions = [_session(raw["session"].iloc[i], label, i, ids[i]) for i in range(n)]
    out = pd.DataFrame(
        {
            "id": pd.Series(ids, dtype="str"),
            "date": pd.Series(dates, dtype=object),  # read by the resolver of event time
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
    out["direction"] = _directions(out["direction"], label, ids)
    extras = [c for c in raw.columns if c not in out.columns and c not in (*_TIME_COLUMNS, *EVENT_COLUMNS)]
    for column in extras:
        out[column] = raw[column].to_numpy()
    if firms is not None:
        out["ticker"] = pd.Series(firms, dtype="str")
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


def _directions(values: pd.Series, label: str, ids: Sequence[str]) -> pd.Series:
    """The ``direction`` column in lower case, each value one of :data:`DIRECTIONS` or empty.

    A value outside the coding (``"-1"``, ``"up"``) would otherwise leave signed pooling without a sign for
    that event, and the report would pool unsigned without saying why: it is refused here, naming the row.
    """
    coded = values.str.lower()
    for i in np.flatnonzero(~coded.isin([*DIRECTIONS, ""]).to_numpy()).tolist():
        raise EventCatalogError(
            f"{_where(label, i, ids[i])}, column 'direction': expected one of {', '.join(DIRECTIONS)} "
            f"or empty; got {values.iloc[i]!r}. For a sign of your own, give a 'sign' column (+1 or -1)."
        )
    return coded


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


def event_signs(table: pd.DataFrame, *, id_column: str = "id") -> np.ndarray:
    """The sign (+1 or -1) that signed pooling gives each row of ``table``.

    A row's ``sign`` column (``1``, ``-1``, ``"+1"``; empty means "use the direction") comes first; otherwise
    its ``direction`` is read through :data:`DIRECTION_SIGNS` (easing +1; tightening and retaliation -1).

    Parameters
    ----------
    table : DataFrame
        Events (``load_events``) or firm-events (``res.firm_events``), with ``direction`` and/or ``sign``.
    id_column : str
        The column that names a row in messages (``"id"`` for events, ``"event_id"`` for firm-events; a
        ``ticker`` column is named too when there is one).

    Raises
    ------
    KeyError
        If ``table`` has neither a ``direction`` nor a ``sign`` column.
    ValueError
        Naming the row (1-based), its id and ticker, when its sign is not +1 or -1 or its direction has no
        sign (``mixed``, empty, or a value outside the map).
    """
    if "direction" not in table.columns and "sign" not in table.columns:
        raise KeyError(
            "Signed pooling needs a 'direction' column (easing, tightening, retaliation) or a 'sign' column "
            "(+1 or -1) in the events; neither is there."
        )
    n = len(table)
    directions = table["direction"].tolist() if "direction" in table.columns else [""] * n
    given = table["sign"].tolist() if "sign" in table.columns else [None] * n
    ids = table[id_column].tolist() if id_column in table.columns else [None] * n
    tickers = table["ticker"].tolist() if "ticker" in table.columns else [None] * n
    signs = np.empty(n, dtype=np.int8)
    for i in range(n):
        where = f"row {i + 1}" + (f" (event {ids[i]!r}" + (f", ticker {tickers[i]!r})" if tickers[i] else ")"))
        value = given[i]
        if value is not None and not (isinstance(value, float) and np.isnan(value)) and str(value).strip():
            text = str(value).strip()
            try:
                number = float(text)
            except ValueError:
                number = np.nan
            if number not in (1.0, -1.0):
                raise ValueError(f"The 'sign' column, {where}: expected +1 or -1; got {text!r}.")
            signs[i] = int(number)
            continue
        direction = str(directions[i] if isinstance(directions[i], str) else "").strip().lower()
        if direction not in DIRECTION_SIGNS:
            raise ValueError(
                f"The 'direction' column, {where}: {direction or '(empty)'!r} has no sign; signed pooling maps "
                f"{', '.join(f'{k} to {v:+d}' for k, v in DIRECTION_SIGNS.items())}. Recode the row or give it a "
                "'sign' column of +1 or -1."
            )
        signs[i] = DIRECTION_SIGNS[direction]
    return signs
