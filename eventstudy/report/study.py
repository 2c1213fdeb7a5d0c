"""Study files: one event study described as data, read by the one generic report.

A study file is TOML (read with :mod:`tomllib`)::

    name = "my-study"
    title = "Did the announcement move the banks?"
    question = "One or two sentences: what the study asks."
    catalog = "my_events.csv"            # a built-in catalog name, or a path relative to this file
    events = ["event-a", "event-b"]      # ids in the catalog; empty or absent: every event
    tickers = ["JPM", "BAC", "C"]
    focus = ["JPM"]                      # the stocks the story is about (default: the first two tickers)
    market = ["SPY", "SPY+XLF"]          # one fit each; "A+B" is the multi-index model on A and B
    model = "market"
    estimation_window = [-250, -11]
    event_window = [-5, 5]
    windows = [[0, 0], [0, 1], [-1, 1]]  # the CAR windows of the tables, shown in this order
    unknown_session = "pre"
    prices_dir = "prices"                # optional: price files (relative to this file); also reported_moves,
                                         # global_dir, intraday_dir; and min_estimation_obs, align_benchmarks,
                                         # naive_tz, return_kind, price_field, exclude_events as in EventStudy

    [sections.outcomes]                  # optional extra sections of the report: volume, volatility, GARCH
    [sections.global]
    events = ["event-a"]                 # non-US listings on their own exchanges (default: the study's events)
    title = "Non-US banks"
    listings = "listings.csv"            # ticker, name, benchmark (default: the built-in listings)
    [sections.intraday]
    cases = "intraday_cases.csv"
    [sections.sensitivity]               # the focus stocks' CARs under other specifications (res.sensitivity)
    estimation_windows = [[-250, -11], [-120, -11]]
    models = ["market", "market_adjusted"]
    benchmarks = ["SPY", "SOXX"]         # default: the study's first benchmark

    [prose]                              # optional paragraphs, placed by their key
    intro = "Printed under the question."
    reading = "Closes 'The answer in brief'."
    closing = "Printed before the method."

Every key is optional; an unknown key or a value of the wrong type is refused with the file and the key.
Each key has the name of the command line's option (``market`` is ``--market``, ``windows`` the repeated
``--window``) and, where :class:`eventstudy.EventStudy` takes the same setting, of its argument; an argument
that exists only in Python (``returns``, ``source``, ``factors``, ...) is refused saying what to give
instead.  ``benchmarks``, the former name of ``market``, is still read.
``eventstudy report --study FILE`` runs one; ``eventstudy report`` alone runs the study shipped with the
package (:data:`DEFAULT_STUDY`). :func:`eventstudy.report.load_study` turns a file into a ``ReportConfig``.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from eventstudy.estimation.models import Garch, NormalReturnModel, get_model, model_names
from eventstudy.time.events import list_catalogs

__all__ = ["DEFAULT_STUDY", "PROSE_SLOTS", "KEYS", "ALIASES", "PYTHON_ONLY", "read_study", "study_sha256"]

#: the study ``eventstudy report`` runs when no ``--study`` is given (package data)
DEFAULT_STUDY = Path(__file__).with_name("studies") / "ai-diffusion-rescission.toml"

#: where each ``[prose]`` paragraph goes in the report
PROSE_SLOTS = {
    "intro": "under the title and the question",
    "reading": "at the end of 'The answer in brief'",
    "closing": "before 'Method'",
}

_STRINGS = (
    "name", "title", "question", "catalog", "model", "unknown_session", "return_kind", "price_field",
    "align_benchmarks", "naive_tz",
)  # fmt: skip
_LISTS = ("events", "tickers", "focus", "market")
_WINDOWS = ("estimation_window", "event_window")
#: paths, read against the study file's folder (on the command line: against the working directory)
_PATHS = ("prices_dir", "reported_moves", "global_dir", "intraday_dir")
#: every key a study file may hold; each has the name of the command line's option and, where
#: :class:`~eventstudy.EventStudy` takes the same setting, of its argument (tests/report/test_option_names.py)
KEYS = frozenset(
    {*_STRINGS, *_LISTS, *_WINDOWS, *_PATHS, "windows", "exclude_events", "min_estimation_obs", "sections", "prose"}
)
#: former key names still read, each with the one that replaced it
ALIASES = {"benchmarks": "market"}
#: EventStudy arguments a study file cannot give, and what it gives instead
PYTHON_ONLY = {
    "returns": "a study reads prices from prices_dir (or --prices-dir) and computes the returns",
    "source": "give prices_dir (or --prices-dir); without it prices come from Yahoo Finance through the cache",
    "factors": "factor models read the factor files of the data layer; pass factors= in Python",
    "risk_free": "pass risk_free= in Python",
    "calendar": "a report counts event time on NYSE sessions; pass calendar= in Python for other exchanges",
    "outcome": "ask for [sections.outcomes] (abnormal volume, volatility, GARCH)",
    "client": "a dask.distributed client is a Python object: EventStudy(...).fit(client=...) in Python",
    "partitions": "partitions split the securities over a dask client's workers: fit(client=..., partitions=...)",
}
_SECTIONS = {
    "outcomes": {"garch"},
    "global": {"events", "title", "listings"},
    "intraday": {"cases"},
    "sensitivity": {"estimation_windows", "models", "benchmarks"},
}
#: a study's name becomes the folder results/<name>: one plain path component, never '..' or a path
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
#: the event window of a study file that sets none (ReportConfig's default), against which 'windows' are checked
DEFAULT_EVENT_WINDOW = (-5, 5)


def study_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of the study file's bytes: what a report records to say which study produced it."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_study(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a study file into the keyword arguments of :class:`eventstudy.report.ReportConfig`.

    Parameters
    ----------
    path : str or path-like
        The ``.toml`` file.

    Returns
    -------
    dict
        Lists as tuples, windows as ``(start, end)`` tuples, relative paths resolved against the file's
        folder, plus ``study`` (the file's name) and ``study_sha256`` (its hash).

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When the file is not UTF-8 or not valid TOML, a key is unknown or has a value of the wrong type, or
        keys disagree with each other: ``focus`` outside ``tickers``, a CAR window in ``windows`` outside the
        event window, a ``name`` that is not a plain folder name (``"../../escaped"`` would write outside
        ``results/``).

    Examples
    --------
    >>> from eventstudy.report.study import DEFAULT_STUDY, read_study
    >>> study = read_study(DEFAULT_STUDY)
    >>> study["market"], study["event_window"], study["sections"]
    (('SPY', 'QQQ', 'SOXX', 'SPY+SOXX'), (-5, 5), ('outcomes', 'global', 'intraday'))
    """
    where = Path(path)
    raw = where.read_bytes()  # read once: the hash recorded is of the bytes parsed
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"study file {where}: not UTF-8 text (byte {exc.start} is {raw[exc.start : exc.start + 1]!r}, e.g. a "
            "Latin-1 accent). Save the file as UTF-8."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"study file {where}: not valid TOML ({exc})") from None
    python_only = sorted(set(data) & set(PYTHON_ONLY))
    if python_only:
        raise ValueError(
            f"study file {where}: key(s) {python_only} exist only in Python (arguments of EventStudy): "
            + "; ".join(f"{k}: {PYTHON_ONLY[k]}" for k in python_only)
        )
    unknown = sorted(set(data) - KEYS - set(ALIASES))
    if unknown:
        raise ValueError(f"study file {where}: unknown key(s) {unknown}; known keys are {sorted(KEYS)}")
    for old, new in ALIASES.items():
        if old in data:
            if new in data:
                raise ValueError(f"study file {where}: give {new!r} only ({old!r} is its former name)")
            data[new] = data.pop(old)

    def fail(key: str, expected: str) -> ValueError:
        return ValueError(f"study file {where}: {key!r} must be {expected}; got {data[key]!r}")

    out: dict[str, Any] = {}
    for key in _STRINGS:
        if key in data:
            if not isinstance(data[key], str):
                raise fail(key, "a string")
            out[key] = data[key].strip()
    if "model" in out and _known_model(out["model"]) is None:
        raise fail("model", f"a model name, one of {list(model_names())}")
    for key in _LISTS:
        if key in data:
            if not isinstance(data[key], list) or not all(isinstance(v, str) for v in data[key]):
                raise fail(key, "a list of strings")
            out[key] = tuple(data[key])
    for key in _WINDOWS:
        if key in data:
            out[key] = _window(data[key], lambda k=key: fail(k, "[start, end], two integers with start <= end"))
    if "windows" in data:
        if not isinstance(data["windows"], list):
            raise fail("windows", "a list of [start, end] pairs")
        out["windows"] = tuple(
            _window(w, lambda: fail("windows", "a list of [start, end] pairs")) for w in data["windows"]
        )
    if "exclude_events" in data:
        if not isinstance(data["exclude_events"], bool):
            raise fail("exclude_events", "true or false")
        out["exclude_events"] = data["exclude_events"]
    if "name" in out and not _PLAIN_NAME.fullmatch(out["name"]):
        raise ValueError(
            f"study file {where}: 'name' must be a plain folder name (letters, digits, '.', '_', '-', not starting "
            f"with '.'), since the report goes to results/<name>; got {out['name']!r}"
        )
    if "focus" in out and "tickers" in out:
        strays = [t for t in out["focus"] if t not in out["tickers"]]
        if strays:
            raise ValueError(
                f"study file {where}: 'focus' names {strays}, which 'tickers' does not list; the focus stocks "
                f"must be among the study's tickers {list(out['tickers'])}"
            )
    if "windows" in out:
        lo, hi = out.get("event_window", DEFAULT_EVENT_WINDOW)
        outside = [list(w) for w in out["windows"] if w[0] < lo or w[1] > hi]
        if outside:
            said = "'event_window'" if "event_window" in out else "the default event_window"
            raise ValueError(
                f"study file {where}: 'windows' {outside} reach outside {said} [{lo}, {hi}]; a CAR window must lie "
                "inside the event window (widen event_window or drop the window)"
            )
    if "min_estimation_obs" in data:
        value = data["min_estimation_obs"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise fail("min_estimation_obs", "a positive integer")
        out["min_estimation_obs"] = value
    for key in _PATHS:
        if key in data:
            if not isinstance(data[key], str) or not data[key].strip():
                raise fail(key, "a path")
            out[key] = _resolve(data[key].strip(), where)
    if "catalog" in out:
        out["catalog"] = _resolve(out["catalog"], where, builtin=True)
    out.update(_sections(data.get("sections", {}), where))
    out["prose"] = _prose(data.get("prose", {}), where)
    out["study"] = where.name
    out["study_sha256"] = hashlib.sha256(raw).hexdigest()
    return out


def _known_model(name: str) -> NormalReturnModel | None:
    """The registry's model of ``name`` (a name, a variant or an alias), or None."""
    try:
        return get_model(name)
    except ValueError:
        return None


def _window(value, error) -> tuple[int, int]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        or value[0] > value[1]
    ):
        raise error()
    return int(value[0]), int(value[1])


def _resolve(value: str, study: Path, *, builtin: bool = False) -> str:
    """A built-in catalog name as it is; a relative path against the study file's folder."""
    if builtin and value in list_catalogs():
        return value
    candidate = Path(value)
    return str(candidate if candidate.is_absolute() else (study.parent / candidate).resolve())


def _sections(sections, where: Path) -> dict[str, Any]:
    if not isinstance(sections, dict):
        raise ValueError(f"study file {where}: [sections] must be a table of sections, e.g. [sections.global]")
    unknown = sorted(set(sections) - set(_SECTIONS))
    if unknown:
        raise ValueError(f"study file {where}: unknown section(s) {unknown}; known sections are {sorted(_SECTIONS)}")
    out: dict[str, Any] = {"sections": tuple(sections)}
    for name, options in sections.items():
        if not isinstance(options, dict) or set(options) - _SECTIONS[name]:
            raise ValueError(
                f"study file {where}: [sections.{name}] takes only {sorted(_SECTIONS[name])}; got {options!r}"
            )
    events = sections.get("global", {}).get("events", [])
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ValueError(f"study file {where}: [sections.global] events must be a list of event ids")
    out["global_events"] = tuple(events)
    title = sections.get("global", {}).get("title")
    if title is not None:
        if not isinstance(title, str):
            raise ValueError(f"study file {where}: [sections.global] title must be a string")
        out["global_title"] = title
    listings = sections.get("global", {}).get("listings")
    if listings is not None:
        if not isinstance(listings, str):
            raise ValueError(f"study file {where}: [sections.global] listings must be a path")
        out["global_listings"] = _resolve(listings, where)
    garch = sections.get("outcomes", {}).get("garch")
    if garch is not None:
        garch_names = [n for n in model_names() if isinstance(get_model(n), Garch)]
        if not isinstance(garch, str) or not isinstance(_known_model(garch), Garch):
            raise ValueError(
                f"study file {where}: [sections.outcomes] garch must be one of {garch_names}; got {garch!r}"
            )
        out["outcomes_garch"] = garch
    sensitivity = sections.get("sensitivity", {})
    windows = sensitivity.get("estimation_windows")
    if windows is not None:
        message = f"study file {where}: [sections.sensitivity] estimation_windows must be a list of [start, end] pairs"
        if not isinstance(windows, list) or not windows:
            raise ValueError(message)
        out["sensitivity_estimation_windows"] = tuple(_window(w, lambda: ValueError(message)) for w in windows)
    for key in ("models", "benchmarks"):
        value = sensitivity.get(key)
        if value is not None:
            if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
                raise ValueError(f"study file {where}: [sections.sensitivity] {key} must be a list of names")
            out[f"sensitivity_{key}"] = tuple(value)
    cases = sections.get("intraday", {}).get("cases")
    if cases is not None:
        if not isinstance(cases, str):
            raise ValueError(f"study file {where}: [sections.intraday] cases must be a path")
        out["intraday_cases"] = _resolve(cases, where)
    return out


def _prose(prose, where: Path) -> dict[str, str]:
    if not isinstance(prose, dict):
        raise ValueError(f"study file {where}: [prose] must be a table of paragraphs")
    unknown = sorted(set(prose) - set(PROSE_SLOTS))
    if unknown:
        slots = "; ".join(f"{k}: {v}" for k, v in PROSE_SLOTS.items())
        raise ValueError(f"study file {where}: unknown [prose] key(s) {unknown}; the slots are {slots}")
    for key, text in prose.items():
        if not isinstance(text, str):
            raise ValueError(f"study file {where}: [prose] {key} must be a string")
    return {key: " ".join(text.split()) for key, text in prose.items()}
