"""Immutable results of an event study: tidy tables of abnormal returns, their tests, and displays."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.estimation.contamination import Hits, with_hits
from eventstudy.estimation.models import REGISTRY, NormalReturnModel, StackedFit
from eventstudy.estimation.models import from_state as model_from_state
from eventstudy.estimation.outcomes import abnormal_volatility, volatility_tests
from eventstudy.estimation.panel import gather
from eventstudy.estimation.quality import comparison_labels
from eventstudy.exceptions import SavedResultsError
from eventstudy.foundation.summary import Summary, Table, window_label
from eventstudy.foundation.tails import t_sf
from eventstudy.foundation.validation import check_choice, check_positive_int, check_window
from eventstudy.results import storage
from eventstudy.results.state import record_from_state, record_state

__all__ = ["EventStudyResults", "VolatilityResults", "compare", "market_shocks", "adjust_pvalues", "load"]


def firm_event_facts(firm_events: pd.DataFrame, dropped: pd.DataFrame) -> str:
    """The facts line of the firm-events, right for every design: the numbers printed always multiply out.

    The design is the estimated firm-events and the dropped ones together. Every event on the same tickers (a
    cross of events and tickers): ``"651 of 658 firm-events estimated (47 events x 14 tickers), 7 dropped"``;
    otherwise (each event for its own firms) the tickers per event:
    ``"460 of 460 firm-events estimated over 460 events and 21 tickers (1 per event), 0 dropped"``.
    """
    columns = ["event_id", "ticker"]
    design = pd.concat([firm_events[columns], dropped.reindex(columns=columns)], ignore_index=True)
    n, total = len(firm_events), len(design)
    events, tickers = design["event_id"].nunique(), design["ticker"].nunique()
    head = f"{n} of {total} firm-events estimated"
    if total == events * tickers:
        return f"{head} ({events} events x {tickers} tickers), {len(dropped)} dropped"
    per_event = design.groupby("event_id", sort=False)["ticker"].nunique()
    lo, hi = int(per_event.min()), int(per_event.max())
    span = f"{lo}" if lo == hi else f"{lo}-{hi}"
    return f"{head} over {events} events and {tickers} tickers ({span} per event), {len(dropped)} dropped"


def _tuples_by_group(table: pd.DataFrame, column: str, codes: np.ndarray, n: int) -> list[list]:
    """Per group code, the distinct elements of the tuples in ``table[column]`` (none when it is absent), sorted."""
    found: list[set] = [set() for _ in range(n)]
    if column in table.columns:
        for code, items in zip(codes.tolist(), table[column].tolist()):
            found[code].update(items)
    return [sorted(items) for items in found]


class EventStudyResults:
    """What :meth:`EventStudy.fit` returns: abnormal returns, parameters, drops, tests and displays.

    Results are immutable: every property returns a new DataFrame, and a different window or test gives a
    new table rather than changing this object.  Whatever the outcome (returns, volume, or a volatility study,
    :class:`VolatilityResults`, a subclass), the same tables, tests, :meth:`volatility` and :meth:`save`
    apply; ``es.load`` rebuilds the results from the saved state (:meth:`_state`, :meth:`_from_state`).

    Attributes
    ----------
    ar : DataFrame
        One row per firm-event and event-window day: ``event_id, ticker, event_time, date, ar, se``.
    params : DataFrame
        One row per firm-event: ``event_id, ticker``, the coefficients, ``sigma``, ``n_obs`` and the
        estimation window's first and last session.
    dropped : DataFrame
        Firm-events that could not be estimated: ``event_id, ticker, date, day0, reason``.
    firm_events : DataFrame
        The estimated firm-events with their day 0, the catalog events inside their estimation window
        (``contaminated_by``), overlapping event windows of the same ticker (``overlaps``) and the
        catalog's ``confounders``.
    """

    def __init__(
        self,
        *,
        fit: StackedFit,
        firm_events: pd.DataFrame,
        dropped: pd.DataFrame,
        sessions: pd.DatetimeIndex,
        raw: np.ndarray,
        offset: np.ndarray,
        regressor_names: tuple[str, ...],
        model: NormalReturnModel,
        market: tuple[str, ...],
        settings: dict,
        provenance: dict | Callable[[], dict],
        return_kind: str = "simple",
        name: str | None = None,
        contamination: Hits | None = None,
        range_variance: pd.DataFrame | None = None,
        volatility_note: str = "",
        study: Any = None,
    ) -> None:
        for array in (raw, offset):
            array.flags.writeable = False
        self._fit = fit
        self._firm_events = firm_events.copy()
        self._dropped = dropped.copy()
        self._sessions = sessions
        self._raw = raw
        self._offset = offset
        self._regressor_names = tuple(regressor_names)
        self._model = model
        self._market = tuple(market)
        self._settings = dict(settings)
        # a callable is asked once, when provenance is first read: hashing the returns is not part of a fit
        self._provenance = provenance if callable(provenance) else dict(provenance)
        self._return_kind = return_kind
        self._name = name
        self._hits = contamination  # contaminated_by and overlaps, as offsets until a table shows them
        self._range_variance = range_variance
        self._volatility_note = volatility_note
        self._study = study  # a copy of the EventStudy that was fitted (None once saved and loaded): sensitivity()
        self._frozen = True

    def __setattr__(self, key, value):
        if getattr(self, "_frozen", False):
            raise AttributeError(f"{type(self).__name__} is immutable; fit a new EventStudy to change it.")
        super().__setattr__(key, value)

    # --- facts ----------------------------------------------------------------------------------------
    @property
    def fit(self) -> StackedFit:
        """The stacked arrays behind the tables (for the inference functions)."""
        return self._fit

    @property
    def model(self) -> NormalReturnModel:
        return self._model

    @property
    def market(self) -> tuple[str, ...]:
        return self._market

    @property
    def name(self) -> str:
        return self._name or self._settings.get("model_label") or self._model.describe(self._market)

    @property
    def settings(self) -> dict:
        """The study's settings (model, benchmarks, windows, calendar, ...)."""
        return dict(self._settings)

    @property
    def provenance(self) -> dict:
        """Where the data came from: source, ranges per ticker, a hash of the returns, library versions."""
        return dict(self._provenance_value)

    @functools.cached_property
    def _provenance_value(self) -> dict:
        return dict(self._provenance()) if callable(self._provenance) else self._provenance

    @property
    def estimation_window(self) -> tuple[int, int]:
        return self._fit.estimation_window

    @property
    def event_window(self) -> tuple[int, int]:
        return self._fit.event_window

    @property
    def sessions(self) -> pd.DatetimeIndex:
        """The session rows the stacked arrays index (``fit.day0`` are positions in it)."""
        return self._sessions

    @property
    def firm_events(self) -> pd.DataFrame:
        return with_hits(self._firm_events, self._hits)

    @property
    def dropped(self) -> pd.DataFrame:
        return self._dropped.copy()

    @property
    def n(self) -> int:
        """Number of estimated firm-events."""
        return self._fit.n

    def select(
        self,
        *,
        event_ids: Sequence[str] | None = None,
        tickers: Sequence[str] | None = None,
        missing: str = "raise",
    ) -> EventStudyResults:
        """The firm-events of some events and/or tickers, as a new results object (this one is unchanged).

        ``missing="ignore"`` keeps what matches when some ids or tickers were not estimated here (to take the
        same event groups from several studies); the default raises ``KeyError`` naming them.
        """
        check_choice("missing", missing, ("raise", "ignore"))
        if missing == "raise":
            for column, wanted in (("event_id", event_ids), ("ticker", tickers)):
                unknown = sorted(set(_as_list(wanted)) - set(self._firm_events[column]))
                if unknown:
                    raise KeyError(
                        f"No estimated firm-event has {column} {unknown}; res.dropped lists the dropped ones "
                        "(select(..., missing='ignore') keeps the rest)."
                    )
        keep = self._selected(self._firm_events, event_ids, tickers).to_numpy()
        if not keep.any():
            raise KeyError("No estimated firm-event matches the selection.")
        return self._with(
            fit=self._fit.take(keep),
            firm_events=self._firm_events.loc[keep].reset_index(drop=True),
            dropped=self._dropped[self._selected(self._dropped, event_ids, tickers)],
            contamination=self._hits.take(keep) if self._hits is not None else None,
        )

    def _with(self, **changes) -> EventStudyResults:
        """A new results object with some parts replaced and the rest shared (all immutable)."""
        parts: dict[str, Any] = dict(
            fit=self._fit,
            firm_events=self._firm_events,
            dropped=self._dropped,
            sessions=self._sessions,
            raw=self._raw,
            offset=self._offset,
            regressor_names=self._regressor_names,
            model=self._model,
            market=self._market,
            settings=self._settings,
            provenance=self._provenance,
            return_kind=self._return_kind,
            name=self._name,
            contamination=self._hits,
            range_variance=self._range_variance,
            volatility_note=self._volatility_note,
            study=self._study,
        )
        return type(self)(**(parts | changes))

    @staticmethod
    def _selected(table: pd.DataFrame, event_ids, tickers) -> pd.Series:
        keep = pd.Series(True, index=table.index)
        for column, wanted in (("event_id", event_ids), ("ticker", tickers)):
            if wanted is not None:
                keep &= table[column].isin(_as_list(wanted))
        return keep

    def _labels(self) -> pd.DataFrame:
        return self._firm_events[["event_id", "ticker"]].reset_index(drop=True)

    def _window(self, window) -> tuple[int, int]:
        return self.event_window if window is None else check_window("window", window)

    # --- abnormal returns -------------------------------------------------------------------------------
    @property
    def ar(self) -> pd.DataFrame:
        """Abnormal returns on every event-window day with MacKinlay's standard error (prediction error included)."""
        fit = self._fit
        days = fit.event_days
        dates = self._dates(days)
        labels = self._labels()
        # labels by integer code: taking from the string columns keeps their storage (no object array of
        # N x W strings converted back to pandas strings)
        rows = np.repeat(np.arange(fit.n), len(days))
        return pd.DataFrame(
            {
                "event_id": labels["event_id"].array.take(rows),
                "ticker": labels["ticker"].array.take(rows),
                "event_time": np.tile(days, fit.n),
                "date": dates.ravel(),
                "ar": fit.ar_event.ravel(),
                "se": np.sqrt(fit.ar_variance()).ravel(),
            }
        )

    def car(self, window: tuple[int, int] | None = None, *, align: str | None = None) -> pd.DataFrame:
        r"""Cumulative abnormal return of each firm-event over ``window`` (default: the event window).

        ``se`` is :math:`\sqrt{\iota'V_i\iota}` (MacKinlay 1997, with the full covariance of the window's
        abnormal returns, see :meth:`StackedFit.car_variance`); ``t = car / se`` is compared with a
        Student t with :math:`T_i-K` degrees of freedom (two-sided ``pvalue``).

        ``align="direction"`` adds ``sign`` (+1 or -1, see :meth:`signs`), ``signed_car`` :math:`= s_i\,CAR_i`
        and ``signed_t`` :math:`= s_i\,t_i`: positive when the stock moved the way the news was expected to
        move it.
        """
        if align is not None:
            check_choice("align", align, ("direction",))
        window = self._window(window)
        fit = self._fit
        car, se, t, df, pvalue = self._car_columns(window, slice(None))
        labels = self._firm_events
        # one constructor, not a column inserted at a time (each insertion rebuilt the table's blocks)
        table = pd.DataFrame(
            {
                "event_id": labels["event_id"].array,
                "ticker": labels["ticker"].array,
                "window_start": np.full(fit.n, window[0]),
                "window_end": np.full(fit.n, window[1]),
                "car": car,
                "se": se,
                "t": t,
                "df": df,
                "pvalue": pvalue,
            }
        )
        if align == "direction":
            sign = self.signs()
            table["sign"] = sign
            table["signed_car"], table["signed_t"] = sign * car, sign * t
        return table

    def _car_columns(self, window: tuple[int, int], rows: slice) -> tuple[np.ndarray, ...]:
        """CAR, se, t, df and p-value of the firm-events ``rows`` over ``window`` (see :meth:`car`): the
        p-values, the costly part, only for those rows."""
        fit = self._fit
        car = fit.car(window)[rows]
        se = np.sqrt(fit.car_variance(window)[rows])
        with np.errstate(divide="ignore", invalid="ignore"):
            t = car / se
        df = fit.df[rows]
        return car, se, t, df, 2 * t_sf(np.abs(t), df)

    def signs(self) -> np.ndarray:
        """The sign of each firm-event for signed pooling (``align="direction"``), in the order of ``res.car()``.

        From the events' ``sign`` column where given, else their ``direction`` through
        :data:`eventstudy.time.events.DIRECTION_SIGNS` (easing +1; tightening and China's retaliation -1);
        see :func:`eventstudy.time.events.event_signs`.  ValueError naming the row for a direction without a
        sign (``mixed``, empty, or outside the map).
        """
        from eventstudy.time.events import event_signs

        return event_signs(self._firm_events, id_column="event_id").astype(float)

    def _aligned_fit(self, align: str | None) -> StackedFit:
        if align is None:
            return self._fit
        check_choice("align", align, ("direction",))
        return self._fit if align is None else self._fit.signed(self.signs())

    def bhar(self, window: tuple[int, int] | None = None) -> pd.DataFrame:
        r"""Buy-and-hold abnormal return over ``window`` (default: the event window).

        .. math::

            BHAR_i = \prod_{t=\tau_1}^{\tau_2}(1+R_{it}) - \prod_{t=\tau_1}^{\tau_2}(1+\hat R_{it})

        where :math:`\hat R_{it} = R_{it} - AR_{it}` is the model's normal return (Barber & Lyon 1997; the
        benchmark here is the fitted model).  Columns ``buy_hold`` and ``normal_buy_hold`` give the two
        products minus one.  No standard error is reported: compounded returns have no closed-form
        variance under the model; test the cross-section with ``res.tests`` on CARs, or bootstrap.
        """
        window = self._window(window)
        fit = self._fit
        positions = fit.event_positions(window)
        raw = self._event_raw()[:, positions]
        normal = raw - fit.ar_event[:, positions]
        if self._return_kind == "log":
            raw, normal = np.expm1(raw), np.expm1(normal)
        buy_hold = np.prod(1.0 + raw, axis=1) - 1.0
        normal_buy_hold = np.prod(1.0 + normal, axis=1) - 1.0
        table = self._labels()
        table["window_start"], table["window_end"] = window
        table["bhar"] = buy_hold - normal_buy_hold
        table["buy_hold"], table["normal_buy_hold"] = buy_hold, normal_buy_hold
        return table

    def bhar_tests(self, window: tuple[int, int] | None = None) -> pd.DataFrame:
        r"""Tests of the mean buy-and-hold abnormal return over ``window`` (default: the event window).

        BHARs compound, so their cross-section is right-skewed and the plain t is biased; Lyon, Barber &
        Tsai (1999) recommend the skewness-adjusted t and its bootstrap.  Rows: ``csect_t`` (the plain
        cross-sectional t of the BHARs, as a benchmark), ``skew_t`` and ``boot_skew_t``
        (:func:`eventstudy.inference.skew_t`, :func:`eventstudy.inference.boot_skew_t`, applied to the
        BHARs of :meth:`bhar` instead of the CARs).  Columns as in :meth:`tests`.  All three assume
        independent firm-events: with same-day events prefer ``im_t`` across dates.
        """
        # the inference layer is imported where a test runs, here and below: it loads scipy.stats (0.8 s), which
        # a fit and its tables do not need (benchmarks/startup.py)
        from eventstudy.inference.base import MIN_FIRM_EVENTS, TESTS, Batch, Groups
        from eventstudy.inference.parametric import p_t
        from eventstudy.inference.resampling import skew_batch
        from eventstudy.inference.runner import entry_labels

        window = self._window(window)
        values = self.bhar(window)["bhar"].to_numpy(dtype=float)
        used = np.isfinite(values)
        groups = Groups(None, len(values))
        rows = []
        n = int(used.sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            x = values[used]
            plain = Batch(1)
            plain.stat[:] = x.mean() / (x.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
            plain.pvalue = p_t(plain.stat, n - 1)
            plain.distribution[:] = f"t({max(n - 1, 0)})"
            plain.n[:] = n
        for name, batch in (
            ("csect_t", plain),
            ("skew_t", skew_batch(np.where(used, values, np.nan), used, groups, bootstrap=False)),
            ("boot_skew_t", skew_batch(np.where(used, values, np.nan), used, groups, bootstrap=True)),
        ):
            batch.fail(
                np.array([n < MIN_FIRM_EVENTS]), f"needs at least {MIN_FIRM_EVENTS} firm-events with a BHAR; got {n}"
            )
            batch.finish()
            who = entry_labels(TESTS[name], batch, self._labels()["event_id"].to_numpy(object), np.array([None]))
            row = batch.results(name, window)[0].to_dict()
            row.update(scope="cross-section", event_id=who[0][0], ticker=None)
            rows.append(row)
        table = pd.DataFrame(rows)
        table.insert(len(table.columns) - 3, "measure", "bhar")
        return table

    # --- abnormal volatility ----------------------------------------------------------------------------
    @property
    def range_variance(self) -> pd.DataFrame | None:
        """Parkinson's daily range variance of each ticker (dates x tickers), when High/Low prices were loaded
        (``outcome="volatility"`` with a price source); None otherwise."""
        return None if self._range_variance is None else self._range_variance.copy()

    def volatility(self, window: tuple[int, int] | None = None, *, method: str = "squared-ar") -> pd.DataFrame:
        r"""Abnormal volatility of each firm-event over ``window``: event-window variance over estimation variance.

        ``method="squared-ar"``: :math:`VR_i = \frac{1}{L}\sum_{t\in W} AR_{it}^2 / \hat\sigma^2_i \sim F(L, T_i-K)`
        with a rank p-value among the estimation window's :math:`L`-day means; ``method="range"``: Parkinson's
        (1980) High/Low range ratio (needs :attr:`range_variance`).  See
        :func:`eventstudy.estimation.outcomes.abnormal_volatility` for the formulas and references.
        """
        if method == "range" and self._range_variance is None:
            note = f" ({self._volatility_note})" if self._volatility_note else ""
            raise ValueError(
                f"method='range' needs High and Low prices, which this study did not load{note}. Fit with "
                "outcome='volatility' and source= a price source that has them."
            )
        return abnormal_volatility(self, window, method=method, range_variance=self._range_variance)

    def volatility_tests(self, window: tuple[int, int] | None = None, *, method: str = "squared-ar") -> pd.DataFrame:
        """Pooled tests of :meth:`volatility`'s ratios across firm-events
        (:func:`eventstudy.estimation.outcomes.volatility_tests`: chi-squared sum and mean rank p-value)."""
        return volatility_tests(self.volatility(window, method=method))

    @property
    def aar(self) -> pd.DataFrame:
        """Average abnormal return across firm-events on each event-window day, and its cumulation (CAAR).

        ``aar`` averages the firm-events with an abnormal return that day (``n`` of them); ``caar`` is NaN from
        a day on which no firm-event has one.
        """
        fit = self._fit
        ar = fit.ar_event
        n = np.isfinite(ar).sum(axis=0)
        with np.errstate(invalid="ignore"):
            aar = np.nanmean(np.where(n > 0, ar, 0.0), axis=0) if fit.n else np.full(ar.shape[1], np.nan)
        aar = np.where(n > 0, aar, np.nan)
        # a day without any abnormal return leaves the CAAR undefined from there on, not silently flat
        return pd.DataFrame({"event_time": fit.event_days, "aar": aar, "caar": np.cumsum(aar), "n": n})

    @property
    def params(self) -> pd.DataFrame:
        """Estimated coefficients, residual standard deviation and estimation-window size per firm-event."""
        fit = self._fit
        table = self._labels()
        for name, values in self._model.param_table(fit, self._market).items():
            table[name] = values
        table["sigma"] = np.sqrt(fit.sigma2)
        table["n_obs"] = fit.n_obs
        lo, hi = fit.estimation_window
        last = len(self._sessions) - 1
        table["estimation_start"] = self._sessions[np.clip(fit.day0 + lo, 0, last)]
        table["estimation_end"] = self._sessions[np.clip(fit.day0 + hi, 0, last)]
        return table

    def decompose(self, window: tuple[int, int] = (0, 0)) -> pd.DataFrame:
        r"""Split each firm-event's raw return over ``window`` into the model's parts.

        .. math::

            \sum_t R_{it} = \sum_t o_{t} + L\hat\alpha_i + \sum_k \hat\beta_{ik}\sum_t z_{kt} + CAR_i

        where :math:`o_t` is what the model subtracts with a fixed coefficient (the risk-free rate for
        excess-return models, the market for market-adjusted returns), :math:`z_k` the regressors (market,
        industry index or factors) and :math:`CAR_i` the abnormal remainder.  Returns are summed over the
        window (for one day, the day's return).  Columns: ``event_id, ticker, raw``, one column per part,
        ``abnormal``.
        """
        window = check_window("window", window)
        fit = self._fit
        positions = fit.event_positions(window)
        table = self._labels()
        table["window_start"], table["window_end"] = window
        table["raw"] = self._event_raw()[:, positions].sum(axis=1)
        offset = gather(self._offset, fit.day0, fit.event_days[positions], fit.firm).sum(axis=1)
        if self._model.offset(self._market) is not None:
            table[f"{self._model.offset(self._market)} (beta fixed at 1)"] = offset
        elif self._model.excess:
            table["risk-free"] = offset
        x = fit.x_event[:, positions, :].sum(axis=1)  # (N, K) regressor sums, constant first
        names = self._model.param_names(self._market)
        excess = set(self._model.excess_regressors(self._market))
        for j, name in enumerate(names):
            label = "alpha" if name == "alpha" else name.removeprefix("beta_")
            if label in excess:
                label = f"{label} - RF"  # the beta multiplies the benchmark's excess return
            table[label] = fit.params[:, j] * x[:, j]
        table["abnormal"] = fit.car(window)
        return table

    def _event_raw(self) -> np.ndarray:
        fit = self._fit
        return gather(self._raw, fit.day0, fit.event_days, fit.firm)

    def _dates(self, days: np.ndarray) -> np.ndarray:
        positions = np.clip(self._fit.day0[:, None] + days[None, :], 0, len(self._sessions) - 1)
        return self._sessions.to_numpy()[positions]

    # --- tests ----------------------------------------------------------------------------------------
    def tests(
        self,
        windows: Sequence[tuple[int, int]] | None = None,
        *,
        tests: Sequence[str] | None = None,
        adjust: str | None = None,
        exclude_dates=None,
        align: str | None = None,
    ) -> pd.DataFrame:
        """Run the test statistics on each window; a tidy table, one row per test and window.

        Columns ``test, window_start, window_end, stat, pvalue, n, distribution, note``, then ``scope``
        (``single``, ``cross-section`` or ``clustered``) and ``event_id``/``ticker``: the firm-event of a
        per-firm-event row, the events and firms of a per-cluster row, the event of a cross-sectional row
        when the study holds one event (None when it pools several).  A test that does not fit the design
        has NaN and the reason in ``note``.  ``tests=None`` runs every test in
        :data:`eventstudy.inference.TESTS`.

        Parameters
        ----------
        windows : sequence of (int, int), optional
            Default day 0 and the event window.
        tests : sequence of str, optional
        adjust : {"holm", "fdr_bh"}, optional
            Adds ``pvalue_adj``: the p-values of all the valid rows of this table adjusted together for
            multiple testing with :func:`statsmodels.stats.multitest.multipletests` (Holm's 1979 step-down
            family-wise correction, or Benjamini & Hochberg's 1995 false discovery rate).  Ask only for the
            rows you report, since the correction depends on how many there are.
        exclude_dates : sequence of dates, optional
            Sessions left out of the null distributions the resampling tests take from the estimation
            window (``permutation``, ``sq``, ``pseudo_event*``, ``generalized_sign``): flagged market
            shocks, for example the April 2025 crash (:func:`eventstudy.market_shocks` flags them).  The
            fitted model is unchanged.
        align : {"direction"}, optional
            Signed pooling: each firm-event's abnormal returns (and estimation residuals) are multiplied by
            its sign (:meth:`signs`: easing +1, tightening and retaliation -1, or the events' own ``sign``
            column) before any statistic, so events of opposite direction add up instead of cancelling.  A
            significant positive statistic then says the stocks moved the way the news was expected to move
            them.  Variances are unchanged, so each row equals the test run on hand-signed abnormal returns.
        """
        from eventstudy.inference import run_tests

        windows = [(0, 0), self.event_window] if windows is None else [check_window("windows", w) for w in windows]
        fit = self._aligned_fit(align)
        table = run_tests(fit, windows, tests, labels=self._labels(), exclude=self._exclude_rows(exclude_dates))
        if adjust is not None:
            table["pvalue_adj"] = adjust_pvalues(table["pvalue"].to_numpy(), adjust)
        return table

    def test(
        self,
        name: str,
        window: tuple[int, int] = (0, 0),
        event_id: str | None = None,
        *,
        ticker: str | None = None,
        exclude_dates=None,
        align: str | None = None,
    ):
        """One test on one window as an object with its null, alternative, distribution and critical values.

        Parameters
        ----------
        name : str
            A test of :data:`eventstudy.inference.TESTS`, e.g. ``"grank_t"``.
        window : (int, int)
        event_id : str, optional
            For a cross-sectional test, restrict the firm-events to this event (default: all of them).
            For a single-firm test, pick the firm-event (with ``ticker``); for a same-day test, the cluster.
        ticker : str, optional
            The firm of a single-firm test.
        exclude_dates : sequence of dates, optional
            As in :meth:`tests`.
        align : {"direction"}, optional
            As in :meth:`tests`: the test on signed abnormal returns.

        Returns
        -------
        TestStatistic
            Evaluate it in Jupyter for a table; ``print`` it for text.  Invalid (NaN, with the reason in
            ``note``) when the test cannot run on this design.
        """
        from eventstudy.inference import TESTS
        from eventstudy.inference.statistic import test_statistics

        window = check_window("window", window)
        if name not in TESTS:
            raise ValueError(f"The 'name' parameter must be one of {tuple(TESTS)}. Got {name!r} instead.")
        scope = TESTS[name].scope
        res = self
        if event_id is not None and scope == "cross-section":
            res = self.select(event_ids=[event_id])
        exclude = res._exclude_rows(exclude_dates)
        found = test_statistics(res._aligned_fit(align), name, window, labels=res._labels(), exclude=exclude)
        if scope == "cross-section":
            return found[0]
        keep = [
            s
            for s in found
            if (event_id is None or event_id in (s.event_id or "").split(", "))
            and (ticker is None or ticker in (s.ticker or "").split(", "))
        ]
        if len(keep) == 1:
            return keep[0]
        if not keep:
            raise KeyError(f"No {name} result for event_id={event_id!r}, ticker={ticker!r}.")
        choices = sorted({(s.event_id, s.ticker) for s in keep}, key=str)[:5]
        raise ValueError(
            f"{name} gives {len(keep)} results here; pick one with 'event_id' and 'ticker', e.g. {choices}."
        )

    def _exclude_rows(self, dates) -> np.ndarray | None:
        """Session rows of ``dates`` (ValueError naming the dates that are not sessions of the study)."""
        if dates is None:
            return None
        dates = [dates] if isinstance(dates, (str, pd.Timestamp)) or not pd.api.types.is_list_like(dates) else dates
        wanted = pd.DatetimeIndex(pd.to_datetime(list(dates))).normalize()
        sessions = self._sessions.normalize()
        if sessions.tz is not None and wanted.tz is None:
            wanted = wanted.tz_localize(sessions.tz)
        rows = sessions.get_indexer(wanted)
        if (rows < 0).any():
            missing = [f"{d:%Y-%m-%d}" for d in wanted[rows < 0]][:5]
            raise ValueError(
                f"The 'exclude_dates' parameter holds dates that are not sessions of the study: {missing}."
            )
        return rows

    # --- robustness -------------------------------------------------------------------------------------
    def sensitivity(
        self,
        event_windows: Sequence[tuple[int, int]] | None = None,
        *,
        estimation_windows: Sequence[tuple[int, int]] | None = None,
        models: Sequence[Any] | None = None,
        benchmarks: Sequence[Any] | None = None,
    ) -> pd.DataFrame:
        r"""Each firm-event's CAR under every combination of event window, estimation window, model and benchmark.

        One fit per (model, benchmark, estimation window), each exactly the fit ``EventStudy(...,
        model=m, market=b, estimation_window=e).fit()`` would give; every event window is read from that one
        fit (:meth:`car`: :math:`CAR_i`, MacKinlay's :math:`\hat\sigma(CAR_i)`, :math:`t_i` with
        :math:`T_i-K` degrees of freedom), and the combination of this study is not refitted at all.

        Parameters
        ----------
        event_windows : sequence of (int, int), optional
            Default :meth:`default_windows`; each inside the study's event window.
        estimation_windows : sequence of (int, int), optional
            Default: this study's.
        models : sequence, optional
            Model names or objects (``"market"``, ``"market_adjusted"``, ``"ff3"``, ...); default this study's.
        benchmarks : sequence, optional
            Each a ``market`` argument of :class:`~eventstudy.EventStudy` (a ticker, or a list for several
            indices); default this study's.

        Returns
        -------
        DataFrame
            ``event_id, ticker, model, benchmark, estimation_start, estimation_end, window_start, window_end,
            car, se, t, df, pvalue`` (the estimation and event windows in relative trading days): one row per
            firm-event and combination.  A firm-event that a
            combination cannot estimate is absent from its rows (that fit's ``dropped`` says why).

        Raises
        ------
        ValueError
            Naming ``event_windows`` for a window outside the event window, ``estimation_windows`` for one
            that overlaps it, ``models`` for an unknown model, ``benchmarks`` for a benchmark without returns;
            or when these results were loaded from disk (they keep no study to refit) and anything but
            ``event_windows`` is asked.
        """
        from eventstudy.estimation.models import get_model

        lo, hi = self.event_window
        windows = self.default_windows() if event_windows is None else list(event_windows)
        for window in windows:
            start, end = check_window("event_windows", window)
            if not lo <= start <= end <= hi:
                raise ValueError(
                    f"The 'event_windows' parameter holds {window!r}, outside the study's event window "
                    f"{(lo, hi)}; widen the study's event_window or drop it."
                )
        current = (self._settings_model(), self._market_label(self._study_market()), self.estimation_window)
        study = self._study
        if study is None and (estimation_windows is not None or models is not None or benchmarks is not None):
            raise ValueError(
                "These results were loaded from disk and keep no study to refit: only 'event_windows' can vary. "
                "Fit the EventStudy again to vary 'estimation_windows', 'models' or 'benchmarks'."
            )
        estimation = [self.estimation_window] if estimation_windows is None else list(estimation_windows)
        for window in estimation:
            start, end = check_window("estimation_windows", window)
            if end >= lo:
                raise ValueError(
                    f"The 'estimation_windows' parameter holds {window!r}, which reaches into the event window "
                    f"{(lo, hi)}; it must end before day {lo}."
                )
        model_list = [self._study_model()] if models is None else list(models)
        for model in model_list:
            try:
                get_model(model)
            except (TypeError, ValueError, KeyError) as error:
                raise ValueError(f"The 'models' parameter holds {model!r}, not a model: {error}") from None
        bench_list = [self._study_market()] if benchmarks is None else list(benchmarks)
        if study is not None and study.returns is not None:
            for bench in bench_list:
                names = (
                    [bench] if isinstance(bench, str) else list(bench.values() if isinstance(bench, Mapping) else bench)
                )
                missing = [b for b in names if b not in study.returns.columns]
                if missing:
                    raise ValueError(
                        f"The 'benchmarks' parameter holds {bench!r}: no returns for {missing} in the study's returns."
                    )
        parts = []
        for model in model_list:
            for bench in bench_list:
                for window in estimation:
                    span = (int(window[0]), int(window[1]))
                    key = (get_model(model).name, self._market_label(bench), span)
                    fitted = self if key == current else self._refit(model, bench, span)
                    for event_window in windows:
                        car = fitted.car(event_window)
                        car.insert(2, "model", key[0])
                        car.insert(3, "benchmark", key[1])
                        car.insert(4, "estimation_start", int(window[0]))
                        car.insert(5, "estimation_end", int(window[1]))
                        parts.append(car)
        table = pd.concat(parts, ignore_index=True)
        columns = ["event_id", "ticker", "model", "benchmark", "estimation_start", "estimation_end"]
        columns += ["window_start", "window_end", "car", "se", "t", "df", "pvalue"]
        return table[columns]

    def _study_model(self):
        return self._study.model if self._study is not None else self._model

    def _settings_model(self) -> str:
        return self._model.name

    def _study_market(self):
        if self._study is not None:
            return self._study.market
        return self._market[0] if len(self._market) == 1 else list(self._market)

    @staticmethod
    def _market_label(market) -> str:
        if isinstance(market, str):
            return market
        if isinstance(market, Mapping):
            return ", ".join(f"{k}: {v}" for k, v in market.items())
        return "+".join(map(str, market))

    def _refit(self, model, market, estimation_window: tuple[int, int]) -> EventStudyResults:
        import copy
        import warnings

        from eventstudy.exceptions import DataSourceError, EventStudyWarning

        study = copy.copy(self._study)
        study.model, study.market, study.estimation_window = model, market, estimation_window
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EventStudyWarning)  # the study's own fit has warned
            try:
                return study.fit()
            except (DataSourceError, KeyError) as error:
                raise ValueError(
                    f"The 'benchmarks' parameter holds {market!r}, which cannot be used: {error}"
                ) from None

    # --- display ----------------------------------------------------------------------------------------
    def default_windows(self) -> list[tuple[int, int]]:
        """Day 0, (-1, +1) and the whole event window, as far as the event window allows."""
        lo, hi = self.event_window
        candidates = [(0, 0), (-1, 1), (lo, hi)]
        return list(dict.fromkeys(w for w in candidates if lo <= w[0] and w[1] <= hi))

    def summary(self, windows: Sequence[tuple[int, int]] | None = None, *, max_rows: int = 60) -> Summary:
        """Facts, abnormal-return and test tables, and notes: the one source of every display.

        ``windows`` are the CAR windows shown (default :meth:`default_windows`); tables longer than
        ``max_rows`` are cut (the full tables are ``res.car()``, ``res.tests()``, ...).
        """
        from eventstudy.inference import design, recommend

        max_rows = check_positive_int("max_rows", max_rows, minimum=0)
        windows = self.default_windows() if windows is None else [check_window("windows", w) for w in windows]
        facts = [
            ("Model", self._settings.get("model_label") or self._model.describe(self._market)),
            ("Estimation window", f"{window_label(self.estimation_window)} trading days"),
            ("Event window", f"{window_label(self.event_window)} trading days"),
            ("Firm-events", firm_event_facts(self._firm_events, self._dropped)),
            ("Design", str(design(self._fit))),
            (
                "Returns",
                f"{self._settings.get('return_kind', 'simple')} returns, {self._settings.get('calendar', '')} calendar",
            )
            if self._settings.get("outcome", "returns") != "volume"
            else ("Outcome", f"log(volume + 1), {self._settings.get('calendar', '')} calendar"),
        ]
        by_firm = self._car_table(windows, max_rows)
        suited = recommend(self._fit)
        pooled, clusters, n_clusters = self._suited_tests(windows, [name for name, _ in suited], max_rows)
        test_columns = ["test", "event_id", "window_start", "window_end", "stat", "pvalue", "n", "distribution", "note"]
        tables = [
            Table(
                "Abnormal returns by firm-event",
                by_firm,
                {c: "pct" for c in by_firm.columns if c.startswith("CAR")}
                | {c: "{:.2f}" for c in by_firm.columns if c.startswith("t ")}
                | {c: "p" for c in by_firm.columns if c.startswith("p ")},
                caption=_cut(self.n, max_rows, "res.car()") + self._model.t_note,
            ),
            Table(
                "Tests across firm-events",
                pooled[test_columns].assign(event_id=lambda t: t["event_id"].fillna("all events")).head(max_rows),
                {"stat": "{:.3f}", "pvalue": "p"},
                caption=_cut(len(pooled), max_rows, "res.tests()") + _TESTS_CAPTION,
            ),
        ]
        if n_clusters:
            tables.append(
                Table(
                    "Tests of same-day clusters",
                    clusters[test_columns],
                    {"stat": "{:.3f}", "pvalue": "p"},
                    caption=_cut(n_clusters, max_rows, "res.tests()")
                    + "Dates with two firm-events or more with a CAR; res.tests() also lists the others.",
                )
            )
        if self._settings.get("outcome") == "volatility":
            shown = self.volatility()[["event_id", "ticker", "ratio", "pvalue_F", "pvalue_rank"]]
            tables.append(
                Table(
                    "Abnormal volatility over the event window",
                    shown.head(max_rows),
                    {"ratio": "{:.3f}", "pvalue_F": "p", "pvalue_rank": "p"},
                    caption=_cut(len(shown), max_rows, "res.volatility()")
                    + "ratio: mean squared AR over the residual variance, F(L, T-K) one-sided; rank: among the "
                    "estimation window's L-day means.",
                )
            )
        if self.n > 1:
            tables.append(Table("Average abnormal return by day", self.aar, {"aar": "pct", "caar": "pct"}))
        if len(self._dropped):
            tables.append(
                Table(
                    "Dropped firm-events",
                    self._dropped.head(max_rows),
                    caption=_cut(len(self._dropped), max_rows, "res.dropped"),
                )
            )
        notes = [f"Suited to this design: {name} ({why})" for name, why in suited]
        contamination, total = self._contamination_notes(True, max_rows)
        notes += contamination
        if total > max_rows:  # thousands of overlapping firm-events would bury the table
            notes.append(f"First {max_rows} of {total} contamination notes; res.contamination_notes() has all.")
        return Summary(title=f"Event study: {self.name}", facts=facts, tables=tables, notes=notes)

    def _suited_tests(self, windows, suited: list[str], rows: int) -> tuple[pd.DataFrame, pd.DataFrame, int]:
        """The pooled tests among ``suited`` (every pooled test when none is: too few firm-events, and the
        table says why each cannot run), test by test in ``suited``'s order, then window by window; the
        first ``rows`` per-cluster rows of the same-day tests, in the same order, and how many there are
        (dates with fewer than two firm-events with a CAR left out: they form no system, and ``res.tests()``
        says so for each).

        An MVRM system's statistics read its own firm-events only, so the shown ones are the tests run on a
        fit of their members (:func:`~eventstudy.inference.multivariate.systems_of` finds and counts the
        systems): a summary of thousands of same-day clusters solves the few it shows, and ``res.tests()``
        gives the same rows for all of them.  Any other per-cluster test runs on the whole fit."""
        from eventstudy.inference import TESTS, run_tests, tests_in_scope
        from eventstudy.inference.multivariate import MVRM_TESTS, systems_of

        names = [name for name in suited if TESTS[name].scope != "single"]
        names = names or tests_in_scope("cross-section", "clustered")
        by_system = [name for name in names if name in MVRM_TESTS]
        whole = [name for name in names if name not in MVRM_TESTS]
        table = self.tests(windows, tests=whole)
        table = table.iloc[np.argsort(pd.Index(names).get_indexer(pd.Index(table["test"])), kind="stable")]
        per_cluster = (table["scope"] == "clustered").to_numpy()
        # a date with one firm-event (or none with a CAR) is no system: its row only says so, once per date
        systems = table[per_cluster & (table["n"] >= 2).to_numpy()]
        shown: list[pd.DataFrame] = [systems] if len(systems) else []
        total, labels = len(systems), self._labels()
        found = {window: systems_of(self._fit, window) for window in windows} if by_system else {}
        for name in by_system:
            for window in windows:
                members, start, size = found[window]
                total += len(size)
                take = min(len(size), rows - sum(map(len, shown)))
                if take > 0:  # the members of the first systems, in the fit's order (theirs within each)
                    keep = np.sort(np.concatenate([members[a : a + k] for a, k in zip(start[:take], size[:take])]))
                    part = run_tests(self._fit.take(keep), window, name, labels=labels.iloc[keep])
                    shown.append(part[(part["n"] >= 2).to_numpy()])
        clusters = pd.concat(shown, ignore_index=True).head(rows) if shown else table.iloc[:0].reset_index(drop=True)
        return table[~per_cluster].reset_index(drop=True), clusters, total

    def _car_table(self, windows, rows: int) -> pd.DataFrame:
        """The summary's table of CARs: the first ``rows`` firm-events (the summary shows no more), their
        labels, day 0 and, per window, CAR, t and p-value as :meth:`car` gives them."""
        head = slice(0, rows)
        shown = self._firm_events.iloc[head]
        columns: dict[str, Any] = {
            "event_id": shown["event_id"].array,
            "ticker": shown["ticker"].array,
            "day0": shown["day0"].dt.strftime("%Y-%m-%d").to_numpy(),
        }
        for window in windows:
            car, _, t, _, pvalue = self._car_columns(window, head)
            label = window_label(window)
            columns |= {f"CAR {label}": car, f"t {label}": t, f"p {label}": pvalue}
        return pd.DataFrame(columns)

    def contamination_notes(self, *, confounders: bool = True) -> list[str]:
        """Catalog events inside estimation windows, overlapping event windows and (optionally) the
        catalog's confounders, one sentence per event, events in the order of their first firm-event.

        The hits are gathered per event from their offsets at once (:meth:`Hits.by_group`), with no tuple per
        firm-event: the notes cost in proportion to what they report.
        """
        return self._contamination_notes(confounders, None)[0]

    def _contamination_notes(self, confounders: bool, limit: int | None) -> tuple[list[str], int]:
        """The first ``limit`` (None: all) of :meth:`contamination_notes` and how many there are.  With a
        limit and the fit's hits (a loaded study has its table's tuples instead, and writes every note), the
        notes are counted per event from the hits (:meth:`Hits.groups_hit`) and written only for the events
        shown: thousands of firm-events with their own event ids make thousands of notes, of
        which the summary shows the first."""
        fe = self._firm_events
        codes, events = pd.factorize(fe["event_id"])  # events in the order of their first firm-event
        first = np.unique(codes, return_index=True)[1]
        texts = fe["confounders"].to_numpy(dtype=object)[first] if confounders and "confounders" in fe.columns else None
        text = [t.strip() if isinstance(t, str) else "" for t in texts] if texts is not None else [""] * len(events)
        shown, total = len(events), None
        if limit is not None and self._hits is not None:
            has_others, has_overlaps = self._hits.groups_hit(codes, len(events), np.asarray(events, dtype=object))
            per_event = has_others.astype(np.int64) + has_overlaps + np.array([bool(t) for t in text], dtype=bool)
            reached = np.cumsum(per_event)
            total = int(reached[-1]) if len(reached) else 0
            shown = min(len(events), int(np.searchsorted(reached, limit)) + 1)  # up to the event reaching it
        keep = codes < shown
        hits = self._hits if shown == len(events) or self._hits is None else self._hits.take(keep)
        if hits is not None:
            contaminated, overlapping = hits.by_group(codes[keep], shown)
        else:  # saved and loaded: the table holds the tuples
            contaminated, overlapping = (
                _tuples_by_group(fe, column, codes, shown) for column in ("contaminated_by", "overlaps")
            )
        notes: list[str] = []
        for code, event_id in enumerate(events[:shown].tolist()):
            others = [c for c in contaminated[code] if c != event_id]
            if others:
                notes.append(
                    f"{event_id}: the estimation window contains other catalog events ({', '.join(others[:5])}"
                    f"{', ...' if len(others) > 5 else ''}); consider exclude_events=True."
                )
            overlaps = overlapping[code]
            if overlaps:
                notes.append(f"{event_id}: its event window overlaps {', '.join(overlaps[:5])} for the same tickers.")
            if text[code]:
                notes.append(f"{event_id}: other news near the event: {text[code]}")
        return notes[:limit], len(notes) if total is None else total

    def __str__(self) -> str:
        return self.summary().as_text()

    def __repr__(self) -> str:
        return self.summary().as_text()

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def to_markdown(self, windows: Sequence[tuple[int, int]] | None = None, *, max_rows: int = 60) -> str:
        """The summary as Markdown (GitHub tables); ``windows`` and ``max_rows`` as in :meth:`summary`."""
        return self.summary(windows, max_rows=max_rows).to_markdown()

    def to_latex(
        self, windows: Sequence[tuple[int, int]] | None = None, *, max_rows: int = 60, label: str = "tab:eventstudy"
    ) -> str:
        r"""The summary as LaTeX that compiles with ``\usepackage{booktabs}`` alone.

        Every text is escaped (``^N225`` prints as typed); CARs are numbers in percent (the unit in the column
        header) and p-values numbers.  For a paper's table of CARs see :meth:`etable`.

        Parameters
        ----------
        windows : sequence of (int, int), optional
            The CAR windows shown, as in :meth:`summary`.
        max_rows : int
            Longer tables are cut, as in :meth:`summary`.
        label : str
            Prefix of each table's ``\label`` (``tab:eventstudy-abnormal-returns-by-firm-event``, ...).
        """
        return self.summary(windows, max_rows=max_rows).to_latex(label=label)

    def etable(
        self,
        windows: Sequence[tuple[int, int]] | None = None,
        *,
        stars: Sequence[float] = (0.1, 0.05, 0.01),
        below: str = "t",
        columns: str = "firms",
        align: str | None = None,
    ):
        r"""A publication table of CARs: windows as rows, firms (or events) as columns.

        Each cell is :math:`CAR_i(\tau_1,\tau_2)` in percent with a star per threshold of ``stars`` its
        two-sided p-value is below, and beneath it in parentheses the t-statistic :math:`t_i = CAR_i/\hat
        \sigma(CAR_i)` or the standard error :math:`\hat\sigma(CAR_i)`, both as in :meth:`car` (MacKinlay
        1997, eq. 13, with :math:`T_i-K` degrees of freedom).  The model, benchmark and windows are in the
        notes.

        Parameters
        ----------
        windows : sequence of (int, int), optional
            Default :meth:`default_windows`.  Order kept.
        stars : sequence of float
            P-value thresholds (each strictly between 0 and 1); default 10%, 5%, 1%.
        below : {"t", "se"}
            What the parentheses hold.
        columns : {"firms", "events"}
            One column per ticker (rows grouped by event when there are several) or per event (rows grouped
            by ticker).
        align : {"direction"}, optional
            Signed CARs and t-statistics (see :meth:`car`).

        Returns
        -------
        EventTable
            ``print`` it, evaluate it in Jupyter, or call ``to_markdown()``, ``to_latex(label=...)``;
            ``.data`` holds the numbers at full precision.

        References
        ----------
        MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of Economic Literature*,
        35(1), 13-39.
        """
        from eventstudy.results.tables import EventTable

        windows = self.default_windows() if windows is None else [check_window("windows", w) for w in windows]
        check_choice("below", below, ("t", "se"))
        check_choice("columns", columns, ("firms", "events"))
        levels = tuple(sorted((float(s) for s in stars), reverse=True))
        if not levels or not all(0 < s < 1 for s in levels):
            raise ValueError(f"The 'stars' parameter must hold p-value thresholds between 0 and 1. Got {stars!r}.")
        column, group = ("ticker", "event_id") if columns == "firms" else ("event_id", "ticker")
        parts = []
        for window in windows:
            car = self.car(window, align=align)
            if align is not None:
                car["car"], car["t"] = car["signed_car"], car["signed_t"]
            parts.append(car)
        data = pd.concat(parts, ignore_index=True)
        several = data[group].nunique() > 1
        data = data.assign(group=data[group] if several else "", column=data[column])
        order = {g: i for i, g in enumerate(dict.fromkeys(data["group"]))}
        data = data.sort_values("group", key=lambda g: g.map(order), kind="stable")  # windows keep their order
        data["stars"] = [sum(p < s for s in levels) if np.isfinite(p) else 0 for p in data["pvalue"]]
        data = data[["group", "column", "window_start", "window_end", "car", "se", "t", "pvalue", "stars"]]
        marks = ", ".join(f"{'*' * (i + 1)} p < {s:g}" for i, s in enumerate(levels))
        what = "t-statistics" if below == "t" else "standard errors (percent)"
        model = self._settings.get("model_label") or self._model.describe(self._market)
        notes = [
            f"Model: {model}; benchmark: {', '.join(self._market) or 'none'}; estimation window "
            f"{window_label(self.estimation_window)} trading days.",
            f"{what.capitalize()} in parentheses (MacKinlay 1997, T-K degrees of freedom); two-sided {marks}."
            + (" Signed: each CAR times the sign of its event's expected direction." if align else ""),
        ]
        return EventTable(data=data.reset_index(drop=True), below=below, stars=levels, notes=notes)

    def to_csv(self, directory, **kwargs) -> list[Path]:
        """Write the summary's tables at full precision as CSV files into ``directory``, every row (the displays
        cut long tables at ``max_rows``; the files do not).  The files are written aside and moved into place
        together: a failure leaves earlier files whole."""
        kwargs.setdefault("max_rows", 2**62)
        return self.summary(**kwargs).to_csv(directory)

    # --- state, saving and exporting (the formats are eventstudy.results.storage's) ------------------------
    def _state(self) -> dict[str, Any]:
        """The results as plain parts: ``meta`` (JSON-able values, tuples and timestamps allowed), ``arrays``
        (NumPy arrays by name) and ``tables`` (DataFrames by name); :meth:`_from_state` builds them back.

        Raises
        ------
        ValueError
            When the model is not one of eventstudy's registered models (a load could not rebuild it).
        """
        fit_meta, arrays = record_state(self._fit, "fit.")
        arrays = arrays | {"raw": self._raw, "offset": self._offset}
        tables = {
            "firm_events": self.firm_events,
            "dropped": self._dropped,
            "sessions": pd.DataFrame({"session": self._sessions}),
        }
        if self._range_variance is not None:
            frame = self._range_variance.copy()
            frame.columns = [str(c) for c in frame.columns]
            tables["range_variance"] = frame.reset_index(names="__index__")
        meta = {
            "class": type(self).__name__,
            "name": self._name,
            "model": _model_state(self._model),
            "market": tuple(self._market),
            "regressor_names": tuple(self._regressor_names),
            "return_kind": self._return_kind,
            "settings": self.settings,
            "provenance": self.provenance,
            "fit": fit_meta,
            "sessions_name": self._sessions.name,
            "volatility": {
                "note": self._volatility_note,
                "index_name": None if self._range_variance is None else self._range_variance.index.name,
                "columns_name": None if self._range_variance is None else self._range_variance.columns.name,
            },
        }
        return {"meta": meta, "arrays": arrays, "tables": tables}

    @classmethod
    def _from_state(cls, state: Mapping[str, Any]) -> EventStudyResults:
        """The results :meth:`_state` laid out (of the class that was saved: a volatility study stays one).

        Raises
        ------
        SavedResultsError
            When a part is missing or unknown, or the model is not one this eventstudy knows.
        """
        meta, arrays, tables = state["meta"], state["arrays"], state["tables"]
        unknown, missing = sorted(set(meta) - _META), sorted(_META - set(meta))
        if unknown or missing:
            raise SavedResultsError(
                "the saved results "
                + (
                    f"have the field(s) {unknown} this version does not know (a newer eventstudy wrote them) "
                    if unknown
                    else ""
                )
                + (f"lack the field(s) {missing}" if missing else "")
            )
        for part, names in (("table", ("firm_events", "dropped", "sessions")), ("array", ("raw", "offset"))):
            held = tables if part == "table" else arrays
            lacking = [name for name in names if name not in held]
            if lacking:
                raise SavedResultsError(f"the saved results lack the {part}(s) {lacking}")
        classes = {c.__name__: c for c in (EventStudyResults, VolatilityResults)}
        if meta["class"] not in classes:
            raise SavedResultsError(f"the saved results are a {meta['class']!r}, which this version does not know")
        model = _model_from_state(meta["model"])
        fit = record_from_state(model.fit_class(), meta["fit"], arrays, "fit.")
        range_variance = None
        if "range_variance" in tables:
            range_variance = (
                tables["range_variance"].set_index("__index__").rename_axis(meta["volatility"]["index_name"])
            )
            range_variance.columns = pd.Index(  # tickers, as fitted
                list(range_variance.columns), dtype=object, name=meta["volatility"]["columns_name"]
            )
        return classes[meta["class"]](
            fit=fit,
            firm_events=tables["firm_events"],
            dropped=tables["dropped"],
            sessions=pd.DatetimeIndex(tables["sessions"]["session"], name=meta["sessions_name"]),
            raw=arrays["raw"],
            offset=arrays["offset"],
            regressor_names=meta["regressor_names"],
            model=model,
            market=meta["market"],
            settings=meta["settings"],
            provenance=meta["provenance"],
            return_kind=meta["return_kind"],
            name=meta["name"],
            range_variance=range_variance,
            volatility_note=meta["volatility"]["note"],
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write these results to the folder ``path`` as Parquet + JSON (no pickle); ``es.load(path)`` reads them.

        The folder keeps every array behind the tables, the settings and the provenance, so the loaded results
        give the same tables and tests; its manifest holds a format version and the SHA-256 of every file, so
        a changed, truncated or foreign file is refused on loading.  It is written beside ``path`` and moved
        into place whole.  See :mod:`eventstudy.results.storage`.
        """
        return storage.save(self._state(), path)

    def _export_tables(self, windows: Sequence[tuple[int, int]] | None) -> dict[str, pd.DataFrame]:
        windows = [self.event_window] if windows is None else [check_window("windows", w) for w in windows]
        day0 = self._firm_events["day0"].reset_index(drop=True)
        cars = []
        for window in windows:
            car = self.car(window)
            car.insert(2, "day0", day0.to_numpy())
            cars.append(car)
        return {"ar": self.ar, "car": pd.concat(cars, ignore_index=True)}

    def to_stata(self, path, *, windows: Sequence[tuple[int, int]] | None = None, table: str = "car") -> Path:
        """Write the CAR table (``table="ar"``: the AR table) as a Stata ``.dta`` file (format 118).

        The CAR table stacks ``windows`` (default the event window) with ``window_start`` and ``window_end``
        and carries ``day0``, the day-0 session as a Stata date to merge on; dates are ``%td``; every variable
        is labelled.  The file is written beside ``path`` and moved into place: a failure (a full disk)
        leaves an earlier file whole.
        """
        check_choice("table", table, ("car", "ar"))
        frame = self._export_tables(windows if table == "car" else None)[table]
        labels = _STATA_LABELS | {"se": _STATA_SE[table]}
        return storage.write_stata(frame, path, labels=labels)

    def to_r(self, directory, *, windows: Sequence[tuple[int, int]] | None = None) -> list[Path]:
        """Write ``ar.csv`` and ``car.csv`` for R into ``directory``: ISO dates, no index column, ``NA`` for
        missing values, full precision; ``car.csv`` stacks ``windows`` (default the event window) and carries
        ``day0``.  ``read.csv("car.csv")`` (or ``readr::read_csv``) reads them without options.  Both files are
        written aside and moved into place together: a failure leaves the earlier files whole."""
        return storage.write_csvs(
            self._export_tables(windows),
            directory,
            index=False,
            na_rep="NA",
            date_format="%Y-%m-%d",
            lineterminator="\n",
            float_format="%.17g",
        )


class VolatilityResults(EventStudyResults):
    """What ``EventStudy(..., outcome="volatility").fit()`` returns: the returns study, whose volatility is studied.

    It is an :class:`EventStudyResults` (``car()``, ``tests()``, ``save()`` as for any study) whose summary adds
    the abnormal-volatility table and which holds :attr:`range_variance` when High/Low prices were loaded.
    :meth:`table` is :meth:`EventStudyResults.volatility`, and :attr:`returns` the study itself, kept for code
    written when this class wrapped a returns study.
    """

    @property
    def returns(self) -> EventStudyResults:
        """These results (the returns study whose abnormal returns are squared)."""
        return self

    def table(self, window: tuple[int, int] | None = None, *, method: str = "squared-ar") -> pd.DataFrame:
        """Per firm-event ratios and tests: :meth:`EventStudyResults.volatility`."""
        return self.volatility(window, method=method)


def load(path: str | os.PathLike[str]) -> EventStudyResults:
    """Read results written by :meth:`EventStudyResults.save`.

    Parameters
    ----------
    path : str or path-like
        The folder ``save`` wrote.

    Returns
    -------
    EventStudyResults
        Equal, table for table, to the saved results (a :class:`VolatilityResults` stays one).

    Raises
    ------
    FileNotFoundError
        When ``path`` holds no ``manifest.json``.
    SavedResultsError
        When a file was changed, truncated or is missing, the manifest was edited or is damaged, or the folder
        was written in another format version or with fields this version does not know; the message names
        the file and the fault (:func:`eventstudy.results.storage.load`).
    """
    state = storage.load(path)
    try:
        return EventStudyResults._from_state(state)
    except SavedResultsError as exc:
        manifest = Path(path) / storage.MANIFEST
        raise SavedResultsError(f"{manifest}: {exc}. Save the results again.", path=manifest) from exc


_META = frozenset(
    {
        "class",
        "name",
        "model",
        "market",
        "regressor_names",
        "return_kind",
        "settings",
        "provenance",
        "fit",
        "sessions_name",
        "volatility",
    }
)

_STATA_LABELS = {
    "event_id": "event id",
    "ticker": "security (ticker)",
    "day0": "day 0: first session that could react",
    "event_time": "trading days relative to day 0",
    "date": "trading day (session date)",
    "ar": "abnormal return",
    "car": "cumulative abnormal return",
    "t": "t statistic (car / se)",
    "df": "degrees of freedom of the t statistic",
    "pvalue": "two-sided p-value",
    "window_start": "first day of the CAR window",
    "window_end": "last day of the CAR window",
}
_STATA_SE = {"ar": "standard error of the abnormal return", "car": "standard error of the CAR"}


def _model_state(model: NormalReturnModel) -> dict[str, Any]:
    """The model's own declared state (:meth:`NormalReturnModel.state()
    <eventstudy.estimation.base.NormalReturnModel.state>`), for a model of the registry only: ``es.load`` finds
    its class there by name."""
    if REGISTRY.get(model.name) is not type(model):
        raise ValueError(
            f"The model {type(model).__name__} ({model.name!r}) is not one of eventstudy's registered models, so "
            "es.load could not rebuild it; export the tables instead (res.to_csv, res.to_r, res.to_stata)."
        )
    return model.state()


def _model_from_state(spec: Mapping[str, Any]) -> NormalReturnModel:
    """The model a saved state describes, rebuilt by its registered class's
    :meth:`~eventstudy.estimation.base.NormalReturnModel.from_state`."""
    try:
        return model_from_state(spec)
    except (ValueError, TypeError, KeyError) as exc:
        raise SavedResultsError(f"the saved model {spec!r} cannot be rebuilt by this eventstudy ({exc})") from exc


def market_shocks(market: pd.Series, threshold: float = 4.0) -> pd.DatetimeIndex:
    r"""Sessions whose market return is an outlier: candidates for ``res.tests(exclude_dates=...)``.

    Parameters
    ----------
    market : Series
        Daily market returns indexed by session (e.g. ``es.returns(prices)["SPY"]``).
    threshold : float
        How many robust standard deviations from the median flag a session.

    Returns
    -------
    DatetimeIndex
        The sessions :math:`t` with :math:`|r_t-\operatorname{med}(r)| > c\,\hat s`, where
        :math:`\hat s = 1.4826\,\operatorname{med}|r_t-\operatorname{med}(r)|` is the median absolute
        deviation scaled to the standard deviation of a normal (Hampel 1974), so that a crash does not
        inflate its own yardstick as the sample standard deviation would.  For SPY over 2021-2026 at
        :math:`c=4` this flags the sessions of early April 2025, among others.

    References
    ----------
    Hampel, F. R. (1974). The influence curve and its role in robust estimation. *Journal of the American
    Statistical Association*, 69(346), 383-393.
    """
    if not isinstance(market, pd.Series):
        raise TypeError(f"The 'market' parameter must be a Series of returns. Got {type(market).__name__} instead.")
    if not threshold > 0:
        raise ValueError(f"The 'threshold' parameter must be positive. Got {threshold!r} instead.")
    r = market.dropna()
    centre = r.median()
    scale = 1.4826 * (r - centre).abs().median()
    return pd.DatetimeIndex(r.index[(r - centre).abs() > threshold * scale])


def adjust_pvalues(pvalues: np.ndarray, method: str) -> np.ndarray:
    """P-values adjusted for multiple testing over the finite entries (NaN stays NaN).

    ``method`` is ``"holm"`` or ``"fdr_bh"``, passed to :func:`statsmodels.stats.multitest.multipletests`.
    """
    from statsmodels.stats.multitest import multipletests  # 1 s to import; only an adjusted table needs it

    check_choice("adjust", method, ("holm", "fdr_bh"))
    pvalues = np.asarray(pvalues, dtype=float)
    out = np.full(len(pvalues), np.nan)
    ok = np.isfinite(pvalues)
    if ok.any():
        out[ok] = multipletests(pvalues[ok], method=method)[1]
    return out


def _as_list(wanted) -> list:
    if wanted is None:
        return []
    return [wanted] if isinstance(wanted, str) else list(wanted)


_TESTS_CAPTION = (
    "The tests suited to this design (the notes say why each); res.tests() runs every test, some of which "
    "over- or under-reject on this design."
)


def _cut(total: int, shown: int, where: str) -> str:
    return f"First {shown} of {total} rows; {where} has all. " if total > shown else ""


def compare(studies: Mapping[str, EventStudyResults], *, window: tuple[int, int] | None = None) -> pd.DataFrame:
    """Several studies side by side: CAR, t and p-value of each firm-event under each study.

    Parameters
    ----------
    studies : mapping of label -> EventStudyResults
        For example ``{"vs SPY": res_spy, "vs SOXX": res_soxx}``: other benchmarks, models or windows.
    window : (int, int), optional
        CAR window; default each study's own event window.

    Returns
    -------
    DataFrame
        Index ``(event_id, ticker)``; columns a MultiIndex ``(study, car|t|pvalue)``.  A firm-event a study
        dropped shows NaN there.  Where the studies differ in CAR window, model, estimation window, day-0 rule,
        calendar or return kind, each study's label is followed by ``[...]`` naming its own, e.g.
        ``"wide [CAR(-5,+5)]"`` beside ``"narrow [CAR(-1,+1)]"``.
    """
    if not isinstance(studies, Mapping):
        raise TypeError(
            f"The 'studies' parameter must be a mapping of label -> EventStudyResults. Got {type(studies).__name__}."
        )
    if not studies:
        raise ValueError("The 'studies' parameter is empty: give at least one labelled EventStudyResults.")
    cars, settings, windows = {}, {}, {}
    for label, res in studies.items():
        if not isinstance(res, EventStudyResults):
            raise TypeError(f"compare() got {type(res).__name__} for {label!r}; expected EventStudyResults.")
        car = res.car(window)
        cars[str(label)] = car.set_index(["event_id", "ticker"])[["car", "t", "pvalue"]]
        settings[str(label)] = res.settings
        windows[str(label)] = (
            (int(car["window_start"].iloc[0]), int(car["window_end"].iloc[0])) if len(car) else res._window(window)
        )
    # different windows, models or day-0 rules are named in the column labels, never hidden under one heading
    shown = comparison_labels(settings, windows)
    return pd.concat({shown[label]: frame for label, frame in cars.items()}, axis=1)
