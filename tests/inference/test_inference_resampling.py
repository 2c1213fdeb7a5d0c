"""Generalized rank, pseudo-event, SQ and skewness-adjusted tests against the plain loops of tests/reference."""

from __future__ import annotations

import math
from functools import cached_property

import inference_loops as loops
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eventstudy.estimation.models import estimate
from eventstudy.estimation.panel import AlignedData
from eventstudy.inference import (
    boot_skew_t,
    grank_t,
    grank_z,
    im_t,
    nonparametric,
    pseudo_event,
    rank,
    resampling,
    run_tests,
    skew_t,
    sq,
)
from eventstudy.inference.base import Groups, Inputs
from eventstudy.inference.resampling import BOOTSTRAP_DRAWS, _skew_t_stat
from eventstudy.inference.statistic import test_statistics

WINDOWS = [(0, 0), (-1, 1), (-3, 3), (0, 2)]
RTOL = 1e-10


@pytest.mark.parametrize("window", WINDOWS)
def test_grank_against_the_loop(study, window):
    fit, records = study
    t, p_t, z, p_z, t_days = loops.grank(records, window)
    result_t, result_z = grank_t(fit, window), grank_z(fit, window)
    assert result_t.stat == pytest.approx(t, rel=RTOL) and result_t.pvalue == pytest.approx(p_t, rel=RTOL)
    assert result_z.stat == pytest.approx(z, rel=RTOL) and result_z.pvalue == pytest.approx(p_z, rel=RTOL)
    assert result_t.distribution == f"t({t_days - 2})" and result_z.distribution == "N(0,1)"


@pytest.mark.parametrize("window", [(0, 0), (-1, 1)])
def test_grank_and_rank_with_tied_residuals_against_the_loop(window):
    # two estimation days with the same market and firm returns give every firm-event using both two equal
    # residuals, so tied SARs: their rows take the tie-aware path (mid-ranks) that grank's counts must agree with
    y, market, day0, firm = loops.synthetic()
    y[120], market[120] = y[110], market[110]
    fit = estimate(AlignedData.build(y, market), day0, firm, loops.ESTIMATION, loops.EVENT)
    records = loops.firm_events(y, market, day0, firm, loops.ESTIMATION, loops.EVENT)
    assert any(len(set(r["resid"].values())) < len(r["resid"]) for r in records)
    t, p_t, z, p_z, t_days = loops.grank(records, window)
    assert grank_t(fit, window).stat == pytest.approx(t, rel=RTOL) and grank_z(fit, window).stat == pytest.approx(
        z, rel=RTOL
    )
    result = rank(fit, window)
    np.testing.assert_allclose([result.stat, result.pvalue], loops.rank(records, window, loops.EVENT), rtol=RTOL)


@pytest.mark.parametrize("window", [(0, 0), (-1, 1)])
def test_grank_and_rank_per_group_against_the_loop(study, window):
    # every firm-event in group 0 of two (group 1 empty): the per-group sums, not the one group's blocks
    from eventstudy.inference.nonparametric import _grank, _rank

    fit, records = study
    inp = Inputs(fit, window, groups=np.zeros(fit.n), n_groups=2)
    t, p_t, z, p_z, t_days = loops.grank(records, window)
    grank = _grank(inp, "t")
    assert grank.stat[0] == pytest.approx(t, rel=RTOL) and grank.pvalue[0] == pytest.approx(p_t, rel=RTOL)
    assert grank.distribution[0] == f"t({t_days - 2})" and not grank.valid[1]
    rank = _rank(inp)
    expected = loops.rank(records, window, loops.EVENT)
    np.testing.assert_allclose([rank.stat[0], rank.pvalue[0]], expected, rtol=RTOL)


@pytest.mark.parametrize("name", ["grank_t", "pseudo_event", "rank"])
def test_a_group_has_the_same_bits_alone_and_beside_a_copy(study, name):
    # a simulation's chunk of one sample is one group, a larger chunk several: each sample's statistic must
    # not depend on which (the simulated tables are equal to the last bit whatever the chunks and threads)
    from eventstudy.inference import TESTS

    fit, _ = study
    rows = np.tile(np.arange(fit.n), 40)  # 320 firm-events: sums over many rows, in several blocks
    one, twice = fit.take(rows), fit.take(np.concatenate([rows, rows]))
    alone = TESTS[name].kernel(Inputs(one, (-1, 1)))
    pair = TESTS[name].kernel(Inputs(twice, (-1, 1), groups=np.repeat([0, 1], len(rows)), n_groups=2))
    assert np.isfinite(alone.stat[0])
    assert pair.stat[0] == pair.stat[1] == alone.stat[0] and pair.pvalue[0] == alone.pvalue[0]
    if name == "pseudo_event":  # and its null distribution: the sums over every run
        np.testing.assert_array_equal(pair.draws(0), alone.draws(0))


@pytest.mark.parametrize("window", [(0, 2), (-3, 3)])
def test_grank_with_an_unused_firm_event_without_ranks_against_the_loop(window):
    # firm-event 5 (alone on its day 0, no return on day +2: unused in these windows) has returns of exactly 0,
    # so zero residuals, a residual variance of 0 and SARs 0/0 without a rank: its weight of 0 would carry
    # that NaN into the sums (NaN * 0), so its terms are zeroed
    y, market, day0, firm = loops.synthetic()
    y[:, 5] = np.where(np.isnan(y[:, 5]), np.nan, 0.0)
    fit = estimate(AlignedData.build(y, market), day0, firm, loops.ESTIMATION, loops.EVENT)
    assert fit.sigma2[5] == 0
    records = loops.firm_events(y, market, day0, firm, loops.ESTIMATION, loops.EVENT)
    t, p_t, z, p_z, t_days = loops.grank(records, window)
    assert math.isfinite(t)
    result_t, result_z = grank_t(fit, window), grank_z(fit, window)
    assert result_t.stat == pytest.approx(t, rel=RTOL) and result_t.pvalue == pytest.approx(p_t, rel=RTOL)
    assert result_z.stat == pytest.approx(z, rel=RTOL)


def test_grank_holds_size_under_event_induced_volatility():
    """Day-0 abnormal returns three times as volatile as the estimation window's, no mean effect: Corrado's
    rank test over-rejects (its variance comes from the estimation window), the restandardized grank does
    not.  300 samples of 40 firms, iid normal returns; 5% +- 3 binomial SE."""
    from eventstudy.estimation.models import estimate
    from eventstudy.estimation.panel import AlignedData
    from eventstudy.inference.base import Inputs
    from eventstudy.inference.nonparametric import _grank, _rank

    rng = np.random.default_rng(5)
    samples, firms, t = 300, 40, 270
    market = rng.normal(0, 0.01, t)
    y = market[:, None] + rng.normal(0, 0.02, (t, samples * firms))
    y[260] = market[260] + rng.normal(0, 0.06, samples * firms)
    n = samples * firms
    fit = estimate(AlignedData.build(y, market), np.full(n, 260), np.arange(n), (-250, -11), (0, 0))
    inp = Inputs(fit, (0, 0), groups=np.repeat(np.arange(samples), firms))
    grank_rate = np.mean(_grank(inp, "t").pvalue < 0.05)
    rank_rate = np.mean(_rank(inp).pvalue < 0.05)
    se = math.sqrt(0.05 * 0.95 / samples)
    assert abs(grank_rate - 0.05) < 3 * se and rank_rate > 0.05 + 3 * se


@pytest.mark.parametrize("window", WINDOWS)
def test_sq_against_the_loop(study, window, monkeypatch):
    monkeypatch.setattr(nonparametric, "CACHE_CELLS", 500)  # blocks of a row or two: the running sums' seams
    monkeypatch.setattr("eventstudy.foundation.threads.BLOCK_CELLS", 500)  # and the blocked tallies' seams
    fit, records = study
    for result, rec in zip(sq(fit, window), records):
        if not math.isfinite(loops.car(rec, window)):
            assert not result.valid
            continue
        p, m = loops.sq(rec, window)
        assert result.pvalue == pytest.approx(p, rel=RTOL) and result.distribution == f"empirical ({m} windows)"
        assert ("upper" in result.note) == (loops.car(rec, window) > 0)
        assert ("lower" in result.note) == (loops.car(rec, window) < 0)


@pytest.mark.parametrize("statistic", ["bmp", "csect_t", "mean"])
@pytest.mark.parametrize("window", WINDOWS)
def test_pseudo_event_against_the_loop(study, window, statistic):
    fit, records = study
    stat, p, m = loops.pseudo_event(records, window, statistic)
    result = pseudo_event(fit, window, statistic=statistic)
    assert result.stat == pytest.approx(stat, rel=RTOL) and result.pvalue == pytest.approx(p, rel=RTOL)
    assert result.distribution == f"empirical ({m} pseudo-events)"


@pytest.mark.parametrize("statistic", ["bmp", "csect_t", "mean"])
@pytest.mark.parametrize("window", [(0, 0), (-1, 1)])
def test_pseudo_event_in_small_blocks_and_per_group_against_the_loop(study, window, statistic, monkeypatch):
    # a study's run sums are added up in blocks of rows (here two rows a block, so the totals are carried
    # across blocks); several groups (a simulation's samples) sum the (N, M) runs: both must be the loop's
    fit, records = study
    monkeypatch.setattr(resampling, "CACHE_CELLS", 2 * (fit.ar.shape[1] - window[1] + window[0]))
    stat, p, m = loops.pseudo_event(records, window, statistic)
    result = pseudo_event(fit, window, statistic=statistic)
    assert result.stat == pytest.approx(stat, rel=RTOL) and result.pvalue == pytest.approx(p, rel=RTOL)
    assert result.distribution == f"empirical ({m} pseudo-events)"
    # every firm-event in group 0 of two (group 1 empty): the per-group sums
    batch = resampling._pseudo_event(Inputs(fit, window, groups=np.zeros(fit.n), n_groups=2), statistic)
    assert batch.stat[0] == pytest.approx(stat, rel=RTOL) and batch.pvalue[0] == pytest.approx(p, rel=RTOL)
    assert batch.distribution[0] == f"empirical ({m} pseudo-events)" and not batch.valid[1]


@pytest.mark.parametrize("kinds", [(False, True), (False,), (True,)])
@pytest.mark.parametrize("window", [(0, 0), (-1, 1)])
def test_pseudo_event_run_sums_leave_out_scaled_cars_that_are_not_finite(study, window, kinds):
    # a used firm-event with a scale of 0 or NaN has CAR_ij / c_i infinite or NaN: its runs are left out (the
    # sums are taken a second time, checking each); a scale of inf makes them 0, which are counted
    fit, records = study
    inp = Inputs(fit, window)
    length = window[1] - window[0] + 1
    assert int(inp.used.sum()) == len(loops.usable(records, window))
    scale = np.sqrt(fit.sigma2 * length)
    scale[np.flatnonzero(inp.used)[:3]] = [0.0, np.nan, np.inf]
    # the plain CARs' sums come from the same pass (or one of their own) and keep those firm-events' runs
    found = resampling._study_run_sums(inp, scale, kinds)
    assert tuple(found) == kinds
    for divided, sums in found.items():
        count, s1, s2 = (a[0] for a in sums)
        starts = fit.event_time[: len(fit.event_time) - length + 1]
        expected = {start: [0, 0.0, 0.0] for start in starts}
        for rec, used, c in zip(records, inp.used, scale if divided else np.ones(fit.n)):
            for start, car in loops.runs(rec, length).items():
                v = car / c if c != 0 else math.copysign(math.inf, car) if car else math.nan
                if used and math.isfinite(v):
                    expected[start] = [expected[start][0] + 1, expected[start][1] + v, expected[start][2] + v * v]
        loop = np.array([expected[start] for start in starts])
        np.testing.assert_array_equal(count, loop[:, 0])
        np.testing.assert_allclose(s1, loop[:, 1], rtol=RTOL, atol=1e-12)
        np.testing.assert_allclose(s2, loop[:, 2], rtol=RTOL)
        assert (loop[:, 0] < inp.used.sum() - 1).any()  # some run lacks a residual or a firm-event was left out


def test_pseudo_event_tests_alone_as_with_the_others(study):
    # run_tests makes both kinds of run sums in one pass when tests of both kinds run, each kind alone when
    # only one does (the summary runs pseudo_event alone): the rows are the same to the bit either way
    fit, _ = study
    windows = [(0, 0), (-1, 1)]
    names = ["pseudo_event", "pseudo_event_t", "pseudo_event_mean"]
    together = run_tests(fit, windows, names)
    for name in names:
        alone = run_tests(fit, windows, [name])
        pd.testing.assert_frame_equal(alone, together[together["test"] == name].reset_index(drop=True))


def test_pseudo_event_run_sums_over_days_past_the_estimation_window():
    # only the runs inside the estimation window are summed when the residuals are the fit's own; an Inputs
    # whose residuals reach past it (here every day with an abnormal return) has runs there too
    y, market, day0, firm = loops.synthetic()
    fit = estimate(AlignedData.build(y, market), day0, firm, loops.ESTIMATION, loops.EVENT)

    class EveryDay(Inputs):
        @cached_property
        def estimation_mask(self) -> np.ndarray:
            return np.isfinite(self.fit.ar)

    length = 3
    for inp in (Inputs(fit, (-1, 1)), EveryDay(fit, (-1, 1))):
        res = inp.null_residuals
        loop = np.zeros((3, res.shape[1] - length + 1))
        for i in np.flatnonzero(inp.used):
            for j in range(loop.shape[1]):
                run = res[i, j : j + length]
                if np.isfinite(run).all():
                    total = float(sum(run))
                    loop[:, j] += (1, total, total * total)
        for sums in resampling._study_run_sums(inp, np.ones(fit.n)).values():  # the CARs, and the CARs over 1
            count, s1, s2 = (a[0] for a in sums)
            np.testing.assert_array_equal(count, loop[0])
            np.testing.assert_allclose(s1, loop[1], rtol=RTOL, atol=1e-15)
            np.testing.assert_allclose(s2, loop[2], rtol=RTOL, atol=1e-15)
    assert loop[0, -1] == inp.used.sum() - 1  # the last run, days +1 .. +3: all but firm-event 5 (no day +2)


def test_pseudo_event_keeps_same_day_correlation():
    """A common shock on every day moves all firms together: the pseudo-event null widens with it, csect_t's
    does not, so on a null day the pseudo-event p-value is larger."""
    rng = np.random.default_rng(11)
    from eventstudy.estimation.models import estimate
    from eventstudy.estimation.panel import AlignedData

    n, t = 20, 400
    market = rng.normal(0, 0.01, t)
    common = rng.standard_t(3, t) * 0.02
    y = market[:, None] + common[:, None] + rng.normal(0, 0.01, (t, n))
    y[300] = market[300] + 0.03 + rng.normal(0, 0.01, n)  # a common 3% move that the industry factor often makes
    fit = estimate(AlignedData.build(y, market), np.full(n, 300), np.arange(n), (-250, -11), (0, 0))
    pseudo, plain = pseudo_event(fit, (0, 0), statistic="csect_t"), run_tests(fit, (0, 0), tests=["csect_t"])
    assert plain["pvalue"].iloc[0] < 1e-6 < pseudo.pvalue
    obj = test_statistics(fit, "pseudo_event_t", (0, 0))[0]
    assert len(obj.distribution) == 240 and obj.critical_values[0.05][1] > 5


def test_skew_t_against_the_loop(study):
    fit, records = study
    for window in WINDOWS:
        used = loops.usable(records, window)
        t, p = loops.skew_t([loops.car(r, window) for r in used])
        result = skew_t(fit, window)
        assert result.stat == pytest.approx(t, rel=RTOL) and result.pvalue == pytest.approx(p, rel=RTOL)


def _loop_boot_draws(values, pick):
    """LBT's resampled t of ``values`` on the rows ``pick``, one loop per resample, centred at the sample mean."""
    n_b = pick.shape[1]
    mean = sum(values) / len(values)
    s_full = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    draws = []
    for rows in pick:
        x = [values[i] for i in rows]
        m = sum(x) / n_b
        s = math.sqrt(sum((v - m) ** 2 for v in x) / (n_b - 1))
        if s <= 1e-8 * s_full:  # the resample repeats one value
            continue
        g = sum((v - m) ** 3 for v in x) / (n_b * s**3)
        r = (m - mean) / s
        draws.append(math.sqrt(n_b) * (r + g * r * r / 3 + g / (6 * n_b)))
    return draws


def test_boot_skew_t_loop_over_resamples(study):
    """Lyon, Barber & Tsai (1999): the same resample rows, one loop per resample, centred at the sample mean
    (in blocks of a few dozen resamples in tests/inference/test_inference_threads.py)."""
    fit, records = study
    window = (-1, 1)
    values = [loops.car(r, window) for r in loops.usable(records, window)]
    result = boot_skew_t(fit, window)
    t, _ = loops.skew_t(values)
    assert result.stat == pytest.approx(t, rel=RTOL)
    rng = np.random.default_rng(20250513)
    pick = rng.integers(0, len(values), (BOOTSTRAP_DRAWS, max(3, len(values) // 4)))
    draws = _loop_boot_draws(values, pick)
    assert result.pvalue == pytest.approx(loops.equal_tailed(t, draws), rel=RTOL)
    assert result.distribution == f"bootstrap ({len(draws)} resamples)"


def test_boot_skew_t_of_groups_of_one_size_loop_over_resamples(monkeypatch):
    monkeypatch.setattr(resampling, "CACHE_CELLS", 30 * 7)  # many blocks of resamples, gathered and joined
    # three groups of 40 values, out of row order, take one pass (the resamples of all three gathered at once)
    rng = np.random.default_rng(3)
    values = rng.standard_t(4, 120) * 0.02 + 0.001
    ids = rng.permutation(np.repeat(np.arange(3), 40))
    batch = resampling.skew_batch(values, np.ones(120, bool), Groups(ids, 120), bootstrap=True)
    pick = np.random.default_rng(resampling.BOOTSTRAP_SEED).integers(0, 40, (BOOTSTRAP_DRAWS, 10))
    for g in range(3):
        group = [float(v) for v in values[ids == g]]
        t, _ = loops.skew_t(group)
        draws = _loop_boot_draws(group, pick)
        assert batch.stat[g] == pytest.approx(t, rel=RTOL)
        np.testing.assert_allclose(batch.draws(g), draws, rtol=RTOL)
        assert batch.pvalue[g] == pytest.approx(loops.equal_tailed(t, draws), rel=RTOL)


def test_boot_skew_t_of_groups_of_two_sizes_draws_each_size_in_turn():
    # the resample rows of each size drawn one after the other from the seeded generator, as 64-bit integers
    # (skew_batch draws them in 32 bits: numpy's same bounded generator, so the same rows and the same stream)
    rng = np.random.default_rng(5)
    values = rng.standard_t(4, 100) * 0.02 + 0.001
    ids = np.repeat([0, 1], [40, 60])
    batch = resampling.skew_batch(values, np.ones(100, bool), Groups(ids, 2), bootstrap=True)
    draw = np.random.default_rng(resampling.BOOTSTRAP_SEED)
    picks = [draw.integers(0, 40, (BOOTSTRAP_DRAWS, 10)), draw.integers(0, 60, (BOOTSTRAP_DRAWS, 15))]
    for g, pick in enumerate(picks):
        group = [float(v) for v in values[ids == g]]
        np.testing.assert_allclose(batch.draws(g), _loop_boot_draws(group, pick), rtol=RTOL)


def test_boot_skew_t_of_a_group_has_the_same_bits_alone_and_beside_others():
    # each resample's sums are row products of its own draws, laid side by side whatever the number of
    # groups: a sample of a simulation gives the same statistic and draws as the same values studied alone
    rng = np.random.default_rng(8)
    values = rng.standard_t(4, 150) * 0.02 + 0.001
    ids = np.repeat(np.arange(3), 50)
    together = resampling.skew_batch(values, np.ones(150, bool), Groups(ids, 150), bootstrap=True)
    for g in range(3):
        alone = resampling.skew_batch(values[ids == g], np.ones(50, bool), Groups(None, 50), bootstrap=True)
        assert together.stat[g] == alone.stat[0]
        np.testing.assert_array_equal(together.draws(g), alone.draws(0))


def test_skew_t_stat_matches_scipy_moments():
    x = np.array([[0.5, -0.2, 1.7, 0.1, -0.4, 2.9, 0.0]])
    n = x.shape[1]
    s, g = x.std(ddof=1), stats.skew(x[0], bias=True) * (x.std() / x.std(ddof=1)) ** 3
    r = x.mean() / s
    assert _skew_t_stat(x)[0] == pytest.approx(math.sqrt(n) * (r + g * r * r / 3 + g / (6 * n)), rel=1e-12)


@pytest.mark.parametrize("window", WINDOWS)
def test_im_t_against_the_loop(study, window):
    fit, records = study
    t, p, q = loops.im_t(records, window)
    result = im_t(fit, window)
    assert result.stat == pytest.approx(t, rel=RTOL) and result.pvalue == pytest.approx(p, rel=RTOL)
    assert result.n == q and result.distribution == f"t({q - 1})"


def test_im_t_needs_two_dates(study):
    fit, _ = study
    same_day = fit.take(np.arange(4))  # the four firm-events of session 180
    result = im_t(same_day, (0, 0))
    assert not result.valid and "at least 2; got 1" in result.note
