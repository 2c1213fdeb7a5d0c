"""eventstudy: market-impact event studies with real prices, the trading calendar and correct tests.

>>> import eventstudy as es
>>> prices = es.CsvSource("prices/").get_prices(["NVDA", "SPY"], "2024-01-01", "2025-06-30")  # doctest: +SKIP
>>> res = es.EventStudy(events, returns=es.returns(prices), market="SPY").fit()  # doctest: +SKIP

Public names are imported on first use so that ``import eventstudy`` stays fast and needs neither a
display nor a network.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .exceptions import (
    CacheError,
    DataQualityWarning,
    DataSourceError,
    DroppedFirmEventsWarning,
    EstimationError,
    EventCatalogError,
    EventStudyError,
    EventStudyWarning,
    EventWindowError,
    SessionAssumptionWarning,
)

__version__ = "0.1.0"

# public name -> module that defines it (relative to this package)
_LAZY: dict[str, str] = {
    # data
    "PriceSource": ".data",
    "YahooSource": ".data",
    "CsvSource": ".data",
    "CachedSource": ".data",
    "default_source": ".data",
    "load_factors": ".data",
    # calendar, returns, events
    "TradingCalendar": ".calendar",
    "returns": "._returns",
    "load_events": ".events",
    "list_catalogs": ".events",
    "exchange_of": ".exchanges",
    "to_currency": ".currency",
    # models and estimation
    "ConstantMean": ".models",
    "MarketAdjusted": ".models",
    "MarketModel": ".models",
    "MultiIndexModel": ".models",
    "Dimson": ".models",
    "ScholesWilliams": ".models",
    "CAPM": ".models",
    "FamaFrench3": ".models",
    "FamaFrench5": ".models",
    "Carhart4": ".models",
    "get_model": ".models",
    "Garch": ".garch",
    "GjrGarch": ".garch",
    "Egarch": ".garch",
    "EventStudy": ".estimation",
    "EventStudyResults": ".results",
    "compare": ".results",
    # other outcomes: volume and volatility
    "VolatilityResults": ".outcomes",
    "abnormal_volatility": ".outcomes",
    "log_volume": ".outcomes",
    "parkinson_variance": ".outcomes",
    "volatility_tests": ".outcomes",
    "outcome_rows": ".report.outcomes",
    "load": ".storage",
    # intraday event windows
    "IntradayStudy": ".intraday",
    "IntradayResults": ".intraday",
    "bar_returns": ".intraday",
    "session_gaps": ".intraday",
    "plot_intraday": ".plotting",
    "implausible_returns": ".quality",
    "market_shocks": ".results",
    # inference
    "simulate": ".inference.simulation",
    "TestResult": ".inference",
    "TestStatistic": ".inference",
    "run_tests": ".inference",
    "car_regression": ".regression",
    "CarRegression": ".regression",
    # plots (matplotlib is imported only when one is drawn)
    "plot_car": ".plotting",
    "plot_ar": ".plotting",
    "plot_prices": ".plotting",
    "plot_car_heatmap": ".plotting",
}

__all__ = sorted(
    [*_LAZY, "__version__"]
    + [
        "CacheError",
        "DataQualityWarning",
        "DataSourceError",
        "DroppedFirmEventsWarning",
        "EstimationError",
        "EventCatalogError",
        "EventStudyError",
        "EventStudyWarning",
        "EventWindowError",
        "SessionAssumptionWarning",
    ]
)


def __dir__() -> list[str]:
    return __all__


# Type checkers and IDEs see the imports; at run time __getattr__ imports a name on first use.  A type checker
# that saw __getattr__ would type a misspelt es.Name as Any instead of reporting it.
if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from ._returns import returns
    from .calendar import TradingCalendar
    from .currency import to_currency
    from .data import CachedSource, CsvSource, PriceSource, YahooSource, default_source, load_factors
    from .estimation import EventStudy
    from .events import list_catalogs, load_events
    from .exchanges import exchange_of
    from .garch import Egarch, Garch, GjrGarch
    from .inference import TestResult, TestStatistic, run_tests
    from .inference.simulation import simulate
    from .intraday import IntradayResults, IntradayStudy, bar_returns, session_gaps
    from .models import (
        CAPM,
        Carhart4,
        ConstantMean,
        Dimson,
        FamaFrench3,
        FamaFrench5,
        MarketAdjusted,
        MarketModel,
        MultiIndexModel,
        ScholesWilliams,
        get_model,
    )
    from .outcomes import VolatilityResults, abnormal_volatility, log_volume, parkinson_variance, volatility_tests
    from .plotting import plot_ar, plot_car, plot_car_heatmap, plot_intraday, plot_prices
    from .quality import implausible_returns
    from .regression import CarRegression, car_regression
    from .report.outcomes import outcome_rows
    from .results import EventStudyResults, compare, market_shocks
    from .storage import load
else:

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'eventstudy' has no attribute {name!r}")
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value
