"""One line per target that a benchmark script measured, for ``targets.py`` to collect.

A script calls :func:`target` once per target it checks, after printing its own figures; the line starts
with ``TARGET `` and holds JSON, so ``targets.py`` can run every script in turn and gather one table (and the
record ``benchmarks/targets.json``) without parsing the prose the scripts print for people.
"""

from __future__ import annotations

import json
import math

__all__ = ["target"]


def target(key: str, what: str, value: float, limit: float, unit: str, *, baseline: str = "", **figures) -> dict:
    """Print and return the record of one target: ``value`` (a ratio, seconds or MB) against ``limit``.

    Parameters
    ----------
    key : str
        A short stable name (``"fit_vs_floor"``), the key of the record in ``targets.json``.
    what : str
        The target in words, as the table shows it.
    value, limit : float
        The measured figure and the bound it must not exceed (met when ``value <= limit``; NaN is not met).
    unit : {"x", "s", "MB"}
        ``"x"`` for a ratio against ``baseline`` measured in the same run.
    baseline : str
        What the ratio divides by, in words.
    **figures
        The raw figures behind ``value`` (seconds, counts), kept in the record.
    """
    record = {
        "key": key,
        "what": what,
        "value": float(value),
        "limit": float(limit),
        "unit": unit,
        "met": bool(math.isfinite(value) and value <= limit),
        "baseline": baseline,
        "figures": {k: (float(v) if isinstance(v, (int, float)) else v) for k, v in figures.items()},
    }
    print("TARGET " + json.dumps(record, sort_keys=True))
    return record
