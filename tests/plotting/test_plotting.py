"""Figures: each renders with real data, composes through ``ax=``, and draws the numbers the results hold."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from scipy import stats

import eventstudy as es
from eventstudy.plotting import plot_ar, plot_car, plot_car_heatmap, plot_prices

matplotlib.use("Agg")  # conftest sets MPLBACKEND=Agg too; this covers a pyplot imported before it
import matplotlib.pyplot as plt  # noqa: E402

TICKERS = ["NVDA", "AMD", "SPY", "SOXX"]
Z95 = stats.norm.ppf(0.975)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def returns(prices_dir):
    frames = {t: pd.read_csv(prices_dir / f"{t}.csv", index_col="Date", parse_dates=True)["Adj Close"] for t in TICKERS}
    prices = pd.concat(frames, axis=1, sort=True).loc["2024-01-01":"2025-06-30"]
    return es.returns(prices)


@pytest.fixture(scope="module")
def res(returns):
    events = pd.DataFrame(
        {
            "ticker": ["NVDA", "AMD", "NVDA", "AMD"],
            "date": ["2025-05-07", "2025-05-07", "2025-05-13", "2025-05-13"],
            "event_id": ["report", "report", "rescind", "rescind"],
        }
    )
    return es.EventStudy(events, returns, market="SPY").fit()


@pytest.fixture(scope="module")
def prices(prices_dir):
    return es.CsvSource(prices_dir).get_prices(["NVDA", "AMD", "SPY"], "2024-01-01", "2025-06-30")


def png_bytes(fig: Figure) -> int:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60)
    return buffer.getbuffer().nbytes


def band_at(collection, x: float) -> tuple[float, float]:
    """Lower and upper edge of a fill_between band at ``x``."""
    vertices = np.concatenate([path.vertices for path in collection.get_paths()])
    ys = vertices[np.isclose(vertices[:, 0], x), 1]
    return ys.min(), ys.max()


# --- every figure -------------------------------------------------------------------------------------------
PLOTS = {
    "car_firm": lambda res, prices, ax=None: plot_car(res, ax=ax),
    "car_average": lambda res, prices, ax=None: plot_car(res, kind="average", ax=ax),
    "ar": lambda res, prices, ax=None: plot_ar(res, ax=ax),
    "prices": lambda res, prices, ax=None: plot_prices(prices, events=res.firm_events, ax=ax),
    "heatmap": lambda res, prices, ax=None: plot_car_heatmap(res, ax=ax),
}


@pytest.mark.parametrize("name", PLOTS)
def test_each_plot_renders_a_png(name, res, prices):
    fig = PLOTS[name](res, prices)
    assert isinstance(fig, Figure)
    assert png_bytes(fig) > 10_000
    assert fig.axes[0].get_title()


@pytest.mark.parametrize("name", PLOTS)
def test_each_plot_draws_on_the_axes_it_is_given(name, res, prices):
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    returned = PLOTS[name](res, prices, ax=right)
    assert returned is fig
    assert right.has_data() and not left.has_data()
    assert png_bytes(fig) > 10_000


def test_plots_compose_in_a_subfigure(res):
    fig = plt.figure(figsize=(10, 4))
    sub = fig.subfigures(1, 2)[1]
    ax = sub.subplots()
    assert plot_car_heatmap(res, ax=ax) is fig  # the top-level figure, the one to save


def test_importing_the_package_does_not_import_pyplot():
    code = "import sys, eventstudy, eventstudy.plotting; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- plot_car -----------------------------------------------------------------------------------------------
def test_plot_car_firm_lines_and_bands_match_the_car_table(res):
    fig = plot_car(res, ci=0.95)
    ax = fig.axes[0]
    start, end = res.event_window
    lines = {line.get_label(): line for line in ax.lines if not line.get_label().startswith("_")}
    assert list(lines) == [f"{t} {e}" for e, t in res.firm_events[["event_id", "ticker"]].itertuples(index=False)]
    bands = {to_rgb(c.get_facecolor()[0]): c for c in ax.collections}
    for i, line in enumerate(lines.values()):
        band = bands[to_rgb(line.get_color())]
        np.testing.assert_array_equal(line.get_xdata(), np.arange(start, end + 1))
        for t, y in zip(line.get_xdata(), line.get_ydata()):
            row = res.car((start, int(t))).iloc[i]  # an independent path: the CAR table's MacKinlay SE
            assert y == pytest.approx(row["car"], rel=1e-10)
            lower, upper = band_at(band, t)
            assert lower == pytest.approx(row["car"] - Z95 * row["se"], rel=1e-9)
            assert upper == pytest.approx(row["car"] + Z95 * row["se"], rel=1e-9)


def test_plot_car_window_starts_cumulating_at_its_first_day(res):
    ax = plot_car(res, window=(-1, 3)).axes[0]
    first = ax.lines[0]
    np.testing.assert_array_equal(first.get_xdata(), np.arange(-1, 4))
    ar = res.ar
    day_minus_1 = ar.loc[(ar["event_time"] == -1)].iloc[0]
    assert first.get_ydata()[0] == pytest.approx(day_minus_1["ar"])
    lower, upper = band_at(ax.collections[0], -1)
    assert (upper - lower) / 2 == pytest.approx(Z95 * day_minus_1["se"])  # one day: the AR's own SE


def test_plot_car_average_is_the_caar_with_a_cross_sectional_band(res):
    ax = plot_car(res, kind="average", ci=0.9, band="cross-section").axes[0]
    line, band = ax.lines[0], ax.collections[0]
    start, end = res.event_window
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(line.get_ydata(), res.aar["caar"], rtol=1e-10)  # no missing days here
    for t, y in zip(line.get_xdata(), line.get_ydata()):
        cars = res.car((start, int(t)))["car"]
        assert y == pytest.approx(cars.mean(), rel=1e-10)
        lower, upper = band_at(band, t)
        half = z * cars.std(ddof=1) / np.sqrt(len(cars))
        assert (lower, upper) == pytest.approx((cars.mean() - half, cars.mean() + half), rel=1e-9)


def test_plot_car_average_band_for_same_day_events_is_brown_warners(res, returns):
    # two announcements, two stocks each on the same day: "auto" takes the portfolio band, recomputed here from
    # a statsmodels OLS per firm-event on its own estimation window
    import statsmodels.api as sm

    ax = plot_car(res, kind="average").axes[0]
    assert "portfolio SE (Brown-Warner)" in ax.get_legend().get_texts()[1].get_text()
    est_lo, est_hi = res.estimation_window
    residuals = []
    for event in res.firm_events.itertuples():
        position = returns.index.get_loc(event.day0)
        window = returns.iloc[position + est_lo : position + est_hi + 1]
        fit = sm.OLS(window[event.ticker], sm.add_constant(window["SPY"])).fit()
        residuals.append(fit.resid.to_numpy())
    aar = np.mean(residuals, axis=0)  # one average residual per relative day of the estimation window
    s = np.std(aar, ddof=1)
    start = res.event_window[0]
    for t, y in zip(ax.lines[0].get_xdata(), ax.lines[0].get_ydata()):
        lower, upper = band_at(ax.collections[0], t)
        half = Z95 * s * np.sqrt(t - start + 1)
        assert (lower, upper) == pytest.approx((y - half, y + half), rel=1e-9)
    # the cross-sectional band stays available, and names what it assumes
    ax = plot_car(res, kind="average", band="cross-section").axes[0]
    assert "separate dates" in ax.get_legend().get_texts()[1].get_text()
    with pytest.raises(ValueError, match="'band'"):
        plot_car(res, kind="average", band="wrong")


def test_plot_car_portfolio_band_averages_the_firm_events_plotted_that_day(returns):
    # NVDA has no return on 2025-05-13: its firm-event of that day is dropped (no day-0 return), and the CAR path
    # of its 2025-05-07 one stops at day +4, so from day +4 on the average and the band hold the two AMD
    # firm-events only (recomputed here from a statsmodels OLS per firm-event)
    import statsmodels.api as sm

    gap = returns.copy()
    gap.loc["2025-05-13", "NVDA"] = np.nan
    events = pd.DataFrame(
        {
            "ticker": ["NVDA", "AMD", "NVDA", "AMD"],
            "date": ["2025-05-07", "2025-05-07", "2025-05-13", "2025-05-13"],
            "event_id": ["report", "report", "rescind", "rescind"],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.EventStudyWarning)  # the drop and the gap, both intended here
        with_gap = es.EventStudy(events, gap, market="SPY").fit()
    ax = plot_car(with_gap, kind="average", band="portfolio").axes[0]
    est_lo, est_hi = with_gap.estimation_window
    residuals = {}
    for event in with_gap.firm_events.itertuples():
        position = gap.index.get_loc(event.day0)
        window = gap.iloc[position + est_lo : position + est_hi + 1]
        fit = sm.OLS(window[event.ticker], sm.add_constant(window["SPY"]), missing="drop").fit()
        residuals[(event.ticker, event.event_id)] = fit.resid.to_numpy()
    assert sorted(residuals) == [("AMD", "report"), ("AMD", "rescind"), ("NVDA", "report")]
    everyone = np.std(np.mean(list(residuals.values()), axis=0), ddof=1)
    amd = np.std(np.mean([r for k, r in residuals.items() if k[0] == "AMD"], axis=0), ddof=1)
    start = with_gap.event_window[0]
    for t in ax.lines[0].get_xdata():
        lower, upper = band_at(ax.collections[0], t)
        s = everyone if t < 4 else amd
        assert (upper - lower) / 2 == pytest.approx(Z95 * s * np.sqrt(t - start + 1), rel=1e-9)


def test_plot_car_marks_day_zero_labels_axes_and_formats_percent(res):
    ax = plot_car(res).axes[0]
    assert ax.get_xlabel() == "Trading days relative to the event"
    assert ax.get_ylabel() == "Cumulative abnormal return"
    vertical = [line for line in ax.lines if np.array_equal(line.get_xdata(), [0, 0])]
    assert vertical, "no vertical line at day 0"
    low, high = ax.get_ylim()
    formatter = ax.yaxis.get_major_formatter()
    # fractions written in percent, whole percents on an axis spanning 3 points or more, one decimal below
    assert formatter(0.05, 0) == ("5%" if high - low >= 0.03 else "5.0%")
    assert formatter(-0.02, 0).startswith("\u2212") and formatter(-0.02, 0).endswith("%")
    assert plot_car(res, title="").axes[0].get_title() == ""


# --- plot_ar ------------------------------------------------------------------------------------------------
def _row_labels(ax) -> dict[float, str]:
    return {tick.get_position()[1]: tick.get_text() for tick in ax.get_yticklabels()}


def _errorbar_points(ax) -> pd.DataFrame:
    rows = []
    labels = _row_labels(ax)
    for container in ax.containers:
        data_line, _, (bars,) = container.lines
        for x, y, segment in zip(data_line.get_xdata(), data_line.get_ydata(), bars.get_segments()):
            rows.append({"label": labels[y], "y": y, "ar": x, "half": (segment[1, 0] - segment[0, 0]) / 2,
                         "colour": to_rgb(data_line.get_color())})  # fmt: skip
    return pd.DataFrame(rows).sort_values("y", ignore_index=True)


@pytest.mark.parametrize("day", [0, 1])
def test_plot_ar_shows_each_firm_events_ar_and_interval(res, day):
    points = _errorbar_points(plot_ar(res, day=day).axes[0])
    ar = res.ar
    expected = ar.loc[ar["event_time"] == day].assign(label=lambda d: d["ticker"] + " (" + d["event_id"] + ")")
    expected = expected.set_index("label").loc[points["label"]]
    np.testing.assert_allclose(points["ar"], expected["ar"], rtol=1e-12)
    np.testing.assert_allclose(points["half"], Z95 * expected["se"], rtol=1e-9)
    assert points["ar"].is_monotonic_increasing  # sorted: largest at the top
    significant = (expected["ar"].abs() > Z95 * expected["se"]).to_numpy()
    red = np.array([colour == to_rgb("C3") for colour in points["colour"]])
    np.testing.assert_array_equal(red, significant)


def test_plot_ar_unsorted_keeps_the_results_order_top_down(res):
    ax = plot_ar(res, sort=False).axes[0]
    labels = [label for _, label in sorted(_row_labels(ax).items(), reverse=True)]
    assert labels == [f"{t} ({e})" for e, t in res.firm_events[["event_id", "ticker"]].itertuples(index=False)]
    assert "1.96 SE" in ax.get_xlabel()


def test_plot_ar_with_a_tiny_ci_marks_every_ar_significant(res):
    points = _errorbar_points(plot_ar(res, ci=0.01).axes[0])
    assert all(colour == to_rgb("C3") for colour in points["colour"])


# --- plot_prices --------------------------------------------------------------------------------------------
EVENTS = pd.DataFrame(
    {
        "id": ["report-rescind-diffusion-rule-2025-05-07", "bis-rescinds-diffusion-2025-05-13", "outside-2023-01-03"],
        "date": pd.to_datetime(["2025-05-07", "2025-05-13", "2023-01-03"]),
        "title": ["Report: rule dropped", "Rescission", "Before the span"],
    }
)


def _event_lines(ax):
    return [line for line in ax.lines if line.get_linestyle() == ":"]


def test_plot_prices_rebases_each_column_to_100(prices):
    ax = plot_prices(prices, start="2025-01-01").axes[0]
    assert [line.get_label() for line in ax.lines[:3]] == ["NVDA", "AMD", "SPY"]
    span = prices.loc["2025-01-01":]
    for line, ticker in zip(ax.lines, span.columns):
        assert line.get_ydata()[0] == pytest.approx(100.0)
        np.testing.assert_allclose(line.get_ydata(), span[ticker].dropna() / span[ticker].dropna().iloc[0] * 100)
    raw = plot_prices(prices, rebase=False).axes[0]
    np.testing.assert_allclose(raw.lines[0].get_ydata(), prices["NVDA"].dropna())


def test_plot_prices_marks_and_labels_events_inside_the_span(prices):
    ax = plot_prices(prices, events=EVENTS).axes[0]
    assert len(_event_lines(ax)) == 2
    texts = [text.get_text() for text in ax.texts]
    assert texts == ["report-rescind-diffusio\u2026", "bis-rescinds-diffusion"]  # short ids: no date, cut
    assert all(text.get_rotation() == 90 for text in ax.texts)
    assert not plot_prices(prices, events=EVENTS, labels=False).axes[0].texts
    whole = plot_prices(prices, events=EVENTS, label_chars=40).axes[0]
    assert [text.get_text() for text in whole.texts] == ["report-rescind-diffusion-rule", "bis-rescinds-diffusion"]
    with pytest.raises(TypeError, match="'label_chars'"):
        plot_prices(prices, events=EVENTS, label_chars=2)


def test_plot_prices_accepts_firm_events_and_marks_each_event_once(prices, res):
    ax = plot_prices(prices, events=res.firm_events).axes[0]
    assert len(_event_lines(ax)) == 2
    assert sorted(text.get_text() for text in ax.texts) == ["report", "rescind"]


@pytest.mark.filterwarnings("ignore::eventstudy.SessionAssumptionWarning")
def test_plot_prices_caps_the_labels_of_a_crowded_catalog(prices):
    catalog = es.load_events()
    inside = catalog["day0"].between(prices.index[0], prices.index[-1]).sum()
    ax = plot_prices(prices, events=catalog, labels=5).axes[0]
    assert len(_event_lines(ax)) == inside > 5
    assert 0 < len(ax.texts) <= 5
    assert f"of {inside} labelled" in ax.get_legend().get_texts()[-1].get_text()
    assert len(plot_prices(prices, events=catalog).axes[0].texts) <= 20


@pytest.mark.filterwarnings("ignore::eventstudy.SessionAssumptionWarning")
@pytest.mark.parametrize("figsize", [(10, 5), (6, 4)])
def test_plot_prices_event_labels_do_not_overlap(prices, figsize):
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    plot_prices(prices, events=es.load_events(), ax=ax)
    fig.canvas.draw()
    boxes = [text.get_window_extent() for text in ax.texts]
    assert len(boxes) > 3
    for k, box in enumerate(boxes):
        assert ax.bbox.contains(box.x0 + 1, box.y0 + 1) and ax.bbox.contains(box.x1 - 1, box.y1 - 1)
        assert not any(box.overlaps(other) for other in boxes[k + 1 :]), ax.texts[k].get_text()
    lines = [line for line in ax.lines[:3]]
    top = max(line.get_ydata().max() for line in lines)
    lowest_label = min(box.y0 for box in boxes)
    assert ax.transData.transform((0, top))[1] < lowest_label  # the headroom keeps labels off the prices


def test_plot_prices_takes_a_series(prices):
    fig = plot_prices(prices["NVDA"], rebase=False, start="2025-01-01", end="2025-03-31")
    assert fig.axes[0].lines[0].get_label() == "NVDA"


def test_plot_prices_rejects_bad_input(prices):
    with pytest.raises(TypeError, match="'prices'"):
        plot_prices(prices.to_numpy())
    with pytest.raises(TypeError, match="DatetimeIndex"):
        plot_prices(prices.reset_index(drop=True))
    with pytest.raises(KeyError, match="'day0' or 'date'"):
        plot_prices(prices, events=EVENTS.drop(columns="date"))
    with pytest.raises(TypeError, match="'events'"):
        plot_prices(prices, events=["2025-05-07"])
    with pytest.raises(ValueError, match="no numeric prices"):
        plot_prices(prices, start="2030-01-01")
    with pytest.raises(TypeError, match="'labels'"):
        plot_prices(prices, labels="many")
    assert not plt.get_fignums()  # checks run before a figure is made


# --- plot_car_heatmap ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("window", [(-1, 1), (0, 0), (-5, 5)])
def test_plot_car_heatmap_cells_are_the_cars(res, window):
    fig = plot_car_heatmap(res, window=window)
    ax = fig.axes[0]
    cells = ax.images[0].get_array()
    rows = [tick.get_text() for tick in ax.get_yticklabels()]
    columns = [tick.get_text() for tick in ax.get_xticklabels()]
    assert rows == ["report (2025-05-07)", "rescind (2025-05-13)"]  # by day 0, with the date
    assert columns == ["NVDA", "AMD"]
    car = res.car(window)
    for (i, j), value in np.ndenumerate(cells):
        event_id = rows[i].split(" ")[0]
        expected = car.loc[(car["event_id"] == event_id) & (car["ticker"] == columns[j]), "car"].item()
        assert value == pytest.approx(expected, rel=1e-12)
    # the colour scale ends at the 95% quantile of |CAR|: with four cells, sorted a1..a4, the linear quantile
    # sits 0.95 * 3 = 2.85 of the way: a3 + 0.85 (a4 - a3)
    a = sorted(np.abs(car["car"]))
    limit = a[2] + 0.85 * (a[3] - a[2])
    assert (ax.images[0].norm.vmin, ax.images[0].norm.vmax) == pytest.approx((-limit, limit))
    assert sorted(text.get_text() for text in ax.texts) == sorted(f"{v:.1%}" for v in car["car"])
    assert len(fig.axes) == 2  # the colour bar
    assert f"clipped at \u00b1{limit:.1%}" in fig.axes[1].get_ylabel()  # the bar says where it is clipped
    whole = plot_car_heatmap(res, window=window, clip=None)
    assert whole.axes[0].images[0].norm.vmax == pytest.approx(a[3])
    assert "clipped" not in whole.axes[1].get_ylabel()


@pytest.mark.parametrize("clip", [0.0, 1.5, "0.9", True])
def test_plot_car_heatmap_rejects_a_bad_clip(res, clip):
    with pytest.raises((TypeError, ValueError), match="'clip'"):
        plot_car_heatmap(res, clip=clip)


def test_plot_car_heatmap_orders_rows_by_day0_and_leaves_missing_cells_blank(returns):
    events = pd.DataFrame(
        {
            "ticker": ["NVDA", "NVDA", "AMD"],
            "date": ["2025-05-13", "2025-05-07", "2025-05-07"],
            "event_id": ["rescind", "report", "report"],
        }
    )
    res = es.EventStudy(events, returns, market="SPY").fit()
    ax = plot_car_heatmap(res, annotate=False).axes[0]
    cells = ax.images[0].get_array()
    assert [tick.get_text().split(" ")[0] for tick in ax.get_yticklabels()] == ["report", "rescind"]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["NVDA", "AMD"]
    np.testing.assert_array_equal(np.ma.getmaskarray(cells), [[False, False], [False, True]])
    assert not ax.texts


# --- errors -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("plot", [plot_car, plot_ar, plot_car_heatmap])
def test_plots_of_results_reject_other_objects(plot, res):
    with pytest.raises(TypeError, match="EventStudyResults"):
        plot(res.car())
    assert not plt.get_fignums()


def test_bad_options_raise_with_the_allowed_values(res):
    with pytest.raises(ValueError, match=r"'kind'.*\('firm', 'average'\)"):
        plot_car(res, kind="mean")
    with pytest.raises(ValueError, match="'ci'"):
        plot_car(res, ci=95)
    with pytest.raises(TypeError, match="'ci'"):
        plot_ar(res, ci="95%")
    with pytest.raises(ValueError, match="event window"):
        plot_car(res, window=(-10, 5))
    with pytest.raises(es.EventWindowError):
        plot_car_heatmap(res, window=(1, -1))
    with pytest.raises(ValueError, match="'day'"):
        plot_ar(res, day=6)
    with pytest.raises(TypeError, match="'day'"):
        plot_ar(res, day=0.5)
    with pytest.raises(ValueError, match="'cmap'"):
        plot_car_heatmap(res, cmap="no-such-map")
    with pytest.raises(TypeError, match="'ax'"):
        plot_car(res, ax="left")
    assert not plt.get_fignums()
