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

from eventstudy._version import __version__
from eventstudy.exceptions import (
    CacheError,
    DataQualityWarning,
    DataSourceError,
    DroppedFirmEventsWarning,
    EstimationError,
    EventCatalogError,
    EventStudyError,
    EventStudyWarning,
    EventWindowError,
    MarketShockWarning,
    NotAFirmWarning,
    SavedResultsError,
    SessionAssumptionWarning,
)

# public name -> module that defines it
_LAZY: dict[str, str] = {
    # data
    "PriceSource": "eventstudy.data",
    "YahooSource": "eventstudy.data",
    "CsvSource": "eventstudy.data",
    "CachedSource": "eventstudy.data",
    "default_source": "eventstudy.data",
    "load_factors": "eventstudy.data",
    # calendar, returns, events
    "TradingCalendar": "eventstudy.time.calendar",
    "returns": "eventstudy.time.returns",
    "load_events": "eventstudy.time.events",
    "list_catalogs": "eventstudy.time.events",
    "exchange_of": "eventstudy.foundation.exchanges",
    "to_currency": "eventstudy.time.currency",
    # models and estimation
    "ConstantMean": "eventstudy.estimation.models",
    "MarketAdjusted": "eventstudy.estimation.models",
    "MarketModel": "eventstudy.estimation.models",
    "MultiIndexModel": "eventstudy.estimation.models",
    "Dimson": "eventstudy.estimation.models",
    "ScholesWilliams": "eventstudy.estimation.models",
    "CAPM": "eventstudy.estimation.models",
    "FamaFrench3": "eventstudy.estimation.models",
    "FamaFrench5": "eventstudy.estimation.models",
    "Carhart4": "eventstudy.estimation.models",
    "get_model": "eventstudy.estimation.models",
    "Garch": "eventstudy.estimation.garch",
    "GjrGarch": "eventstudy.estimation.garch",
    "Egarch": "eventstudy.estimation.garch",
    "EventStudy": "eventstudy.results.study",
    "EventStudyResults": "eventstudy.results.results",
    "compare": "eventstudy.results.results",
    # other outcomes: volume and volatility
    "VolatilityResults": "eventstudy.results.results",
    "abnormal_volatility": "eventstudy.estimation.outcomes",
    "log_volume": "eventstudy.estimation.outcomes",
    "parkinson_variance": "eventstudy.estimation.outcomes",
    "volatility_tests": "eventstudy.estimation.outcomes",
    "outcome_rows": "eventstudy.report.outcomes",
    "load": "eventstudy.results.results",
    # intraday event windows
    "IntradayStudy": "eventstudy.intraday.study",
    "IntradayResults": "eventstudy.intraday.study",
    "bar_returns": "eventstudy.intraday.study",
    "session_gaps": "eventstudy.intraday.study",
    "plot_intraday": "eventstudy.plotting",
    "implausible_returns": "eventstudy.estimation.quality",
    "market_shocks": "eventstudy.results.results",
    # inference
    "simulate": "eventstudy.inference.simulation",
    "TestResult": "eventstudy.inference",
    "TestStatistic": "eventstudy.inference",
    "run_tests": "eventstudy.inference",
    "car_regression": "eventstudy.inference.regression",
    "CarRegression": "eventstudy.inference.regression",
    # plots (matplotlib is imported only when one is drawn)
    "plot_car": "eventstudy.plotting",
    "plot_ar": "eventstudy.plotting",
    "plot_prices": "eventstudy.plotting",
    "plot_car_heatmap": "eventstudy.plotting",
    "plot_sensitivity": "eventstudy.plotting",
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
        "SavedResultsError",
        "MarketShockWarning",
        "NotAFirmWarning",
        "SessionAssumptionWarning",
    ]
)


def __dir__() -> list[str]:
    return __all__


# Type checkers and IDEs see the imports; at run time __getattr__ imports a name on first use.  A type checker
# that saw __getattr__ would type a misspelt es.Name as Any instead of reporting it.
if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from eventstudy.data import CachedSource, CsvSource, PriceSource, YahooSource, default_source, load_factors
    from eventstudy.estimation.garch import Egarch, Garch, GjrGarch
    from eventstudy.estimation.models import (
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
    from eventstudy.estimation.outcomes import (
        abnormal_volatility,
        log_volume,
        parkinson_variance,
        volatility_tests,
    )
    from eventstudy.estimation.quality import implausible_returns
    from eventstudy.foundation.exchanges import exchange_of
    from eventstudy.inference import TestResult, TestStatistic, run_tests
    from eventstudy.inference.regression import CarRegression, car_regression
    from eventstudy.inference.simulation import simulate
    from eventstudy.intraday.study import IntradayResults, IntradayStudy, bar_returns, session_gaps
    from eventstudy.plotting import plot_ar, plot_car, plot_car_heatmap, plot_intraday, plot_prices, plot_sensitivity
    from eventstudy.report.outcomes import outcome_rows
    from eventstudy.results.results import EventStudyResults, VolatilityResults, compare, load, market_shocks
    from eventstudy.results.study import EventStudy
    from eventstudy.time.calendar import TradingCalendar
    from eventstudy.time.currency import to_currency
    from eventstudy.time.events import list_catalogs, load_events
    from eventstudy.time.returns import returns
else:

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'eventstudy' has no attribute {name!r}")
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value
