"""A study past one process: ``EventStudy.fit(client=...)`` on dask.distributed (issue 23, "Past one machine").

Run::

    python benchmarks/distributed.py                      # both parts, default sizes
    python benchmarks/distributed.py --part curve --securities 2000 --repeat 3
    python benchmarks/distributed.py --part memory --memory-securities 6000 --cap-mb 900

The prices are synthetic and made where they are read: :class:`SyntheticSource` is a price source whose
``_fetch`` draws each ticker's market-model prices from a seed of its name (NYSE sessions 2014-2025), so a
worker "reads" its partition's prices and the client never holds them, as with a folder of files, without
writing gigabytes to a shared disk.  Every security has ``--events`` firm-events at random sessions; market
model, estimation window (-250, -11), event window (-10, 10).

Part 1, ``curve``: wall time of the local fit (one process, the baseline of this run) and of the fit on a
``LocalCluster`` of 1, 2 and 3 worker processes (one thread each; 3 is more than the machine's 2 cores, to
show the flattening), best of ``--repeat``, the cluster started before the clock runs.  Every run's CARs are
checked against the local fit's (largest relative difference printed; above 1e-12 the script stops).

Part 2, ``memory``: the same study, larger, in processes whose data segment is capped with
``resource.setrlimit(RLIMIT_DATA)`` (heap and private anonymous mappings: what numpy and pandas allocate):

* the local fit in a child process capped at ``--cap-mb``: expected to fail with MemoryError;
* the fit on two workers, each capped at the same ``--cap-mb`` (``client.run(setrlimit)`` on each worker
  process), from a client process capped at the same ``--cap-mb`` too (the client holds the gathered
  results: the merged panels, raw returns, offsets, usable days and the stacked fit).

It prints each process's peak resident memory (``VmHWM``) and the size of the results, so the figures say how
much smaller than a fit's peak the results are.  The scheduler (the parent process, holding no study data
but relaying the gathered results) is not capped.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings

# run as a script, this file's folder comes first on sys.path, and this file's name would hide dask's
# `distributed` package
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import eventstudy as es  # noqa: E402
from eventstudy.data.base import PriceSource  # noqa: E402

ESTIMATION = (-250, -11)
EVENT = (-10, 10)
FIRST, LAST = "2014-01-02", "2025-12-31"
MARKET = "MKT"


class SyntheticSource(PriceSource):
    """Market-model prices drawn from a seed of each ticker's name: the same rows wherever they are read."""

    def __init__(self, n_securities: int) -> None:
        self.n_securities = n_securities

    @property
    def name(self) -> str:
        return f"synthetic:{self.n_securities}"

    def _fetch(self, tickers, start, end):
        sessions = es.TradingCalendar("XNYS").sessions_in_range(FIRST, LAST)
        market = np.random.default_rng(0).normal(0.0004, 0.011, len(sessions))
        frames = {}
        for ticker in tickers:
            if ticker == MARKET:
                r = market
            else:
                rng = np.random.default_rng(int(ticker[1:]) + 1)
                r = 0.0002 + rng.uniform(0.5, 1.5) * market + rng.normal(0, 0.02, len(sessions))
            close = 50.0 * np.cumprod(1.0 + r)
            frames[ticker] = pd.DataFrame({"Close": close, "Adj Close": close}, index=sessions)
        return frames


def tickers(n: int) -> list[str]:
    return [f"S{k:05d}" for k in range(n)]


def study(n: int, events: int) -> es.EventStudy:
    """``events`` firm-events per security at random sessions with room for both windows."""
    sessions = es.TradingCalendar("XNYS").sessions_in_range(FIRST, LAST)
    rng = np.random.default_rng(7)
    names = np.repeat(tickers(n), events)
    rows = rng.integers(-ESTIMATION[0] + 5, len(sessions) - EVENT[1] - 5, len(names))
    table = pd.DataFrame({"ticker": names, "date": sessions[rows].strftime("%Y-%m-%d")})
    table["event_id"] = [f"{t}-{k % events}" for k, t in enumerate(names)]
    return es.EventStudy(
        table, source=SyntheticSource(n), market=MARKET, estimation_window=ESTIMATION, event_window=EVENT
    )


def quiet_fit(s: es.EventStudy, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return s.fit(**kwargs)


def peak_mb() -> float:
    """This process's resident high-water mark (VmHWM), MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def vm_data_mb() -> float:
    """This process's data segment (VmData: heap and private mappings, what RLIMIT_DATA limits), MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmData:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cap(mb: float) -> float:
    """Cap this process's data segment at ``mb`` above what it holds now (the libraries loaded and warmed:
    numpy, pandas, the calendars, dask); returns the cap's absolute value, MB."""
    limit = vm_data_mb() + mb
    resource.setrlimit(resource.RLIMIT_DATA, (int(limit * 2**20), int(limit * 2**20)))
    return limit


def results_mb(res) -> float:
    """Bytes the results hold in arrays: panels (raw, offset, y when not raw, usable, z) and the stacked fit."""
    fit = res.fit
    arrays = [res._raw, res._offset, fit.data.usable, fit.data.z, fit.params, fit.xtx_inv, fit.sigma2, fit.n_obs]
    if fit.data.y is not res._raw:
        arrays.append(fit.data.y)
    return sum(a.nbytes for a in arrays) / 2**20


def largest_difference(a, b) -> float:
    x, y = a.car()["car"].to_numpy(), b.car()["car"].to_numpy()
    if not np.array_equal(np.isnan(x), np.isnan(y)):
        raise SystemExit("the CARs are NaN for different firm-events")
    ok = np.isfinite(x)
    return float(np.max(np.abs(x[ok] - y[ok]) / np.maximum(np.abs(x[ok]), 1e-300), initial=0.0))


# ---------------------------------------------------------------------------------------------------------
def curve(n: int, events: int, repeat: int, workers: list[int]) -> None:
    """Best wall time of the local fit and of the fit on clusters of ``workers`` processes, the runs
    alternating (local, 1 worker, 2, ...) ``repeat`` times so that the neighbours' load falls on all alike."""
    from contextlib import ExitStack

    from distributed import Client, LocalCluster

    s = study(n, events)
    local = quiet_fit(s)  # warm-up: imports, calendars
    times: dict[str, list[float]] = {"local": []}
    diffs: dict[int, float] = {}
    with ExitStack() as stack:
        clients = {}
        for k in workers:
            cluster = stack.enter_context(
                LocalCluster(n_workers=k, processes=True, threads_per_worker=1, dashboard_address=None)
            )
            clients[k] = stack.enter_context(Client(cluster))
            clients[k].run(_warm)
            times[f"{k}"] = []
        for _ in range(repeat):
            t = time.perf_counter()
            local = quiet_fit(s)
            times["local"].append(time.perf_counter() - t)
            for k, client in clients.items():
                t = time.perf_counter()
                remote = quiet_fit(s, client=client)
                times[f"{k}"].append(time.perf_counter() - t)
                diffs[k] = max(diffs.get(k, 0.0), largest_difference(local, remote))
                if diffs[k] > 1e-12:
                    raise SystemExit(f"CARs differ from the local fit's by {diffs[k]:.2e} relative")
    base = min(times["local"])
    print(f"\n## time against workers: {n:,} securities x {len(local.sessions):,} sessions, {local.n:,} firm-events")
    print(f"best of {repeat}, the runs alternating; load average at the end {os.getloadavg()[0]:.1f}")
    print("| fit | best wall time (s) | / local | largest CAR difference |")
    print("|---|---|---|---|")
    print(f"| local, one process | {base:.2f} | 1.00 | |")
    for k in workers:
        best = min(times[f"{k}"])
        print(f"| {k} worker process(es) | {best:.2f} | {best / base:.2f} | {diffs[k]:.1e} |")


def _warm() -> None:
    """Imports and the calendar, once per worker: not the study's time, nor its memory (the calendar's first
    use maps about 1 GB of data segment, touched only in part)."""
    import eventstudy.results.study  # noqa: F401

    es.TradingCalendar("XNYS").sessions_in_range(FIRST, LAST)


# ---------------------------------------------------------------------------------------------------------
def child(mode: str, n: int, events: int, cap_mb: float, scheduler: str | None) -> None:
    """A capped process: the local fit, or the client of the cluster at ``scheduler``; prints one JSON line."""
    s = study(n, events)
    client = None
    if mode == "client":
        from distributed import Client

        client = Client(scheduler)
    _warm()
    base = vm_data_mb()
    out: dict = {"mode": mode, "cap_mb": cap_mb, "vm_data_before_mb": round(base, 1)}
    cap(cap_mb)
    t = time.perf_counter()
    try:
        res = quiet_fit(s, client=client) if client is not None else quiet_fit(s)
        out.update(ok=True, firm_events=res.n, results_mb=round(results_mb(res), 1))
    except MemoryError:
        out.update(ok=False, error="MemoryError")
    except Exception as error:  # noqa: BLE001 - reported, not hidden: the figure says which
        out.update(ok=False, error=f"{type(error).__name__}: {str(error)[:200]}")
    out.update(seconds=round(time.perf_counter() - t, 2), peak_mb=round(peak_mb(), 1))
    print(json.dumps(out), flush=True)


def run_child(args: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"ok": False, "error": f"exit {done.returncode}: {done.stderr.strip()[-300:]}"}
    return json.loads(lines[-1])


def memory(n: int, events: int, cap_mb: float) -> None:
    from distributed import Client, LocalCluster

    common = ["--memory-securities", str(n), "--events", str(events), "--cap-mb", str(cap_mb)]
    print(
        f"\n## memory: {n:,} securities x {events} firm-events, every process capped at {cap_mb:.0f} MB (RLIMIT_DATA) above its warmed libraries"
    )
    uncapped = run_child(["--child", "local", *common[:4], "--cap-mb", "1e9"])
    print(f"local fit, uncapped:  {uncapped}")
    local = run_child(["--child", "local", *common])
    print(f"local fit, capped:    {local}")
    # dask's own memory manager (pause, spill, restart at a share of the machine) is off: the cap is the rule
    with (
        LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, memory_limit=0, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm)
        limits = client.run(cap, cap_mb)
        print(f"workers' caps:        {sorted(round(v) for v in limits.values())} MB of data segment")
        remote = run_child(["--child", "client", "--scheduler", cluster.scheduler_address, *common])
        workers = client.run(peak_mb)
    print(f"client, capped:       {remote}")
    print(f"workers, capped:      peak resident MB {sorted(round(v, 1) for v in workers.values())}")
    verdict = (not local.get("ok")) and remote.get("ok")
    print(
        f"\none process capped at {cap_mb:.0f} MB: {local.get('error', 'ran')}; two workers and a client capped at "
        f"{cap_mb:.0f} MB each: {'ran' if remote.get('ok') else remote.get('error')} -> target "
        f"{'met' if verdict else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["curve", "memory", "both"], default="both")
    parser.add_argument("--securities", type=int, default=2000, help="securities of the curve's study")
    parser.add_argument("--memory-securities", type=int, default=6000, help="securities of the capped study")
    parser.add_argument("--events", type=int, default=5, help="firm-events per security")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--cap-mb", type=float, default=1200.0)
    parser.add_argument("--child", choices=["local", "client"], help=argparse.SUPPRESS)
    parser.add_argument("--scheduler", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.memory_securities, args.events, args.cap_mb, args.scheduler)
        return
    print(
        f"numpy {np.__version__}, pandas {pd.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    if args.part in ("curve", "both"):
        curve(args.securities, args.events, args.repeat, [int(k) for k in args.workers.split(",")])
    if args.part in ("memory", "both"):
        memory(args.memory_securities, args.events, args.cap_mb)


if __name__ == "__main__":
    main()
