"""Where a study's data came from: the source's own description and a fingerprint of the returns read.

``fit()`` hands :func:`provenance` to the results unevaluated; it runs when ``res.provenance`` is first
read, so a study that never asks pays no hash.
"""

from __future__ import annotations

import hashlib
from typing import cast

import numpy as np
import pandas as pd

from eventstudy.data.base import library_versions

__all__ = ["describe_source", "provenance"]


def describe_source(source) -> dict:
    """What a price source says about itself (its ``describe()``), else its class name."""
    describe = getattr(source, "describe", None)
    return dict(describe()) if callable(describe) else {"source": type(source).__name__}


def provenance(returns: pd.DataFrame, factors: dict, source_info: dict) -> dict:
    """The record ``res.provenance`` holds: the source, a SHA-256 of the returns (values, dates, columns),
    each column's first and last date with a return, the loaders' notes, the factors and library versions."""
    values = np.ascontiguousarray(returns.to_numpy(dtype=float))
    # the array's own buffer, no bytes copy (numpy's stubs give ndarray __buffer__ only for Python 3.12+)
    digest = hashlib.sha256(memoryview(values))  # type: ignore[arg-type]
    index = cast(pd.DatetimeIndex, returns.index)  # a study's returns are dated (given_returns, returns())
    digest.update(index.asi8.tobytes())
    digest.update("\x1f".join(map(str, returns.columns)).encode())
    valid = np.isfinite(values)
    has = valid.any(axis=0)
    first = valid.argmax(axis=0)
    last = len(values) - 1 - valid[::-1].argmax(axis=0)
    dates = index.strftime("%Y-%m-%d").to_numpy()
    ranges = {str(c): ([dates[a], dates[b]] if h else []) for c, h, a, b in zip(returns.columns, has, first, last)}
    return {
        "source": source_info,
        "returns_sha256": digest.hexdigest(),
        "return_ranges": ranges,
        "notes": list(returns.attrs.get("eventstudy_notes", [])),
        "factors": factors,
        "versions": library_versions(),
    }
