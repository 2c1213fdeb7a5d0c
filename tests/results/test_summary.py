"""One summary, every display: text, HTML, Markdown, LaTeX and CSV show the same numbers.

The study is real: NVIDIA, AMD and four peers on the two AI Diffusion Rule rescission events plus the October
2022 advanced-computing rule, market model against SPY, on the shared price files.  Arm did not trade in
October 2022, so that firm-event is dropped and must show up in every display's dropped table.
"""

from __future__ import annotations

import dataclasses
import html as html_lib
import re
import warnings
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.foundation.summary import window_label  # the one spelling of a window in headers

EVENT_IDS = [
    "bis-advanced-computing-rule-2022-10-07",
    "report-rescind-diffusion-rule-2025-05-07",
    "bis-rescinds-diffusion-huawei-guidance-2025-05-13",
]
TICKERS = ["NVDA", "AMD", "AVGO", "MU", "QCOM", "ARM"]
WINDOWS = [(0, 0), (-1, 1), (-5, 5)]  # the summary's default windows for a (-5, +5) event window


def pct(value: float) -> str:
    return f"{value:+.2%}"


@pytest.fixture(scope="module")
def events(catalog) -> pd.DataFrame:
    return catalog[catalog["id"].isin(EVENT_IDS)].reset_index(drop=True)


@pytest.fixture(scope="module")
def source(prices_dir):
    return es.CsvSource(prices_dir)


def _fit(events, source, market):
    with pytest.warns(es.DroppedFirmEventsWarning, match="1 of 18 firm-events"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", es.DataQualityWarning)  # ARM's file starts at its 2023 listing
            return es.EventStudy(events, tickers=TICKERS, source=source, market=market).fit()


@pytest.fixture(scope="module")
def res(events, source):
    return _fit(events, source, "SPY")


@pytest.fixture(scope="module")
def res_soxx(events, source):
    return _fit(events, source, "SOXX")


@pytest.fixture(scope="module")
def car_strings(res) -> dict[tuple[str, str], list[str]]:
    """(event_id, ticker) -> the CARs of the summary windows formatted as the displays show them."""
    out: dict[tuple[str, str], list[str]] = {}
    for window in WINDOWS:
        for row in res.car(window).itertuples():
            out.setdefault((row.event_id, row.ticker), []).append(pct(row.car))
    return out


# -- the study itself ------------------------------------------------------------------------------------
def test_study_is_the_one_described(res):
    assert res.default_windows() == WINDOWS
    assert res.n == 17
    dropped = res.dropped
    assert list(dropped[["event_id", "ticker"]].itertuples(index=False, name=None)) == [(EVENT_IDS[0], "ARM")]
    assert set(res.firm_events["event_id"]) == set(EVENT_IDS)


# -- text ------------------------------------------------------------------------------------------------
def test_repr_and_str_are_the_summary_text(res):
    text = res.summary().as_text()
    assert repr(res) == text
    assert str(res) == text
    assert text.startswith("Event study: market model (SPY)\n===")
    for heading in [
        "Abnormal returns by firm-event",
        "Tests across firm-events",
        "Average abnormal return by day",
        "Dropped firm-events",
        "Notes",
    ]:
        assert f"\n{heading}\n" in text


def test_text_rows_show_each_car_to_two_decimals(res, car_strings):
    lines = str(res).splitlines()
    for (event_id, ticker), cars in car_strings.items():
        row = [line for line in lines if re.match(rf"\s*{re.escape(event_id)}\s+{ticker}\s+\d{{4}}-", line)]
        assert len(row) == 1, (event_id, ticker)
        assert [cell for cell in row[0].split() if cell.endswith("%")] == cars


# -- HTML ------------------------------------------------------------------------------------------------
class _Tables(HTMLParser):
    """Collect every <table> as a list of rows of cell texts, and check that tags are balanced."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.stack: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_html_is_the_same_summary_as_a_table(res, car_strings):
    html = res._repr_html_()
    assert html == res.summary().as_html() == res.summary()._repr_html_()
    assert html.startswith("<div class='eventstudy-summary'>") and html.rstrip().endswith("</div>")
    parser = _Tables()
    parser.feed(html)
    parser.close()
    assert parser.stack == []
    facts, by_firm = parser.tables[0], parser.tables[1]
    assert ["Model", "market model (SPY)"] in facts
    # the counts multiply out: 17 estimated and 1 dropped of 18 = events x tickers (notebook 02 once printed
    # "651 (47 events x 14 tickers)")
    n_events, n_tickers = len(EVENT_IDS), len(TICKERS)
    assert res.n == n_events * n_tickers - 1
    assert [
        "Firm-events",
        f"{res.n} of {n_events * n_tickers} firm-events estimated ({n_events} events x {n_tickers} tickers), 1 dropped",
    ] in facts
    header = by_firm[0]
    assert header[:3] == ["event_id", "ticker", "day0"]
    car_columns = [header.index(f"CAR {window_label(w)}") for w in WINDOWS]
    rows = {(r[0], r[1]): [r[i] for i in car_columns] for r in by_firm[1:]}
    assert rows == car_strings
    for heading in ["Tests across firm-events", "Dropped firm-events", "Notes"]:
        assert f"<h5>{heading}</h5>" in html


# -- Markdown ----------------------------------------------------------------------------------------------
def _markdown_tables(text: str) -> list[list[list[str]]]:
    tables, current = [], None
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if current is None:
                current = []
                tables.append(current)
            current.append(cells)
        else:
            current = None
    return tables


def test_markdown_is_a_github_table_with_the_firm_event_rows(res, car_strings):
    text = res.to_markdown()
    assert text == res.summary().to_markdown()
    assert text.startswith("## Event study: market model (SPY)\n")
    assert "### Abnormal returns by firm-event" in text
    tables = _markdown_tables(text)
    by_firm = tables[0]
    header, rule = by_firm[0], by_firm[1]
    assert all(re.fullmatch(r":?-{3,}:?", cell) for cell in rule)
    car_columns = [header.index(f"CAR {window_label(w)}") for w in WINDOWS]
    rows = {(r[0], r[1]): [r[i] for i in car_columns] for r in by_firm[2:]}
    assert rows == car_strings


def test_markdown_keeps_the_formatted_t_and_p_values(res):
    """tabulate must not re-parse the formatted strings ('0.50' stays '0.50', '0.740' stays '0.740')."""
    text_rows = {
        tuple(line.split()[:2]): line.split()
        for line in str(res).splitlines()
        if line.strip().startswith(tuple(EVENT_IDS))
    }
    md_rows = {(r[0], r[1]): r for r in _markdown_tables(res.to_markdown())[0][2:]}
    for key, md_row in md_rows.items():
        assert md_row == text_rows[key]


# -- LaTeX ---------------------------------------------------------------------------------------------------
def _latex_number(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    return "$-$" + text[1:] if text.startswith("-") else text


def test_latex_has_the_tables_and_the_same_cars(res):
    latex = res.to_latex()
    assert latex == res.summary().to_latex()
    assert latex.count("\\begin{tabular}") == latex.count("\\end{tabular}") >= 4
    assert "\\caption{Abnormal returns by firm-event}" in latex
    assert "\\label{tab:eventstudy-abnormal-returns-by-firm-event}" in latex
    assert "\\caption{Dropped firm-events}" in latex
    header = next(line for line in latex.splitlines() if line.startswith("event\\_id & ticker & day0"))
    assert "CAR (0) (\\%)" in header  # the unit in the header, numbers in the cells
    cars = {w: res.car(w).set_index(["event_id", "ticker"]) for w in WINDOWS}
    for event_id, ticker in cars[(0, 0)].index:
        row = [line for line in latex.splitlines() if line.startswith(f"{event_id} & {ticker} & ")]
        assert len(row) == 1
        cells = [c.strip().removesuffix("\\\\").strip() for c in row[0].split("&")]
        for k, window in enumerate(WINDOWS):  # CAR, t, p per window after event_id, ticker, day0
            car, t = cars[window].loc[(event_id, ticker), ["car", "t"]]
            assert cells[3 + 3 * k] == _latex_number(100 * car, 2)
            assert cells[4 + 3 * k] == _latex_number(t, 2)
            assert "%" not in cells[3 + 3 * k]


def _escape(text: str) -> str:
    """LaTeX escaping written out here, one character at a time."""
    table = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
             "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}",
             ">": r"\textgreater{}"}  # fmt: skip
    return "".join(table.get(c, c) for c in text)


def test_latex_carries_the_notes(res, events):
    latex = res.to_latex()
    assert "Suited to this design" in latex
    flat = " ".join(latex.split())
    for event in events.itertuples():
        escaped = _escape(event.confounders.strip())
        assert " ".join(escaped.split()) in flat, event.id


# -- CSV -------------------------------------------------------------------------------------------------------
def test_csv_files_hold_full_precision(res, tmp_path):
    paths = res.to_csv(tmp_path)
    names = sorted(p.name for p in paths)
    assert names == sorted(
        [
            "abnormal_returns_by_firm_event.csv",
            "tests_across_firm_events.csv",
            "tests_of_same_day_clusters.csv",
            "average_abnormal_return_by_day.csv",
            "dropped_firm_events.csv",
        ]
    )
    assert all(p.parent == tmp_path and p.stat().st_size > 0 for p in paths)
    table = pd.read_csv(tmp_path / "abnormal_returns_by_firm_event.csv", float_precision="round_trip")
    for window in WINDOWS:
        label = window_label(window)
        car = res.car(window)
        merged = car.merge(table, on=["event_id", "ticker"], validate="one_to_one")
        assert len(merged) == res.n
        np.testing.assert_array_equal(merged[f"CAR {label}"].to_numpy(), merged["car"].to_numpy())
        np.testing.assert_array_equal(merged[f"t {label}"].to_numpy(), merged["t"].to_numpy())
        np.testing.assert_array_equal(merged[f"p {label}"].to_numpy(), merged["pvalue"].to_numpy())
    aar = pd.read_csv(tmp_path / "average_abnormal_return_by_day.csv", float_precision="round_trip")
    np.testing.assert_array_equal(aar["caar"].to_numpy(), res.aar["caar"].to_numpy())
    dropped = pd.read_csv(tmp_path / "dropped_firm_events.csv", float_precision="round_trip")
    assert list(dropped[["event_id", "ticker"]].itertuples(index=False, name=None)) == [(EVENT_IDS[0], "ARM")]


def test_csv_tests_equal_res_tests(res, tmp_path):
    """The summary's test tables, written to CSV, hold res.tests()'s numbers to the last bit."""
    res.to_csv(tmp_path)
    tests = res.tests(WINDOWS)
    keys = ["test", "window_start", "window_end"]
    pooled = tests[tests["scope"] == "cross-section"]
    written = pd.read_csv(tmp_path / "tests_across_firm_events.csv", float_precision="round_trip")
    merged = written.merge(pooled, on=keys, validate="one_to_one", suffixes=("", "_all"))
    assert len(merged) == len(written) > 0
    np.testing.assert_array_equal(merged["stat"].to_numpy(), merged["stat_all"].to_numpy())
    np.testing.assert_array_equal(merged["pvalue"].to_numpy(), merged["pvalue_all"].to_numpy())
    clusters = tests[tests["scope"] == "clustered"]
    written = pd.read_csv(tmp_path / "tests_of_same_day_clusters.csv", float_precision="round_trip")
    merged = written.merge(clusters, on=[*keys, "event_id"], validate="one_to_one", suffixes=("", "_all"))
    assert len(merged) == len(written) > 0
    np.testing.assert_array_equal(merged["stat"].to_numpy(), merged["stat_all"].to_numpy())


# -- dropped firm-events and notes in every format ---------------------------------------------------------
def test_dropped_firm_event_appears_in_every_format(res):
    reason = res.dropped["reason"].iloc[0]
    assert reason
    dropped_line = [line for line in str(res).split("Dropped firm-events")[1].splitlines() if "ARM" in line]
    assert len(dropped_line) == 1 and EVENT_IDS[0] in dropped_line[0] and reason in dropped_line[0]
    html_part = res._repr_html_().split("<h5>Dropped firm-events</h5>")[1]
    assert f"<td>{EVENT_IDS[0]}</td>" in html_part and "<td>ARM</td>" in html_part and reason in html_part
    md_part = res.to_markdown().split("### Dropped firm-events")[1]
    assert re.search(rf"\|\s*{re.escape(EVENT_IDS[0])}\s*\|\s*ARM\s*\|", md_part)
    latex_part = res.to_latex().split("\\caption{Dropped firm-events}")[1]
    assert f"{EVENT_IDS[0]} & ARM & " in latex_part


def test_notes_carry_the_catalog_confounders(res, events):
    notes = res.summary().notes
    text, html, markdown = str(res), res._repr_html_(), res.to_markdown()
    assert "\\begin{itemize}" in res.to_latex()
    for event in events.itertuples():
        confounders = event.confounders.strip()
        assert confounders
        assert any(note.startswith(f"{event.id}: ") and confounders in note for note in notes), event.id
        assert confounders in text
        assert confounders in markdown
        assert html_lib.escape(confounders) in html


def test_notes_recommend_tests_for_the_design(res):
    notes = res.summary().notes
    assert any(note.startswith("Suited to this design: kp_bmp") for note in notes)
    assert any("overlaps" in note for note in notes)  # the two May 2025 events are four sessions apart


# -- es.compare ----------------------------------------------------------------------------------------------
def test_compare_puts_one_column_group_per_study(res, res_soxx):
    side = es.compare({"vs SPY": res, "vs SOXX": res_soxx}, window=(-1, 1))
    assert list(side.columns.get_level_values(0).unique()) == ["vs SPY", "vs SOXX"]
    assert list(side["vs SPY"].columns) == ["car", "t", "pvalue"]
    assert side.index.names == ["event_id", "ticker"]
    for label, study in [("vs SPY", res), ("vs SOXX", res_soxx)]:
        car = study.car((-1, 1)).set_index(["event_id", "ticker"])
        block = side[label].loc[car.index]
        np.testing.assert_array_equal(block["car"].to_numpy(), car["car"].to_numpy())
        np.testing.assert_array_equal(block["t"].to_numpy(), car["t"].to_numpy())
        np.testing.assert_array_equal(block["pvalue"].to_numpy(), car["pvalue"].to_numpy())
    assert not np.allclose(side[("vs SPY", "car")], side[("vs SOXX", "car")])


def test_compare_shows_nan_for_a_firm_event_one_study_lacks(res):
    nvda_only = res.select(tickers=["NVDA"])
    side = es.compare({"all": res, "NVDA": nvda_only}, window=(0, 0))
    assert len(side) == res.n
    lacking = side.index.get_level_values("ticker") != "NVDA"
    assert side.loc[lacking, ("NVDA", "car")].isna().all()
    assert side.loc[~lacking, ("NVDA", "car")].notna().all()


def test_compare_rejects_what_is_not_a_results_object(res):
    with pytest.raises(ValueError, match="empty"):
        es.compare({})
    with pytest.raises(TypeError):
        es.compare({"a": res, "b": res.car()})


# -- immutability ----------------------------------------------------------------------------------------------
def test_results_cannot_be_changed(res):
    with pytest.raises(AttributeError):
        res.name = "changed"
    with pytest.raises(AttributeError):
        res.new_attribute = 1
    with pytest.raises(AttributeError):
        res._fit = None
    summary = res.summary()
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.title = "changed"


@pytest.mark.parametrize(
    "getter",
    [
        lambda r: r.ar,
        lambda r: r.car(),
        lambda r: r.car((0, 0)),
        lambda r: r.bhar((-1, 1)),
        lambda r: r.aar,
        lambda r: r.params,
        lambda r: r.firm_events,
        lambda r: r.dropped,
        lambda r: r.decompose((0, 0)),
        lambda r: r.tests([(0, 0)]),
    ],
)
def test_a_returned_frame_is_a_copy(res, getter):
    first = getter(res)
    expected = first.copy(deep=True)
    for column in first.columns:
        if pd.api.types.is_numeric_dtype(first[column]) and not pd.api.types.is_bool_dtype(first[column]):
            first[column] = first[column] * 0 + 12345
        elif first[column].dtype == object:
            first.loc[first.index[0], column] = "changed"
    first["added"] = 1.0
    pd.testing.assert_frame_equal(getter(res), expected)


def test_changing_a_summary_table_does_not_change_the_next_summary(res):
    summary = res.summary()
    summary.tables[0].data.iloc[:, 3] = 99.0
    summary.notes.append("a note added later")
    fresh = res.summary()
    assert "a note added later" not in fresh.notes
    assert fresh.as_text() == str(res)


def test_settings_and_provenance_are_copies(res):
    settings, provenance = res.settings, res.provenance
    settings["model"] = "changed"
    provenance["source"] = None
    assert res.settings["model"] == "market"
    assert res.provenance["source"] is not None


def test_a_value_that_rounds_to_zero_prints_without_a_minus_sign():
    from eventstudy.foundation.summary import format_value

    assert format_value(-0.000001, "pct") == "+0.00%"  # -0.0001 %: below the two decimals shown
    assert format_value(-0.001, "{:.2f}") == "0.00" and format_value(-1e-9, "{:+.2f}") == "+0.00"
    assert format_value(-0.004, "pct") == "-0.40%" and format_value(-0.5, "{:.2f}") == "-0.50"
    assert format_value(-1.2e-5, "{:.2e}") == "-1.20e-05"  # scientific notation keeps its digits


def test_report_tables_print_numbers_as_formatted_and_right_aligned():
    from eventstudy.report._text import md_table

    frame = pd.DataFrame({"test": ["rank", "bmp"], "t": ["0.50", "-1.35"], "p": ["<0.001", "0.200"], "n": [3, 12]})
    lines = md_table(frame).splitlines()
    assert lines[1] == "|:-------|------:|-------:|----:|"  # text left, numbers right
    assert lines[2] == "| rank   |  0.50 | <0.001 |   3 |"  # "0.50" is not parsed back into 0.5
    assert md_table(frame.iloc[:0]) == "(none)"


def test_the_tests_table_holds_the_suited_tests_on_every_window(res):
    """Each test the notes call suited, on each window, test by test: a table of every test cut at 60 rows
    showed day 0 only on a clustered design, led by the tests that over-reject there."""
    summary = res.summary()
    suited = [name for name, _ in es.inference.recommend(res.fit)]
    pooled = [name for name in suited if es.inference.TESTS[name].scope == "cross-section"]
    table = next(t for t in summary.tables if t.title == "Tests across firm-events").data
    windows = res.default_windows()
    expected = [(name, start, end) for name in pooled for start, end in windows]
    assert list(table[["test", "window_start", "window_end"]].itertuples(index=False, name=None)) == expected
    clusters = next(t for t in summary.tables if t.title == "Tests of same-day clusters").data
    assert set(clusters["test"]) == {n for n in suited if es.inference.TESTS[n].scope == "clustered"}
    assert (clusters["n"] >= 2).all()  # a date with one firm-event is no system: res.tests() says so, not this
    assert any(note.startswith("Suited to this design: kp_bmp") for note in summary.notes)


def test_text_tables_print_as_pandas_to_string_prints_them(res):
    """The summary's text tables are written by hand for speed; pandas' ``to_string(index=False)`` is the
    reference, on every table of the real summary and on random tables of strings (empty cells, spaces,
    headers wider and narrower than their cells)."""
    from eventstudy.foundation.summary import text_table

    summary = res.summary()
    for table in summary.tables:
        assert text_table(table.display) == table.display.to_string(index=False)
    rng = np.random.default_rng(5)
    alphabet = list("abcXYZ +-.,%<>()0123456789\t\n\r")  # pandas prints the last three escaped
    for _ in range(200):
        columns = {
            "".join(rng.choice(alphabet, rng.integers(1, 10))) + f"{j}": [
                "".join(rng.choice(alphabet, rng.integers(0, 14))) for _ in range(rows)
            ]
            for j, rows in enumerate([rng.integers(1, 7)] * rng.integers(1, 6))
        }
        frame = pd.DataFrame(columns).astype(str)
        assert text_table(frame) == frame.to_string(index=False)


def test_format_table_formats_as_column_assignments_into_a_copy_do():
    """format_table builds its table in one constructor; the reference is the plain pandas way it replaced:
    a copy, each formatted column mapped, dates as strings, missing values blank, every cell a string."""
    from eventstudy.foundation.summary import NOT_AVAILABLE, format_table, format_value

    frame = pd.DataFrame(
        {
            "event_id": ["a", None, "c", "d"],
            "day0": pd.to_datetime(["2025-05-13", None, "2024-12-02", "2023-10-17"]),
            "car": [0.031, np.nan, -0.000001, np.inf],
            "t": [1.234, -0.5, np.nan, 2.0],
            "p": [0.0004, 0.2, np.nan, 0.05],
            "n": [3, 12, 7, 1],
            "x": [0.1, np.nan, 2.5, 1e-9],
            "flag": [True, False, True, False],
            "label": pd.array(["x", None, "z", "w"], dtype=str),
        }
    )
    formats = {"car": "pct", "t": "{:.2f}", "p": "p", "n": "{:d}", "missing": "pct"}
    expected = frame.copy()
    for column, spec in formats.items():
        if column in expected.columns:
            expected[column] = (
                expected[column].map(lambda v, s=spec: format_value(v, s) or NOT_AVAILABLE).astype(object)
            )
    expected["day0"] = expected["day0"].dt.strftime("%Y-%m-%d")
    expected = expected.fillna("").astype(str)
    got = format_table(frame, formats)
    pd.testing.assert_frame_equal(got, expected)
    assert got.loc[1, "car"] == NOT_AVAILABLE and got.loc[1, "day0"] == "" and got.loc[1, "event_id"] == ""


@pytest.mark.parametrize("max_rows", [0, 1, 2, 4, 7, 10, 13, 60])
def test_the_cluster_table_is_the_head_of_res_tests(res, max_rows):
    """The summary solves only the systems it shows (on a fit of their members); its rows and their count
    are those of the full table from res.tests(), to the last bit, whichever window the cut falls in."""
    windows = res.default_windows()
    clustered = ["mvrm_average", "mvrm_joint"]
    full = res.tests(windows, tests=clustered)
    full = full.iloc[np.argsort(pd.Index(clustered).get_indexer(pd.Index(full["test"])), kind="stable")]
    full = full[(full["n"] >= 2).to_numpy()].reset_index(drop=True)
    assert full["window_start"].nunique() == len(windows) and len(full) > 7  # the cuts fall inside the table
    pooled, shown, total = res._suited_tests(windows, ["kp_bmp", *clustered], max_rows)
    assert total == len(full)
    pd.testing.assert_frame_equal(shown, full.head(max_rows), check_exact=True)  # dtypes too, when empty
    assert pooled["test"].unique().tolist() == ["kp_bmp"]
    # the summary shows the suited ones (mvrm_average here) and counts them
    suited = [name for name, _ in es.inference.recommend(res.fit) if name in clustered]
    counted = int(full["test"].isin(suited).sum())
    table = next(t for t in res.summary(max_rows=max_rows).tables if t.title == "Tests of same-day clusters")
    assert table.caption.startswith(f"First {max_rows} of {counted} rows" if counted > max_rows else "Dates with")

    assert table.data.equals(full[full["test"].isin(suited)].head(max_rows)[table.data.columns].reset_index(drop=True))


def test_a_negative_max_rows_is_refused(res):
    with pytest.raises(ValueError, match="'max_rows' parameter must be an integer >= 0"):
        res.summary(max_rows=-2)
