"""The regression's matrices: securities in blocks of sessions, the dependent variable and the regressors.

:func:`build_layout` groups the securities that share an exchange and a benchmark list into blocks of a
:class:`~eventstudy.time.layout.Layout`, and refuses a benchmark (or the factors) on other sessions than the
security's unless the study aligns them by date.  :func:`build_frames` fills, block by block, the firms'
returns, what the model subtracts from them (a benchmark, the risk-free rate) and the regressors
(benchmarks, factors, their leads and lags), each on the block's own sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from eventstudy.data import load_factors
from eventstudy.estimation.base import RISK_FREE, NormalReturnModel
from eventstudy.estimation.panel import relative_days
from eventstudy.estimation.spec import FitSpec
from eventstudy.foundation.validation import check_instance
from eventstudy.time.layout import Layout, same_sessions

__all__ = ["Frames", "build_layout", "build_frames", "frame_names"]

#: exchange of the dates of French's factors and of a risk-free series
_FACTOR_EXCHANGE = "XNYS"


def build_layout(firm_events: pd.DataFrame, returns: pd.DataFrame, spec: FitSpec) -> Layout:
    """Blocks of securities sharing an exchange and benchmarks, on the returns' date range."""
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    securities = firm_events.drop_duplicates("ticker")
    present = securities["ticker"].isin(returns.columns).to_numpy()
    for ticker, exchange, benchmarks in securities.loc[present, ["ticker", "exchange", "benchmarks"]].itertuples(
        index=False
    ):
        groups.setdefault((exchange, benchmarks), []).append(ticker)
    if not groups:  # no security has returns: one empty block keeps the reasons uniform
        exchange, benchmarks = firm_events["exchange"].iloc[0], firm_events["benchmarks"].iloc[0]
        groups[(exchange, benchmarks)] = []
    for (exchange, benchmarks), _ in groups.items():
        for name in spec.model.regressors(benchmarks) + (
            (spec.model.offset(benchmarks),) if spec.model.offset(benchmarks) else ()
        ):
            if name in benchmarks:
                _check_alignment(name, spec.calendars.exchange(name), exchange, spec)
        if spec.model.factor_set or spec.model.needs_risk_free():
            _check_alignment("the factors' dates", _FACTOR_EXCHANGE, exchange, spec)
    pad = len(relative_days(spec.estimation_window, spec.event_window)) + 1
    first, last = returns.index.min(), returns.index.max()
    return Layout.build(
        [(x, spec.calendars.calendar(x), b, names) for (x, b), names in groups.items()], first, last, pad
    )


def _check_alignment(benchmark: str, benchmark_exchange: str, exchange: str, spec: FitSpec) -> None:
    if same_sessions(benchmark_exchange, exchange) or spec.align == "same-date":
        return
    raise ValueError(
        f"The benchmark {benchmark} trades on {benchmark_exchange}, the securities measured against it on "
        f"{exchange}: their sessions differ, so there is no rule to align their returns. Give a local benchmark "
        f"per exchange (market={{'{exchange}': '<local index>', ...}}), or pass align_benchmarks='same-date' to "
        "take the benchmark's return dated the same day (with model='dimson' for the time-zone lag)."
    )


@dataclass
class Frames:
    """One fit's matrices on the layout's stacked session axis: T rows, M firm columns, P regressor columns."""

    raw: np.ndarray  # firms' returns (T, M)
    offset: np.ndarray  # what is subtracted from the raw return to form y (T, M): RF, the market, or 0
    y: np.ndarray  # dependent variable (T, M)
    z: np.ndarray  # regressors without the constant (T, P)
    z_names: tuple[str, ...]  # regressor names (the benchmarks' when every block has the same)
    market: tuple[str, ...]  # the benchmark names results label coefficients with
    offset_name: str | None
    factors: dict


def build_frames(returns: pd.DataFrame, layout: Layout, spec: FitSpec, factors, risk_free) -> Frames:
    """The firms' returns, what the model subtracts from them and the regressors, block by block on the
    layout's stacked session axis; factors and the risk-free rate checked (decimals, daily) and loaded
    when the model needs them and the study gave none."""
    model = spec.model
    factor_info: dict = {}
    rf_all = None
    benchmark_lists = [block.benchmarks for block in layout.blocks]
    any_factors = any(r not in b for b in benchmark_lists for r in model.regressors(b))
    if risk_free is not None:
        check_instance("risk_free", risk_free, pd.Series, "a Series of daily risk-free returns in decimals")
        rf_all = risk_free.astype(float)
        rf_all.index = pd.DatetimeIndex(rf_all.index).normalize()
        typical = np.nanmedian(np.abs(rf_all.to_numpy()))
        if np.isfinite(typical) and typical > 0.01:
            raise ValueError(
                f"The 'risk_free' parameter looks like an annual or percent rate (median {typical:.3g}); give the "
                "daily risk-free return in decimals (about 0.0002 for 5% a year), e.g. French's RF / 100."
            )
        factor_info["risk_free"] = "given by the caller"
    table = None
    if any_factors or (model.needs_risk_free() and rf_all is None):
        table, loaded = _factor_table(model, factors)
        factor_info.update(loaded)
        needed = {r for b in benchmark_lists for r in model.regressors(b) if r not in b}
        missing = sorted(needed - set(table.columns))
        if missing:
            raise KeyError(
                f"The {model.label} needs factor columns {missing}; the factors have {list(table.columns)}. "
                f"Load them with eventstudy.load_factors({model.factor_set!r})."
            )
        if model.needs_risk_free() and rf_all is None:
            if RISK_FREE not in table.columns:
                raise KeyError(f"The factors have no {RISK_FREE!r} column for the risk-free rate; pass risk_free=.")
            rf_all = table[RISK_FREE]
    columns = pd.Index(layout.tickers)

    def rf(block) -> np.ndarray:
        # called only for a model that needs the risk-free rate, so rf_all was found above
        return cast(pd.Series, rf_all).reindex(block.sessions).to_numpy(dtype=float)

    def regressors(block) -> np.ndarray:
        names = model.regressors(block.benchmarks)
        # a regressor that is no benchmark is a factor, so the table was loaded above
        source = [returns[n] if n in block.benchmarks else cast(pd.DataFrame, table)[n] for n in names]
        z = model.design_columns(
            [s.reindex(block.sessions).to_numpy(dtype=float) for s in source],
            names,
            block.benchmarks,
            len(block.sessions),
        )
        for k, name in enumerate(names):
            if name in model.excess_regressors(block.benchmarks):
                z[:, k] = z[:, k] - rf(block)
        return z

    raw = np.full((len(layout.rows), len(columns)), np.nan)
    offset = np.full_like(raw, np.nan)
    for block in layout.blocks:
        cols = columns.get_indexer(list(block.tickers))  # type: ignore[arg-type]  # stubs: any list-like works
        raw[block.start : block.stop, cols] = returns[list(block.tickers)].reindex(block.sessions).to_numpy(float)
        shift = np.zeros(len(block.sessions))
        benchmark = model.offset(block.benchmarks)
        if benchmark is not None:
            shift = shift + returns[benchmark].reindex(block.sessions).to_numpy(dtype=float)
        if model.excess:
            shift = shift + rf(block)
        offset[block.start : block.stop, cols] = shift[:, None]
    z = layout.stack(regressors)
    z = z.reshape(len(layout.rows), -1)
    market, z_names = frame_names(layout, spec)
    offset_name = model.offset(market)
    shifted = model.excess or any(model.offset(b) is not None for b in benchmark_lists)
    y = raw - offset if shifted else raw  # nothing subtracted (market model): no copy of the panel minus zeros
    return Frames(raw, offset, y, z, z_names, market, offset_name, factor_info)


def frame_names(layout: Layout, spec: FitSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The benchmark names results label coefficients with, and the regressors' names: the benchmarks' when
    every block has the same, else their roles (``market``, ``market2``, ...)."""
    benchmark_lists = [block.benchmarks for block in layout.blocks]
    same = len(set(benchmark_lists)) == 1
    market = benchmark_lists[0] if same else tuple(_roles(len(benchmark_lists[0])))
    return market, spec.model.regressor_names(market)


def _roles(n: int) -> list[str]:
    """Names of the benchmark columns when blocks use different benchmarks (``market``, ``market2``, ...)."""
    return ["market"] + [f"market{k + 1}" for k in range(1, n)]


def _factor_table(model: NormalReturnModel, factors) -> tuple[pd.DataFrame, dict]:
    info: dict[str, Any]
    if factors is None:
        factors = load_factors(model.factor_set or "ff3")
        info = {"factors": f"eventstudy.load_factors({model.factor_set or 'ff3'!r})"}
    else:
        check_instance("factors", factors, pd.DataFrame, "a DataFrame of daily factors in decimals")
        info = {"factors": "given by the caller"}
    info.update(factors.attrs.get("provenance", {}) if isinstance(factors.attrs.get("provenance"), dict) else {})
    values = factors.select_dtypes("number")
    if len(values) and np.nanmedian(np.abs(values.to_numpy(dtype=float))) > 0.05:
        raise ValueError(
            "The 'factors' parameter looks like percent, not decimals (French publishes percent). "
            "Divide by 100, or load them with eventstudy.load_factors()."
        )
    table = factors.copy()
    table.index = pd.to_datetime(table.index).normalize()
    info["factor_range"] = [f"{table.index.min():%Y-%m-%d}", f"{table.index.max():%Y-%m-%d}"] if len(table) else []
    return table, info
