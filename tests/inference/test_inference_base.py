"""Result objects, the registry, run_tests, design and recommend."""

from __future__ import annotations

import dataclasses
import math

import inference_loops as loops
import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.estimation.models import estimate
from eventstudy.estimation.panel import AlignedData
from eventstudy.exceptions import EventWindowError
from eventstudy.inference import TESTS, TestResult, csect_t, design, recommend, run_tests, tests_in_scope
from eventstudy.inference.base import _FORMAT_EACH, Batch, Groups, dist_labels
from eventstudy.inference.runner import entry_labels

COLUMNS = [
    "test", "window_start", "window_end", "stat", "pvalue", "n", "distribution", "note", "scope", "event_id", "ticker"
]  # fmt: skip


@pytest.fixture(scope="module")
def fit():
    y, market, day0, firm = loops.synthetic()
    return estimate(AlignedData.build(y, market), day0, firm, loops.ESTIMATION, loops.EVENT)


def spread_fit(n: int, *, gap: int = 15):
    rng = np.random.default_rng(2)
    market = rng.normal(0, 0.01, 200 + gap * n)
    y = market[:, None] + rng.normal(0, 0.02, (len(market), n))
    day0 = 100 + gap * np.arange(n)
    return estimate(AlignedData.build(y, market), day0, np.arange(n), (-80, -11), (-1, 1))


# --------------------------------------------------------------------------------------------------------
# TestResult
# --------------------------------------------------------------------------------------------------------


def test_test_result_is_a_frozen_record_with_a_readable_repr():
    result = TestResult("patell", 2.0, 0.0455, 12, "N(0,1)", (0, 1))
    assert result.valid
    assert repr(result) == "TestResult(patell, window=(0, 1), stat=2.0000, pvalue=0.0455, N(0,1), n=12)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.stat = 3.0  # type: ignore[misc]


def test_invalid_result_carries_the_reason():
    result = TestResult.invalid("kp_bmp", "no shared dates", window=(0, 0), n=4)
    assert not result.valid and math.isnan(result.stat) and math.isnan(result.pvalue)
    assert result.note == "no shared dates" and result.n == 4
    assert "invalid: no shared dates" in repr(result)


def test_public_names_are_exported_lazily():
    assert es.TestResult is TestResult
    from eventstudy.inference.simulation import simulate

    assert es.simulate is simulate


# --------------------------------------------------------------------------------------------------------
# groups of firm-events
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ids, n_groups, expected",
    [
        ([0, 0, 0, 0, 0], 2, [5, 0]),  # an empty last group must not cost the last row
        ([0, 0, 2, 2, 2], 4, [2, 0, 3, 0]),  # empty groups inside and at the end
        ([3, 1, 1, 0, 3], 5, [1, 2, 0, 2, 0]),  # unsorted ids
        ([], 3, [0, 0, 0]),
    ],
)
def test_group_sums_count_every_row(ids, n_groups, expected):
    groups = Groups(np.array(ids, dtype=np.int64), len(ids), n_groups=n_groups)
    np.testing.assert_array_equal(groups.sum(np.ones(len(ids))), expected)
    np.testing.assert_array_equal(groups.sum(np.ones(len(ids), dtype=bool)), expected)
    # two columns: each summed alone, as a loop over rows would
    values = np.arange(2.0 * len(ids)).reshape(len(ids), 2)
    loop = np.zeros((n_groups, 2))
    for g, row in zip(ids, values):
        loop[g] += row
    np.testing.assert_array_equal(groups.sum(values), loop)


# --------------------------------------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------------------------------------


def test_registry_lists_every_test_with_scope_description_and_reference():
    assert list(TESTS) == [
        "ar_t", "car_t", "csect_t", "brown_warner", "patell", "bmp", "kp_patell", "kp_bmp",
        "permutation", "rank", "grank_t", "grank_z", "generalized_sign", "sign", "wilcoxon", "mvrm_joint",
        "mvrm_average", "pseudo_event", "pseudo_event_t", "pseudo_event_mean", "sq", "skew_t", "boot_skew_t", "im_t",
    ]  # fmt: skip
    scopes = {name: spec.scope for name, spec in TESTS.items()}
    assert {n for n, s in scopes.items() if s == "single"} == {"ar_t", "car_t", "permutation", "sq"}
    assert {n for n, s in scopes.items() if s == "clustered"} == {"mvrm_joint", "mvrm_average"}
    for spec in TESTS.values():
        assert spec.description and spec.reference
        doc = spec.function.__doc__
        assert ".. math::" in doc and "References" in doc and "Notes" in doc, spec.name


def test_functions_return_by_scope(fit):
    for spec in TESTS.values():
        out = spec.function(fit, (0, 0))
        if spec.scope == "cross-section":
            assert isinstance(out, TestResult)
        else:
            assert isinstance(out, list) and all(isinstance(r, TestResult) for r in out)
        if spec.scope == "single":
            assert len(out) == fit.n


# --------------------------------------------------------------------------------------------------------
# run_tests
# --------------------------------------------------------------------------------------------------------


def test_run_tests_gives_one_tidy_table(fit):
    labels = pd.DataFrame({"event_id": ["E1"] * 4 + ["E2", "E3", "E4", "E4"], "ticker": list("ABCDEFGE")})
    table = run_tests(fit, [(0, 0), (-1, 1)], labels=labels)
    assert list(table.columns) == COLUMNS
    assert set(table["test"]) == set(TESTS)
    assert table["stat"].dtype == float and table["n"].dtype == np.int64
    cross = table[table["test"] == "csect_t"]
    assert len(cross) == 2 and cross["event_id"].isna().all()
    assert cross.iloc[0]["stat"] == pytest.approx(csect_t(fit, (0, 0)).stat, rel=1e-14)
    # scope: one per firm-event, one for all, one per same-day cluster (4 firm-events share session 230)
    scopes = table.drop_duplicates("test").set_index("test")["scope"]
    assert scopes["car_t"] == "single" and scopes["csect_t"] == "cross-section" and scopes["mvrm_joint"] == "clustered"
    per_window = table[table["window_start"] == 0]["scope"].value_counts()
    assert per_window["single"] == 4 * fit.n  # ar_t, car_t, permutation, sq
    assert per_window["cross-section"] == 18
    single = table[(table["test"] == "car_t") & (table["window_start"] == 0)]
    assert single["event_id"].tolist() == labels["event_id"].tolist()
    assert single["ticker"].tolist() == labels["ticker"].tolist()
    cluster = table[(table["test"] == "mvrm_joint") & (table["window_start"] == 0)].iloc[0]
    assert cluster["event_id"] == "E1" and cluster["ticker"] == "A, B, C, D" and cluster["n"] == 4


def test_cluster_labels_join_each_clusters_distinct_labels_in_order():
    """Per-cluster rows get their members' distinct labels (None left out) in order of first appearance,
    joined by ", ", as a plain loop over the clusters gives them; an empty or absent cluster gets None."""
    rng = np.random.default_rng(7)
    n = 400
    event_id = np.array([None if k == 0 else f"E{k}" for k in rng.integers(0, 6, n)], dtype=object)
    ticker = np.array([f"T{k}" for k in rng.integers(0, 50, n)], dtype=object)
    rows = [rng.choice(n, rng.integers(1, 9), replace=False) for _ in range(300)]
    rows += [np.array([3, 3, 3]), np.array([], dtype=np.int64), None, np.flatnonzero(event_id == None)[:4]]  # noqa: E711
    batch = Batch(len(rows), rows=rows)

    def plain(labels):
        out = []
        for members in rows:
            seen = [] if members is None else [v for v in dict.fromkeys(labels[members].tolist()) if v is not None]
            out.append(", ".join(seen) if seen else None)
        return out

    coded: dict = {}
    for _ in range(2):  # the second call reads the coded labels kept in ``coded``
        got_event, got_ticker = entry_labels(TESTS["mvrm_joint"], batch, event_id, ticker, joined=coded)
        assert got_event.tolist() == plain(event_id) and got_ticker.tolist() == plain(ticker)
    assert got_event[-3] is None and got_event[-2] is None and got_event[-1] is None  # empty, absent, all None
    assert any("," in label for label in got_ticker.tolist() if label)


def test_run_tests_options(fit):
    table = run_tests(fit, (0, 0), tests=["patell", "bmp"], labels=[f"ev{i}" for i in range(8)])
    assert table["test"].tolist() == ["patell", "bmp"]
    assert table["event_id"].tolist() == [None, None]
    with pytest.raises(ValueError, match="'tests'"):
        run_tests(fit, (0, 0), tests=["patel"])
    with pytest.raises(EventWindowError, match=r"must lie inside the event window \(-3, 3\)"):
        run_tests(fit, (0, 5))
    with pytest.raises(ValueError, match="'labels'"):
        run_tests(fit, (0, 0), labels=["a"])


def test_tests_in_scope_names_the_pooled_tests(fit):
    pooled = tests_in_scope("cross-section", "clustered")
    assert pooled == [
        "csect_t", "brown_warner", "patell", "bmp", "kp_patell", "kp_bmp",
        "rank", "grank_t", "grank_z", "generalized_sign", "sign", "wilcoxon", "mvrm_joint", "mvrm_average",
        "pseudo_event", "pseudo_event_t", "pseudo_event_mean", "skew_t", "boot_skew_t", "im_t",
    ]  # fmt: skip
    assert tests_in_scope("single") == ["ar_t", "car_t", "permutation", "sq"]
    assert tests_in_scope() == list(TESTS)
    table = run_tests(fit, (0, 0), tests=pooled)
    assert list(dict.fromkeys(table["test"])) == pooled and (table["scope"] != "single").all()
    with pytest.raises(ValueError, match="'scopes'"):
        tests_in_scope("pooled")


# --------------------------------------------------------------------------------------------------------
# design and recommend
# --------------------------------------------------------------------------------------------------------


def test_design_describes_the_calendar(fit):
    d = design(fit)
    assert (d.n_firm_events, d.n_dates, d.n_securities, d.largest_cluster) == (8, 5, 7, 4)
    assert d.share_same_day == pytest.approx(4 / 8)
    assert d.share_clustered == pytest.approx(6 / 8)  # sessions 230 and 232 share days of (-3, 3)
    assert d.min_estimation_days == 58
    assert "8 firm-events" in str(d)


def test_recommend_one_firm_event(fit):
    # permutation (0.056) and sq (0.054) reject more than 5% + 2 SE on 13,000 firm-events on their own dates
    names = [name for name, _ in recommend(fit.take([0]))]
    assert names == ["car_t"]


def test_recommend_few_firm_events(fit):
    out = recommend(fit.take([0, 4, 5]))
    assert [name for name, _ in out] == ["car_t"]
    assert all("cross-sectional tests need at least 5" in reason for _, reason in out)
    assert "measured size 0.052 at 5%" in out[0][1]


def test_recommend_clustered_events(fit):
    out = dict(recommend(fit))
    assert set(out) == {"kp_bmp", "kp_patell", "brown_warner", "pseudo_event", "grank_t", "mvrm_average", "car_t"}
    assert "over-reject" in out["kp_bmp"]
    # measured on same-day samples: the joint F (0.145), rank (0.029), sign (0.382), wilcoxon (0.491) are off 5%
    assert not {"csect_t", "bmp", "mvrm_joint", "rank", "sign", "wilcoxon", "im_t"} & set(out)


def test_recommend_a_cluster_too_large_for_the_joint_test():
    """40 firms on one date, 30 estimation days (T - K = 28): the average test, not the joint one."""
    rng = np.random.default_rng(6)
    market = rng.normal(0, 0.01, 80)
    y = market[:, None] + rng.normal(0, 0.02, (80, 40))
    fit = estimate(AlignedData.build(y, market), np.full(40, 60), np.arange(40), (-40, -11), (-1, 1))
    out = dict(recommend(fit))
    assert "mvrm_average" in out and "whatever the cluster size" in out["mvrm_average"]
    assert "mvrm_joint" not in out
    assert "too large for the joint MVRM test with T - K = 28" in out["mvrm_average"]
    # 24 firms: T - K = 28 > N + 3, so McKeon's F would run, but on same-day samples it rejects 14.5% with no
    # effect (results/size-power), so it is never suited there
    assert "mvrm_joint" not in dict(recommend(fit.take(np.arange(24))))
    assert "too large" not in dict(recommend(fit.take(np.arange(24))))["mvrm_average"]


def test_recommend_spread_out_events():
    # 30 firm-events on their own dates: the N=50 simulation, where patell (0.081) and rank (0.066) over-reject
    names = [name for name, _ in recommend(spread_fit(30))]
    assert names == ["bmp", "generalized_sign", "csect_t"]
    # 8: the N=13 simulation, where patell and rank hold 5% and the exact sign test under-rejects (0.029)
    small = [name for name, _ in recommend(spread_fit(8))]
    assert small == ["bmp", "patell", "rank", "generalized_sign", "csect_t", "wilcoxon", "car_t"]


def test_windows_on_threads_give_the_table_of_one_thread(study):
    # every registered test on four windows of the loops' synthetic study (same-day clusters, gaps): the
    # windows after the first run on threads, and the table must be the same to the last bit
    fit, _ = study
    windows = [(0, 0), (-1, 1), (-3, 3), (0, 2)]
    one = run_tests(fit, windows, workers=1)
    three = run_tests(fit, windows, workers=3)
    pd.testing.assert_frame_equal(one, three, check_exact=True)
    with pytest.raises(ValueError, match="workers"):
        run_tests(fit, windows, workers=0)


def test_distribution_labels_match_a_label_written_row_by_row():
    rng = np.random.default_rng(3)
    df1 = rng.choice([3.0, 2.0, np.nan], size=2000)
    df2 = rng.choice([714.0, 238.5, 12.0, np.nan, 0.0], size=2000)
    by_row = lambda *cols: [  # noqa: E731
        "F(" + ", ".join(("nan" if np.isnan(c[i]) else (str(int(c[i])) if c[i] == int(c[i]) else f"{c[i]:.1f}"))
                         for c in cols) + ")"
        for i in range(len(cols[-1]))
    ]  # fmt: skip
    assert dist_labels("F", df1, df2).tolist() == by_row(df1, df2)
    assert dist_labels("F", 3, df2).tolist() == by_row(np.full(2000, 3.0), df2)
    assert dist_labels("t", df2[:1]).tolist() == [by_row(df2[:1])[0].replace("F(", "t(")]
    assert dist_labels("t", np.array([])).tolist() == []
    # a few rows are formatted one by one, more are coded first (_FORMAT_EACH): both, either side of it
    for size in (1, 2, _FORMAT_EACH, _FORMAT_EACH + 1):
        assert dist_labels("F", df1[:size], df2[:size]).tolist() == by_row(df1[:size], df2[:size])
        assert dist_labels("F", 3, df2[-size:]).tolist() == by_row(np.full(size, 3.0), df2[-size:])
