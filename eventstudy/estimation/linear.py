"""The linear normal-return models: which regressors, which dependent variable.

A model is configuration only: it names the regressors it needs and how the dependent variable is formed
(the interface is :class:`~eventstudy.estimation.base.NormalReturnModel`).
:func:`~eventstudy.estimation.fit.estimate` fits every firm-event at once from window sums.  The registry of every
model, these and the GARCH family, is :mod:`eventstudy.estimation.models`.

The models follow MacKinlay (1997), section 4: the constant-mean-return model, the market model and its
multi-index extension, and the economic models (CAPM, Fama-French, Carhart) on excess returns.  The
market-adjusted model fixes :math:`\\alpha=0, \\beta=1` and estimates nothing but the variance.  The Dimson
and Scholes-Williams market models correct the beta for non-synchronous trading.

References
----------
MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of Economic Literature*, 35(1),
13-39.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from eventstudy.estimation.base import DataNeeds, FactorSet, NormalReturnModel
from eventstudy.estimation.fit import StackedFit

__all__ = [
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
]


@dataclass(frozen=True)
class ConstantMean(NormalReturnModel):
    r""":math:`R_{it} = \mu_i + \varepsilon_{it}` (MacKinlay 1997, eq. 1)."""

    name: ClassVar[str] = "constant-mean"
    aliases: ClassVar[tuple[str, ...]] = ("mean", "constant_mean")
    label: ClassVar[str] = "constant-mean model"

    def regressors(self, market):
        return ()

    def needs(self) -> DataNeeds:
        return DataNeeds(min_benchmarks=0, max_benchmarks=None)

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
    aliases: ClassVar[tuple[str, ...]] = ("market_adjusted",)
    label: ClassVar[str] = "market-adjusted returns"
    estimated: ClassVar[bool] = False
    intercept: bool = False

    def regressors(self, market):
        return ()

    def offset(self, market):
        return market[0]


@dataclass(frozen=True)
class MarketModel(NormalReturnModel):
    r""":math:`R_{it} = \alpha_i + \beta_i R_{mt} + \varepsilon_{it}` (MacKinlay 1997, eq. 2)."""

    name: ClassVar[str] = "market"
    aliases: ClassVar[tuple[str, ...]] = ("market-model", "market_model")
    label: ClassVar[str] = "market model"

    def regressors(self, market):
        return (market[0],)


@dataclass(frozen=True)
class MultiIndexModel(NormalReturnModel):
    r""":math:`R_{it} = \alpha_i + \sum_k \beta_{ik} R_{kt} + \varepsilon_{it}` for several indices.

    The market plus an industry index (for example SPY and SOXX) is MacKinlay's (1997, section 4.3)
    multifactor model; the industry beta absorbs the sector's move, so the abnormal return is the firm's own.
    """

    name: ClassVar[str] = "multi-index"
    aliases: ClassVar[tuple[str, ...]] = ("multi_index",)
    label: ClassVar[str] = "multi-index model"

    def needs(self) -> DataNeeds:
        return DataNeeds(min_benchmarks=2, max_benchmarks=None)

    def regressors(self, market):
        return tuple(market)


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
    variance applies as for any OLS model; :attr:`~eventstudy.results.results.EventStudyResults.params` reports the
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

    def needs(self) -> DataNeeds:
        """The market return of every session from :math:`t-K` to :math:`t+K`: ``lags=leads=K``."""
        return DataNeeds(lags=self.lags, leads=self.lags)

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

    def derived(self, fit: StackedFit) -> dict[str, np.ndarray]:
        """``beta_dimson``, the summed beta."""
        return {"beta_dimson": fit.params[:, 1:].sum(axis=1)}

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
    aliases: ClassVar[tuple[str, ...]] = ("scholes_williams", "sw")
    label: ClassVar[str] = "Scholes-Williams market model"
    lags: int = 1

    def __post_init__(self) -> None:
        if self.lags != 1:
            raise ValueError(
                "The Scholes-Williams beta uses one lag and one lead; use model=Dimson(lags=...) for more."
            )

    def derived(self, fit):
        """``beta_sw``, the Scholes-Williams beta."""
        return {"beta_sw": fit.params[:, 2]}

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
    aliases: ClassVar[tuple[str, ...]] = ("fama-french-3",)
    label: ClassVar[str] = "Fama-French 3-factor model"
    factor_set: ClassVar[FactorSet | None] = "ff3"
    excess: ClassVar[bool] = True
    factors: ClassVar[tuple[str, ...]] = ("Mkt-RF", "SMB", "HML")

    def needs(self) -> DataNeeds:
        return DataNeeds(min_benchmarks=0, max_benchmarks=None, factors=self.factor_set, risk_free=self.excess)

    def regressors(self, market):
        return self.factors

    def describe(self, market):
        return self.label


@dataclass(frozen=True)
class FamaFrench5(FamaFrench3):
    r"""Fama & French (2015) five factors: Mkt-RF, SMB, HML, RMW, CMA, on excess returns."""

    name: ClassVar[str] = "ff5"
    aliases: ClassVar[tuple[str, ...]] = ("fama-french-5",)
    label: ClassVar[str] = "Fama-French 5-factor model"
    factor_set: ClassVar[FactorSet | None] = "ff5"
    factors: ClassVar[tuple[str, ...]] = ("Mkt-RF", "SMB", "HML", "RMW", "CMA")


@dataclass(frozen=True)
class Carhart4(FamaFrench3):
    r"""Carhart (1997) four factors: the Fama-French three plus momentum (``Mom``), on excess returns."""

    name: ClassVar[str] = "carhart"
    aliases: ClassVar[tuple[str, ...]] = ("carhart4", "ff4")
    label: ClassVar[str] = "Carhart 4-factor model"
    factor_set: ClassVar[FactorSet | None] = "carhart"
    factors: ClassVar[tuple[str, ...]] = ("Mkt-RF", "SMB", "HML", "Mom")
