r"""Size and power of the GARCH-standardized tests (Savickas 2003) beside the OLS ones, on real daily returns.

Pseudo-events are (stock, session) pairs drawn at random from the 14 semiconductor stocks of the shared
price folder (SPY is the market), each pair used once, every pair with returns on all 251 sessions of the
estimation window (-250, -11) through day 0.  Each sample holds ``--firms`` firm-events on spread-out dates.
Both the OLS market model and the GARCH(1,1) market model are fitted on the same pairs; day 0 is tested
with ``patell``, ``bmp`` and ``csect_t`` from :mod:`eventstudy.inference`, with no abnormal return (size)
and with +1% added to day 0 (power).

The abnormal return is added to the fitted record's day-0 abnormal returns, not to the price data, so no
other pair's estimation window changes; this script does not use :func:`eventstudy.simulate`, whose engine
fits OLS models only.

Outputs in ``--out`` (default ``results/size-power-garch``): ``garch_size.csv`` (rejection rates with
binomial standard errors), ``garch_size.md`` (the 5% table, written from the numbers) and
``garch_size.json`` (settings, versions, timing).  Prices are read at run time, never copied.

Usage::

    python scripts/garch_size.py                      # 200 samples of 20
    python scripts/garch_size.py --samples 50 --out "$(mktemp -d)"
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from dataclasses import replace
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

import eventstudy as es
from eventstudy.inference import bmp, csect_t, patell

REPO = Path(__file__).resolve().parents[1]
SECURITIES = ("NVDA", "AMD", "AVGO", "INTC", "MU", "QCOM", "ASML", "AMAT", "LRCX", "KLAC", "MRVL", "ARM", "TSM", "SMCI")
MARKET = "SPY"
ESTIMATION_WINDOW = (-250, -11)
TESTS = {"patell": patell, "bmp": bmp, "csect_t": csect_t}
ALPHAS = (0.01, 0.05, 0.10)
ABNORMAL = (0.0, 0.01)


def load_returns(prices_dir: Path) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DataQualityWarning)
        prices = es.CsvSource(prices_dir).get_prices([*SECURITIES, MARKET], "1900-01-01", "2100-12-31", missing="skip")
    return es.returns(prices)


def draw_pairs(returns: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` distinct (ticker, session) pairs whose returns and the market's cover (-250, 0) without a gap."""
    span = -ESTIMATION_WINDOW[0] + 1
    market = returns[MARKET].notna().to_numpy()
    candidates = []
    for ticker in SECURITIES:
        if ticker not in returns.columns:
            continue
        ok = (returns[ticker].notna().to_numpy() & market).astype(int)
        full = np.convolve(ok, np.ones(span, dtype=int), mode="full")[: len(ok)] == span
        candidates += [(ticker, returns.index[i]) for i in np.flatnonzero(full)]
    picked = rng.choice(len(candidates), size=n, replace=False)
    pairs = pd.DataFrame([candidates[i] for i in picked], columns=["ticker", "date"])
    pairs["session"] = "pre"
    pairs["event_id"] = [f"pseudo-{i}" for i in range(n)]
    return pairs


def injected(fit, abnormal: float):
    """The fit with ``abnormal`` added to every firm-event's day-0 abnormal return (cached arrays seeded)."""
    if abnormal == 0:
        return fit
    ar_event = np.array(fit.ar_event)
    ar_event[:, list(fit.event_days).index(0)] += abnormal
    ar = np.array(fit.ar)
    ar[:, list(fit.event_time).index(0)] += abnormal
    for array in (ar_event, ar):
        array.flags.writeable = False
    return replace(fit, _cache={"ar_event": ar_event, "ar": ar})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--firms", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--prices",
        type=Path,
        default=Path(os.environ.get("EVENTSTUDY_PRICES_DIR") or REPO.parent / "shared" / "data" / "prices"),
    )
    parser.add_argument("--out", type=Path, default=REPO / "results" / "size-power-garch")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no table printed")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    returns = load_returns(args.prices)
    rng = np.random.default_rng(args.seed)
    pairs = draw_pairs(returns, args.samples * args.firms, rng)
    common = dict(returns=returns, market=MARKET, estimation_window=ESTIMATION_WINDOW, event_window=(0, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DroppedFirmEventsWarning)
        fits = {
            "OLS": es.EventStudy(pairs, model="market", **common).fit(),
            "GARCH": es.EventStudy(
                pairs, model=es.Garch(workers=args.workers, progress=not args.quiet), **common
            ).fit(),
        }
    # both models on the same pairs: those the GARCH fit kept
    kept = set(fits["GARCH"].firm_events["event_id"])
    rows = []
    for label, res in fits.items():
        fe = res.firm_events
        keep = fe["event_id"].isin(kept).to_numpy()
        fit = res.fit.take(keep)
        sample = np.array([int(e.split("-")[1]) // args.firms for e in fe.loc[keep, "event_id"]])
        samples = [fit.take(sample == s) for s in np.unique(sample)]
        for abnormal in ABNORMAL:
            shifted = [injected(sub, abnormal) for sub in samples]  # after take(), which clears the cache
            for name, test in TESTS.items():
                p = np.array([test(sub, (0, 0)).pvalue for sub in shifted])
                p = p[np.isfinite(p)]
                for alpha in ALPHAS:
                    r = float(np.mean(p < alpha))
                    se = float(np.sqrt(alpha * (1 - alpha) / len(p)))
                    rows.append((label, name, abnormal, alpha, r, se, len(p)))
    tidy = pd.DataFrame(rows, columns=["model", "test", "abnormal", "alpha", "rejection_rate", "se", "n_samples"])
    args.out.mkdir(parents=True, exist_ok=True)
    tidy.to_csv(args.out / "garch_size.csv", index=False, float_format="%.4f")
    dropped = len(pairs) - len(kept)
    seconds = time.perf_counter() - started
    (args.out / "garch_size.md").write_text(markdown(tidy, args, len(kept), dropped, seconds))
    settings = {
        "samples": args.samples,
        "firms": args.firms,
        "seed": args.seed,
        "estimation_window": list(ESTIMATION_WINDOW),
        "securities": list(SECURITIES),
        "market": MARKET,
        "prices": args.prices.name,
        "pairs_drawn": len(pairs),
        "pairs_kept": len(kept),
        "seconds": round(seconds, 1),
        "versions": {p: metadata.version(p) for p in ("numpy", "pandas", "arch", "scipy")},
    }
    (args.out / "garch_size.json").write_text(json.dumps(settings, indent=2) + "\n")
    if not args.quiet:
        print((args.out / "garch_size.md").read_text())
    return 0


def markdown(tidy: pd.DataFrame, args, kept: int, dropped: int, seconds: float) -> str:
    at = tidy[tidy["alpha"] == 0.05]
    table = at.pivot_table(index="test", columns=["abnormal", "model"], values="rejection_rate")
    table = table[sorted(table.columns, key=lambda c: (c[0], c[1] != "OLS"))]
    table.columns = [f"{'size' if a == 0 else f'power +{a:.0%}'}, {m}" for a, m in table.columns]
    se = float(at["se"].iloc[0]) if len(at) else float("nan")
    size = at[at["abnormal"] == 0].set_index(["test", "model"])["rejection_rate"]
    lines = [
        "# Size and power of GARCH-standardized tests (Savickas 2003) beside OLS",
        "",
        f"{args.samples} samples of {args.firms} pseudo-events (distinct stock-session pairs, spread-out dates) "
        f"from {len(SECURITIES)} semiconductor stocks, market {MARKET}, estimation window {ESTIMATION_WINDOW}, "
        f"day 0 tested. {kept} pairs were fitted by both models ({dropped} GARCH fits dropped and left out of "
        f"both). Rejection rates at 5%; a well-sized test is within about 2 x {se:.3f} of 0.05. "
        f"Seed {args.seed}, {seconds:.0f} s.",
        "",
        table.to_markdown(floatfmt=".3f"),
        "",
    ]
    for test in TESTS:
        if (test, "OLS") in size.index and (test, "GARCH") in size.index:
            lines.append(
                f"- {test}: size {size[(test, 'OLS')]:.3f} with OLS variances and {size[(test, 'GARCH')]:.3f} "
                "with GARCH forecast variances."
            )
    lines += [
        "",
        "GARCH: the market model with GARCH(1,1) errors via `arch`. Day 0 is standardized by the variance forecast "
        "made at the last estimation day, 11 steps ahead, and the CAR variance is that forecast. Produced by "
        "`scripts/garch_size.py`.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
