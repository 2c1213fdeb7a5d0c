"""Price and factor data: sources (Yahoo, local CSV files), a local cache, and Fama-French factors.

>>> from eventstudy.data import CsvSource, load_factors
>>> prices = CsvSource("prices/").get_prices(["NVDA", "SPY"], "2025-01-01", "2025-06-30")  # doctest: +SKIP
>>> ff3 = load_factors("ff3", start="2025-01-01")  # doctest: +SKIP
"""

from __future__ import annotations

from eventstudy.data import config
from eventstudy.data.base import FIELDS, PriceSource
from eventstudy.data.cache import CachedSource
from eventstudy.data.factors import load_factors, parse_french_csv
from eventstudy.data.local import CsvSource
from eventstudy.data.yahoo import YahooSource
from eventstudy.exceptions import DataSourceError

__all__ = [
    "FIELDS",
    "PriceSource",
    "YahooSource",
    "CsvSource",
    "CachedSource",
    "default_source",
    "load_factors",
    "parse_french_csv",
]


def default_source() -> PriceSource:
    """Return the price source to use when none is given.

    Returns
    -------
    PriceSource
        ``CsvSource($EVENTSTUDY_PRICES_DIR)`` when that variable is set, else
        ``CachedSource(YahooSource())`` (which honours ``EVENTSTUDY_CACHE_DIR`` and ``EVENTSTUDY_OFFLINE``).

    Raises
    ------
    DataSourceError
        When ``EVENTSTUDY_PRICES_DIR`` is set to a folder that does not exist.
    """
    folder = config.prices_dir()
    if folder is not None:
        if not folder.is_dir():
            raise DataSourceError(
                f"EVENTSTUDY_PRICES_DIR is set to {folder}, which is not an existing folder. Point it at a folder "
                "of <TICKER>.csv files or unset it to download from Yahoo.",
                failures={str(folder): "not a folder"},
            )
        return CsvSource(folder)
    return CachedSource(YahooSource())
