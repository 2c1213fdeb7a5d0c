"""Has the adjustment basis of a ticker's prices changed since they were cached?

Adjusted prices change retroactively: after a split every earlier price is divided by the split ratio, after
a dividend every earlier Adj Close is scaled down a little.  A cache that appends new days to old ones
without noticing would join two bases, and the seam becomes a return that never happened (-89.9% at
NVIDIA's 10-for-1 split of June 2024).  The cache therefore fetches a few cached days again with every
new range and compares them here, the way yfinance-cache re-checks its adjustment before appending.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["OVERLAP_ROWS", "RTOL", "basis_change"]

#: How many cached sessions every fetch that extends an entry reads again, to compare.
OVERLAP_ROWS = 5
#: Largest relative difference between a cached and a refetched price taken as the same value.  Small
#: enough to see a dividend of 0.001% of the price (NVIDIA's $0.01 on $120 is 0.008%), large enough to
#: ignore the last printed digit of a float.
RTOL = 1e-5
#: The fields compared: a split changes both, a dividend changes Adj Close.
FIELDS = ("Close", "Adj Close")


#: the start of :func:`basis_change`'s sentence when the two share no comparable day (not a difference)
UNVERIFIABLE = "the seam cannot be checked: "


def basis_change(cached: pd.DataFrame, fresh: pd.DataFrame, *, complete_before: pd.Timestamp | None) -> str | None:
    """Describe how ``fresh`` disagrees with ``cached`` on their common days, or None when it agrees.

    Parameters
    ----------
    cached, fresh
        Rows with a DatetimeIndex and the columns of :data:`FIELDS` (the cache's and the source's).
    complete_before
        Only days before it are compared: later cached days may hold a session that had not closed when
        they were fetched, which the cache refreshes anyway.  None compares every common day.

    Returns
    -------
    str or None
        None when every common value agrees within :data:`RTOL`; otherwise one sentence naming the day, the
        field, both values and their ratio; or, when the two share no comparable day, a sentence that starts
        with :data:`UNVERIFIABLE`.
    """
    common = cached.index.intersection(fresh.index)
    if complete_before is not None:
        common = common[common < complete_before]
    if not len(common):
        return UNVERIFIABLE + "the source returned none of the cached days the new range was fetched with"
    compared = 0
    for field in FIELDS:
        if field not in cached.columns or field not in fresh.columns:
            continue
        old = cached.loc[common, field].to_numpy(dtype="float64")
        new = fresh.loc[common, field].to_numpy(dtype="float64")
        both = np.isfinite(old) & np.isfinite(new) & (old != 0)
        compared += int(both.sum())
        if not both.any():
            continue
        rel = np.zeros(len(old))
        rel[both] = np.abs(new[both] / old[both] - 1.0)
        if (rel > RTOL).any():
            i = int(np.argmax(rel))
            return (
                f"on {common[i]:%Y-%m-%d} the cached {field} is {old[i]:.6g} but the source now gives {new[i]:.6g} "
                f"(ratio {new[i] / old[i]:.6g}; {int((rel > RTOL).sum())} of {int(both.sum())} overlapping "
                f"{field} values differ)"
            )
    if not compared:
        return UNVERIFIABLE + "the cached days the new range was fetched with have no comparable prices"
    return None
