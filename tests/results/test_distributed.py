"""``EventStudy.fit(client=...)`` on a LocalCluster of two worker processes equals the local fit.

Every AR, CAR, parameter and test of the fit on the cluster is compared with the local fit of the same study
(1e-12 relative), and the drops, the firm-event table, the settings and the warnings (count, class and text)
are the same, on the real prices: a design with drops (an unknown ticker, a listing too young for its
estimation window, a ticker that is its own benchmark), prices read on the workers from a folder (the client
reads none), listings on two exchanges, contamination from a catalog, more partitions than workers, one
partition and empty ones, and a failure on a worker.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.results.distributed import SpanSource, merge_warnings, partition_tickers

distributed = pytest.importorskip("distributed", reason='dask is an optional extra: pip install ".[dask]"')

SEMIS = ["NVDA", "AMD", "INTC", "MU", "AMAT", "LRCX", "KLAC", "QCOM", "AVGO", "TSM", "ARM", "SMCI"]
# twelve dates 2022-2024: ARM (listed 2023-09-14) lacks the estimation window of most, ZZZZ has no prices
EVENTS = pd.DataFrame(
    {
        "id": [f"E{i}" for i in range(12)],
        "date": pd.bdate_range("2022-03-01", periods=12, freq="45B").strftime("%Y-%m-%d"),
    }
)
WINDOWS = [(0, 0), (-1, 1), (0, 5), (-5, 5)]
RTOL = 1e-12


@contextlib.contextmanager
def local_client(**options):
    """A client of a LocalCluster with ``options``, the process environment restored afterwards: starting a
    LocalCluster sets OMP/MKL/OPENBLAS_NUM_THREADS=1 in this process's environment for good (dask's
    distributed.nanny.pre-spawn-environ), and processes started later by other tests (GARCH's workers) would
    inherit one BLAS thread (arch's optimizer follows the BLAS summation order)."""
    environ = dict(os.environ)
    try:
        with distributed.LocalCluster(silence_logs=40, **options) as cluster, distributed.Client(cluster) as client:
            yield client
    finally:
        os.environ.clear()
        os.environ.update(environ)


@pytest.fixture(scope="module")
def client():
    with local_client(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as client:
        yield client


@pytest.fixture(scope="module")
def us_returns(prices_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DataQualityWarning)  # files start 2021-04-12, not 2021-01-01
        prices = es.CsvSource(prices_dir).get_prices([*SEMIS, "SPY", "SOXX"], "2021-01-01", "2025-06-30")
    return es.returns(prices)


@pytest.fixture(scope="module")
def us_tokyo_returns(prices_dir, global_prices_dir):
    """NVDA, AMD and SPY beside two Tokyo listings and ^N225, on the union of the two calendars."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DataQualityWarning)
        us = es.CsvSource(prices_dir).get_prices(["NVDA", "AMD", "SPY"], "2021-06-01", "2023-06-30")
        tokyo = es.CsvSource(global_prices_dir).get_prices(["8035.T", "6857.T", "^N225"], "2021-06-01", "2023-06-30")
    return es.returns(pd.concat([us, tokyo], axis=1, sort=True))


def fit(study, **kwargs):
    """The results and the warnings of one fit, every warning recorded (class name and text)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = study.fit(**kwargs)
    return res, [(w.category.__name__, str(w.message)) for w in caught]


def assert_same(local, remote):
    """Every table of numbers equal to 1e-12 relative, every table of facts exactly."""
    frames = [
        ("ar", local.ar, remote.ar),
        ("params", local.params, remote.params),
        ("aar", local.aar, remote.aar),
        ("tests", local.tests(WINDOWS), remote.tests(WINDOWS)),
        *((f"summary: {a.title}", a.data, b.data) for a, b in zip(local.summary().tables, remote.summary().tables)),
        ("bhar", local.bhar((0, 5)), remote.bhar((0, 5))),
        *((f"car{w}", local.car(w), remote.car(w)) for w in WINDOWS),
    ]
    for name, a, b in frames:
        assert len(a) and a.shape == b.shape, name
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=RTOL, atol=0, obj=name)
    pd.testing.assert_frame_equal(local.firm_events, remote.firm_events, check_exact=True)
    pd.testing.assert_frame_equal(local.dropped, remote.dropped, check_exact=True)
    assert local.settings == remote.settings
    assert local.market == remote.market
    np.testing.assert_array_equal(local.fit.cluster, remote.fit.cluster)
    assert str(local.summary()) == str(remote.summary())
    assert len(local.summary().tables) == len(remote.summary().tables)
    lp, rp = local.provenance, remote.provenance
    assert rp["returns_sha256"] is None and len(rp["returns_sha256_partitions"]) >= 1
    assert lp["source"] == rp["source"] and lp["factors"] == rp["factors"]
    # the columns the partitions read (the securities' and benchmarks'), not the returns' unused ones; the
    # loaders' notes all, each once, in the partitions' order
    # (a partition none of whose firm-events could be estimated sends no provenance)
    read = {*local.firm_events["ticker"], *(b for names in local.firm_events["benchmarks"] for b in names.split(", "))}
    assert read <= set(rp["return_ranges"]) <= set(lp["return_ranges"])
    assert all(lp["return_ranges"][t] == r for t, r in rp["return_ranges"].items())
    assert set(rp["notes"]) <= set(lp["notes"]) and len(set(rp["notes"])) == len(rp["notes"])


def test_returns_with_drops_a_shock_and_a_ticker_that_is_its_own_benchmark(client, us_returns, tmp_path):
    study = es.EventStudy(EVENTS, us_returns, tickers=[*SEMIS, "ZZZZ", "SPY"], market="SPY")
    local, local_warnings = fit(study)
    remote, remote_warnings = fit(study, client=client)
    assert_same(local, remote)
    # saved and loaded, the merged results are still the local fit's
    loaded = es.load(remote.save(tmp_path / "remote"))
    pd.testing.assert_frame_equal(local.tests(WINDOWS), loaded.tests(WINDOWS), check_exact=False, rtol=RTOL, atol=0)
    assert remote_warnings == local_warnings
    kinds = {k for k, _ in local_warnings}
    assert {"NotAFirmWarning", "DroppedFirmEventsWarning", "MarketShockWarning"} <= kinds
    reasons = remote.dropped.groupby("ticker")["reason"]
    assert set(reasons.get_group("ZZZZ")) == {"no returns for this ticker"}
    assert reasons.get_group("ARM").str.contains("estimation-window returns, fewer than the minimum").any()
    # the clusters span partitions: one announcement seen by every ticker is one group
    assert remote.fit.cluster.max() + 1 == remote.firm_events["event_id"].nunique()


@pytest.mark.slow  # about 3 s: three more fits on the cluster
@pytest.mark.parametrize("partitions", [1, 5, 40])
def test_one_partition_more_than_workers_and_empty_ones(client, us_returns, partitions):
    study = es.EventStudy(EVENTS, us_returns, tickers=[*SEMIS, "ZZZZ"], market=["SPY", "SOXX"], model="multi-index")
    local, local_warnings = fit(study)
    remote, remote_warnings = fit(study, client=client, partitions=partitions)
    assert_same(local, remote)
    assert remote_warnings == local_warnings


def test_prices_read_on_the_workers_never_on_the_client(client, prices_dir, monkeypatch):
    source = es.CsvSource(prices_dir)
    study = es.EventStudy(
        EVENTS, source=source, tickers=[*SEMIS, "ZZZZ"], market="SPY", outcome="returns", name="from files"
    )
    local, local_warnings = fit(study)
    reads = []
    original = es.CsvSource._fetch

    def counted(self, tickers, start, end):
        reads.append(list(tickers))
        return original(self, tickers, start, end)

    monkeypatch.setattr(es.CsvSource, "_fetch", counted)  # in this process only: the workers are others
    remote, remote_warnings = fit(study, client=client)
    assert reads == []
    assert_same(local, remote)
    assert remote_warnings == local_warnings
    # a source's coverage warning lists every ticker that starts late, once, as the local fit's does
    coverage = [m for k, m in local_warnings if "do not cover the whole range" in m]
    assert len(coverage) == 1 and "ARM: the data cover" in coverage[0] and "NVDA: the data cover" in coverage[0]
    # and the workers did read: a fit of the same study in this process reads the folder
    fit(study)
    assert reads


@pytest.mark.slow
def test_abnormal_volume_from_a_source(client, prices_dir):
    study = es.EventStudy(EVENTS, source=es.CsvSource(prices_dir), tickers=SEMIS[:6], market="SPY", outcome="volume")
    local, local_warnings = fit(study)
    remote, remote_warnings = fit(study, client=client, partitions=3)
    assert_same(local, remote)
    assert remote_warnings == local_warnings


def test_listings_on_two_exchanges_with_their_own_benchmarks(client, us_tokyo_returns):
    rets = us_tokyo_returns
    # a US close is the next Tokyo session: one announcement, two day 0s, one cluster across partitions
    events = pd.DataFrame({"id": ["oct7", "dec2"], "date": ["2022-10-07T16:30:00-04:00", "2022-12-02T16:30:00-05:00"]})
    study = es.EventStudy(
        events, rets, tickers=["NVDA", "8035.T", "AMD", "6857.T"], market={"XNYS": "SPY", "XTKS": "^N225"}
    )
    local, local_warnings = fit(study)
    remote, remote_warnings = fit(study, client=client, partitions=4)
    assert_same(local, remote)
    assert remote_warnings == local_warnings
    assert set(remote.settings["exchanges"].values()) == {"XNYS", "XTKS"}
    day0 = remote.firm_events[remote.firm_events["event_id"] == "oct7"].set_index("ticker")["day0"]
    assert day0["8035.T"] == pd.Timestamp("2022-10-11") and day0["NVDA"] == pd.Timestamp("2022-10-10")
    assert remote.fit.cluster.max() + 1 == 2


@pytest.mark.parametrize("exclude", [False, True])
def test_contamination_from_a_catalog(client, us_returns, exclude):
    catalog = pd.DataFrame(
        {
            "id": ["E0", "E1", "E2", "mid-2022", "nvda-news"],
            "date": [*EVENTS["date"][:3], "2021-11-15", "2022-02-15"],
            "ticker": [None, None, None, None, "NVDA"],
        }
    )
    study = es.EventStudy(
        EVENTS[:3], us_returns, tickers=SEMIS[:6], market="SPY", catalog=catalog, exclude_events=exclude
    )
    local, local_warnings = fit(study)
    remote, remote_warnings = fit(study, client=client)
    assert_same(local, remote)
    assert remote_warnings == local_warnings
    hit = remote.firm_events.set_index(["event_id", "ticker"])["contaminated_by"]
    assert "nvda-news" in hit[("E2", "NVDA")] and "nvda-news" not in hit[("E2", "AMD")]


def test_a_failure_on_a_worker_is_the_local_exception(client, us_returns):
    study = es.EventStudy(EVENTS, us_returns, tickers=SEMIS, market="QQQ")  # no QQQ column
    with pytest.raises(KeyError, match="QQQ"):
        study.fit()
    with pytest.raises(KeyError, match="QQQ"):
        study.fit(client=client)
    nothing = es.EventStudy(EVENTS, us_returns, tickers=["ZZZZ", "YYYY"], market="SPY")
    with pytest.raises(es.EstimationError) as local:
        nothing.fit()
    with pytest.raises(es.EstimationError) as remote:
        nothing.fit(client=client)
    assert str(remote.value) == str(local.value)
    pd.testing.assert_frame_equal(remote.value.dropped, local.value.dropped)


def test_without_dask_the_error_says_how_to_install_it(us_returns, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    study = es.EventStudy(EVENTS, us_returns, tickers=["NVDA"], market="SPY")
    with pytest.raises(ImportError, match=r'pip install "eventstudy-toolkit\[dask\]"'):
        study.fit(client=object())


def test_arguments_are_checked(client, us_returns):
    study = es.EventStudy(EVENTS, us_returns, tickers=["NVDA"], market="SPY")
    with pytest.raises(TypeError, match="'client' parameter must be a dask.distributed.Client"):
        study.fit(client="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="'partitions' parameter"):
        study.fit(partitions=2)
    with pytest.raises(ValueError, match="'partitions'"):
        study.fit(client=client, partitions=0)


def test_partitions_are_runs_of_securities_of_about_equal_size():
    firm_events = pd.DataFrame({"ticker": list("AAAABBCCCCCCDDEF")})  # 4, 2, 6, 2, 1, 1 firm-events
    # by hand: a security goes where the middle of its firm-events falls, runs of 16/3 = 5.33 firm-events
    assert partition_tickers(firm_events, 3) == [["A", "B"], ["C"], ["D", "E", "F"]]
    assert partition_tickers(firm_events, 1) == [["A", "B", "C", "D", "E", "F"]]
    assert partition_tickers(firm_events, 8) == [[], ["A"], ["B"], [], ["C"], [], ["D"], ["E", "F"]]


def test_warnings_that_list_securities_are_merged_in_the_local_order():
    late = "{}: the data cover 2021-04-12..2024-01-30, not all of the requested 2021-03-03..2024-01-30 (x)"
    first = [
        (
            es.DataQualityWarning,
            f"2 tickers do not cover the whole range: {late.format('NVDA')} | {late.format('SPY')}",
        ),
        (UserWarning, "said by both"),
    ]
    second = [(es.DataQualityWarning, late.format("SPY")), (UserWarning, "said by both"), (UserWarning, "only here")]
    third = [(es.DataQualityWarning, late.format("ARM"))]
    merged = merge_warnings([third, first, second], {"read": ["NVDA", "ARM", "SPY"]})
    expected = "3 tickers do not cover the whole range: " + " | ".join(late.format(t) for t in ("NVDA", "ARM", "SPY"))
    assert merged == [
        (es.DataQualityWarning, expected),
        (UserWarning, "said by both"),
        (UserWarning, "only here"),
    ]


def test_implausible_returns_of_two_partitions_are_one_warning():
    tail = ". Use adjusted prices (Adj Close) or fix the quote unit; if the move is real, nothing needs doing."
    line = "{} on 2022-0{}-01: -50.0% while SPY moved +0.1% (-30 robust s.d. of its own history; a price ratio of 2)"
    a = [
        (
            es.DataQualityWarning,
            f"2 implausible daily return(s), kept as they are: {line.format('B', 1)}; {line.format('B', 2)}{tail}",
        )
    ]
    b = [(es.DataQualityWarning, f"1 implausible daily return(s), kept as they are: {line.format('A', 3)}{tail}")]
    merged = merge_warnings([a, b], {"read": ["A", "B", "SPY"]})
    items = "; ".join([line.format("A", 3), line.format("B", 1), line.format("B", 2)])
    assert merged == [(es.DataQualityWarning, f"3 implausible daily return(s), kept as they are: {items}{tail}")]


@pytest.mark.slow  # GARCH fits
def test_garch_equals_the_local_fit_with_single_threaded_blas(client, prices_dir):
    # arch's optimizer follows a path that depends on BLAS's summation order, so a GARCH fit changes (about
    # 1e-3 relative here) with the BLAS thread count; dask's workers run BLAS on one thread, the local fit
    # compared with them does too
    from threadpoolctl import threadpool_limits

    events = pd.DataFrame({"id": ["a", "b"], "date": ["2023-05-25", "2024-02-08"]})
    study = es.EventStudy(
        events, source=es.CsvSource(prices_dir), tickers=["NVDA", "AMD", "ARM", "INTC"], market="SPY", model="garch"
    )
    with threadpool_limits(1):
        local, local_warnings = fit(study)
    remote, remote_warnings = fit(study, client=client)
    assert type(remote.fit).__name__ == "GarchFit"
    assert_same(local, remote)
    assert remote_warnings == local_warnings


def test_the_sources_travel_to_the_workers_as_objects(prices_dir):
    # the default source (Yahoo through the cache) and a folder pickle as small objects that read on arrival
    for source in (es.default_source(), es.CsvSource(prices_dir)):
        spanned = SpanSource(source, pd.Timestamp("2022-01-03"), pd.Timestamp("2022-03-31"))
        blob = pickle.dumps(spanned)
        assert len(blob) < 5_000
        again = pickle.loads(blob)
        assert again.describe() == source.describe() and again.name == source.name
    prices = pickle.loads(
        pickle.dumps(SpanSource(es.CsvSource(prices_dir), pd.Timestamp("2022-01-03"), pd.Timestamp("2022-03-31")))
    ).get_prices(["NVDA"], "2024-01-01", "2024-12-31")
    # the study's span, whatever the partition asks for
    assert prices.index.min() == pd.Timestamp("2022-01-03") and prices.index.max() == pd.Timestamp("2022-03-31")


def test_returns_on_closed_days_are_one_warning_naming_every_column(client, us_returns):
    # a value on Independence Day for a security of the first partition and one of the second
    rets = us_returns.copy()
    rets.loc[pd.Timestamp("2022-07-04")] = np.nan
    rets = rets.sort_index()
    rets.loc[pd.Timestamp("2022-07-04"), ["NVDA", "SMCI"]] = [0.01, -0.02]
    study = es.EventStudy(EVENTS[:4], rets, tickers=SEMIS, market="SPY")
    local, local_warnings = fit(study)
    remote, remote_warnings = fit(study, client=client)
    assert_same(local, remote)
    assert remote_warnings == local_warnings
    closed = [m for k, m in local_warnings if "exchange was closed" in m]
    assert len(closed) == 1 and "NVDA: 1 (2022-07-04); SMCI: 1 (2022-07-04)" in closed[0]


def test_importing_the_package_and_fitting_locally_import_no_dask(prices_dir):
    code = (
        "import sys, warnings, pandas as pd, eventstudy as es, eventstudy.results.distributed\n"
        "warnings.simplefilter('ignore')\n"
        f"es.EventStudy(pd.DataFrame({{'ticker': ['NVDA'], 'date': ['2024-02-20']}}), source=es.CsvSource({str(prices_dir)!r}),"
        " market='SPY').fit()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_partition_whose_prices_end_earlier_is_laid_out_on_the_study_range(
    client, prices_dir, global_prices_dir, tmp_path
):
    # a folder where the Tokyo listing and its index end on 2024-03-29 and the US ones go on: read on the
    # workers, the Tokyo partition's prices end there, but it is laid out (as the local fit is) on the whole
    # study's dates, so its firm-event is kept with NaN CARs after 2024-03-29, as locally
    folder = tmp_path / "prices"
    folder.mkdir()
    for source, name in ((prices_dir, "NVDA.csv"), (prices_dir, "SPY.csv")):
        (folder / name).write_text((source / name).read_text())
    for name in ("8035.T.csv", "N225.csv"):
        table = pd.read_csv(global_prices_dir / name)
        table[table["Date"] <= "2024-03-29"].to_csv(folder / name, index=False)
    events = pd.DataFrame({"ticker": ["NVDA", "8035.T"], "date": ["2024-03-27", "2024-03-27"]})
    study = es.EventStudy(events, source=es.CsvSource(folder), market={"XNYS": "SPY", "XTKS": "^N225"})
    local, local_warnings = fit(study)
    remote, remote_warnings = fit(study, client=client, partitions=2)
    assert list(local.firm_events["ticker"]) == ["NVDA", "8035.T"] and local.dropped.empty
    car = local.car((0, 5))
    assert np.isnan(car.loc[car["ticker"] == "8035.T", "car"]).all()  # kept, its CARs NaN after its data end
    assert np.isfinite(car.loc[car["ticker"] == "NVDA", "car"]).all()
    assert_same(local, remote)
    assert remote_warnings == local_warnings
    assert not any("partition" in m for _, m in remote_warnings)


def test_benchmark_names_in_drop_reasons_are_the_study_s(client, us_tokyo_returns):
    # a benchmark per exchange, and one partition per exchange: each partition's blocks have one benchmark,
    # so on its own it would name the regressor "SPY" or "^N225"; the local fit names it by its role,
    # "market", and so do the partitions. SPY and ^N225 lack a return on the day 0 of one event each.
    rets = us_tokyo_returns.copy()
    rets.loc["2022-10-10", "SPY"] = np.nan
    rets.loc["2022-12-05", "^N225"] = np.nan
    events = pd.DataFrame(
        {
            "ticker": ["NVDA", "AMD", "8035.T", "6857.T"],
            "date": ["2022-10-10", "2022-12-05", "2022-10-11", "2022-12-05"],
        }
    )
    for model in ("market-adjusted", "market"):
        study = es.EventStudy(events, rets, model=model, market={"XNYS": "SPY", "XTKS": "^N225"})
        local, local_warnings = fit(study)
        remote, remote_warnings = fit(study, client=client, partitions=2)
        reason = {"market-adjusted": "benchmark market", "market": "regressor market"}[model] + " missing on day 0"
        assert list(local.dropped["ticker"]) == ["NVDA", "6857.T"], model
        assert list(local.dropped["reason"]) == [reason, reason], model
        pd.testing.assert_frame_equal(local.dropped, remote.dropped, check_exact=True)
        assert_same(local, remote)
        assert remote_warnings == local_warnings


def failed_fit(study, **kwargs):
    """The EstimationError of a fit that estimates nothing and the warnings issued before it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(es.EstimationError) as error:
            study.fit(**kwargs)
    return error.value, [(w.category.__name__, str(w.message)) for w in caught]


def test_a_fit_that_estimates_nothing_issues_the_workers_warnings_first(client, prices_dir):
    # the files start 2021-04-12: no estimation window before these events, every firm-event dropped; the
    # loaders' coverage warning (read on the workers) comes before the error, as in the local fit
    events = pd.DataFrame({"id": ["a", "b"], "date": ["2021-05-03", "2021-06-01"]})
    study = es.EventStudy(events, source=es.CsvSource(prices_dir), tickers=["AMD", "NVDA", "MU"], market="SPY")
    local, local_warnings = failed_fit(study)
    remote, remote_warnings = failed_fit(study, client=client, partitions=2)
    assert any("4 tickers do not cover the whole range: " in m for _, m in local_warnings)
    assert remote_warnings == local_warnings
    assert str(remote) == str(local)
    pd.testing.assert_frame_equal(remote.dropped, local.dropped)


@pytest.fixture(scope="module")
def threaded_client():
    # one worker process (this one) running two partitions at once on two threads
    with local_client(n_workers=1, processes=False, threads_per_worker=2, dashboard_address=None) as client:
        yield client


def test_partitions_on_threads_of_one_worker_record_their_own_warnings(threaded_client, prices_dir):
    # warnings.catch_warnings is process-wide: two partitions recording at once on two threads would take
    # each other's warnings (or lose them); every partition warns here (late listings, an unknown ticker)
    study = es.EventStudy(EVENTS, source=es.CsvSource(prices_dir), tickers=[*SEMIS, "ZZZZ"], market="SPY")
    local, local_warnings = fit(study)
    for _ in range(3):
        remote, remote_warnings = fit(study, client=threaded_client, partitions=6)
        assert remote_warnings == local_warnings
    assert_same(local, remote)


def test_implausible_returns_are_measured_against_the_study_s_first_benchmark(client, us_tokyo_returns):
    # one partition holds only the Tokyo listing: its loader checks the returns against the study's first
    # benchmark (SPY), as the local fit's does, not against its own (^N225)
    rets = us_tokyo_returns[["NVDA", "SPY", "8035.T", "^N225"]].copy()
    rets.loc["2022-06-15", "8035.T"] = -0.5
    events = pd.DataFrame({"ticker": ["NVDA", "8035.T"], "date": ["2022-10-10", "2022-10-11"]})
    study = es.EventStudy(events, rets, market={"XNYS": "SPY", "XTKS": "^N225"})
    local, local_warnings = fit(study)
    remote, remote_warnings = fit(study, client=client, partitions=2)
    implausible = [m for _, m in local_warnings if "implausible daily return" in m]
    assert len(implausible) == 1 and "8035.T on 2022-06-15: -50.0% while SPY moved" in implausible[0]
    assert remote_warnings == local_warnings
    assert [n for n in remote.provenance["notes"] if "implausible" in n] == [
        n for n in local.provenance["notes"] if "implausible" in n
    ]
    assert_same(local, remote)


def test_close_fallbacks_of_two_partitions_are_one_warning():
    # every partition reads every benchmark: ^N225's fallback comes from both, once in the merged warning
    note = "{}: no 'Adj Close' values in the data; used 'Close' instead, so returns will not include dividends."
    a = [(es.DataQualityWarning, note.format("^N225"))]
    b = [(es.DataQualityWarning, f"{note.format('8035.T')} | {note.format('^N225')}")]
    merged = merge_warnings([a, b], {"read": ["NVDA", "8035.T", "SPY", "^N225"]})
    assert merged == [(es.DataQualityWarning, f"{note.format('8035.T')} | {note.format('^N225')}")]


def test_a_failed_partition_s_securities_are_its_columns_not_read_from_reasons(us_returns):
    # a volume study's drop reason for a ticker without a column and without a loader's failure is reworded
    # ("no returns for this ticker" -> "no log volumes for this ticker"): the partition's securities are the
    # columns of its loaded data, whatever the reasons say
    from eventstudy.results.distributed import Loaded, fit_partition, load_partition

    volumes = us_returns[["NVDA", "SPY"]].abs() * 1e6
    study = es.EventStudy(EVENTS[:2], volumes, tickers=["ZZZZ"], market="SPY", outcome="volume")
    spec = study._validated()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        firm_events = study._placed(spec)
        loaded = load_partition(study, spec, firm_events)
        part = fit_partition(study, spec, firm_events, Loaded(loaded.returns, loaded.source_info, {}, []))
    assert part.fit is None
    assert set(part.dropped["reason"]) == {"no log volumes for this ticker"}
    assert "ZZZZ" not in loaded.returns.columns and part.tickers == []


def test_a_volume_study_s_partition_of_unknown_tickers_adds_no_security(client, prices_dir):
    # the partition of ZZZZ estimates nothing and ZZZZ has no column: the merged layout is the local fit's,
    # without it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DataQualityWarning)
        volumes = es.CsvSource(prices_dir).get_prices(
            ["NVDA", "AMD", "SPY"], "2021-01-01", "2023-06-30", field="Volume"
        )
    study = es.EventStudy(EVENTS[:4], volumes, tickers=["NVDA", "AMD", "ZZZZ"], market="SPY", outcome="volume")
    local, local_warnings = fit(study)
    remote, remote_warnings = fit(study, client=client, partitions=3)
    assert set(local.dropped.loc[local.dropped["ticker"] == "ZZZZ", "reason"]) == {
        "no prices for this ticker: no column 'ZZZZ' in the volumes"
    }
    assert "ZZZZ" not in local.settings["exchanges"]
    assert_same(local, remote)
    assert remote_warnings == local_warnings
