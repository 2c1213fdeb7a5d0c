"""The event-study specification and its fit.

:class:`EventStudy` holds settings only (validation happens in :meth:`EventStudy.fit`); ``fit()`` places
every firm-event on its own exchange's day 0 (:mod:`eventstudy.firmevents`), lays the securities out in
blocks of sessions with their own benchmarks (:mod:`eventstudy.layout`), estimates every firm-event at once
with :func:`~eventstudy.models.estimate`, records the firm-events it cannot estimate, and returns an
immutable :class:`~eventstudy.results.EventStudyResults`.
"""

from __future__ import annotations

import functools
import hashlib
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from ._validation import check_choice, check_instance, check_positive_int, check_windows
from .calendar import TradingCalendar
from .contamination import catalog_positions, excluded_days, flag_contamination
from .data.base import Field, library_versions
from .exceptions import DataQualityWarning, DataSourceError, DroppedFirmEventsWarning, EstimationError
from .firmevents import firm_events as make_firm_events
from .firmevents import place
from .layout import CalendarSpec, Layout, MarketSpec, same_sessions
from .models import RISK_FREE, NormalReturnModel, estimate, get_model
from .panel import AlignedData, gather, relative_days

__all__ = ["EventStudy", "required_span"]

#: exchange of the dates of French's factors and of a risk-free series
_FACTOR_EXCHANGE = "XNYS"


class EventStudy:
    """An event study: which events, which securities, which normal-return model, which windows.

    Parameters
    ----------
    events : DataFrame
        Either firm-events, with columns ``ticker`` and an event time (optional ``event_id``), or an event
        catalog such as :func:`eventstudy.load_events` returns, combined with ``tickers`` so that every ticker
        is studied on every event.  The event time is a ``date`` with a ``session`` (``pre``, ``intraday``,
        ``post``, ``unknown``; a bare date counts as ``pre``), a ``timestamp`` with its zone (or a tz-aware
        ``date``, or ``date`` + ``time`` + ``timezone``), or a ``day0`` you fix yourself (respected, never
        recomputed).  Day 0 comes from :mod:`eventstudy.eventtime`, the resolver that
        :func:`eventstudy.load_events` uses, on each security's own exchange.
    returns : DataFrame, optional
        Daily returns, one column per ticker (benchmarks included), DatetimeIndex; each column on its own
        exchange's sessions (as :func:`eventstudy.returns` gives them).  Simple returns unless
        ``returns.attrs["return_kind"] == "log"``.  Without it, prices are loaded from ``source``.
    source : PriceSource, optional
        Where to load prices when ``returns`` is not given; default :func:`eventstudy.default_source`.
    tickers : sequence of str, optional
        Securities to study on every event of a catalog.
    market : str, sequence of str, or mapping
        Benchmark(s): ``"SPY"``; ``["SPY", "SOXX"]`` for the multi-index model; or per security, by ticker
        or exchange code: ``{"XNYS": "SPY", "XTKS": "^N225", "XHKG": "^HSI", "0981.HK": "^HSI"}`` (lists for
        multi-index models, of one length).  Each regression uses the benchmark's returns on the security's
        own sessions.
    model : str or NormalReturnModel
        ``"market"`` (default), ``"constant-mean"``, ``"market-adjusted"``, ``"multi-index"``, ``"dimson"``,
        ``"scholes-williams"``, ``"capm"``, ``"ff3"``, ``"ff5"``, ``"carhart"``, or a model instance.
    factors : DataFrame, optional
        Daily factors in decimals (``Mkt-RF``, ``SMB``, ..., ``RF``) for the factor models and CAPM; loaded
        with :func:`eventstudy.load_factors` when needed and not given.  They are dated on NYSE sessions.
    risk_free : Series, optional
        Daily risk-free return in decimals, replacing the factors' ``RF`` (no factor file is then needed for
        CAPM).  Excess returns subtract it from the firm's return as given, so with log returns it is
        subtracted from a log return (a difference of about the product of the two, negligible daily).
    estimation_window, event_window : (int, int)
        Relative trading days of the security's own exchange, inclusive at both ends; day 0 is the first
        session that could react.  The estimation window must end before the event window starts.
    min_estimation_obs : int, optional
        Fewest estimation-window returns a firm-event needs; default half the window (and at least
        ``K + 3``, so that Patell's variance exists).
    calendar : "auto", str, TradingCalendar or mapping
        ``"auto"`` (default): each security on its own exchange, read from its Yahoo symbol (``8035.T`` on
        XTKS, ``0981.HK`` on XHKG, no suffix on XNYS; see :mod:`eventstudy.exchanges`).  A mapping
        ``{ticker: code}`` names exchanges over that.  An exchange code or :class:`TradingCalendar`: every
        security on that one calendar.
    align_benchmarks : {"refuse", "same-date"}
        A benchmark (or factor) on another exchange than the security has no session-by-session match:
        ``"refuse"`` (default) raises; ``"same-date"`` takes the benchmark's return dated the same calendar
        day (missing where its market was closed) — pair it with ``model="dimson"`` for a foreign listing
        measured against a US index.
    unknown_session : {"pre", "post"}, optional
        Day-0 rule for events whose release session is unknown.  Default: the rule the events carry (from
        ``load_events(..., unknown_session=...)``), else the calendar's own (``"pre"``).  A value that
        contradicts the events' own rule is an error.
    naive_tz : str, optional
        The zone of event times written without one (``"America/New_York"``, or ``"exchange"`` for each
        security's exchange zone); by default such times are refused.
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
    outcome : {"returns", "volume", "volatility"}
        What is studied (see :mod:`eventstudy.outcomes`): returns (default); ``"volume"``, abnormal log
        volume (``returns=`` is then a frame of volumes, or the ``Volume`` field is read from ``source``;
        ``model="market"`` regresses on the benchmark's log volume, ``"constant-mean"`` is mean-adjusted);
        ``"volatility"``, a returns study whose :class:`~eventstudy.outcomes.VolatilityResults` gives the
        ratio of event-window to estimation-window variance.

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
        market: str | Sequence[str] | Mapping = "SPY",
        model: str | NormalReturnModel = "market",
        factors: pd.DataFrame | None = None,
        risk_free: pd.Series | None = None,
        estimation_window: tuple[int, int] = (-250, -11),
        event_window: tuple[int, int] = (-5, 5),
        min_estimation_obs: int | None = None,
        calendar: str | TradingCalendar | Mapping[str, str] = "auto",
        align_benchmarks: str = "refuse",
        unknown_session: str | None = None,
        naive_tz: str | None = None,
        catalog: pd.DataFrame | None = None,
        exclude_events: bool = False,
        price_field: Field = "Adj Close",
        return_kind: Literal["simple", "log"] = "simple",
        name: str | None = None,
        outcome: str = "returns",
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
        self.align_benchmarks = align_benchmarks
        self.unknown_session = unknown_session
        self.naive_tz = naive_tz
        self.catalog = catalog
        self.exclude_events = exclude_events
        self.price_field = price_field
        self.return_kind = return_kind
        self.name = name
        self.outcome = outcome

    def __repr__(self) -> str:
        model: object
        try:
            model = get_model(self.model).name
        except (TypeError, ValueError):
            model = self.model
        return (
            f"EventStudy(model={model!r}, market={self.market!r}, "
            f"estimation_window={self.estimation_window}, event_window={self.event_window})"
        )

    # ----------------------------------------------------------------------------------------------------
    def fit(self):
        """Estimate every firm-event and return :class:`~eventstudy.results.EventStudyResults`.

        Firm-events that cannot be estimated are kept out, listed in ``res.dropped`` with the reason, and
        announced by one :class:`~eventstudy.exceptions.DroppedFirmEventsWarning`; when none is left,
        :class:`~eventstudy.exceptions.EstimationError` is raised with the list.
        """
        from .outcomes import OUTCOMES
        from .results import EventStudyResults

        outcome = check_choice("outcome", self.outcome, OUTCOMES)
        if outcome == "volatility":
            from .outcomes import fit_volatility

            return fit_volatility(self)
        spec = self._validated()
        spec.outcome = outcome
        failures: dict[str, str] = {}
        firm_events = make_firm_events(self.events, self.tickers)
        explicit = self.unknown_session
        if explicit is None and isinstance(self.calendar, TradingCalendar):
            explicit = self.calendar.unknown_session  # a calendar object states its rule
        firm_events = place(firm_events, spec.calendars, unknown_session=explicit, naive_tz=self.naive_tz)
        securities = firm_events.drop_duplicates("ticker")
        of = {t: spec.markets.of(t, x) for t, x in zip(securities["ticker"], securities["exchange"])}
        firm_events["benchmarks"] = firm_events["ticker"].map(of)
        spec.check_models(firm_events)
        if outcome == "volume":
            from .outcomes import load_volumes

            returns, source_info, failures = load_volumes(self, firm_events, spec)
        else:
            returns, source_info, failures = self._load_returns(firm_events, spec)
        layout = _layout(firm_events, returns, spec)
        frames = _design(returns, layout, spec, self.factors, self.risk_free)
        catalog = catalog_positions(self.catalog, self.events, firm_events, spec.calendars, layout)
        excluded = (
            excluded_days(catalog, layout.tickers, layout.rows, spec.event_window) if spec.exclude_events else None
        )
        data = AlignedData.build(frames.y, frames.z, excluded, spans=layout.spans())

        firm, day0 = layout.locate(firm_events["ticker"], firm_events["day0"])
        reasons = _unplaceable(firm_events, firm, day0, layout, spec, failures)
        keep = reasons.isna().to_numpy()
        fit = estimate(
            data,
            day0[keep],
            firm[keep],
            spec.estimation_window,
            spec.event_window,
            intercept=spec.model.intercept and spec.model.estimated,
            estimated=spec.model.estimated,
            model=spec.model,
        )
        reasons.loc[keep] = _unestimable(fit, frames, layout, spec)
        fit = fit.take(reasons.loc[keep].isna().to_numpy())
        keep = reasons.isna().to_numpy()
        refit = getattr(spec.model, "refit", None)  # models fitted by likelihood (GARCH) start from OLS
        if refit is not None and fit.n:
            fit, why = refit(fit)
            reasons.loc[keep] = why
            fit = fit.take(reasons.loc[keep].isna().to_numpy())
            keep = reasons.isna().to_numpy()
        if outcome == "volume":
            from .outcomes import volume_reason

            reasons = reasons.map(volume_reason)
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
        # the arrays already computed (abnormal returns, masks) do not depend on the groups: keep them
        fit = replace(fit, cluster=event_clusters(kept["event_id"].to_numpy(), fit.day0), _cache=fit._cache)
        codes, lists = pd.factorize(kept["benchmarks"].to_numpy())  # a few distinct lists: join each once
        kept["benchmarks"] = np.array([", ".join(b) for b in lists], dtype=object)[codes]
        kept, hits = flag_contamination(kept, fit, catalog, spec.estimation_window, spec.event_window)
        provenance = functools.partial(_provenance, returns, frames.factors, source_info)  # computed when read
        return EventStudyResults(
            fit=fit,
            firm_events=kept,
            dropped=dropped,
            sessions=layout.rows,
            raw=frames.raw,
            offset=frames.offset,
            regressor_names=frames.z_names,
            model=spec.model,
            market=frames.market,
            settings=spec.settings(layout),
            provenance=provenance,
            return_kind=spec.return_kind,
            name=self.name,
            contamination=hits,
        )

    # ----------------------------------------------------------------------------------------------------
    def _validated(self) -> _Spec:
        estimation_window, event_window = check_windows(self.estimation_window, self.event_window)
        model = get_model(self.model)
        markets = MarketSpec(self.market)
        calendars = CalendarSpec(self.calendar, unknown_session=self.unknown_session)
        probe = markets.single if markets.single is not None else next(iter(markets.mapping.values()))
        n_params = len(model.param_names(probe))
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
        if markets.single is not None:
            model.validate_market(markets.single)
        return _Spec(
            model=model,
            markets=markets,
            estimation_window=estimation_window,
            event_window=event_window,
            calendars=calendars,
            align=check_choice("align_benchmarks", self.align_benchmarks, ("refuse", "same-date")),
            min_obs=int(min_obs),
            return_kind=check_choice("return_kind", self.return_kind, ("simple", "log")),
            price_field=self.price_field,
            exclude_events=bool(self.exclude_events),
        )

    def _load_returns(self, firm_events: pd.DataFrame, spec: _Spec) -> tuple[pd.DataFrame, dict, dict[str, str]]:
        benchmarks = list(dict.fromkeys(b for names in dict.fromkeys(firm_events["benchmarks"]) for b in names))
        needed = list(dict.fromkeys([*pd.unique(firm_events["ticker"]), *benchmarks]))
        failures: dict[str, str] = {}
        info: dict[str, Any]
        if self.returns is not None:
            check_instance("returns", self.returns, pd.DataFrame, "a DataFrame of daily returns")
            kind = self.returns.attrs.get("return_kind", spec.return_kind)
            spec.return_kind = check_choice("returns.attrs['return_kind']", kind, ("simple", "log"))
            returns = _given_returns(self.returns, spec, needed)
            info = {"kind": "returns given by the caller", "columns": list(map(str, returns.columns))}
        else:
            from ._returns import returns as to_returns
            from .data import default_source

            source = self.source if self.source is not None else default_source()
            start, end = required_span(firm_events, spec.estimation_window, spec.event_window, spec.calendars)
            # a firm the source has no prices for is a recorded drop; a missing benchmark is an error
            prices = source.get_prices(needed, start, end, field=spec.price_field, missing="skip")
            failures = dict(prices.attrs.get("eventstudy_failures", {}))
            lacking = {b: failures[b] for b in benchmarks if b in failures}
            if lacking:
                raise DataSourceError("No prices for the benchmark(s) the model needs.", failures=lacking)
            returns = to_returns(prices, spec.return_kind, calendar=spec.calendars.argument())
            info = {"kind": "prices loaded from a source", **_describe(source), "field": spec.price_field}
            columns = prices.attrs.get("eventstudy_price_columns")
            if columns:
                info["price_columns"] = dict(columns)
        from .quality import case_hint, check_return_values, warn_implausible

        missing = [m for m in benchmarks if m not in returns.columns]
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
        present = set(returns.columns)
        for ticker in (t for t in needed if t not in present):  # case-sensitive: say so where the other case exists
            hint = case_hint([ticker], returns.columns).strip()
            if hint:
                failures[ticker] = f"{failures.get(ticker, f'no column {ticker!r} in the returns')}. {hint}"
        found = warn_implausible(returns[[c for c in needed if c in returns.columns]], benchmarks[0])
        if len(found):
            returns.attrs.setdefault("eventstudy_notes", []).extend(
                f"{r['ticker']}: implausible return {r['return']:+.1%} on {r['date']:%Y-%m-%d} kept"
                for r in found.to_dict("records")
            )
        return returns.astype(float), info, failures


@dataclass
class _Spec:
    model: NormalReturnModel
    markets: MarketSpec
    estimation_window: tuple[int, int]
    event_window: tuple[int, int]
    calendars: CalendarSpec
    align: str
    min_obs: int
    return_kind: Literal["simple", "log"]
    price_field: Field
    exclude_events: bool
    outcome: str = "returns"

    def check_models(self, firm_events: pd.DataFrame) -> None:
        """Every benchmark list fits the model, and lists are of one length (they share regressor columns)."""
        lists = list(dict.fromkeys(firm_events["benchmarks"]))
        for names in lists:
            self.model.validate_market(names)
        if len({len(names) for names in lists}) > 1:
            raise ValueError(
                f"The 'market' mapping gives benchmark lists of different lengths ({[list(n) for n in lists]}); "
                "one model needs as many benchmarks for every security."
            )

    def settings(self, layout: Layout) -> dict:
        market = self.markets.describe()
        if self.markets.single is not None or len({b.benchmarks for b in layout.blocks}) == 1:
            label = self.model.describe(
                self.markets.single if self.markets.single is not None else layout.blocks[0].benchmarks
            )
        else:  # one benchmark per exchange: say which
            pairs = dict.fromkeys(f"{b.exchange} {'+'.join(b.benchmarks)}" for b in layout.blocks)
            label = f"{self.model.label} (benchmark per exchange: {', '.join(pairs)})"
        return {
            "model": self.model.name,
            "model_label": label,
            "market": market,
            "estimation_window": list(self.estimation_window),
            "event_window": list(self.event_window),
            "min_estimation_obs": self.min_obs,
            "calendar": self.calendars.name,
            "exchanges": {t: layout.blocks[b].exchange for t, b in zip(layout.tickers, layout.column_block)},
            "align_benchmarks": self.align,
            "unknown_session": self.calendars.unknown_session,
            "return_kind": self.return_kind,
            "price_field": self.price_field,
            "exclude_events": self.exclude_events,
            "outcome": self.outcome,
        }


def event_clusters(event_ids: np.ndarray, day0: np.ndarray) -> np.ndarray:
    """Independent groups of firm-events for tests across events (codes 0..G-1).

    Firm-events of one announcement are one group however many exchanges saw it (their day 0s differ), and
    announcements that share a day 0 on some exchange are one group too (their abnormal returns are the same
    days' returns): the connected components of the graph linking firm-events through ``event_id`` or
    ``day0`` (a row of the stacked session axis).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(event_ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    events = pd.factorize(pd.Series(event_ids, dtype=object))[0]
    days = pd.factorize(pd.Series(np.asarray(day0)))[0] + events.max() + 1
    graph = coo_matrix((np.ones(n), (events, days)), shape=(days.max() + 1, days.max() + 1))
    _, labels = connected_components(graph, directed=False)
    return pd.factorize(labels[events])[0].astype(np.int64)


def _describe(source) -> dict:
    describe = getattr(source, "describe", None)
    return dict(describe()) if callable(describe) else {"source": type(source).__name__}


def required_span(
    firm_events: pd.DataFrame, estimation_window: tuple[int, int], event_window: tuple[int, int], calendars
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last price date a study needs: on each exchange, the session before the earliest estimation
    day (its return needs the previous close) through the last event-window day, not after today.

    ``firm_events`` has ``day0`` (and ``exchange``; without it every day 0 is on ``calendars``, a
    :class:`TradingCalendar` or :class:`~eventstudy.layout.CalendarSpec`).
    """
    if isinstance(calendars, TradingCalendar):
        calendars = CalendarSpec(calendars)
    if isinstance(firm_events, (pd.Series, pd.DatetimeIndex)):
        firm_events = pd.DataFrame({"day0": pd.DatetimeIndex(firm_events)})
    exchanges = (
        firm_events["exchange"]
        if "exchange" in firm_events.columns
        else pd.Series(calendars.name, index=firm_events.index)
    )
    starts, ends = [], []
    for code in pd.unique(exchanges):
        sessions = calendars.calendar(code if code != "auto" else "XNYS").sessions
        positions = sessions.get_indexer(pd.DatetimeIndex(firm_events.loc[exchanges == code, "day0"]))
        positions = positions[positions >= 0]
        if not len(positions):
            continue
        lo = max(int(positions.min()) + min(estimation_window[0], event_window[0]) - 1, 0)
        hi = min(int(positions.max()) + event_window[1], len(sessions) - 1)
        starts.append(sessions[lo])
        ends.append(sessions[hi])
    today = pd.Timestamp.today().normalize()
    return min(starts), min(max(ends), today)


def _given_returns(returns: pd.DataFrame, spec: _Spec, needed: Sequence[str]) -> pd.DataFrame:
    """The caller's returns, each column the study reads checked against its own sessions: a value on a day
    its exchange was closed is left out with a warning (it cannot be a return of that exchange).  Columns the
    study does not read are left as they are (an unknown suffix there is not the study's concern)."""
    if not isinstance(returns.index, pd.DatetimeIndex):
        raise TypeError(
            "The 'returns' parameter must have a DatetimeIndex. Got "
            f"{type(returns.index).__name__}; parse it with pd.to_datetime or read_csv(..., parse_dates=...)."
        )
    index = returns.index.tz_localize(None) if returns.index.tz is not None else returns.index
    index = index.normalize().as_unit("ns")
    if index.has_duplicates:
        raise ValueError(
            f"The 'returns' index has duplicated dates ({', '.join(f'{d:%Y-%m-%d}' for d in index[index.duplicated()][:5])}); "
            "keep one row per date."
        )
    frame = returns.set_axis(index).sort_index()
    notes = list(returns.attrs.get("eventstudy_notes", []))
    off: list[str] = []
    wanted = set(needed)
    read = [c for c in frame.columns if c in wanted and pd.api.types.is_numeric_dtype(frame[c].dtype)]
    exchanges = {c: spec.calendars.exchange(str(c)) for c in read}
    for code in dict.fromkeys(exchanges.values()):  # one pass per exchange, not per column
        columns = [c for c in read if exchanges[c] == code]
        closed = ~frame.index.isin(spec.calendars.calendar(code).sessions)
        if not closed.any():
            continue
        values = frame[columns].to_numpy(dtype=float, na_value=np.nan)
        stray = np.isfinite(values) & closed[:, None]
        if not stray.any():
            continue
        for k in np.flatnonzero(stray.any(axis=0)):  # only the columns with such values
            days = frame.index[stray[:, k]]
            off.append(f"{columns[k]}: {len(days)} ({', '.join(f'{d:%Y-%m-%d}' for d in days[:3])})")
        frame[columns] = np.where(stray, np.nan, values)  # frame is already a new object (set_axis, sort_index)
    if off:
        note = "returns on days the security's exchange was closed were left out: " + "; ".join(off)
        warnings.warn(note + ". Check the data source.", DataQualityWarning, stacklevel=4)
        notes.append(note)
    frame.attrs = {**returns.attrs, "eventstudy_notes": notes}
    return frame


# --------------------------------------------------------------------------------------------------------
# blocks and design matrices
# --------------------------------------------------------------------------------------------------------


def _layout(firm_events: pd.DataFrame, returns: pd.DataFrame, spec: _Spec) -> Layout:
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


def _check_alignment(benchmark: str, benchmark_exchange: str, exchange: str, spec: _Spec) -> None:
    if same_sessions(benchmark_exchange, exchange) or spec.align == "same-date":
        return
    raise ValueError(
        f"The benchmark {benchmark} trades on {benchmark_exchange}, the securities measured against it on "
        f"{exchange}: their sessions differ, so there is no rule to align their returns. Give a local benchmark "
        f"per exchange (market={{'{exchange}': '<local index>', ...}}), or pass align_benchmarks='same-date' to "
        "take the benchmark's return dated the same day (with model='dimson' for the time-zone lag)."
    )


@dataclass
class _Frames:
    raw: np.ndarray  # firms' returns (T, M)
    offset: np.ndarray  # what is subtracted from the raw return to form y (T, M): RF, the market, or 0
    y: np.ndarray  # dependent variable (T, M)
    z: np.ndarray  # regressors without the constant (T, P)
    z_names: tuple[str, ...]  # regressor names (the benchmarks' when every block has the same)
    market: tuple[str, ...]  # the benchmark names results label coefficients with
    offset_name: str | None
    factors: dict


def _design(returns: pd.DataFrame, layout: Layout, spec: _Spec, factors, risk_free) -> _Frames:
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
    same = len(set(benchmark_lists)) == 1
    market = benchmark_lists[0] if same else tuple(_roles(len(benchmark_lists[0])))
    z_names = model.regressor_names(market)
    offset_name = model.offset(market)
    shifted = model.excess or any(model.offset(b) is not None for b in benchmark_lists)
    y = raw - offset if shifted else raw  # nothing subtracted (market model): no copy of the panel minus zeros
    return _Frames(raw, offset, y, z, z_names, market, offset_name, factor_info)


def _roles(n: int) -> list[str]:
    """Names of the benchmark columns when blocks use different benchmarks (``market``, ``market2``, ...)."""
    return ["market"] + [f"market{k + 1}" for k in range(1, n)]


def _factor_table(model: NormalReturnModel, factors) -> tuple[pd.DataFrame, dict]:
    info: dict[str, Any]
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
    return table, info


# --------------------------------------------------------------------------------------------------------
# what cannot be estimated, and why
# --------------------------------------------------------------------------------------------------------


def _unplaceable(firm_events, firm, day0, layout: Layout, spec: _Spec, failures: dict[str, str]) -> pd.Series:
    """Reasons that need no fit: no returns for the ticker, day 0 or the event window outside the data."""
    reasons = pd.Series(None, index=firm_events.index, dtype=object)
    lo, hi = spec.event_window
    first_id = firm_events.groupby(["ticker", "day0"], sort=False)["event_id"].transform("first")
    twice = (firm_events["event_id"] != first_id).to_numpy()
    reasons[twice] = [
        f"same day 0 ({d:%Y-%m-%d}) as event {f!r} for this ticker; kept once so it is not counted twice"
        for d, f in zip(firm_events.loc[twice, "day0"], first_id[twice])
    ]
    no_ticker = firm < 0
    spans = layout.spans()
    start = np.where(no_ticker, 0, spans[np.maximum(firm, 0), 0]) if len(spans) else np.zeros(len(firm), int)
    stop = np.where(no_ticker, 0, spans[np.maximum(firm, 0), 1]) if len(spans) else np.zeros(len(firm), int)
    outside = ~no_ticker & (day0 < 0)
    past_end = ~no_ticker & ~outside & (day0 + hi >= stop)
    before_start = ~no_ticker & ~outside & ~past_end & (day0 + lo < start)
    rows = layout.rows

    def bounds(i: int) -> tuple[str, str]:
        return f"{rows[start[i]]:%Y-%m-%d}", f"{rows[stop[i] - 1]:%Y-%m-%d}"

    reasons[no_ticker] = [
        f"no prices for this ticker: {failures[t]}" if t in failures else "no returns for this ticker"
        for t in firm_events.loc[no_ticker, "ticker"]
    ]
    for mask, text in (
        (outside, "day 0 lies outside the returns ({0} to {1})"),
        (past_end, "event window ends after the last return ({1})"),
        (before_start, "event window starts before the first return ({0})"),
    ):
        for i in np.flatnonzero(mask).tolist():
            if stop[i] > start[i]:
                reasons.iloc[i] = text.format(*bounds(i))
            else:
                reasons.iloc[i] = "no sessions of the security's exchange in the returns' date range"
    return reasons


def _unestimable(fit, frames: _Frames, layout: Layout, spec: _Spec) -> np.ndarray:
    """Reasons found in the fit, most basic first: the return, then what the model subtracts or regresses
    on, on day 0; then too short an estimation window; then a model that is not identified."""
    zero = np.array([0])
    min_obs = spec.min_obs
    raw = frames.raw
    valid = np.isfinite(raw)
    first = valid.argmax(axis=0)  # each ticker's first and last return, to say why days are missing
    last = len(raw) - 1 - valid[::-1].argmax(axis=0)
    dates = layout.rows

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

    specific = unidentified(fit, layout.tickers, frames.z_names, spec.markets.all())
    named = np.flatnonzero(specific != None)  # noqa: E711 - elementwise on an object array
    reasons[named] = specific[named]
    for row in np.flatnonzero(fit.n_obs < min_obs).tolist():  # only the firm-events with too short a window
        reasons[row] = f"{fit.n_obs[row]} estimation-window returns, fewer than the minimum {min_obs}{span_note(row)}"
    names = np.array(frames.z_names, dtype=object)
    if len(names):
        z0 = gather(frames.z, fit.day0, zero)[:, 0, :]
        missing = ~np.isfinite(z0)
        for row in np.flatnonzero(missing.any(axis=1)).tolist():  # only the firm-events with a gap on day 0
            reasons[row] = f"regressor {', '.join(names[missing[row]])} missing on day 0"
    offset0 = gather(frames.offset, fit.day0, zero, fit.firm)[:, 0]
    what = f"benchmark {frames.offset_name}" if frames.offset_name is not None else "risk-free rate (RF)"
    reasons[~np.isfinite(offset0)] = f"{what} missing on day 0"
    raw0 = gather(raw, fit.day0, zero, fit.firm)[:, 0]
    for row in np.flatnonzero(~np.isfinite(raw0)).tolist():
        reasons[row] = f"no return on day 0{span_note(row)}"
    # kept firm-events with a gap later in the event window: not a drop, but their CARs there are NaN
    from .quality import warn_event_window_gaps

    warn_event_window_gaps(fit, layout.tickers, layout.rows, reasons == None)  # noqa: E711
    return reasons


def _dropped_table(firm_events: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    columns = ["event_id", "ticker", "date", "day0", "reason"]
    dropped = firm_events.loc[reasons.notna(), columns[:-1]].copy()
    dropped["reason"] = reasons[reasons.notna()].astype(str)
    return dropped.reset_index(drop=True)[columns]


# --------------------------------------------------------------------------------------------------------
# provenance
# --------------------------------------------------------------------------------------------------------


def _provenance(returns: pd.DataFrame, factors: dict, source_info: dict) -> dict:
    values = np.ascontiguousarray(returns.to_numpy(dtype=float))
    # the array's own buffer, no bytes copy (numpy's stubs give ndarray __buffer__ only for Python 3.12+)
    digest = hashlib.sha256(memoryview(values))  # type: ignore[arg-type]
    index = cast(pd.DatetimeIndex, returns.index)  # a study's returns are dated (_given_returns, returns())
    digest.update(index.asi8.tobytes())
    digest.update("\x1f".join(map(str, returns.columns)).encode())
    valid = np.isfinite(values)
    has = valid.any(axis=0)
    first = valid.argmax(axis=0)
    last = len(values) - 1 - valid[::-1].argmax(axis=0)
    dates = index.strftime("%Y-%m-%d").to_numpy()
    ranges = {str(c): ([dates[a], dates[b]] if h else []) for c, h, a, b in zip(returns.columns, has, first, last)}
    return {
        "source": source_info,
        "returns_sha256": digest.hexdigest(),
        "return_ranges": ranges,
        "notes": list(returns.attrs.get("eventstudy_notes", [])),
        "factors": factors,
        "versions": library_versions(),
    }
