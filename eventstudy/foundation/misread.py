"""Values that would be silently misread as data, each refused with a message naming the fix: infinite
returns, returns in percent or prices where returns are expected, numbers where dates are expected
(20250513 read as nanoseconds since 1970), and tickers spelt in the other case.

These check a user's inputs before anything is computed, so the event-time and loading layers use them;
:mod:`eventstudy.estimation.quality` re-exports them beside the checks of fitted data.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["case_hint", "check_dates", "check_numbers", "check_return_values", "column_positions"]

#: Median absolute daily return above which a column is not decimal returns: 20 % on a typical day is no
#: security's decimal return, while percent returns (SPY's median is about 0.5) and prices lie far above.
_DECIMAL_LIMIT = 0.2


def check_return_values(returns: pd.DataFrame, *, name: str = "returns", columns: Sequence | None = None) -> None:
    """Refuse returns that would be misread: infinite values, percent, prices.

    ``columns`` names the columns to check, in the order messages list them (default: all of them, in order);
    the others are not read.

    Raises
    ------
    ValueError
        When a value is infinite (naming the ticker, the date and the value; an infinite return is a
        zero price divided into, not a missing value), or when a column's median absolute value exceeds
        0.2: with negative values it is percent returns (divide by 100), without it is prices
        (convert with :func:`eventstudy.returns`).

    Notes
    -----
    The work is proportional to what is found: one pass over the values gives each column's largest and
    smallest value, and only a column whose extremes could fail a check (an infinite extreme; an absolute
    value above 0.2, without which no median can exceed it) is read again.
    """
    values = returns.to_numpy(dtype="float64", na_value=np.nan)
    names = list(returns.columns)
    positions = np.arange(len(names)) if columns is None else column_positions(names, columns)
    if not len(values) or not len(positions):
        return
    hi = np.fmax.reduce(values, axis=0)[positions]  # NaN only for an all-NaN column
    lo = np.fmin.reduce(values, axis=0)[positions]
    at = np.flatnonzero((hi == np.inf) | (lo == -np.inf))  # the columns holding an infinite value
    if len(at):
        infinite = np.isinf(values[:, positions[at]])
        row, k = np.argwhere(infinite)[0]  # the first by date, then in the order of columns
        col = int(positions[at[k]])
        raise ValueError(
            f"The {name!r} parameter holds an infinite value: {names[col]!r} on "
            f"{returns.index[row]:%Y-%m-%d} is {values[row, col]}; {int(infinite.sum())} such value(s). An infinite "
            "return comes from a zero or missing price divided into; fix the price, or set the value to NaN "
            "(returns.replace([np.inf, -np.inf], np.nan)) to leave a gap."
        )
    # a median above the limit needs a value above it: only such columns are read again
    maybe = np.flatnonzero((hi > _DECIMAL_LIMIT) | (lo < -_DECIMAL_LIMIT))
    if not len(maybe):
        return
    typical = np.full(len(maybe), np.nan)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column has no median
        # a median above the limit needs at least half the column above it: only such columns get one
        size = np.abs(values[:, positions[maybe]])
        n = np.isfinite(size).sum(axis=0)
        half = np.flatnonzero((size > _DECIMAL_LIMIT).sum(axis=0) >= n - n // 2)
        if len(half):
            typical[half] = np.nanmedian(size[:, half], axis=0)
    large = positions[maybe[np.isfinite(typical) & (typical > _DECIMAL_LIMIT)]]
    if not len(large):
        return
    median = dict(zip(positions[maybe].tolist(), typical.tolist()))
    negative = [names[int(c)] for c in large if np.nanmin(values[:, c]) < 0]
    shown = ", ".join(f"{names[c]!r} (median absolute value {median[c]:.3g})" for c in large[:5])
    if negative:
        raise ValueError(
            f"The {name!r} parameter looks like returns in percent, not decimals: {shown}. Divide by 100 "
            f"(returns / 100); a daily return of 1.5 % is 0.015."
        )
    raise ValueError(
        f"The {name!r} parameter looks like prices, not returns: {shown}, and no negative value. Convert with "
        "eventstudy.returns(prices)."
    )


def column_positions(names: Sequence | pd.Index, columns: Sequence) -> np.ndarray:
    """Position in ``names`` of each of ``columns`` (all present); a name given twice in ``names`` is
    found at its last position (the columns a study reads are unique: :func:`given_returns` says so)."""
    where = {name: k for k, name in enumerate(names)}
    return np.array([where[c] for c in columns], dtype=np.intp)


def case_hint(tickers: Sequence[str], columns: Sequence[str] | pd.Index) -> str:
    """A sentence for tickers absent from ``columns`` whose other-case spelling is there, else ``""``."""
    upper = {str(c).upper(): c for c in columns}
    pairs = [(t, upper[t.upper()]) for t in tickers if t not in columns and t.upper() in upper]
    if not pairs:
        return ""
    shown = ", ".join(f"{t!r} -> {c!r}" for t, c in pairs)
    return f" Tickers are case-sensitive and the data spell them otherwise: {shown}; write them that way."


def check_dates(values: pd.Series, name: str) -> pd.Series:
    """Parse ``values`` as dates, refusing numbers (20250513 would otherwise be read as nanoseconds since 1970).

    Raises
    ------
    TypeError
        For integers or floats, naming the first value and the conversion that reads YYYYMMDD numbers.
    ValueError
        For text that is not a date, naming it.
    """
    series = pd.Series(values)
    check_numbers(series, name)
    try:
        return pd.to_datetime(series, errors="raise")
    except (TypeError, ValueError) as exc:
        parsed = pd.to_datetime(series, errors="coerce")
        bad = series[parsed.isna() & series.notna()]
        shown = repr(bad.iloc[0]) if len(bad) else "?"
        raise ValueError(
            f"The {name!r} column has a value that is not a date: {shown} ({exc}). Write dates as '2025-05-13'."
        ) from None


def check_numbers(values, name: str) -> None:
    """Refuse numbers where dates are expected (20250513 would be read as nanoseconds since 1970)."""
    series = pd.Series(values)
    if not series.notna().any():
        return  # an empty column: nothing to misread
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        first = series.dropna().iloc[0]
        first = first.item() if isinstance(first, np.generic) else first
        raise TypeError(
            f"The {name!r} column holds numbers ({first!r}), not dates; pandas would read {first!r} as "
            f"nanoseconds since 1970. Write dates as '2025-05-13', or convert YYYYMMDD numbers with "
            f"pd.to_datetime(df[{name!r}].astype(str), format='%Y%m%d')."
        )
    objects = series.map(lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not pd.isna(v))
    if objects.any():
        first = series[objects].iloc[0]
        raise TypeError(
            f"The {name!r} column holds a number ({first!r}) where a date is expected. Write dates as '2025-05-13', "
            f"or convert YYYYMMDD numbers with pd.to_datetime(df[{name!r}].astype(str), format='%Y%m%d')."
        )
