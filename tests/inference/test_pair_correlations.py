"""The Kolari-Pynnonen pair correlations of firm-events on nearby dates against a plain loop over pairs.

The chunked computation takes each pair's sums over the days the two share as the row's total less its sums
outside the other's window (its first or last days, as many as the gap between the dates) and on the other's
missing days (a sparse correction), or, for a chunk with many missing days, as six dense products; the cross
products in bands of earlier rows.  Both are checked here against ``np.corrcoef`` on the common finite
calendar days of every pair, with missing days scattered, windows cut short at the start, a run of missing
days inside a window, an empty row, gaps from 0 (small same-day clusters) to reach - 1, and two groups whose
dates interleave.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import eventstudy.inference.parametric as parametric
from eventstudy.inference.parametric import MIN_OVERLAP

REACH = 7  # pairs 1 to 6 sessions apart
ESTIMATION_DAYS = 50  # grid columns 0-49 hold residuals, 50-56 are the event window (NaN)


def rows_with_gaps(seed: int = 3, n: int = 60, missing: float = 0.02):
    """Residual rows (N, 57) on the relative-day grid, their groups and day-0 sessions."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=400)  # calendar shocks, so that pairs are correlated
    day0 = np.sort(rng.integers(100, 130, n))
    group = rng.integers(0, 2, n)
    res = np.full((n, ESTIMATION_DAYS + REACH), np.nan)
    for i in range(n):
        calendar = day0[i] - ESTIMATION_DAYS + np.arange(ESTIMATION_DAYS)
        res[i, :ESTIMATION_DAYS] = 0.5 * common[calendar] + rng.normal(size=ESTIMATION_DAYS)
    res[:, :ESTIMATION_DAYS][rng.random((n, ESTIMATION_DAYS)) < missing] = np.nan
    res[3, :12] = np.nan  # a window cut short at the start
    res[7, 20:31] = np.nan  # a run of missing days inside the window
    res[11, 30:] = np.nan  # cut short at the end: fewer than MIN_OVERLAP days with most rows
    res[15] = np.nan  # no residual at all
    return res, group, day0


def loop(res, group, day0):
    """Every same-group pair 0 to REACH - 1 sessions apart (clusters on one date are small here: every pair on
    one date once, the earlier row first) -> correlation on their common calendar days."""
    out = {}
    for i in range(len(day0)):
        for j in range(len(day0)):
            gap = day0[j] - day0[i]
            if group[i] != group[j] or not 0 <= gap < REACH or (gap == 0 and j <= i):
                continue
            a = {day0[i] + t: v for t, v in enumerate(res[i]) if np.isfinite(v)}
            b = {day0[j] + t: v for t, v in enumerate(res[j]) if np.isfinite(v)}
            common = sorted(set(a) & set(b))
            rho = math.nan
            if len(common) >= MIN_OVERLAP:
                rho = float(np.corrcoef([a[s] for s in common], [b[s] for s in common])[0, 1])
            out[(i, j)] = (group[i], gap, rho)
    return out


def sorted_rows(res, group, day0):
    """The rows of the pairs from residuals with NaN on missing days (the residuals 0 there and the mask)."""
    finite = np.isfinite(res)
    return parametric._sorted_rows(np.where(finite, res, 0.0), finite, group, day0, REACH)


def check(res, group, day0):
    first, second, groups, gaps, rho = parametric._near_pairs(sorted_rows(res, group, day0))
    expected = loop(res, group, day0)
    got = {(int(i), int(j)): (g, gap, r) for i, j, g, gap, r in zip(first, second, groups, gaps, rho)}
    assert len(got) == len(first)  # each pair once
    assert got.keys() == expected.keys()
    pairs = sorted(expected)
    assert [got[p][:2] for p in pairs] == [expected[p][:2] for p in pairs]
    np.testing.assert_allclose([got[p][2] for p in pairs], [expected[p][2] for p in pairs], rtol=1e-10, atol=1e-13)
    return expected


def count_calls(monkeypatch, name):
    """The calls of a function of the module, each its result (from then on)."""
    calls = []
    function = getattr(parametric, name)
    monkeypatch.setattr(parametric, name, lambda *args: calls.append(function(*args)) or calls[-1])
    return calls


@pytest.mark.parametrize(("chunk", "band"), [(1, 24), (5, 2), (16, 3), (96, 1), (96, 7), (96, 24)])
def test_sparse_path_matches_the_loop(monkeypatch, chunk, band):
    """Chunks of 1 to 96 rows, their cross products in bands of 1 to 24 earlier rows."""
    monkeypatch.setattr(parametric, "PAIR_CHUNK", chunk)
    monkeypatch.setattr(parametric, "CROSS_BAND", band)
    monkeypatch.setattr(parametric, "DENSE_MISSING", 1.0)  # never the dense products
    calls = count_calls(monkeypatch, "_on_missing")
    expected = check(*rows_with_gaps())
    assert calls
    gaps = {gap for _, gap, _ in expected.values()}
    assert gaps == set(range(REACH))  # gaps 0 (one date), 1 and reach - 1 included
    rho = [r for _, _, r in expected.values()]
    assert any(math.isnan(r) for r in rho) and sum(not math.isnan(r) for r in rho) > 100


@pytest.mark.parametrize("chunk", [1, 16])
def test_dense_path_matches_the_loop(monkeypatch, chunk):
    monkeypatch.setattr(parametric, "PAIR_CHUNK", chunk)
    monkeypatch.setattr(parametric, "DENSE_MISSING", 0.0)  # always the six products
    calls = count_calls(monkeypatch, "_on_missing")
    check(*rows_with_gaps())
    assert not calls


def test_chunks_with_many_missing_days_take_the_dense_path(monkeypatch):
    """Group 0 misses 30 % of its days, group 1 1 %: the default threshold sends them different ways."""
    monkeypatch.setattr(parametric, "PAIR_CHUNK", 8)
    res, group, day0 = rows_with_gaps(seed=5, n=70, missing=0.01)
    rng = np.random.default_rng(9)
    heavy = (group == 0)[:, None] & (rng.random(res.shape) < 0.3)
    res[heavy] = np.nan
    sparse = count_calls(monkeypatch, "_on_missing")
    check(res, group, day0)
    chunks = math.ceil((group == 0).sum() / 8) + math.ceil((group == 1).sum() / 8)
    # some chunks each way: one call of _on_missing a sparse chunk, and no more than group 1's chunks
    assert 0 < len(sparse) <= math.ceil((group == 1).sum() / 8) < chunks


def test_the_same_calendar_day_missing_for_every_row(monkeypatch):
    """A market holiday in the data: the same calendar day missing from every row, at a different column."""
    monkeypatch.setattr(parametric, "PAIR_CHUNK", 16)
    res, group, day0 = rows_with_gaps(seed=11)
    holiday = 110
    for i in range(len(day0)):
        column = holiday - (day0[i] - ESTIMATION_DAYS)
        if 0 <= column < ESTIMATION_DAYS:
            res[i, column] = np.nan
    check(res, group, day0)


def same_day_loop(res, group, day0):
    """Every same-group pair on the same date -> correlation on their common finite days."""
    out = {}
    for i in range(len(day0)):
        for j in range(i + 1, len(day0)):
            if group[i] != group[j] or day0[i] != day0[j]:
                continue
            common = np.isfinite(res[i]) & np.isfinite(res[j])
            rho = math.nan
            if common.sum() >= MIN_OVERLAP:
                rho = float(np.corrcoef(res[i][common], res[j][common])[0, 1])
            out[(i, j)] = rho
    return out


def clustered_pairs(rows, group, day0):
    """The pairs of _same_day_pairs' batches -> correlation, each checked to be of one group and date, and the
    batches' cluster sizes."""
    got, sizes = {}, []
    for groups, members, r, estimated in parametric._same_day_pairs(rows):
        assert (group[members] == groups[:, None]).all() and (day0[members] == day0[members[:, :1]]).all()
        sizes.append(members.shape[1])
        size = members.shape[1]
        assert r.shape == (len(members), size, size)
        assert estimated is None or estimated.shape == r.shape
        assert (np.diagonal(r, axis1=1, axis2=2) == 0).all()
        for k in range(len(members)):
            for a in range(size):
                for b in range(a + 1, size):
                    rho = r[k, a, b] if estimated is None or estimated[k, a, b] else math.nan
                    assert rho != 0 and (estimated is None or estimated[k, a, b] == estimated[k, b, a])
                    got[tuple(sorted((int(members[k, a]), int(members[k, b]))))] = rho
                    np.testing.assert_allclose(r[k, b, a], r[k, a, b], rtol=1e-14)  # both ways round
    return got, sizes


@pytest.mark.parametrize("big", [2, 5, 10_000])
def test_same_day_clusters_match_the_loop(monkeypatch, big):
    """Clusters of 2 to 12 firm-events on one date: those of ``big`` or more one at a time, with the sparse
    corrections or, for the cluster whose rows miss many days, the six products, or the centred products for
    the cluster whose rows share their missing days; the smaller ones as near pairs 0 sessions apart."""
    monkeypatch.setattr(parametric, "BIG_CLUSTER", big)
    res, group, day0 = rows_with_gaps(seed=13, n=80)
    day0 = day0 // 4  # dates in common
    res[day0 == day0[0]] = (
        np.where(np.random.default_rng(2).random(res[day0 == day0[0]].shape) < 0.3, np.nan, 1.0) * res[day0 == day0[0]]
    )
    last = day0 == day0[-1]
    res[last, :ESTIMATION_DAYS] = np.random.default_rng(4).normal(size=(last.sum(), ESTIMATION_DAYS))
    res[last, 40] = np.nan  # a cluster whose rows share their missing days
    same_mask = count_calls(monkeypatch, "_same_mask_correlations")
    sparse, dense = count_calls(monkeypatch, "_on_missing"), count_calls(monkeypatch, "_masked_correlations")
    rows = sorted_rows(res, group, day0)
    got, sizes = clustered_pairs(rows, group, day0)
    in_clusters, ran = len(got), (len(same_mask), len(sparse), len(dense))  # before the near pairs call them
    first, second, _, gaps, rho = parametric._near_pairs(rows)
    for i, j, r in zip(first[gaps == 0], second[gaps == 0], rho[gaps == 0]):
        assert group[i] == group[j] and day0[i] == day0[j]
        got[tuple(sorted((int(i), int(j))))] = r
    assert len(got) == in_clusters + (gaps == 0).sum()  # no pair twice
    expected = same_day_loop(res, group, day0)
    assert got.keys() == expected.keys() and len(expected) > 100
    pairs = sorted(expected)
    np.testing.assert_allclose([got[p] for p in pairs], [expected[p] for p in pairs], rtol=1e-10, atol=1e-13)
    assert any(math.isnan(expected[p]) for p in pairs)
    assert min(sizes, default=big) >= big and (big < 10_000) == bool(sizes)
    assert ((gaps == 0).sum() > 0) == (big > 2)  # clusters of 2 or more are all big at 2
    if big == 2:  # one at a time: the centred products, the sparse corrections and the dense products all ran
        assert all(ran)


@pytest.mark.parametrize("big", [2, 48])
@pytest.mark.parametrize("window", [(0, 0), (-1, 1), (-3, 3)])
def test_rbar_per_group_matches_the_loop_on_each_group(monkeypatch, window, big):
    """rbar of each of two groups (the per-group keys of a simulation's samples) equals the loop over that
    group's firm-events alone; (-3, 3) is the whole event window (every near pair), (0, 0) has none.  The
    same-day pairs are big clusters' (at 2, each cluster's (s, s) block), near pairs 0 sessions apart in group 1,
    or, in group 0 (no pairs on different dates), a batch of small clusters."""
    monkeypatch.setattr(parametric, "BIG_CLUSTER", big)
    from inference_loops import ESTIMATION, EVENT, firm_events, rbar, synthetic

    from eventstudy.estimation.models import estimate
    from eventstudy.estimation.panel import AlignedData
    from eventstudy.inference.base import Inputs

    y, market, day0, firm = synthetic()
    fit = estimate(AlignedData.build(y, market), day0, firm, ESTIMATION, EVENT)
    records = firm_events(y, market, day0, firm, ESTIMATION, EVENT)
    assert fit.n == len(records) == 8
    groups = np.array([0, 1, 0, 1, 0, 0, 1, 1])  # group 1 with same-day and near pairs (230, 232)
    clusters = count_calls(monkeypatch, "_same_day_pairs")
    got = parametric._average_correlation(Inputs(fit, window, groups=groups))[0]
    expected = [rbar([r for r, g in zip(records, groups) if g == k], window) for k in (0, 1)]

    assert np.isfinite(expected).all()
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    batches = clusters[0]  # one batch of clusters of 2: group 0's (batched small), and group 1's when big
    assert [sorted(set(b[0].tolist())) for b in batches] == [[0, 1] if big == 2 else [0]]


@pytest.mark.parametrize("band", [1, 24])
def test_pairs_further_apart_than_the_estimation_window_is_long(monkeypatch, band):
    """An estimation window of 32 days and an event window of 41: pairs 32 to 40 sessions apart share no
    estimation day (NaN, as the loop says), and the running sums stop at the window's length (reading them at
    such a gap once read past their end, which look-ups in numpy's mode 'wrap' would not raise: the loop
    catches it); a band of one row whose pairs are all that far apart has no day to
    multiply over."""
    monkeypatch.setattr(sys.modules[__name__], "REACH", 41)  # the loop's and the rows' reach
    monkeypatch.setattr(parametric, "CROSS_BAND", band)
    rng = np.random.default_rng(0)
    n, days = 60, 32
    common = rng.normal(size=400)
    day0 = np.sort(rng.integers(100, 160, n))
    res = np.full((n, days + 41), np.nan)
    for i in range(n):
        res[i, :days] = 0.5 * common[day0[i] - days + np.arange(days)] + rng.normal(size=days)
    res[:, :days][rng.random((n, days)) < 0.02] = np.nan
    expected = check(res, np.zeros(n, dtype=np.int64), day0)
    gaps = {gap for _, gap, _ in expected.values()}
    assert min(gaps) < days <= max(gaps)  # pairs on both sides of the window's length
    assert all(math.isnan(rho) for _, gap, rho in expected.values() if gap >= days)


def test_small_clusters_of_groups_without_near_pairs_are_batched(monkeypatch):
    """A simulation's spread-out samples: each group (sample) has its firm-events on dates further apart than
    the reach, but a few share a date.  Their pairs are batched by cluster size (four products per batch),
    not one chunk of near pairs per group (a chunk's fixed cost for a pair or two made es.simulate's kp tests
    twice as slow); the correlations equal the loop's."""
    res, _, day0 = rows_with_gaps(seed=17, n=90)
    group = day0 % 13  # dates of one group are 13 sessions apart or more: beyond the reach of 7
    assert REACH < 13
    chunks = count_calls(monkeypatch, "_correlations")
    rows = sorted_rows(res, group, day0)
    first, *_ = parametric._near_pairs(rows)
    assert len(first) == 0 and not chunks
    got, sizes = clustered_pairs(rows, group, day0)
    expected = same_day_loop(res, group, day0)
    assert got.keys() == expected.keys() and len(expected) > 50 and len(set(sizes)) > 1
    pairs = sorted(expected)
    np.testing.assert_allclose([got[p] for p in pairs], [expected[p] for p in pairs], rtol=1e-10, atol=1e-13)


def test_big_clusters_without_near_pairs(monkeypatch):
    """Same-day clusters only, on dates further apart than the reach: no near pair reads the running sums of
    first and last days, so they are not made (one step, the totals); the big clusters still match the loop,
    with the sparse corrections and, for the cluster whose rows miss 30 % of their days, the four dense
    products of the small clusters' batches (a block symmetric to the bit, NaN included)."""
    monkeypatch.setattr(parametric, "BIG_CLUSTER", 3)
    res, _, day0 = rows_with_gaps(seed=19, n=90)
    day0 = day0 // 4 * 2 * REACH  # about 11 firm-events a date, dates 14 sessions apart
    heavy = day0 == day0[0]
    res[heavy] = np.where(np.random.default_rng(6).random(res[heavy].shape) < 0.3, np.nan, 1.0) * res[heavy]
    group = np.zeros(len(day0), dtype=np.int64)
    sparse, dense = count_calls(monkeypatch, "_on_missing"), count_calls(monkeypatch, "_masked_correlations")
    rows = sorted_rows(res, group, day0)
    assert not rows.has.any() and rows.rest.shape[1] == 1
    got, sizes = clustered_pairs(rows, group, day0)
    big_dense = [r for r in dense if r.shape[-1] >= 3]  # not a small batch's (clusters under BIG_CLUSTER)
    assert sparse and big_dense and min(sizes) >= 3
    assert all(np.array_equal(r, np.swapaxes(r, 1, 2), equal_nan=True) for r in big_dense)
    expected = same_day_loop(res, group, day0)
    assert got.keys() == expected.keys() and len(expected) > 300
    pairs = sorted(expected)
    np.testing.assert_allclose([got[p] for p in pairs], [expected[p] for p in pairs], rtol=1e-10, atol=1e-13)
    assert any(math.isnan(expected[p]) for p in pairs)


@pytest.mark.parametrize("with_nan", [False, True])
def test_same_day_sums_match_the_loop_over_pairs(with_nan):
    """A window's sums over the blocks of same-day clusters (u' A u / 2 per block) equal a loop over the pairs
    whose two firm-events are used: pairs, estimated pairs and the sum of their rho, per group; batches of
    several clusters and of one, NaN correlations off the diagonal (not estimated) or none."""
    rng = np.random.default_rng(21)
    n, used = 200, rng.random(200) < 0.8
    rows = rng.permutation(n)
    batches, taken = [], 0
    for count, size, group in [(3, 4, 1), (1, 9, 0), (2, 2, 2), (1, 12, 1)]:
        members = rows[taken : taken + count * size].reshape(count, size)
        taken += members.size
        r = rng.uniform(-1, 1, (count, size, size))
        r = (r + np.swapaxes(r, 1, 2)) / 2
        r[:, np.arange(size), np.arange(size)] = np.nan if with_nan else 1.0  # the diagonal is not read
        if with_nan:
            a, b = 0, 1 + rng.integers(size - 1)  # off the diagonal
            r[0, a, b] = r[0, b, a] = np.nan
        batches.append((np.full(count, group), members, r))
    expected = np.zeros((3, 4))
    for group, members, r in batches:
        for k in range(len(members)):
            for a in range(members.shape[1]):
                for b in range(a + 1, members.shape[1]):
                    if used[members[k, a]] and used[members[k, b]]:
                        rho = r[k, a, b]
                        expected[:, group[k]] += (1, np.isfinite(rho), np.nan_to_num(rho))
    blocks = [(g, m, r, parametric._zero_unestimated(r)) for g, m, r in batches]
    assert all((block[3] is None) != with_nan for block in blocks)
    got = parametric._same_day_sums(blocks, used, 4)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-13)
    assert expected[0, 3] == 0 and (expected[1] < expected[0]).any() == with_nan


def test_a_pair_estimated_on_one_side_of_its_block_only_counts_as_not_estimated():
    """A same-day block whose rho is NaN at [a, b] but finite at [b, a] (the dense path takes a pair's
    variances from different products each way round) holds that pair as not estimated on both sides: 0 in
    both entries, and the estimated pairs u'Eu / 2 a whole number, as counting the pairs i < j by hand."""
    r = np.array([[[1.0, 0.3, 0.2], [np.nan, 1.0, 0.5], [0.2, 0.5, 1.0]]])
    estimated = parametric._zero_unestimated(r)
    assert estimated is not None
    np.testing.assert_array_equal(estimated[0], [[0, 0, 1], [0, 0, 1], [1, 1, 0]])
    assert r[0, 0, 1] == r[0, 1, 0] == 0.0 and r[0, 0, 2] == 0.2 and r[0, 1, 2] == 0.5
    sums = parametric._same_day_sums([(np.array([0]), np.array([[0, 1, 2]]), r, estimated)], np.ones(3, bool), 1)
    assert sums[:, 0].tolist() == [3.0, 2.0, 0.2 + 0.5]  # pairs, estimated pairs (0-2 and 1-2), their rho
