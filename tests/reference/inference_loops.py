"""Plain-loop reference implementations of the event-study test statistics.

Written from the papers' formulas, one firm-event at a time, with ``np.linalg.lstsq`` per firm-event and
Python loops over days and pairs, sharing no code with ``eventstudy.inference`` (see README.md).  The
tests compare the vectorized statistics with these at rtol 1e-10.

What is and is not an independent check
---------------------------------------
Where a paper fixes the formula, the loop below follows the paper and checks the package against it.
Where the papers leave a choice open, the package made one and the loop *adopts the same choice*, so
that the loop checks the arithmetic (vectorization, missing days, grouping) but not the choice itself.
The package's own choices, copied here:

* ``rbar`` (Kolari & Pynnonen): pairs on different dates whose windows overlap get weight o_ij / L
  (o_ij = shared window days); pairs with fewer than ``MIN_OVERLAP`` (30) common estimation days get the
  mean of the estimated correlations.  KP (2010) treat only same-date clusters.
* ``generalized_sign``: the expected share is taken from the firm-event's L-day estimation-window CARs,
  every run of L consecutive relative days with a residual on each (overlapping runs, runs across a missing
  day skipped).  Cowan (1992) defines only the daily share; ``generalized_sign_daily`` below is his formula
  and equals the package for L = 1.  The L-day loop is written from that definition, not from the package.
* ``permutation``: the same runs as comparison CARs, p = (1 + #{|CAR_j| >= |CAR|}) / (1 + M).
* ``rank``: the combined window is the estimation days used plus the event-window days with an abnormal
  return (gap days not ranked); ranks scaled by M_i + 1 (Corrado & Zivney 1992); the daily sum of
  U_it - 1/2 is divided by sqrt(N_t), N_t the firm-events ranked that day, to handle missing days.
* ``patell`` / ``bmp`` for L > 1: the CAR standardized once by its window prediction-error variance
  (Mikkelson & Partch 1988; Campbell, Lo & MacKinlay 1997 J2 with each firm-event's T_i), not Patell's
  sum of daily standardized residuals over sqrt(L).
* ``brown_warner``: AAR_t averages the firm-events present on day t; t(T_e - 1) with T_e such days.
* ``wilcoxon``: zeros dropped (Wilcoxon's zero method); exact p-value for n <= 50 without ties or zeros,
  else the normal approximation with the tie-corrected variance and no continuity correction.
* nothing estimated (market-adjusted): univariate tests use the demeaned variance with T - 1 degrees of
  freedom; the MVRM system uses the undemeaned covariance with nu = T (no regressors).
* MVRM: the system is balanced on the estimation days every firm of the cluster has.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
from scipy import stats

MIN_OVERLAP = 30


# --------------------------------------------------------------------------------------------------------
# one firm-event's market model, by least squares
# --------------------------------------------------------------------------------------------------------


def firm_events(y, z, day0, firm, est, event, *, intercept=True, estimated=True):
    """One record per firm-event.

    ``y`` (T, M), ``z`` (T, P) regressors without the constant.  Each record holds ``d0``, ``ar`` {t: AR}
    over the relative days of both windows, ``resid`` {t: residual} on the estimation days used, ``x``
    {t: regressor vector}, ``sigma2``, ``xtx_inv``, ``T`` and ``K``.
    """
    z = np.asarray(z, dtype=float).reshape(len(y), -1)
    first, last = min(est[0], event[0]), max(est[1], event[1])
    records = []
    for d0, col in zip(day0, firm):
        x, yy = {}, {}
        for t in range(first, last + 1):
            s = d0 + t
            if not 0 <= s < len(y):
                continue
            row = ([1.0] if intercept else []) + list(z[s]) if estimated else []
            if math.isfinite(y[s, col]) and all(math.isfinite(v) for v in z[s]):
                x[t], yy[t] = np.array(row, dtype=float), y[s, col]
        est_days = [t for t in sorted(x) if est[0] <= t <= est[1]]
        k = len(x[est_days[0]]) if est_days else 0
        if estimated:
            X = np.array([x[t] for t in est_days])
            Y = np.array([yy[t] for t in est_days])
            b = np.linalg.lstsq(X, Y, rcond=None)[0]
            resid = Y - X @ b
            sigma2 = resid @ resid / (len(est_days) - k)
            xtx_inv = np.linalg.inv(X.T @ X)
            ar = {t: yy[t] - x[t] @ b for t in x}
        else:
            Y = np.array([yy[t] for t in est_days])
            sigma2 = Y.var(ddof=1)
            xtx_inv = np.zeros((0, 0))
            ar = dict(yy)
        records.append(
            dict(
                d0=int(d0),
                ar=ar,
                resid={t: ar[t] for t in est_days},
                x=x,
                sigma2=sigma2,
                xtx_inv=xtx_inv,
                T=len(est_days),
                K=k,
                df=len(est_days) - max(k, 1),
            )
        )
    return records


def car(rec, window):
    days = range(window[0], window[1] + 1)
    if any(t not in rec["ar"] for t in days):
        return math.nan
    return sum(rec["ar"][t] for t in days)


def car_var(rec, window):
    days = list(range(window[0], window[1] + 1))
    if any(t not in rec["x"] for t in days):
        return math.nan
    s = sum(rec["x"][t] for t in days) if rec["K"] else np.zeros(0)
    return rec["sigma2"] * (len(days) + s @ rec["xtx_inv"] @ s)


def usable(records, window):
    return [r for r in records if math.isfinite(car(r, window)) and math.isfinite(car_var(r, window))]


# --------------------------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------------------------


def car_t(rec, window):
    t = car(rec, window) / math.sqrt(car_var(rec, window))
    return t, 2 * stats.t.sf(abs(t), rec["df"])


def csect_t(records, window):
    cars = [car(r, window) for r in usable(records, window)]
    n = len(cars)
    mean = sum(cars) / n
    sd = math.sqrt(sum((c - mean) ** 2 for c in cars) / (n - 1))
    t = mean / (sd / math.sqrt(n))
    return t, 2 * stats.t.sf(abs(t), n - 1)


def brown_warner(records, window, est):
    used = usable(records, window)
    aar = []
    for t in range(est[0], est[1] + 1):
        values = [r["resid"][t] for r in used if t in r["resid"]]
        if values:
            aar.append(sum(values) / len(values))
    mean = sum(aar) / len(aar)
    s = math.sqrt(sum((a - mean) ** 2 for a in aar) / (len(aar) - 1))
    caar = sum(sum(r["ar"][t] for r in used) / len(used) for t in range(window[0], window[1] + 1))
    stat = caar / (math.sqrt(window[1] - window[0] + 1) * s)
    return stat, 2 * stats.t.sf(abs(stat), len(aar) - 1)


def scars(records, window):
    return [car(r, window) / math.sqrt(car_var(r, window)) for r in usable(records, window)]


def patell(records, window):
    used = usable(records, window)
    z = sum(scars(records, window)) / math.sqrt(sum(r["df"] / (r["df"] - 2) for r in used))
    return z, 2 * stats.norm.sf(abs(z))


def bmp(records, window):
    s = scars(records, window)
    n = len(s)
    mean = sum(s) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in s) / (n - 1))
    t = mean / (sd / math.sqrt(n))
    return t, 2 * stats.t.sf(abs(t), n - 1)


def rbar(records, window):
    """Pairwise residual correlations on common calendar days, weighted by the share of the window shared.

    The o_ij / L weights and the mean imputation are the package's own convention (see the top of the file),
    copied here: this loop checks their arithmetic, not the convention.
    """
    used = usable(records, window)
    length = window[1] - window[0] + 1
    pairs = []  # (weight, rho or None)
    for i in range(len(used)):
        for j in range(i + 1, len(used)):
            a, b = used[i], used[j]
            shared = length - abs(a["d0"] - b["d0"])
            if shared <= 0:
                continue
            cal_a = {a["d0"] + t: v for t, v in a["resid"].items()}
            cal_b = {b["d0"] + t: v for t, v in b["resid"].items()}
            common = sorted(set(cal_a) & set(cal_b))
            rho = None
            if len(common) >= MIN_OVERLAP:
                rho = float(np.corrcoef([cal_a[s] for s in common], [cal_b[s] for s in common])[0, 1])
            pairs.append((shared / length, rho))
    estimated = [rho for _, rho in pairs if rho is not None]
    if not estimated:
        return math.nan
    fill = sum(estimated) / len(estimated)
    n = len(used)
    return sum(w * (fill if rho is None else rho) for w, rho in pairs) / (n * (n - 1) / 2)


def kp_bmp(records, window, r):
    t, _ = bmp(records, window)
    n = len(usable(records, window))
    t = t * math.sqrt((1 - r) / (1 + (n - 1) * r))
    return t, 2 * stats.t.sf(abs(t), n - 1)


def kp_patell(records, window, r):
    z, _ = patell(records, window)
    n = len(usable(records, window))
    z = z / math.sqrt(1 + (n - 1) * r)
    return z, 2 * stats.norm.sf(abs(z))


def permutation(rec, window):
    length = window[1] - window[0] + 1
    event = car(rec, window)
    comparison = []
    days = sorted(rec["resid"])
    for start in range(days[0], days[-1] - length + 2):
        run = range(start, start + length)
        if all(t in rec["resid"] for t in run):
            comparison.append(sum(rec["resid"][t] for t in run))
    m = len(comparison)
    p = (1 + sum(abs(c) >= abs(event) for c in comparison)) / (1 + m)
    return event / np.std(comparison, ddof=1), p, m


def rank(records, window, event_window):
    used = usable(records, window)
    sums, counts = {}, {}
    for r in used:
        days = sorted(set(r["resid"]) | {t for t in range(event_window[0], event_window[1] + 1) if t in r["ar"]})
        ranks = stats.rankdata([r["ar"][t] for t in days])
        for t, k in zip(days, ranks):
            u = k / (len(days) + 1) - 0.5
            sums[t] = sums.get(t, 0.0) + u
            counts[t] = counts.get(t, 0) + 1
    a = {t: sums[t] / math.sqrt(counts[t]) for t in sums}
    s = math.sqrt(sum(v * v for v in a.values()) / len(a))
    length = window[1] - window[0] + 1
    z = sum(a[t] for t in range(window[0], window[1] + 1)) / (math.sqrt(length) * s)
    return z, 2 * stats.norm.sf(abs(z))


def grank(records, window):
    """Kolari & Pynnonen (2011) generalized rank test, one firm-event and one day at a time.

    Package choices copied: estimation SAR = residual / sigma_i (T_i - K df); the window collapsed into
    SCAR_i = CAR_i / sqrt(MacKinlay Var(CAR_i)) and divided by the cross-sectional SD (ddof 1) of SCAR over
    sqrt(1 - rbar) (rbar of kp_bmp, 0 when NaN, capped at 0.99: the package's undoing of the shrinkage of
    the cross-sectional SD by correlation; KP 2011 divide by the SD alone);
    ranks over the T_i estimation days plus the event observation, U = K / (T_i + 2) - 1/2; days keyed by
    relative day, the event observation by the key "event"; T = days with a rank - 1.
    Returns (t_grank, p_t, Z, p_z, T).
    """
    used = usable(records, window)
    n = len(used)
    scar = [car(r, window) / math.sqrt(car_var(r, window)) for r in used]
    mean = sum(scar) / n
    r = rbar(records, window)
    r = 0.0 if math.isnan(r) else min(r, 0.99)
    sd = math.sqrt(sum((v - mean) ** 2 for v in scar) / (n - 1)) / math.sqrt(1 - r)
    sums, counts = {}, {}
    for r, v in zip(used, scar):
        keys = sorted(r["resid"]) + ["event"]
        values = [r["resid"][t] / math.sqrt(r["sigma2"]) for t in sorted(r["resid"])] + [v / sd]
        ranks = stats.rankdata(values)
        for key, k in zip(keys, ranks):
            u = k / (len(values) + 1) - 0.5
            sums[key] = sums.get(key, 0.0) + u
            counts[key] = counts.get(key, 0) + 1
    u_bar = {key: sums[key] / counts[key] for key in sums}
    s_u = math.sqrt(sum(counts[key] / n * u_bar[key] ** 2 for key in sums) / len(sums))
    z = u_bar["event"] / s_u
    t_days = len(sums) - 1
    t = z * math.sqrt((t_days - 2) / (t_days - 1 - z * z))
    return t, 2 * stats.t.sf(abs(t), t_days - 2), z, 2 * stats.norm.sf(abs(z)), t_days


def runs(rec, length):
    """{start day: sum of the residuals over the L relative days from it}, every run with a residual on each."""
    days = sorted(rec["resid"])
    out = {}
    for start in range(days[0], days[-1] - length + 2):
        run = range(start, start + length)
        if all(t in rec["resid"] for t in run):
            out[start] = sum(rec["resid"][t] for t in run)
    return out


def equal_tailed(stat, draws):
    m = len(draws)
    below = sum(d <= stat for d in draws)
    above = sum(d >= stat for d in draws)
    return min(1.0, 2 * min(1 + below, 1 + above) / (1 + m))


def sq(rec, window):
    """Gelbach, Helland & Klick (2013): the event CAR against both sample tails of the L-day runs."""
    length = window[1] - window[0] + 1
    comparison = list(runs(rec, length).values())
    return equal_tailed(car(rec, window), comparison), len(comparison)


def pseudo_event(records, window, statistic, share=0.9):
    """Hein & Westfall (2004): the pooled statistic on each run start shared by >= share of the firm-events.

    ``statistic`` "mean" (mean CAR), "csect_t" (t of CARs) or "bmp" (t of CARs over sigma_i sqrt(L) on the
    runs, over the prediction-error SD for the event).  Returns (stat, p, runs used).
    """
    used = usable(records, window)
    length = window[1] - window[0] + 1

    def pooled(values):
        n = len(values)
        mean = sum(values) / n
        if statistic == "mean":
            return mean
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
        return mean / (sd / math.sqrt(n))

    if statistic == "bmp":
        event = pooled([car(r, window) / math.sqrt(car_var(r, window)) for r in used])
        scale = [math.sqrt(r["sigma2"] * length) for r in used]
    else:
        event = pooled([car(r, window) for r in used])
        scale = [1.0] * len(used)
    per_firm = [runs(r, length) for r in used]
    starts = sorted(set().union(*per_firm))
    draws = []
    for start in starts:
        values = [f[start] / c for f, c in zip(per_firm, scale) if start in f]
        if len(values) >= max(share * len(used), 2):
            draws.append(pooled(values))
    return event, equal_tailed(event, draws), len(draws)


def skew_t(values):
    """Johnson (1978) / Lyon, Barber & Tsai (1999, eq. 5): sqrt(n) (S + gamma S^2 / 3 + gamma / (6 n))."""
    n = len(values)
    mean = sum(values) / n
    s = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    gamma = sum((v - mean) ** 3 for v in values) / (n * s**3)
    ratio = mean / s
    t = math.sqrt(n) * (ratio + gamma * ratio**2 / 3 + gamma / (6 * n))
    return t, 2 * stats.t.sf(abs(t), n - 1)


def im_t(records, window):
    """Ibragimov & Muller (2010): group the firm-events by calendar day 0, mean CAR per group, t on the means."""
    by_date = {}
    for r in usable(records, window):
        by_date.setdefault(r["d0"], []).append(car(r, window))
    theta = [sum(v) / len(v) for v in by_date.values()]
    q = len(theta)
    mean = sum(theta) / q
    sd = math.sqrt(sum((v - mean) ** 2 for v in theta) / (q - 1))
    t = mean / (sd / math.sqrt(q))
    return t, 2 * stats.t.sf(abs(t), q - 1), q


def generalized_sign_daily(records, window):
    """Cowan (1992): positive CARs against the average share of positive daily estimation residuals."""
    used = usable(records, window)
    n = len(used)
    p_hat = sum(sum(v > 0 for v in r["resid"].values()) / len(r["resid"]) for r in used) / n
    w = sum(car(r, window) > 0 for r in used)
    z = (w - n * p_hat) / math.sqrt(n * p_hat * (1 - p_hat))
    return z, 2 * stats.norm.sf(abs(z))


def generalized_sign(records, window):
    """Cowan's Z with the expected share from L-day estimation-window CARs (every run of L relative days
    on which the firm-event has residuals); the daily share when L = 1."""
    length = window[1] - window[0] + 1
    used = usable(records, window)
    shares = []
    for r in used:
        positive = total = 0
        for start in sorted(r["resid"]):
            days = [start + k for k in range(length)]
            if all(d in r["resid"] for d in days):
                total += 1
                positive += math.fsum(r["resid"][d] for d in days) > 0
        if total:
            shares.append(positive / total)
    p_hat = sum(shares) / len(shares)
    n = len(used)
    w = sum(car(r, window) > 0 for r in used)
    z = (w - n * p_hat) / math.sqrt(n * p_hat * (1 - p_hat))
    return z, 2 * stats.norm.sf(abs(z))


def sign(records, window):
    cars = [car(r, window) for r in usable(records, window)]
    n, w = len(cars), sum(c > 0 for c in cars)
    return (w - n / 2) / math.sqrt(n / 4), stats.binomtest(w, n, 0.5).pvalue


def wilcoxon(records, window):
    """Signed-rank z with the tie-corrected variance (zeros dropped) and the p-value of the package's rule."""
    cars = [c for c in (car(r, window) for r in usable(records, window))]
    nonzero = [c for c in cars if c != 0]
    n = len(nonzero)
    ranks = stats.rankdata([abs(c) for c in nonzero])
    w_plus = sum(k for k, c in zip(ranks, nonzero) if c > 0)
    tie_sizes = Counter(abs(c) for c in nonzero).values()
    variance = n * (n + 1) * (2 * n + 1) / 24 - sum(t**3 - t for t in tie_sizes) / 48
    z = (w_plus - n * (n + 1) / 4) / math.sqrt(variance)
    if n == len(cars) and all(t == 1 for t in tie_sizes) and n <= 50:
        return z, stats.wilcoxon(cars, method="exact").pvalue
    return z, 2 * stats.norm.sf(abs(z))


def mvrm(y, z, day0, firms, est, window, *, intercept=True, wald=True):
    """The dummy-variable system of one same-day cluster, solved equation by equation with explicit dummies.

    Returns the Wald statistic of all dummies (NaN unless ``wald``: a singular Sigma-hat has none), the
    average effect, its variance, nu = T - K, N and the design (X-tilde, Y) for cross-checks.
    """
    z = np.asarray(z, dtype=float).reshape(len(y), -1)
    est_days = [
        t
        for t in range(est[0], est[1] + 1)
        if all(math.isfinite(y[day0 + t, f]) for f in firms) and all(math.isfinite(v) for v in z[day0 + t])
    ]
    win = list(range(window[0], window[1] + 1))
    days = est_days + win
    rows = []
    for t in days:
        x = ([1.0] if intercept else []) + list(z[day0 + t])
        dummies = [1.0 if t == d else 0.0 for d in win]
        rows.append(x + dummies)
    X = np.array(rows)
    Y = np.array([[y[day0 + t, f] for f in firms] for t in days])
    coef = np.linalg.lstsq(X, Y, rcond=None)[0]
    resid = Y - X @ coef
    k_tot = X.shape[1]
    nu = len(days) - k_tot
    sigma = resid.T @ resid / nu
    inv = np.linalg.inv(X.T @ X)
    lw = len(win)
    c = inv[-lw:, -lw:]
    gamma = coef[-lw:, :]  # (L, N)
    vec = gamma.T.ravel()  # firm-major: firm 1's days, firm 2's days, ...
    cov = np.kron(sigma, c)
    wald = vec @ np.linalg.solve(cov, vec) if wald else math.nan
    n = len(firms)
    r = np.full(n * lw, 1.0 / n)
    average = r @ vec
    average_var = r @ cov @ r
    return dict(wald=wald, average=average, average_var=average_var, nu=nu, n=n, X=X, Y=Y, L=lw)


# --------------------------------------------------------------------------------------------------------
# the synthetic study the tests share
# --------------------------------------------------------------------------------------------------------

ESTIMATION = (-70, -11)  # 60 days
EVENT = (-3, 3)


def synthetic(seed: int = 7):
    """Eight firm-events with a market model, cross-correlated returns and some missing days.

    Four firm-events share day 0 (session 180), two are 2 sessions apart (230 and 232, so their 7-day
    event windows overlap), two stand alone; security 4 appears twice (sessions 200 and 232).  Missing:
    two firm days inside estimation windows, one market day (so every firm lacks it), and firm-event 5's
    return on day +2 (its CAR over windows covering day +2 is NaN).
    """
    rng = np.random.default_rng(seed)
    t, m = 260, 7
    market = rng.normal(0.0004, 0.01, t)
    common = rng.normal(0.0, 0.01, t)
    beta = rng.uniform(0.6, 1.6, m)
    y = 0.0002 + beta * market[:, None] + 0.6 * common[:, None] + rng.normal(0.0, 0.015, (t, m))
    day0 = np.array([180, 180, 180, 180, 200, 215, 230, 232])
    firm = np.array([0, 1, 2, 3, 4, 5, 6, 4])
    y[180 - 50, 1] = np.nan
    y[180 - 20, 2] = np.nan
    market[150] = np.nan
    y[215 + 2, 5] = np.nan
    return y, market, day0, firm
