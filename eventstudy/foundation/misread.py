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

__all__ = ["case_hint", "check_dates", "check_numbers", "check_return_values"]

#: Median absolute daily return above which a column is not decimal returns: 20 % on a typical day is no
#: security's decimal return, while percent returns (SPY's median is about 0.5) and prices lie far above.
_DECIMAL_LIMIT = 0.2


def check_return_values(returns: pd.DataFrame, *, name: str = "returns") -> None:
    """Refuse returns that would be misread: infinite values, percent, prices.

    Raises
    ------
    ValueError
        When a value is infinite (naming the ticker, the date and the value; an infinite return is a
        zero price divided into, not a missing value), or when a column's median absolute value exceeds
        0.2: with negative values it is percent returns (divide by 100), without it is prices
        (convert with :func:`eventstudy.returns`).
    """
    values = returns.to_numpy(dtype="float64", na_value=np.nan)
    infinite = np.isinf(values)
    if infinite.any():
        row, col = np.argwhere(infinite)[0]
        raise ValueError(
            f"The {name!r} parameter holds an infinite value: {returns.columns[col]!r} on "
            f"{returns.index[row]:%Y-%m-%d} is {values[row, col]}; {int(infinite.sum())} such value(s). An infinite "
            "return comes from a zero or missing price divided into; fix the price, or set the value to NaN "
            "(returns.replace([np.inf, -np.inf], np.nan)) to leave a gap."
        )
    typical = np.full(values.shape[1], np.nan)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column has no median
        # a median above the limit needs at least half the column above it: only such columns get one
        size = np.abs(values)
        n = np.isfinite(size).sum(axis=0)
        maybe = np.flatnonzero((size > _DECIMAL_LIMIT).sum(axis=0) >= n - n // 2)
        if len(values) and len(maybe):
            typical[maybe] = np.nanmedian(size[:, maybe], axis=0)
    large = np.flatnonzero(np.isfinite(typical) & (typical > _DECIMAL_LIMIT))
    if not len(large):
        return
    negative = [returns.columns[int(c)] for c in large if np.nanmin(values[:, c]) < 0]
    shown = ", ".join(f"{returns.columns[c]!r} (median absolute value {typical[c]:.3g})" for c in large[:5])
    if negative:
        raise ValueError(
            f"The {name!r} parameter looks like returns in percent, not decimals: {shown}. Divide by 100 "
            f"(returns / 100); a daily return of 1.5 % is 0.015."
        )
    raise ValueError(
        f"The {name!r} parameter looks like prices, not returns: {shown}, and no negative value. Convert with "
        "eventstudy.returns(prices)."
    )


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
