"""What an intraday event study returns: abnormal returns in bars, CARs with MacKinlay's and the placebo test.

The study, its definitions and its drops are in :mod:`eventstudy.intraday.study`; this module reads the fitted
arrays back as tables and displays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from eventstudy.estimation.panel import gather
from eventstudy.foundation.summary import Summary, Table, window_label
from eventstudy.foundation.validation import check_inside

__all__ = ["IntradayResults"]


class IntradayResults:
    """What :meth:`IntradayStudy.fit` returns: abnormal returns in bars, CARs with MacKinlay and placebo tests.

    Attributes
    ----------
    events : DataFrame
        The estimated events: ``event_id``, ``ticker``, ``time`` (UTC).
    dropped : DataFrame
        Events left out, with the reason (``event_id``, ``ticker``, ``time``, ``reason``).
    market : str
    """

    def __init__(self, *, events, panel, fit, market, placebo_sessions, max_missing, dropped) -> None:
        self.max_missing = max_missing
        self.events = events
        self.panel = panel
        self.fit_ = fit
        self.market = market
        self.placebo_sessions = placebo_sessions
        self.dropped = dropped

    # --- shape ---------------------------------------------------------------------------------------
    @property
    def event_window(self) -> tuple[int, int]:
        return self.fit_.event_window

    @property
    def estimation_window(self) -> tuple[int, int]:
        return self.fit_.estimation_window

    @property
    def interval(self) -> str:
        return self.panel.interval

    @property
    def event_bar_time(self) -> pd.DatetimeIndex:
        """UTC start of each event's event bar."""
        return self.panel.grid[self.fit_.day0]

    @property
    def params(self) -> pd.DataFrame:
        """``alpha``, ``beta``, ``sigma`` and ``n_obs`` (usable estimation bars) of each event."""
        f = self.fit_
        return pd.DataFrame(
            {"alpha": f.params[:, 0], "beta": f.params[:, 1], "sigma": np.sqrt(f.sigma2), "n_obs": f.n_obs},
            index=pd.Index(self.events["event_id"], name="event_id"),
        )

    # --- abnormal returns -------------------------------------------------------------------------------
    @property
    def ar(self) -> pd.DataFrame:
        """Abnormal returns on every event-window bar, tidy.

        Columns ``event_id, ticker, bar`` (relative to the event bar), ``time`` (UTC bar start), ``ret`` (the
        firm's bar return), ``market`` (the market's), ``ar``, ``first_bar`` (the bar opens a segment, so it
        has no return by construction) and ``se`` (MacKinlay's standard error, prediction error included).
        """
        f = self.fit_
        bars = f.event_days
        rows = f.day0[:, None] + bars[None, :]
        inside = (rows >= 0) & (rows < len(self.panel.grid))
        safe = np.clip(rows, 0, len(self.panel.grid) - 1)
        ret = gather(self.panel.returns, f.day0, bars, f.firm)
        mkt = gather(self.panel.returns[:, [self.panel.column(self.market)]], f.day0, bars)[:, :, 0]
        first = np.where(inside, self.panel.segment_first[safe], False)
        n, w = rows.shape
        return pd.DataFrame(
            {
                "event_id": np.repeat(self.events["event_id"].to_numpy(), w),
                "ticker": np.repeat(self.events["ticker"].to_numpy(), w),
                "bar": np.tile(bars, n),
                "time": self.panel.grid[safe.ravel()].where(inside.ravel()),
                "ret": ret.ravel(),
                "market": mkt.ravel(),
                "ar": f.ar_event.ravel(),
                "first_bar": first.ravel(),
                "se": np.sqrt(f.ar_variance()).ravel(),
            }
        )

    def _window_sums(self, rows: np.ndarray, firm: np.ndarray, params: np.ndarray):
        """CAR, included bars and the summed design over windows ``rows`` (shape (..., W)); NaN if a bar is missing."""
        t = len(self.panel.grid)
        inside = (rows >= 0) & (rows < t)
        safe = np.clip(rows, 0, t - 1)
        y = self.panel.returns[safe, firm.reshape(firm.shape + (1,) * (rows.ndim - firm.ndim))]
        z = self.panel.returns[safe, self.panel.column(self.market)]
        structural = inside & self.panel.segment_first[safe]
        alpha = params[..., 0].reshape(params.shape[:-1] + (1,) * (rows.ndim - params.ndim + 1))
        beta = params[..., 1].reshape(alpha.shape)
        ar = y - alpha - beta * z
        ar = np.where(inside, ar, np.nan)
        present = np.isfinite(ar)
        missing = (~structural & ~present).sum(axis=-1)
        include = ~structural & present
        car = np.where(include, ar, 0.0).sum(axis=-1)
        car = np.where(missing > self.max_missing, np.nan, car)
        length = include.sum(axis=-1)
        s_z = np.where(include, z, 0.0).sum(axis=-1)
        return car, length, missing, s_z, np.where(include, y, np.nan), np.where(include, z, np.nan)

    def car(self, window: tuple[int, int] | None = None) -> pd.DataFrame:
        r"""CAR of each event over ``window`` (default: the event window), with MacKinlay's and the placebo test.

        Returns
        -------
        pandas.DataFrame
            Index ``event_id``; columns ``ticker, time`` (event time, UTC), ``event_bar`` (UTC start of the
            event bar), ``window``, ``bars`` (bars with a bar return in the window), ``missing`` (bars without
            one, a segment's first bar apart: the CAR is NaN when there are more than ``max_missing``),
            ``raw`` and ``market_raw`` (compounded bar returns of the firm and the market over the bars in the
            CAR), ``price_change`` and ``market_price_change`` (close of the window's last bar over the close
            before its first bar return: the whole move, missing bars included; NaN across a session gap),
            ``car``, ``se``, ``t``, ``pvalue`` (Student t, :math:`T_i-2` df), ``placebo_pvalue`` and
            ``n_placebo`` (:math:`N_i`); see :class:`IntradayStudy` for the definitions.
        """
        from eventstudy.inference.parametric import (
            p_t,  # not at module load: the inference layer loads scipy.stats (0.8 s)
        )

        window = self.event_window if window is None else check_inside("window", window, self.event_window)
        f = self.fit_
        offsets = np.arange(window[0], window[1] + 1)
        rows = f.day0[:, None] + offsets[None, :]
        car, length, missing, s_z, y, z = self._window_sums(rows, f.firm, f.params)
        s = np.stack([length.astype(float), s_z], axis=1)
        quad = np.einsum("nk,nkj,nj->n", s, f.xtx_inv, s)
        variance = f.sigma2 * (length + quad)
        se = np.sqrt(variance)
        t = car / se
        df = f.df
        change, market_change = self._price_change(rows, f.firm)
        placebo = self._placebo_cars(window)
        valid = np.isfinite(placebo)
        n_valid = valid.sum(axis=1)
        exceed = (np.abs(np.where(valid, placebo, 0.0)) >= np.abs(car)[:, None]) & valid
        placebo_p = np.where(np.isfinite(car) & (n_valid > 0), (1 + exceed.sum(axis=1)) / (1 + n_valid), np.nan)
        return pd.DataFrame(
            {
                "ticker": self.events["ticker"].to_numpy(),
                "time": self.events["time"].to_numpy(),
                "event_bar": self.event_bar_time,
                "window": window_label(window),
                "bars": length,
                "missing": missing,
                "raw": np.nanprod(1.0 + y, axis=1) - 1.0,
                "market_raw": np.nanprod(1.0 + z, axis=1) - 1.0,
                "price_change": change,
                "market_price_change": market_change,
                "car": car,
                "se": se,
                "t": t,
                "pvalue": p_t(t, df),
                "placebo_pvalue": placebo_p,
                "n_placebo": n_valid,
            },
            index=pd.Index(self.events["event_id"], name="event_id"),
        )

    def _price_change(self, rows: np.ndarray, firm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Close of the window's last bar over the close before its first bar return, firm and market.

        The base is the close of the bar before the window, or of the window's first bar when that bar opens a
        session (its own return is the gap).  NaN when a close is missing or the window crosses into another
        segment (the move would include a gap).
        """
        p, t = self.panel, len(self.panel.grid)
        first, last = rows[:, 0], rows[:, -1]
        ok = (first >= 0) & (last < t)
        first, last = np.clip(first, 0, t - 1), np.clip(last, 0, t - 1)
        inner = np.clip(rows[:, 1:], 0, t - 1)
        ok &= ~p.segment_first[inner].any(axis=1)
        base = np.where(p.segment_first[first], first, np.maximum(first - 1, 0))
        market = p.column(self.market)
        change = p.close[last, firm] / p.close[base, firm] - 1.0
        market_change = p.close[last, market] / p.close[base, market] - 1.0
        return np.where(ok, change, np.nan), np.where(ok, market_change, np.nan)

    def _placebo_rows(self) -> np.ndarray:
        """Grid row of the bar at the event bar's clock time on each of the previous sessions, -1 if none."""
        f, p = self.fit_, self.panel
        session = p.session[f.day0]
        position = f.day0 - p.session_start[session]
        back = np.arange(1, self.placebo_sessions + 1)
        earlier = session[:, None] - back[None, :]
        ok = earlier >= 0
        safe = np.where(ok, earlier, 0)
        length = p.session_start[safe + 1] - p.session_start[safe]
        ok &= position[:, None] < length
        return np.where(ok, p.session_start[safe] + position[:, None], -1)

    def _placebo_cars(self, window: tuple[int, int]) -> np.ndarray:
        """Placebo CARs, shape (N, placebo_sessions); NaN where the placebo window is unusable."""
        f = self.fit_
        base = self._placebo_rows()
        if base.shape[1] == 0:
            return np.zeros((f.n, 0))
        offsets = np.arange(window[0], window[1] + 1)
        rows = base[:, :, None] + offsets[None, None, :]
        car, *_ = self._window_sums(rows, f.firm[:, None], f.params[:, None, :])
        overlaps = base + window[1] >= (f.day0 + self.event_window[0])[:, None]
        return np.where((base >= 0) & ~overlaps, car, np.nan)

    def placebo(self, window: tuple[int, int] | None = None) -> pd.DataFrame:
        """The placebo CARs behind ``placebo_pvalue``: one row per event, one column per session back (1..N)."""
        window = self.event_window if window is None else check_inside("window", window, self.event_window)
        cars = self._placebo_cars(window)
        return pd.DataFrame(
            cars,
            index=pd.Index(self.events["event_id"], name="event_id"),
            columns=pd.Index(np.arange(1, cars.shape[1] + 1), name="sessions_back"),
        )

    # --- displays ----------------------------------------------------------------------------------
    def summary(self, windows: Sequence[tuple[int, int]] | None = None):
        """A :class:`~eventstudy.foundation.summary.Summary`: the design, the CAR table per window and the drops."""
        windows = [self.event_window] if windows is None else list(windows)
        tables = []
        for window in windows:
            car = self.car(window).reset_index()
            car["event_bar"] = pd.DatetimeIndex(car["event_bar"]).tz_convert(self.panel.tz).strftime("%Y-%m-%d %H:%M")
            shown = car[["event_id", "ticker", "event_bar", "bars", "raw", "car", "se", "t", "pvalue",
                         "placebo_pvalue", "n_placebo"]]  # fmt: skip
            tables.append(
                Table(
                    title=f"CAR over bars {window[0]}..{window[1]}",
                    data=shown,
                    formats={
                        "raw": "pct",
                        "car": "pct",
                        "se": "pct",
                        "t": "{:.2f}",
                        "pvalue": "p",
                        "placebo_pvalue": "{:.3f}",
                    },  # fmt: skip
                )
            )
        notes = [f"{r.event_id}: {r.reason}" for r in self.dropped.itertuples()]
        facts = [
            ("Model", f"market model ({self.market}), OLS on bar returns"),
            ("Bars", f"{self.interval} on {self.panel.calendar} regular hours"),
            ("Estimation window", f"bars {self.estimation_window[0]}..{self.estimation_window[1]}"),
            ("Event window", f"bars {self.event_window[0]}..{self.event_window[1]}"),
            ("Placebo", f"same clock time on up to {self.placebo_sessions} previous sessions"),
            ("Events", f"{len(self.events)} estimated, {len(self.dropped)} dropped"),
        ]
        return Summary(title="Intraday event study", facts=facts, tables=tables, notes=notes)

    def __repr__(self) -> str:
        return self.summary().as_text()

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()
