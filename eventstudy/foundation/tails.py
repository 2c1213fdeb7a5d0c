"""Tails of the t, normal, chi-square and F distributions from ``scipy.special``, as ``scipy.stats`` gives them.

``scipy.stats`` computes these survival functions with the same ``scipy.special`` functions, after checking
its arguments: NaN where a parameter is out of its domain, 1 below the support of a positive variable.  The
functions here do the same checks, so every value equals ``scipy.stats``'s to the last bit
(``tests/foundation/test_tails.py``); importing ``scipy.stats`` costs about 0.45 s of a fresh process, ``scipy.special``
a fraction of it.  The binomial and exact signed-rank tails, which ``scipy.special`` does not give in the
form ``scipy.stats`` uses, stay with ``scipy.stats`` where those tests run.
"""

from __future__ import annotations

import numpy as np
from scipy.special import chdtrc, fdtrc, ndtr, stdtr, stdtrit

__all__ = ["t_sf", "t_ppf", "norm_sf", "chi2_sf", "f_sf"]


def _valid(*params) -> np.ndarray:
    """Where every parameter is positive (False for NaN), as ``scipy.stats``'s default argument check."""
    ok = np.asarray(True)
    for p in params:
        ok = ok & (np.asarray(p, dtype=float) > 0)
    return ok


def t_sf(x, df) -> np.ndarray:
    """``scipy.stats.t.sf(x, df)``: ``stdtr(df, -x)``, NaN where ``df <= 0``."""
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return stdtr(np.where(df > 0, df, np.nan), -np.asarray(x, dtype=float))


def t_ppf(q, df) -> np.ndarray:
    """``scipy.stats.t.ppf(q, df)`` for ``0 < q < 1``: ``stdtrit(df, q)``, NaN where ``df <= 0``."""
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return stdtrit(np.where(df > 0, df, np.nan), np.asarray(q, dtype=float))


def norm_sf(x) -> np.ndarray:
    """``scipy.stats.norm.sf(x)``: ``ndtr(-x)``."""
    return ndtr(-np.asarray(x, dtype=float))


def _positive_sf(x, value, *params) -> np.ndarray:
    """The survival function of a positive variable: ``value`` above 0, 1 at or below, NaN for NaN or a
    parameter out of its domain (``scipy.stats``'s checks)."""
    x = np.asarray(x, dtype=float)
    ok = _valid(*params)
    with np.errstate(invalid="ignore"):
        out = np.where(x <= 0, 1.0, value)
    return np.where(ok & ~np.isnan(x), out, np.nan)


def chi2_sf(x, k) -> np.ndarray:
    """``scipy.stats.chi2.sf(x, k)``: ``chdtrc(k, x)`` for ``x > 0``."""
    x, k = np.asarray(x, dtype=float), np.asarray(k, dtype=float)
    with np.errstate(invalid="ignore"):
        return _positive_sf(x, chdtrc(k, x), k)


def f_sf(x, d1, d2) -> np.ndarray:
    """``scipy.stats.f.sf(x, d1, d2)``: ``fdtrc(d1, d2, x)`` for ``x > 0``."""
    x, d1, d2 = (np.asarray(v, dtype=float) for v in (x, d1, d2))
    with np.errstate(invalid="ignore"):
        return _positive_sf(x, fdtrc(d1, d2, x), d1, d2)
