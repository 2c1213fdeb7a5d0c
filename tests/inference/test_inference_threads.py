"""The statistics computed in blocks of rows and chunks of pairs on threads equal the reference loops.

The synthetic study has eight firm-events, so at the default sizes everything is one block; here the row
blocks of the ranks hold two firm-events and the Kolari-Pynnonen chunks one, so every block runs on the
thread pool, in whatever order the threads take them.
"""

from __future__ import annotations

import dataclasses
import os
import re

import inference_loops as loops
import numpy as np
import pytest

# the loops' checks of the default sizes, run here on small blocks (imported under names pytest does not collect)
from test_inference_nonparametric import test_permutation_matches_the_loop as permutation_check
from test_inference_resampling import test_boot_skew_t_loop_over_resamples as boot_skew_check

import eventstudy.foundation.threads as threads
import eventstudy.inference.base as base
import eventstudy.inference.parametric as parametric
from eventstudy.estimation.models import estimate
from eventstudy.estimation.panel import AlignedData
from eventstudy.exceptions import EventStudyWarning
from eventstudy.inference import average_correlation, grank_t, grank_z, kp_bmp, rank, run_tests

WINDOWS = [(0, 0), (-1, 1), (-3, 3)]
RTOL = 1e-10


@pytest.fixture
def small_blocks(monkeypatch):
    y, market, day0, firm = loops.synthetic()
    grid = loops.EVENT[1] - loops.ESTIMATION[0] + 1
    monkeypatch.setattr(threads, "BLOCK_CELLS", 2 * grid)  # two firm-events per block of ranks or runs
    monkeypatch.setattr(threads, "THREADS", 3)
    monkeypatch.setattr(parametric, "PAIR_CHUNK", 1)  # one firm-event per chunk of pairs
    fit = estimate(AlignedData.build(y, market), day0, firm, loops.ESTIMATION, loops.EVENT)
    records = loops.firm_events(y, market, day0, firm, loops.ESTIMATION, loops.EVENT)
    return fit, records


@pytest.mark.parametrize("window", WINDOWS)
def test_ranks_in_blocks_match_the_loops(small_blocks, window):
    fit, records = small_blocks
    result = rank(fit, window)
    np.testing.assert_allclose([result.stat, result.pvalue], loops.rank(records, window, loops.EVENT), rtol=RTOL)
    t, p_t, z, p_z, _ = loops.grank(records, window)
    np.testing.assert_allclose([grank_t(fit, window).stat, grank_z(fit, window).stat], [t, z], rtol=RTOL)


@pytest.mark.parametrize("window", WINDOWS)
def test_pair_correlations_in_chunks_match_the_loop(small_blocks, window):
    fit, records = small_blocks
    assert average_correlation(fit, window) == pytest.approx(loops.rbar(records, window), rel=RTOL)
    r = loops.rbar(records, window)
    result = kp_bmp(fit, window)
    np.testing.assert_allclose([result.stat, result.pvalue], loops.kp_bmp(records, window, r), rtol=RTOL)


@pytest.mark.parametrize("window", WINDOWS)
def test_runs_of_the_permutation_test_in_blocks_match_the_loop(small_blocks, window):
    permutation_check(small_blocks, window)


def test_bootstrap_resamples_in_blocks_match_the_loop(small_blocks):
    boot_skew_check(small_blocks)  # the 1,000 resamples in blocks of a few dozen


def test_the_table_does_not_depend_on_the_threads(small_blocks):
    """Every test on three windows: tasks on three threads, blocks and chunks on threads inside them."""
    fit, _ = small_blocks
    one = run_tests(fit, WINDOWS, workers=1)
    y, market, day0, firm = loops.synthetic()
    fresh = estimate(AlignedData.build(y, market), day0, firm, loops.ESTIMATION, loops.EVENT)
    many = run_tests(fresh, WINDOWS, workers=3)
    assert one.equals(many)


@pytest.mark.parametrize(("value", "expected"), [("3", 3), (" 1 ", 1), ("8", 8), ("", None)])
def test_threads_come_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)  # a machine of 8 CPUs, whatever runs the tests
    monkeypatch.setenv("EVENTSTUDY_THREADS", value)
    assert threads.threads_from_environment() == (4 if expected is None else expected)


@pytest.mark.parametrize(("cpus", "value"), [(8, "1000"), (2, "3"), (None, "5")])
def test_more_threads_than_cpus_are_capped_with_a_warning(monkeypatch, cpus, value):
    # EVENTSTUDY_THREADS=1000 was taken as it was (46 threads seen in use); os.cpu_count() may be None
    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    monkeypatch.setenv("EVENTSTUDY_THREADS", value)
    with pytest.warns(EventStudyWarning, match=rf"EVENTSTUDY_THREADS={value} is more than the {cpus or 1} CPU"):
        assert threads.threads_from_environment() == (cpus or 1)


def test_more_workers_than_cpus_are_capped_with_a_warning(monkeypatch):
    # an explicit workers= beyond the CPUs is capped as EVENTSTUDY_THREADS is, and the table is the same
    y, market, day0, firm = loops.synthetic()
    fit = estimate(AlignedData.build(y, market), day0, firm, loops.ESTIMATION, loops.EVENT)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert threads.check_workers(2) == 2 and threads.check_workers(1) == 1
    with pytest.warns(EventStudyWarning, match=r"workers=64 is more than the 2 CPU\(s\)"):
        assert threads.check_workers(64) == 2
    with pytest.raises(ValueError, match="workers"):
        threads.check_workers(0)
    with pytest.warns(EventStudyWarning, match="workers=16"):
        capped = run_tests(fit, [(0, 0), (-1, 1)], ["car_t", "rank", "kp_bmp"], workers=16)
    assert capped.equals(run_tests(fit, [(0, 0), (-1, 1)], ["car_t", "rank", "kp_bmp"], workers=1))


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5", "²"])
def test_a_bad_thread_count_warns_and_keeps_the_default(monkeypatch, value):
    monkeypatch.setenv("EVENTSTUDY_THREADS", value)
    with pytest.warns(EventStudyWarning, match=rf"EVENTSTUDY_THREADS='{re.escape(value)}' is not a positive"):
        assert threads.threads_from_environment() >= 1


class _NotIterable(dict):
    """A fit's cache that fails when iterated: other threads may add keys at any time."""

    def __iter__(self):
        raise AssertionError("the cache was iterated while other threads may add to it")

    items = keys = values = __iter__


def test_take_reads_the_cache_key_by_key(small_blocks):
    """MVRM takes rows of the fit while other tests add to its cache: iterating over it raised "dictionary
    changed size during iteration" about once in 150 runs of five tests on four threads."""
    fit, _ = small_blocks
    fit.ar  # noqa: B018 - cached, so take() keeps its rows
    shared = dataclasses.replace(fit, _cache=_NotIterable(fit._cache))
    taken = shared.take(np.array([0, 2]))
    np.testing.assert_array_equal(taken.ar, fit.ar[[0, 2]])


def test_thread_map_inside_a_pool_runs_in_turn(monkeypatch):
    """Threads within threads only contend: inside a pool's thread, thread_map stays on that thread."""
    import threading

    monkeypatch.setattr(threads, "THREADS", 3)
    with threads.pool(2) as pool:
        inside = pool.submit(
            lambda: (threading.get_ident(), threads.thread_map(lambda _: threading.get_ident(), range(12)))
        )
        worker, idents = inside.result()
    assert set(idents) == {worker}


def test_a_value_computed_on_threads_while_another_callers_tasks_wait_for_it(monkeypatch):
    """Thread A holds a cached value's lock and computes it with thread_map, while both threads of another
    caller's pool wait for that value: A's blocks must not queue behind them (pools shared between callers
    deadlocked here, as two threads calling run_tests on one fit did)."""
    import threading
    import time

    monkeypatch.setattr(threads, "THREADS", 2)
    store: dict = {}
    locks: dict = {}
    started = threading.Semaphore(0)

    def compute() -> int:  # A, holding the key's lock: wait until both of B's tasks wait for the value
        for _ in range(2):
            assert started.acquire(timeout=10)
        time.sleep(0.05)
        return sum(threads.thread_map(lambda x: 2 * x, [1, 2, 3]))

    def b_task(_) -> int:
        started.release()
        return threads.once(store, locks, "value", lambda: -1)

    a = threading.Thread(target=threads.once, args=(store, locks, "value", compute), daemon=True)
    a.start()
    while "value" not in locks:  # A holds the lock before B's tasks ask for the value
        time.sleep(0.001)
    with threads.pool(2) as pool:
        waiting = [pool.submit(b_task, i) for i in range(2)]
        a.join(timeout=20)
        assert not a.is_alive(), "the value's computation waited for the threads waiting on it"
        assert [task.result(timeout=20) for task in waiting] == [12, 12]


def test_what_tests_share_is_computed_before_the_tests(small_blocks, monkeypatch):
    """The pair correlations and the ranks (computed in chunks on threads) are ready when the first test
    that needs them starts, so that no test waits for them computed on one thread."""
    fit, _ = small_blocks
    seen = {}
    for name in ("kp_bmp", "grank_t", "rank"):
        spec = base.TESTS[name]

        def kernel(inp, spec=spec):
            seen.setdefault(spec.name, set(inp.fit._cache))
            return spec.kernel(inp)

        monkeypatch.setitem(base.TESTS, name, dataclasses.replace(spec, kernel=kernel))
    run_tests(fit, WINDOWS, ["kp_bmp", "grank_t", "rank"], workers=2)
    assert set(seen) == {"kp_bmp", "grank_t", "rank"}
    for name, keys in seen.items():
        assert "inference:ranks" in keys or name == "kp_bmp", name
        assert "inference:pair_correlations" in keys or name == "rank", name


def test_statistics_run_with_one_blas_thread_and_give_the_threads_back():
    from threadpoolctl import threadpool_info

    from eventstudy.inference.runner import single_threaded_blas

    def blas_threads():
        return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]

    before = blas_threads()
    assert before  # numpy's BLAS at least
    from eventstudy.inference import runner

    controllers = []
    for _ in range(2):  # the second call reuses the controller of the first
        with single_threaded_blas():
            assert blas_threads() == [1] * len(before)
        assert blas_threads() == before
        controllers.append(runner._CONTROLLER[1])
    assert controllers[1] is controllers[0]
    import xml.dom.minidom  # noqa: F401  # a module imported since: the loaded libraries are looked up again

    with single_threaded_blas():
        assert blas_threads() == [1] * len(before)
    assert runner._CONTROLLER[1] is not controllers[0]
