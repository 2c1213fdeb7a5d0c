r"""Who was hit harder: cross-sectional regressions of CARs on firm characteristics.

:func:`car_regression` regresses each firm-event's CAR on exposures (revenue share from China, export
intensity, ...) with standard errors that respect the correlation of firms hit on the same day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from eventstudy.foundation.summary import Summary, Table, window_label
from eventstudy.foundation.tails import t_ppf
from eventstudy.foundation.validation import check_choice, check_window
from eventstudy.inference.parametric import _self_correlations, p_t

__all__ = ["car_regression", "CarRegression", "COVARIANCES"]

#: the covariance estimators of :func:`car_regression`
COVARIANCES = ("date-cluster", "hc1", "kp")


@dataclass(frozen=True)
class CarRegression:
    """A fitted :func:`car_regression`: coefficients with their standard errors, and displays.

    Attributes
    ----------
    params : DataFrame
        Index the regressors (``const`` first); columns ``coef, se, t, pvalue, ci_low, ci_high``.
    cov : DataFrame
        The coefficients' covariance matrix.
    cov_type : str
    df : float
        Degrees of freedom of the t reference distribution.
    n, n_dates : int
        Firm-events used and their distinct event dates.
    window : (int, int)
    data : DataFrame
        The rows used: ``event_id, ticker, car`` and the exposures.
    dropped : list of (event_id, ticker)
        Firm-events left out for lack of exposures.
    """

    params: pd.DataFrame
    cov: pd.DataFrame
    cov_type: str
    df: float
    n: int
    n_dates: int
    window: tuple[int, int]
    data: pd.DataFrame = field(repr=False)
    dropped: list = field(default_factory=list, repr=False)
    r2: float = float("nan")

    def summary(self) -> Summary:
        facts = [
            ("Dependent variable", f"CAR {window_label(self.window)}"),
            ("Firm-events", f"{self.n} on {self.n_dates} event dates ({len(self.dropped)} without exposures)"),
            ("Covariance", _COV_TEXT[self.cov_type]),
            ("Reference distribution", f"t({self.df:g})"),
            ("R-squared", f"{self.r2:.4f}"),
        ]
        table = Table(
            "Coefficients",
            self.params.reset_index(names="regressor"),
            {"coef": "{:.5f}", "se": "{:.5f}", "t": "{:.3f}", "pvalue": "p", "ci_low": "{:.5f}", "ci_high": "{:.5f}"},
        )
        return Summary(title="CAR regression", facts=facts, tables=[table])

    def __str__(self) -> str:
        return self.summary().as_text()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return self.summary().as_html()


_COV_TEXT = {
    "date-cluster": "clustered by event date (CR1, statsmodels), t(G - 1)",
    "hc1": "heteroskedasticity-robust HC1 (statsmodels), t(n - k)",
    "kp": "sandwich with the estimation-window residual correlation of same-day firm-events, t(n - k)",
}


def _exposures_for(res, exposures: pd.DataFrame) -> pd.DataFrame:
    """One row of exposures per firm-event of ``res`` (NaN where missing)."""
    if not isinstance(exposures, pd.DataFrame):
        raise TypeError(
            f"The 'exposures' parameter must be a DataFrame indexed by ticker or by (event_id, ticker). "
            f"Got {type(exposures).__name__} instead."
        )
    labels = res.firm_events[["event_id", "ticker"]].reset_index(drop=True)
    names = list(exposures.index.names)
    if names == ["ticker"] or (exposures.index.nlevels == 1 and names != ["event_id"]):
        table = exposures.reindex(labels["ticker"].to_numpy())
    elif exposures.index.nlevels == 2 and set(names) == {"event_id", "ticker"}:
        keys = pd.MultiIndex.from_frame(labels[names])
        table = exposures.reindex(keys)
    else:
        raise ValueError(
            "The 'exposures' parameter must be indexed by 'ticker' or by ('event_id', 'ticker'). "
            f"Got index names {names}; set them with exposures.index.names = [...]."
        )
    numeric = table.select_dtypes(include="number")
    if numeric.shape[1] == 0 or numeric.shape[1] != table.shape[1]:
        bad = [c for c in table.columns if c not in numeric.columns]
        raise TypeError(f"The 'exposures' columns must be numeric; {bad or 'none'} are not (encode them first).")
    return numeric.reset_index(drop=True)


def _residual_correlation_cov(res, x: np.ndarray, e: np.ndarray, keep: np.ndarray) -> np.ndarray:
    r"""(X'X)^{-1} X' D R D X (X'X)^{-1} with D = diag|e| and R the estimation-window residual correlations."""
    fit = res.fit.take(keep)
    resid = fit.residuals()
    day0 = np.asarray(fit.day0)
    n = len(e)
    r = np.eye(n)
    for date in np.unique(day0):
        rows = np.flatnonzero(day0 == date)
        if len(rows) > 1:
            rho = _self_correlations(resid[rows][None])[0]
            rho = np.where(np.isfinite(rho), rho, 0.0)
            np.fill_diagonal(rho, 1.0)
            r[np.ix_(rows, rows)] = rho
    # pairwise correlations on common days need not form a PSD matrix: clip negative eigenvalues
    values, vectors = np.linalg.eigh(r)
    r = (vectors * np.clip(values, 0.0, None)) @ vectors.T
    k = x.shape[1]
    d = np.abs(e) * np.sqrt(n / (n - k))
    meat = x.T @ (d[:, None] * r * d[None, :]) @ x
    bread = np.linalg.inv(x.T @ x)
    return bread @ meat @ bread


def car_regression(
    res,
    exposures: pd.DataFrame,
    window: tuple[int, int] = (0, 0),
    *,
    cov: str = "date-cluster",
) -> CarRegression:
    r"""Regress each firm-event's CAR on firm characteristics, with correlation-robust standard errors.

    Parameters
    ----------
    res : EventStudyResults
    exposures : DataFrame
        Numeric columns (the characteristics), indexed by ``ticker`` (the same exposure for every event)
        or by ``(event_id, ticker)``.  A constant is added.  Firm-events without a row are left out and
        listed in :attr:`CarRegression.dropped`.
    window : (int, int)
        The CAR window, inside the event window.
    cov : {"date-cluster", "hc1", "kp"}
        The covariance of the coefficients (see Notes).

    Returns
    -------
    CarRegression

    Notes
    -----
    Ordinary least squares of

    .. math::

        CAR_i = x_i'\beta + u_i,\qquad \hat\beta = (X'X)^{-1}X'y,

    with :math:`x_i` a constant and the exposures of firm-event :math:`i`, :math:`n` firm-events and
    :math:`k` coefficients.  The covariance :math:`V` of :math:`\hat\beta` and the t reference are:

    * ``"date-cluster"`` (default): clustered by event date (day 0; statsmodels ``cov_type="cluster"``,
      the CR1 small-sample factor :math:`\frac{G}{G-1}\frac{n-1}{n-k}`), :math:`t(G-1)` with :math:`G`
      dates.  Same-day firm-events share shocks, so their :math:`u_i` are correlated; clustering
      allows any correlation within a date and needs many dates.
    * ``"hc1"``: White's heteroskedasticity-robust :math:`V` scaled by :math:`n/(n-k)` (MacKinnon &
      White 1985), :math:`t(n-k)`; it assumes independent firm-events, so it suits spread-out dates only.
    * ``"kp"``: the correlation of same-day firm-events is taken from their estimation-window residuals,
      as Kolari & Pynnönen (2010) do for the mean:

      .. math::

          V = (X'X)^{-1}X'\,D R D\,X(X'X)^{-1},\qquad D=\sqrt{\tfrac{n}{n-k}}\operatorname{diag}(|\hat u_i|),

      with :math:`R_{ij}` the residual correlation of firm-events :math:`i,j` on their common estimation
      days when they share day 0 (0 otherwise, 1 on the diagonal), its negative eigenvalues clipped so
      that :math:`V` is positive semi-definite; :math:`t(n-k)`.  It works with one date, where clustering
      cannot, and keeps event-induced variance through :math:`|\hat u_i|`.

    References
    ----------
    MacKinnon, J. G., & White, H. (1985). Some heteroskedasticity-consistent covariance matrix estimators
    with improved finite sample properties. *Journal of Econometrics*, 29(3), 305-325.

    Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference. *Journal of
    Human Resources*, 50(2), 317-372.

    Kolari, J. W., & Pynnönen, S. (2010). Event study testing with cross-sectional correlation of abnormal
    returns. *Review of Financial Studies*, 23(11), 3996-4025.
    """
    import statsmodels.api as sm  # here: statsmodels.api (~0.4 s) loads for this function, not for es.CarRegression

    check_choice("cov", cov, COVARIANCES)
    window = check_window("window", window)
    x_frame = _exposures_for(res, exposures)
    car = res.fit.car(window)
    labels = res.firm_events[["event_id", "ticker"]].reset_index(drop=True)
    keep = np.isfinite(car) & np.isfinite(x_frame.to_numpy(dtype=float)).all(axis=1)
    dropped = list(labels.loc[~keep].itertuples(index=False, name=None))
    names = ["const", *map(str, x_frame.columns)]
    x = np.column_stack([np.ones(int(keep.sum())), x_frame.to_numpy(dtype=float)[keep]])
    y = car[keep]
    n, k = x.shape
    day0 = np.asarray(res.fit.day0)[keep]
    dates = np.unique(day0, return_inverse=True)[1]
    n_dates = int(dates.max() + 1) if n else 0
    if n <= k:
        raise ValueError(f"car_regression needs more firm-events with exposures ({n}) than coefficients ({k}).")
    if cov == "date-cluster" and n_dates < 2:
        raise ValueError("cov='date-cluster' needs at least 2 event dates; with one date use cov='kp'.")
    model = sm.OLS(y, x)
    if cov == "date-cluster":
        fitted = model.fit(cov_type="cluster", cov_kwds={"groups": dates}, use_t=True)
        df = float(n_dates - 1)
        v = np.asarray(fitted.cov_params())
    elif cov == "hc1":
        fitted = model.fit(cov_type="HC1", use_t=True)
        df = float(n - k)
        v = np.asarray(fitted.cov_params())
    else:
        fitted = model.fit()
        df = float(n - k)
        v = _residual_correlation_cov(res, x, fitted.resid, np.flatnonzero(keep))
    coef = np.asarray(fitted.params)
    se = np.sqrt(np.diag(v))
    t = coef / se
    crit = t_ppf(0.975, df)
    params = pd.DataFrame(
        {
            "coef": coef,
            "se": se,
            "t": t,
            "pvalue": p_t(t, df),
            "ci_low": coef - crit * se,
            "ci_high": coef + crit * se,
        },
        index=pd.Index(names, name="regressor"),
    )
    data = labels.loc[keep].reset_index(drop=True)
    data["car"] = y
    data = pd.concat([data, x_frame.loc[keep].reset_index(drop=True)], axis=1)
    return CarRegression(
        params=params,
        cov=pd.DataFrame(v, index=names, columns=names),
        cov_type=cov,
        df=df,
        n=n,
        n_dates=n_dates,
        window=window,
        data=data,
        dropped=dropped,
        r2=float(fitted.rsquared),
    )
