"""``res.sensitivity()``: every cell equals a separate fit, the study's own fit is not refitted, bad options
name themselves; and its plot."""

from __future__ import annotations

import itertools
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

import eventstudy as es

matplotlib.use("Agg")

EVENT = "nvda-h20-license-charge-2025-04-15"
TICKERS = ["NVDA", "AMD"]
EVENT_WINDOWS = [(0, 1), (0, 0)]
ESTIMATION = [(-250, -11), (-120, -11), (-60, -6)]
MODELS = ["market", "market_adjusted"]
BENCHMARKS = ["SPY", "SOXX"]


@pytest.fixture(scope="module")
def returns(prices_dir) -> pd.DataFrame:
    prices = es.CsvSource(prices_dir).get_prices([*TICKERS, "SPY", "SOXX"], "2023-06-01", "2025-06-30")
    return es.returns(prices)


@pytest.fixture(scope="module")
def events(catalog) -> pd.DataFrame:
    return catalog[catalog["id"] == EVENT]


def _fit(events, returns, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.EventStudyWarning)
        return es.EventStudy(events, tickers=TICKERS, returns=returns, **options).fit()


@pytest.fixture(scope="module")
def res(events, returns):
    return _fit(events, returns, market="SPY")


@pytest.fixture(scope="module")
def table(res):
    return res.sensitivity(EVENT_WINDOWS, estimation_windows=ESTIMATION, models=MODELS, benchmarks=BENCHMARKS)


def test_tidy_table_with_every_combination(table):
    assert list(table.columns) == [
        "event_id", "ticker", "model", "benchmark", "estimation_start", "estimation_end", "window_start",
        "window_end", "car", "se", "t", "df", "pvalue",
    ]  # fmt: skip
    assert len(table) == len(TICKERS) * len(EVENT_WINDOWS) * len(ESTIMATION) * len(MODELS) * len(BENCHMARKS)
    assert set(table["model"]) == {"market", "market-adjusted"} and set(table["benchmark"]) == set(BENCHMARKS)


def test_every_cell_equals_a_separate_fit(table, events, returns):
    for model, bench, est in itertools.product(MODELS, BENCHMARKS, ESTIMATION):
        separate = _fit(events, returns, market=bench, model=model, estimation_window=est)
        label = separate.model.name
        for window in EVENT_WINDOWS:
            expected = separate.car(window).set_index("ticker")
            rows = table[
                (table["model"] == label) & (table["benchmark"] == bench) & (table["estimation_start"] == est[0])
                & (table["estimation_end"] == est[1]) & (table["window_start"] == window[0])
                & (table["window_end"] == window[1])
            ].set_index("ticker")  # fmt: skip
            assert sorted(rows.index) == sorted(TICKERS)
            for column in ("car", "se", "t", "df", "pvalue"):
                np.testing.assert_allclose(
                    rows.loc[TICKERS, column].to_numpy(float), expected.loc[TICKERS, column].to_numpy(float),
                    rtol=1e-12, err_msg=f"{model} {bench} {est} {window} {column}",
                )  # fmt: skip


def test_the_studys_own_specification_is_not_refitted(res, monkeypatch):
    calls = []
    original = es.EventStudy.fit
    monkeypatch.setattr(es.EventStudy, "fit", lambda self: calls.append(1) or original(self))
    table = res.sensitivity(EVENT_WINDOWS, estimation_windows=[(-250, -11), (-120, -11)])
    assert len(calls) == 1  # only (-120, -11); the study's (-250, -11) is read from res
    own = table[table["estimation_start"] == -250].set_index("ticker")
    np.testing.assert_array_equal(own.loc[own["window_end"] == 1, "car"], res.car((0, 1))["car"])
    assert len(res.sensitivity([(0, 0)])) == len(TICKERS)
    assert len(calls) == 1


def test_bad_options_name_themselves(res):
    with pytest.raises(ValueError, match="'event_windows'.*outside"):
        res.sensitivity([(0, 9)])
    with pytest.raises(ValueError, match="'estimation_windows'"):
        res.sensitivity(estimation_windows=[(-100, 0)])
    with pytest.raises(ValueError, match="'models'.*'marker'"):
        res.sensitivity(models=["marker"])
    with pytest.raises(ValueError, match="'benchmarks'.*QQQ"):
        res.sensitivity(benchmarks=["QQQ"])


def test_loaded_results_vary_event_windows_only(res, tmp_path):
    loaded = es.load(res.save(tmp_path / "saved"))
    assert len(loaded.sensitivity([(0, 0), (0, 1)])) == 2 * len(TICKERS)
    with pytest.raises(ValueError, match="loaded from disk"):
        loaded.sensitivity(models=["market"])


def test_plot_takes_an_axes_and_returns_its_figure(table):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    out = es.plot_sensitivity(table, ticker="NVDA", ax=ax)
    assert out is fig
    nvda = table[table["ticker"] == "NVDA"]
    assert len(ax.get_yticklabels()) == len(nvda)
    points = ax.lines[0].get_xdata()
    np.testing.assert_allclose(sorted(points), sorted(nvda["car"]))
    plt.close(fig)
    alone = es.plot_sensitivity(table)
    assert alone.axes and "NVDA" in alone.axes[0].get_title()
    plt.close(alone)
    with pytest.raises(KeyError, match="'TSM'"):
        es.plot_sensitivity(table, ticker="TSM")
