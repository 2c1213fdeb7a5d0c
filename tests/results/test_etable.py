"""Publication tables: ``res.etable()`` against a hand OLS, its four renderings, and LaTeX that compiles.

The CARs and t-statistics are recomputed here from the returns with numpy's least squares and MacKinlay's
(1997, eq. 13) variance written out; the stars from scipy's t distribution.  The LaTeX of the table and of
the summary is compiled with pdflatex and ``booktabs`` alone, with a benchmark named ``^N225`` (a caret that
broke the old summary); that test is skipped, with the reason, where pdflatex is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import eventstudy as es

EVENTS = ["report-rescind-diffusion-rule-2025-05-07", "bis-rescinds-diffusion-huawei-guidance-2025-05-13"]
TICKERS = ["NVDA", "AMD", "MU"]
WINDOWS = [(0, 1), (0, 0), (-1, 1)]  # order kept, not sorted


@pytest.fixture(scope="module")
def returns(prices_dir) -> pd.DataFrame:
    prices = es.CsvSource(prices_dir).get_prices([*TICKERS, "SPY"], "2024-01-01", "2025-06-30")
    return es.returns(prices)


def _fit(catalog, returns, market, **options):
    events = catalog[catalog["id"].isin(EVENTS)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.EventStudyWarning)
        return es.EventStudy(events, tickers=TICKERS, returns=returns, market=market, **options).fit()


@pytest.fixture(scope="module")
def res(catalog, returns):
    return _fit(catalog, returns, "SPY")


@pytest.fixture(scope="module")
def res_n225(catalog, returns):
    """The market under a name LaTeX must escape: the caret of a non-US index (Tokyo's calendar, same date)."""
    return _fit(catalog, returns.rename(columns={"SPY": "^N225"}), "^N225", align_benchmarks="same-date")


def _hand_car(res, returns, event_id, ticker, window):
    """Market model by least squares over the estimation window; CAR and MacKinlay's t, written out."""
    day0 = res.firm_events.set_index(["event_id", "ticker"]).loc[(event_id, ticker), "day0"]
    frame = returns[[ticker, "SPY"]].dropna()
    at = frame.index.get_loc(day0)
    lo, hi = res.estimation_window
    est = frame.iloc[at + lo : at + hi + 1]
    x = np.column_stack([np.ones(len(est)), est["SPY"]])
    beta, *_ = np.linalg.lstsq(x, est[ticker].to_numpy(), rcond=None)
    resid = est[ticker].to_numpy() - x @ beta
    sigma2 = resid @ resid / (len(est) - 2)
    days = frame.iloc[at + window[0] : at + window[1] + 1]
    xs = np.column_stack([np.ones(len(days)), days["SPY"]])
    car = float((days[ticker].to_numpy() - xs @ beta).sum())
    s = xs.sum(axis=0)
    var = sigma2 * (len(days) + s @ np.linalg.inv(x.T @ x) @ s)
    t = car / np.sqrt(var)
    return car, np.sqrt(var), t, 2 * stats.t.sf(abs(t), len(est) - 2)


def test_cells_equal_a_hand_ols(res, returns):
    table = res.etable(WINDOWS)
    data = table.data
    assert len(data) == len(WINDOWS) * len(EVENTS) * len(TICKERS)
    for row in data.itertuples():
        car, se, t, p = _hand_car(res, returns, row.group, row.column, (row.window_start, row.window_end))
        assert row.car == pytest.approx(car, rel=1e-9)
        assert row.se == pytest.approx(se, rel=1e-9)
        assert row.t == pytest.approx(t, rel=1e-9)
        assert row.pvalue == pytest.approx(p, rel=1e-7)
        assert row.stars == int(p < 0.1) + int(p < 0.05) + int(p < 0.01)


def test_text_shows_windows_in_order_with_t_in_parentheses(res, returns):
    text = str(res.etable(WINDOWS))
    lines = text.splitlines()
    labels = [line.split()[1] for line in lines if line.startswith(EVENTS[0])]
    assert labels == ["CAR(+0,+1)", "CAR(0)", "CAR(-1,+1)"]
    car, _, t, p = _hand_car(res, returns, EVENTS[1], "AMD", (0, 1))
    row = next(i for i, line in enumerate(lines) if line.startswith(f"{EVENTS[1]} CAR(+0,+1)"))
    amd = lines[0:1] and [line for line in lines if line.strip().startswith("NVDA")][0].split().index("AMD")
    stars = "*" * (int(p < 0.1) + int(p < 0.05) + int(p < 0.01))
    assert lines[row].split()[2 + amd] == f"{100 * car:.2f}{stars}"
    assert lines[row + 1].split()[amd] == f"({t:.2f})"
    assert "SPY" in text and "market model" in text


def test_standard_errors_and_events_as_columns(res, returns):
    table = res.etable([(0, 0)], below="se", columns="events")
    assert table.columns == EVENTS and set(table.data["group"]) == set(TICKERS)
    _, se, _, _ = _hand_car(res, returns, EVENTS[0], "MU", (0, 0))
    assert f"({100 * se:.2f})" in table.to_markdown()
    assert "standard error" in str(table)


def test_html_and_markdown_hold_the_same_cells(res):
    table = res.etable([(0, 0)], stars=(0.5, 0.2))
    md = table.to_markdown()
    html = table.as_html()
    for row in table.data.itertuples():
        number = f"{100 * row.car:.2f}"
        assert number + "\\*" * row.stars in md
        assert number + (f"<sup>{'*' * row.stars}</sup>" if row.stars else "") in html
    assert "SPY" in html and "p &lt; 0.5" in html


def test_bad_options_name_themselves(res):
    with pytest.raises(ValueError, match="'stars'"):
        res.etable(stars=(5,))
    with pytest.raises(ValueError, match="'below'"):
        res.etable(below="p")
    with pytest.raises(ValueError, match="'columns'"):
        res.etable(columns="tickers")


def test_latex_numbers_are_numbers_and_labels_escaped(res_n225):
    latex = res_n225.etable(WINDOWS).to_latex(label="tab:h20")
    assert "\\label{tab:h20}" in latex and "\\usepackage" not in latex
    assert "\\textasciicircum{}N225" in latex and "^N225" not in latex.replace("$^{", "")
    assert not re.search(r"\d\\%", latex)  # no "-0.83\%": percent is in the caption
    # a minus sign, not a hyphen, as in the summary's LaTeX: every negative CAR and t written "$-$"
    signed = res_n225.etable([(-3, -1)])
    negative = [f"{-v:.2f}" for v in [*(100 * signed.data["car"]), *signed.data["t"]] if v < 0]
    assert negative and all(f"$-${n}" in signed.to_latex() for n in negative)
    assert not re.search(r"& \(?-\d", signed.to_latex())  # no cell starts with a hyphen
    summary = res_n225.to_latex(label="tab:s")
    assert "\\textasciicircum{}N225" in summary and "\\label{tab:s-abnormal-returns-by-firm-event}" in summary
    rows = [line for line in summary.splitlines() if line.startswith(tuple(EVENTS))]
    assert rows and not any(re.search(r"\d\\%", row) for row in rows)


@pytest.mark.skipif(
    shutil.which("pdflatex") is None,
    reason="pdflatex is not installed (apt-get install texlive-latex-base texlive-latex-recommended)",
)
def test_latex_compiles_with_booktabs_alone(res_n225, tmp_path):
    body = res_n225.etable(WINDOWS).to_latex(label="tab:cars") + "\n" + res_n225.to_latex(label="tab:summary")
    document = "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n" + body + "\\end{document}\n"
    (tmp_path / "table.tex").write_text(document, encoding="utf-8")
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "table.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:]
    assert (tmp_path / "table.pdf").stat().st_size > 0
    log = (tmp_path / "table.log").read_text(encoding="utf-8", errors="replace")
    assert "Missing character" not in log and "Undefined control sequence" not in log


def test_a_car_that_cannot_be_computed_shows_na_with_its_note_not_empty_parentheses(res_n225):
    """^N225 on Tokyo's calendar has no return on some US event days (same-date alignment): such a CAR is NaN.
    Its cell says n/a, the cell beneath is blank (not "()"), and the notes say what n/a means, in every
    rendering."""
    table = res_n225.etable([(-1, 1)])
    nan = table.data[table.data["car"].isna()]
    assert len(nan) == 3 and set(nan["group"]) == {EVENTS[0]}  # NVDA, AMD, MU on the first event
    text, md, html_, latex = table.as_text(), table.to_markdown(), table.as_html(), table.to_latex()
    for rendering in (text, md, html_, latex):
        assert "()" not in rendering
        assert "could not be computed" in rendering
    row = next(line for line in text.splitlines() if line.startswith(EVENTS[0]))
    assert row.split()[-3:] == ["n/a", "n/a", "n/a"]
    assert html_.count("<td>n/a</td>") == 3 and latex.count(" & n/a") == 3
