"""The event-study specification and its fit.

:class:`EventStudy` holds settings only (validation happens in :meth:`EventStudy.fit`); ``fit()`` aligns
events and data on the trading calendar, estimates every firm-event at once with
:func:`~eventstudy.models.estimate`, records the firm-events it cannot estimate, and returns an immutable
:class:`~eventstudy.results.EventStudyResults`.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validation import check_choice, check_instance, check_positive_int, check_windows
from .calendar import TradingCalendar, as_calendar
from .data.base import library_versions
from .exceptions import DataSourceError, DroppedFirmEventsWarning, EstimationError, SessionAssumptionWarning
from .models import RISK_FREE, NormalReturnModel, estimate, get_model
from .panel import AlignedData, gather

__all__ = ["EventStudy", "required_span"]


class EventStudy:
    """An event study: which events, which securities, which normal-return model, which windows.

    Parameters
    ----------
    events : DataFrame
        Either firm-events, with columns ``ticker`` and ``date`` (optional ``event_id``, ``session``,
        ``day0``), or an event catalog such as :func:`eventstudy.load_events` returns (``id``, ``date``,
        ``session``, ``day0``), combined with ``tickers`` so that every ticker is studied on every event.
    returns : DataFrame, optional
        Daily returns, one column per ticker (benchmarks included), DatetimeIndex.  Simple returns unless
        ``returns.attrs["return_kind"] == "log"``.  Without it, prices are loaded from ``source``.
    source : PriceSource, optional
        Where to load prices when ``returns`` is not given; default :func:`eventstudy.default_source`.
    tickers : sequence of str, optional
        Securities to study on every event of a catalog.
    market : str or sequence of str
        Benchmark column(s): ``"SPY"``; ``["SPY", "SOXX"]`` for the multi-index model.
    model : str or NormalReturnModel
        ``"market"`` (default), ``"constant-mean"``, ``"market-adjusted"``, ``"multi-index"``, ``"capm"``,
        ``"ff3"``, ``"ff5"``, ``"carhart"``, or a model instance.
    factors : DataFrame, optional
        Daily factors in decimals (``Mkt-RF``, ``SMB``, ..., ``RF``) for the factor models and CAPM; loaded
        with :func:`eventstudy.load_factors` when needed and not given.
    risk_free : Series, optional
        Daily risk-free return in decimals, replacing the factors' ``RF`` (no factor file is then needed for
        CAPM).  Excess returns subtract it from the firm's return as given, so with log returns it is
        subtracted from a log return (a difference of about the product of the two, negligible daily).
    estimation_window, event_window : (int, int)
        Relative trading days, inclusive at both ends; day 0 is the first session that could react.  The
        estimation window must end before the event window starts.
    min_estimation_obs : int, optional
        Fewest estimation-window returns a firm-event needs; default half the window (and at least
        ``K + 3``, so that Patell's variance exists).
    calendar : str or TradingCalendar
        Exchange calendar (default NYSE).
    unknown_session : {"pre", "post"}, optional
        Day-0 rule for events whose release session is unknown (see :class:`TradingCalendar`); default the
        calendar's own rule (``"pre"`` for a calendar given by name).  It also re-places day 0 of a catalog's
        unknown-session events.
    catalog : DataFrame, optional
        Events to check the estimation windows against (contamination).  Defaults to ``events`` when it is a
        catalog.
    exclude_events : bool
        Leave the catalog events' windows out of every estimation window (default False: only flag them).
    price_field : str
        Price column loaded from ``source`` (default adjusted close).
    return_kind : {"simple", "log"}
        Returns computed from loaded prices.
    name : str, optional
        A label for tables and reports.

    Examples
    --------
    >>> study = EventStudy(events, returns=rets, market="SPY", model="market",
    ...                    estimation_window=(-250, -11), event_window=(-5, 5))  # doctest: +SKIP
    >>> res = study.fit()  # doctest: +SKIP
    """

    def __init__(
        self,
        events: pd.DataFrame,
        returns: pd.DataFrame | None = None,
        *,
        source=None,
        tickers: Sequence[str] | None = None,
        market: str | Sequence[str] = "SPY",
        model: str | NormalReturnModel = "market",
        factors: pd.DataFrame | None = None,
        risk_free: pd.Series | None = None,
        estimation_window: tuple[int, int] = (-250, -11),
        event_window: tuple[int, int] = (-5, 5),
        min_estimation_obs: int | None = None,
        calendar: str | TradingCalendar = "XNYS",
        unknown_session: str | None = None,
        catalog: pd.DataFrame | None = None,
        exclude_events: bool = False,
        price_field: str = "Adj Close",
        return_kind: str = "simple",
        name: str | None = None,
    ) -> None:
        self.events = events
        self.returns = returns
        self.source = source
        self.tickers = tickers
        self.market = market
        self.model = model
        self.factors = factors
        self.risk_free = risk_free
        self.estimation_window = estimation_window
        self.event_window = event_window
        self.min_estimation_obs = min_estimation_obs
        self.calendar = calendar
        self.unknown_session = unknown_session
        self.catalog = catalog
        self.exclude_events = exclude_events
        self.price_field = price_field
        self.return_kind = return_kind
        self.name = name

    def __repr__(self) -> str:
        model = get_model(self.model) if isinstance(self.model, (str, NormalReturnModel)) else self.model
        return (
            f"EventStudy(model={getattr(model, 'name', model)!r}, market={self.market!r}, "
            f"estimation_window={self.estimation_window}, event_window={self.event_window})"
        )

    # ----------------------------------------------------------------------------------------------------
    def fit(self):
        """Estimate every firm-event and return :class:`~eventstudy.results.EventStudyResults`.

        Firm-events that cannot be estimated are kept out, listed in ``res.dropped`` with the reason, and
        announced by one :class:`~eventstudy.exceptions.DroppedFirmEventsWarning`; when none is left,
        :class:`~eventstudy.exceptions.EstimationError` is raised with the list.
        """
        from .results import EventStudyResults

        spec = self._validated()
        self._failures: dict[str, str] = {}
        firm_events = _firm_events(self.events, self.tickers, spec.calendar)
        returns, source_info = self._load_returns(firm_events, spec)
        frames = _design(returns, firm_events, spec, self.factors, self.risk_free)
        sessions = returns.index
        catalog = _catalog_positions(self.catalog, self.events, firm_events, spec.calendar, sessions)
        excluded = (
            _excluded_days(catalog, frames.y.columns, sessions, spec.event_window) if spec.exclude_events else None
        )
        data = AlignedData.build(frames.y.to_numpy(), frames.z.to_numpy(), excluded)

        firm = frames.y.columns.get_indexer(firm_events["ticker"])
        day0 = sessions.get_indexer(firm_events["day0"])
        reasons = _unplaceable(firm_events, firm, day0, sessions, spec, self._failures)
        keep = reasons.isna().to_numpy()
        fit = estimate(
            data,
            day0[keep],
            firm[keep],
            spec.estimation_window,
            spec.event_window,
            intercept=spec.model.intercept and spec.model.estimated,
            estimated=spec.model.estimated,
        )
        reasons.loc[keep] = _unestimable(fit, frames, spec)
        fit = fit.take(reasons.loc[keep].isna().to_numpy())
        keep = reasons.isna().to_numpy()
        dropped = _dropped_table(firm_events, reasons)
        if not keep.any():
            raise EstimationError(
                f"No firm-event could be estimated ({len(dropped)} dropped). Reasons:\n"
                + dropped.groupby("reason").size().to_string(),
                dropped=dropped,
            )
        if len(dropped):
            warnings.warn(
                f"{len(dropped)} of {len(firm_events)} firm-events could not be estimated and were left out; "
                "res.dropped lists each with the reason.",
                DroppedFirmEventsWarning,
                stacklevel=2,
            )
        kept = firm_events.loc[keep].reset_index(drop=True)
        kept = _flag_contamination(kept, fit, catalog, spec)
        provenance = _provenance(returns, frames, source_info)
        return EventStudyResults(
            fit=fit,
            firm_events=kept,
            dropped=dropped,
            sessions=sessions,
            raw=frames.raw.to_numpy(),
            offset=frames.offset.to_numpy(),
            regressor_names=tuple(frames.z.columns),
            model=spec.model,
            market=spec.market,
            settings=spec.settings(),
            provenance=provenance,
            return_kind=spec.return_kind,
            name=self.name,
        )

    # ----------------------------------------------------------------------------------------------------
    def _validated(self) -> _Spec:
        estimation_window, event_window = check_windows(self.estimation_window, self.event_window)
        model = get_model(self.model)
        market = (self.market,) if isinstance(self.market, str) else tuple(self.market)
        if not all(isinstance(m, str) for m in market):
            raise TypeError(f"The 'market' parameter must be a ticker or a list of tickers. Got {self.market!r}.")
        model.validate_market(market)
        calendar = as_calendar(self.calendar, unknown_session=self.unknown_session)
        n_params = len(model.param_names(market))
        length = estimation_window[1] - estimation_window[0] + 1
        min_obs = self.min_estimation_obs
        if min_obs is None:
            min_obs = max(math.ceil(length / 2), n_params + 3)
        else:
            min_obs = check_positive_int("min_estimation_obs", min_obs)
        if not n_params + 1 <= min_obs <= length:
            raise ValueError(
                f"The 'min_estimation_obs' parameter must lie between {n_params + 1} (the model's coefficients "
                f"plus one) and {length} (the estimation window's length). Got {min_obs}."
            )
        return _Spec(
            model=model,
            market=market,
            estimation_window=estimation_window,
            event_window=event_window,
            calendar=calendar,
            min_obs=int(min_obs),
            return_kind=check_choice("return_kind", self.return_kind, ("simple", "log")),
            price_field=self.price_field,
            exclude_events=bool(self.exclude_events),
        )

    def _load_returns(self, firm_events: pd.DataFrame, spec: _Spec) -> tuple[pd.DataFrame, dict]:
        needed = list(dict.fromkeys([*pd.unique(firm_events["ticker"]), *_benchmarks(spec)]))
        if self.returns is not None:
            check_instance("returns", self.returns, pd.DataFrame, "a DataFrame of daily returns")
            kind = self.returns.attrs.get("return_kind", spec.return_kind)
            spec.return_kind = check_choice("returns.attrs['return_kind']", kind, ("simple", "log"))
            returns = spec.calendar.align(self.returns)
            info = {"kind": "returns given by the caller", "columns": list(map(str, returns.columns))}
        else:
            from ._returns import returns as to_returns
            from .data import default_source

            source = self.source if self.source is not None else default_source()
            start, end = required_span(firm_events["day0"], spec.estimation_window, spec.event_window, spec.calendar)
            # a firm the source has no prices for is a recorded drop; a missing benchmark is an error
            prices = source.get_prices(needed, start, end, field=spec.price_field, missing="skip")
            self._failures = dict(prices.attrs.get("eventstudy_failures", {}))
            lacking = {b: self._failures[b] for b in _benchmarks(spec) if b in self._failures}
            if lacking:
                raise DataSourceError("No prices for the benchmark(s) the model needs.", failures=lacking)
            returns = to_returns(prices, spec.return_kind, calendar=spec.calendar)
            info = {"kind": "prices loaded from a source", **_describe(source), "field": spec.price_field}
        from .quality import case_hint, check_return_values, warn_implausible

        missing = [m for m in _benchmarks(spec) if m not in returns.columns]
        if missing:
            raise KeyError(
                f"The benchmark(s) {missing} are not columns of the returns. Available: {list(returns.columns)}. "
                "Pass market= one of them, or add the benchmark's returns." + case_hint(missing, returns.columns)
            )
        values = returns.select_dtypes("number")
        if values.shape[1] != returns.shape[1]:
            bad = [c for c in returns.columns if c not in values.columns]
            raise TypeError(f"The 'returns' parameter has non-numeric columns {bad}; returns must be floats.")
        # infinite values, percent, prices in the columns the study reads: each named, with the fix
        check_return_values(values[[c for c in needed if c in values.columns]])
        for ticker in needed:  # tickers are case-sensitive: say so where the other case exists
            hint = case_hint([ticker], returns.columns).strip()
            if ticker not in returns.columns and hint:
                self._failures[ticker] = f"{self._failures.get(ticker, f'no column {ticker!r} in the returns')}. {hint}"
        found = warn_implausible(returns[[c for c in needed if c in returns.columns]], spec.market[0])
        if len(found):
            returns.attrs.setdefault("eventstudy_notes", []).extend(
                f"{r['ticker']}: implausible return {r['return']:+.1%} on {r['date']:%Y-%m-%d} kept"
                for r in found.to_dict("records")
            )
        return returns.astype(float), info


@dataclass
class _Spec:
    model: NormalReturnModel
    market: tuple[str, ...]
    estimation_window: tuple[int, int]
    event_window: tuple[int, int]
    calendar: TradingCalendar
    min_obs: int
    return_kind: str
    price_field: str
    exclude_events: bool

    def settings(self) -> dict:
        return {
            "model": self.model.name,
            "model_label": self.model.describe(self.market),
            "market": list(self.market),
            "estimation_window": list(self.estimation_window),
            "event_window": list(self.event_window),
            "min_estimation_obs": self.min_obs,
            "calendar": self.calendar.name,
            "unknown_session": self.calendar.unknown_session,
            "return_kind": self.return_kind,
            "price_field": self.price_field,
            "exclude_events": self.exclude_events,
        }


def _benchmarks(spec: _Spec) -> list[str]:
    """Return columns (not factors) the model reads: the market indices it regresses on or subtracts."""
    names = [*spec.model.regressors(spec.market), spec.model.offset(spec.market)]
    return [n for n in names if n is not None and n in spec.market]


def _describe(source) -> dict:
    describe = getattr(source, "describe", None)
    return dict(describe()) if callable(describe) else {"source": type(source).__name__}


# --------------------------------------------------------------------------------------------------------
# events
# --------------------------------------------------------------------------------------------------------


def _firm_events(events, tickers, calendar: TradingCalendar) -> pd.DataFrame:
    """One row per firm-event: event_id, ticker, date, session, day0 (+ the catalog's descriptive columns)."""
    check_instance("events", events, pd.DataFrame, "a DataFrame of events (see eventstudy.load_events)")
    if events.empty:
        raise ValueError("The 'events' parameter is empty: give at least one event.")
    frame = events.copy()
    if "ticker" in frame.columns:
        if tickers is not None:
            raise ValueError(
                "Give tickers either as a 'ticker' column of events or as the 'tickers' parameter, not both."
            )
        if "event_id" not in frame.columns:
            frame["event_id"] = frame["id"] if "id" in frame.columns else None
    else:
        if tickers is None:
            raise KeyError(
                "The 'events' parameter has no 'ticker' column. Pass tickers=[...] to study every ticker on "
                "every event, or add a 'ticker' column (one row per firm-event)."
            )
        tickers = [tickers] if isinstance(tickers, str) else list(dict.fromkeys(tickers))
        if not tickers:
            raise ValueError("The 'tickers' parameter is empty: name at least one ticker.")
        frame["event_id"] = frame["id"] if "id" in frame.columns else frame.get("event_id")
        frame = frame.merge(pd.DataFrame({"ticker": tickers}), how="cross")
    if "date" not in frame.columns and "day0" not in frame.columns:
        raise KeyError(f"The 'events' parameter needs a 'date' column. Found columns: {list(events.columns)}.")
    if "date" not in frame.columns:
        frame["date"] = frame["day0"]
    from .quality import check_dates  # 20250513 is not 20 ms after 1970

    frame["date"] = check_dates(frame["date"], "date").dt.normalize()
    if "session" not in frame.columns:
        # a bare date is taken as the first session on or after it (firm announcements, user files)
        frame["session"] = "pre"
    frame["session"] = frame["session"].fillna("unknown").astype(str)
    ids = frame["event_id"].isna()
    frame["event_id"] = frame["event_id"].astype(object)
    frame.loc[ids, "event_id"] = frame.loc[ids, "date"].dt.strftime("%Y-%m-%d")
    frame["event_id"] = frame["event_id"].astype(str)
    frame["ticker"] = frame["ticker"].astype(str)
    if "day0" in frame.columns:
        frame["day0"] = pd.to_datetime(frame["day0"]).dt.normalize()
        unknown = (frame["session"] == "unknown").to_numpy()
        if unknown.any():  # a catalog's day 0 for unknown sessions follows the study's rule, not the loader's
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SessionAssumptionWarning)  # the catalog loader already warned
                frame.loc[unknown, "day0"] = calendar.day_zeros(frame.loc[unknown, "date"], "unknown")
        not_sessions = ~frame["day0"].isin(calendar.sessions)
        if not_sessions.any():
            bad = frame.loc[not_sessions].iloc[0]
            raise ValueError(
                f"Event {bad['event_id']!r} has day0 {bad['day0']:%Y-%m-%d}, which is not a {calendar.name} session. "
                "Drop the day0 column to compute it from date and session."
            )
    else:
        unique = frame.drop_duplicates("event_id")
        day0 = calendar.day_zeros(unique["date"], unique["session"].to_numpy(), labels=list(unique["event_id"]))
        frame["day0"] = frame["event_id"].map(dict(zip(unique["event_id"], day0)))
    duplicated = frame.duplicated(["event_id", "ticker"])
    if duplicated.any():
        dup = frame.loc[duplicated, ["event_id", "ticker"]].head(3).to_dict("records")
        raise ValueError(f"The 'events' parameter lists the same firm-event twice, e.g. {dup}. Give each once.")
    first = ["event_id", "ticker", "date", "session", "day0"]
    rest = [c for c in frame.columns if c not in first and c not in ("id",)]
    return frame[first + rest].reset_index(drop=True)


def required_span(
    day0, estimation_window: tuple[int, int], event_window: tuple[int, int], calendar: TradingCalendar
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last price date a study needs: the session before the earliest estimation day (its return
    needs the previous close) through the last event-window day, not after today."""
    sessions = calendar.sessions
    positions = sessions.get_indexer(pd.DatetimeIndex(day0))
    lo = max(int(positions.min()) + min(estimation_window[0], event_window[0]) - 1, 0)
    hi = min(int(positions.max()) + event_window[1], len(sessions) - 1)
    return sessions[lo], min(sessions[hi], pd.Timestamp.today().normalize())


# --------------------------------------------------------------------------------------------------------
# design matrices
# --------------------------------------------------------------------------------------------------------


@dataclass
class _Frames:
    raw: pd.DataFrame  # firms' returns (T, M)
    offset: pd.DataFrame  # what is subtracted from the raw return to form y (T, M): RF, the market, or 0
    y: pd.DataFrame  # dependent variable (T, M)
    z: pd.DataFrame  # regressors without the constant (T, P)
    factors: dict


def _design(returns, firm_events, spec: _Spec, factors, risk_free) -> _Frames:
    model, market = spec.model, spec.market
    tickers = [t for t in pd.unique(firm_events["ticker"]) if t in returns.columns]
    raw = returns[tickers]
    sessions = returns.index
    regressors = model.regressors(market)
    factor_info: dict = {}
    rf = None
    needs_factors = [r for r in regressors if r not in market]
    if risk_free is not None:
        check_instance("risk_free", risk_free, pd.Series, "a Series of daily risk-free returns in decimals")
        rf = spec.calendar.align(risk_free.astype(float)).reindex(sessions)
        typical = np.nanmedian(np.abs(rf.to_numpy()))
        if np.isfinite(typical) and typical > 0.01:
            raise ValueError(
                f"The 'risk_free' parameter looks like an annual or percent rate (median {typical:.3g}); give the "
                "daily risk-free return in decimals (about 0.0002 for 5% a year), e.g. French's RF / 100."
            )
        factor_info["risk_free"] = "given by the caller"
    if needs_factors or (model.needs_risk_free() and rf is None):
        table, loaded = _factor_table(model, factors, sessions)
        factor_info.update(loaded)
        missing = [r for r in needs_factors if r not in table.columns]
        if missing:
            raise KeyError(
                f"The {model.label} needs factor columns {missing}; the factors have {list(table.columns)}. "
                f"Load them with eventstudy.load_factors({model.factor_set!r})."
            )
        if model.needs_risk_free() and rf is None:
            if RISK_FREE not in table.columns:
                raise KeyError(f"The factors have no {RISK_FREE!r} column for the risk-free rate; pass risk_free=.")
            rf = table[RISK_FREE]
    z = pd.DataFrame(index=sessions)
    for name in regressors:
        column = returns[name] if name in market else table[name]
        if name in model.excess_regressors(market):
            column = column - rf
        z[name] = column.astype(float)
    offset = pd.DataFrame(0.0, index=sessions, columns=raw.columns)
    if model.offset(market) is not None:
        offset = offset.add(returns[model.offset(market)], axis=0)
    if model.excess:
        offset = offset.add(rf, axis=0)
    y = raw - offset
    return _Frames(raw=raw, offset=offset, y=y, z=z, factors=factor_info)


def _factor_table(model: NormalReturnModel, factors, sessions) -> tuple[pd.DataFrame, dict]:
    if factors is None:
        from .data import load_factors

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
    return table.reindex(sessions), info


# --------------------------------------------------------------------------------------------------------
# what cannot be estimated, and why
# --------------------------------------------------------------------------------------------------------


def _unplaceable(firm_events, firm, day0, sessions, spec: _Spec, failures: dict[str, str]) -> pd.Series:
    """Reasons that need no fit: no returns for the ticker, day 0 or the event window outside the data."""
    reasons = pd.Series(None, index=firm_events.index, dtype=object)
    first, last = f"{sessions[0]:%Y-%m-%d}", f"{sessions[-1]:%Y-%m-%d}"
    lo, hi = spec.event_window
    first_id = firm_events.groupby(["ticker", "day0"], sort=False)["event_id"].transform("first")
    twice = (firm_events["event_id"] != first_id).to_numpy()
    reasons[twice] = [
        f"same day 0 ({d:%Y-%m-%d}) as event {f!r} for this ticker; kept once so it is not counted twice"
        for d, f in zip(firm_events.loc[twice, "day0"], first_id[twice])
    ]
    no_ticker = firm < 0
    outside = ~no_ticker & (day0 < 0)
    past_end = ~no_ticker & ~outside & (day0 + hi >= len(sessions))
    before_start = ~no_ticker & ~outside & ~past_end & (day0 + lo < 0)
    reasons[no_ticker] = [
        f"no prices for this ticker: {failures[t]}" if t in failures else "no returns for this ticker"
        for t in firm_events.loc[no_ticker, "ticker"]
    ]
    reasons[outside] = f"day 0 lies outside the returns ({first} to {last})"
    reasons[past_end] = f"event window ends after the last return ({last})"
    reasons[before_start] = f"event window starts before the first return ({first})"
    return reasons


def _unestimable(fit, frames: _Frames, spec: _Spec) -> np.ndarray:
    """Reasons found in the fit, most basic first: the return, then what the model subtracts or regresses
    on, on day 0; then too short an estimation window; then a model that is not identified."""
    zero = np.array([0])
    min_obs = spec.min_obs
    raw = frames.raw.to_numpy()
    valid = np.isfinite(raw)
    first = valid.argmax(axis=0)  # each ticker's first and last return, to say why days are missing
    last = len(raw) - 1 - valid[::-1].argmax(axis=0)
    dates = frames.raw.index

    def span_note(row: int) -> str:
        column = fit.firm[row]
        if not valid[:, column].any():
            return "; the ticker has no returns in the data"
        if fit.day0[row] + spec.estimation_window[0] < first[column]:
            return f"; the ticker's returns start on {dates[first[column]]:%Y-%m-%d}"
        if fit.day0[row] > last[column]:
            return f"; the ticker's returns end on {dates[last[column]]:%Y-%m-%d}"
        return ""

    reasons = np.full(fit.n, None, dtype=object)
    # later assignments win, so they run from the least to the most basic reason
    reasons[~np.isfinite(fit.sigma2)] = "model not identified on the estimation window (a regressor does not vary)"
    from .quality import unidentified  # a constant benchmark, a ticker identical to it, an exact fit

    specific = unidentified(fit, frames.y.columns, frames.z.columns, spec.market)
    named = np.flatnonzero(specific != None)  # noqa: E711 - elementwise on an object array
    reasons[named] = specific[named]
    for row in np.flatnonzero(fit.n_obs < min_obs):  # only the firm-events with too short a window
        reasons[row] = f"{fit.n_obs[row]} estimation-window returns, fewer than the minimum {min_obs}{span_note(row)}"
    names = np.array(frames.z.columns, dtype=object)
    if len(names):
        z0 = gather(frames.z.to_numpy(), fit.day0, zero)[:, 0, :]
        missing = ~np.isfinite(z0)
        for row in np.flatnonzero(missing.any(axis=1)):  # only the firm-events with a gap on day 0
            reasons[row] = f"regressor {', '.join(names[missing[row]])} missing on day 0"
    offset0 = gather(frames.offset.to_numpy(), fit.day0, zero, fit.firm)[:, 0]
    benchmark = spec.model.offset(spec.market)
    what = f"benchmark {benchmark}" if benchmark is not None else "risk-free rate (RF)"
    reasons[~np.isfinite(offset0)] = f"{what} missing on day 0"
    raw0 = gather(raw, fit.day0, zero, fit.firm)[:, 0]
    for row in np.flatnonzero(~np.isfinite(raw0)):
        reasons[row] = f"no return on day 0{span_note(row)}"
    # kept firm-events with a gap later in the event window: not a drop, but their CARs there are NaN
    from .quality import warn_event_window_gaps

    warn_event_window_gaps(fit, frames.y.columns, frames.raw.index, reasons == None)  # noqa: E711
    return reasons


def _dropped_table(firm_events: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    columns = ["event_id", "ticker", "date", "day0", "reason"]
    dropped = firm_events.loc[reasons.notna(), columns[:-1]].copy()
    dropped["reason"] = reasons[reasons.notna()].astype(str)
    return dropped.reset_index(drop=True)[columns]


# --------------------------------------------------------------------------------------------------------
# contamination: other catalog events inside an estimation window
# --------------------------------------------------------------------------------------------------------


@dataclass
class _Catalog:
    ids: np.ndarray  # (C,) event ids
    position: np.ndarray  # (C,) session row of each event's day 0 (-1 outside the data)
    ticker: np.ndarray  # (C,) ticker of firm-specific events, None for market-wide ones
    confounders: dict  # event id -> confounder text

    def groups(self):
        """(ticker or None, sorted positions, ids in that order): market-wide events, then each ticker's."""
        inside = np.flatnonzero(self.position >= 0)
        tickers = pd.Series(self.ticker[inside], dtype=object)
        market_wide = tickers.isna().to_numpy()
        if market_wide.any():
            yield None, *self._sorted(inside[market_wide])
        for key, members in tickers[~market_wide].groupby(tickers[~market_wide], sort=False).indices.items():
            yield key, *self._sorted(inside[~market_wide][members])

    def _sorted(self, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = members[np.argsort(self.position[members], kind="stable")]
        return self.position[order], self.ids[order]


def _catalog_positions(catalog, events, firm_events, calendar, sessions) -> _Catalog:
    if catalog is None:
        catalog = events if "id" in events.columns and "ticker" not in events.columns else firm_events
    check_instance("catalog", catalog, pd.DataFrame, "a DataFrame of events (see eventstudy.load_events)")
    id_column = "id" if "id" in catalog.columns else "event_id"
    if id_column not in catalog.columns:
        raise KeyError("The 'catalog' parameter needs an 'id' column naming each event.")
    if "day0" in catalog.columns:
        day0 = pd.to_datetime(catalog["day0"])
    else:
        session = catalog["session"] if "session" in catalog.columns else "pre"
        with warnings.catch_warnings():
            # the events themselves already warned about unknown sessions
            warnings.simplefilter("ignore", SessionAssumptionWarning)
            day0 = calendar.day_zeros(catalog["date"], np.asarray(session) if not isinstance(session, str) else session)
    ticker = catalog["ticker"].to_numpy(dtype=object) if "ticker" in catalog.columns else np.full(len(catalog), None)
    return _Catalog(
        ids=catalog[id_column].astype(str).to_numpy(),
        position=sessions.get_indexer(pd.DatetimeIndex(day0)),
        ticker=ticker,
        confounders=(
            dict(zip(catalog[id_column].astype(str), catalog["confounders"].fillna("")))
            if "confounders" in catalog.columns
            else {}
        ),
    )


def _in_windows(catalog: _Catalog, day0: np.ndarray, tickers: np.ndarray, window: tuple[int, int]) -> list[tuple]:
    """Ids of the catalog events whose day 0 lies in ``day0 + window``, per firm-event (same ticker or
    market-wide events), by binary search in each group's sorted positions."""
    found: list[tuple] = [()] * len(day0)
    rows_of = pd.Series(tickers, dtype=object).groupby(tickers, sort=False).indices
    for key, positions, ids in catalog.groups():  # a loop over the catalog's tickers, not over firm-events
        rows = np.arange(len(day0)) if key is None else rows_of.get(key, np.array([], dtype=np.int64))
        lo = np.searchsorted(positions, day0[rows] + window[0], side="left")
        hi = np.searchsorted(positions, day0[rows] + window[1], side="right")
        hits = np.flatnonzero(hi > lo)
        for row, a, b in zip(rows[hits], lo[hits], hi[hits]):  # only firm-events with a catalog event inside
            found[row] = found[row] + tuple(ids[a:b])
    return found


def _excluded_days(catalog: _Catalog, tickers, sessions, event_window) -> np.ndarray:
    """(T, M) mask of the sessions inside any catalog event's window, per security."""
    excluded = np.zeros((len(sessions), len(tickers)), dtype=bool)
    columns = pd.Index(tickers)
    for key, positions, _ in catalog.groups():
        days = np.zeros(len(sessions) + 1, dtype=np.int64)
        np.add.at(days, np.clip(positions + event_window[0], 0, len(sessions)), 1)
        np.add.at(days, np.clip(positions + event_window[1] + 1, 0, len(sessions)), -1)
        inside = np.cumsum(days[:-1]) > 0  # sessions covered by at least one window of this group
        if key is None:
            excluded |= inside[:, None]
        elif key in columns:
            excluded[:, columns.get_loc(key)] |= inside
    return excluded


def _flag_contamination(kept: pd.DataFrame, fit, catalog: _Catalog, spec: _Spec) -> pd.DataFrame:
    """Add ``contaminated_by`` (catalog events whose day 0 falls in the estimation window) and ``overlaps``
    (other firm-events of the same ticker whose event windows overlap)."""
    kept = kept.copy()
    n = len(kept)
    tickers = kept["ticker"].to_numpy(dtype=object)
    kept["contaminated_by"] = _in_windows(catalog, fit.day0, tickers, spec.estimation_window)
    lo, hi = spec.event_window
    width = hi - lo
    order = np.lexsort((fit.day0, fit.firm))
    overlaps: list[tuple] = [()] * n
    firm_sorted, day_sorted = fit.firm[order], fit.day0[order]
    ids = kept["event_id"].to_numpy()
    lag = 1
    while lag < n:  # lags grow only while some firm has that many events within one window width
        close = (day_sorted[lag:] - day_sorted[:-lag] <= width) & (firm_sorted[lag:] == firm_sorted[:-lag])
        if not close.any():
            break
        for j in np.flatnonzero(close):  # the few overlapping pairs, not every firm-event
            a, b = order[j], order[j + lag]
            overlaps[a] = overlaps[a] + (ids[b],)
            overlaps[b] = overlaps[b] + (ids[a],)
        lag += 1
    kept["overlaps"] = overlaps
    if "confounders" not in kept.columns:
        kept["confounders"] = [catalog.confounders.get(event_id, "") for event_id in ids]
    kept["confounders"] = kept["confounders"].astype(object).fillna("")
    return kept


def _provenance(returns: pd.DataFrame, frames: _Frames, source_info: dict) -> dict:
    values = np.ascontiguousarray(returns.to_numpy(dtype=float))
    digest = hashlib.sha256(values.tobytes())
    digest.update(returns.index.asi8.tobytes())
    digest.update("\x1f".join(map(str, returns.columns)).encode())
    valid = np.isfinite(values)
    has = valid.any(axis=0)
    first = valid.argmax(axis=0)
    last = len(values) - 1 - valid[::-1].argmax(axis=0)
    dates = returns.index.strftime("%Y-%m-%d").to_numpy()
    ranges = {str(c): ([dates[a], dates[b]] if h else []) for c, h, a, b in zip(returns.columns, has, first, last)}
    return {
        "source": source_info,
        "returns_sha256": digest.hexdigest(),
        "return_ranges": ranges,
        "notes": list(returns.attrs.get("eventstudy_notes", [])),
        "factors": frames.factors,
        "versions": library_versions(),
    }
