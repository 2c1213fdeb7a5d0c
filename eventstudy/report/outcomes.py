"""Report rows for volume, volatility and GARCH: one table the report (or a notebook) can show as is.

>>> rows, markdown = outcome_rows(events, tickers=["NVDA", "AMD"], source=es.CsvSource("prices/"))  # doctest: +SKIP

Each row is one measure for one ticker on one window: the mean return under the OLS and the GARCH market
model, abnormal log volume under the market-volume model, and the volatility ratios (squared abnormal returns
with their F test; Parkinson's range).  The Markdown string is the same table with a line saying how each
statistic is formed, written from the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.data import PriceSource
from eventstudy.foundation.summary import format_value
from eventstudy.report._text import collapsed, md_table
from eventstudy.results.study import EventStudy

__all__ = ["outcome_rows"]

COLUMNS = ["event_id", "ticker", "measure", "window", "estimate", "stat", "pvalue", "test", "note"]


def _window(w: tuple[int, int]) -> str:
    return f"({w[0]:+d},{w[1]:+d})" if w != (0, 0) else "day 0"


def outcome_rows(
    events: pd.DataFrame,
    *,
    tickers: Sequence[str] | None = None,
    source: PriceSource | None = None,
    market: str = "SPY",
    windows: Sequence[tuple[int, int]] = ((0, 0), (-1, 1)),
    estimation_window: tuple[int, int] = (-250, -11),
    event_window: tuple[int, int] = (-5, 5),
    garch: str = "garch",
) -> tuple[pd.DataFrame, str]:
    """Mean return (OLS and GARCH), abnormal log volume and abnormal volatility of each firm-event.

    Parameters
    ----------
    events : DataFrame
        Firm-events, or catalog events combined with ``tickers`` (as :class:`~eventstudy.EventStudy` takes).
    tickers : sequence of str, optional
    source : PriceSource, optional
        Where prices (Adj Close, High, Low) and volumes are read; default :func:`eventstudy.default_source`.
    market : str
        The benchmark, for returns and for the market-volume model.
    windows : sequence of (int, int)
        Windows shown for each measure.
    estimation_window, event_window : (int, int)
    garch : str
        The GARCH model of the comparison row (``"garch"``, ``"gjr-garch"``, ``"egarch"``, ``"garch-t"``).

    Returns
    -------
    rows : DataFrame
        ``event_id, ticker, measure, window, estimate, stat, pvalue, test, note``.  ``estimate`` is the CAR
        (returns), the cumulative abnormal log volume, or the variance ratio.
    markdown : str
        The table as Markdown, with a note on each measure.
    """

    def fit(model: str, outcome: str = "returns") -> Any:  # EventStudy.fit() is untyped: results of the outcome
        return EventStudy(
            events,
            tickers=tickers,
            source=source,
            market=market,
            model=model,
            outcome=outcome,
            estimation_window=estimation_window,
            event_window=event_window,
        ).fit()

    ols, fitted, volume = fit("market"), fit(garch), fit("market", "volume")
    volatility = fit("market", "volatility")
    rows = []
    for window in windows:
        w = _window(window)
        for label, res, test in (
            ("return, OLS market model", ols, "t(T-2), MacKinlay variance"),
            (f"return, {fitted.model.describe(fitted.market)}", fitted, "t(T-2), GARCH forecast variance"),
            ("abnormal log volume, market-volume model", volume, "t(T-2), MacKinlay variance"),
        ):
            for r in res.car(window).itertuples(index=False):
                rows.append((r.event_id, r.ticker, label, w, r.car, r.t, r.pvalue, test, ""))
        table = volatility.table(window)
        for r in table.itertuples(index=False):
            note = f"rank p = {r.pvalue_rank:.3f}; CAR t = {r.t:.2f}"
            rows.append(
                (r.event_id, r.ticker, "volatility ratio, squared AR", w, r.ratio, r.F, r.pvalue_F, "F(L, T-2)", note)
            )
        if volatility.range_variance is not None:
            table = volatility.table(window, method="range")
            for r in table.itertuples(index=False):
                rows.append(
                    (r.event_id, r.ticker, "volatility ratio, Parkinson range", w, r.ratio, np.nan, r.pvalue_rank,
                     "rank", "total (not abnormal) variance")
                )  # fmt: skip
    frame = pd.DataFrame(rows, columns=COLUMNS)
    dropped = pd.concat(
        [ols.dropped, fitted.dropped, volume.dropped, volatility.dropped], keys=["ols", "garch", "volume", "vol"]
    )
    return frame, _markdown(frame, dropped)


def _markdown(frame: pd.DataFrame, dropped: pd.DataFrame) -> str:
    lines = []
    # one unit per column: the estimate column of the CSV mixes CARs, log volumes and variance ratios, so each
    # kind gets its own table with its unit in the header (returns in percent, as everywhere in the report)
    for kind, header, fmt, what in (
        ("return", "CAR", "pct", "Abnormal returns (CAR, percent)"),
        ("abnormal log volume", "abnormal log volume", "{:+.3f}", "Abnormal volume (log units)"),
        ("volatility ratio", "variance ratio", "{:.2f}", "Abnormal volatility (variance ratios)"),
    ):
        part = frame[frame["measure"].str.startswith(kind)].copy()
        if part.empty:
            continue
        part["estimate"] = [format_value(v, fmt) for v in part["estimate"]]
        part["stat"] = [format_value(v, "{:.2f}") for v in part["stat"]]
        part["pvalue"] = [format_value(v, "p") for v in part["pvalue"]]
        table = md_table(part.rename(columns={"estimate": header}))  # every row names its event
        lines += [collapsed(f"{what}: {len(part)} rows (also <code>tables/outcomes.csv</code>)", table), ""]
    returns = frame[frame["measure"].str.startswith("return") & (frame["window"] == "day 0")]
    for (event_id, ticker), group in returns.groupby(["event_id", "ticker"], sort=False):
        ols = group.loc[group["measure"].str.contains("OLS"), "stat"]
        garch = group.loc[group["measure"].str.contains("GARCH"), "stat"]
        if len(ols) and len(garch):
            lines.append(
                f"- {ticker}, {event_id}: day-0 t is {ols.iloc[0]:.2f} under OLS and {garch.iloc[0]:.2f} under GARCH."
            )
    vol = frame[frame["measure"] == "volatility ratio, squared AR"]
    for r in vol.itertuples(index=False):
        lines.append(
            f"- {r.ticker}, {r.event_id}, {r.window}: event-window variance {r.estimate:.2f} times the "
            f"estimation-window variance (F p = {r.pvalue:.3f})."
        )
    lines.append(
        "\nReturns: CAR with t from MacKinlay's prediction-error variance (OLS) or from the sum of the GARCH "
        "variance forecasts made at the end of the estimation window (Savickas 2003). Volume: log(volume + 1), "
        "market-volume model (Campbell & Wasley 1996). Volatility: mean squared abnormal return over the window "
        "divided by the residual variance, F(L, T-2) under normality; Parkinson (1980) range ratio with a rank "
        "p-value against the estimation window's L-day means."
    )
    if len(dropped):
        lines.append(f"\n{len(dropped)} firm-event fits were dropped; see each study's res.dropped.")
    return "\n".join(lines)
