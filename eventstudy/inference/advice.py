"""Which tests suit a study: how its firm-events spread over calendar time, and the tests that fit it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eventstudy.estimation.fit import StackedFit
from eventstudy.inference.base import MIN_FIRM_EVENTS, SMALL_SAMPLE

__all__ = ["Design", "design", "recommend", "size_scenario", "CLUSTERED_SHARE", "MEASURED_SIZE"]

#: a design is "clustered" when at least this share of firm-events shares its event window with another
CLUSTERED_SHARE = 0.5

#: The tests whose rejection rate with no effect added lies within 2 binomial standard errors of the nominal 5%
#: in the simulation of each design kind, with that rate: ``results/size-power/size_power.csv`` (written by
#: ``scripts/size_power.py`` on the daily returns of 14 semiconductor stocks), scenarios ``spread50_null``
#: (50 firm-events on their own dates), ``spread13_null`` (13 on their own dates) and ``clustered13_null`` (13 on
#: one date); per-firm-event results of a same-day sample count once per sample, as in the script.
#: :func:`recommend` calls a test suited only where the design's scenario lists it; ``tests/inference/
#: test_advice_size.py`` recomputes this table from the CSV, so a new simulation that moves a test out of the
#: band fails until the table (and so the advice) follows it.
MEASURED_SIZE: dict[str, dict[str, float]] = {
    "spread50_null": {
        "csect_t": 0.057,
        "bmp": 0.058,
        "kp_bmp": 0.058,
        "generalized_sign": 0.059,
        "sign": 0.043,
        "wilcoxon": 0.054,
        "mvrm_average": 0.056,
        "pseudo_event": 0.058,
        "pseudo_event_t": 0.060,
        "im_t": 0.053,
    },
    "spread13_null": {
        "ar_t": 0.052,
        "car_t": 0.052,
        "csect_t": 0.047,
        "patell": 0.063,
        "bmp": 0.048,
        "kp_patell": 0.027,
        "kp_bmp": 0.014,
        "rank": 0.052,
        "generalized_sign": 0.052,
        "wilcoxon": 0.048,
        "mvrm_joint": 0.040,
        "mvrm_average": 0.067,
        "pseudo_event": 0.053,
        "pseudo_event_t": 0.059,
        "pseudo_event_mean": 0.061,
        "boot_skew_t": 0.052,
        "im_t": 0.045,
    },
    "clustered13_null": {
        "ar_t": 0.055,
        "car_t": 0.055,
        "brown_warner": 0.059,
        "kp_patell": 0.061,
        "kp_bmp": 0.054,
        "permutation": 0.058,
        "grank_t": 0.061,
        "grank_z": 0.061,
        "mvrm_average": 0.057,
        "pseudo_event": 0.051,
        "pseudo_event_t": 0.048,
        "pseudo_event_mean": 0.060,
        "sq": 0.057,
    },
}


@dataclass(frozen=True)
class Design:
    """How the firm-events of a fit are spread over calendar time.

    Attributes
    ----------
    n_firm_events : int
    n_dates : int
        Distinct event dates (day 0 sessions).
    n_securities : int
    share_same_day : float
        Share of firm-events whose day 0 is also another firm-event's day 0.
    share_clustered : float
        Share of firm-events whose event window shares a calendar day with another firm-event's event window
        (same-day events and events closer than the window length).
    largest_cluster : int
        Most firm-events on one date.
    min_estimation_days : int
        Fewest estimation-window observations of any firm-event.
    """

    n_firm_events: int
    n_dates: int
    n_securities: int
    share_same_day: float
    share_clustered: float
    largest_cluster: int
    min_estimation_days: int

    @property
    def clustered(self) -> bool:
        return self.share_clustered >= CLUSTERED_SHARE

    def __str__(self) -> str:
        return (
            f"{self.n_firm_events} firm-events of {self.n_securities} securities on {self.n_dates} dates; "
            f"{self.share_same_day:.0%} share day 0 with another, {self.share_clustered:.0%} have overlapping "
            f"event windows; largest cluster {self.largest_cluster}; fewest estimation days "
            f"{self.min_estimation_days}"
        )


def design(fit: StackedFit) -> Design:
    """Describe how the firm-events of ``fit`` cluster in calendar time (see :class:`Design`)."""
    day0 = np.asarray(fit.day0)
    n = len(day0)
    if n == 0:
        return Design(0, 0, 0, 0.0, 0.0, 0, 0)
    dates, inverse, counts = np.unique(day0, return_inverse=True, return_counts=True)
    same_day = counts[inverse] > 1
    width = fit.event_window[1] - fit.event_window[0] + 1
    # a firm-event's window overlaps another's when the next or previous distinct date is closer than the width
    gap_next = np.append(np.diff(dates), np.iinfo(np.int64).max)
    gap_prev = np.insert(np.diff(dates), 0, np.iinfo(np.int64).max)
    near = (np.minimum(gap_next, gap_prev) < width)[inverse]
    return Design(
        n_firm_events=n,
        n_dates=len(dates),
        n_securities=len(np.unique(fit.firm)),
        share_same_day=float(same_day.mean()),
        share_clustered=float((same_day | near).mean()),
        largest_cluster=int(counts.max()),
        min_estimation_days=int(np.min(fit.n_obs)),
    )


def size_scenario(d: Design) -> str:
    """The simulated design of :data:`MEASURED_SIZE` that ``d`` resembles: same-day (``clustered13_null``),
    fewer than :data:`SMALL_SAMPLE` firm-events on their own dates (``spread13_null``), or more
    (``spread50_null``)."""
    if d.clustered:
        return "clustered13_null"
    return "spread13_null" if d.n_firm_events < SMALL_SAMPLE else "spread50_null"


def recommend(fit: StackedFit) -> list[tuple[str, str]]:
    r"""Tests suited to the design of ``fit``, each with the reason and its measured size.

    A test is called suited only where the simulation of the design's kind (:func:`size_scenario`,
    :data:`MEASURED_SIZE`, from ``results/size-power``) measured its rejection rate with no effect within 2
    binomial standard errors of 5%; the candidates below are filtered by that table, so ``sign``, ``wilcoxon``,
    ``rank``, ``csect_t``, ``patell``, ``bmp`` and ``mvrm_joint`` are never suited to same-day designs (they
    reject 3% to 49% of the time there with no effect). Candidates, before the filter (thresholds are module
    constants):

    * one firm-event: ``car_t``, ``permutation`` and the equal-tailed ``sq``;
    * fewer than :data:`MIN_FIRM_EVENTS` firm-events: the same per firm-event, because cross-sectional
      tests do not run (their variance comes from the cross-section);
    * clustered (at least :data:`CLUSTERED_SHARE` of firm-events share calendar days of their event
      windows with another): ``kp_bmp``, ``kp_patell``, ``brown_warner``, ``pseudo_event`` and ``grank_t``,
      which absorb the cross-correlation that makes ``csect_t``, ``patell`` and ``bmp`` over-reject; with
      same-day firm-events also ``mvrm_average`` (the equally weighted portfolio's t, exact whatever the
      cluster size) and ``mvrm_joint`` when the largest same-day cluster :math:`N` satisfies
      :math:`N < \nu - 3`, :math:`\nu = T - K` from the fewest estimation days, so that McKeon's F runs for
      every window (Hotelling's F for one-day windows needs only :math:`N\le\nu`);
    * spread-out dates: ``bmp``, ``patell``, ``rank``, ``generalized_sign``, ``csect_t``;
    * several event dates with same-day firm-events: also ``im_t``, for the average effect across dates;
    * fewer than :data:`SMALL_SAMPLE` firm-events: also the exact ``sign`` and ``wilcoxon`` tests, and the
      per-firm-event ``car_t``, since the normal approximations are rough.
    """
    d = design(fit)
    scenario = size_scenario(d)
    measured = MEASURED_SIZE[scenario]
    kind = {
        "clustered13_null": "same-day samples of 13",
        "spread13_null": "13 firm-events on their own dates",
        "spread50_null": "50 firm-events on their own dates",
    }[scenario]
    return [
        (name, f"{why}; measured size {measured[name]:.3f} at 5% with no effect ({kind}, results/size-power)")
        for name, why in _candidates(fit, d)
        if name in measured
    ]


def _candidates(fit: StackedFit, d: Design) -> list[tuple[str, str]]:
    """The tests :func:`recommend` considers for design ``d``, before the measured-size filter."""
    n = d.n_firm_events
    one = [
        ("car_t", "time-series t of each firm-event's CAR with MacKinlay's prediction-error variance"),
        ("permutation", "ranks each CAR among the firm's own estimation-window CARs; no normality assumed"),
        (
            "sq",
            "equal-tailed: the CAR against both sample tails of the firm's own estimation-window CARs; holds a "
            "1% level on fat-tailed returns where car_t does not (exclude_dates= drops flagged market shocks)",
        ),
    ]
    if n <= 1:
        return one
    if n < MIN_FIRM_EVENTS:
        why = f"only {n} firm-events: cross-sectional tests need at least {MIN_FIRM_EVENTS} and are not reliable"
        return [(name, f"{reason} ({why})") for name, reason in one]
    out: list[tuple[str, str]] = []
    if d.clustered:
        corr = (
            f"{d.share_clustered:.0%} of firm-events share event days, so their abnormal returns are "
            "cross-correlated and csect_t, patell and bmp over-reject"
        )
        out += [
            ("kp_bmp", f"{corr}; Kolari-Pynnonen scale BMP's t by the estimated average correlation"),
            ("kp_patell", "Patell's Z adjusted for the same cross-correlation (Kolari & Pynnonen 2010)"),
            (
                "brown_warner",
                "Brown & Warner's (1985) crude dependence adjustment: the day's mean abnormal return against the "
                "time-series standard deviation of the estimation-window mean abnormal returns",
            ),
            (
                "pseudo_event",
                "BMP's t against the same t on every estimation-window day moved to day 0 for all firms at once: "
                "the null keeps the cross-correlation and the fat tails (Hein & Westfall 2004)",
            ),
            (
                "grank_t",
                "Kolari & Pynnonen's (2011) generalized rank test: robust to cross-correlation, event-induced "
                "volatility and multi-day windows (thin-tailed at 1% on tightly correlated clusters)",
            ),
        ]
        if d.share_same_day > 0:
            # nu = T - K of the MVRM system (K = 0 for market-adjusted returns), from the fewest estimation
            # days: a cluster's common days can only be fewer
            nu = d.min_estimation_days - fit.n_params
            average = (
                "mvrm_average",
                "the average effect of a same-day cluster: the equally weighted portfolio's t, exact under "
                "normality whatever the cluster size",
            )
            if d.largest_cluster < nu - 3:
                joint = (
                    "Binder's system test uses the full cross-firm covariance of same-day firms; its F is exact "
                    "only for normal returns and over-rejects with fat tails (see results/size-power)"
                )
                out += [("mvrm_joint", joint), average]
            else:
                too_large = (
                    f"; the largest same-day cluster ({d.largest_cluster} firm-events) is too large for the joint "
                    f"MVRM test with T - K = {nu} estimation days (McKeon's F needs T - K > N + 3), this one still "
                    "runs"
                )
                out += [(average[0], average[1] + too_large)]
    else:
        out += [
            ("bmp", "standardized CARs with a cross-sectional variance: robust to event-induced variance"),
            ("patell", "standardized CARs with their time-series variances"),
            ("rank", "Corrado's rank test: no normality, robust to outliers"),
            ("generalized_sign", "Cowan's sign test against the share of positive estimation-window CARs"),
            ("csect_t", "the plain t of mean CAR, as a benchmark"),
        ]
        if d.share_clustered > 0:
            share = f"{d.share_clustered:.0%} of firm-events share event days"
            out.append(("kp_bmp", f"{share}: adjusts BMP for their cross-correlation"))
    if d.n_dates >= 2 and d.share_same_day > 0:
        out.append(
            (
                "im_t",
                f"the average effect across {d.n_dates} event dates: a t test on each date's mean CAR, robust to "
                "any correlation within a date (Ibragimov & Muller 2010)",
            )
        )
    if n < SMALL_SAMPLE:
        few = f"only {n} firm-events: an exact small-sample distribution"
        out += [("wilcoxon", few), ("sign", few), one[0]]
    return out
