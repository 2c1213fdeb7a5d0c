"""Inference on a real study: test objects, adjusted p-values, BHAR tests, im_t and car_regression.

The study: the built-in export-control catalog against eight semiconductor stocks (market model vs SPY),
on the shared price files.  Every number is checked against a computation written here from the formula
(a loop over dates or firm-events), never against the package's own output.
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import eventstudy as es

sys.path.insert(0, str(Path(__file__).resolve().parent / "reference"))
import inference_loops as loops  # noqa: E402

TICKERS = ["NVDA", "AMD", "AVGO", "INTC", "MU", "QCOM", "AMAT", "LRCX"]
ONE_DAY = "bis-rescinds-diffusion-huawei-guidance-2025-05-13"


@pytest.fixture(scope="module")
def res(catalog, prices_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.EventStudyWarning)
        return es.EventStudy(catalog, tickers=TICKERS, source=es.CsvSource(prices_dir), market="SPY").fit()


def test_test_object_names_its_event_and_displays(res):
    obj = res.test("grank_t", (0, 0), event_id=ONE_DAY)
    assert obj.event_id == ONE_DAY and obj.n == len(TICKERS) and obj.dist_name.startswith("t(")
    assert f"event {ONE_DAY}" in str(obj) and ONE_DAY in obj._repr_html_()
    single = res.test("sq", (0, 0), event_id=ONE_DAY, ticker="NVDA")
    assert single.ticker == "NVDA" and ("upper tail" in single.note or "lower tail" in single.note)
    with pytest.raises(ValueError, match="pick one with 'event_id' and 'ticker'"):
        res.test("sq", (0, 0), event_id=ONE_DAY)
    with pytest.raises(ValueError, match="'name'"):
        res.test("grank", (0, 0))


def test_every_test_row_of_the_summary_names_its_event(res):
    one = res.select(event_ids=[ONE_DAY])
    pooled = one.summary().tables[1].data
    assert "event_id" in pooled.columns and (pooled["event_id"] == ONE_DAY).all()
    tables = {table.title: table.data for table in res.summary().tables}
    # pooled over events: "all events"; per same-day cluster (mvrm_*, a table of their own): the cluster's event
    assert (tables["Tests across firm-events"]["event_id"] == "all events").all()
    clusters = tables["Tests of same-day clusters"]
    assert clusters["test"].str.startswith("mvrm").all()
    assert clusters["event_id"].nunique() > 1 and not clusters["event_id"].str.contains("all events").any()
    assert "all events" in res.summary().as_text()


def test_adjusted_pvalues_cover_the_rows_asked_for(res):
    table = res.tests([(0, 0), (-1, 1)], tests=["bmp", "grank_t", "im_t"], adjust="holm")
    p = table["pvalue"].to_numpy()
    m = np.isfinite(p).sum()
    order = np.argsort(p)
    expected, running = np.empty(len(p)), 0.0
    for k, i in enumerate(order):  # Holm: (m - k) p_(k), running maximum
        running = max(running, min(1.0, (m - k) * p[i]))
        expected[i] = running
    np.testing.assert_allclose(table["pvalue_adj"], expected, rtol=1e-12)


def test_im_t_on_the_catalog_is_a_t_test_of_date_means(res):
    car = res.car((0, 0)).assign(day0=res.firm_events["day0"].to_numpy())
    means = car.dropna(subset=["car"]).groupby("day0")["car"].mean()
    q = len(means)
    t = means.mean() / (means.std(ddof=1) / math.sqrt(q))
    obj = res.test("im_t", (0, 0))
    assert obj.n == q and obj.stat == pytest.approx(t, rel=1e-10)
    assert obj.pvalue == pytest.approx(2 * stats.t.sf(abs(t), q - 1), rel=1e-10)


def test_bhar_tests_are_skewness_adjusted_t_of_the_bhars(res):
    one = res.select(event_ids=[ONE_DAY])
    bhar = one.bhar((0, 5))["bhar"].tolist()
    table = one.bhar_tests((0, 5)).set_index("test")
    t, p = loops.skew_t(bhar)
    assert table.loc["skew_t", "stat"] == pytest.approx(t, rel=1e-10)
    assert table.loc["skew_t", "pvalue"] == pytest.approx(p, rel=1e-10)
    plain = stats.ttest_1samp(bhar, 0.0)
    assert table.loc["csect_t", "stat"] == pytest.approx(plain.statistic, rel=1e-10)
    assert table.loc["boot_skew_t", "distribution"].startswith("bootstrap (")
    assert (table["event_id"] == ONE_DAY).all() and (table["measure"] == "bhar").all()


@pytest.fixture(scope="module")
def exposures(res):
    """Pre-event market beta and residual volatility of each firm-event, from the fit itself."""
    params = res.params.set_index(["event_id", "ticker"])
    return params[["beta_SPY", "sigma"]]


def _design(res, exposures, window):
    car = res.car(window).set_index(["event_id", "ticker"])["car"]
    frame = pd.concat([car, exposures], axis=1).dropna()
    x = np.column_stack([np.ones(len(frame)), frame[exposures.columns].to_numpy()])
    y = frame["car"].to_numpy()
    day0 = res.firm_events.set_index(["event_id", "ticker"])["day0"].reindex(frame.index).to_numpy()
    return x, y, day0


def test_car_regression_date_cluster_is_cr1(res, exposures):
    fitted = es.car_regression(res, exposures, window=(0, 0), cov="date-cluster")
    x, y, day0 = _design(res, exposures, (0, 0))
    n, k = x.shape
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    u = y - x @ beta
    bread = np.linalg.inv(x.T @ x)
    meat = np.zeros((k, k))
    dates = sorted(set(day0))
    for d in dates:  # one score per date
        score = x[day0 == d].T @ u[day0 == d]
        meat += np.outer(score, score)
    g = len(dates)
    v = bread @ meat @ bread * g / (g - 1) * (n - 1) / (n - k)
    np.testing.assert_allclose(fitted.params["coef"], beta, rtol=1e-9)
    np.testing.assert_allclose(fitted.params["se"], np.sqrt(np.diag(v)), rtol=1e-9)
    assert fitted.df == g - 1 and fitted.n == n and fitted.n_dates == g
    assert "CAR regression" in str(fitted) and "<table" in fitted._repr_html_()


def test_car_regression_hc1_and_kp(res, exposures):
    x, y, day0 = _design(res, exposures, (-1, 1))
    n, k = x.shape
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    u = y - x @ beta
    bread = np.linalg.inv(x.T @ x)
    hc1 = bread @ (x.T * u**2) @ x @ bread * n / (n - k)
    fitted = es.car_regression(res, exposures, window=(-1, 1), cov="hc1")
    np.testing.assert_allclose(fitted.params["se"], np.sqrt(np.diag(hc1)), rtol=1e-9)
    kp = es.car_regression(res, exposures, window=(-1, 1), cov="kp")
    # the loop: R_ij = Pearson correlation of the two residual series on their common estimation days for
    # same-day pairs (>= 30 days), 0 otherwise; negative eigenvalues clipped (the package's choice, copied)
    resid = res.fit.residuals()
    r = np.eye(n)
    for i in range(n):
        for j in range(n):
            if i != j and day0[i] == day0[j]:
                common = np.isfinite(resid[i]) & np.isfinite(resid[j])
                if common.sum() >= 30:
                    r[i, j] = np.corrcoef(resid[i, common], resid[j, common])[0, 1]
    w, q = np.linalg.eigh(r)
    r = q @ np.diag(np.clip(w, 0, None)) @ q.T
    d = np.diag(np.abs(u) * math.sqrt(n / (n - k)))
    v = bread @ x.T @ d @ r @ d @ x @ bread
    np.testing.assert_allclose(kp.params["se"], np.sqrt(np.diag(v)), rtol=1e-8)
    assert kp.df == n - k
    one = res.select(event_ids=[ONE_DAY])
    with pytest.raises(ValueError, match="cov='kp'"):
        es.car_regression(one, exposures, window=(0, 0), cov="date-cluster")
    with pytest.raises(ValueError, match="'cov'"):
        es.car_regression(res, exposures, cov="cluster")
    with pytest.raises(TypeError, match="'exposures'"):
        es.car_regression(res, exposures.to_numpy())


def test_market_shocks_flag_april_2025_and_leave_the_null(res, prices_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DataQualityWarning)
        spy = es.returns(es.CsvSource(prices_dir).get_prices(["SPY"], "2024-01-01", "2025-12-31"))["SPY"]
    shocks = es.market_shocks(spy, threshold=4.0)
    # the robust scale, by hand: 1.4826 x median absolute deviation from the median
    r = spy.dropna().to_numpy()
    scale = 1.4826 * np.median(np.abs(r - np.median(r)))
    assert len(shocks) == int((np.abs(r - np.median(r)) > 4 * scale).sum())
    assert pd.Timestamp("2025-04-09") in shocks.normalize() and pd.Timestamp("2025-04-04") in shocks.normalize()
    one = res.select(event_ids=[ONE_DAY], tickers=["NVDA"])
    full, cut = (one.test("sq", (0, 0), exclude_dates=d) for d in (None, shocks))
    inside = [d for d in shocks if pd.Timestamp("2024-05-01") <= d.tz_localize(None) <= pd.Timestamp("2025-04-30")]
    m_full = int(full.dist_name.split("(")[1].split()[0])
    assert int(cut.dist_name.split("(")[1].split()[0]) == m_full - len(inside) > 0
    with pytest.raises(ValueError, match="not sessions of the study"):
        one.test("sq", (0, 0), exclude_dates=["2025-04-05"])  # a Saturday
    with pytest.raises(ValueError, match="'threshold'"):
        es.market_shocks(spy, threshold=0)


def test_car_regression_takes_exposures_by_ticker(res):
    by_ticker = pd.DataFrame(
        {"size_rank": np.arange(len(TICKERS), dtype=float)}, index=pd.Index(TICKERS, name="ticker")
    )
    fitted = es.car_regression(res, by_ticker.iloc[:-1], window=(0, 0), cov="hc1")  # LRCX left out
    car = res.car((0, 0))
    keep = car["ticker"].isin(TICKERS[:-1]) & car["car"].notna()
    x = np.column_stack([np.ones(keep.sum()), car.loc[keep, "ticker"].map(by_ticker["size_rank"]).to_numpy()])
    beta = np.linalg.lstsq(x, car.loc[keep, "car"].to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(fitted.params["coef"], beta, rtol=1e-9)
    assert fitted.n == keep.sum() and all(ticker == "LRCX" for _, ticker in fitted.dropped)
