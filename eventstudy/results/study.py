"""The event-study specification and its fit.

:class:`EventStudy` holds settings only (validation happens in :meth:`EventStudy.fit`); ``fit()`` places
every firm-event on its own exchange's day 0 (:mod:`eventstudy.estimation.firmevents`), loads the returns
(:mod:`eventstudy.estimation.loading`), lays the securities out in blocks of sessions with their own benchmarks and
builds the design (:mod:`eventstudy.time.layout`, :mod:`eventstudy.estimation.design`), estimates every firm-event at once
with :func:`~eventstudy.estimation.fit.estimate`, records the firm-events it cannot estimate (:mod:`eventstudy.estimation.drops`),
flags contamination (:mod:`eventstudy.estimation.contamination`), and returns an immutable
:class:`~eventstudy.results.results.EventStudyResults` whose provenance :mod:`eventstudy.estimation.provenance` computes.
"""

from __future__ import annotations

import copy
import functools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from eventstudy.data import default_source
from eventstudy.data.base import Field
from eventstudy.estimation.contamination import catalog_positions, excluded_days, flag_contamination
from eventstudy.estimation.design import build_frames, build_layout, frame_names
from eventstudy.estimation.drops import dropped_table, nothing_estimated, unestimable, unplaceable
from eventstudy.estimation.firmevents import benchmark_lists, event_clusters, first_rows, object_array, place
from eventstudy.estimation.firmevents import firm_events as make_firm_events
from eventstudy.estimation.loading import given_info, load_returns, required_span
from eventstudy.estimation.models import NormalReturnModel, get_model
from eventstudy.estimation.outcomes import OUTCOMES, check_outcome, load_volumes, range_variances, volume_reason
from eventstudy.estimation.panel import AlignedData
from eventstudy.estimation.provenance import provenance as data_provenance
from eventstudy.estimation.quality import warn_event_window_gaps
from eventstudy.estimation.spec import FitSpec
from eventstudy.exceptions import DroppedFirmEventsWarning, MarketShockWarning, NotAFirmWarning
from eventstudy.foundation.validation import check_choice, check_instance, check_positive_int, check_windows
from eventstudy.results.distributed import (
    Unestimated,
    benchmark_returns,
    check_client,
    fit_partitions,
    merge_parts,
    merged_provenance,
    warning_orders,
)
from eventstudy.results.results import EventStudyResults, VolatilityResults, market_shocks
from eventstudy.time.calendar import TradingCalendar
from eventstudy.time.layout import CalendarSpec, MarketSpec

__all__ = ["EventStudy", "required_span", "event_clusters", "warn_market_shocks", "warn_not_firms"]


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
        recomputed).  Day 0 comes from :mod:`eventstudy.time.eventtime`, the resolver that
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
        ``"scholes-williams"``, ``"capm"``, ``"ff3"``, ``"ff5"``, ``"carhart"``, ``"garch"``, ``"gjr-garch"``,
        ``"egarch"`` (``"-t"`` for Student t errors): a name of :data:`eventstudy.estimation.models.REGISTRY`, an
        alias, or a model instance.  The data the model declares it needs (``model.needs()``: leads and lags,
        factors) are loaded with the returns.
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
        XTKS, ``0981.HK`` on XHKG, no suffix on XNYS; see :mod:`eventstudy.foundation.exchanges`).  A mapping
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
        What is studied (see :mod:`eventstudy.estimation.outcomes`): returns (default); ``"volume"``, abnormal log
        volume (``returns=`` is then a frame of volumes, or the ``Volume`` field is read from ``source``;
        ``model="market"`` regresses on the benchmark's log volume, ``"constant-mean"`` is mean-adjusted);
        ``"volatility"``, a returns study (a :class:`~eventstudy.results.results.VolatilityResults`, which is an
        :class:`~eventstudy.results.results.EventStudyResults`) whose ``res.volatility()`` gives the ratio of
        event-window to estimation-window variance, with High/Low range variances loaded from ``source``.

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
        # never raises, even on a spec whose __init__ stopped half-way (a debugger shows it) or holds bad values
        missing = "?"
        model: object = getattr(self, "model", missing)
        try:
            model = get_model(model).name  # type: ignore[arg-type]  # any value: get_model refuses bad ones
        except (TypeError, ValueError, KeyError):
            pass
        fields = ("market", "estimation_window", "event_window")
        shown = ", ".join(f"{name}={getattr(self, name, missing)!r}" for name in fields)
        return f"EventStudy(model={model!r}, {shown})"

    # ----------------------------------------------------------------------------------------------------
    def fit(self, *, client=None, partitions: int | None = None):
        """Estimate every firm-event and return :class:`~eventstudy.results.results.EventStudyResults`.

        Firm-events that cannot be estimated are kept out, listed in ``res.dropped`` with the reason, and
        announced by one :class:`~eventstudy.exceptions.DroppedFirmEventsWarning`; when none is left,
        :class:`~eventstudy.exceptions.EstimationError` is raised with the list.

        Parameters
        ----------
        client : dask.distributed.Client, optional
            Fit on a cluster (``pip install "eventstudy-toolkit[dask]"``): the securities are split into
            ``partitions``, each partition's firm-events are fitted on a worker with its columns of ``returns``
            and the benchmarks' (or with prices read on the worker from ``source``), and the partitions are
            merged into the results the local fit gives (:mod:`eventstudy.results.distributed`).
        partitions : int, optional
            How many partitions of securities; default one per worker of ``client``.
        """
        spec = self._validated()
        if client is None:
            if partitions is not None:
                raise ValueError(
                    "The 'partitions' parameter splits the securities over a dask client's workers; pass client= "
                    "as well, or leave partitions out for a local fit."
                )
            return self._fit(spec)
        return self._fit_on(client, spec, partitions)

    def _placed(self, spec: FitSpec) -> pd.DataFrame:
        """The firm-events on their exchanges' day 0, with their benchmarks (the not-a-firm warning issued)."""
        firm_events = make_firm_events(self.events, self.tickers)
        explicit = self.unknown_session
        if explicit is None and isinstance(self.calendar, TradingCalendar):
            explicit = self.calendar.unknown_session  # a calendar object states its rule
        firm_events = place(firm_events, spec.calendars, unknown_session=explicit, naive_tz=self.naive_tz)
        # each security's benchmarks found once (not row by row)
        codes, tickers = pd.factorize(firm_events["ticker"])
        exchanges = firm_events["exchange"].take(first_rows(firm_events["ticker"])).tolist()
        of = [spec.markets.of(t, x) for t, x in zip(tickers, exchanges)]
        firm_events["benchmarks"] = object_array(of)[codes]
        spec.check_models(list(dict.fromkeys(of)))  # the distinct lists, from the securities (not every row)
        warn_not_firms(firm_events)
        return firm_events

    def _fit(
        self,
        spec: FitSpec,
        firm_events: pd.DataFrame | None = None,
        *,
        loaded: tuple[pd.DataFrame, dict, dict[str, str]] | None = None,
        span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
        market: tuple[str, ...] | None = None,
    ) -> EventStudyResults:
        """The fit of a returns or volume study on the frozen ``spec``: plain values go down, never ``self``.
        ``firm_events``, already placed (:meth:`_placed`), are a partition's on a cluster, which passes the
        partition's ``loaded`` data (:meth:`_load`), the whole study's first and last date (``span``) and
        benchmark names (``market``), so that its layout and drop reasons are the local fit's."""
        outcome = spec.outcome
        if firm_events is None:
            firm_events = self._placed(spec)
        lists = benchmark_lists(firm_events)  # the distinct lists, once for every step that reads them
        returns, source_info, failures = self._load(spec, firm_events, lists) if loaded is None else loaded
        layout = build_layout(firm_events, returns, spec, span)
        frames = build_frames(returns, layout, spec, self.factors, self.risk_free, market)
        firm, day0 = layout.locate(firm_events["ticker"], firm_events["day0"])
        catalog = catalog_positions(self.catalog, self.events, firm_events, spec.calendars, layout, located=day0)
        excluded = (
            excluded_days(catalog, layout.tickers, layout.rows, spec.event_window) if spec.exclude_events else None
        )
        data = AlignedData.build(frames.y, frames.z, excluded, spans=layout.spans())

        reasons = unplaceable(firm_events, firm, day0, layout, spec, failures)
        keep = reasons.isna().to_numpy()
        fit = spec.model.fit(data, day0[keep], firm[keep], spec.estimation_window, spec.event_window)
        reasons.loc[keep] = unestimable(fit, frames, layout, spec)
        fit = fit.take(reasons.loc[keep].isna().to_numpy())
        keep = reasons.isna().to_numpy()
        if fit.n:  # a second stage (GARCH's likelihood) starts from the least-squares fit
            fit, why = spec.model.refit(fit)
            if not pd.isna(why).all():  # none left out (least squares only): no copy of the fit
                reasons.loc[keep] = why
                fit = fit.take(reasons.loc[keep].isna().to_numpy())
                keep = reasons.isna().to_numpy()
        if outcome == "volume":
            reasons = reasons.map(volume_reason)
        dropped = dropped_table(firm_events, reasons)
        if not keep.any():
            raise nothing_estimated(dropped)
        kind: type[EventStudyResults] = EventStudyResults
        volatility: dict[str, Any] = {}
        if outcome == "volatility":  # a returns study whose summary adds the variance ratios
            kind = VolatilityResults
            if self.returns is not None:
                volatility = {"volatility_note": "returns were given, not prices"}
            else:
                source = self.source if self.source is not None else default_source()
                tickers = pd.unique(firm_events.loc[keep, "ticker"])
                volatility = {"range_variance": range_variances(source, tickers, layout.rows.min(), layout.rows.max())}
        return self._results(
            spec,
            firm_events,
            keep,
            fit,
            dropped,
            layout,
            catalog,
            returns,
            (frames.raw, frames.offset),
            functools.partial(data_provenance, returns, frames.factors, source_info),  # computed when read
            kind,
            volatility,
        )

    def _load(
        self, spec: FitSpec, firm_events: pd.DataFrame, lists: Sequence[tuple[str, ...]] | None = None
    ) -> tuple[pd.DataFrame, dict, dict[str, str]]:
        """The returns (or log volumes) of ``firm_events``' securities and benchmarks, the source's description
        and the tickers without data, each with why (the loaders')."""
        if spec.outcome == "volume":
            return load_volumes(firm_events, spec, volumes=self.returns, source=self.source, lists=lists)
        return load_returns(firm_events, spec, returns=self.returns, source=self.source, lists=lists)

    def _results(
        self,
        spec: FitSpec,
        firm_events: pd.DataFrame,
        keep: np.ndarray,
        fit,
        dropped: pd.DataFrame,
        layout,
        catalog,
        returns: pd.DataFrame,
        panels: tuple[np.ndarray, np.ndarray],
        provenance,
        kind: type[EventStudyResults] = EventStudyResults,
        extra: Mapping[str, Any] | None = None,
    ) -> EventStudyResults:
        """What a fit does once its firm-events are estimated, the same on one machine and on a cluster
        (:meth:`_fit_on`, after the partitions are merged): warn of gaps in kept event windows and once with the
        count of drops, group the
        firm-events of one announcement (:func:`event_clusters`, across securities), flag contamination from
        the catalog, warn of market shocks in event windows, and build the results.

        ``keep`` marks the estimated rows of ``firm_events`` (the rows of ``fit``, in order); ``returns``
        holds at least the benchmarks' columns (for the market-shock warning); ``panels`` the firms' raw
        returns and what the model subtracts, on ``layout``."""
        # kept firm-events with a gap later in the event window (not a drop, but their CARs there are NaN):
        # counted on the final fit, after a second stage (GARCH) has left out what it could not estimate
        warn_event_window_gaps(fit, layout.tickers, layout.rows, stacklevel=5)
        if len(dropped):
            warnings.warn(
                f"{len(dropped)} of {len(firm_events)} firm-events could not be estimated and were left out; "
                "res.dropped lists each with the reason.",
                DroppedFirmEventsWarning,
                stacklevel=4,  # the caller of EventStudy.fit (fit -> _fit or _fit_on -> here)
            )
        kept = firm_events.loc[keep].reset_index(drop=True)
        # the arrays already computed (abnormal returns, masks) do not depend on the groups: keep them
        fit = replace(fit, cluster=event_clusters(kept["event_id"], fit.day0), _cache=fit._cache)
        codes, lists = pd.factorize(kept["benchmarks"].to_numpy())  # each distinct list joined once, no row loop
        kept["benchmarks"] = np.array([", ".join(names) for names in lists], dtype=object)[codes]
        kept, hits = flag_contamination(kept, fit, catalog, spec.estimation_window, spec.event_window)
        warn_market_shocks(kept, fit, layout.rows, returns)
        market, regressor_names = frame_names(layout, spec)
        return kind(
            fit=fit,
            firm_events=kept,
            dropped=dropped,
            sessions=layout.rows,
            raw=panels[0],
            offset=panels[1],
            regressor_names=regressor_names,
            model=spec.model,
            market=market,
            settings=spec.settings(layout),
            provenance=provenance,
            return_kind=spec.return_kind,
            name=self.name,
            contamination=hits,
            **(extra or {}),
            study=copy.copy(self),  # settings only (the data frames are shared): for res.sensitivity()
        )

    # ----------------------------------------------------------------------------------------------------
    def _validated(self) -> FitSpec:
        """The study's settings checked once, as the frozen :class:`FitSpec` every step reads."""
        outcome = check_choice("outcome", self.outcome, OUTCOMES)
        estimation_window, event_window = check_windows(self.estimation_window, self.event_window)
        model = get_model(self.model)
        check_outcome(model, outcome)
        markets = MarketSpec(self.market)
        calendars = CalendarSpec(self.calendar, unknown_session=self.unknown_session)
        probe = markets.single if markets.single is not None else next(iter(markets.mapping.values()))
        n_params = len(model.param_names(probe))
        length = estimation_window[1] - estimation_window[0] + 1
        min_obs = self.min_estimation_obs
        if min_obs is None:
            min_obs = max(math.ceil(length / 2), n_params + 3)
            if min_obs > length:  # the user set the window, not min_estimation_obs: name the window
                raise ValueError(
                    f"The 'estimation_window' parameter {tuple(estimation_window)} holds {length} session(s), too "
                    f"few to estimate the {model.label}'s {n_params} coefficient(s): it needs at least "
                    f"{n_params + 3} sessions. Widen estimation_window (e.g. (-250, -11)), or set "
                    f"min_estimation_obs (at least {n_params + 1}) to accept so short a window."
                )
        else:
            min_obs = check_positive_int("min_estimation_obs", min_obs)
        if not n_params + 1 <= min_obs <= length:
            raise ValueError(
                f"The 'min_estimation_obs' parameter must lie between {n_params + 1} (the model's coefficients "
                f"plus one) and {length} (the estimation window's length). Got {min_obs}."
            )
        if markets.single is not None:
            model.validate_market(markets.single)
        return FitSpec(
            model=model,
            markets=markets,
            estimation_window=estimation_window,
            event_window=event_window,
            calendars=calendars,
            align=check_choice("align_benchmarks", self.align_benchmarks, ("refuse", "same-date")),
            min_obs=int(min_obs),
            return_kind=self._return_kind(outcome),
            price_field=self.price_field,
            exclude_events=bool(self.exclude_events),
            outcome=outcome,
        )

    def _fit_on(self, client, spec: FitSpec, partitions: int | None) -> EventStudyResults:
        """The fit on a dask.distributed cluster: partitions of securities fitted on the workers by
        :meth:`_fit`, merged into the panels and stacked fit the local fit builds, then finished by the same
        :meth:`_results` (:mod:`eventstudy.results.distributed`)."""
        check_client(client)
        if spec.outcome == "volatility":
            raise ValueError(
                "The 'outcome' parameter 'volatility' reads every security's High and Low prices on the client; "
                "fit it without client=, or study outcome='returns' on the cluster."
            )
        if partitions is None:  # one per worker (nthreads lists them all; scheduler_info shows a few)
            n = max(len(client.nthreads()), 1)
        else:
            n = check_positive_int("partitions", partitions)
        firm_events = self._placed(spec)  # placement warnings and the not-a-firm warning: once, here
        returns = self.returns
        if returns is not None:
            check_instance("returns", returns, pd.DataFrame, "a DataFrame of daily returns")
        parts, source, layout = fit_partitions(client, self, spec, firm_events, n)
        orders = warning_orders(firm_events, returns, spec)
        merged = merge_parts(parts, firm_events, layout, orders)
        if isinstance(merged, Unestimated):  # the workers' warnings, then the error, as the local fit issues them
            for category, message in merged.warnings:
                warnings.warn(message, category, stacklevel=3)
            raise nothing_estimated(merged.dropped)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            catalog = catalog_positions(self.catalog, self.events, firm_events, spec.calendars, merged.layout)
        again = [(w.category, str(w.message)) for w in caught]
        for category, message in [*(w for w in merged.warnings if w not in again), *again]:
            warnings.warn(message, category, stacklevel=3)
        if source is not None:  # the benchmarks' returns, read on a worker, for the market-shock warning
            shocks = client.submit(benchmark_returns, firm_events, spec, None, source, pure=False).result()
        else:
            shocks = benchmark_returns(firm_events, spec, returns, None)
        # data the caller passed in are described as the local loaders describe them (not the partitions' in turn)
        given = (
            given_info("volumes" if spec.outcome == "volume" else "returns", returns) if returns is not None else None
        )
        provenance = merged_provenance(parts, given, orders)
        return self._results(
            spec,
            firm_events,
            merged.keep,
            merged.fit,
            merged.dropped,
            merged.layout,
            catalog,
            shocks,
            (merged.raw, merged.offset),
            provenance,
        )

    def _return_kind(self, outcome: str) -> Literal["simple", "log"]:
        """``return_kind``, or the kind the caller's returns state in ``attrs`` (volumes have none)."""
        kind = cast(Literal["simple", "log"], check_choice("return_kind", self.return_kind, ("simple", "log")))
        if outcome == "volume" or not isinstance(self.returns, pd.DataFrame):
            return kind
        stated = self.returns.attrs.get("return_kind", kind)
        return cast(Literal["simple", "log"], check_choice("returns.attrs['return_kind']", stated, ("simple", "log")))


def warn_not_firms(firm_events: pd.DataFrame) -> list[str]:
    """Warn once (:class:`~eventstudy.exceptions.NotAFirmWarning`) about securities studied as firms that are
    indices or yields (a ``^`` symbol: ``^GSPC``, ``^IRX``) or one of their own benchmarks; return the
    sentences (empty when none)."""
    found = []
    first = first_rows(firm_events["ticker"])  # each security once, as drop_duplicates("ticker") keeps it
    pairs = zip(map(str, firm_events["ticker"].take(first).tolist()), firm_events["benchmarks"].take(first).tolist())
    for ticker, benchmarks in pairs:
        names = benchmarks.split(", ") if isinstance(benchmarks, str) else list(benchmarks)
        if ticker in names:
            found.append(f"{ticker} is its own benchmark (its abnormal return against itself is zero by construction)")
        elif ticker.startswith("^"):
            found.append(f"{ticker} is an index or a yield (a '^' symbol), not a firm, against {', '.join(names)}")
    if found:
        warnings.warn(
            "Securities studied as firms that are not firms: " + "; ".join(found) + ". Study them as benchmarks, "
            "or leave them out of 'tickers'.",
            NotAFirmWarning,
            stacklevel=5,  # the caller of EventStudy.fit (fit -> _fit or _fit_on -> _placed -> here)
        )
    return found


def warn_market_shocks(
    firm_events: pd.DataFrame, fit, sessions: pd.DatetimeIndex, returns: pd.DataFrame, threshold: float = 4.0
) -> list[str]:
    """Warn once (:class:`~eventstudy.exceptions.MarketShockWarning`) naming the dates of market-wide shocks
    inside event windows; return the sentences (empty when none).

    A shock is a session that :func:`~eventstudy.results.results.market_shocks` flags (``threshold`` robust
    standard deviations) in the returns of a firm-event's first benchmark, over all the returns loaded.
    Benchmarks that are not return columns (factors) are skipped.
    """
    found: list[str] = []
    event_ids = firm_events["event_id"].to_numpy()
    first: np.ndarray | None = None  # each firm-event's first benchmark, read only when some benchmark has a shock
    session_days = sessions.normalize()
    session_days = session_days.tz_localize(None) if session_days.tz is not None else session_days
    # the distinct lists, each split once (not the column converted and split row by row)
    codes, lists = pd.factorize(firm_events["benchmarks"], use_na_sentinel=False)
    firsts = np.array([str(names).split(", ")[0] for names in lists.tolist()], dtype=object)
    benchmarks = dict.fromkeys(firsts)
    for bench in benchmarks:
        if bench not in returns.columns:
            continue
        series = returns[bench]
        shocks = market_shocks(series, threshold)
        if not len(shocks):
            continue
        shock_days = shocks.normalize()
        shock_days = shock_days.tz_localize(None) if shock_days.tz is not None else shock_days
        moves = dict(zip(shock_days, series.loc[shocks].to_numpy()))
        at = np.flatnonzero(session_days.isin(shock_days))  # the shocks' positions among the study's sessions
        if not len(at):
            continue
        if first is None:
            first = firsts[codes]
        rows = np.flatnonzero(first == bench)
        # positions (integers) of each firm-event's event window; only the shocks inside one are named
        positions = fit.day0[rows, None] + fit.event_days[None, :]
        hit = np.isin(positions, at)
        for day in sorted(set(session_days[np.unique(positions[hit])])):  # a day may be several exchanges' sessions
            on_day = np.isin(positions, np.flatnonzero(session_days == day))
            events = list(dict.fromkeys(event_ids[rows[on_day.any(axis=1)]]))
            found.append(
                f"{day:%Y-%m-%d} ({bench} {moves[day]:+.1%}) in the event "
                f"window of {', '.join(map(str, events[:5]))}{', ...' if len(events) > 5 else ''}"
            )
    if found:
        warnings.warn(
            "Event windows hold market-wide shocks (sessions es.market_shocks flags in the benchmark's returns): "
            + "; ".join(found)
            + ". The abnormal returns of those days rest on the model's beta at an extreme market move; read "
            "them with care, or leave the dates out with res.tests(exclude_dates=...) and a shorter window.",
            MarketShockWarning,
            stacklevel=5,  # the caller of EventStudy.fit (fit -> _fit or _fit_on -> _results -> here)
        )
    return found
