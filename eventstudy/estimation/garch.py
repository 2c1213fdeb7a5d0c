r"""Market model with GARCH errors: volatility-aware normal returns.

The estimation windows of many events hold volatility bursts (for 2025 events, the January DeepSeek sell-off
and the April tariff crash); an OLS :math:`\hat\sigma^2_i` averages them into every event day's variance.
A GARCH market model lets the variance of each event day be the one forecast at the end of the estimation
window, so abnormal returns are standardized by the volatility expected on that day (Savickas 2003).

The likelihood is Kevin Sheppard's ``arch`` package (``arch_model(..., mean="LS", x=market)``); this module
only lays out the firm-events, fits them in parallel and returns a :class:`GarchFit`, a
:class:`~eventstudy.estimation.fit.StackedFit` whose variances are the GARCH forecasts, so ``res.ar``,
``res.car()`` and every test of :mod:`eventstudy.inference` work unchanged.

References
----------
Bollerslev, T. (1986). Generalized autoregressive conditional heteroskedasticity. *Journal of Econometrics*,
31(3), 307-327.

Glosten, L. R., Jagannathan, R., & Runkle, D. E. (1993). On the relation between the expected value and the
volatility of the nominal excess return on stocks. *Journal of Finance*, 48(5), 1779-1801.

Nelson, D. B. (1991). Conditional heteroskedasticity in asset returns: A new approach. *Econometrica*,
59(2), 347-370.

Savickas, R. (2003). Event-induced volatility and tests for abnormal performance. *Journal of Financial
Research*, 26(2), 165-178.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal, cast

import numpy as np
from tqdm import tqdm

from eventstudy.estimation.fit import StackedFit
from eventstudy.estimation.linear import MarketModel
from eventstudy.estimation.panel import gather

__all__ = ["Garch", "GjrGarch", "Egarch", "GarchFit", "fit_garch", "SCALE"]

#: returns are fitted in percent (arch's recommended scale: its optimizer is tuned for variances near 1)
SCALE = 100.0
#: below this many firm-events the fits run in this process (starting workers costs more than it saves)
SERIAL_BELOW = 40
#: simulated paths for EGARCH variance forecasts beyond one step (no closed form)
EGARCH_SIMULATIONS = 2000


@dataclass(frozen=True)
class Garch(MarketModel):
    r"""Market model with GARCH(1,1) errors, estimated jointly by maximum likelihood (Bollerslev 1986).

    .. math::

        R_{it} = \alpha_i + \beta_i R_{mt} + \varepsilon_{it}, \qquad
        \varepsilon_{it} = \sqrt{h_{it}}\,z_{it}, \qquad
        h_{it} = \omega_i + a_i\,\varepsilon^2_{i,t-1} + b_i\,h_{i,t-1},

    with :math:`z_{it}` standard normal (``dist="normal"``) or standardized Student t (``dist="t"``, its
    degrees of freedom estimated).  Fitted with ``arch.arch_model(100 R_i, x=100 R_m, mean="LS",
    vol="GARCH", p=1, o=0, q=1, dist=...)`` on the estimation window's usable days (days with a missing
    return are skipped, so the recursion runs over consecutive observations); :math:`\hat\alpha_i` is
    reported in decimals, the volatility parameters on arch's percent scale.

    **Event-day variance.**  :math:`\hat h_{i,\tau}` for event day :math:`\tau` is the variance forecast made
    at the last estimation day :math:`T_0` for horizon :math:`\tau - T_0` (``forecast(horizon=...)`` of the
    fitted model): the forecast uses no event-window information, so an event's own volatility cannot
    dampen its abnormal return.  :math:`AR_{i\tau}/\sqrt{\hat h_{i\tau}}` is Savickas' (2003) standardized
    abnormal return.

    **CAR variance.**  GARCH errors are serially uncorrelated, so
    :math:`\operatorname{Var}(CAR_i(\tau_1,\tau_2)\mid\mathcal F_{T_0}) = \sum_{\tau=\tau_1}^{\tau_2}\hat h_{i\tau}`.
    The estimation error of :math:`\hat\alpha_i,\hat\beta_i` (MacKinlay's second term, of order
    :math:`1/T_i`) is not added.  Patell and BMP tests on these standardized CARs are Savickas' tests; their
    :math:`(T_i-K)/(T_i-K-2)` correction uses :math:`K=2`, the mean's coefficients.

    Parameters
    ----------
    dist : {"normal", "t"}
        Distribution of :math:`z_{it}`.
    min_obs : int
        Fewest estimation-window returns a GARCH fit accepts (default 100); fewer is a recorded drop.
    workers : int
        Processes fitting firm-events at once (default 2); ``1`` fits in this process.
    progress : bool or None
        Show a tqdm progress bar; default when there are 100 firm-events or more.
    """

    name: ClassVar[str] = "garch"
    label: ClassVar[str] = "market model with GARCH(1,1) errors"
    vol: ClassVar[str] = "GARCH"
    asymmetric: ClassVar[int] = 0
    #: the footnote of the results' CAR table
    t_note: ClassVar[str] = (
        "t: CAR over the square root of the summed GARCH variance forecasts (Savickas 2003), T-2 degrees of freedom."
    )
    dist: str = "normal"
    min_obs: int = 100
    workers: int = 2
    progress: bool | None = None

    def __post_init__(self) -> None:
        if self.dist not in ("normal", "t"):
            raise ValueError(f"The 'dist' parameter must be one of ('normal', 't'). Got {self.dist!r} instead.")
        for name in ("min_obs", "workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"The {name!r} parameter must be a whole number, 1 or more. Got {value!r}.")

    @classmethod
    def variants(cls) -> Mapping[str, Mapping[str, Any]]:
        """``"<name>-t"``: Student t errors."""
        return {f"{cls.name}-t": {"dist": "t"}}

    def describe(self, market):
        dist = ", Student t" if self.dist == "t" else ""
        return f"{self.label} ({market[0]}{dist})"

    def arch_kwargs(self) -> dict:
        """The ``arch_model`` arguments of the volatility process (``vol``, ``p``, ``o``, ``q``, ``dist``)."""
        return {"vol": self.vol, "p": 1, "o": self.asymmetric, "q": 1, "dist": self.dist}

    def refit(self, fit: StackedFit) -> tuple[GarchFit, np.ndarray]:
        """Fit the GARCH market model of every firm-event of an OLS fit (:func:`fit_garch`)."""
        return fit_garch(fit, self)

    def fit_class(self) -> type[StackedFit]:
        """:class:`GarchFit`: its variances are the GARCH forecasts."""
        return GarchFit

    def derived(self, fit: StackedFit) -> dict[str, np.ndarray]:
        """The volatility parameters (``omega``, ``alpha[1]``, ``gamma[1]``, ``beta[1]``, ``nu``: arch's names,
        on its percent scale) after the mean's ``alpha`` and ``beta``; NaN for a fit that is not a GARCH fit."""
        names = _vol_names(self)
        vol = fit.volatility_params() if isinstance(fit, GarchFit) else np.full((fit.n, len(names)), np.nan)
        return {name: vol[:, j] for j, name in enumerate(names)}


@dataclass(frozen=True)
class GjrGarch(Garch):
    r"""GJR-GARCH(1,1,1) errors (Glosten, Jagannathan & Runkle 1993): bad news raises volatility more.

    .. math::

        h_{it} = \omega_i + (a_i + \gamma_i\,\mathbf 1[\varepsilon_{i,t-1}<0])\,\varepsilon^2_{i,t-1}
                 + b_i\,h_{i,t-1}

    Everything else as :class:`Garch` (``arch_model(..., vol="GARCH", o=1)``).
    """

    name: ClassVar[str] = "gjr-garch"
    label: ClassVar[str] = "market model with GJR-GARCH(1,1) errors"
    asymmetric: ClassVar[int] = 1


@dataclass(frozen=True)
class Egarch(Garch):
    r"""EGARCH(1,1,1) errors (Nelson 1991): the log variance responds to the size and sign of shocks.

    .. math::

        \ln h_{it} = \omega_i + a_i\bigl(|z_{i,t-1}| - \mathrm E|z|\bigr) + \gamma_i z_{i,t-1}
                     + b_i \ln h_{i,t-1}

    Multi-step variance forecasts have no closed form: they are the mean of
    :data:`EGARCH_SIMULATIONS` simulated paths (arch's ``method="simulation"``, seeded per firm-event so a
    fit is reproducible).
    """

    name: ClassVar[str] = "egarch"
    label: ClassVar[str] = "market model with EGARCH(1,1) errors"
    vol: ClassVar[str] = "EGARCH"
    asymmetric: ClassVar[int] = 1


# --------------------------------------------------------------------------------------------------------
# the fitted record
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GarchFit(StackedFit):
    r"""A :class:`~eventstudy.estimation.fit.StackedFit` whose abnormal-return variances are GARCH forecasts.

    ``params`` are :math:`(\hat\alpha_i, \hat\beta_i)` of the jointly estimated mean (decimals), so
    ``ar``/``ar_event`` are :math:`R_{it}-\hat\alpha_i-\hat\beta_i R_{mt}`.  ``sigma2`` is the
    sample variance of the estimation-window residuals (for tables); ``xtx_inv`` is the OLS one (unused by
    the variances here).

    Attributes
    ----------
    h_event : ndarray, shape (N, W)
        :math:`\hat h_{i\tau}`, the variance forecast for each event-window day from the last estimation day
        (decimal returns squared).
    vol_params : ndarray, shape (N, Q)
        The volatility parameters (:attr:`vol_names`), on arch's percent scale.
    horizon : ndarray of int, shape (N, W)
        Forecast horizon of each event day: its relative day minus that of the last estimation day used.
    """

    h_event: np.ndarray | None = None
    vol_params: np.ndarray | None = None
    vol_names: tuple[str, ...] = ()
    horizon: np.ndarray | None = None
    _extra: ClassVar[tuple[str, ...]] = ("h_event", "vol_params", "horizon")

    def ar_variance(self) -> np.ndarray:
        r""":math:`\hat h_{i\tau}`, the GARCH variance forecast of each event day, shape (N, W)."""
        return cast(np.ndarray, self.h_event)  # the fields default to None only to follow StackedFit's

    def car_variance(self, window: tuple[int, int]) -> np.ndarray:
        r""":math:`\sum_{\tau=\tau_1}^{\tau_2}\hat h_{i\tau}`: GARCH errors are serially uncorrelated, and the
        parameters' estimation error is not added (see :class:`Garch`)."""
        return cast(np.ndarray, self.h_event)[:, self.event_positions(window)].sum(axis=1)

    def volatility_params(self) -> np.ndarray:
        """:attr:`vol_params` (rows: firm-events; columns: :attr:`vol_names`), arch's percent scale."""
        return cast(np.ndarray, self.vol_params)

    def sar(self) -> np.ndarray:
        r"""Savickas' (2003) standardized abnormal returns :math:`AR_{i\tau}/\sqrt{\hat h_{i\tau}}`, (N, W)."""
        return self.ar_event / np.sqrt(cast(np.ndarray, self.h_event))

    def take(self, rows) -> GarchFit:
        rows = np.asarray(rows)
        taken = StackedFit.take(self, rows)
        return cast(GarchFit, replace(taken, _cache={}, **{name: getattr(self, name)[rows] for name in self._extra}))


# --------------------------------------------------------------------------------------------------------
# fitting
# --------------------------------------------------------------------------------------------------------


def _vol_names(model: Garch) -> tuple[str, ...]:
    names = ["omega", "alpha[1]"] + (["gamma[1]"] if model.asymmetric else []) + ["beta[1]"]
    return tuple(names + (["nu"] if model.dist == "t" else []))


def fit_one(y: np.ndarray, x: np.ndarray, horizon: int, kwargs: dict, seed: int = 0) -> tuple:
    """Fit one firm-event with arch; returns ``(mean params, vol params, variance forecasts, message)``.

    ``y`` and ``x`` are the estimation window's returns (decimals); forecasts run 1..``horizon`` steps
    ahead, in decimals.  ``message`` is None on success, else why the fit is not usable.
    """
    from arch import arch_model

    n_vol = 3 + (kwargs["o"] > 0) + (kwargs["dist"] == "t")
    empty = (np.full(2, np.nan), np.full(n_vol, np.nan), np.full(horizon, np.nan))
    try:
        am = arch_model(SCALE * y, x=SCALE * x[:, None], mean="LS", rescale=False, **kwargs)
        res = am.fit(disp="off", show_warning=False)
    except Exception as exc:  # arch raises plain ValueError/LinAlgError on degenerate data
        return (*empty, f"GARCH fit failed: {type(exc).__name__}: {exc}")
    if res.convergence_flag != 0:
        return (*empty, f"GARCH fit did not converge: {res.optimization_result.message}")
    params = res.params.to_numpy()
    method: Literal["simulation", "analytic"] = (
        "simulation" if kwargs["vol"] == "EGARCH" and horizon > 1 else "analytic"
    )
    extra: dict[str, Any] = {}
    if method == "simulation":
        # arch draws the simulated shocks from the error distribution's own generator (its ``random_state``
        # argument is read by the bootstrap only): a distribution seeded per firm-event makes the forecast, and
        # so the CAR's standard error, the same on every run
        res.model.distribution = type(res.model.distribution)(seed=np.random.default_rng(seed))
        extra = {"simulations": EGARCH_SIMULATIONS}
    try:
        fc = res.forecast(horizon=horizon, reindex=False, x=np.zeros((1, 1, horizon)), method=method, **extra)
    except Exception as exc:
        return (*empty, f"GARCH variance forecast failed: {type(exc).__name__}: {exc}")
    h = fc.variance.to_numpy()[-1] / SCALE**2
    if not np.all(np.isfinite(h) & (h > 0)):
        return (*empty, "GARCH variance forecast is not finite and positive (non-stationary fit)")
    mean = np.array([params[0] / SCALE, params[1]])
    return mean, params[2:], h, None


def _fit_chunk(tasks: list[tuple]) -> list[tuple]:
    return [fit_one(*task) for task in tasks]


def _progress(total: int, show: bool | None):
    return tqdm(total=total, desc="GARCH fits", unit="fit", disable=not (total >= 100 if show is None else show))


def fit_garch(fit: StackedFit, model: Garch | None = None) -> tuple[GarchFit, np.ndarray]:
    """Fit the GARCH market model of every firm-event of ``fit`` (an OLS market-model fit of the same study).

    Returns the :class:`GarchFit` and, per firm-event, None or the reason it could not be used (too few
    estimation-window returns, the optimizer's message when it did not converge, a failed forecast); the
    rows with a reason hold NaN.  Firm-events are fitted in ``model.workers`` processes with a tqdm bar.
    """
    model = model if model is not None else Garch()
    grid = fit.event_time
    mask = fit.estimation_mask
    y_all = fit.data.y
    z = fit.data.z[:, 0]
    reasons = np.full(fit.n, None, dtype=object)
    last_day = np.full(fit.n, fit.estimation_window[1])
    tasks, rows = [], []
    kwargs = model.arch_kwargs()
    for i in range(fit.n):
        days = grid[mask[i]]
        if len(days) < model.min_obs:
            reasons[i] = f"{len(days)} estimation-window returns, fewer than the {model.min_obs} a GARCH fit needs"
            continue
        y = gather(y_all, fit.day0[i : i + 1], days, fit.firm[i : i + 1])[0]
        x = gather(z[:, None], fit.day0[i : i + 1], days)[0, :, 0]
        last_day[i] = days[-1]
        tasks.append((y, x, int(fit.event_window[1] - days[-1]), kwargs, i))
        rows.append(i)
    results = _run(tasks, model)
    n_vol = len(_vol_names(model))
    params = np.full((fit.n, 2), np.nan)
    vol = np.full((fit.n, n_vol), np.nan)
    horizon = fit.event_days[None, :] - last_day[:, None]
    h_event = np.full((fit.n, len(fit.event_days)), np.nan)
    for i, (mean, v, h, message) in zip(rows, results):
        if message is not None:
            reasons[i] = message
            continue
        params[i], vol[i] = mean, v
        h_event[i] = h[horizon[i] - 1]
    ok = reasons == None  # noqa: E711 - elementwise on an object array
    resid = _residuals(fit, params)
    sigma2 = np.full(fit.n, np.nan)
    sigma2[ok] = np.nanvar(np.where(mask, resid, np.nan)[ok], axis=1, ddof=2)
    out = GarchFit(
        data=fit.data,
        day0=fit.day0,
        firm=fit.firm,
        estimation_window=fit.estimation_window,
        event_window=fit.event_window,
        intercept=True,
        estimated=True,
        params=params,
        xtx_inv=np.array(fit.xtx_inv),
        sigma2=sigma2,
        n_obs=np.array(fit.n_obs),
        dof=np.array(fit.n_obs) - 2,
        h_event=h_event,
        vol_params=vol,
        vol_names=_vol_names(model),
        horizon=horizon,
    )
    for name in ("h_event", "vol_params", "horizon"):
        getattr(out, name).flags.writeable = False
    return out, reasons


def _residuals(fit: StackedFit, params: np.ndarray) -> np.ndarray:
    grid = fit.event_time
    y = gather(fit.data.y, fit.day0, grid, fit.firm)
    x = gather(fit.data.z[:, :1], fit.day0, grid)[:, :, 0]
    return y - params[:, :1] - params[:, 1:2] * x


def _run(tasks: list[tuple], model: Garch) -> list[tuple]:
    """Fit the tasks, in ``model.workers`` processes when there are enough of them, with a progress bar."""
    out: list[tuple] = []
    with _progress(len(tasks), model.progress) as bar:
        if model.workers == 1 or len(tasks) < SERIAL_BELOW:
            for task in tasks:
                out.append(fit_one(*task))
                bar.update(1)
            return out
        size = max(1, min(25, len(tasks) // (4 * model.workers)))
        chunks = [tasks[k : k + size] for k in range(0, len(tasks), size)]
        # forkserver: workers start from a clean process, never a fork of threads holding locks
        context = multiprocessing.get_context("forkserver" if os.name == "posix" else "spawn")
        with ProcessPoolExecutor(max_workers=model.workers, mp_context=context) as pool:
            for chunk in pool.map(_fit_chunk, chunks):
                out.extend(chunk)
                bar.update(len(chunk))
    return out


@dataclass
class Timing:
    """Wall-clock time of a batch of fits (for :mod:`benchmarks.garch`)."""

    fits: int
    seconds: float
    per_fit: float = field(init=False)

    def __post_init__(self) -> None:
        self.per_fit = self.seconds / max(self.fits, 1)


def timed(fit: StackedFit, model: Garch) -> tuple[GarchFit, np.ndarray, Timing]:
    """:func:`fit_garch` and how long it took."""
    start = time.perf_counter()
    out, reasons = fit_garch(fit, model)
    return out, reasons, Timing(fit.n, time.perf_counter() - start)
