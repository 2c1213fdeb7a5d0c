"""What every normal-return model declares: the interface the loaders, the fit, the results and storage read.

A model is configuration only (a frozen dataclass).  It says

- its names: :attr:`~NormalReturnModel.name`, :attr:`~NormalReturnModel.aliases` and
  :meth:`~NormalReturnModel.variants` (names that build it with arguments, such as ``"garch-t"``);
- the data it needs (:meth:`~NormalReturnModel.needs`, a :class:`DataNeeds`): sessions of leads and lags of the
  benchmark around every day it reads, factors, the risk-free rate, how many benchmarks;
- how it is fitted: :meth:`~NormalReturnModel.fit` (least squares, or the model's own estimator, from the window
  sums of :mod:`eventstudy.estimation.fit`) and :meth:`~NormalReturnModel.refit` (a second stage started from it,
  such as GARCH's likelihood);
- its parameter table (:meth:`~NormalReturnModel.param_table`), the footnote of its t statistics
  (:attr:`~NormalReturnModel.t_note`) and its state for save and load (:meth:`~NormalReturnModel.state`,
  :meth:`~NormalReturnModel.from_state`).

Every method has a default here, so a new model overrides only what differs; nothing elsewhere asks
``getattr(model, ...)``.  The registry (:mod:`eventstudy.estimation.models`) lists every model once.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from eventstudy.estimation.fit import StackedFit, estimate
from eventstudy.estimation.panel import AlignedData

__all__ = ["NormalReturnModel", "DataNeeds", "FactorSet", "RISK_FREE", "MACKINLAY_T_NOTE"]

#: the factor table's column of the daily risk-free return
RISK_FREE = "RF"
#: the factor files a model can need (:func:`eventstudy.load_factors`)
FactorSet = Literal["ff3", "ff5", "carhart", "momentum"]
_WORDS = {2: "two", 3: "three"}
#: the footnote of a least-squares model's CAR table
MACKINLAY_T_NOTE = "t: MacKinlay (1997) prediction-error-corrected t with T-K degrees of freedom."


@dataclass(frozen=True)
class DataNeeds:
    """The data a model reads besides the securities' own returns, which every loader gives it.

    Attributes
    ----------
    lags, leads : int
        Sessions of the benchmark before (``lags``) and after (``leads``) each estimation or event day that the
        model reads (Dimson's :math:`R_{m,t-k}` and :math:`R_{m,t+k}`): loaders widen the span they read by as
        many sessions on each side, so a study on ``source=`` sees the same returns as one on ``returns=``.
    min_benchmarks, max_benchmarks : int or None
        How many benchmarks the model regresses on (``max_benchmarks=None``: any number); 0 and 0 for a model
        that reads none (constant mean, the factor models).
    factors : {"ff3", "ff5", "carhart", "momentum"} or None
        The factor file the model needs.
    risk_free : bool
        Returns are taken in excess of the risk-free rate.
    """

    lags: int = 0
    leads: int = 0
    min_benchmarks: int = 1
    max_benchmarks: int | None = 1
    factors: FactorSet | None = None
    risk_free: bool = False


@dataclass(frozen=True)
class NormalReturnModel(ABC):
    """Base class of the normal-return models: the interface every model implements (see the module's text).

    A model says which columns of the regressor table it uses and whether returns are taken in excess of
    the risk-free rate.  ``market`` is the tuple of benchmark names the study was given (for example
    ``("SPY",)`` or ``("SPY", "SOXX")``).
    """

    #: the registry's name of the model (``"market"``, ``"dimson"``, ``"garch"``)
    name: ClassVar[str] = ""
    #: other spellings accepted by :func:`~eventstudy.estimation.models.get_model` (the class's own: a subclass
    #: does not inherit them)
    aliases: ClassVar[tuple[str, ...]] = ()
    label: ClassVar[str] = ""
    #: the factor file the model needs (``"ff3"``, ``"ff5"``, ``"carhart"``), or None
    factor_set: ClassVar[FactorSet | None] = None
    #: subtract the risk-free rate from the firm's return
    excess: ClassVar[bool] = False
    #: estimate parameters by least squares (False: only the residual variance is estimated)
    estimated: ClassVar[bool] = True
    #: the footnote of the results' CAR table: which variance the t statistic uses
    t_note: ClassVar[str] = MACKINLAY_T_NOTE
    intercept: bool = True

    # ----------------------------------------------------------------------------------------------------
    # names
    # ----------------------------------------------------------------------------------------------------
    @classmethod
    def variants(cls) -> Mapping[str, Mapping[str, Any]]:
        """Names that build this model with arguments (``{"garch-t": {"dist": "t"}}``); none by default."""
        return {}

    def describe(self, market: tuple[str, ...]) -> str:
        """One line for tables and reports, e.g. ``market model (SPY)``."""
        return f"{self.label} ({', '.join(market)})"

    # ----------------------------------------------------------------------------------------------------
    # the data it needs
    # ----------------------------------------------------------------------------------------------------
    def needs(self) -> DataNeeds:
        """The data the model reads besides the securities' returns (:class:`DataNeeds`), from the class's
        declarations (:attr:`factor_set`, :attr:`excess`): what the loaders and the design read."""
        return DataNeeds(factors=self.factor_set, risk_free=self.excess)

    @abstractmethod
    def regressors(self, market: tuple[str, ...]) -> tuple[str, ...]:
        """Columns of the regressor table used as explanatory variables (constant excluded)."""

    def excess_regressors(self, market: tuple[str, ...]) -> tuple[str, ...]:
        """Regressors from which the risk-free rate is subtracted (market returns, not factor spreads)."""
        return ()

    def offset(self, market: tuple[str, ...]) -> str | None:
        """A column subtracted from the firm's return with a fixed coefficient of one, or None."""
        return None

    def regressor_names(self, market: tuple[str, ...]) -> tuple[str, ...]:
        """Labels of the regressor columns (the design's, in order)."""
        return self.regressors(market)

    def design_columns(
        self, columns: list[np.ndarray], names: tuple[str, ...], market: tuple[str, ...], length: int
    ) -> np.ndarray:
        """The regressor matrix (T, P) on one exchange's sessions from the series :meth:`regressors` names."""
        if not columns:
            return np.zeros((length, 0))
        return np.column_stack(columns)

    def validate_market(self, market: tuple[str, ...]) -> None:
        """Raise ``ValueError`` when the benchmarks do not fit the model (by default: fewer than
        :attr:`DataNeeds.min_benchmarks` or more than :attr:`DataNeeds.max_benchmarks`)."""
        needs = self.needs()
        least, most = needs.min_benchmarks, needs.max_benchmarks
        got = f"Got market={list(market)!r}"
        if most == 1 and len(market) != 1:
            raise ValueError(
                f"The {self.label} takes one benchmark. {got}; use model='multi-index' to regress on several indices."
            )
        if len(market) < least:
            raise ValueError(
                f"The {self.label} needs {_WORDS.get(least, least)} or more benchmarks, e.g. market=['SPY', 'SOXX']. {got}; "
                "use model='market' for one benchmark."
            )
        if most is not None and len(market) > most:
            raise ValueError(f"The {self.label} takes at most {most} benchmarks. {got}.")

    # ----------------------------------------------------------------------------------------------------
    # fitting
    # ----------------------------------------------------------------------------------------------------
    def from_sums(self, sums, intercept: bool):
        """Estimates from the window sums when the model is not OLS on its design (None: OLS)."""
        return None

    def fit(
        self,
        data: AlignedData,
        day0: np.ndarray,
        firm: np.ndarray,
        estimation_window: tuple[int, int],
        event_window: tuple[int, int],
    ) -> StackedFit:
        """Every firm-event's model from the window sums at once (:func:`~eventstudy.estimation.fit.estimate`):
        least squares on the design, or the model's own :meth:`from_sums` estimator."""
        return estimate(
            data,
            day0,
            firm,
            estimation_window,
            event_window,
            intercept=self.intercept and self.estimated,
            estimated=self.estimated,
            model=self,
        )

    def refit(self, fit: StackedFit) -> tuple[StackedFit, np.ndarray]:
        """A second stage started from :meth:`fit`'s estimates (GARCH's likelihood), and per firm-event None or
        the reason it could not be used.  By default the fit as it is, every firm-event kept."""
        return fit, np.full(fit.n, None, dtype=object)

    # ----------------------------------------------------------------------------------------------------
    # the parameter table
    # ----------------------------------------------------------------------------------------------------
    def param_names(self, market: tuple[str, ...]) -> tuple[str, ...]:
        """Names of the estimated coefficients, in the order of :attr:`StackedFit.params`."""
        names = tuple(f"beta_{name}" for name in self.regressors(market))
        return (("alpha",) if self.intercept else ()) + names

    def derived(self, fit: StackedFit) -> dict[str, np.ndarray]:
        """Columns of the parameter table beyond :meth:`param_names` (a summed beta, volatility parameters)."""
        return {}

    def param_table(self, fit: StackedFit, market: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Every parameter column of ``res.params``, in order: the coefficients, then :meth:`derived`."""
        table = {name: fit.params[:, j] for j, name in enumerate(self.param_names(market))}
        return {**table, **self.derived(fit)}

    # ----------------------------------------------------------------------------------------------------
    # state for save and load
    # ----------------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """A JSON-able dict that :meth:`from_state` (or :func:`eventstudy.estimation.models.from_state`, which
        finds the class by name) rebuilds the model from: ``{"name": ..., "fields": {...}}``."""
        return {"name": self.name, "fields": {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}

    def fit_class(self) -> type[StackedFit]:
        """The class of the fitted record :meth:`refit` returns, which storage rebuilds (default
        :class:`~eventstudy.estimation.fit.StackedFit`)."""
        return StackedFit

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> NormalReturnModel:
        """The model :meth:`state` described (called on its class; ``ValueError`` when the name is another)."""
        if state.get("name") != cls.name:
            raise ValueError(f"A saved {state.get('name')!r} model cannot be rebuilt as {cls.__name__}.")
        known = {f.name for f in dataclasses.fields(cls)}
        fields = dict(state.get("fields", {}))
        unknown = sorted(set(fields) - known)
        if unknown:
            raise ValueError(f"The saved {cls.name!r} model has fields {unknown} that {cls.__name__} does not know.")
        return cls(**fields)
