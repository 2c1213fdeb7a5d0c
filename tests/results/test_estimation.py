"""The estimation engine against a plain per-firm-event OLS loop, a hand-worked example, and bad input.

The reference loop below is written from MacKinlay (1997, section 4) and owes nothing to the package's
internals: for each firm-event it finds day 0 by its position among the NYSE sessions, takes the
estimation-window rows with every value observed, fits ``statsmodels.OLS``, predicts the event window and
forms

* ``AR_t = y_t - x_t' b``
* ``Var(AR_t) = s^2 (1 + x_t' (X'X)^-1 x_t)``
* ``Var(CAR) = 1' V 1`` with the full ``V = s^2 (I + X* (X'X)^-1 X*')`` of the window's days
* ``BHAR = prod(1 + R_t) - prod(1 + R_t - AR_t)``

Market-adjusted returns estimate nothing: ``AR = R - R_m`` and ``s^2`` is the sample variance (ddof=1)
of ``R - R_m`` over the estimation window, with no prediction-error term.

Vectorized engine vs loop: rtol 1e-10 (shared/STYLE.md: "vectorized vs loop 1e-10").  Quantities that can
sit arbitrarily close to zero (abnormal returns, CARs, t, alpha) also get an absolute floor of 1e-15, far
below any return that matters and far above double rounding on returns of order 1e-2.  The loop fits with
``method="qr"``: statsmodels' default pseudo-inverse lost ~5e-15 in the intercept of the five-factor model
here (checked against exact rational arithmetic), enough to break 1e-10 on a small CAR, while the engine
was exact to 1e-17.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import eventstudy as es

RTOL = 1e-10
ATOL = 1e-15  # only for quantities that may be ~0; see the module docstring

ESTIMATION = (-250, -11)
EVENT = (-5, 5)
FIRMS = [f"F{i:02d}" for i in range(10)]
FACTORS = ["Mkt-RF", "SMB", "HML", "RMW", "CMA", "Mom", "RF"]
N_SESSIONS = 600


# ---------------------------------------------------------------------------------------------------------
# a synthetic panel on NYSE sessions
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Panel:
    returns: pd.DataFrame  # firms + SPY + SOXX, one row per NYSE session
    factors: pd.DataFrame  # decimals, Mkt-RF ... RF
    events: pd.DataFrame  # ticker, date, session


def make_panel(seed: int = 20250513, *, gaps: str = "all", n_events: int = 40) -> Panel:
    """~600 NYSE sessions, 10 firms driven by the factors and an industry index, random events.

    gaps="firms": NaN returns scattered in the firms only.  gaps="all": also a NaN in SPY, one in SOXX,
    and NaN factors on a few dates (a whole row, SMB alone, RF alone).
    """
    rng = np.random.default_rng(seed)
    sessions = es.TradingCalendar().sessions_in_range("2021-06-01", "2024-12-31")[:N_SESSIONS]
    t = len(sessions)
    f = pd.DataFrame(
        {
            "Mkt-RF": rng.normal(0.0004, 0.011, t),
            "SMB": rng.normal(0.0, 0.006, t),
            "HML": rng.normal(0.0, 0.006, t),
            "RMW": rng.normal(0.0, 0.004, t),
            "CMA": rng.normal(0.0, 0.004, t),
            "Mom": rng.normal(0.0, 0.007, t),
            "RF": 0.0001 + rng.uniform(-2e-5, 2e-5, t),
        },
        index=sessions,
    )
    spy = f["Mkt-RF"] + f["RF"] + rng.normal(0.0, 0.001, t)
    soxx = 0.0002 + 1.4 * spy + rng.normal(0.0, 0.012, t)
    columns = {}
    for name in FIRMS:
        loadings = rng.normal([1.1, 0.3, -0.2, 0.1, 0.0, 0.1], 0.3)
        industry = rng.uniform(0.0, 0.8)
        columns[name] = (
            f["RF"]
            + 0.0003
            + f[["Mkt-RF", "SMB", "HML", "RMW", "CMA", "Mom"]].to_numpy() @ loadings
            + industry * (soxx - 1.4 * spy)
            + rng.normal(0.0, 0.018, t)
        )
    returns = pd.DataFrame(columns, index=sessions)
    returns["SPY"], returns["SOXX"] = spy, soxx

    firm_values = returns[FIRMS].to_numpy(copy=True)
    firm_values[rng.random(firm_values.shape) < 0.03] = np.nan
    returns[FIRMS] = firm_values
    if gaps == "all":
        returns.iloc[300, returns.columns.get_loc("SPY")] = np.nan
        returns.iloc[420, returns.columns.get_loc("SOXX")] = np.nan
        f.iloc[[250, 500]] = np.nan
        f.iloc[330, f.columns.get_loc("SMB")] = np.nan
        f.iloc[460, f.columns.get_loc("RF")] = np.nan

    # events: day 0 anywhere from session 150 (estimation window cut by the start of the data) to the last
    # session that still leaves a full event window; the release session is random
    rows = []
    seen = set()
    while len(rows) < n_events:
        firm = FIRMS[rng.integers(len(FIRMS))]
        day0 = int(rng.integers(150, t - EVENT[1]))
        session = ["pre", "intraday", "post"][rng.integers(3)]
        date = sessions[day0 - 1] if session == "post" else sessions[day0]
        if (firm, date) in seen:
            continue
        seen.add((firm, date))
        rows.append({"ticker": firm, "date": date, "session": session})
    return Panel(returns=returns, factors=f, events=pd.DataFrame(rows))


# ---------------------------------------------------------------------------------------------------------
# the reference: one statsmodels OLS per firm-event
# ---------------------------------------------------------------------------------------------------------

# model -> (excess returns?, intercept?, regressors); "market-adjusted" is handled on its own
DESIGNS = {
    "constant-mean": (False, True, []),
    "market": (False, True, ["SPY"]),
    "multi-index": (False, True, ["SPY", "SOXX"]),
    "capm": (True, False, ["SPY-RF"]),
    "ff3": (True, True, ["Mkt-RF", "SMB", "HML"]),
    "ff5": (True, True, ["Mkt-RF", "SMB", "HML", "RMW", "CMA"]),
    "carhart": (True, True, ["Mkt-RF", "SMB", "HML", "Mom"]),
}
PARAM_NAMES = {
    "constant-mean": ["alpha"],
    "market-adjusted": [],
    "market": ["alpha", "beta_SPY"],
    "multi-index": ["alpha", "beta_SPY", "beta_SOXX"],
    "capm": ["beta_SPY"],
    "ff3": ["alpha", "beta_Mkt-RF", "beta_SMB", "beta_HML"],
    "ff5": ["alpha", "beta_Mkt-RF", "beta_SMB", "beta_HML", "beta_RMW", "beta_CMA"],
    "carhart": ["alpha", "beta_Mkt-RF", "beta_SMB", "beta_HML", "beta_Mom"],
}
MARKET = {"multi-index": ["SPY", "SOXX"]}


def design(panel: Panel, model: str, ticker: str) -> tuple[np.ndarray, np.ndarray]:
    """Dependent variable y (T,) and regressors X (T, K), constant first, on the panel's sessions."""
    r = panel.returns[ticker].to_numpy()
    if model == "market-adjusted":
        return r - panel.returns["SPY"].to_numpy(), np.empty((len(r), 0))
    excess, intercept, names = DESIGNS[model]
    rf = panel.factors["RF"].to_numpy()
    y = r - rf if excess else r
    cols = [np.ones(len(r))] if intercept else []
    for name in names:
        if name == "SPY-RF":
            cols.append(panel.returns["SPY"].to_numpy() - rf)
        elif name in panel.returns.columns:
            cols.append(panel.returns[name].to_numpy())
        else:
            cols.append(panel.factors[name].to_numpy())
    return y, np.column_stack(cols)


def day0_position(sessions: pd.DatetimeIndex, date, session: str) -> int:
    """Row of day 0 in ``sessions``: first session on/after the date, strictly after it for 'post'."""
    nyse = es.TradingCalendar().sessions
    where = nyse.searchsorted(pd.Timestamp(date), side="right" if session == "post" else "left")
    return int(sessions.get_loc(nyse[where]))


def loop_reference(panel: Panel, model: str, windows=((-1, 1), (-5, 5)), bhar_window=(0, 5)):
    """Per firm-event OLS; returns dicts keyed by (event_id, ticker) plus the set of dropped keys."""
    sessions = panel.returns.index
    lo, hi = ESTIMATION
    e_lo, e_hi = EVENT
    n_params = len(PARAM_NAMES[model])
    min_obs = max(math.ceil((hi - lo + 1) / 2), n_params + 3)
    out, dropped = {}, set()
    for ev in panel.events.itertuples():
        key = (pd.Timestamp(ev.date).strftime("%Y-%m-%d"), ev.ticker)
        d0 = day0_position(sessions, ev.date, ev.session)
        y, x = design(panel, model, ev.ticker)
        rows = np.arange(max(d0 + lo, 0), d0 + hi + 1)
        ok = np.isfinite(y[rows]) & np.isfinite(x[rows]).all(axis=1)
        ye, xe = y[rows][ok], x[rows][ok]
        if ok.sum() < min_obs or not np.isfinite(y[d0]) or not np.isfinite(x[d0]).all():
            dropped.add(key)
            continue
        if model == "market-adjusted":
            b = np.empty(0)
            s2 = np.var(ye, ddof=1)
            xtx_inv = np.empty((0, 0))
        else:
            ols = sm.OLS(ye, xe).fit(method="qr")
            b = ols.params
            s2 = ols.ssr / ols.df_resid
            xtx_inv = np.linalg.inv(xe.T @ xe)
        days = np.arange(e_lo, e_hi + 1)
        xs = x[d0 + days]
        ar = y[d0 + days] - xs @ b
        cov = s2 * (np.eye(len(days)) + xs @ xtx_inv @ xs.T)
        raw = panel.returns[ev.ticker].to_numpy()[d0 + days]
        cars = {}
        for w in windows:
            pick = (days >= w[0]) & (days <= w[1])
            car = ar[pick].sum()
            var = cov[np.ix_(pick, pick)].sum()
            cars[w] = (car, math.sqrt(var), car / math.sqrt(var))
        pick = (days >= bhar_window[0]) & (days <= bhar_window[1])
        bhar = np.prod(1 + raw[pick]) - np.prod(1 + raw[pick] - ar[pick])
        out[key] = {
            "params": b,
            "sigma": math.sqrt(s2),
            "n_obs": int(ok.sum()),
            "ar": ar,
            "se": np.sqrt(np.diag(cov)),
            "car": cars,
            "bhar": bhar,
        }
    return out, dropped


def fit_study(panel: Panel, model: str):
    study = es.EventStudy(
        events=panel.events,
        returns=panel.returns,
        market=MARKET.get(model, "SPY"),
        model=model,
        factors=panel.factors if model in ("capm", "ff3", "ff5", "carhart") else None,
        estimation_window=ESTIMATION,
        event_window=EVENT,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DroppedFirmEventsWarning)
        return study.fit()


def close(actual, expected, *, near_zero=False):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL if near_zero else 0.0, equal_nan=True)


ALL_MODELS = ["constant-mean", "market-adjusted", "market", "multi-index", "capm", "ff3", "ff5", "carhart"]


@pytest.fixture(scope="module", params=["firm_gaps", "all_gaps"])
def panel(request):
    return make_panel(gaps="firms" if request.param == "firm_gaps" else "all")


# ---------------------------------------------------------------------------------------------------------
# engine == loop, every model
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ALL_MODELS)
def test_engine_matches_per_firm_event_ols_loop(panel, model):
    res = fit_study(panel, model)
    expected, expected_dropped = loop_reference(panel, model)

    kept = list(zip(res.firm_events["event_id"], res.firm_events["ticker"]))
    assert set(kept) == set(expected)
    assert set(zip(res.dropped["event_id"], res.dropped["ticker"])) == expected_dropped

    params = res.params.set_index(["event_id", "ticker"])
    names = PARAM_NAMES[model]
    for key, ref in expected.items():
        row = params.loc[key]
        close(row[names].to_numpy(dtype=float), ref["params"], near_zero=True)
        close(row["sigma"], ref["sigma"])
        assert row["n_obs"] == ref["n_obs"]

    ar = res.ar.set_index(["event_id", "ticker"]).sort_values("event_time")
    for key, ref in expected.items():
        rows = ar.loc[key]
        assert rows["event_time"].tolist() == list(range(EVENT[0], EVENT[1] + 1))
        close(rows["ar"].to_numpy(), ref["ar"], near_zero=True)
        close(rows["se"].to_numpy(), ref["se"])

    for window in [(-1, 1), (-5, 5)]:
        car = res.car(window=window).set_index(["event_id", "ticker"])
        for key, ref in expected.items():
            c, se, t = ref["car"][window]
            close(car.loc[key, "car"], c, near_zero=True)
            close(car.loc[key, "se"], se)
            close(car.loc[key, "t"], t, near_zero=True)

    bhar = res.bhar(window=(0, 5)).set_index(["event_id", "ticker"])
    for key, ref in expected.items():
        close(bhar.loc[key, "bhar"], ref["bhar"], near_zero=True)

    # p-values: Student t with T_i - K degrees of freedom (T_i - 1 for market-adjusted returns)
    car = res.car(window=(-1, 1)).set_index(["event_id", "ticker"])
    for key, ref in expected.items():
        df = ref["n_obs"] - max(len(names), 1)
        assert car.loc[key, "df"] == df
        close(car.loc[key, "pvalue"], 2 * stats.t.sf(abs(ref["car"][(-1, 1)][2]), df), near_zero=True)

    # AAR: mean over the firm-events with an abnormal return that day; CAAR its running sum
    ars = np.array([ref["ar"] for ref in expected.values()])
    aar = res.aar
    np.testing.assert_array_equal(aar["n"], np.isfinite(ars).sum(axis=0))
    close(aar["aar"].to_numpy(), np.nanmean(ars, axis=0), near_zero=True)
    close(aar["caar"].to_numpy(), np.cumsum(np.nanmean(ars, axis=0)), near_zero=True)


@pytest.mark.parametrize("model", ALL_MODELS)
@pytest.mark.parametrize("window", [(0, 0), (-1, 1)])
def test_decomposition_parts_add_up_to_the_raw_return(model, window):
    """raw = fixed offset (risk-free or market) + alpha + sum of beta * regressor + abnormal, per firm-event."""
    panel = make_panel(gaps="firms")
    res = fit_study(panel, model)
    parts = res.decompose(window=window)
    pieces = parts.drop(columns=["event_id", "ticker", "window_start", "window_end", "raw"])
    sessions = panel.returns.index
    for row, ev in zip(parts.itertuples(), res.firm_events.itertuples()):
        d0 = sessions.get_loc(ev.day0)
        raw = panel.returns[ev.ticker].to_numpy()[d0 + window[0] : d0 + window[1] + 1].sum()  # NaN if a gap
        close(row.raw, raw)
    total = pieces.sum(axis=1, skipna=False).to_numpy()
    np.testing.assert_allclose(total, parts["raw"].to_numpy(), rtol=0, atol=1e-12, equal_nan=True)
    expected_columns = {
        "market-adjusted": ["SPY (beta fixed at 1)"],
        "capm": ["risk-free", "SPY - RF"],
        "ff3": ["risk-free", "alpha", "Mkt-RF", "SMB", "HML"],
    }
    if model in expected_columns:
        assert list(pieces.columns) == expected_columns[model] + ["abnormal"]


def test_min_estimation_obs_is_honoured(small):
    returns, _ = small
    cut = returns.index[200]  # 190 estimation-window returns available
    with pytest.warns(es.DroppedFirmEventsWarning):
        res = es.EventStudy(_events("2023-06-01", cut), returns=returns, min_estimation_obs=200).fit()
    assert res.dropped["reason"].tolist() == [
        "190 estimation-window returns, fewer than the minimum 200; the ticker's returns start on 2022-01-03"
    ]


def test_reference_panel_exercises_the_awkward_cases():
    """The panel above really has gaps inside windows, cut estimation windows and every session kind."""
    panel = make_panel(gaps="all")
    expected, dropped = loop_reference(panel, "market")
    assert panel.events["session"].nunique() == 3
    assert any(np.isnan(ref["ar"]).any() for ref in expected.values())  # gaps inside event windows
    assert min(ref["n_obs"] for ref in expected.values()) < 200  # some windows cut by the data's start
    assert dropped  # and some firm-events lose day 0 to a gap
    sessions = panel.returns.index
    spy_gap = int(np.flatnonzero(panel.returns["SPY"].isna())[0])
    spans_gap = [
        ev
        for ev in panel.events.itertuples()
        if day0_position(sessions, ev.date, ev.session) + ESTIMATION[0]
        <= spy_gap
        <= day0_position(sessions, ev.date, ev.session) + ESTIMATION[1]
    ]
    assert len(spans_gap) >= 5  # estimation windows that contain the SPY gap


def test_missing_market_day_leaves_other_days_usable():
    """One NaN in the benchmark removes that one day from the estimation window, nothing more.

    Regression test (minimal case of test_engine_matches_per_firm_event_ols_loop[all_gaps-*]): the prefix
    sums in ``eventstudy.estimation.panel.window_sums`` once multiplied the 0/1 usable weight by the regressor, and
    ``0 * NaN`` is NaN, so every window ending after the gap got NaN sums and was dropped as "not identified".
    """
    sessions = es.TradingCalendar().sessions_in_range("2023-01-03", "2023-12-29")
    rng = np.random.default_rng(7)
    market = rng.normal(0.0, 0.01, len(sessions))
    returns = pd.DataFrame(
        {"SPY": market, "A": 0.001 + 1.2 * market + rng.normal(0, 0.02, len(sessions))}, index=sessions
    )
    returns.iloc[50, 0] = np.nan  # SPY missing on one day, 150 sessions before the event
    events = pd.DataFrame({"ticker": ["A"], "date": [sessions[200]]})

    res = es.EventStudy(events, returns=returns, market="SPY", estimation_window=(-120, -11)).fit()

    window = returns.iloc[200 - 120 : 200 - 10].dropna()
    ols = sm.OLS(window["A"], sm.add_constant(window["SPY"])).fit()
    assert res.params.loc[0, "n_obs"] == 110  # the gap is outside this window...
    close(res.params.loc[0, ["alpha", "beta_SPY"]].to_numpy(dtype=float), ols.params.to_numpy())


def test_missing_factor_day_leaves_other_days_usable():
    """Same as above for a factor model: one NaN in SMB must not make every later window unidentified."""
    sessions = es.TradingCalendar().sessions_in_range("2023-01-03", "2023-12-29")
    rng = np.random.default_rng(8)
    t = len(sessions)
    factors = pd.DataFrame(
        {
            "Mkt-RF": rng.normal(0, 0.01, t),
            "SMB": rng.normal(0, 0.005, t),
            "HML": rng.normal(0, 0.005, t),
            "RF": np.full(t, 0.0001),
        },
        index=sessions,
    )
    returns = pd.DataFrame({"SPY": factors["Mkt-RF"] + 0.0001}, index=sessions)
    returns["A"] = 0.0001 + factors[["Mkt-RF", "SMB", "HML"]].to_numpy() @ [1.1, 0.4, -0.3] + rng.normal(0, 0.02, t)
    factors.iloc[40, 1] = np.nan  # SMB missing once, inside the estimation window
    events = pd.DataFrame({"ticker": ["A"], "date": [sessions[200]]})

    res = es.EventStudy(events, returns=returns, model="ff3", factors=factors, estimation_window=(-180, -11)).fit()

    rows = slice(200 - 180, 200 - 10)
    data = pd.concat([returns["A"] - factors["RF"], factors[["Mkt-RF", "SMB", "HML"]]], axis=1).iloc[rows].dropna()
    ols = sm.OLS(data.iloc[:, 0], sm.add_constant(data.iloc[:, 1:])).fit()
    assert res.params.loc[0, "n_obs"] == 169
    close(
        res.params.loc[0, ["alpha", "beta_Mkt-RF", "beta_SMB", "beta_HML"]].to_numpy(dtype=float), ols.params.to_numpy()
    )


# ---------------------------------------------------------------------------------------------------------
# MacKinlay's variance by hand
# ---------------------------------------------------------------------------------------------------------


def test_mackinlay_variance_worked_by_hand():
    r"""Five estimation days, market model, a two-day event window; every number below is worked by hand.

    Market x = -0.02, -0.01, 0, 0.01, 0.02        -> T = 5, xbar = 0, Sxx = sum x^2 = 0.001
    Firm   y = -0.028, -0.016, 0.003, 0.014, 0.032 = 0.001 + 1.5 x + e,
           e = 0.001, -0.002, 0.002, -0.002, 0.001  (sum e = 0, sum x e = 0, so OLS recovers them)
    OLS:   beta = sum (x - xbar) y / Sxx = 0.0015 / 0.001 = 3/2
           alpha = ybar - beta xbar = 0.005 / 5 = 1/1000
    s^2  = SSR / (T - 2) = 1e-6 (1 + 4 + 4 + 4 + 1) / 3 = 14e-6 / 3

    Day 0: x0 = 0.03,  y0 = 0.05  -> AR0 = 0.05 - (0.001 + 0.045) = 0.004
           Var(AR0) = s^2 (1 + 1/5 + 0.03^2 / 0.001) = s^2 (1 + 1/5 + 9/10) = 21/10 s^2 = 9.8e-6
    Day 1: x1 = -0.01, y1 = -0.02 -> AR1 = -0.02 - (0.001 - 0.015) = -0.006
           Var(AR1) = s^2 (1 + 1/5 + 1/10) = 13/10 s^2 = 182/30 * 1e-6
    CAR(0, 1) = -0.002
    Cov(AR0, AR1) = s^2 (1/5 + (0.03)(-0.01) / 0.001) = s^2 (1/5 - 3/10) = -1/10 s^2
    Var(CAR) = s^2 (21/10 + 13/10 - 2/10) = 16/5 s^2 = 16/5 * 14/3 * 1e-6 = 224/15 * 1e-6
    (the same from L + s'(X'X)^-1 s with s = (2, 0.02): 2 + 4/5 + 0.0004 * 1000 = 16/5)
    """
    dates = es.TradingCalendar().sessions_in_range("2025-03-03", "2025-03-11")  # 7 sessions, Mar 3..11
    assert len(dates) == 7
    returns = pd.DataFrame(
        {
            "SPY": [-0.02, -0.01, 0.0, 0.01, 0.02, 0.03, -0.01],
            "ACME": [-0.028, -0.016, 0.003, 0.014, 0.032, 0.05, -0.02],
        },
        index=dates,
    )
    events = pd.DataFrame({"ticker": ["ACME"], "date": ["2025-03-10"]})
    res = es.EventStudy(events, returns=returns, market="SPY", estimation_window=(-5, -1), event_window=(0, 1)).fit()

    s2 = 14e-6 / 3
    params = res.params.iloc[0]
    close(params["alpha"], 0.001)
    close(params["beta_SPY"], 1.5)
    close(params["sigma"], math.sqrt(s2))
    assert params["n_obs"] == 5

    ar = res.ar
    close(ar["ar"].to_numpy(), [0.004, -0.006])
    close(ar["se"].to_numpy(), [math.sqrt(21 / 10 * s2), math.sqrt(13 / 10 * s2)])

    car = res.car(window=(0, 1)).iloc[0]
    close(car["car"], -0.002)
    close(car["se"], math.sqrt(224 / 15 * 1e-6))
    # summing the daily variances alone would give 34/10 s^2, not 32/10 s^2: the covariance term matters
    assert not math.isclose(car["se"] ** 2, (21 / 10 + 13 / 10) * s2, rel_tol=1e-6)
    close(car["t"], -0.002 / math.sqrt(224 / 15 * 1e-6))
    assert car["df"] == 3


def test_market_adjusted_variance_by_hand():
    """Market-adjusted: AR = R - Rm, s^2 = sample variance of R - Rm (ddof=1), no prediction error.

    R - Rm over the estimation days = 0.01, -0.01, 0.02, 0.0  -> mean 0.005,
    deviations 0.005, -0.015, 0.015, -0.005 -> sum of squares 5e-4, s^2 = 5e-4 / 3.
    Day 0: AR = 0.03 - 0.01 = 0.02, se = s; CAR(0, 1) = 0.02 + (-0.01) = 0.01, Var = 2 s^2.
    """
    dates = es.TradingCalendar().sessions_in_range("2025-03-03", "2025-03-10")  # 6 sessions
    returns = pd.DataFrame(
        {"SPY": [0.01, 0.0, -0.01, 0.02, 0.01, 0.0], "ACME": [0.02, -0.01, 0.01, 0.02, 0.03, -0.01]},
        index=dates,
    )
    events = pd.DataFrame({"ticker": ["ACME"], "date": ["2025-03-07"]})
    res = es.EventStudy(
        events, returns=returns, market="SPY", model="market-adjusted", estimation_window=(-4, -1), event_window=(0, 1)
    ).fit()
    s2 = 5e-4 / 3
    close(res.params.loc[0, "sigma"], math.sqrt(s2))
    close(res.ar["ar"].to_numpy(), [0.02, -0.01])
    close(res.ar["se"].to_numpy(), [math.sqrt(s2)] * 2)
    car = res.car(window=(0, 1)).iloc[0]
    close(car["car"], 0.01)
    close(car["se"], math.sqrt(2 * s2))
    assert car["df"] == 3


# ---------------------------------------------------------------------------------------------------------
# bad input: a clear error, or a drop recorded with its reason
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    """Two years of sessions, SPY, SOXX and one firm; factors for the same sessions."""
    sessions = es.TradingCalendar().sessions_in_range("2022-01-03", "2023-12-29")
    rng = np.random.default_rng(11)
    t = len(sessions)
    market = rng.normal(0.0004, 0.01, t)
    returns = pd.DataFrame(
        {
            "SPY": market,
            "SOXX": 1.3 * market + rng.normal(0, 0.01, t),
            "A": 0.001 + 1.2 * market + rng.normal(0, 0.02, t),
        },
        index=sessions,
    )
    factors = pd.DataFrame(
        {"Mkt-RF": market - 0.0001, "SMB": rng.normal(0, 0.005, t), "HML": rng.normal(0, 0.005, t), "RF": 0.0001},
        index=sessions,
    )
    return returns, factors


def _events(*dates, ticker="A"):
    tickers = [ticker] * len(dates) if isinstance(ticker, str) else list(ticker)
    return pd.DataFrame({"ticker": tickers, "date": list(dates)})


def test_unknown_model_name_lists_the_choices(small):
    returns, _ = small
    with pytest.raises(ValueError, match=r"'model' parameter must be one of .*'market'.*Got 'marekt'"):
        es.EventStudy(_events("2023-06-01"), returns=returns, model="marekt").fit()


def test_market_not_in_returns_is_a_key_error_naming_it(small):
    returns, _ = small
    with pytest.raises(KeyError, match="QQQ"):
        es.EventStudy(_events("2023-06-01"), returns=returns, market="QQQ").fit()


def test_a_ticker_twice_in_the_returns_is_refused_naming_it(small):
    returns, _ = small
    twice = pd.concat([returns, returns[["A"]]], axis=1)
    with pytest.raises(ValueError, match=r"'returns' columns name A more than once"):
        es.EventStudy(_events("2023-06-01"), returns=twice).fit()
    # a column the study does not read may repeat, as before
    notes = returns[["A"]].set_axis(["notes"], axis=1)
    assert es.EventStudy(_events("2023-06-01"), returns=pd.concat([returns, notes, notes], axis=1)).fit().n == 1


def test_market_model_with_two_benchmarks_points_to_multi_index(small):
    returns, _ = small
    with pytest.raises(ValueError, match="multi-index"):
        es.EventStudy(_events("2023-06-01"), returns=returns, market=["SPY", "SOXX"], model="market").fit()


def test_overlapping_windows(small):
    returns, _ = small
    with pytest.raises(es.EventWindowError, match="overlaps the event window"):
        es.EventStudy(_events("2023-06-01"), returns=returns, estimation_window=(-250, -3)).fit()


@pytest.mark.parametrize("kw", [{"event_window": (5, -5)}, {"estimation_window": (-11, -250)}])
def test_reversed_window(small, kw):
    returns, _ = small
    with pytest.raises(es.EventWindowError, match="reversed"):
        es.EventStudy(_events("2023-06-01"), returns=returns, **kw).fit()


def test_estimation_window_longer_than_the_data(small):
    """A 990-day window on two years of data: every firm-event falls short of the minimum, and says so."""
    returns, _ = small
    with pytest.raises(es.EstimationError, match=r"estimation-window returns, fewer than the minimum 495") as info:
        es.EventStudy(_events("2023-06-01"), returns=returns, estimation_window=(-1000, -11)).fit()
    assert len(info.value.dropped) == 1


def test_too_few_estimation_observations_is_dropped_with_reason(small):
    returns, _ = small
    early = returns.index[60]  # only 50 estimation-window returns before it
    with pytest.warns(es.DroppedFirmEventsWarning, match="1 of 2 firm-events") as record:
        res = es.EventStudy(_events("2023-06-01", early), returns=returns).fit()
    assert len([w for w in record if issubclass(w.category, es.DroppedFirmEventsWarning)]) == 1
    assert res.n == 1
    assert res.dropped["reason"].tolist() == [
        "50 estimation-window returns, fewer than the minimum 120; the ticker's returns start on 2022-01-03"
    ]
    assert res.dropped["date"].tolist() == [early]


def test_one_warning_for_many_drops(small):
    returns, _ = small
    early = returns.index[40:45]
    with pytest.warns(es.DroppedFirmEventsWarning) as record:
        res = es.EventStudy(_events("2023-06-01", *early), returns=returns).fit()
    assert len([w for w in record if issubclass(w.category, es.DroppedFirmEventsWarning)]) == 1
    assert len(res.dropped) == 5


def test_all_dropped_raises_estimation_error_with_the_list(small):
    returns, _ = small
    with pytest.raises(es.EstimationError, match="No firm-event could be estimated") as info:
        es.EventStudy(_events(returns.index[30], returns.index[40]), returns=returns).fit()
    assert len(info.value.dropped) == 2
    assert info.value.dropped["reason"].str.contains("fewer than the minimum").all()


def test_weekend_event_moves_day0_to_monday(small):
    returns, _ = small
    res = es.EventStudy(_events("2023-06-03"), returns=returns).fit()  # a Saturday
    assert res.firm_events.loc[0, "day0"] == pd.Timestamp("2023-06-05")
    assert res.ar.query("event_time == 0")["date"].iloc[0] == pd.Timestamp("2023-06-05")


def test_event_outside_the_data_is_dropped_with_reason(small):
    returns, _ = small
    with pytest.warns(es.DroppedFirmEventsWarning):
        res = es.EventStudy(_events("2023-06-01", "2019-03-01"), returns=returns).fit()
    assert res.dropped["reason"].tolist() == ["day 0 lies outside the returns (2022-01-03 to 2023-12-29)"]


def test_event_window_past_the_end_of_the_data_is_dropped(small):
    returns, _ = small
    with pytest.warns(es.DroppedFirmEventsWarning):
        res = es.EventStudy(_events("2023-06-01", "2023-12-27"), returns=returns).fit()
    assert res.dropped["reason"].str.contains("event window ends after the last return").all()


def test_ticker_absent_from_returns_is_dropped_with_reason(small):
    returns, _ = small
    with pytest.warns(es.DroppedFirmEventsWarning):
        res = es.EventStudy(_events("2023-06-01", "2023-06-01", ticker=["A", "NOPE"]), returns=returns).fit()
    assert res.dropped[["ticker", "reason"]].values.tolist() == [["NOPE", "no returns for this ticker"]]


@pytest.mark.parametrize("model", ["ff3", "capm"])
def test_factors_ending_before_the_event_drop_with_a_reason_naming_the_regressor(small, model):
    """Factors (as French publishes them) end before the event: the reason must say which series is missing.

    The firm's return is there but the risk-free rate the excess return needs is not, so the reason must
    name that series rather than say "no return on day 0" (an earlier version did).
    """
    returns, factors = small
    late = returns.index[400]
    with pytest.warns(es.DroppedFirmEventsWarning):
        res = es.EventStudy(
            _events("2023-06-01", late), returns=returns, model=model, factors=factors.loc[: returns.index[395]]
        ).fit()
    assert res.dropped["date"].tolist() == [late]
    reason = res.dropped.loc[0, "reason"]
    assert "no return on day 0" not in reason
    assert "RF" in reason or "Mkt-RF" in reason


def test_one_factor_missing_on_day0_is_named(small):
    returns, factors = small
    gappy = factors.copy()
    gappy.loc[pd.Timestamp("2023-06-01"), "SMB"] = np.nan
    with pytest.warns(es.DroppedFirmEventsWarning):
        res = es.EventStudy(_events("2023-06-01", "2023-03-01"), returns=returns, model="ff3", factors=gappy).fit()
    assert res.dropped["date"].tolist() == [pd.Timestamp("2023-06-01")]
    assert "missing on day 0" in res.dropped.loc[0, "reason"]
    assert "SMB" in res.dropped.loc[0, "reason"]


def test_market_missing_on_day0_for_market_adjusted_names_the_benchmark(small):
    """Market-adjusted: a missing SPY on day 0 is a missing benchmark, not a missing firm return."""
    returns, _ = small
    gappy = returns.copy()
    gappy.loc[pd.Timestamp("2023-06-01"), "SPY"] = np.nan
    with pytest.warns(es.DroppedFirmEventsWarning):
        res = es.EventStudy(_events("2023-06-01", "2023-03-01"), returns=gappy, model="market-adjusted").fit()
    assert "SPY" in res.dropped.loc[0, "reason"]


def test_firm_return_missing_on_day0_is_dropped(small):
    returns, _ = small
    gappy = returns.copy()
    gappy.loc[pd.Timestamp("2023-06-01"), "A"] = np.nan
    with pytest.warns(es.DroppedFirmEventsWarning):
        res = es.EventStudy(_events("2023-06-01", "2023-03-01"), returns=gappy).fit()
    assert res.dropped["reason"].tolist() == ["no return on day 0"]


def test_prices_instead_of_returns(small):
    returns, _ = small
    prices = 100 * (1 + returns).cumprod()
    with pytest.raises(ValueError, match=r"looks like prices.*eventstudy.returns\(prices\)"):
        es.EventStudy(_events("2023-06-01"), returns=prices).fit()


def test_prices_converted_with_es_returns_are_accepted(small):
    returns, _ = small
    prices = 100 * (1 + returns).cumprod()
    recovered = es.returns(prices)
    res = es.EventStudy(_events("2023-06-01"), returns=recovered).fit()
    direct = es.EventStudy(_events("2023-06-01"), returns=returns).fit()
    close(res.car()["car"].to_numpy(), direct.car()["car"].to_numpy(), near_zero=True)


def test_duplicate_firm_event(small):
    returns, _ = small
    with pytest.raises(ValueError, match="same firm-event twice"):
        es.EventStudy(_events("2023-06-01", "2023-06-01"), returns=returns).fit()


def test_one_event_id_with_two_dates_is_refused_naming_the_rows(small):
    """Saturday and Monday under one explicit event id: one event has one time, so the rows contradict."""
    returns, _ = small
    events = pd.DataFrame({"ticker": ["A", "A"], "date": ["2023-06-03", "2023-06-05"], "event_id": ["x", "x"]})
    with pytest.raises(ValueError, match=r"Event id 'x' has different dates .*row 1: date=2023-06-03; row 2"):
        es.EventStudy(events, returns=returns).fit()


def test_same_ticker_same_day0_from_two_dates_is_a_duplicate(small):
    """Saturday news and Monday pre-open news for one stock both have day 0 = Monday: one firm-event, not two.

    Counting both would enter the same abnormal returns twice in every average and cross-sectional test,
    so the second is a recorded drop that names the first.
    """
    returns, _ = small
    events = pd.DataFrame({"ticker": ["A", "A"], "date": ["2023-06-03", "2023-06-05"]})
    with pytest.warns(es.DroppedFirmEventsWarning, match="1 of 2"):
        res = es.EventStudy(events, returns=returns).fit()
    assert res.n == 1
    assert res.dropped["event_id"].tolist() == ["2023-06-05"]
    assert "same day 0 (2023-06-05) as event '2023-06-03'" in res.dropped.loc[0, "reason"]


def test_min_estimation_obs_out_of_range(small):
    returns, _ = small
    with pytest.raises(ValueError, match="min_estimation_obs"):
        es.EventStudy(_events("2023-06-01"), returns=returns, min_estimation_obs=500).fit()


def test_car_window_outside_event_window(small):
    returns, _ = small
    res = es.EventStudy(_events("2023-06-01"), returns=returns).fit()
    with pytest.raises(ValueError, match="inside the event window"):
        res.car(window=(-6, 0))


# ---------------------------------------------------------------------------------------------------------
# scale: memory must grow with the firm-events, not with their square
# ---------------------------------------------------------------------------------------------------------


def test_fit_memory_does_not_grow_with_the_square_of_the_firm_events():
    """4,000 firm-events (200 stocks x 20 events) on 600 sessions fit in well under 64 MB.

    One (N, N) int64 array would already take 128 MB.  An earlier ``_flag_contamination`` compared every
    firm-event with every catalog event (the catalog defaults to the firm-events themselves), building (N, N)
    arrays: about 170 MB here, 74 GiB at 100,000 firm-events.
    """
    import tracemalloc

    sessions = es.TradingCalendar().sessions_in_range("2021-01-04", "2023-12-29")[:600]
    rng = np.random.default_rng(0)
    t, m = len(sessions), 200
    market = rng.normal(0, 0.01, t)
    returns = pd.DataFrame(
        market[:, None] + rng.normal(0, 0.02, (t, m)), index=sessions, columns=[f"S{i:03d}" for i in range(m)]
    )
    returns["SPY"] = market
    day0 = np.concatenate([rng.choice(np.arange(130, t - 4), 20, replace=False) for _ in range(m)])
    events = pd.DataFrame({"ticker": np.repeat(returns.columns[:m], 20), "date": sessions[day0]})
    study = es.EventStudy(events, returns=returns, estimation_window=(-120, -11), event_window=(-3, 3))
    study.fit()  # first imports outside the measurement

    tracemalloc.start()
    try:
        res = study.fit()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res.n == 4000
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MB for 4,000 firm-events"


def test_the_spec_repr_never_raises_and_fit_leaves_the_spec_as_it_was(small):
    # a spec whose __init__ never ran (a debugger shows one that raised half-way) still has a repr
    assert repr(es.EventStudy.__new__(es.EventStudy)) == (
        "EventStudy(model='?', market='?', estimation_window='?', event_window='?')"
    )
    returns, _ = small
    spec = es.EventStudy(_events("2023-06-01"), returns, market="SPY", event_window=(-1, 1))
    before = (repr(spec), dict(vars(spec)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec.fit()
    assert repr(spec) == before[0] and set(vars(spec)) == set(before[1])
    assert all(vars(spec)[k] is v for k, v in before[1].items())  # fit() rebinds nothing on the spec
