"""The stacked fit: the normal-return model of every firm-event estimated at once.

:func:`estimate` fits every firm-event from window sums over the calendar-aligned arrays of
:mod:`eventstudy.estimation.panel`, and :class:`StackedFit` is the small record of arrays that the estimation, inference
and results layers share.  What is regressed on what is the model's business (:mod:`eventstudy.estimation.models`);
the engine sees only the stacked dependent variable and regressors.

References
----------
MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of Economic Literature*, 35(1),
13-39.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, cast

import numpy as np

from eventstudy.estimation.panel import AlignedData, WindowSums, gather, relative_days, window_sums
from eventstudy.foundation.threads import keyed_lock, once, row_blocks, thread_map
from eventstudy.foundation.validation import check_inside

__all__ = ["StackedFit", "estimate", "SumsEstimator"]

#: firm-events whose (rows, W, K) event-window regressors are built at once when a CAR variance needs them
_ROWS_AT_ONCE = 100_000
#: cached arrays of StackedFit with one row per firm-event, which take() keeps
_ROW_ARRAYS = frozenset({"x_event", "ar_event", "ar", "estimation_mask"})
#: key of the cache's per-key locks (see StackedFit.lock)
_LOCKS = "_locks"


class SumsEstimator(Protocol):
    """A model with an estimator of its own from the window sums (Scholes-Williams), as
    :meth:`NormalReturnModel.from_sums <eventstudy.estimation.base.NormalReturnModel.from_sums>` defines it."""

    def from_sums(self, sums: WindowSums, intercept: bool) -> Any: ...


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
    #: +1 or -1 per firm-event: abnormal returns (residuals too) are multiplied by it (signed pooling, see
    #: :meth:`signed`); None leaves them as estimated
    sign: np.ndarray | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        # results promise immutability: the arrays behind them cannot be changed in place either
        for name in ("day0", "firm", "params", "xtx_inv", "sigma2", "n_obs"):
            getattr(self, name).flags.writeable = False
        for name in ("dof", "cluster", "sign"):
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
    def lock(self, key) -> threading.Lock:
        """The lock under which a value cached on this fit under ``key`` is computed (statistics of several
        windows run on threads and share the fit's cached values: one computes, the others wait)."""
        return keyed_lock(self._cache.setdefault(_LOCKS, {}), key)

    def cached(self, key, compute):
        """``compute()``, computed once per fit under ``key`` (threads asking at once wait for the first)."""
        return once(self._cache, self._cache.setdefault(_LOCKS, {}), key, compute)

    def _cached(self, key, compute):
        def frozen():
            value = compute()
            value.flags.writeable = False
            return value

        return self.cached(key, frozen)

    def design(self, offsets: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """The model's regressors on relative days ``offsets`` around each day 0, shape (N, L, K).

        The constant comes first when the model has one; market-adjusted returns have no columns.  NaN where
        a regressor is missing (the constant too, so a row is either complete or NaN).  ``rows`` (integer
        positions) gives those firm-events' alone, as ``take(rows).design(offsets)`` without the copy of the
        record.
        """
        day0 = self.day0 if rows is None else self.day0[rows]
        z = gather(self.data.z, day0, np.asarray(offsets))
        if self.intercept:
            ones = np.where(np.isnan(z[:, :, :1]), np.nan, 1.0) if z.shape[2] else np.ones(z.shape[:2] + (1,))
            z = np.concatenate([ones, z], axis=2)
        return z if self.estimated else z[:, :, :0]

    def design_sums(self, offsets: np.ndarray, rows: slice = slice(None)) -> np.ndarray:
        """``design(offsets).sum(axis=1)`` of the firm-events ``rows``, shape (N, K), without the (N, L, K) design.

        The constant's sum is L, or NaN where the first regressor misses a day (the design's constant is NaN
        there); the regressors are gathered day-major, (L, N, P), and added day after day, the order in which
        numpy sums the design over its middle axis when it has two columns or more, so the sums are the
        design's to the last bit.  (A design of one column, a regressor without a constant, numpy sums
        pairwise: that rare design is built and summed as it is.)
        """
        offsets = np.asarray(offsets)
        day0 = self.day0[rows]
        p = self.data.z.shape[1]
        if not self.estimated:
            return np.zeros((len(day0), 0))
        if p + self.intercept == 1 and p:
            return self.design(offsets, rows=np.arange(self.n)[rows]).sum(axis=1)
        positions = offsets[:, None] + day0[None, :]  # (L, N)
        t = len(self.data.z)
        within = not len(day0) or not len(offsets) or (positions.min() >= 0 and positions.max() < t)
        z = self.data.z.take(positions if within else np.clip(positions, 0, t - 1), axis=0)  # (L, N, P)
        if not within:
            z[(positions < 0) | (positions >= t)] = np.nan
        sums = np.add.reduce(z, axis=0) if len(offsets) else np.zeros((len(day0), p))  # day after day
        if not self.intercept:
            return sums
        missing = np.isnan(z[:, :, 0]).any(axis=0) if p else np.zeros(len(day0), dtype=bool)
        return np.concatenate([np.where(missing, np.nan, float(len(offsets)))[:, None], sums], axis=1)

    def _abnormal(self, offsets: np.ndarray) -> np.ndarray:
        """Abnormal returns on relative days ``offsets``, (N, L): firm-event by firm-event, so blocks of
        firm-events are gathered on threads (the reads are scattered over the panel: memory-bound)."""
        out = np.empty((self.n, len(offsets)))

        def block(rows: slice) -> None:
            # the returns' copy into the output is the intercept's subtraction, and each regressor's product is
            # taken in its own gathered array: the same operations on each cell, fewer passes and temporaries
            ar = out[rows]
            returns = gather(self.data.y, self.day0[rows], offsets, self.firm[rows])
            params = self.params[rows]
            if self.estimated and self.intercept:
                np.subtract(returns, params[:, :1], out=ar)
            else:
                ar[:] = returns
            if not self.estimated:
                return
            slopes = params[:, 1:] if self.intercept else params
            for k in range(slopes.shape[1]):
                z = gather(self.data.z[:, k], self.day0[rows], offsets)
                ar -= np.multiply(z, slopes[:, k : k + 1], out=z)

        thread_map(block, row_blocks(self.n, len(offsets)))
        if self.sign is not None:
            out *= self.sign[:, None]
        return out

    def signed(self, sign) -> StackedFit:
        r"""The same fit with each firm-event's abnormal returns and residuals multiplied by ``sign`` (+1 or -1).

        Signed pooling: with :math:`s_i = \pm 1` the expected sign of event :math:`i`'s news,
        :math:`AR^s_{it} = s_i AR_{it}` on every day of the grid (estimation residuals included, so the
        rank and sign tests rank the signed series).  Variances are unchanged (:math:`s_i^2 = 1`), so every
        test on the signed fit is the test on hand-signed abnormal returns.  Parameters are not refitted;
        arrays already computed are reused, multiplied by the sign.
        """
        sign = np.asarray(sign, dtype=float).reshape(-1)
        if len(sign) != self.n or not np.isin(sign, (1.0, -1.0)).all():
            raise ValueError(
                f"The 'sign' parameter must hold +1 or -1 for each of the {self.n} firm-events; got {len(sign)} "
                f"values{'' if np.isin(sign, (1.0, -1.0)).all() else ' with others than +1 and -1'}."
            )
        combined = sign if self.sign is None else self.sign * sign
        cache = {}
        for key in ("x_event", "estimation_mask", "ar_event", "ar"):
            value = self._cache.get(key)
            if value is not None:
                value = value * sign[:, None] if key in ("ar_event", "ar") else value
                value.flags.writeable = False
                cache[key] = value
        return replace(self, sign=combined, _cache=cache)

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
        return _sum_columns(self.ar_event[:, _run(self.event_positions(window))])

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
        if "x_event" in self._cache:
            s = self.x_event[:, _run(positions), :].sum(axis=1)
        else:  # the window's sums straight from the regressors, a chunk of firm-events at a time: no (N, W, K)
            days = self.event_days[positions]
            s = np.concatenate(
                [
                    self.design_sums(days, slice(a, min(a + _ROWS_AT_ONCE, self.n)))
                    for a in range(0, max(self.n, 1), _ROWS_AT_ONCE)
                ]
            )
        quad = np.einsum("nk,nkj,nj->n", s, self.xtx_inv, s)
        return self.sigma2 * (len(positions) + quad)

    def take(self, rows) -> StackedFit:
        """The firm-events ``rows`` (integer positions or a boolean mask) as a new record."""
        rows = np.asarray(rows)
        picked = {name: getattr(self, name)[rows] for name in ("day0", "firm", "params", "xtx_inv", "sigma2", "n_obs")}
        for name in ("dof", "cluster", "sign"):
            if getattr(self, name) is not None:
                picked[name] = getattr(self, name)[rows]
        # arrays already computed are one row per firm-event: keep their rows rather than compute them again.
        # One key at a time: statistics on other threads add to the cache meanwhile (iterating over it raised
        # "dictionary changed size during iteration")
        found = {key: self._cache.get(key) for key in _ROW_ARRAYS}
        cache = {key: value[rows] for key, value in found.items() if value is not None}
        for value in cache.values():
            value.flags.writeable = False
        return replace(self, _cache=cache, **picked)


def _run(positions: np.ndarray) -> slice:
    """The consecutive ``positions`` (:meth:`StackedFit.event_positions`) as a slice: a view of the window's
    columns instead of a copy of them, summed in the same order."""
    return slice(int(positions[0]), int(positions[-1]) + 1) if len(positions) else slice(0, 0)


def _sum_columns(values: np.ndarray) -> np.ndarray:
    """Row sums of ``values`` (N, W), adding the columns in order: the sums the CAR always had (the columns
    were a copy in column-major order, which numpy sums column by column), without that copy."""
    if not values.shape[1]:
        return np.zeros(len(values))
    out = values[:, 0].copy()
    for k in range(1, values.shape[1]):
        out += values[:, k]
    return out


def estimate(
    data: AlignedData,
    day0: np.ndarray,
    firm: np.ndarray,
    estimation_window: tuple[int, int],
    event_window: tuple[int, int],
    *,
    intercept: bool = True,
    estimated: bool = True,
    model: SumsEstimator | None = None,
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
    Least squares from the window sums of :func:`~eventstudy.estimation.panel.window_sums`.  With an intercept the
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
