r"""Multivariate regression (MVRM) tests for firm-events that share an event date.

For a cluster of :math:`N` firm-events with the same day 0 (Schipper & Thompson 1983, 1985; Binder 1985),
one equation per firm over the estimation days :math:`E` and the tested window :math:`W`
(:math:`L` days):

.. math::

    R_{it} = x_t'b_i + \sum_{d\in W}\gamma_{id}D_{dt} + \varepsilon_{it},\qquad
    \operatorname{Cov}(\varepsilon_{it},\varepsilon_{jt}) = \Sigma_{ij},

with :math:`x_t` the model's regressors (constant and market or factors; none for market-adjusted returns,
whose dependent variable is already :math:`R_{it}-R_{mt}`), :math:`D_{dt}=\mathbf 1\{t=d\}` and
:math:`\gamma_{id}` the abnormal return of firm :math:`i` on day :math:`d`.  The system is balanced: days on
which any firm of the cluster lacks a residual are dropped, and firm-events without a CAR over the window
are left out.  All equations share the regressors :math:`\tilde X=[X\ D]`, so SUR-GLS equals
equation-by-equation OLS (Zellner 1962) and

.. math::

    \hat\gamma_{id} = AR_{id}\ \text{(prediction error from the balanced estimation days)},\qquad
    \operatorname{Var}(\operatorname{vec}\hat\Gamma) = \Sigma\otimes C,\qquad
    C = (\tilde X'\tilde X)^{-1}_{\gamma\gamma} = I_L + X_W(X_E'X_E)^{-1}X_W',

where :math:`\hat\Gamma` is the :math:`L\times N` matrix of :math:`\hat\gamma_{id}`, :math:`X_E` and
:math:`X_W` the regressors on the :math:`T` balanced estimation days and on the window, and
:math:`\hat\Sigma=\hat{\mathcal E}'\hat{\mathcal E}/\nu` with :math:`\nu=T-K` (:math:`K` columns of
:math:`x_t`) from the estimation-day residuals (the dummies fit the window days exactly).

Market-adjusted returns (:math:`K=0`): nothing is estimated, so the residuals are the abnormal returns
:math:`R_{it}-R_{mt}` themselves, *not demeaned*, and :math:`\hat\Sigma=\hat{\mathcal E}'\hat{\mathcal E}/T`
with :math:`\nu=T`: under the model's null the abnormal return has mean zero, and the MVRM statistics'
t and F distributions need exactly this :math:`\hat\Sigma` (a Wishart with :math:`T` degrees of freedom).
This differs from :attr:`StackedFit.sigma2 <eventstudy.estimation.models.StackedFit.sigma2>`, which for
market-adjusted returns is the *demeaned* sample variance with :math:`T-1` degrees of freedom and
feeds the univariate tests (``car_t``, ``patell``, ...): for one firm
:math:`\hat\Sigma_{ii}=\frac{T-1}{T}\hat\sigma^2_i+\overline{AR}_i^{\,2}`, with :math:`\overline{AR}_i`
the mean estimation-window abnormal return, so the two variances differ slightly.

The joint test (:func:`mvrm_joint`) needs :math:`\hat\Sigma^{-1}`, hence :math:`\nu\ge N`; the
average test (:func:`mvrm_average`) needs only the variance of the equally weighted portfolio,
:math:`\iota'\hat\Sigma\iota/N^2`, and runs on clusters of any size.
"""

from __future__ import annotations

import numpy as np

from eventstudy.foundation.tails import chi2_sf, f_sf
from eventstudy.foundation.validation import check_choice
from eventstudy.inference.base import (
    Batch,
    Inputs,
    TestResult,
    TestSpec,
    dist_labels,
    register,
    state_nulls,
    unique_rows,
)
from eventstudy.inference.parametric import p_norm, p_t

__all__ = ["mvrm_joint", "mvrm_average", "JOINT_FORMS", "AVERAGE_FORMS"]

#: the reference distributions of :func:`mvrm_joint`
JOINT_FORMS = ("mckeon", "binder", "wald")
#: the reference distributions of :func:`mvrm_average`
AVERAGE_FORMS = ("exact", "binder", "wald")

_NO_CLUSTER = "mvrm needs firm-events that share an event date"


class _Systems:
    """Per-cluster Wald statistic and average-effect pieces, one entry per reported cluster.

    ``joint_note`` and ``average_note`` say why an entry cannot be computed ("" when it can): the joint
    test needs the inverse of Sigma-hat, the average test only the portfolio variance.
    """

    def __init__(self, size: int):
        self.wald = np.full(size, np.nan)  # vec(G)' (Sigma kron C)^-1 vec(G)
        self.average = np.full(size, np.nan)  # (1/N) sum_i sum_d gamma_id
        self.average_var = np.full(size, np.nan)  # (iota' Sigma iota / N^2) (iota' C iota)
        self.nu = np.zeros(size)  # T - K
        self.firms = np.zeros(size, dtype=np.int64)
        self.days = np.zeros(size, dtype=np.int64)
        self.joint_note = np.full(size, "", dtype=object)
        self.average_note = np.full(size, "", dtype=object)


def _estimation_part(ar: np.ndarray, days: np.ndarray, x: np.ndarray) -> dict:
    """What B same-size clusters' statistics need from the estimation days alone (the same for every window).

    ``ar`` (B, N, L) abnormal returns on the grid, ``days`` (B, L) balanced estimation days, ``x`` (B, L, K)
    regressors.  Returns ``delta`` (B, K, N), ``xtx`` (B, K, K), ``bad_x`` (the regressors do not identify
    the model on the common days), ``nu``, ``portfolio_ss`` (the equally weighted portfolio's residual sum
    of squares) and ``sigma`` (Sigma-hat); the joint test's inverse is added by :func:`_with_joint_part`.
    """
    b, n, _ = ar.shape
    k = x.shape[2]
    a_est = np.where(days[:, None, :], ar, 0.0)
    bad_x = np.zeros(b, dtype=bool)
    xtx = delta = None
    if k:
        x_est = np.where(days[:, :, None], x, 0.0)
        # stacked products, not einsum: einsum's own loops ran 10-50x slower on these (B, L, K) shapes
        x_t = np.swapaxes(x_est, 1, 2)
        xtx = x_t @ x_est
        bad_x = np.linalg.matrix_rank(xtx) < k
        xtx = np.where(bad_x[:, None, None], np.eye(k), xtx)
        delta = np.linalg.solve(xtx, x_t @ np.swapaxes(a_est, 1, 2))  # (B, K, N)
        resid = a_est - np.swapaxes(x_est @ delta, 1, 2)
    else:
        resid = a_est
    nu = (days.sum(axis=1) - k).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        # the average test: iota' Sigma iota / N^2 is the variance of the equally weighted portfolio's residual
        portfolio_ss = (resid.mean(axis=1) ** 2).sum(axis=1)
        # the joint test needs Sigma-hat^-1: rank(Sigma-hat) <= nu, and a security twice makes it singular
        sigma = (resid @ np.swapaxes(resid, 1, 2)) / nu[:, None, None]
    return dict(delta=delta, xtx=xtx, bad_x=bad_x, nu=nu, portfolio_ss=portfolio_ss, sigma=sigma)


def _with_joint_part(est: dict) -> dict:
    """An :func:`_estimation_part` with what only the joint test needs added: ``sigma_inv``, the inverse of
    Sigma-hat (identity where it is singular), and ``ok`` (it is not).  The average test never pays for it.
    A new dict: a cached one is never changed, since other threads read it outside the cache's lock."""
    est = dict(est)
    sigma, nu = est["sigma"], est["nu"]
    n = sigma.shape[1]
    scale = np.sqrt(np.diagonal(sigma, axis1=1, axis2=2))
    ok = (nu >= n) & (scale > 0).all(axis=1)
    unit = np.where(scale > 0, scale, 1.0)
    corr = np.where(ok[:, None, None], sigma / unit[:, :, None] / unit[:, None, :], np.eye(n))
    definite, corr_inv = _positive_definite(corr)
    est["sigma_inv"] = corr_inv / unit[:, :, None] / unit[:, None, :]
    est["ok"] = ok & definite
    return est


def _positive_definite(corr: np.ndarray, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    r"""Whether the smallest eigenvalue of each correlation matrix exceeds ``tol``, and the inverses.

    Cheap bounds settle most matrices without an eigendecomposition: with the Cholesky pivots
    :math:`\ell_{ii}^2` (each a Schur complement, so :math:`\lambda_{min}\le\min_i\ell_{ii}^2`) and the
    inverse, :math:`1/\operatorname{tr}(R^{-1})\le\lambda_{min}`; ``eigvalsh`` decides the rest, and every
    matrix when one of the batch is not positive definite at all.  Large inverses are taken one matrix at a
    time: numpy's stacked ``inv`` and ``solve`` ran 10-40x slower than a loop on 100 x 100 matrices here;
    small ones (a few firm-events a date) stacked, where the loop's Python overhead dominates.  Where a
    matrix fails, its inverse is that of the identity.
    """
    eye = np.eye(corr.shape[1])
    try:
        pivots = np.diagonal(np.linalg.cholesky(corr), axis1=1, axis2=2) ** 2
        inverse = _inverses(corr)
    except np.linalg.LinAlgError:
        ok = np.linalg.eigvalsh(corr)[:, 0] > tol
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            lower = 1.0 / np.trace(inverse, axis1=1, axis2=2)
        ok = lower > tol
        unsure = ~ok & (pivots.min(axis=1) > tol)
        if unsure.any():
            ok[unsure] = np.linalg.eigvalsh(corr[unsure])[:, 0] > tol
        return ok, np.where(ok[:, None, None], inverse, eye)
    safe = np.where(ok[:, None, None], corr, eye)
    return ok, _inverses(safe)


#: largest matrix side inverted as one stacked call in :func:`_inverses`
_STACKED_INV = 48


def _inverses(matrices: np.ndarray) -> np.ndarray:
    """The inverse of each matrix of a stack (B, n, n): one stacked call for small n, a loop for large."""
    if not len(matrices):
        return matrices.copy()
    if matrices.shape[1] <= _STACKED_INV:
        return np.linalg.inv(matrices)
    return np.stack([np.linalg.inv(m) for m in matrices])


def _solve_systems(g: np.ndarray, x_win: np.ndarray, est: dict, joint: bool = True):
    """Statistics of B same-size clusters at once.

    ``g`` (B, N, Lw) abnormal returns and ``x_win`` (B, Lw, K) regressors on the tested days, and ``est``
    the clusters' :func:`_estimation_part` (which does not depend on the window).  Returns a dict with
    ``average`` and ``average_var`` (from the equally weighted portfolio's residuals, no inverse of
    Sigma-hat), ``wald`` (NaN where Sigma-hat is singular, which ``singular`` marks; NaN everywhere unless
    ``joint``, when ``est`` comes from :func:`_with_joint_part`) and ``bad_x``.
    """
    b, n, width = g.shape
    k = x_win.shape[2]
    eye = np.broadcast_to(np.eye(width), (b, width, width))
    if k:
        g = g - np.einsum("bwk,bkn->bnw", x_win, est["delta"])
        c = eye + x_win @ np.linalg.solve(est["xtx"], np.swapaxes(x_win, 1, 2))
    else:
        c = eye
    with np.errstate(invalid="ignore", divide="ignore"):
        average = g.sum(axis=(1, 2)) / n
        average_var = est["portfolio_ss"] / est["nu"] * c.sum(axis=(1, 2))
    if not joint:
        return dict(wald=np.full(b, np.nan), average=average, average_var=average_var, singular=np.zeros(b, bool),
                    bad_x=est["bad_x"])  # fmt: skip
    ok = est["ok"]
    # Gamma' C^-1 Gamma, (B, N, N): optimize= contracts pairwise (two products); einsum's default summed all
    # four indices at once, B N^2 Lw^2 multiplications, 0.3 s for 50 clusters of 100 on a 21-day window
    h = np.einsum("bnw,bwv,bmv->bnm", g, np.linalg.inv(c), g, optimize=True)
    wald = np.where(ok, np.einsum("bij,bji->b", est["sigma_inv"], h), np.nan)
    return dict(wald=wald, average=average, average_var=average_var, singular=~ok, bad_x=est["bad_x"])


def _systems(inp: Inputs, joint: bool):
    """Find the clusters and solve their systems (once per :class:`Inputs`); the joint test's statistic only
    when ``joint`` (the average test takes the joint test's systems when they are there)."""
    if not joint and ("mvrm", True) in inp.memo:
        return inp.memo[("mvrm", True)]
    return inp.once(("mvrm", joint), lambda: _solve_clusters(inp, joint))


def _solve_clusters(inp: Inputs, joint: bool):
    fit, groups = inp.fit, inp.groups
    used = inp.used
    day0 = np.asarray(fit.day0, dtype=np.int64)
    codes = np.zeros(fit.n, dtype=np.int64) if inp.clusters is None else np.unique(inp.clusters, return_inverse=True)[1]
    keys = np.stack([groups.ids, codes, day0], axis=1)
    uniq, inverse, _ = unique_rows(keys)
    inverse = inverse.ravel()
    n_used = np.bincount(inverse, weights=used, minlength=len(uniq)).astype(np.int64)
    n_all = np.bincount(inverse, minlength=len(uniq))
    order = np.argsort(inverse, kind="stable")
    bounds = np.append(0, np.cumsum(n_all))
    members = [order[bounds[s] : bounds[s + 1]] for s in range(len(uniq))]
    # report every cluster of a group with at least one cluster of two; else one invalid row for the group
    has_pair = np.zeros(groups.n, dtype=bool)
    np.logical_or.at(has_pair, uniq[:, 0], n_used >= 2)
    entries: list[int | None] = []
    entry_group: list[int] = []
    position = 0
    for g in range(groups.n):
        stop = np.searchsorted(uniq[:, 0], g, side="right")
        if has_pair[g]:
            entries.extend(range(position, stop))
            entry_group.extend([g] * (stop - position))
        else:
            entries.append(None)
            entry_group.append(g)
        position = int(stop)
    size = len(entries)
    out = _Systems(size)
    batch_rows: list = [None] * size
    reasons = np.full(size, "", dtype=object)
    todo: dict[int, list[int]] = {}
    for e, s in enumerate(entries):
        if s is None:
            reasons[e] = _NO_CLUSTER
            continue
        rows = members[s][used[members[s]]]
        batch_rows[e] = rows if len(rows) else members[s]
        out.firms[e] = len(rows)
        if len(rows) < 2:
            reasons[e] = f"a same-day cluster needs at least 2 firm-events with a CAR; this date has {len(rows)}"
            continue
        todo.setdefault(len(rows), []).append(e)
    grid = inp.grid
    k = fit.n_params  # 0 for market-adjusted returns
    for n, batch_entries in todo.items():
        idx = np.array(batch_entries)
        rows = np.stack([batch_rows[e] for e in batch_entries])  # (B, N)
        days = inp.estimation_mask[rows].all(axis=1)
        out.days[idx] = days.sum(axis=1)
        out.nu[idx] = out.days[idx] - k
        # no residual degrees of freedom: neither test can run
        none = out.nu[idx] < 1
        reasons[idx[none]] = [
            f"the cluster has only {out.days[e]} common estimation days for {k} coefficients (T - K = "
            f"{int(out.nu[e])}); mvrm needs T - K >= 1"
            for e in idx[none]
        ]
        idx, rows, days = idx[~none], rows[~none], days[~none]
        if not len(idx):
            continue
        # the model's regressors (constant included; none for market-adjusted returns) on the grid around
        # each cluster's day 0, (B, L, K).  The constant is NaN where the regressors are missing, which
        # changes nothing: only balanced estimation days and window days with a CAR are read.
        x = fit.take(rows[:, 0]).design(grid)
        ar = inp.ar[rows]
        est = _cached_estimation_parts(inp, rows, days, ar, x, joint)
        # the tested days by fancy indexing, as always: its memory layout sets the order of the sums below,
        # and so their last bits
        window = inp.grid_positions
        solved = _solve_systems(ar[:, :, window], x[:, window, :], est, joint)
        for name in ("wald", "average", "average_var"):
            getattr(out, name)[idx] = solved[name]
        # Sigma-hat has rank at most T - K: the joint test needs T - K >= N; the average test does not
        short = out.nu[idx] < n
        out.joint_note[idx[short]] = [
            f"the cluster has {n} firm-events but only {out.days[e]} common estimation days (T - K = "
            f"{int(out.nu[e])}); the joint test needs T - K >= N (mvrm_average does not)"
            for e in idx[short]
        ]
        singular = solved["singular"] & ~short
        out.joint_note[idx[singular]] = (
            "the residual covariance of the cluster is singular (the same security twice?); the joint test "
            "needs its inverse (mvrm_average does not)"
        )
        bad_x = solved["bad_x"]
        reasons[idx[bad_x]] = "the model's regressors do not vary over the cluster's common estimation days"
    # a reason that stops the whole system stops both tests
    stop = reasons != ""
    out.joint_note[stop] = reasons[stop]
    out.average_note[stop] = reasons[stop]
    return out, np.array(entry_group), batch_rows


def _cached_estimation_parts(
    inp: Inputs, rows: np.ndarray, days: np.ndarray, ar: np.ndarray, x: np.ndarray, joint: bool
) -> dict:
    """:func:`_estimation_part` of the clusters ``rows`` (B, N) with abnormal returns ``ar`` and regressors ``x``
    on the grid, cached on the fit cluster by cluster.

    It depends on the cluster's members alone, not on the window, so a window whose clusters lost or gained
    a member (a firm-event without a CAR on some day) computes only those, as long as the abnormal returns
    are the fit's own (a simulation's injected ones are not shared).
    """
    fit = inp.fit
    cache = fit._cache.setdefault("inference:mvrm", {})
    keys = [r.tobytes() for r in rows]
    with fit.lock("inference:mvrm"):
        found = [cache.get(key) for key in keys]
        missing = [i for i, entry in enumerate(found) if entry is None or entry[0] is not inp.ar]
        if missing:
            fresh = _estimation_part(ar[missing], days[missing], x[missing])
            for j, i in enumerate(missing):
                found[i] = cache[keys[i]] = (inp.ar, fresh, j)
        if joint:  # the joint test's part, once per batch computed: the cache keeps the batch with it
            joined = fit._cache.setdefault("inference:mvrm:joint", {})  # id(batch) -> (batch, with the part)
            for i, (source_ar, source, j) in enumerate(found):
                if "sigma_inv" not in source:
                    if id(source) not in joined:
                        joined[id(source)] = (source, _with_joint_part(source))
                    found[i] = cache[keys[i]] = (source_ar, joined[id(source)][1], j)
    sources: dict[int, tuple[dict, list[int], list[int]]] = {}
    for i, (_, source, j) in enumerate(found):
        entry = sources.setdefault(id(source), (source, [], []))
        entry[1].append(i)
        entry[2].append(j)
    if len(sources) == 1:
        source, at, js = next(iter(sources.values()))
        if js == list(range(len(source["nu"]))):  # the very batch computed or cached before
            return source
    out: dict = {}
    # the names every source has (a batch cached for the average test alone lacks the joint test's part)
    names = set.intersection(*(set(source) for source, _, _ in sources.values()))
    for source, at, js in sources.values():
        for name, values in source.items():
            if name not in names:
                continue
            if values is None:
                out[name] = None
                continue
            if name not in out:
                out[name] = np.empty((len(rows),) + values.shape[1:], dtype=values.dtype)
            out[name][at] = values[js]
    return out


def _mvrm(inp: Inputs, kind: str, form: str | None = None) -> Batch:
    if kind == "joint":
        form = check_choice("form", "mckeon" if form is None else form, JOINT_FORMS)
    else:
        form = check_choice("form", "exact" if form is None else form, AVERAGE_FORMS)
    out, group, rows = _systems(inp, kind == "joint")
    batch = Batch(len(group), group=group, rows=rows)
    batch.n[:] = out.firms
    n = out.firms.astype(float)
    nu = out.nu
    q = int(inp.length)
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "joint":
            batch.stat, batch.pvalue, batch.distribution = _joint(out.wald, n, q, nu, form)
        else:
            t = out.average / np.sqrt(out.average_var)
            batch.stat = t
            if form == "wald":
                batch.pvalue, batch.distribution[:] = p_norm(t), "N(0,1)"
            else:
                df = nu if form == "exact" else n * nu
                batch.pvalue = p_t(t, df)
                batch.distribution = dist_labels("t", df)
    notes = out.joint_note if kind == "joint" else out.average_note
    batch.fail(notes != "", notes)
    if kind == "joint" and form == "mckeon" and q > 1:
        short = (n >= 2) & (nu <= n + 3)
        texts = np.full(len(batch), "", dtype=object)
        texts[short] = [
            f"the cluster has {int(n[e])} firm-events but only {int(out.days[e])} common estimation days "
            f"(T - K = {int(nu[e])}); McKeon's F for a {q}-day window needs T - K > N + 3 (a one-day window, "
            "form='binder' or form='wald' needs T - K >= N; mvrm_average needs neither)"
            for e in np.flatnonzero(short)
        ]
        batch.fail(short, texts)
    computed = np.flatnonzero(~batch.failed)
    caveats = np.full(len(batch), "", dtype=object)
    caveats[computed] = [f"{int(n[e])} firms, {int(out.days[e])} common estimation days" for e in computed]
    batch.caveat(~batch.failed, caveats)
    return batch.finish()


def _joint(wald, n, q, nu, form):
    """Statistic, p-value and label of the joint test in the chosen form."""
    if form == "wald":
        return wald, chi2_sf(wald, n * q), dist_labels("chi2", n * q)
    if form == "binder":
        d1, d2 = n * q, n * nu
        f = wald / d1
    elif q == 1:
        # Hotelling's T^2 = W: (nu - N + 1) T^2 / (N nu) ~ F(N, nu - N + 1) exactly, for any nu >= N
        d1, d2 = n, nu - n + 1.0
        f = d2 * wald / (n * nu)
    else:
        # McKeon (1974) F approximation to the Lawley-Hotelling trace U = tr(H E^-1) = W / nu
        d1 = n * q
        big_b = (nu + q - n - 1.0) * (nu - 1.0) / ((nu - n - 3.0) * (nu - n))
        d2 = 4.0 + (d1 + 2.0) / (big_b - 1.0)
        c = d1 * (d2 - 2.0) / (d2 * (nu - n - 1.0))
        f = (wald / nu) / c
    return f, f_sf(f, d1, d2), dist_labels("F", d1, d2)


def mvrm_joint(fit, window: tuple[int, int], *, clusters=None, form: str = "mckeon") -> list[TestResult]:
    r"""Joint test that every firm of a same-day cluster has zero abnormal return on every window day.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)
    clusters : array_like, optional
        One label per firm-event; only firm-events with the same label *and* the same day 0 form a system
        (for example the event each firm-event belongs to).  By default each date is one system.
    form : {"mckeon", "binder", "wald"}
        The reference distribution (see Notes).

    Returns
    -------
    list of TestResult
        One per cluster, in order of day 0; a cluster with fewer than 2 firm-events, fewer residual degrees
        of freedom than firms (:math:`\nu<N`, so :math:`\hat\Sigma` is singular), a singular
        :math:`\hat\Sigma` (the same security twice) or, for ``form="mckeon"`` and :math:`L>1`,
        :math:`\nu\le N+3`, is invalid with the reason; a single invalid result when no two firm-events
        share an event date.  :func:`mvrm_average` has none of these limits.

    Notes
    -----
    :math:`H_0:\gamma_{id}=0` for all :math:`N` firms and :math:`L` days (:math:`q=NL` restrictions), with
    the Wald statistic of the system in the module docstring

    .. math::

        W = \operatorname{vec}(\hat\Gamma)'\bigl(\hat\Sigma\otimes C\bigr)^{-1}\operatorname{vec}(\hat\Gamma)
          = \nu\,\operatorname{tr}\bigl(H\mathcal E^{-1}\bigr),\qquad
        H=\hat\Gamma'C^{-1}\hat\Gamma,\quad \mathcal E=\nu\hat\Sigma .

    Under normal errors :math:`H\sim W_N(L,\Sigma)` and :math:`\mathcal E\sim W_N(\nu,\Sigma)` are
    independent, so :math:`U=W/\nu` is the Lawley-Hotelling trace.  ``form="mckeon"`` (default) uses its
    small-sample distribution:

    * :math:`L=1`: :math:`W` is Hotelling's :math:`T^2` and, exactly,

      .. math::

          F = \frac{\nu-N+1}{N\nu}\,W \sim F(N,\ \nu-N+1), \qquad \nu\ge N;

    * :math:`L>1`: McKeon's (1974) approximation, which matches the first two moments of :math:`U`
      (it is not exact),

      .. math::

          F = \frac{U}{c}\sim F(a, b),\quad a=NL,\quad
          B=\frac{(\nu+L-N-1)(\nu-1)}{(\nu-N-3)(\nu-N)},\quad b=4+\frac{a+2}{B-1},\quad
          c=\frac{a(b-2)}{b(\nu-N-1)},

      which needs :math:`\nu>N+3` (at :math:`L=1` it reduces to Hotelling's F above).

    ``form="binder"``: Binder's (1985) :math:`F=W/q` referred to :math:`F(q, N\nu)` (:math:`N(T-K_{tot})`
    with :math:`T` the observations and :math:`K_{tot}=K+L` the coefficients per equation), which ignores
    the estimation of :math:`\Sigma` and over-rejects when :math:`N` is not small relative to :math:`\nu`
    (:math:`E[W/q]=\nu/(\nu-N-1)`).  ``form="wald"``: :math:`W\sim\chi^2(q)`, the asymptotic form that
    linearmodels' SUR reports.  Every form needs :math:`\hat\Sigma^{-1}`, so :math:`\nu\ge N`.

    References
    ----------
    Binder, J. J. (1985). On the use of the multivariate regression model in event studies. *Journal of
    Accounting Research*, 23(1), 370-383.

    Schipper, K., & Thompson, R. (1985). The impact of merger-related regulations using exact distributions
    of test statistics. *Journal of Accounting Research*, 23(1).

    Hotelling, H. (1931). The generalization of Student's ratio. *Annals of Mathematical Statistics*, 2(3),
    360-378.

    McKeon, J. J. (1974). F approximations to the distribution of Hotelling's T0^2. *Biometrika*, 61(2),
    381-383.

    Anderson, T. W. (2003). *An Introduction to Multivariate Statistical Analysis* (3rd ed.), chapters 5
    and 8. Wiley.
    """
    return _mvrm(Inputs(fit, window, clusters=clusters), "joint", form).results("mvrm_joint", window)


def mvrm_average(fit, window: tuple[int, int], *, clusters=None, form: str = "exact") -> list[TestResult]:
    r"""Test that a same-day cluster's average abnormal return over the window is zero.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)
    clusters : array_like, optional
        As in :func:`mvrm_joint`.
    form : {"exact", "binder", "wald"}
        The reference distribution (see Notes).

    Returns
    -------
    list of TestResult
        One per cluster, as :func:`mvrm_joint`; it needs only :math:`\nu\ge1` and a positive portfolio
        variance, so clusters larger than the estimation window (:math:`N>\nu`) are tested too.

    Notes
    -----
    :math:`H_0: \bar\gamma = \frac1N\sum_{i=1}^N\sum_{d\in W}\gamma_{id} = 0` (one restriction), with
    the system of the module docstring:

    .. math::

        t = \frac{\hat{\bar\gamma}}{\sqrt{\widehat{\operatorname{Var}}(\hat{\bar\gamma})}},\qquad
        \widehat{\operatorname{Var}}(\hat{\bar\gamma})
          = \frac{\iota_N'\hat\Sigma\iota_N}{N^2}\,\iota_L' C\,\iota_L
          = \frac{1}{\nu}\sum_{t\in E}\hat e_{pt}^2\;\iota_L' C\,\iota_L,\qquad
        \hat e_{pt}=\frac1N\sum_{i=1}^N\hat\varepsilon_{it},

    so :math:`t^2` is the Wald statistic of the restriction, and the variance is computed from the
    equally weighted portfolio's residuals :math:`\hat e_{pt}` on the :math:`T` common estimation days
    :math:`E`: no :math:`\hat\Sigma^{-1}` is needed, only :math:`\iota'\hat\Sigma\iota>0`.  Averaging the
    equations gives the portfolio's own regression, with the same regressors and
    :math:`\hat{\bar\gamma}` its CAR over the window, so this is the time-series t of the portfolio's
    CAR (Schipper & Thompson 1983).  ``form="exact"`` (default): under normal errors
    :math:`\nu\,\iota'\hat\Sigma\iota/\iota'\Sigma\iota\sim\chi^2_\nu` independently of
    :math:`\hat{\bar\gamma}`, so :math:`t\sim t(\nu)` exactly, :math:`\nu=T-K`, whatever :math:`N`.
    ``form="binder"``: :math:`t^2\sim F(1,N\nu)`, reported as :math:`t\sim t(N\nu)`.  ``form="wald"``:
    :math:`t\sim N(0,1)`.

    References
    ----------
    Binder, J. J. (1985). On the use of the multivariate regression model in event studies. *Journal of
    Accounting Research*, 23(1), 370-383.

    Schipper, K., & Thompson, R. (1983). The impact of merger-related regulations on the shareholders of
    acquiring firms. *Journal of Accounting Research*, 21(1), 184-221.
    """
    return _mvrm(Inputs(fit, window, clusters=clusters), "average", form).results("mvrm_average", window)


register(
    TestSpec(
        "mvrm_joint",
        mvrm_joint,
        "clustered",
        "joint test of every same-day firm's abnormal returns, full cross-firm covariance",
        "Binder (1985); Schipper & Thompson (1985)",
        lambda inp: _mvrm(inp, "joint"),
    )
)
register(
    TestSpec(
        "mvrm_average",
        mvrm_average,
        "clustered",
        "a same-day cluster's average CAR, full cross-firm covariance",
        "Binder (1985); Schipper & Thompson (1983)",
        lambda inp: _mvrm(inp, "average"),
    )
)

state_nulls({"mvrm_joint": "every firm's abnormal return on every day of the window is zero"}, alternative="upper")
state_nulls({"mvrm_average": "the cluster's average CAR (equally weighted portfolio) is zero"})
