"""Returns of a foreign listing in another currency.

A Tokyo stock's yen return and its dollar return differ by the yen's move over the same interval.  Over a
session :math:`t` of the listing (from its previous session's close to this one's),

.. math::

    1 + R^{\\$}_{t} = (1 + R_{t})\\,\\frac{X_t}{X_{t^-}}

where :math:`X_t` is the price of one unit of the listing's currency in the target currency at the
listing's close of session :math:`t` and :math:`t^-` is the listing's previous session (never the previous
FX day: a holiday of the listing spans several FX days, and so does its return).  Log returns add
:math:`\\ln(X_t/X_{t^-})`.

Which FX quote stands for "at the listing's close" depends on how the FX series is dated:

* ``fx_timing="next-start"`` (Yahoo's daily FX, e.g. ``JPY=X``): Yahoo's close of day :math:`D` is the rate
  at the *start* of :math:`D` (about midnight London), so the first quote after an Asian or European close
  on :math:`D` is the one dated on the next FX day; it is used for session :math:`D`.  See
  ``PROVENANCE-global-intraday.md`` of the shared data: the Bank of Japan's move of 2022-12-20 shows in
  ``JPY=X``'s close of 2022-12-21.
* ``fx_timing="same-date"``: the rate dated :math:`D` was fixed after the listing's close of :math:`D`
  (an end-of-day fix).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, cast

import numpy as np
import pandas as pd

from eventstudy.foundation.validation import check_choice
from eventstudy.time.layout import CalendarSpec

__all__ = ["to_currency"]


def to_currency(
    returns: pd.DataFrame,
    fx: pd.Series,
    *,
    columns: Sequence[str],
    quote: Literal["target-per-local", "local-per-target"],
    fx_timing: Literal["next-start", "same-date"] = "next-start",
    calendar="auto",
) -> pd.DataFrame:
    """Express the returns of ``columns`` in the target currency of ``fx`` (the other columns unchanged).

    Parameters
    ----------
    returns
        Daily returns, each column on its own exchange's sessions (as :func:`eventstudy.returns` gives
        them); ``attrs["return_kind"]`` ``"log"`` for log returns, else simple.
    fx
        FX prices, DatetimeIndex (e.g. the ``Close`` of ``EURUSD=X`` or ``JPY=X``).
    columns
        The listings quoted in the FX series' local currency.
    quote
        ``"target-per-local"`` when ``fx`` is the price of one unit of the listing's currency in the target
        currency (``EURUSD=X`` for a euro listing in dollars); ``"local-per-target"`` when it is the price of
        one unit of the target in the listing's currency (``JPY=X`` = yen per dollar, for a Tokyo listing
        in dollars).
    fx_timing
        How the FX series is dated; see the module docstring.  Default ``"next-start"``: Yahoo's daily FX.
    calendar
        How each column's exchange is found (as :func:`eventstudy.returns`): ``"auto"``, a mapping, or a code.

    Returns
    -------
    DataFrame
        The returns with ``columns`` converted; ``attrs["eventstudy_notes"]`` records the conversion.  A
        session whose FX rate (or its previous session's) is missing gets a NaN return: nothing is filled.

    Raises
    ------
    KeyError
        A column is not in ``returns``.
    ValueError
        Non-positive FX prices; an FX series that does not cover the returns' dates.
    """
    quote = check_choice("quote", quote, ("target-per-local", "local-per-target"))
    fx_timing = check_choice("fx_timing", fx_timing, ("next-start", "same-date"))
    if not isinstance(fx, pd.Series) or not isinstance(fx.index, pd.DatetimeIndex):
        raise TypeError("The 'fx' parameter must be a Series of FX prices with a DatetimeIndex.")
    missing = [c for c in columns if c not in returns.columns]
    if missing:
        raise KeyError(f"The columns {missing} are not in the returns; they have {list(returns.columns)}.")
    rates = fx.dropna().astype(float).sort_index()
    rates.index = pd.DatetimeIndex(rates.index).normalize().as_unit("ns")
    rates = rates[~rates.index.duplicated(keep="last")]
    if (rates <= 0).any():
        bad = rates.index[rates <= 0][0]
        raise ValueError(f"The FX price on {bad:%Y-%m-%d} is {rates[bad]:g}; FX prices must be positive.")
    value = rates if quote == "target-per-local" else 1.0 / rates  # target currency per unit of local currency
    spec = CalendarSpec(calendar)
    log = returns.attrs.get("return_kind") == "log"
    out = returns.copy()
    value_ns = cast(pd.DatetimeIndex, value.index).asi8  # the dates normalized above
    for column in columns:
        sessions = spec.calendar(spec.exchange(str(column))).sessions
        days = sessions[(sessions >= returns.index.min()) & (sessions <= returns.index.max())].as_unit("ns")
        if fx_timing == "next-start":  # the first quote dated after the session
            position = np.searchsorted(value_ns, days.asi8, side="right")
        else:
            position = value.index.get_indexer(days)
        at_close = np.full(len(days), np.nan)
        ok = (position >= 0) & (position < len(value))
        at_close[ok] = value.to_numpy()[position[ok]]
        if fx_timing == "next-start" and len(value):
            # a quote more than a week after the session is no quote for it (the FX series ended or has a gap)
            late = ok & (value_ns[np.minimum(position, len(value) - 1)] - days.asi8 > 7 * 86_400 * 10**9)
            at_close[late] = np.nan
        change = pd.Series(at_close, index=days)
        change = change / change.shift(1)  # from the listing's previous session to this one
        factor = change.reindex(returns.index).to_numpy()
        r = returns[column].to_numpy(dtype=float)
        out[column] = r + np.log(factor) if log else (1.0 + r) * factor - 1.0
    out.attrs = {**returns.attrs}
    note = (
        f"to_currency: {', '.join(map(str, columns))} converted with {fx.name or 'an FX series'} ({quote}, "
        f"FX dated {fx_timing})"
    )
    out.attrs["eventstudy_notes"] = [*returns.attrs.get("eventstudy_notes", []), note]
    return out
