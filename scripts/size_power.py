r"""Size and power of eventstudy's tests on real daily returns, in the manner of Brown & Warner (1985).

Pseudo-events are drawn from the returns of the 14 semiconductor stocks in the shared price folder (SPY is
the market), the market model is fitted over (-250, -11) and day 0 is tested (event window (0, 0)).  Three
designs, each with no abnormal return (size) and with +1% and +2% added on day 0 (power):

* spread-out dates with ``--firms`` firm-events per sample (50, as Brown & Warner);
* same-day (clustered) dates, with as many distinct firms as the data have on most dates (13 of 14);
* spread-out dates with that same number of firms, so that the clustered/spread-out comparison is not
  confounded by the sample size (left out when it equals the first design).

Only 14 stocks exist, so a spread-out sample of 50 firm-events repeats stocks on other dates, and a
same-day sample holds at most one firm-event per stock; ``size_power.md`` says how, with the numbers.

Outputs in ``--out``: ``size_power.csv`` (tidy rejection rates with their binomial standard errors),
``size_power.md`` (the 5% table and how to read it) and ``size_power.json`` (settings, versions, timing).
The prices are read at run time and never copied: the outputs hold rejection rates only.

Usage::

    python scripts/size_power.py                     # defaults: 1000 samples, 50 firms
    python scripts/size_power.py --samples 200 --out "$(mktemp -d)"

References
----------
Brown, S. J., & Warner, J. B. (1985). Using daily stock returns: The case of event studies. *Journal of
Financial Economics*, 14(1), 3-31.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

import eventstudy as es
from eventstudy.inference import TESTS, eligible_sessions

REPO = Path(__file__).resolve().parents[1]
SECURITIES = ("NVDA", "AMD", "AVGO", "INTC", "MU", "QCOM", "ASML", "AMAT", "LRCX", "KLAC", "MRVL", "ARM", "TSM", "SMCI")
MARKET = "SPY"
MODEL = "market"
ESTIMATION_WINDOW = (-250, -11)
EVENT_WINDOW = (0, 0)
ALPHAS = (0.01, 0.05, 0.10)
SINGLE_FIRM = "NVDA"  # the one-firm, one-day design: its single-firm tests alone
LEVEL = 0.05  # the level the Markdown table shows
ABNORMAL = (0.0, 0.01, 0.02)
CSV_COLUMNS = [
    "scenario", "clustered", "n_firms", "abnormal", "test", "scope", "alpha", "rejection_rate", "se", "n_valid",
    "mean_stat",
]  # fmt: skip
CSV_NAME, MD_NAME, JSON_NAME = "size_power.csv", "size_power.md", "size_power.json"


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    clustered: bool
    n_firms: int
    abnormal: float


# ------------------------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------------------------


def default_prices_dir() -> Path:
    return Path(os.environ.get("EVENTSTUDY_PRICES_DIR") or REPO.parent / "shared" / "data" / "prices")


def load_returns(prices_dir: Path) -> tuple[pd.DataFrame, dict]:
    """Simple returns of adjusted closes over the span where the market and most stocks have prices."""
    tickers = [*SECURITIES, MARKET]
    with warnings.catch_warnings():
        # every file covers less than the wide range asked for: expected, the span is chosen below
        warnings.simplefilter("ignore", es.DataQualityWarning)
        prices = es.CsvSource(prices_dir).get_prices(tickers, "1900-01-01", "2100-12-31")
    have = prices[list(SECURITIES)].notna().sum(axis=1)
    common = prices[MARKET].notna() & (have > len(SECURITIES) / 2)
    if not common.any():
        raise ValueError(f"No date in {prices_dir} has {MARKET} and most of {list(SECURITIES)}.")
    start, end = common.index[common][0], common.index[common][-1]
    prices = prices.loc[start:end]
    returns = es.returns(prices)
    coverage = {
        t: [f"{prices[t].first_valid_index():%Y-%m-%d}", f"{prices[t].last_valid_index():%Y-%m-%d}"] for t in tickers
    }
    info = {
        "folder": prices_dir.name,
        "field": "Adj Close",
        "returns": "simple, es.returns (NYSE sessions, gaps not bridged)",
        "prices_from": f"{start:%Y-%m-%d}",
        "prices_to": f"{end:%Y-%m-%d}",
        "first_return": f"{returns.index[0]:%Y-%m-%d}",
        "last_return": f"{returns.index[-1]:%Y-%m-%d}",
        "sessions": len(returns),
        "span_rule": f"dates on which {MARKET} and more than half of the {len(SECURITIES)} stocks have prices",
        "coverage_in_span": coverage,
        "market": MARKET,
        "securities": list(SECURITIES),
    }
    return returns, info


def residual_correlation(returns: pd.DataFrame) -> float:
    """Average pairwise correlation of the stocks' market-model residuals over the whole span."""
    market = returns[MARKET]
    residuals = {}
    for ticker in SECURITIES:
        pair = pd.concat([returns[ticker], market], axis=1).dropna()
        beta, alpha = np.polyfit(pair.iloc[:, 1], pair.iloc[:, 0], 1)
        residuals[ticker] = pair.iloc[:, 0] - alpha - beta * pair.iloc[:, 1]
    corr = pd.DataFrame(residuals).corr().to_numpy()
    return float(corr[np.triu_indices_from(corr, k=1)].mean())


# ------------------------------------------------------------------------------------------------------------
# the designs
# ------------------------------------------------------------------------------------------------------------


def same_day_firms(eligible: pd.DataFrame) -> int:
    """The largest N with N stocks eligible on at least half of the sessions on which any stock is.

    With all 14 only ARM's last 19 months qualify; with 13 day 0 can fall anywhere from 2022 on.
    """
    per_date = eligible.sum(axis=1)
    per_date = per_date[per_date > 0]
    for n in range(int(per_date.max()), 0, -1):
        if (per_date >= n).mean() >= 0.5:
            return n
    return 1  # pragma: no cover - unreachable: n = 1 covers every session counted


def build_scenarios(spread_firms: int, clustered_firms: int) -> list[Scenario]:
    designs = [(False, spread_firms), (False, clustered_firms), (True, clustered_firms)]
    designs = list(dict.fromkeys(designs))  # the control drops out when it equals the first design
    scenarios = []
    for abnormal in ABNORMAL:
        for clustered, n in designs:
            kind = "clustered" if clustered else "spread"
            amount = f"+{abnormal:.0%}" if abnormal else "0%"
            scenarios.append(
                Scenario(
                    key=f"{kind}{n}_{'null' if not abnormal else f'plus{abnormal * 100:g}pct'}",
                    label=f"{kind} N={n}, {amount}",
                    clustered=clustered,
                    n_firms=n,
                    abnormal=abnormal,
                )
            )
    return scenarios


# ------------------------------------------------------------------------------------------------------------
# simulation
# ------------------------------------------------------------------------------------------------------------


def run_scenarios(
    returns: pd.DataFrame, scenarios: Sequence[Scenario], samples: int, seed: int, *, progress: bool = True
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Every scenario through ``es.simulate``; one tidy row per scenario, test and alpha."""
    columns = [f"{a:.2f}" for a in ALPHAS]
    frames, seconds = [], {}
    bar = tqdm(scenarios, desc="size/power", unit="scenario", disable=not progress, file=sys.stderr)
    for sc in bar:
        bar.set_postfix_str(sc.key)
        started = time.perf_counter()
        # the same seed for every scenario: the designs' 0, +1% and +2% runs share their samples, so power
        # differences between levels are not sampling noise
        table = es.simulate(
            returns,
            market=MARKET,
            n_samples=samples,
            n_firms=sc.n_firms,
            abnormal=sc.abnormal,
            event_window=EVENT_WINDOW,
            clustered=sc.clustered,
            seed=seed,
            estimation_window=ESTIMATION_WINDOW,
            alphas=ALPHAS,
            model=MODEL,
        )
        seconds[sc.key] = round(time.perf_counter() - started, 3)
        if table.attrs["n_firms"] != sc.n_firms:
            raise RuntimeError(f"{sc.key}: es.simulate used {table.attrs['n_firms']} firms, not {sc.n_firms}.")
        long = table.reset_index().melt(
            id_vars=["test", "n_valid", "mean_stat", "scope"], value_vars=columns, var_name="alpha",
            value_name="rejection_rate",
        )  # fmt: skip
        long["alpha"] = long["alpha"].astype(float)
        long = long.assign(scenario=sc.key, clustered=sc.clustered, n_firms=sc.n_firms, abnormal=sc.abnormal)
        frames.append(long)
    tidy = pd.concat(frames, ignore_index=True)
    rate, n = tidy["rejection_rate"], tidy["n_valid"]
    with np.errstate(invalid="ignore", divide="ignore"):
        tidy["se"] = np.where(n > 0, np.sqrt(rate * (1 - rate) / n), np.nan)
    order = {name: i for i, name in enumerate(TESTS)}
    tidy = tidy.sort_values(
        ["scenario", "test", "alpha"],
        key=lambda s: s.map({sc.key: i for i, sc in enumerate(scenarios)}) if s.name == "scenario"
        else (s.map(order) if s.name == "test" else s),
    )  # fmt: skip
    return tidy[CSV_COLUMNS].reset_index(drop=True), seconds


def run_single_firm(returns: pd.DataFrame, samples: int, seed: int) -> dict:
    """Size of the single-firm tests for SINGLE_FIRM alone: ``samples`` random dates of that one stock."""
    single = [t for t in TESTS if TESTS[t].scope == "single"]
    table = es.simulate(
        returns[[SINGLE_FIRM, MARKET]],
        market=MARKET,
        n_samples=samples,
        n_firms=1,
        event_window=EVENT_WINDOW,
        tests=single,
        seed=seed,
        estimation_window=ESTIMATION_WINDOW,
        alphas=ALPHAS,
        model=MODEL,
    )
    columns = [f"{a:.2f}" for a in ALPHAS]
    return {
        "ticker": SINGLE_FIRM,
        "distinct_dates": table.attrs["distinct_dates"],
        "rates": {t: {c: float(table.loc[t, c]) for c in columns} for t in single},
        "n_valid": {t: int(table.loc[t, "n_valid"]) for t in single},
    }


# ------------------------------------------------------------------------------------------------------------
# outputs
# ------------------------------------------------------------------------------------------------------------


def nominal_se(alpha: float, n: int) -> float:
    return math.sqrt(alpha * (1 - alpha) / n) if n else math.nan


def effective_n(row: pd.Series, samples: int) -> int:
    """Results counted as independent when judging a size: per-firm-event results of one date move together,
    so in same-day samples they count once per sample (conservative)."""
    if row["clustered"] and row["scope"] == "single":
        return min(int(row["n_valid"]), samples)
    return int(row["n_valid"])


def off_nominal(row: pd.Series, alpha: float, samples: int) -> str:
    """ "over", "under" or "within" alpha +- 2 binomial standard errors."""
    band = 2 * nominal_se(alpha, effective_n(row, samples))
    value = row["rejection_rate"]
    return "over" if value > alpha + band else "under" if value < alpha - band else "within"


def cell(row: pd.Series, samples: int, null: bool) -> str:
    """A 5% rate to three decimals; bold when a size is more than 2 SE off, † when not one result per sample."""
    if row["n_valid"] == 0 or not np.isfinite(row["rejection_rate"]):
        return "n/a"
    text = f"{row['rejection_rate']:.3f}"
    if null and off_nominal(row, LEVEL, samples) != "within":
        text = f"**{text}**"
    return text + ("†" if row["n_valid"] != samples else "")


def rate(tidy: pd.DataFrame, scenario: str, test: str, alpha: float = LEVEL) -> pd.Series:
    hit = tidy[(tidy["scenario"] == scenario) & (tidy["test"] == test) & np.isclose(tidy["alpha"], alpha)]
    return hit.iloc[0]


def classify(
    tidy: pd.DataFrame, scenario: str, samples: int, alpha: float = LEVEL, tests: Sequence[str] = tuple(TESTS)
) -> dict[str, list[tuple[str, float]]]:
    """Tests whose size is above, within or below alpha +- 2 binomial SE in one null scenario."""
    out: dict[str, list[tuple[str, float]]] = {"over": [], "within": [], "under": []}
    for test in tests:
        row = rate(tidy, scenario, test, alpha)
        if row["n_valid"] == 0:
            continue
        out[off_nominal(row, alpha, samples)].append((test, float(row["rejection_rate"])))
    return out


def listing(items: Sequence[tuple[str, float]], contrast: dict[str, float] | None = None) -> str:
    if not items:
        return "none"
    parts = []
    for test, value in items:
        extra = ""
        if contrast is not None and test in contrast:
            extra = f" vs {contrast[test]:.3f}" if np.isfinite(contrast[test]) else " vs n/a"
        parts.append(f"`{test}` {value:.3f}{extra}")
    return ", ".join(parts)


def same_day_text(design: dict, firms: int) -> str:
    """Why the same-day samples have the N they have."""
    n, late = design["firms_clustered"], design["latest_start"]
    text = (
        f"All {design['securities_eligible']} stocks have full windows on one date on "
        f"{design['sessions_with_all']:,} sessions, from {design['first_session_with_all']} ({late[0]} has prices "
        f"only from {late[1]})"
    )
    if n < design["securities_eligible"]:
        text += f"; {n} do on {design['clustered_sessions']:,} sessions from {design['first_clustered_session']}"
    cap = design["firms_clustered_cap"]
    if design["firms_clustered_rule"].startswith("--clustered-firms"):
        return text + f". N={n} was set with `--clustered-firms`."
    if n < cap:
        return text + f". N is `--firms` ({firms}), below the cap of {cap} the data allow."
    return text + (
        f". N={cap} is the largest N available on at least half of the eligible sessions, so that day 0 covers "
        f"the span rather than its last months (`--clustered-firms` overrides it; `--firms` {firms} was asked for)."
    )


def markdown(tidy: pd.DataFrame, scenarios: Sequence[Scenario], settings: dict) -> str:
    d, design = settings["data"], settings["design"]
    samples = settings["samples"]
    find = lambda clustered, n, abnormal: next(  # noqa: E731
        sc for sc in scenarios if sc.clustered == clustered and sc.n_firms == n and sc.abnormal == abnormal
    )
    spread = find(False, design["firms_spread"], 0.0)
    matched = find(False, design["firms_clustered"], 0.0)
    clustered = find(True, design["firms_clustered"], 0.0)
    se5 = nominal_se(LEVEL, samples)
    window_days = design["event_window"][1] - design["event_window"][0] + 1
    joint_f = (
        "Hotelling's T^2 F, exact for this one-day window if returns are multivariate normal (for longer "
        'windows the default `form="mckeon"` uses McKeon\'s 1974 F approximation instead)'
        if window_days == 1
        else "McKeon's (1974) F approximation to the Lawley-Hotelling trace, an approximation even if returns "
        "are multivariate normal"
    )

    lines = [
        "# Size and power of the event-study tests on real semiconductor returns",
        "",
        f"Brown & Warner (1985) style simulation with `es.simulate` on the daily returns of {len(d['securities'])} "
        f"stocks ({', '.join(d['securities'])}) from the shared `{d['folder']}/` folder, {d['market']} as the "
        f"market: simple returns of adjusted closes, {d['first_return']} to {d['last_return']} "
        f"({d['sessions']:,} sessions). Market model over the estimation window {tuple(design['estimation_window'])}, "
        f"day 0 tested (event window {tuple(design['event_window'])}), two-sided tests. {samples:,} samples per "
        f"scenario, seed {settings['seed']}. Written by `scripts/size_power.py`; every number below is read from "
        f"`{CSV_NAME}` (all three levels, with standard errors); settings and timing are in `{JSON_NAME}`.",
        "",
        f"## Rejection rates at the {LEVEL:.0%} level",
        "",
    ]
    header = ["test", "scope", *[sc.label for sc in scenarios]]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join([":--", ":--", *["--:"] * len(scenarios)]) + "|")
    for test in TESTS:
        cells = [f"`{test}`", TESTS[test].scope]
        cells += [cell(rate(tidy, sc.key, test), samples, sc.abnormal == 0) for sc in scenarios]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Columns: the design (spread-out or same-day dates, N firm-events per sample) and the abnormal return "
        f"added on day 0. **Bold**: a size (0% column) more than 2 binomial standard errors from {LEVEL:.0%} "
        f"(per-firm-event results of a same-day sample count once per sample there, since they move together). "
        f"†: the rate is over `n_valid` results other than one per sample (see the CSV): one per firm-event for "
        f"the single-firm tests, one per same-day cluster for `mvrm_*`, and for `kp_*` with spread-out dates only "
        f"the samples in which two firm-events happen to share a date. n/a: the test never ran.",
        "",
        "## How to read it",
        "",
        f"- **Size** is the rejection rate when nothing was added: the chance of a false positive. A "
        f"well-specified test rejects at its nominal level, here {LEVEL:.0%}.",
        "- **Power** is the rejection rate when +1% or +2% was added to every firm-event's day-0 return: the "
        "chance of detecting it. Compare power only among tests whose size is right; a test that over-rejects "
        "under the null looks powerful for free.",
        f"- **Monte Carlo error.** A rate p over n independent samples has the binomial standard error "
        f"sqrt(p(1-p)/n); at p = {LEVEL:.0%} and n = {samples:,} it is {se5:.4f}, so a correctly sized test lands "
        f"in [{max(LEVEL - 2 * se5, 0.0):.3f}, {LEVEL + 2 * se5:.3f}] about 95% of the time. The CSV gives the SE "
        f"of every rate. It understates the error where results are not independent: the † rates of the "
        f"single-firm tests in same-day samples (firm-events on one date move together), and every same-day "
        f"scenario, whose "
        f"{samples:,} samples fall on {design['clustered_distinct_dates']:,} distinct dates of "
        f"the {design['clustered_sessions']:,} eligible and share most of their firms.",
        "",
        f"## Only {len(d['securities'])} stocks: how the samples are built",
        "",
    ]
    if design["firms_spread"] > design["securities_eligible"]:
        lines.append(
            f"- **Spread-out, N={design['firms_spread']}** (Brown & Warner's 50 when `--firms` is left alone): "
            f"there are {design['securities_eligible']} stocks, so a sample takes every stock once and "
            f"{design['firms_spread'] - design['securities_eligible']} more with replacement, each firm-event on "
            f"its own random date: {design['firms_spread']} firm-events, not {design['firms_spread']} firms. "
            f"`es.simulate` redraws a repeated stock's date when it would coincide with an earlier draw of the "
            f"same stock, so no sample holds one firm-event twice. Dates of different stocks do coincide by "
            f"chance, which is what `kp_*` and `mvrm_*` run on in spread-out samples."
        )
    else:
        lines.append(
            f"- **Spread-out, N={design['firms_spread']}**: distinct stocks within a sample, each on its own "
            "random date."
        )
    lines.append(
        f"- **Same-day, N={design['firms_clustered']}**: one date per sample, at most one firm-event per stock. "
        + same_day_text(design, settings["firms_requested"])
    )
    if matched.key != spread.key:
        lines.append(
            f"- **Spread-out, N={matched.n_firms}**: a control with the same N as the same-day samples, so that "
            "comparing the two designs isolates the effect of shared dates from that of the sample size."
        )
    lines.append(
        f"- Every scenario uses seed {settings['seed']}: the 0, +1% and +2% runs of one design test the same "
        "samples, so differences between them are not sampling noise."
    )

    by_test = lambda sc: {t: float(rate(tidy, sc.key, t)["rejection_rate"]) for t in TESTS}  # noqa: E731
    pooled = [t for t in TESTS if TESTS[t].scope != "single"]
    single = [t for t in TESTS if TESTS[t].scope == "single"]
    c_class = classify(tidy, clustered.key, samples, tests=pooled)
    s_class, m_class = classify(tidy, spread.key, samples), classify(tidy, matched.key, samples)
    matched_rates, clustered_rates = by_test(matched), by_test(clustered)
    lines += [
        "",
        "## Same-day dates: which tests over-reject, and why",
        "",
        f"Size at {LEVEL:.0%}, same-day N={clustered.n_firms} (vs spread-out N={matched.n_firms}), classified against "
        f"{LEVEL:.0%} +- 2 binomial SE:",
        "",
        f"- over-reject: {listing(c_class['over'], matched_rates)}",
        f"- within 2 SE: {listing(c_class['within'], matched_rates)}",
        f"- under-reject: {listing(c_class['under'], matched_rates)}",
        "",
        f"The per-firm-event tests test each firm-event alone, so shared dates do not change their size: "
        f"{listing([(t, clustered_rates[t]) for t in single], matched_rates)}.",
        "",
        f"Why: the market-model residuals of these stocks are correlated (average pairwise correlation "
        f"{design['residual_correlation']:.2f} over the span): chip stocks share an industry factor that SPY does "
        f"not remove. On a shared date the variance of the average abnormal return is "
        f"sigma^2 (1 + (N-1) rho) / N, {design['variance_inflation']:.1f} times its value for N={clustered.n_firms} "
        f"independent firm-events. Tests whose variance or null distribution assumes independent firm-events "
        f"(`csect_t`, `patell`, `bmp`, `generalized_sign`, `sign`, `wilcoxon`) then reject too often. Tests that "
        f"measure the dependence absorb it: `brown_warner` and `mvrm_average` take the variance of the "
        f"equally weighted portfolio's residual, `kp_bmp` and `kp_patell` scale by the estimated average "
        f"correlation (Kolari & Pynnonen 2010), and `rank` takes the time-series variance of the daily mean rank. "
        f"`rank` errs the other way when the firms move together: the day-0 mean rank then behaves like a single "
        f"stock's rank, which is bounded (|Z| <= sqrt(3) with perfect correlation), so its tails are too thin. "
        f"`mvrm_joint` tests all N abnormal returns jointly with {joint_f}; fat-tailed daily returns inflate "
        f"it, in spread-out samples' coincidental pairs too. `pseudo_event*` (Hein & Westfall 2004) take the "
        f"null from the same firms' estimation-window days moved to day 0 together, so the null carries the "
        f"correlation and the fat tails. `grank_*` (Kolari & Pynnonen 2011) rank a restandardized cumulative "
        f"SCAR against estimation-day SARs; the restandardization by the cross-sectional SD is divided by "
        f"sqrt(1 - rbar) here, and the day-0 mean rank is still bounded, so its tails are thin at 1% and fat at "
        f"10% (see the CSV). `skew_t` and `boot_skew_t` (Lyon, Barber & Tsai 1999) assume independent "
        f"firm-events. `im_t` (Ibragimov & Muller 2010) compares the mean CARs of different dates and does not "
        f"run on one date (n/a).",
        "",
        "## Spread-out dates, and the other levels",
        "",
        "Sizes more than 2 binomial SE from the nominal level:",
        "",
        f"- {LEVEL:.0%} level, spread-out N={spread.n_firms}: over "
        f"{listing(s_class['over'])}; under {listing(s_class['under'])}.",
    ]
    if matched.key != spread.key:
        lines.append(
            f"- {LEVEL:.0%} level, spread-out N={matched.n_firms}: over {listing(m_class['over'])}; "
            f"under {listing(m_class['under'])}."
        )
    for alpha in (a for a in ALPHAS if a != LEVEL):
        other = classify(tidy, spread.key, samples, alpha)
        lines.append(
            f"- {alpha:.0%} level, spread-out N={spread.n_firms}: over {listing(other['over'])}; "
            f"under {listing(other['under'])}."
        )
    one = settings.get("single_firm")
    if one:
        se1 = nominal_se(0.01, samples)
        rates = "; ".join(
            f"`{t}` " + ", ".join(f"{float(c):.0%}: {r[c]:.3f}" for c in r) for t, r in one["rates"].items()
        )
        lines += [
            "",
            f"## One firm alone: {one['ticker']}",
            "",
            f"{samples:,} random day-0 dates of {one['ticker']} alone ({one['distinct_dates']} distinct; the "
            f"same model and windows), size of the single-firm tests at 1%, 5% and 10%: {rates}. Binomial SE at "
            f"1%: {se1:.4f}. `sq` and `permutation` rank the day-0 abnormal return among the 240 estimation-day "
            "residuals, so their smallest p-value is 2/241 (`sq`) or 1/241 (`permutation`) and they hold a 1% "
            "level whatever the tails; `ar_t` refers it to a t distribution, which fat tails break at 1%.",
        ]
    lines += ["", "## Power at +1%", ""]
    for null in dict.fromkeys([spread, matched, clustered]):
        # pooled tests only (one result per sample) whose size is right in this design: their power is comparable
        sized = classify(tidy, null.key, samples, tests=pooled)["within"]
        well = [t for t, _ in sized if rate(tidy, null.key, t)["n_valid"] == samples]
        kind = "same-day" if null.clustered else "spread-out"
        if not well:
            lines.append(f"- {kind}, N={null.n_firms}: no pooled test is sized within 2 SE.")
            continue
        plus1 = find(null.clustered, null.n_firms, 0.01)
        power = sorted(((t, float(rate(tidy, plus1.key, t)["rejection_rate"])) for t in well), key=lambda tv: -tv[1])
        lines.append(f"- {kind}, N={null.n_firms}, tests sized within 2 SE: {listing(power)}.")
    lines += [
        "",
        "Shared dates cost power as well as size: with correlated firm-events the average abnormal return is far "
        "noisier than with independent ones, and the tests that keep their size under clustering pay for it here.",
    ]
    return "\n".join(lines) + "\n"


def versions() -> dict[str, str | bool | None]:
    out: dict[str, str | bool | None] = {"python": platform.python_version()}
    for name in ("numpy", "pandas", "scipy", "tqdm"):
        out[name] = metadata.version(name)
    out["eventstudy"] = es.__version__

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout

    try:
        out["git_commit"] = git("rev-parse", "HEAD").strip()
        out["eventstudy_modified_since_commit"] = bool(git("status", "--porcelain", "--", "eventstudy").strip())
    except (OSError, subprocess.CalledProcessError):
        out["git_commit"] = None
    return out


# ------------------------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Size and power of eventstudy's tests on the real returns of the shared price folder "
        "(Brown & Warner 1985 style).",
    )
    parser.add_argument(
        "--prices-dir", type=Path, default=None,
        help="folder of <TICKER>.csv files (default: $EVENTSTUDY_PRICES_DIR, else <repo>/../shared/data/prices)",
    )  # fmt: skip
    parser.add_argument("--samples", type=int, default=1000, help="samples per scenario (default 1000)")
    parser.add_argument(
        "--firms", type=int, default=50,
        help="firm-events per spread-out sample (default 50; stocks repeat on other dates beyond the 14 there "
        "are); same-day samples are capped at the stocks with data on one date",
    )  # fmt: skip
    parser.add_argument(
        "--clustered-firms", type=int, default=None,
        help="firms per same-day sample (default: the largest N available on at least half of the sessions)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of every scenario (default 0)")
    parser.add_argument(
        "--out", type=Path, default=REPO / "results" / "size-power", help="output folder (default results/size-power)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("samples", "firms", "clustered_firms"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer, got {value}")
    prices_dir = (args.prices_dir or default_prices_dir()).expanduser().resolve()

    try:
        returns, data = load_returns(prices_dir)
    except (es.DataSourceError, ValueError) as exc:
        print(f"size_power: cannot read the prices in {prices_dir}: {exc}", file=sys.stderr)
        return 1
    loaded = time.perf_counter()
    # (sessions x stocks): the pseudo-event dates es.simulate draws from, to size the designs
    eligible = eligible_sessions(returns, MARKET, ESTIMATION_WINDOW, EVENT_WINDOW, model=MODEL)
    per_date = eligible.sum(axis=1)
    securities = int((eligible.sum(axis=0) > 0).sum())
    cap = same_day_firms(eligible)
    if args.clustered_firms is None:
        clustered_firms = min(cap, args.firms)
    else:
        clustered_firms = min(args.clustered_firms, int(per_date.max()))
    on_dates = per_date >= clustered_firms
    all_dates = per_date >= per_date.max()
    rho = residual_correlation(returns)
    sessions = int(on_dates.sum())
    design = {
        "model": MODEL,
        "estimation_window": list(ESTIMATION_WINDOW),
        "event_window": list(EVENT_WINDOW),
        "alphas": list(ALPHAS),
        "abnormal": list(ABNORMAL),
        "securities_eligible": securities,
        "eligible_sessions_per_security": {t: int(v) for t, v in eligible.sum(axis=0).items()},
        "firms_spread": args.firms,
        "firms_clustered": clustered_firms,
        "firms_clustered_cap": cap,
        "firms_clustered_rule": "min(--firms, cap); cap: the largest N with N stocks eligible on >= half of the "
        "sessions on which any stock is"
        if args.clustered_firms is None
        else "--clustered-firms (capped by the stocks eligible on one date)",
        "latest_start": max(((t, data["coverage_in_span"][t][0]) for t in SECURITIES), key=lambda tc: tc[1]),
        "sessions_with_all": int(all_dates.sum()),
        "first_session_with_all": f"{per_date.index[all_dates][0]:%Y-%m-%d}",
        "clustered_sessions": sessions,
        "first_clustered_session": f"{per_date.index[on_dates][0]:%Y-%m-%d}",
        # es.simulate draws same-day dates without replacement while there are enough of them
        "clustered_distinct_dates": min(args.samples, sessions),
        "residual_correlation": rho,
        "variance_inflation": 1 + (clustered_firms - 1) * rho,
    }
    scenarios = build_scenarios(args.firms, clustered_firms)
    tidy, seconds = run_scenarios(returns, scenarios, args.samples, args.seed, progress=not args.quiet)
    started_single = time.perf_counter()
    single_firm = run_single_firm(returns, args.samples, args.seed)
    seconds["single_firm"] = round(time.perf_counter() - started_single, 3)
    finished = time.perf_counter()

    settings = {
        "script": "scripts/size_power.py",
        "command": ["scripts/size_power.py", *(argv if argv is not None else sys.argv[1:])],
        "data": data,
        "samples": args.samples,
        "firms_requested": args.firms,
        "seed": args.seed,
        "design": design,
        "scenarios": [asdict(sc) for sc in scenarios],
        "single_firm": single_firm,
        "tests": list(TESTS),
        "versions": versions(),
        "seconds": {
            "load": round(loaded - started, 3),
            "simulate": round(sum(seconds.values()), 3),
            "per_scenario": seconds,
            "total": round(time.perf_counter() - started, 3),
        },
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    out = args.out.expanduser()
    out.mkdir(parents=True, exist_ok=True)
    tidy.to_csv(out / CSV_NAME, index=False, float_format="%.6g")
    (out / MD_NAME).write_text(markdown(tidy, scenarios, settings), encoding="utf-8")
    settings["seconds"]["total"] = round(time.perf_counter() - started, 3)
    (out / JSON_NAME).write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    print(
        f"{len(scenarios)} scenarios x {args.samples} samples in {finished - loaded:.1f} s "
        f"(total {settings['seconds']['total']:.1f} s); wrote {CSV_NAME}, {MD_NAME}, {JSON_NAME} to {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
