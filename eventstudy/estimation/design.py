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
from eventstudy.estimation.base import RISK_FREE, FactorSet
from eventstudy.estimation.firmevents import first_rows
from eventstudy.estimation.panel import relative_days
from eventstudy.estimation.spec import FitSpec
from eventstudy.foundation.misread import column_positions
from eventstudy.foundation.validation import check_instance
from eventstudy.time.layout import Layout, same_sessions

__all__ = ["Frames", "build_layout", "build_frames", "frame_names"]

#: exchange of the dates of French's factors and of a risk-free series
_FACTOR_EXCHANGE = "XNYS"


def build_layout(
    firm_events: pd.DataFrame,
    returns: pd.DataFrame,
    spec: FitSpec,
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> Layout:
    """Blocks of securities sharing an exchange and benchmarks, on the returns' date range, or on ``span``
    (first and last date) where given: a partition of a study on a cluster lays out the whole study's range."""
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    first = first_rows(firm_events["ticker"])  # each security once, as drop_duplicates("ticker") keeps it
    columns = set(returns.columns)  # a set: Series.isin on text columns converted every ticker
    securities = (firm_events[c].take(first).tolist() for c in ("ticker", "exchange", "benchmarks"))
    for ticker, exchange, benchmarks in zip(*securities):
        if ticker in columns:
            groups.setdefault((exchange, benchmarks), []).append(ticker)
    if not groups:  # no security has returns: one empty block keeps the reasons uniform
        exchange, benchmarks = firm_events["exchange"].iloc[0], firm_events["benchmarks"].iloc[0]
        groups[(exchange, benchmarks)] = []
    needs = spec.model.needs()
    for (exchange, benchmarks), _ in groups.items():
        for name in spec.model.regressors(benchmarks) + (
            (spec.model.offset(benchmarks),) if spec.model.offset(benchmarks) else ()
        ):
            if name in benchmarks:
                _check_alignment(name, spec.calendars.exchange(name), exchange, spec)
        if needs.factors or needs.risk_free:
            _check_alignment("the factors' dates", _FACTOR_EXCHANGE, exchange, spec)
    pad = len(relative_days(spec.estimation_window, spec.event_window)) + 1
    start, stop = (returns.index.min(), returns.index.max()) if span is None else span
    return Layout.build(
        [(x, spec.calendars.calendar(x), b, names) for (x, b), names in groups.items()], start, stop, pad
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


def build_frames(
    returns: pd.DataFrame,
    layout: Layout,
    spec: FitSpec,
    factors,
    risk_free,
    market: tuple[str, ...] | None = None,
) -> Frames:
    """The firms' returns, what the model subtracts from them and the regressors, block by block on the
    layout's stacked session axis; factors and the risk-free rate checked (decimals, daily) and loaded
    when the model needs them and the study gave none.  ``market``, the benchmark names of the whole
    study's layout where this is a partition of it (:func:`frame_names`), names the regressors."""
    model, needs = spec.model, spec.model.needs()
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
    if any_factors or (needs.risk_free and rf_all is None):
        table, loaded = _factor_table(needs.factors or "ff3", factors)
        factor_info.update(loaded)
        needed = {r for b in benchmark_lists for r in model.regressors(b) if r not in b}
        missing = sorted(needed - set(table.columns))
        if missing:
            raise KeyError(
                f"The {model.label} needs factor columns {missing}; the factors have {list(table.columns)}. "
                f"Load them with eventstudy.load_factors({needs.factors!r})."
            )
        if needs.risk_free and rf_all is None:
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

    shape = (len(layout.rows), len(columns))
    values = returns.to_numpy(dtype=float)  # the loaders' returns are one float block: a view, no copy
    parts = []
    for block in layout.blocks:
        cols = columns.get_indexer(list(block.tickers))  # type: ignore[arg-type]  # stubs: any list-like works
        rows = returns.index.get_indexer(block.sessions)  # -1: a session the returns lack
        part = _read(values, rows, column_positions(returns.columns, block.tickers))
        shift = np.zeros(len(block.sessions))
        benchmark = model.offset(block.benchmarks)
        if benchmark is not None:
            shift = shift + returns[benchmark].reindex(block.sessions).to_numpy(dtype=float)
        if model.excess:
            shift = shift + rf(block)
        parts.append((block, cols, part, shift))
    shifted = model.excess or any(model.offset(b) is not None for b in benchmark_lists)
    whole = len(parts) == 1 and parts[0][2].shape == shape  # one block: no padding, every column
    raw = np.empty(shape) if whole else np.full(shape, np.nan)  # the cells outside the blocks are NaN
    for block, cols, part, _ in parts:
        raw[block.start : block.stop, cols] = part
    if whole and not shifted:
        offset = np.broadcast_to(np.float64(0.0), shape)  # nothing subtracted anywhere: zeros, not a panel of them
    else:
        offset = np.full(shape, np.nan)
        for block, cols, _, shift in parts:
            offset[block.start : block.stop, cols] = shift[:, None]
    z = layout.stack(regressors)
    z = z.reshape(len(layout.rows), -1)
    market, z_names = frame_names(layout, spec, market)
    offset_name = model.offset(market)
    y = raw - offset if shifted else raw  # nothing subtracted (market model): no copy of the panel minus zeros
    return Frames(raw, offset, y, z, z_names, market, offset_name, factor_info)


def _read(values: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``values`` at ``rows`` (-1: a row of NaN) and ``columns``, as ``reindex`` gives it: a view where both
    are runs of consecutive positions (the returns cover the block's sessions), else one copy."""
    if len(rows) and rows[0] >= 0 and (np.diff(rows) == 1).all():
        part = values[rows[0] : rows[-1] + 1]
    else:
        part = values[np.maximum(rows, 0)]
        if (rows < 0).any():
            part[rows < 0] = np.nan
    if len(columns) and (np.diff(columns) == 1).all():
        return part[:, columns[0] : columns[-1] + 1]
    return part[:, columns]


def frame_names(
    layout: Layout, spec: FitSpec, market: tuple[str, ...] | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The benchmark names results label coefficients with, and the regressors' names: the benchmarks' when
    every block has the same, else their roles (``market``, ``market2``, ...); ``market`` where given (a
    partition's layout names them as the whole study's does)."""
    if market is not None:
        return market, spec.model.regressor_names(market)
    benchmark_lists = [block.benchmarks for block in layout.blocks]
    same = len(set(benchmark_lists)) == 1
    market = benchmark_lists[0] if same else tuple(_roles(len(benchmark_lists[0])))
    return market, spec.model.regressor_names(market)


def _roles(n: int) -> list[str]:
    """Names of the benchmark columns when blocks use different benchmarks (``market``, ``market2``, ...)."""
    return ["market"] + [f"market{k + 1}" for k in range(1, n)]


def _factor_table(factor_set: FactorSet, factors) -> tuple[pd.DataFrame, dict]:
    info: dict[str, Any]
    if factors is None:
        factors = load_factors(factor_set)
        info = {"factors": f"eventstudy.load_factors({factor_set!r})"}
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
