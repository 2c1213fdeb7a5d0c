"""Frozen dataclasses of arrays (the fitted records) as a plain state and back: what results save.

A record such as :class:`~eventstudy.estimation.fit.StackedFit` is a frozen dataclass of NumPy arrays, plain
values and nested records (its :class:`~eventstudy.estimation.panel.AlignedData`).  :func:`record_state` lays
it out as JSON-able metadata and a flat dict of named arrays (``"fit.params"``, ``"fit.data.y"``, ...);
:func:`record_from_state` builds the same record again.  Private fields (a cache) are not kept.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, cast

import numpy as np

from eventstudy.exceptions import SavedResultsError

__all__ = ["record_state", "record_from_state"]


def _fields(obj_or_cls) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(obj_or_cls) if f.init and not f.name.startswith("_")]


def record_state(obj, prefix: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(meta, arrays)`` of a dataclass record: arrays named ``prefix + field``, nested records flattened."""
    meta: dict[str, Any] = {"type": type(obj).__name__, "values": {}, "arrays": [], "nested": {}}
    arrays: dict[str, np.ndarray] = {}
    for f in _fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, np.ndarray):
            meta["arrays"].append(f.name)
            arrays[f"{prefix}{f.name}"] = value
        elif dataclasses.is_dataclass(value):
            meta["nested"][f.name], inner = record_state(value, f"{prefix}{f.name}.")
            arrays.update(inner)
        else:
            meta["values"][f.name] = value
    return meta, arrays


def record_from_state(cls: type, meta: dict[str, Any], arrays: dict[str, np.ndarray], prefix: str):
    """The record of type ``cls`` that :func:`record_state` laid out.

    Raises
    ------
    SavedResultsError
        When the state was written for another type or its fields differ from ``cls``'s.
    """
    if meta.get("type") != cls.__name__:
        raise SavedResultsError(
            f"the saved {prefix.rstrip('.')!r} is a {meta.get('type')!r}, but the saved model fits a {cls.__name__}"
        )
    expected = {f.name for f in _fields(cls)}
    given = [*meta["values"], *meta["arrays"], *meta["nested"]]
    unknown, missing = sorted(set(given) - expected), sorted(expected - set(given))
    if unknown or missing:
        raise SavedResultsError(
            f"the saved {prefix.rstrip('.')!r} ({cls.__name__}) "
            + (f"has the field(s) {unknown} this version does not know " if unknown else "")
            + (f"lacks the field(s) {missing}" if missing else "")
        )
    kwargs: dict[str, Any] = dict(meta["values"])
    for name in meta["arrays"]:
        key = f"{prefix}{name}"
        if key not in arrays:
            raise SavedResultsError(f"the array {key!r} is missing from the saved state")
        kwargs[name] = arrays[key]
    hints = typing.get_type_hints(cls)
    for name, nested in meta["nested"].items():
        inner = hints[name]
        if not dataclasses.is_dataclass(inner):
            raise SavedResultsError(f"{cls.__name__}.{name} is not a record that can be loaded")
        kwargs[name] = record_from_state(cast(type, inner), nested, arrays, f"{prefix}{name}.")
    return cls(**kwargs)
