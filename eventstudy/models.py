"""Normal-return models and their fit on stacked firm-event arrays.

A model is configuration only: it names the regressors it needs and how the dependent variable is formed.
:func:`estimate` fits every firm-event at once from window sums, and :class:`StackedFit`
is the small record of arrays that the estimation, inference and results layers share.

The models follow MacKinlay (1997), section 4: the constant-mean-return model, the market model and its
multi-index extension, and the economic models (CAPM, Fama-French, Carhart) on excess returns.  The
market-adjusted model fixes :math:`\\alpha=0, \\beta=1` and estimates nothing but the variance.

References
----------
MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of Economic Literature*, 35(1),
13-39.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar, Literal, cast

import numpy as np

from ._validation import check_inside
from .panel import AlignedData, gather, relative_days, window_sums

__all__ = [
    "NormalReturnModel",
    "ConstantMean",
    "MarketAdjusted",
    "MarketModel",
    "MultiIndexModel",
    "Dimson",
    "ScholesWilliams",
    "CAPM",
    "FamaFrench3",
    "FamaFrench5",
    "Carhart4",
    "MODELS",
    "get_model",
    "StackedFit",
    "estimate",
]

#: firm-events whose (rows, W, K) event-window regressors are built at once when a CAR variance needs them
_ROWS_AT_ONCE = 100_000
#: cached arrays of StackedFit with one row per firm-event, which take() keeps
_ROW_ARRAYS = frozenset({"x_event", "ar_event", "ar", "estimation_mask"})

RISK_FREE = "RF"


# --------------------------------------------------------------------------------------------------------
# model specifications
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NormalReturnModel:
    """Base class of the normal-return models.

    A model says which columns of the regressor table it uses and whether returns are taken in excess of
    the risk-free rate.  ``market`` is the tuple of benchmark names the study was given (for example
    ``("SPY",)`` or ``("SPY", "SOXX")``).
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    #: the factor file the model needs (``"ff3"``, ``"ff5"``, ``"carhart"``), or None
    factor_set: ClassVar[Literal["ff3", "ff5", "carhart", "momentum"] | None] = None
    #: subtract the risk-free rate from the firm's return
    excess: ClassVar[bool] = False
    #: estimate parameters by least squares (False: only the residual variance is estimated)
    estimated: ClassVar[bool] = True
    intercept: bool = True

    def regressors(self, market: tuple[str, ...]) -> tuple[str, ...]:
        """Columns of the regressor table used as explanatory variables (constant excluded)."""
        return ()

    def excess_regressors(self, market: tuple[str, ...]) -> tuple[str, ...]:
        """Regressors from which the risk-free rate is subtracted (market returns, not factor spreads)."""
        return ()

    def offset(self, market: tuple[str, ...]) -> str | None:
        """A column subtracted from the firm's return with a fixed coefficient of one, or None."""
        return None

    def needs_risk_free(self) -> bool:
        """True when returns are taken in excess of the risk-free rate."""
        return self.excess

    def param_names(self, market: tuple[str, ...]) -> tuple[str, ...]:
        """Names of the estimated coefficients, in the order of :attr:`StackedFit.params`."""
        names = tuple(f"beta_{name}" for name in self.regressors(market))
        return (("alpha",) if self.intercept else ()) + names

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

    def from_sums(self, sums, intercept: bool):
        """Estimates from the window sums when the model is not OLS on its design (None: OLS)."""
        return None

    def validate_market(self, market: tuple[str, ...]) -> None:
        """Raise ``ValueError`` when the benchmarks do not fit the model."""

    def describe(self, market: tuple[str, ...]) -> str:
        """One line for tables and reports, e.g. ``market model (SPY)``."""
        return f"{self.label} ({', '.join(market)})"


@dataclass(frozen=True)
class ConstantMean(NormalReturnModel):
    r""":math:`R_{it} = \mu_i + \varepsilon_{it}` (MacKinlay 1997, eq. 1)."""

    name: ClassVar[str] = "constant-mean"
    label: ClassVar[str] = "constant-mean model"

    def describe(self, market: tuple[str, ...]) -> str:
        return self.label


@dataclass(frozen=True)
class MarketAdjusted(NormalReturnModel):
    r"""Market-adjusted returns: :math:`AR_{it} = R_{it} - R_{mt}` (Brown & Warner 1985).

    No parameter is estimated (:math:`\alpha=0,\ \beta=1`); the estimation window gives only
    :math:`\hat\sigma^2_i`, the sample variance of :math:`R_{it}-R_{mt}` with :math:`T_i-1` degrees of freedom,
    so there is no prediction-error term in the variance of abnormal returns.
    """

    name: ClassVar[str] = "market-adjusted"
    label: ClassVar[str] = "market-adjusted returns"
    estimated: ClassVar[bool] = False
    intercept: bool = False

    def offset(self, market):
        return market[0]

    def validate_market(self, market):
        _one_benchmark(self, market)


@dataclass(frozen=True)
class MarketModel(NormalReturnModel):
    r""":math:`R_{it} = \alpha_i + \beta_i R_{mt} + \varepsilon_{it}` (MacKinlay 1997, eq. 2)."""

    name: ClassVar[str] = "market"
    label: ClassVar[str] = "market model"

    def regressors(self, market):
        return (market[0],)

    def validate_market(self, market):
        _one_benchmark(self, market)


@dataclass(frozen=True)
class MultiIndexModel(NormalReturnModel):
    r""":math:`R_{it} = \alpha_i + \sum_k \beta_{ik} R_{kt} + \varepsilon_{it}` for several indices.

    The market plus an industry index (for example SPY and SOXX) is MacKinlay's (1997, section 4.3)
    multifactor model; the industry beta absorbs the sector's move, so the abnormal return is the firm's own.
    """

    name: ClassVar[str] = "multi-index"
    label: ClassVar[str] = "multi-index model"

    def regressors(self, market):
        return tuple(market)

    def validate_market(self, market):
        if len(market) < 2:
            raise ValueError(
                "The multi-index model needs two or more benchmarks, e.g. market=['SPY', 'SOXX']. "
                f"Got market={list(market)!r}; use model='market' for one benchmark."
            )


@dataclass(frozen=True)
class Dimson(NormalReturnModel):
    r"""Market model with leads and lags of the market (Dimson 1979), for non-synchronous trading.

    .. math::

        R_{it} = \alpha_i + \sum_{k=-K}^{K} \beta_{ik} R_{m,t+k} + \varepsilon_{it},
        \qquad \hat\beta_i^{D} = \sum_{k=-K}^{K} \hat\beta_{ik}

    estimated by OLS on the estimation window (default :math:`K=1`).  :math:`t` counts the security's own
    sessions, so for a Tokyo listing against a US index taken on the same date (``align_benchmarks=
    "same-date"``), :math:`R_{m,t-1}` is the US return of the previous Tokyo session's date.  Event-window
    abnormal returns use every coefficient with the market returns around each event day,
    :math:`AR_{it} = R_{it} - \hat\alpha_i - \sum_k \hat\beta_{ik} R_{m,t+k}`, so MacKinlay's prediction-error
    variance applies as for any OLS model; :attr:`~eventstudy.results.EventStudyResults.params` reports the
    summed beta as ``beta_dimson``.  An estimation or event day needs all :math:`2K+1` market returns.

    References
    ----------
    Dimson, E. (1979). Risk measurement when shares are subject to infrequent trading. *Journal of
    Financial Economics*, 7(2), 197-226.
    """

    name: ClassVar[str] = "dimson"
    label: ClassVar[str] = "Dimson market model"
    lags: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.lags, bool) or not isinstance(self.lags, int) or self.lags < 1:
            raise ValueError(f"The 'lags' parameter must be a whole number of sessions, 1 or more. Got {self.lags!r}.")

    @property
    def shifts(self) -> tuple[int, ...]:
        """:math:`k` of each column: the market return of session :math:`t+k`."""
        return tuple(range(-self.lags, self.lags + 1))

    def regressors(self, market):
        return (market[0],) * len(self.shifts)

    def regressor_names(self, market):
        return tuple(_shifted_name(market[0], k) for k in self.shifts)

    def param_names(self, market):
        return ("alpha",) + tuple(f"beta_{name}" for name in self.regressor_names(market))

    def design_columns(self, columns, names, market, length):
        series = columns[0]
        out = np.full((len(series), len(self.shifts)), np.nan)
        for j, k in enumerate(self.shifts):
            if k < 0:
                out[-k:, j] = series[:k]
            elif k > 0:
                out[:-k, j] = series[k:]
            else:
                out[:, j] = series
        return out

    def derived(self, params: np.ndarray) -> dict[str, np.ndarray]:
        """``beta_dimson``, the summed beta."""
        return {"beta_dimson": params[:, 1:].sum(axis=1)}

    def validate_market(self, market):
        _one_benchmark(self, market)

    def describe(self, market):
        return f"{self.label} ({market[0]}, {self.lags} lead(s) and lag(s))"


def _shifted_name(name: str, k: int) -> str:
    return name if k == 0 else f"{name}_{'lag' if k < 0 else 'lead'}{abs(k)}"


@dataclass(frozen=True)
class ScholesWilliams(Dimson):
    r"""Market model with the Scholes & Williams (1977) beta, for non-synchronous trading.

    .. math::

        \hat\beta_i^{SW} = \frac{\hat\beta_i^{-} + \hat\beta_i^{0} + \hat\beta_i^{+}}{1 + 2\hat\rho_m},
        \qquad \hat\alpha_i^{SW} = \bar R_i - \hat\beta_i^{SW}\bar R_m

    where :math:`\hat\beta_i^{k}` is the slope of the simple regression of :math:`R_{it}` on
    :math:`R_{m,t+k}` (:math:`k=-1,0,1`), :math:`\hat\rho_m` the first-order autocorrelation of the market
    return (the sample correlation of :math:`R_{mt}` and :math:`R_{m,t-1}`), and the means run over the
    estimation days on which :math:`R_{m,t-1}, R_{mt}, R_{m,t+1}` all exist (Scholes & Williams drop the first
    and last day for the same reason).  Event-window abnormal returns are
    :math:`AR_{it} = R_{it} - \hat\alpha_i^{SW} - \hat\beta_i^{SW} R_{mt}`.  Their variance uses the market
    model's formula, :math:`\hat\sigma^2_i(1 + 1/T_i + (R_{mt}-\bar R_m)^2/\sum(R_{m\tau}-\bar R_m)^2)` with
    :math:`\hat\sigma^2_i` the variance of :math:`R_{it} - \hat\alpha_i^{SW} - \hat\beta_i^{SW}R_{mt}` over the
    estimation days (:math:`T_i-2` degrees of freedom): an approximation, since the paper derives no
    prediction-error variance for its estimator.  ``params`` reports ``beta_sw``.

    References
    ----------
    Scholes, M., & Williams, J. (1977). Estimating betas from nonsynchronous data. *Journal of Financial
    Economics*, 5(3), 309-327.
    """

    name: ClassVar[str] = "scholes-williams"
    label: ClassVar[str] = "Scholes-Williams market model"
    lags: int = 1

    def __post_init__(self) -> None:
        if self.lags != 1:
            raise ValueError(
                "The Scholes-Williams beta uses one lag and one lead; use model=Dimson(lags=...) for more."
            )

    def derived(self, params):
        return {"beta_sw": params[:, 2]}

    def describe(self, market):
        return f"{self.label} ({market[0]})"

    def from_sums(self, sums, intercept: bool):
        r"""The SW estimates from the window sums of the Dimson design :math:`(R_{m,t-1}, R_{mt}, R_{m,t+1})`.

        Returns params ``(alpha, 0, beta_SW, 0)`` (so the event-window design reads only :math:`R_{mt}`),
        the market model's :math:`(X'X)^{-1}` embedded in the same positions, :math:`\hat\sigma^2` and the
        identified mask.
        """
        n = sums.n.astype(float)
        t = np.maximum(n, 1.0)
        ybar, zbar = sums.sy / t, sums.sz / t[:, None]
        szz = sums.szz - t[:, None, None] * zbar[:, :, None] * zbar[:, None, :]
        szy = sums.szy - t[:, None] * zbar * ybar[:, None]
        syy = sums.syy - t * ybar**2
        var = np.diagonal(szz, axis1=1, axis2=2)
        ok = (sums.n > 3) & (var > 0).all(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            slopes = szy / var  # beta^-, beta^0, beta^+
            rho = szz[:, 0, 1] / np.sqrt(var[:, 0] * var[:, 1])
            beta = slopes.sum(axis=1) / (1.0 + 2.0 * rho)
            alpha = ybar - beta * zbar[:, 1]
            ssr = syy - 2 * beta * szy[:, 1] + beta**2 * var[:, 1]  # residuals of y - alpha - beta m_t
            sigma2 = np.clip(ssr, 0.0, None) / np.maximum(sums.n - 2, 1)
        ok &= np.isfinite(beta) & (np.abs(1.0 + 2.0 * rho) > 1e-12)
        params = np.zeros((len(n), 4))
        params[:, 0], params[:, 2] = alpha, beta
        xtx_inv = np.zeros((len(n), 4, 4))
        with np.errstate(invalid="ignore", divide="ignore"):
            xtx_inv[:, 0, 0] = 1.0 / t + zbar[:, 1] ** 2 / var[:, 1]
            xtx_inv[:, 0, 2] = xtx_inv[:, 2, 0] = -zbar[:, 1] / var[:, 1]
            xtx_inv[:, 2, 2] = 1.0 / var[:, 1]
        return params, xtx_inv, sigma2, ok, sums.n - 2


@dataclass(frozen=True)
class CAPM(MarketModel):
    r"""CAPM on excess returns: :math:`R_{it}-R_{ft} = \beta_i (R_{mt}-R_{ft}) + \varepsilon_{it}`.

    MacKinlay (1997, section 4.2): the Sharpe-Lintner CAPM restricts the intercept to zero, so by default
    none is estimated; ``CAPM(intercept=True)`` gives the unrestricted excess-return market model.  The
    risk-free rate is the ``RF`` column of the factor table (French's daily T-bill return) unless the study is
    given its own.
    """

    name: ClassVar[str] = "capm"
    label: ClassVar[str] = "CAPM"
    excess: ClassVar[bool] = True
    intercept: bool = False

    def excess_regressors(self, market):
        return (market[0],)


@dataclass(frozen=True)
class FamaFrench3(NormalReturnModel):
    r""":math:`R_{it}-R_{ft} = \alpha_i + b_i\,MKT_t + s_i\,SMB_t + h_i\,HML_t + \varepsilon_{it}`.

    Fama & French (1993) daily factors from Kenneth French's data library, in decimals; ``MKT`` is
    French's ``Mkt-RF``, so the study's ``market`` argument is not used by this model.
    """

    name: ClassVar[str] = "ff3"
    label: ClassVar[str] = "Fama-French 3-factor model"
    factor_set: ClassVar[Literal["ff3", "ff5", "carhart", "momentum"] | None] = "ff3"
    excess: ClassVar[bool] = True
    factors: ClassVar[tuple[str, ...]] = ("Mkt-RF", "SMB", "HML")

    def regressors(self, market):
        return self.factors

    def describe(self, market):
        return self.label


@dataclass(frozen=True)
class FamaFrench5(FamaFrench3):
    r"""Fama & French (2015) five factors: Mkt-RF, SMB, HML, RMW, CMA, on excess returns."""

    name: ClassVar[str] = "ff5"
    label: ClassVar[str] = "Fama-French 5-factor model"
    factor_set: ClassVar[Literal["ff3", "ff5", "carhart", "momentum"] | None] = "ff5"
    factors: ClassVar[tuple[str, ...]] = ("Mkt-RF", "SMB", "HML", "RMW", "CMA")


@dataclass(frozen=True)
class Carhart4(FamaFrench3):
    r"""Carhart (1997) four factors: the Fama-French three plus momentum (``Mom``), on excess returns."""

    name: ClassVar[str] = "carhart"
    label: ClassVar[str] = "Carhart 4-factor model"
    factor_set: ClassVar[Literal["ff3", "ff5", "carhart", "momentum"] | None] = "carhart"
    factors: ClassVar[tuple[str, ...]] = ("Mkt-RF", "SMB", "HML", "Mom")


def _one_benchmark(model: NormalReturnModel, market: tuple[str, ...]) -> None:
    if len(market) != 1:
        raise ValueError(
            f"The {model.label} takes one benchmark. Got market={list(market)!r}; "
            "use model='multi-index' to regress on several indices."
        )


MODELS: dict[str, type[NormalReturnModel]] = {
    cls.name: cls
    for cls in (
        ConstantMean,
        MarketAdjusted,
        MarketModel,
        MultiIndexModel,
        Dimson,
        ScholesWilliams,
        CAPM,
        FamaFrench3,
        FamaFrench5,
        Carhart4,
    )
}
_ALIASES = {
    "mean": "constant-mean",
    "constant_mean": "constant-mean",
    "market-model": "market",
    "market_model": "market",
    "market_adjusted": "market-adjusted",
    "multi_index": "multi-index",
    "fama-french-3": "ff3",
    "fama-french-5": "ff5",
    "carhart4": "carhart",
    "ff4": "carhart",
    "scholes_williams": "scholes-williams",
    "sw": "scholes-williams",
}


def get_model(model: str | NormalReturnModel) -> NormalReturnModel:
    """Return a model instance from its name (``"market"``, ``"ff3"``, ...) or pass an instance through."""
    if isinstance(model, NormalReturnModel):
        return model
    if not isinstance(model, str):
        raise TypeError(
            f"The 'model' parameter must be a model name or a NormalReturnModel. Got {type(model).__name__} instead."
        )
    key = _ALIASES.get(model.lower(), model.lower())
    if "garch" in key:  # the GARCH family lives in eventstudy.garch (arch is imported only when fitted)
        from .garch import GARCH_MODELS, GARCH_T_ALIASES

        if key in GARCH_T_ALIASES:
            return GARCH_MODELS[GARCH_T_ALIASES[key]](dist="t")
        if key in GARCH_MODELS:
            return GARCH_MODELS[key]()
    if key not in MODELS:
        names = (*MODELS, "garch", "gjr-garch", "egarch", "garch-t", "gjr-garch-t", "egarch-t")
        raise ValueError(f"The 'model' parameter must be one of {names}. Got {model!r} instead.")
    return MODELS[key]()


# --------------------------------------------------------------------------------------------------------
# the stacked fit
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StackedFit:
    r"""Fitted normal-return models for ``N`` firm-events, as stacked arrays.

    Rows are firm-events.  Columns of the ``(N, L)`` arrays are the relative trading days in
    :attr:`event_time`, which span the estimation and the event window; they are computed from the
    calendar-aligned :attr:`data` when first asked for, so a fit of many firm-events holds only its
    parameters until a statistic needs the daily residuals.

    Attributes
    ----------
    data : AlignedData
        The calendar-aligned dependent variable, regressors and usable-day mask.
    day0 : ndarray of int, shape (N,)
        Session row of day 0 in :attr:`data`; firm-events with equal values share calendar dates.
    firm : ndarray of int, shape (N,)
        Column of the security in :attr:`data`; equal values are the same security.
    estimation_window, event_window : (int, int)
        Relative trading days, inclusive at both ends.
    intercept : bool
        Whether the model has a constant (column 0 of :attr:`params` and :attr:`x_event`).
    estimated : bool
        False for market-adjusted returns: no coefficient is estimated.
    params : ndarray, shape (N, K)
    xtx_inv : ndarray, shape (N, K, K)
        :math:`(X_i'X_i)^{-1}` over the estimation window.
    sigma2 : ndarray, shape (N,)
        :math:`\hat\sigma^2_i = \hat\varepsilon_i'\hat\varepsilon_i / (T_i - K)`.
    n_obs : ndarray of int, shape (N,)
        :math:`T_i`, the estimation-window observations.
    """

    data: AlignedData
    day0: np.ndarray
    firm: np.ndarray
    estimation_window: tuple[int, int]
    event_window: tuple[int, int]
    intercept: bool
    estimated: bool
    params: np.ndarray
    xtx_inv: np.ndarray
    sigma2: np.ndarray
    n_obs: np.ndarray
    dof: np.ndarray | None = None  # residual degrees of freedom when they are not T_i - K (Scholes-Williams)
    #: independent groups of firm-events for tests across events: one announcement seen on several exchanges,
    #: or several announcements sharing a day 0, form one group (None: the firm-events sharing ``day0``)
    cluster: np.ndarray | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        # results promise immutability: the arrays behind them cannot be changed in place either
        for name in ("day0", "firm", "params", "xtx_inv", "sigma2", "n_obs"):
            getattr(self, name).flags.writeable = False
        for name in ("dof", "cluster"):
            if getattr(self, name) is not None:
                getattr(self, name).flags.writeable = False

    # --- shape -----------------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of firm-events."""
        return len(self.day0)

    @property
    def n_params(self) -> int:
        """:math:`K`, the estimated coefficients (0 for market-adjusted returns)."""
        return self.params.shape[1]

    @property
    def df(self) -> np.ndarray:
        """Residual degrees of freedom :math:`T_i - K` (:math:`T_i - 1` when nothing is estimated)."""
        if self.dof is not None:
            return self.dof
        return self.n_obs - max(self.n_params, 1)

    @property
    def event_time(self) -> np.ndarray:
        """Relative trading day of each column of the ``(N, L)`` arrays."""
        return relative_days(self.estimation_window, self.event_window)

    @property
    def event_days(self) -> np.ndarray:
        """Relative trading days of the event window."""
        return np.arange(self.event_window[0], self.event_window[1] + 1)

    def event_positions(self, window: tuple[int, int]) -> np.ndarray:
        """Positions of the relative days ``window`` inside the event window (columns of :attr:`ar_event`).

        Raises :class:`~eventstudy.exceptions.EventWindowError` when ``window`` reaches outside the event window.
        """
        start, end = check_inside("window", window, self.event_window)
        lo = self.event_window[0]
        return np.arange(start - lo, end - lo + 1)

    # --- stacked arrays, computed on first use ----------------------------------------------------------
    def _cached(self, key, compute):
        if key not in self._cache:
            value = compute()
            value.flags.writeable = False
            self._cache[key] = value
        return self._cache[key]

    def design(self, offsets: np.ndarray) -> np.ndarray:
        """The model's regressors on relative days ``offsets`` around each day 0, shape (N, L, K).

        The constant comes first when the model has one; market-adjusted returns have no columns.  NaN where
        a regressor is missing (the constant too, so a row is either complete or NaN).
        """
        z = gather(self.data.z, self.day0, np.asarray(offsets))
        if self.intercept:
            ones = np.where(np.isnan(z[:, :, :1]), np.nan, 1.0) if z.shape[2] else np.ones(z.shape[:2] + (1,))
            z = np.concatenate([ones, z], axis=2)
        return z if self.estimated else z[:, :, :0]

    def _abnormal(self, offsets: np.ndarray) -> np.ndarray:
        ar = gather(self.data.y, self.day0, offsets, self.firm).astype(float)  # a fresh array
        if not self.estimated:
            return ar
        slopes = self.params[:, 1:] if self.intercept else self.params
        if self.intercept:
            ar -= self.params[:, :1]
        for k in range(slopes.shape[1]):
            ar -= slopes[:, k : k + 1] * gather(self.data.z[:, k], self.day0, offsets)
        return ar

    @property
    def x_event(self) -> np.ndarray:
        """Regressors (constant included) on the event-window days, shape (N, W, K)."""
        return self._cached("x_event", lambda: self.design(self.event_days))

    @property
    def ar_event(self) -> np.ndarray:
        """Abnormal returns on the event-window days, shape (N, W); NaN where data are missing."""
        return self._cached("ar_event", lambda: self._abnormal(self.event_days))

    @property
    def ar(self) -> np.ndarray:
        r""":math:`R_{it} - \hat R_{it}` over the whole grid, shape (N, L).

        Inside the estimation window these are the residuals, elsewhere the abnormal returns (prediction
        errors); NaN where the return or a regressor is missing or the day lies outside the data.
        """
        return self._cached("ar", lambda: self._abnormal(self.event_time))

    @property
    def estimation_mask(self) -> np.ndarray:
        """Days used to estimate each firm-event's model, shape (N, L)."""

        def compute():
            grid = self.event_time
            usable = gather(self.data.usable, self.day0, grid, self.firm, fill=False)
            lo, hi = self.estimation_window
            return usable & ((grid >= lo) & (grid <= hi))[None, :]

        return self._cached("estimation_mask", compute)

    def residuals(self) -> np.ndarray:
        """Estimation-window residuals, NaN on days not used in the fit, shape (N, L)."""
        return np.where(self.estimation_mask, self.ar, np.nan)

    # --- MacKinlay (1997) variances ---------------------------------------------------------------------
    def ar_variance(self) -> np.ndarray:
        r"""Variance of each event-window abnormal return, shape (N, W).

        Notes
        -----
        MacKinlay (1997, eq. 9), conditional on the event-window regressors :math:`x_t`:

        .. math::

            \operatorname{Var}(AR_{it}) = \sigma^2_i\,\bigl(1 + x_t'(X_i'X_i)^{-1}x_t\bigr)

        where :math:`X_i` holds the estimation-window regressors (constant included) and
        :math:`\sigma^2_i` is estimated by :attr:`sigma2`.  The second term is the prediction error from
        estimating the parameters; it is zero for market-adjusted returns.
        """
        x = self.x_event
        quad = np.einsum("nwk,nkj,nwj->nw", x, self.xtx_inv, x)
        return self.sigma2[:, None] * (1.0 + quad)

    def car(self, window: tuple[int, int]) -> np.ndarray:
        r"""Cumulative abnormal return :math:`CAR_i(\tau_1,\tau_2) = \sum_{t=\tau_1}^{\tau_2} AR_{it}`.

        NaN when any day of the window lacks an abnormal return, so a CAR always covers the whole window.
        """
        return self.ar_event[:, self.event_positions(window)].sum(axis=1)

    def car_variance(self, window: tuple[int, int]) -> np.ndarray:
        r"""Variance of :math:`CAR_i(\tau_1,\tau_2)` with the full covariance of the window's abnormal returns.

        Notes
        -----
        MacKinlay (1997, eqs. 7, 8, 13): the abnormal returns of a window of :math:`L` days have covariance
        :math:`V_i = \sigma^2_i\,(I + X_i^*(X_i'X_i)^{-1}X_i^{*\prime})`, where :math:`X_i^*` holds the
        window's regressors, so

        .. math::

            \operatorname{Var}(CAR_i) = \iota' V_i \iota
              = \sigma^2_i\,\bigl(L + s_i'(X_i'X_i)^{-1}s_i\bigr),
              \qquad s_i = X_i^{*\prime}\iota = \sum_{t=\tau_1}^{\tau_2} x_t .

        The off-diagonal terms of :math:`V_i` (the same estimated parameters enter every day) are kept;
        summing the daily variances would drop them.
        """
        positions = self.event_positions(window)
        if "x_event" in self._cache or self.n <= _ROWS_AT_ONCE:
            s = self.x_event[:, positions, :].sum(axis=1)
        else:  # the regressors of the window only, a chunk of firm-events at a time: no (N, W, K) array kept
            days = self.event_days[positions]
            s = np.concatenate(
                [
                    self.take(np.arange(a, min(a + _ROWS_AT_ONCE, self.n))).design(days).sum(axis=1)
                    for a in range(0, self.n, _ROWS_AT_ONCE)
                ]
            )
        quad = np.einsum("nk,nkj,nj->n", s, self.xtx_inv, s)
        return self.sigma2 * (len(positions) + quad)

    def take(self, rows) -> StackedFit:
        """The firm-events ``rows`` (integer positions or a boolean mask) as a new record."""
        rows = np.asarray(rows)
        picked = {name: getattr(self, name)[rows] for name in ("day0", "firm", "params", "xtx_inv", "sigma2", "n_obs")}
        for name in ("dof", "cluster"):
            if getattr(self, name) is not None:
                picked[name] = getattr(self, name)[rows]
        # arrays already computed are one row per firm-event: keep their rows rather than compute them again
        cache = {key: value[rows] for key, value in self._cache.items() if key in _ROW_ARRAYS}
        for value in cache.values():
            value.flags.writeable = False
        return replace(self, _cache=cache, **picked)


def estimate(
    data: AlignedData,
    day0: np.ndarray,
    firm: np.ndarray,
    estimation_window: tuple[int, int],
    event_window: tuple[int, int],
    *,
    intercept: bool = True,
    estimated: bool = True,
    model: NormalReturnModel | None = None,
) -> StackedFit:
    r"""Fit the normal-return model of every firm-event at once.

    Parameters
    ----------
    data : AlignedData
        Calendar-aligned dependent variable, regressors (constant excluded) and usable days.
    day0, firm : ndarray of int, shape (N,)
        Session row of day 0 and security column of each firm-event.
    estimation_window, event_window : (int, int)
    intercept : bool
        Whether the model has a constant.
    estimated : bool
        False for market-adjusted returns: nothing but :math:`\sigma^2` is estimated.
    model : NormalReturnModel, optional
        A model that is not least squares on its design (Scholes-Williams) estimates from the same window
        sums through its ``from_sums``.

    Notes
    -----
    Least squares from the window sums of :func:`~eventstudy.panel.window_sums`.  With an intercept the
    slopes solve the demeaned normal equations

    .. math::

        \hat b_i = S_i^{-1}\bigl(\textstyle\sum z y - T_i\bar z_i\bar y_i\bigr), \qquad
        S_i = \textstyle\sum z z' - T_i \bar z_i \bar z_i', \qquad
        \hat\alpha_i = \bar y_i - \bar z_i'\hat b_i ,

    algebraically the OLS estimate :math:`(X_i'X_i)^{-1}X_i'y_i`, and :math:`(X_i'X_i)^{-1}` is the
    partitioned inverse

    .. math::

        (X_i'X_i)^{-1} = \begin{pmatrix} 1/T_i + \bar z_i' S_i^{-1}\bar z_i & -\bar z_i' S_i^{-1} \\
                          -S_i^{-1}\bar z_i & S_i^{-1} \end{pmatrix}.

    The residual variance is :math:`\hat\sigma^2_i = (\sum \tilde y^2 - \hat b_i'\sum\tilde z\tilde y)/(T_i-K)`
    (MacKinlay 1997, eq. 12), with tildes for demeaned values.  Without estimated coefficients
    :math:`\hat\sigma^2_i` is the sample variance of :math:`y` (:math:`T_i-1` degrees of freedom).
    A firm-event that cannot be identified (fewer days than coefficients, a regressor without variation)
    gets NaN parameters; the caller records why.
    """
    day0 = np.asarray(day0, dtype=np.int64)
    firm = np.asarray(firm, dtype=np.int64)
    s = window_sums(data, day0, firm, estimation_window)
    custom = model.from_sums(s, intercept) if model is not None else None
    if custom is not None:  # Scholes-Williams: its own estimator from the same sums
        params, xtx_inv, sigma2, ok, dof = custom
        intercept = estimated = True
        dof = np.asarray(dof, dtype=np.int64)
    else:
        params, xtx_inv, sigma2, ok = _least_squares(s, intercept=intercept, estimated=estimated)
        dof = None
    bad = ~ok
    params[bad], xtx_inv[bad], sigma2[bad] = np.nan, np.nan, np.nan
    return StackedFit(
        data=data,
        day0=day0,
        firm=firm,
        estimation_window=cast(tuple[int, int], tuple(estimation_window)),
        event_window=cast(tuple[int, int], tuple(event_window)),
        intercept=bool(intercept) and estimated,
        estimated=estimated,
        params=params,
        xtx_inv=xtx_inv,
        sigma2=sigma2,
        n_obs=s.n,
        dof=dof,
    )


def _least_squares(s, *, intercept: bool, estimated: bool):
    """OLS parameters, :math:`(X'X)^{-1}`, :math:`\\hat\\sigma^2` and the identified mask from window sums
    (the formulas are in :func:`estimate`)."""
    n, p = s.sz.shape
    t = s.n.astype(float)
    t_safe = np.maximum(t, 1.0)
    if not estimated:
        k = 0
        ybar = s.sy / t_safe
        ssr = s.syy - t * ybar**2
        params, xtx_inv = np.zeros((n, 0)), np.zeros((n, 0, 0))
        ok = s.n > 1
        dof = s.n - 1
    else:
        k = p + intercept
        if intercept:
            ybar = s.sy / t_safe
            zbar = s.sz / t_safe[:, None]
            szz = s.szz - t[:, None, None] * zbar[:, :, None] * zbar[:, None, :]
            szy = s.szy - t[:, None] * zbar * ybar[:, None]
            syy = s.syy - t * ybar**2
        else:
            szz, szy, syy = s.szz, s.szy, s.syy
        ok = s.n > k
        if p:
            scale = np.sqrt(np.clip(np.diagonal(szz, axis1=1, axis2=2), 0.0, None))
            ok &= (scale > 0).all(axis=1)
            unit = np.where(scale > 0, scale, 1.0)
            corr = szz / unit[:, :, None] / unit[:, None, :]
            ok &= np.linalg.eigvalsh(np.where(ok[:, None, None], corr, np.eye(p)))[:, 0] > 1e-10
            s_inv = np.linalg.inv(np.where(ok[:, None, None], szz, np.eye(p)))
            b = np.einsum("nij,nj->ni", s_inv, szy)
        else:
            s_inv, b = np.zeros((n, 0, 0)), np.zeros((n, 0))
        ssr = syy - np.einsum("ni,ni->n", b, szy)
        if intercept:
            alpha = ybar - np.einsum("ni,ni->n", zbar, b)
            params = np.concatenate([alpha[:, None], b], axis=1)
            sz = np.einsum("nij,nj->ni", s_inv, zbar)
            xtx_inv = np.empty((n, k, k))
            xtx_inv[:, 0, 0] = 1.0 / t_safe + np.einsum("ni,ni->n", zbar, sz)
            xtx_inv[:, 0, 1:] = -sz
            xtx_inv[:, 1:, 0] = -sz
            xtx_inv[:, 1:, 1:] = s_inv
        else:
            params, xtx_inv = b, s_inv
        dof = s.n - k
    # a perfect fit can leave a rounding-error residual sum of squares just below zero
    sigma2 = np.clip(ssr, 0.0, None) / np.maximum(dof, 1)
    return params, xtx_inv, sigma2, ok
