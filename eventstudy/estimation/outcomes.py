r"""Abnormal trading volume and abnormal volatility: event studies of other outcomes than the mean return.

An uncertainty shock (an export control, a rescission) often shows first in how much is traded and how much
prices move, not in a significant mean return.  Two outcomes are offered beside returns:

``outcome="volume"``
    The dependent variable is log volume, :math:`v_{it} = \ln(V_{it} + c)` with :math:`c = 1` share
    (Campbell & Wasley 1996 take logs of turnover plus a small constant so that the transform exists at zero;
    here zero volume is treated as missing, see :func:`log_volume`, and :math:`c` only keeps the formula
    defined).  The *market-volume model* is the market model on log volumes,
    :math:`v_{it} = \alpha_i + \beta_i v_{mt} + \varepsilon_{it}` with :math:`v_{mt}` the benchmark's log
    volume (``model="market"``); the *mean-adjusted* alternative is ``model="constant-mean"``.  Abnormal log
    volume, its CARs and every test of :mod:`eventstudy.inference` are then those of the returns engine.
``outcome="volatility"``
    :func:`abnormal_volatility`: the ratio of the event window's squared abnormal returns to the estimation
    window's residual variance, with an F test and a rank test; or the range-based ratio from High/Low
    prices (Parkinson 1980).

Units of volume.  Shanghai and Shenzhen files count lots of 100 shares.  A constant factor between a
security's and its benchmark's volumes adds :math:`\ln 100` to :math:`\alpha_i` and nothing else in the
market-volume or mean-adjusted model, so abnormal log volume is unchanged; the market-adjusted model
(:math:`\alpha=0,\beta=1`) has no constant to absorb it and is refused when the units differ.

References
----------
Campbell, C. J., & Wasley, C. E. (1996). Measuring abnormal daily trading volume for samples of NYSE/ASE
and NASDAQ securities using parametric and nonparametric test statistics. *Review of Quantitative Finance
and Accounting*, 6(3), 309-326.

Parkinson, M. (1980). The extreme value method for estimating the variance of the rate of return. *Journal
of Business*, 53(1), 61-65.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import cast

import numpy as np
import pandas as pd

from eventstudy.data import default_source
from eventstudy.estimation.base import NormalReturnModel
from eventstudy.estimation.firmevents import benchmark_lists, benchmark_names
from eventstudy.estimation.loading import given_info, given_returns, required_span
from eventstudy.estimation.provenance import describe_source
from eventstudy.estimation.spec import FitSpec
from eventstudy.exceptions import DataQualityWarning, DataSourceError
from eventstudy.foundation.tails import chi2_sf, f_sf, norm_sf
from eventstudy.foundation.validation import check_choice, check_window

__all__ = [
    "OUTCOMES",
    "VOLUME_CONSTANT",
    "log_volume",
    "volume_unit",
    "check_volume_units",
    "unit_shifts",
    "abnormal_volatility",
    "parkinson_variance",
    "volatility_tests",
    "range_variances",
    "check_outcome",
]

OUTCOMES = ("returns", "volume", "volatility")
#: :math:`c` in :math:`\ln(V + c)`, in the file's own unit (shares, or lots for Chinese A-shares)
VOLUME_CONSTANT = 1.0
#: Yahoo suffixes of exchanges whose volumes are counted in lots of 100 shares in the shared data
_LOT_SUFFIXES = (".SS", ".SZ")


def volume_unit(ticker: str) -> str:
    """``"lots of 100"`` for Shanghai/Shenzhen symbols (``.SS``, ``.SZ``), else ``"shares"``."""
    return "lots of 100" if str(ticker).upper().endswith(_LOT_SUFFIXES) else "shares"


def log_volume(volumes: pd.DataFrame) -> pd.DataFrame:
    r"""Log volume :math:`\ln(V_{it} + c)` (:data:`VOLUME_CONSTANT`), one column per ticker.

    Zero volume is a non-trading day or a hole in the data, not a value to regress on (it would give the
    outlier :math:`\ln c`), so it becomes missing, as missing volumes are; each ticker with such days is
    named once in a :class:`~eventstudy.exceptions.DataQualityWarning` and in
    ``attrs["eventstudy_notes"]``.  A firm-event whose day 0 then has no volume is a recorded drop.

    Raises
    ------
    TypeError
        A column is not numeric.
    ValueError
        A volume is negative (names the ticker and date).
    """
    values = volumes.select_dtypes("number")
    if values.shape[1] != volumes.shape[1]:
        bad = [c for c in volumes.columns if c not in values.columns]
        raise TypeError(f"The volumes have non-numeric columns {bad}; volumes must be numbers of shares (or lots).")
    array = values.to_numpy(dtype=float, na_value=np.nan)
    negative = array < 0
    if negative.any():
        col = int(np.flatnonzero(negative.any(axis=0))[0])
        day = volumes.index[np.flatnonzero(negative[:, col])[0]]
        raise ValueError(
            f"Negative volume for {volumes.columns[col]} on {pd.Timestamp(day):%Y-%m-%d}: volumes are counts of "
            "shares traded. Check the file, or pass returns= a frame of volumes, not of changes in volume."
        )
    zero = array == 0
    notes = list(volumes.attrs.get("eventstudy_notes", []))
    for k in np.flatnonzero(zero.any(axis=0)).tolist():
        days = volumes.index[zero[:, k]]
        notes.append(
            f"{volumes.columns[k]}: zero volume on {len(days)} day(s) "
            f"({', '.join(f'{pd.Timestamp(d):%Y-%m-%d}' for d in days[:3])}) treated as missing"
        )
    if zero.any():
        warnings.warn("; ".join(n for n in notes if "zero volume" in n) + ".", DataQualityWarning, stacklevel=3)
    out = pd.DataFrame(np.log(np.where(zero, np.nan, array) + VOLUME_CONSTANT), index=volumes.index)
    out.columns = volumes.columns
    shifts = unit_shifts(out)
    if shifts:
        warnings.warn(
            "; ".join(shifts) + ". Put the file in one unit (a Chinese A-share file counts lots of 100 shares).",
            DataQualityWarning,
            stacklevel=3,
        )
        notes.extend(shifts)
    out.attrs = {**volumes.attrs, "eventstudy_notes": notes, "return_kind": "log"}
    return out


#: sessions on each side of a day whose median log volumes are compared by :func:`unit_shifts`
SHIFT_SPAN = 20


def unit_shifts(logs: pd.DataFrame) -> list[str]:
    r"""Tickers whose volume seems to change unit inside the series (shares, lots of 100, thousands).

    For each day, the median log volume of the :data:`SHIFT_SPAN` sessions before it is compared with that
    of the :data:`SHIFT_SPAN` sessions from it on; a jump of more than :math:`\ln 100 - 0.5` (a factor of
    about 60 or more) is reported, once per ticker, at the day of the largest jump.  Real trading volume
    rarely moves its monthly median that much from one month to the next, so the usual cause is a file
    spliced from sources that count in different units.  In the shared data this names 005930.KS and
    000660.KS (a few hundred times less volume in January-February 2023) and 2330.TW (a thousand times more
    until September 2005).
    """
    found = []
    threshold = np.log(100.0) - 0.5
    for ticker in logs.columns:
        series = logs[ticker].dropna()
        if len(series) < 2 * SHIFT_SPAN:
            continue
        before = series.rolling(SHIFT_SPAN).median().shift(1)
        after = series[::-1].rolling(SHIFT_SPAN).median()[::-1]
        jump = (after - before).abs()
        if jump.max() > threshold:
            day = jump.idxmax()
            found.append(
                f"{ticker}: median volume changes by a factor of {np.exp(jump.max()):,.0f} around {day:%Y-%m-%d}, "
                "as if the file mixed units (shares, lots of 100, thousands)"
            )
    return found


def check_volume_units(pairs: dict[str, tuple[str, ...]], model) -> list[str]:
    """Warn (or, for the market-adjusted model, refuse) when a security and its benchmark count volume in
    different units; returns the notes.  ``pairs`` maps each ticker to its benchmarks."""
    notes = []
    for ticker, benchmarks in pairs.items():
        for benchmark in benchmarks:
            a, b = volume_unit(ticker), volume_unit(benchmark)
            if a == b:
                continue
            if not model.estimated or not model.intercept:
                raise ValueError(
                    f"{ticker} counts volume in {a}, its benchmark {benchmark} in {b}; the {model.label} has no "
                    "constant to absorb the factor of 100. Use model='market' (log-volume market model) or "
                    "'constant-mean', or put both volumes in shares."
                )
            notes.append(
                f"{ticker} counts volume in {a}, {benchmark} in {b}: the factor of 100 moves only the constant "
                "of the log-volume model (abnormal log volume is unchanged)"
            )
    if notes:
        warnings.warn("; ".join(notes) + ".", DataQualityWarning, stacklevel=3)
    return notes


# --------------------------------------------------------------------------------------------------------
# abnormal volatility
# --------------------------------------------------------------------------------------------------------


def parkinson_variance(high: pd.DataFrame, low: pd.DataFrame) -> pd.DataFrame:
    r"""Parkinson's (1980) daily range-based variance :math:`(\ln H_t - \ln L_t)^2 / (4\ln 2)`.

    Missing where High or Low is missing or not positive, or High < Low.
    """
    h = high.to_numpy(dtype=float, na_value=np.nan)
    lo = low.reindex(index=high.index, columns=high.columns).to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (h > 0) & (lo > 0) & (h >= lo)
        out = np.where(ok, (np.log(h) - np.log(lo)) ** 2 / (4 * np.log(2)), np.nan)
    return pd.DataFrame(out, index=high.index, columns=high.columns)


def _rolling_means(values: np.ndarray, length: int) -> np.ndarray:
    """Means of every ``length`` consecutive finite values of each row (NaN-padded to a common width)."""
    out = np.full((len(values), max(values.shape[1] - length + 1, 1)), np.nan)
    for i, row in enumerate(values):
        row = row[np.isfinite(row)]
        if len(row) >= length:
            c = np.concatenate([[0.0], np.cumsum(row)])
            means = (c[length:] - c[:-length]) / length
            out[i, : len(means)] = means
    return out


def _rank_pvalue(event: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """:math:`(1 + \\#\\{\\text{reference} \\ge \\text{event}\\})/(1 + \\#\\text{reference})` per row."""
    n = np.isfinite(reference).sum(axis=1)
    with np.errstate(invalid="ignore"):
        above = (reference >= event[:, None]).sum(axis=1)
        return np.where(np.isfinite(event) & (n > 0), (1 + above) / (1 + n), np.nan)


def abnormal_volatility(
    res, window: tuple[int, int] | None = None, *, method: str = "squared-ar", range_variance=None
) -> pd.DataFrame:
    r"""Abnormal volatility of each firm-event over ``window``: event-window variance / estimation variance.

    Parameters
    ----------
    res : EventStudyResults
        A returns study (any normal-return model; a GARCH model too, whose ``sigma2`` is the residual variance).
    window : (int, int), optional
        Days of the event window averaged (default the whole event window).
    method : {"squared-ar", "range"}
        ``"squared-ar"``: the squared abnormal returns.  ``"range"``: Parkinson's range variance, which needs
        ``range_variance`` (a frame of daily :func:`parkinson_variance` values, one column per ticker).
    range_variance : DataFrame, optional

    Returns
    -------
    DataFrame
        ``event_id, ticker, window_start, window_end, var_event, var_estimation, ratio``, then for
        ``"squared-ar"`` ``F, df1, df2, pvalue_F``, and for both ``pvalue_rank``; ``car`` and its ``t`` are
        shown beside so that "volatility tripled although the mean move was not significant" can be read
        off one row.

    Notes
    -----
    **Squared abnormal returns.**  With :math:`L` days in the window and :math:`\hat\sigma^2_i` the residual
    variance (:math:`T_i-K` degrees of freedom),

    .. math::

        VR_i = \frac{\frac1L\sum_{t\in W} AR_{it}^2}{\hat\sigma^2_i} \sim F(L,\;T_i-K)

    under the null of unchanged variance and normal, serially independent abnormal returns (the numerator is
    :math:`\sigma^2_i\chi^2_L/L`, the denominator :math:`\sigma^2_i\chi^2_{T_i-K}/(T_i-K)`; the prediction
    error of the parameters, :math:`O(1/T_i)`, is ignored).  ``pvalue_F`` is one-sided (volatility rose).

    **Range.**  :math:`VR_i = \bar P_{i,W}/\bar P_{i,E}` with :math:`P_{it}` Parkinson's daily variance,
    averaged over the event window :math:`W` and the estimation window :math:`E`.  It measures total, not
    abnormal, variance (the market's share is not removed).  No parametric distribution is claimed.

    **Rank test (both methods).**  The event window's mean daily variance is compared with the means of every
    :math:`L` consecutive estimation-window days of the same quantity (squared residuals, or :math:`P_{it}`):
    ``pvalue_rank`` :math:`= (1 + \#\{\text{estimation means} \ge \text{event mean}\}) / (1 + \#\text{means})`,
    exact under exchangeability of the days, robust to fat tails; the overlapping means share days, so it is
    a descriptive rank rather than a test with independent draws when :math:`L > 1`.
    """
    method = check_choice("method", method, ("squared-ar", "range"))
    fit = res.fit
    window = res.event_window if window is None else check_window("window", window)
    positions = fit.event_positions(window)
    length = len(positions)
    table = res.firm_events[["event_id", "ticker"]].reset_index(drop=True)
    table["window_start"], table["window_end"] = window
    est = fit.estimation_mask
    if method == "squared-ar":
        event_sq = fit.ar_event[:, positions] ** 2
        estimation_sq = np.where(est, fit.ar, np.nan) ** 2
        var_est = np.asarray(fit.sigma2, dtype=float)
    else:
        if range_variance is None:
            raise ValueError(
                "method='range' needs range_variance=, a frame of daily Parkinson variances "
                "(eventstudy.estimation.outcomes.parkinson_variance(high, low)) with one column per ticker."
            )
        event_sq, estimation_sq = _range_arrays(res, range_variance, positions)
        count = np.isfinite(estimation_sq).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            var_est = np.where(count > 0, np.nansum(estimation_sq, axis=1) / count, np.nan)
        missing = ~np.isfinite(event_sq).all(axis=1)
        for ticker in table.loc[missing, "ticker"].unique():
            warnings.warn(
                f"{ticker}: High/Low missing on a day of the window {window}; its range ratio is NaN. "
                "Load High and Low prices for it, or use method='squared-ar'.",
                DataQualityWarning,
                stacklevel=2,
            )
    var_event = event_sq.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = var_event / var_est
    table["var_event"], table["var_estimation"], table["ratio"] = var_event, var_est, ratio
    if method == "squared-ar":
        df2 = np.asarray(fit.df, dtype=float)
        table["F"], table["df1"], table["df2"] = ratio, length, df2
        table["pvalue_F"] = f_sf(ratio, length, df2)
    table["pvalue_rank"] = _rank_pvalue(var_event, _rolling_means(estimation_sq, length))
    car = res.car(window)
    table["car"], table["t"] = car["car"].to_numpy(), car["t"].to_numpy()
    return table


def _range_arrays(res, range_variance: pd.DataFrame, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parkinson variances on each firm-event's event-window and estimation days, read by date."""
    fit = res.fit
    grid = fit.event_time
    sessions = res.sessions
    last = len(sessions) - 1
    rows = np.clip(fit.day0[:, None] + grid[None, :], 0, last)
    dates = sessions[rows.ravel()].to_numpy().reshape(rows.shape)
    tickers = res.firm_events["ticker"].to_numpy()
    missing = sorted(set(tickers) - set(range_variance.columns))
    if missing:
        raise KeyError(
            f"No High/Low range for {missing}: range_variance has columns {list(range_variance.columns)}. "
            "Load High and Low for these tickers (source.get_prices(..., fields=['High', 'Low']))."
        )
    frame = range_variance.copy()
    frame.index = pd.DatetimeIndex(frame.index).normalize()
    values = np.full(rows.shape, np.nan)
    for i, ticker in enumerate(tickers):
        values[i] = frame[ticker].reindex(pd.DatetimeIndex(dates[i])).to_numpy(dtype=float)
    event_cols = np.searchsorted(grid, fit.event_days[positions])
    estimation = np.where(fit.estimation_mask, values, np.nan)
    return values[:, event_cols], estimation


def volatility_tests(table: pd.DataFrame) -> pd.DataFrame:
    r"""Pooled tests of :func:`abnormal_volatility`'s ratios across firm-events.

    ``chi2``: :math:`\sum_i L\,VR_i \sim \chi^2_{NL}` (squared-AR ratios; independent firm-events, the
    estimation variance taken as known, large :math:`T_i`).  ``rank``: the mean of the firm-events' rank
    p-values :math:`\bar u`, under the null about uniform on (0, 1): :math:`z = (1/2-\bar u)\sqrt{12N}\sim
    N(0,1)`, one-sided (volatility rose).  Rows: ``test, stat, pvalue, n, distribution, mean_ratio``.
    """
    rows = []
    used = table[np.isfinite(table["ratio"])]
    length = int(used["window_end"].iloc[0] - used["window_start"].iloc[0] + 1) if len(used) else 0
    mean_ratio = float(used["ratio"].mean()) if len(used) else np.nan
    if "F" in table.columns and len(used):
        stat = float(length * used["ratio"].sum())
        dof = length * len(used)
        rows.append(("chi2", stat, float(chi2_sf(stat, dof)), len(used), f"chi2({dof})", mean_ratio))
    u = used["pvalue_rank"].dropna()
    if len(u):
        z = float((0.5 - u.mean()) * np.sqrt(12 * len(u)))
        rows.append(("rank", z, float(norm_sf(z)), len(u), "N(0,1)", mean_ratio))
    return pd.DataFrame(rows, columns=["test", "stat", "pvalue", "n", "distribution", "mean_ratio"])


# --------------------------------------------------------------------------------------------------------
# the study's hooks: loading volumes, fitting a volatility study
# --------------------------------------------------------------------------------------------------------


def check_outcome(model: NormalReturnModel, outcome: str) -> None:
    """Refuse, before any data is read, a model whose declared needs do not fit the ``outcome``.

    Every model studies returns, and so abnormal volatility (a returns study).  Log volume is regressed on the
    benchmarks' log volumes (market, multi-index, Dimson, Scholes-Williams, GARCH errors), or on nothing
    (constant mean, market-adjusted); a model that reads factor returns or the risk-free rate
    (:attr:`DataNeeds.factors <eventstudy.estimation.base.DataNeeds>`, ``risk_free``: CAPM, Fama-French,
    Carhart) would subtract a return from a log volume, so the combination is refused.

    Raises
    ------
    ValueError
        Naming the model and the outcome, and the models that study volume.
    """
    needs = model.needs()
    if outcome != "volume" or (needs.factors is None and not needs.risk_free):
        return
    read = f"the {needs.factors!r} factor returns" if needs.factors is not None else "the risk-free rate"
    raise ValueError(
        f"model={model.name!r} with outcome='volume' is not supported: the {model.label} reads {read}, which "
        "cannot explain log volume. Use a model that regresses on the benchmark's log volume (model='market') "
        "or model='constant-mean' (mean-adjusted log volume)."
    )


def load_volumes(
    firm_events: pd.DataFrame,
    spec: FitSpec,
    *,
    volumes: pd.DataFrame | None = None,
    source=None,
    lists: Sequence[tuple[str, ...]] | None = None,
) -> tuple[pd.DataFrame, dict, dict[str, str]]:
    """Log volumes of the securities and benchmarks: the caller's ``volumes`` (a frame of volumes, given as the
    study's ``returns=``) or the ``Volume`` field read from ``source`` (default
    :func:`eventstudy.default_source`).  Returns ``(log volumes, source info, failures)`` as the returns loader
    does; ``lists`` as :func:`~eventstudy.estimation.loading.load_returns` takes it."""
    lists = benchmark_lists(firm_events) if lists is None else lists
    benchmarks = benchmark_names(lists)
    needed = list(dict.fromkeys([*pd.unique(firm_events["ticker"]), *benchmarks]))
    failures: dict[str, str] = {}
    if volumes is not None:
        if not isinstance(volumes, pd.DataFrame):
            raise TypeError(
                "With outcome='volume' the 'returns' parameter must be a DataFrame of daily volumes (one column "
                f"per ticker). Got {type(volumes).__name__} instead."
            )
        info = given_info("volumes", volumes)
    else:
        source = source if source is not None else default_source()
        start, end = required_span(
            firm_events, spec.estimation_window, spec.event_window, spec.calendars, spec.model.needs()
        )
        volumes = source.get_prices(needed, start, end, field="Volume", missing="skip")
        failures = dict(volumes.attrs.get("eventstudy_failures", {}))
        _refuse_prices_without_volume(source, [t for t in needed if t in failures], start, end)
        lacking = {b: failures[b] for b in benchmarks if b in failures}
        if lacking:
            raise DataSourceError("No volumes for the benchmark(s) the model needs.", failures=lacking)
        info = {"kind": "volumes loaded from a source", **describe_source(source), "field": "Volume"}
    missing = [m for m in benchmarks if m not in volumes.columns]
    if missing:
        raise KeyError(
            f"The benchmark(s) {missing} are not columns of the volumes. Available: {list(volumes.columns)}. "
            "Pass market= one of them, or add the benchmark's volumes."
        )
    for ticker in needed:
        if ticker not in volumes.columns and ticker not in failures:
            failures[ticker] = f"no column {ticker!r} in the volumes"
    present = [c for c in needed if c in volumes.columns]
    logs = log_volume(volumes[present])
    pairs = {t: tuple(b) for t, b in zip(firm_events["ticker"], firm_events["benchmarks"])}
    notes = check_volume_units(pairs, spec.model)
    info["volume"] = f"log(volume + {VOLUME_CONSTANT:g}); zero volume treated as missing"
    logs.attrs["eventstudy_notes"] = [*logs.attrs.get("eventstudy_notes", []), *notes]
    return given_returns(logs, spec, needed).astype(float), info, failures


def _refuse_prices_without_volume(source, tickers: list[str], start, end) -> None:
    """A ticker the source has prices for but no volumes is the user's file to fix, not a drop: raise
    before any fit, naming the option, the tickers and the source."""
    if not tickers:
        return
    closes = source.get_prices(tickers, start, end, field="Close", missing="skip")
    priced = [t for t in tickers if t in closes.columns]
    if priced:
        raise DataSourceError(
            f"outcome='volume' reads the Volume field, and {source.name} has "
            f"prices but no volumes for {priced}. Add a Volume column to their files, or pass returns= a frame "
            "of daily volumes.",
            failures={t: "prices without a Volume column" for t in priced},
        )


def volume_reason(reason: str | None) -> str | None:
    """A drop reason written for returns, reworded for log volumes."""
    if reason is None or not isinstance(reason, str):
        return reason
    return reason.replace("returns", "log volumes").replace("return ", "volume ").replace("return;", "volume;")


def range_variances(source, tickers, start, end) -> pd.DataFrame:
    """Parkinson's daily range variance (:func:`parkinson_variance`) of ``tickers`` from ``start`` to ``end``,
    read as the High and Low fields of the price source ``source``; a ticker without them gets NaN and one
    :class:`~eventstudy.exceptions.DataQualityWarning` names it."""
    tickers = list(tickers)
    prices = source.get_prices(tickers, start, end, fields=["High", "Low"], missing="skip")
    lacking = [t for t in tickers if ("High", t) not in prices.columns]
    # the columns are (field, ticker): one field is a frame of tickers
    high = cast(pd.DataFrame, prices["High"]) if len(prices.columns) else pd.DataFrame(index=prices.index)
    low = cast(pd.DataFrame, prices["Low"]) if len(prices.columns) else pd.DataFrame(index=prices.index)
    for t in lacking:
        high[t], low[t] = np.nan, np.nan
    if lacking:
        warnings.warn(
            f"No High/Low prices for {lacking}: their range-based volatility ratio is NaN.",
            DataQualityWarning,
            stacklevel=3,
        )
    return parkinson_variance(high, low)
