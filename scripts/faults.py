"""Fault injection for issues 12 and 21: run every class of real fault against eventstudy and say how it was handled.

Usage::

    python scripts/faults.py [--shared ../shared] [--format table|csv]

Each case feeds a fault to the product for real (a split between two cache fetches through YahooSource, a
writer killed or failing mid-write, metadata that disagree with their data, a constant benchmark, percent
returns, ...) on the shared real prices, and records how it was handled:

* ``error``   -- refused with a message (shown) that names the value and the fix;
* ``drop``    -- a recorded drop in ``res.dropped`` with its reason;
* ``warning`` -- kept, with a warning naming ticker, date and reason;
* ``fixed``   -- repaired (e.g. refetched), with a warning saying so;
* ``label``   -- the table itself says what differs;
* ``SILENT``  -- nothing said (a failure of the product);
* ``WRONG``   -- a wrong value served (a failure of the product).

Every case also checks that what is served is right (e.g. the seam return after a split equals the one in
the shared file).  The exit code is 1 when any case is SILENT or WRONG.  Prices are read from
``<shared>/data/prices`` (default: ``$EVENTSTUDY_SHARED_DIR`` or ``../shared`` beside the repository);
everything is written to a temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from yahoo_as_of import YahooAsOf  # noqa: E402 - beside this script (its folder is on sys.path when run)

import eventstudy as es  # noqa: E402
from eventstudy.data import CachedSource, CsvSource, YahooSource  # noqa: E402

EVENT_ID = "bis-rescinds-diffusion-huawei-guidance-2025-05-13"
PRICE_FIELDS = ["Open", "High", "Low", "Close", "Adj Close"]


@dataclass
class Outcome:
    kind: str
    detail: str


class Wrong(AssertionError):
    """The product served a wrong value."""


# --------------------------------------------------------------------------------------------------------
# harness
# --------------------------------------------------------------------------------------------------------


def observe(case: Callable[[], str | None]) -> Outcome:
    """Run one case; sort what it raised, warned or returned into an :class:`Outcome`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            returned = case()
        except Wrong as exc:
            return Outcome("WRONG", str(exc))
        except (es.EventStudyError, ValueError, TypeError, KeyError, OSError, KeyboardInterrupt) as exc:
            return Outcome("error", f"{type(exc).__name__}: {exc}")
    said = [str(w.message) for w in caught if issubclass(w.category, es.EventStudyWarning)]
    if returned is not None:
        kind, _, detail = returned.partition(": ")
        return Outcome(kind, detail)
    if said:
        return Outcome("warning", said[-1])
    return Outcome("SILENT", "no error, drop or warning")


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise Wrong(what)


class Shared:
    def __init__(self, root: Path, work: Path):
        self.prices = root / "data" / "prices"
        self.work = work
        self._n = 0
        if not self.prices.is_dir():
            raise SystemExit(
                f"faults.py: no shared prices at {self.prices}; pass --shared or set EVENTSTUDY_SHARED_DIR"
            )

    def fresh(self, name: str) -> Path:
        self._n += 1
        return self.work / f"{self._n:02d}-{name}"

    def csv(self, ticker: str) -> pd.DataFrame:
        return pd.read_csv(self.prices / f"{ticker}.csv", index_col="Date", parse_dates=True)

    def returns(self, tickers=("NVDA", "AMD", "SPY", "SOXX"), start="2024-01-02", end="2025-06-30") -> pd.DataFrame:
        return es.returns(CsvSource(self.prices).get_prices(list(tickers), start, end))


def study(returns, tickers=("NVDA", "AMD"), **options):
    options.setdefault("market", "SPY")
    events = pd.DataFrame({"ticker": list(tickers), "date": ["2025-05-13"] * len(tickers)})
    return es.EventStudy(events, returns=returns, **options).fit()


def dropped(res, ticker) -> str:
    reasons = res.dropped.set_index("ticker")["reason"]
    return f"drop: {ticker}: {reasons[ticker]}" if ticker in reasons.index else "SILENT: kept"


# --------------------------------------------------------------------------------------------------------
# class 1: two adjustment bases
# --------------------------------------------------------------------------------------------------------


def seam(
    shared: Shared, ticker, event, scale, first_end, expected_day, fail=False, refresh=False
) -> Callable[[], str | None]:
    def case():
        yahoo = YahooAsOf(shared.prices, event, scale)
        cached = CachedSource(YahooSource(download=yahoo, retries=0), cache_dir=shared.fresh("cache"))
        cached.get_prices(ticker, "2024-01-02", first_end)
        yahoo.before_event = False
        if fail:
            yahoo.fail_from = "2024-01-02"
        last = "2024-12-31"
        if refresh:  # the last cached session was read while open, so the same range is read again
            meta_path = cached.directory / f"{ticker}.json"
            meta = json.loads(meta_path.read_text())
            meta["end_fetched_at"] = f"{first_end}T15:30:00+00:00"
            meta_path.write_text(json.dumps(meta))
            last = first_end
        got = cached.get_prices(ticker, "2024-01-02", last)[ticker]
        truth = shared.csv(ticker)["Adj Close"].loc["2024-01-02":last]
        r, t = got.pct_change().loc[expected_day], truth.pct_change().loc[expected_day]
        expect(abs(r - t) < 1e-9, f"{ticker} return on {expected_day} served as {r:+.3%}, truly {t:+.3%}")
        expect(np.allclose(got.to_numpy(), truth.to_numpy(), rtol=1e-12), "cached history on two bases")
        return None  # the warning says what was done

    return case


# --------------------------------------------------------------------------------------------------------
# class 2: implausible returns
# --------------------------------------------------------------------------------------------------------


def unadjusted_split(shared: Shared):
    close = shared.csv("NVDA")["Close"].loc["2023-06":"2024-12"]
    raw = close.where(close.index >= "2024-06-10", close * 10)  # the closes as printed before the split
    spy = shared.csv("SPY")["Adj Close"].loc["2023-06":"2024-12"]
    rets = es.returns(pd.DataFrame({"NVDA": raw, "SPY": spy}))
    events = pd.DataFrame({"ticker": ["NVDA"], "date": ["2024-06-12"]})
    es.EventStudy(events, returns=rets, market="SPY", estimation_window=(-120, -11)).fit()


def pence_to_pounds(shared: Shared):
    rets = shared.returns()
    rets.loc["2025-03-14", "AMD"] = (1 + rets.loc["2025-03-14", "AMD"]) / 100 - 1
    study(rets)


# --------------------------------------------------------------------------------------------------------
# class 3: interrupted or failing writes
# --------------------------------------------------------------------------------------------------------


def _small_report(shared: Shared, out: Path, title: str):
    from eventstudy.report import ReportConfig, build_report

    config = ReportConfig(
        title=title,
        tickers=("NVDA", "AMD"),
        focus=("NVDA",),
        market=("SPY",),
        events=(EVENT_ID,),
        prices_dir=str(shared.prices),
        out=str(out),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.SessionAssumptionWarning)
        build_report(config, progress=False)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def report_interrupted(shared: Shared, fault: BaseException, at: str):
    def case():
        from eventstudy.data.atomic import leftovers

        out = shared.fresh("report") / "study"
        _small_report(shared, out, "first run")
        before = _files(out)
        real = Path.write_text

        def failing(self, text, *args, **kwargs):
            if self.name == at:
                real(self, text[: len(text) // 2], *args, **kwargs)
                raise fault
            return real(self, text, *args, **kwargs)

        Path.write_text = failing
        try:
            _small_report(shared, out, "second run")
        except BaseException as exc:
            Path.write_text = real
            expect(_files(out) == before, "the previous report was changed: a mix of two runs")
            expect(leftovers(out) == [], "a staging folder was left behind")
            said = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return f"error: {said}; previous report intact, no leftovers"
        finally:
            Path.write_text = real
        return "SILENT: the failing write went unnoticed"

    return case


def cache_killed_between_files(shared: Shared):
    cache_dir = shared.fresh("cache")
    CachedSource(CsvSource(shared.prices), cache_dir=cache_dir).get_prices("NVDA", "2025-03-03", "2025-03-31")
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        from eventstudy.data import CachedSource, CsvSource
        real = os.replace
        def replace(src, dst):
            if str(dst).endswith(".json"):
                os.kill(os.getpid(), signal.SIGKILL)
            real(src, dst)
        os.replace = replace
        CachedSource(CsvSource({str(shared.prices)!r}), cache_dir={str(cache_dir)!r}).get_prices(
            "NVDA", "2025-03-03", "2025-05-30")
        """
    )
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    expect(child.returncode == -signal.SIGKILL, f"the writer was not killed ({child.returncode})")
    got = CachedSource(CsvSource(shared.prices), cache_dir=cache_dir, offline=True).get_prices(
        "NVDA", "2025-03-03", "2025-05-30"
    )
    truth = shared.csv("NVDA")["Adj Close"].loc["2025-03-03":"2025-05-30"]
    expect(got["NVDA"].tolist() == truth.tolist(), "dates lost or wrong after the kill")


def two_writers(shared: Shared):
    cache_dir = shared.fresh("cache")
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from eventstudy.data import CachedSource, CsvSource
        class Slow(CsvSource):
            def _fetch(self, tickers, start, end):
                got = super()._fetch(tickers, start, end)
                time.sleep(1.0)
                return got
        CachedSource(Slow({str(shared.prices)!r}), cache_dir={str(cache_dir)!r}).get_prices("NVDA", *sys.argv[1:3])
        """
    )
    kids = [
        subprocess.Popen([sys.executable, "-c", script, *span])
        for span in (("2025-01-02", "2025-03-31"), ("2025-04-01", "2025-06-30"))
    ]
    expect(all(k.wait(120) == 0 for k in kids), "a writer failed")
    try:
        got = CachedSource(CsvSource(shared.prices), cache_dir=cache_dir, offline=True).get_prices(
            "NVDA", "2025-01-02", "2025-06-30"
        )
    except es.CacheError as exc:
        raise Wrong(f"one writer's dates were lost: {exc}") from None
    expect(len(got) == len(shared.csv("NVDA").loc["2025-01-02":"2025-06-30"]), "dates lost")
    return "fixed: both ranges kept (per-ticker lock from read to write)"


def cache_full_disk(shared: Shared):
    cached = CachedSource(CsvSource(shared.prices), cache_dir=shared.fresh("cache"))
    cached.get_prices("AMD", "2025-05-01", "2025-05-30")
    before = (cached.directory / "AMD.parquet").read_bytes()
    real = os.replace

    def full(src, dst):
        if str(dst).endswith(".parquet"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    os.replace = full
    try:
        got = cached.get_prices("AMD", "2025-04-01", "2025-05-30")
    finally:
        os.replace = real
    expect(len(got) == 42, "data not served")
    expect((cached.directory / "AMD.parquet").read_bytes() == before, "old cache entry damaged")
    expect(not [p for p in cached.directory.iterdir() if p.name.endswith(".tmp")], "temporary files left")


# --------------------------------------------------------------------------------------------------------
# class 4: metadata not trusted blindly
# --------------------------------------------------------------------------------------------------------


def bad_metadata(shared: Shared, offline: bool, **change):
    def case():
        source = CsvSource(shared.prices)
        cache_dir = shared.fresh("cache")
        cached = CachedSource(source, cache_dir=cache_dir)
        cached.get_prices("NVDA", "2025-05-01", "2025-05-30")
        meta_path = cached.directory / "NVDA.json"
        meta = json.loads(meta_path.read_text())
        meta.update(change)
        meta_path.write_text(json.dumps(meta))
        got = CachedSource(source, cache_dir=cache_dir, offline=offline).get_prices("NVDA", "2025-05-01", "2025-05-30")
        move = got["NVDA"].pct_change().loc["2025-05-13"]
        expect(round(move * 100, 2) == 5.63, f"NVDA's 2025-05-13 return served as {move:+.2%}, truly +5.63%")
        return None

    return case


# --------------------------------------------------------------------------------------------------------
# class 5: unidentified models
# --------------------------------------------------------------------------------------------------------


def constant_benchmark(shared: Shared):
    try:
        study(shared.returns().assign(SPY=0.001))
    except es.EstimationError as exc:
        return dropped(type("R", (), {"dropped": exc.dropped})(), "NVDA")
    return "SILENT: fitted"


def identical_to_benchmark(shared: Shared):
    rets = shared.returns()
    return dropped(study(rets.assign(COPY=rets["SPY"]), ("NVDA", "COPY")), "COPY")


def benchmark_against_itself(shared: Shared):
    return dropped(study(shared.returns(), ("NVDA", "SPY")), "SPY")


def exact_fit(shared: Shared):
    rets = shared.returns()
    rets = rets.assign(LEVERED=0.0001 + 2 * rets["SPY"])
    return dropped(study(rets, ("NVDA", "LEVERED"), market=["SOXX", "SPY"], model="multi-index"), "LEVERED")


# --------------------------------------------------------------------------------------------------------
# class 6: values that look like data
# --------------------------------------------------------------------------------------------------------


def infinite_return(shared: Shared):
    rets = shared.returns()
    rets.loc["2025-03-03", "AMD"] = np.inf
    study(rets)


def percent_returns(shared: Shared):
    study(shared.returns() * 100)


def integer_dates(shared: Shared):
    events = pd.DataFrame({"ticker": ["NVDA"], "date": [20250513]})
    es.EventStudy(events, returns=shared.returns(), market="SPY").fit()


def lower_case_ticker(shared: Shared):
    return dropped(study(shared.returns(), ("nvda", "AMD")), "nvda")


def gap_in_event_window(shared: Shared):
    rets = shared.returns()
    rets.loc["2025-05-15", "NVDA"] = np.nan
    res = study(rets)
    expect(np.isnan(res.car((-5, 5)).set_index("ticker")["car"]["NVDA"]), "a CAR over a gap was computed")


def latin1_catalog(shared: Shared):
    path = shared.fresh("catalog.csv")
    path.write_bytes("id,date,session,title\nx,2025-05-13,pre,Décision\n".encode("latin-1"))
    es.load_events(path)


def cli(args: list[str], wanted: str):
    def case():
        import contextlib
        import io

        from eventstudy.cli import build_parser, main

        if wanted == "parse":
            parsed = build_parser().parse_args(args)
            expect(parsed.windows == [(-1, 1)], f"--window read as {parsed.windows}")
            return "fixed: read as the window (-1, +1)"
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(args)
        line = err.getvalue().strip().splitlines()[-1] if err.getvalue().strip() else ""
        expect(code != 0, "accepted")
        expect("'tickers' parameter" not in line, f"blames another option: {line}")
        return f"error: {line.removeprefix('eventstudy: error: ')}"

    return case


# --------------------------------------------------------------------------------------------------------
# class 7: labels
# --------------------------------------------------------------------------------------------------------


def compare_label(shared: Shared, first: dict, second: dict):
    def case():
        rets = shared.returns()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", es.SessionAssumptionWarning)
            a = study(rets, **first)
            b = study(rets, **second)
        labels = list(es.compare({"A": a, "B": b}).columns.get_level_values(0).unique())
        return f"label: {labels[0]} | {labels[1]}" if labels != ["A", "B"] else "SILENT: labels ['A', 'B']"

    return case


# --------------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------------
# class 8: issue 21, nothing lost and nothing silent
# --------------------------------------------------------------------------------------------------------


def flipped_cache_byte(shared: Shared, offline: bool):
    def case():
        cache_dir = shared.fresh("cache")
        CachedSource(CsvSource(shared.prices), cache_dir=cache_dir).get_prices("NVDA", "2024-01-02", "2024-12-31")
        parquet = next(cache_dir.glob("prices/*/NVDA.parquet"))
        data = bytearray(parquet.read_bytes())
        data[len(data) // 2] ^= 0xFF  # one byte in the middle of the column data
        parquet.write_bytes(bytes(data))
        got = CachedSource(CsvSource(shared.prices), cache_dir=cache_dir, offline=offline).get_prices(
            "NVDA", "2024-01-02", "2024-12-31"
        )
        truth = shared.csv("NVDA")["Adj Close"].loc["2024-01-02":"2024-12-31"]
        expect(got["NVDA"].tolist() == truth.tolist(), "a corrupt cache entry was served")
        kept = list(parquet.parent.glob(".quarantine/NVDA-*/NVDA.parquet"))
        expect(len(kept) == 1 and kept[0].read_bytes() == bytes(data), "the corrupt entry was not kept aside")

    return case


def impossible_return(shared: Shared):
    rets = shared.returns()
    rets.loc["2025-05-12", "NVDA"] = -1.0  # a price of 0
    with warnings.catch_warnings(record=True) as caught:  # other warnings (a market shock that week) aside
        warnings.simplefilter("always")
        study(rets)
    said = [str(w.message) for w in caught if "impossible" in str(w.message)]
    expect(bool(said), "no warning calls the -100% return impossible")
    return "warning: " + said[0]


def stale_quote(shared: Shared):
    rets = shared.returns()
    at = rets.index.get_loc(pd.Timestamp("2025-05-13"))
    rets.iloc[at - 249 : at - 10, rets.columns.get_loc("NVDA")] = 0.0  # 239 of the 240 window returns
    return dropped(study(rets, estimation_window=(-250, -11)), "NVDA")


def far_day0(shared: Shared):
    path = shared.fresh("events.csv")
    path.write_text("id,date,session,day0\nx,2025-05-13,post,2025-05-06\n", encoding="utf-8")
    es.load_events(path)


def dst_gap(shared: Shared):
    path = shared.fresh("events.csv")
    path.write_text("id,date,session,time,timezone\nx,2025-03-09,,02:30,America/New_York\n", encoding="utf-8")
    es.load_events(path)


def escaping_study_name(shared: Shared):
    from eventstudy.report import load_study

    path = shared.fresh("study.toml")
    path.write_text('name = "../../escaped"\n', encoding="utf-8")
    load_study(path)


def too_many_threads(shared: Shared):
    from eventstudy.foundation import threads

    os.environ["EVENTSTUDY_THREADS"] = "1000"
    try:
        got = threads.threads_from_environment()
    finally:
        del os.environ["EVENTSTUDY_THREADS"]
    expect(got <= (os.cpu_count() or 1), f"{got} threads taken")


def cases(shared: Shared) -> list[tuple[str, str, Callable[[], str | None]]]:
    split = dict.fromkeys(PRICE_FIELDS, 10.0) | {"Volume": 0.1}
    spy = shared.csv("SPY")
    factor = spy["Adj Close"] / spy["Close"]
    dividend = float(factor.loc["2024-06-21"] / factor.loc["2024-06-20"])
    s = shared
    return [
        ("1 adjustment basis", "NVDA 10:1 split between two cache fetches", seam(s, "NVDA", "2024-06-10", split, "2024-06-07", "2024-06-10")),
        ("1 adjustment basis", "SPY dividend between two cache fetches", seam(s, "SPY", "2024-06-21", {"Adj Close": dividend}, "2024-06-20", "2024-06-21")),
        ("1 adjustment basis", "split, and the full refetch fails", seam(s, "NVDA", "2024-06-10", split, "2024-06-07", "2024-06-10", fail=True)),
        ("1 adjustment basis", "split seen while refreshing the last cached days", seam(s, "NVDA", "2024-06-10", split, "2024-06-07", "2024-06-07", refresh=True)),
        ("2 implausible return", "unadjusted NVDA split in the prices", lambda: unadjusted_split(s)),
        ("2 implausible return", "AMD quote switches from pence to pounds", lambda: pence_to_pounds(s)),
        ("3 interrupted write", "report: disk full while writing report.md", report_interrupted(s, OSError(errno.ENOSPC, "No space left on device"), "report.md")),
        ("3 interrupted write", "report: Ctrl-C while writing report.html", report_interrupted(s, KeyboardInterrupt(), "report.html")),
        ("3 interrupted write", "cache: writer SIGKILLed between data and metadata", lambda: cache_killed_between_files(s)),
        ("3 interrupted write", "cache: two processes write one ticker", lambda: two_writers(s)),
        ("3 interrupted write", "cache: disk full while writing", lambda: cache_full_disk(s)),
        ("4 metadata", "metadata name another ticker (offline)", bad_metadata(s, True, ticker="AMD")),
        ("4 metadata", "metadata name another ticker (online)", bad_metadata(s, False, ticker="AMD")),
        ("4 metadata", "format version from the future (offline)", bad_metadata(s, True, format_version=2)),
        ("4 metadata", "coverage ends before the data do (offline)", bad_metadata(s, True, covered_end="2025-05-20")),
        ("4 metadata", "row count disagrees (online)", bad_metadata(s, False, rows=30)),
        ("5 unidentified model", "constant benchmark return", lambda: constant_benchmark(s)),
        ("5 unidentified model", "ticker identical to its benchmark", lambda: identical_to_benchmark(s)),
        ("5 unidentified model", "benchmark studied against itself", lambda: benchmark_against_itself(s)),
        ("5 unidentified model", "zero residual variance (2x ETF, no tracking error)", lambda: exact_fit(s)),
        ("6 looks like data", "inf in the returns", lambda: infinite_return(s)),
        ("6 looks like data", "returns in percent", lambda: percent_returns(s)),
        ("6 looks like data", "integer dates 20250513", lambda: integer_dates(s)),
        ("6 looks like data", "lower-case ticker 'nvda'", lambda: lower_case_ticker(s)),
        ("6 looks like data", "NaN inside the event window", lambda: gap_in_event_window(s)),
        ("6 looks like data", "Latin-1 catalog file", lambda: latin1_catalog(s)),
        ("6 looks like data", "--market SPY+", cli(["run", "--market", "SPY+", "--prices-dir", str(s.prices)], "error")),
        ("6 looks like data", "--window -1,1 (with a space)", cli(["run", "--window", "-1,1"], "parse")),
        ("7 labels", "compare (-5,+5) with (-1,+1)", compare_label(s, {"event_window": (-5, 5)}, {"event_window": (-1, 1)})),
        ("7 labels", "compare market model with market-adjusted", compare_label(s, {}, {"model": "market-adjusted"})),
        ("7 labels", "compare day-0 rules pre and post", compare_label(s, {"unknown_session": "pre"}, {"unknown_session": "post"})),
        ("8 nothing silent", "cache: one byte of NVDA.parquet flipped (online)", flipped_cache_byte(s, False)),
        ("8 nothing silent", "cache: one byte of NVDA.parquet flipped (offline)", flipped_cache_byte(s, True)),
        ("8 nothing silent", "a return of -100% (price 0)", lambda: impossible_return(s)),
        ("8 nothing silent", "239 of 240 estimation returns exactly 0", lambda: stale_quote(s)),
        ("8 nothing silent", "day0 five sessions before the date", lambda: far_day0(s)),
        ("8 nothing silent", "time + timezone in a DST gap", lambda: dst_gap(s)),
        ("8 nothing silent", "study name ../../escaped", lambda: escaping_study_name(s)),
        ("8 nothing silent", "EVENTSTUDY_THREADS=1000", lambda: too_many_threads(s)),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Path(os.environ.get("EVENTSTUDY_SHARED_DIR", REPO.parent / "shared"))
    parser.add_argument("--shared", type=Path, default=default, help="the shared folder (holds data/prices)")
    parser.add_argument("--format", choices=("table", "csv"), default="table")
    parser.add_argument("--width", type=int, default=110, help="characters of each message shown in the table")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="eventstudy-faults-") as work:
        os.environ["EVENTSTUDY_CACHE_DIR"] = str(Path(work) / "default-cache")
        shared = Shared(args.shared.resolve(), Path(work))
        for klass, name, case in cases(shared):
            outcome = observe(case)
            rows.append(
                {"class": klass, "case": name, "handled": outcome.kind, "detail": " ".join(outcome.detail.split())}
            )
    table = pd.DataFrame(rows)
    if args.format == "csv":
        sys.stdout.write(table.to_csv(index=False, lineterminator="\n"))
    else:
        shown = table.assign(detail=table["detail"].str.slice(0, args.width))
        widths = {c: max(len(c), shown[c].str.len().max()) for c in shown.columns}
        print("  ".join(c.ljust(widths[c]) for c in shown.columns).rstrip())
        for row in shown.itertuples(index=False):
            print("  ".join(str(v).ljust(widths[c]) for c, v in zip(shown.columns, row)).rstrip())
        print()
        print("handled:", ", ".join(f"{k} {n}" for k, n in table["handled"].value_counts().items()))
    return 1 if table["handled"].isin(["SILENT", "WRONG"]).any() else 0


if __name__ == "__main__":
    sys.exit(main())
