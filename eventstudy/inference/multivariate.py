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
from scipy.linalg.lapack import dtrtri

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


def _estimation_part(a: np.ndarray, days: np.ndarray, x: np.ndarray) -> tuple[dict, np.ndarray]:
    r"""What B same-size clusters' statistics need from the estimation days alone (the same for every window).

    ``a`` (B, N, T) abnormal returns on the estimation window, zero off ``days`` (B, T), the common
    estimation days (where every member has a residual), ``x`` (B, T, K) regressors.  Returns ``delta``
    (B, K, N), :math:`\hat\delta=(X'X)^{-1}X'A`, and ``delta_sum`` (B, K), :math:`\sum_i\hat\delta_i`,
    ``xtx`` (B, K, K), ``bad_x`` (the regressors do not identify the model on the common days), ``nu`` and
    ``portfolio_ss``, the residual sum of squares of the equally weighted portfolio :math:`p=A\iota/N`
    (:math:`\iota'\hat\Sigma\iota/N^2=` ``portfolio_ss`` :math:`/\nu`):

    .. math::

        \hat e_p'\hat e_p = p'p - p'X(X'X)^{-1}X'p ,

    all from the products of :math:`W=[X\ p]'` with itself and with :math:`A`, zero off the common days,
    without the (B, N, T) residuals.  The cancellation is slight: the abnormal returns are the
    residuals of each firm's own fit on (nearly) these days, so :math:`p'X(X'X)^{-1}X'p\ll p'p`.  The second
    value is :math:`X'` (B, K, T), zero off the common days, which the joint test's part reads.
    """
    k = x.shape[2]
    # W = [X p]' built in place: a concatenation of masked copies cost three (B, K + 1, T) arrays
    w = _masked_regressors(x, days)
    np.add.reduce(a, axis=1, out=w[:, k])  # np.mean's sum and division, without its Python steps
    w[:, k] /= a.shape[1]
    wa = w @ np.swapaxes(a, 1, 2)  # X'A and p'A, (B, K + 1, N)
    ww = np.einsum("bkt,bjt->bkj", w, w)  # X'X, X'p and p'p: faster than matmul's path for w @ w'
    portfolio_ss = ww[:, k, k]
    nu = (days.sum(axis=1) - k).astype(float)
    bad_x = np.zeros(len(a), dtype=bool)
    xtx = delta = delta_sum = None
    if k:
        xtx = ww[:, :k, :k]
        bad_x = _rank_deficient(xtx)
        xtx = np.where(bad_x[:, None, None], np.eye(k), xtx)
        fitted = np.linalg.solve(xtx, np.concatenate([ww[:, :k, k:], wa[:, :k]], axis=2))  # (X'X)^-1 X'[p A]
        delta = fitted[:, :, 1:]
        delta_sum = delta.sum(axis=2)  # once here, not once a window
        portfolio_ss = portfolio_ss - (ww[:, :k, k] * fitted[:, :, 0]).sum(axis=1)
    parts = dict(delta=delta, delta_sum=delta_sum, xtx=xtx, bad_x=bad_x, nu=nu, portfolio_ss=portfolio_ss)
    return parts, w[:, :k]


#: :func:`_rank_deficient` leaves to ``matrix_rank`` the matrices whose bounds miss its tolerance by less
_RANK_MARGIN = 10.0 * np.finfo(float).eps


def _rank_deficient(xtx: np.ndarray) -> np.ndarray:
    r"""``np.linalg.matrix_rank(xtx) < K`` for a stack (B, K, K) of :math:`X'X`, without an SVD of each.

    ``matrix_rank`` counts the singular values above :math:`s_{max}K\epsilon`.  With :math:`s_{max}\le
    \operatorname{tr}(X'X)` and :math:`s_{min}\ge 1/\operatorname{tr}((X'X)^{-1})`, a matrix whose bounds
    clear that tolerance tenfold has full rank; ``matrix_rank`` decides the others.
    """
    k = xtx.shape[1]
    unsure = np.ones(len(xtx), dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        try:
            lower = 1.0 / np.trace(np.linalg.inv(xtx), axis1=1, axis2=2)
        except np.linalg.LinAlgError:
            pass
        else:
            unsure = ~(lower > _RANK_MARGIN * k * np.trace(xtx, axis1=1, axis2=2))
    out = np.zeros(len(xtx), dtype=bool)
    if unsure.any():
        out[unsure] = np.linalg.matrix_rank(xtx[unsure]) < k
    return out


def _joint_part(a: np.ndarray, x_t: np.ndarray, delta: np.ndarray | None, nu: np.ndarray) -> dict:
    r"""The joint test's part of B clusters of N firm-events with ``nu`` residual degrees of freedom, from
    ``a`` (B, N, T), their abnormal returns on the estimation window, zero off the common estimation days,
    ``x_t`` (B, K, T), the regressors, zero there too, and :func:`_estimation_part`'s ``delta`` (B, K, N)
    (None without regressors).  ``a`` is overwritten: the residuals are formed in it when every cluster has
    :math:`\nu\ge N` and there are regressors.

    Returns ``ok``, whether :math:`\hat\Sigma=(A-X\hat\delta)'(A-X\hat\delta)/\nu` is invertible, and
    ``sigma_root`` (B,), an object array of the (N, N) lower triangular :math:`U` with
    :math:`\hat\Sigma^{-1}=U'U` where it is (:func:`_with_joint_part`; up to rounding above the diagonal for
    small clusters, :func:`_triangular_inverses`; None elsewhere here, 0 where a cached table pads it: read
    only where ``ok``): a cache that grows by a few clusters, or hands a few, moves pointers instead of
    copying (B, N, N) arrays.  Only clusters with :math:`\nu\ge N` can have an
    invertible :math:`\hat\Sigma`: the others cost nothing.  :math:`\hat\Sigma` is formed from the
    residuals, not from the cross-products :math:`A'A-\hat\delta'X'X\hat\delta`: with :math:`\nu` near
    :math:`N` its inverse is ill conditioned (condition numbers of :math:`10^5` when :math:`\nu=N+1`), so
    that the last bits of :math:`\hat\Sigma`, which any other order of the sums changes, move the
    statistic by :math:`10^{-12}`, and the cancellation of the cross-products would move it by far more.
    """
    b, n, _ = a.shape
    sigma_root, ok = np.full(b, None, dtype=object), np.zeros(b, dtype=bool)
    full = np.flatnonzero(nu >= n)
    if not len(full):
        return dict(sigma_root=sigma_root, ok=ok)
    every = len(full) == b  # no copy of the (B, N, T) returns when every cluster is solved
    resid = a if every else a[full]
    if delta is not None:
        fitted = np.swapaxes(delta if every else delta[full], 1, 2) @ (x_t if every else x_t[full])
        resid -= fitted  # (B, N, T), not X delta's (B, T, N) transposed; in place (``a`` is read no more)
    sigma = resid @ np.swapaxes(resid, 1, 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma /= nu[full][:, None, None]
    root, ok[full] = _with_joint_part(sigma, nu[full])
    root.flags.writeable = False  # the cache's: other threads read its views
    for solved in np.flatnonzero(ok[full]):  # a step per cluster, not per firm-event
        sigma_root[full[solved]] = root[solved]
    return dict(sigma_root=sigma_root, ok=ok)


def _with_joint_part(sigma: np.ndarray, nu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The inverse factor of each :math:`\hat\Sigma` of a stack, :math:`U=L^{-1}D^{-1}` with :math:`LL'` the
    Cholesky factorization of the correlation matrix :math:`D^{-1}\hat\Sigma D^{-1}` and :math:`D` the standard
    deviations, so that :math:`\hat\Sigma^{-1}=U'U` (anything where :math:`\hat\Sigma` is singular), and whether
    it is not: :math:`\nu\ge N`, positive variances and a positive definite correlation matrix.  ``sigma`` is
    scaled to the correlations in place (the caller's own array: a (B, N, N) copy less each way)."""
    n = sigma.shape[1]
    scale = np.sqrt(np.diagonal(sigma, axis1=1, axis2=2))
    ok = (nu >= n) & (scale > 0).all(axis=1)
    unit = np.where(scale > 0, scale, 1.0)
    corr = sigma
    corr /= unit[:, :, None]
    corr /= unit[:, None, :]
    corr[~ok] = np.eye(n)
    definite, root = _positive_definite(corr)
    root /= unit[:, None, :]
    return root, ok & definite


def _positive_definite(corr: np.ndarray, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    r"""Whether the smallest eigenvalue of each correlation matrix exceeds ``tol``, and the inverses
    :math:`L^{-1}` of their lower Cholesky factors (:math:`R^{-1}=L^{-\prime}L^{-1}`).

    Cheap bounds settle most matrices without an eigendecomposition: with the Cholesky pivots
    :math:`\ell_{ii}^2` (each a Schur complement, so :math:`\lambda_{min}\le\min_i\ell_{ii}^2`) and
    :math:`\operatorname{tr}(R^{-1})=\|L^{-1}\|_F^2`, :math:`1/\operatorname{tr}(R^{-1})\le\lambda_{min}`;
    ``eigvalsh`` decides the rest, and every matrix when one of the batch is not positive definite at all.
    Where a matrix fails, its factor's inverse is that of the identity.
    """
    eye = np.eye(corr.shape[1])
    try:
        factors = np.linalg.cholesky(corr)
        pivots = np.diagonal(factors, axis1=1, axis2=2) ** 2  # before the inverses: large ones overwrite factors
        roots = _triangular_inverses(factors)  # an LU of a factor with a pivot near zero can be singular
    except np.linalg.LinAlgError:
        ok = np.linalg.eigvalsh(corr)[:, 0] > tol
        return ok, _triangular_inverses(np.linalg.cholesky(np.where(ok[:, None, None], corr, eye)))
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = 1.0 / np.einsum("bij,bij->b", roots, roots)
    ok = lower > tol
    unsure = ~ok & (pivots.min(axis=1) > tol)
    if unsure.any():
        ok[unsure] = np.linalg.eigvalsh(corr[unsure])[:, 0] > tol
    roots[~ok] = eye
    return ok, roots


#: largest matrix side inverted as one stacked call in :func:`_triangular_inverses`
_STACKED_INV = 48


def _triangular_inverses(factors: np.ndarray) -> np.ndarray:
    r"""The inverse of each lower triangular matrix of a stack (B, n, n) with a positive diagonal (Cholesky
    factors :math:`L`), in place of ``factors`` when they are large and in C order.

    Small matrices (a few firm-events a date) are inverted in one stacked call, where a loop's Python
    overhead would dominate: numpy's general inverse, an LU that may pivot, so that rounding (about
    :math:`10^{-14}` relative) can be left above the diagonal; :math:`U'U` is :math:`R^{-1}` all the same.
    Large ones are taken one at a time, with LAPACK's ``trtri`` (numpy's stacked ``inv`` ran 10-40x slower than a loop on 100 x 100 matrices here, and an LU ignores the triangle): each
    C-ordered factor is handed as its transpose, the upper triangular :math:`L'` in Fortran order, whose
    inverse :math:`L^{-\prime}` ``trtri`` writes over it, which read in C order is :math:`L^{-1}`; the zeros
    above the diagonal stay.  A successful Cholesky factorization leaves no zero on the diagonal, so
    ``trtri`` cannot fail.
    """
    if factors.shape[1] <= _STACKED_INV:
        return np.linalg.inv(factors)
    out = np.ascontiguousarray(factors)
    for factor in out:
        dtrtri(factor.T, lower=0, overwrite_c=1)
    return out


def _systems(inp: Inputs, joint: bool):
    """Find the clusters and solve their systems (once per :class:`Inputs`); the joint test's statistic only
    when ``joint`` (the average test takes the joint test's systems when they are there)."""
    if not joint and ("mvrm", True) in inp.memo:
        return inp.memo[("mvrm", True)]
    return inp.once(("mvrm", joint), lambda: _solve_clusters(inp, joint))


def _solve_clusters(inp: Inputs, joint: bool):
    """The systems of every reported cluster, solved in one batch per cluster size: no Python step per
    firm-event; per cluster only the list of each entry's rows that :class:`Batch` keeps and a pointer to
    each solved cluster's inverse factor (:func:`_joint_part`)."""
    groups, used = inp.groups, inp.used
    uniq, inverse, n_all, order = _clusters(inp)
    # the firm-events cluster by cluster, ascending within each; ``kept`` those with a CAR over the window
    kept = order[used[order]]
    n_used = np.bincount(inverse[kept], minlength=len(uniq))
    used_start = np.cumsum(n_used) - n_used
    # report every cluster of a group with at least one cluster of two; else one invalid row for the group
    # (the clusters are sorted by group, so a stable sort by group puts both kinds of entry in place)
    cluster_group = uniq[:, 0]
    has_pair = np.zeros(groups.n, dtype=bool)
    has_pair[cluster_group[n_used >= 2]] = True
    reported = np.flatnonzero(has_pair[cluster_group])
    lone = np.flatnonzero(~has_pair)
    entry_group = np.concatenate([cluster_group[reported], lone])
    entry_cluster = np.concatenate([reported, np.full(len(lone), -1)])
    by_group = np.argsort(entry_group, kind="stable")
    entry_group, entry_cluster = entry_group[by_group], entry_cluster[by_group]
    size = len(entry_group)
    out = _Systems(size)
    entries = np.flatnonzero(entry_cluster >= 0)
    clusters = entry_cluster[entries]
    firms = n_used[clusters]
    out.firms[entries] = firms
    reasons = np.full(size, "", dtype=object)
    reasons[entry_cluster < 0] = _NO_CLUSTER
    for count in np.unique(firms[firms < 2]):
        reasons[entries[firms == count]] = (
            f"a same-day cluster needs at least 2 firm-events with a CAR; this date has {count}"
        )
    # the tested days' abnormal returns (N, Lw), read for the joint test's residuals: a view (the window's days
    # are consecutive columns of the grid), not a copy of every firm-event's
    first = int(inp.grid_positions[0])
    window_ar = inp.ar[:, first : first + len(inp.grid_positions)] if joint else None
    systems = np.flatnonzero(firms >= 2)
    k = inp.fit.n_params  # 0 for market-adjusted returns
    # the regressors on the window of every system (S, Lw, K); NaN where a regressor misses
    x_win = inp.fit.design(inp.grid[inp.grid_positions], rows=kept[used_start[clusters[systems]]]) if k else None
    s_win = None if x_win is None else x_win.sum(axis=1)  # (S, K)
    # the arrays are (B, N, T): one batch per cluster size, whose K x K pieces are collected for what needs no
    # more (the notes, the average test, the joint test's last step), done once for the window
    idx, sizes = entries[systems], firms[systems]
    est = _collected(len(systems), k, joint)
    car = np.zeros(len(systems))
    if joint:
        squares, cross = np.full(len(systems), np.nan), np.zeros((len(systems), k, k))
    for n in np.unique(sizes):
        at = np.flatnonzero(sizes == n)
        rows = kept[used_start[clusters[systems[at]]][:, None] + np.arange(n)]  # (B, N)
        part = _cached_estimation_parts(inp, rows, joint)
        for name, whole in est.items():
            whole[at] = part[name]
        car[at] = inp.car[rows].sum(axis=1)
        if window_ar is not None:  # the joint test's (set when joint)
            squares[at], cross[at] = _joint_squares(rows, part, window_ar, None if x_win is None else x_win[at])
    _notes(out, reasons, idx, sizes, est, k)
    _average(out, idx, sizes, car, len(inp.grid_positions), s_win, est)
    if joint:
        out.wald[idx] = _joint_wald(squares, cross, est, x_win)
    # a reason that stops the whole system stops both tests
    stop = reasons != ""
    out.joint_note[stop] = reasons[stop]
    out.average_note[stop] = reasons[stop]
    return out, entry_group, _entry_rows(entry_cluster, order, kept, n_all, n_used, used_start)


def _clusters(inp: Inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The same-day clusters of the firm-events, whichever their window: the distinct (group, cluster label,
    day 0) rows, each firm-event's cluster, the clusters' sizes and the firm-events cluster by cluster
    (ascending within each).

    Cached on the fit with the groups and labels they were found for (compared by value, a pass over N
    items against the sorts of finding them), so the windows of one study find them once.
    """
    fit, ids, labels = inp.fit, inp.groups.ids, inp.clusters
    with fit.lock("inference:mvrm-clusters"):
        known = fit._cache.get("inference:mvrm-clusters")
        if known is not None and np.array_equal(known[0], ids) and _same_labels(known[1], labels):
            return known[2]
        day0 = np.asarray(fit.day0, dtype=np.int64)
        codes = np.zeros(fit.n, dtype=np.int64) if labels is None else np.unique(labels, return_inverse=True)[1]
        uniq, inverse, n_all = unique_rows(np.stack([ids, codes.ravel(), day0], axis=1))
        found = (uniq, inverse, n_all, np.argsort(inverse, kind="stable"))
        for values in found:
            values.flags.writeable = False
        # copies: a caller may change its arrays in place between two windows
        fit._cache["inference:mvrm-clusters"] = (ids.copy(), None if labels is None else labels.copy(), found)
        return found


def _same_labels(known: np.ndarray | None, labels: np.ndarray | None) -> bool:
    """Whether two cluster labellings (None: one cluster per date) are the same."""
    if known is None or labels is None:
        return known is None and labels is None
    return known.shape == labels.shape and known.dtype == labels.dtype and bool(np.array_equal(known, labels))


def _entry_rows(entry_cluster, order, kept, n_all, n_used, used_start) -> list:
    """Each entry's firm-events (those with a CAR, or all of the cluster's when none has one; None for a
    group's single invalid entry), as :class:`Batch` rows: slices of one array."""
    all_start = np.cumsum(n_all) - n_all
    pool = np.concatenate([kept, order])
    start = np.where(n_used > 0, used_start, len(kept) + all_start)
    stop = start + np.where(n_used > 0, n_used, n_all)
    cluster = np.maximum(entry_cluster, 0)
    starts = np.where(entry_cluster < 0, -1, start[cluster]).tolist()
    stops = stop[cluster].tolist()
    return [None if a < 0 else pool[a:b] for a, b in zip(starts, stops)]


def _collected(size: int, k: int, joint: bool) -> dict:
    """Room for the K x K estimation parts (:func:`_cached_estimation_parts`) of ``size`` systems, ``delta_sum``
    and ``xtx`` only with regressors and ``ok`` only for the joint test."""
    est = dict(days=np.zeros(size, dtype=np.int64), nu=np.zeros(size), portfolio_ss=np.zeros(size))
    est["bad_x"] = np.zeros(size, dtype=bool)
    if k:
        est.update(delta_sum=np.zeros((size, k)), xtx=np.zeros((size, k, k)))
    if joint:
        est["ok"] = np.zeros(size, dtype=bool)
    return est


def _notes(out: _Systems, reasons: np.ndarray, idx: np.ndarray, n: np.ndarray, est: dict, k: int) -> None:
    """The common estimation days of the systems, entries ``idx`` of ``out`` with ``n`` firm-events each, and
    their notes: ``reasons`` where neither test can run, the joint test's own where only it cannot (``est``
    has ``ok`` when the joint test was asked for)."""
    days = est["days"]
    out.days[idx] = days
    out.nu[idx] = days - k
    # no residual degrees of freedom: neither test can run
    none = out.nu[idx] < 1
    for count in np.unique(days[none]) if none.any() else ():
        reasons[idx[none & (days == count)]] = (
            f"the cluster has only {count} common estimation days for {k} coefficients (T - K = {count - k}); "
            "mvrm needs T - K >= 1"
        )
    # Sigma-hat has rank at most T - K: the joint test needs T - K >= N; the average test does not
    short = ~none & (out.nu[idx] < n)
    if short.any():  # a text per distinct (N, T)
        pairs, inverse, _ = unique_rows(np.stack([n[short], days[short]], axis=1))
        texts = np.array(
            [
                f"the cluster has {firms} firm-events but only {count} common estimation days "
                f"(T - K = {count - k}); the joint test needs T - K >= N (mvrm_average does not)"
                for firms, count in pairs.tolist()
            ],
            dtype=object,
        )
        out.joint_note[idx[short]] = texts[inverse]
    if "ok" in est:
        out.joint_note[idx[~none & ~est["ok"] & ~short]] = (
            "the residual covariance of the cluster is singular (the same security twice?); the joint test "
            "needs its inverse (mvrm_average does not)"
        )
    reasons[idx[~none & est["bad_x"]]] = "the model's regressors do not vary over the cluster's common estimation days"


def _average(
    out: _Systems, idx: np.ndarray, n: np.ndarray, car: np.ndarray, length: int, s: np.ndarray | None, est: dict
) -> None:
    r"""The average test's :math:`\hat{\bar\gamma}` and its variance for B systems of ``n`` (B,) firm-events,
    entries ``idx`` of ``out``, from ``car`` (B,), their members' CARs summed, the window's ``length``, ``s`` (B, K),
    :math:`s=X_W'\iota_L`, the regressors summed over the window (None for market-adjusted returns), and
    their estimation parts (:func:`_estimation_part`); left NaN where :math:`\nu<1`.

    No (B, N, Lw) array is needed: the members' abnormal returns summed over the window are their CARs, so

    .. math::

        \hat{\bar\gamma} = \frac1N\Bigl(\sum_i CAR_i - s'\sum_i\hat\delta_i\Bigr),\qquad
        \iota_L'C\iota_L = L + s'(X_E'X_E)^{-1}s .
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        if s is not None:
            average = (car - (s * est["delta_sum"]).sum(axis=1)) / n
            spread = length + (s * np.linalg.solve(est["xtx"], s[:, :, None])[:, :, 0]).sum(axis=1)
        else:
            average = car / n
            spread = float(length)
        variance = est["portfolio_ss"] / est["nu"] * spread
    solved = est["nu"] >= 1
    out.average[idx[solved]] = average[solved]
    out.average_var[idx[solved]] = variance[solved]


def _joint_squares(
    rows: np.ndarray, est: dict, window_ar: np.ndarray, x_win: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    r"""The parts of the joint test's Wald statistic (:func:`_joint_wald`) that need the clusters' members:
    :math:`\|Y\|_F^2` (B,) and :math:`V'V` (B, K, K) of the clusters ``rows`` (B, N) whose :math:`\hat\Sigma` is
    invertible (``est["ok"]``; NaN and 0 for the others), from ``window_ar`` (N, Lw), the window's abnormal
    returns, and ``x_win`` (B, Lw, K), the clusters' regressors on the window (None: none).
    """
    b, k = len(rows), 0 if x_win is None else x_win.shape[2]
    squares, cross = np.full(b, np.nan), np.zeros((b, k, k))
    solvable = np.flatnonzero(est["ok"])
    if not len(solvable):
        return squares, cross
    g = window_ar[rows[solvable]]
    with np.errstate(invalid="ignore"):
        if x_win is not None:
            x = x_win[solvable]
            g = g - np.swapaxes(x @ est["delta"][solvable], 1, 2)
        y = np.stack(est["sigma_root"][solvable]) @ g
        squares[solvable] = np.einsum("bnl,bnl->b", y, y)
        if x_win is not None:
            v = y @ x
            cross[solvable] = np.swapaxes(v, 1, 2) @ v
    return squares, cross


def _joint_wald(squares: np.ndarray, cross: np.ndarray, est: dict, x_win: np.ndarray | None) -> np.ndarray:
    r"""The joint test's Wald statistic of every system, NaN where :math:`\hat\Sigma` is singular, from
    :func:`_joint_squares`' ``squares`` and ``cross``, the estimation parts ``est`` and ``x_win`` (S, Lw, K),
    the systems' regressors on the window (None: none).

    :math:`\hat\Gamma` (N, Lw) is the tested days' abnormal returns less what the common estimation days'
    regression predicts; :math:`C^{-1}=I-X_W(X_E'X_E+X_W'X_W)^{-1}X_W'` (Woodbury) and
    :math:`\hat\Sigma^{-1}=U'U` (:func:`_with_joint_part`), so that with :math:`Y=U\hat\Gamma` and
    :math:`V=YX_W`

    .. math::

        W=\operatorname{tr}\bigl(\hat\Sigma^{-1}\hat\Gamma C^{-1}\hat\Gamma'\bigr)
         =\|Y\|_F^2-\operatorname{tr}\bigl((X_E'X_E+X_W'X_W)^{-1}V'V\bigr):

    K x K systems, neither the inverse of each Lw x Lw C nor the N x N :math:`\hat\Sigma^{-1}` and
    :math:`H`.
    """
    if x_win is None:
        return squares
    wald = squares.copy()
    solvable = np.flatnonzero(est["ok"])
    if len(solvable):
        x = x_win[solvable]
        with np.errstate(invalid="ignore"):
            m = est["xtx"][solvable] + np.swapaxes(x, 1, 2) @ x
            wald[solvable] -= np.trace(np.linalg.solve(m, cross[solvable]), axis1=1, axis2=2)
    return wald


class _Parts:
    """The estimation parts of clusters of one size, a row per cluster, found by the cluster's rows.

    Never changed once built: a cluster added, or the joint test's part computed, makes a new one, so other
    threads may read an old one outside the cache's lock.  ``source`` is the abnormal returns they come
    from; ``arrays`` holds :func:`_estimation_part`'s and ``days``, and once the joint test asked,
    ``sigma_root`` (an object array of matrices) and ``ok`` (:func:`_joint_part`) with ``joint`` marking the
    clusters that have them.
    """

    def __init__(self, source, rows: np.ndarray, arrays: dict):
        self.source = source
        self.rows = rows
        self.arrays = arrays
        for values in arrays.values():
            if values is not None:
                values.flags.writeable = False
        keys = _row_keys(rows)
        self._order = np.argsort(keys, kind="stable")
        self._sorted = keys[self._order]

    def find(self, rows: np.ndarray) -> np.ndarray:
        """Position of each cluster ``rows`` (B, N) here, -1 where it is not."""
        if not len(self.rows):
            return np.full(len(rows), -1)
        at = self._order[np.minimum(np.searchsorted(self._sorted, _row_keys(rows)), len(self.rows) - 1)]
        # the keys are hashes: the rows themselves decide (a collision costs a recomputation, not a wrong match)
        return np.where((self.rows[at] == rows).all(axis=1), at, -1)

    def added(self, rows: np.ndarray, arrays: dict) -> _Parts:
        """These clusters and the clusters ``rows`` with their parts ``arrays``; the joint part (zero, and
        ``joint`` false) only where one side has it."""
        joined: dict = {}
        for name in dict.fromkeys([*self.arrays, *arrays]):
            old, new = self.arrays.get(name), arrays.get(name)
            like = new if old is None else old
            if like is None:  # no regressors
                joined[name] = None
                continue
            old = np.zeros((len(self.rows),) + like.shape[1:], like.dtype) if old is None else old
            new = np.zeros((len(rows),) + like.shape[1:], like.dtype) if new is None else new
            joined[name] = np.concatenate([old, new])
        return _Parts(self.source, np.concatenate([self.rows, rows]), joined)

    def with_joint(self, at: np.ndarray, parts: dict) -> _Parts:
        """These clusters with the joint part ``parts`` (:func:`_joint_part`'s) of the clusters ``at``."""
        arrays = dict(self.arrays)
        for name, values in dict(parts, joint=np.ones(len(at), dtype=bool)).items():
            known = arrays.get(name)
            whole = np.zeros((len(self.rows),) + values.shape[1:], values.dtype) if known is None else known.copy()
            whole[at] = values
            arrays[name] = whole
        return _Parts(self.source, self.rows, arrays)

    def take(self, at: np.ndarray) -> dict:
        """The parts of the clusters at positions ``at``: views when they are a run of consecutive positions (the
        clusters just added, say)."""
        index: np.ndarray | slice = at
        if len(at) and (np.diff(at) == 1).all():
            index = slice(at[0], at[-1] + 1)
        return {name: None if values is None else values[index] for name, values in self.arrays.items()}


def _row_keys(rows: np.ndarray) -> np.ndarray:
    """A hash (uint64) of each row of ``rows`` (B, N): each member's row and position mixed by splitmix64's
    finalizer, summed modulo 2**64 (a sort of int keys, several times faster than one of the rows' bytes).

    The mixing matters: a plain weighted sum is linear, so clusters such as (10, 20) and (7, 21) shared a key
    and the second was never found, recomputed and appended on every call.
    """
    z = rows.astype(np.uint64)
    z += np.arange(1, rows.shape[1] + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
        z ^= z >> np.uint64(shift)
        z *= np.uint64(factor)
    z ^= z >> np.uint64(31)
    return z.sum(axis=1, dtype=np.uint64)


def _cached_estimation_parts(inp: Inputs, rows: np.ndarray, joint: bool) -> dict:
    """The estimation parts of the clusters ``rows`` (B, N): :func:`_estimation_part`'s, ``days``, their
    number of common estimation days, and when ``joint``, :func:`_joint_part`'s; cached on the fit cluster
    by cluster.

    They depend on the cluster's members alone, not on the window, so a window whose clusters lost or gained
    a member (a firm-event without a CAR on some day) computes only those, as long as the abnormal returns
    are the fit's own (a simulation's injected ones are not shared).  One gather of the estimation window
    serves both parts.
    """
    fit = inp.fit
    n = rows.shape[1]
    columns = _estimation_columns(inp)
    with fit.lock("inference:mvrm"):
        tables = fit._cache.setdefault("inference:mvrm", {})
        table = tables.get(n)
        if table is not None and table.source is not inp.ar:
            table = None
        at = np.full(len(rows), -1) if table is None else table.find(rows)
        missing = np.flatnonzero(at < 0)
        start = 0 if table is None else len(table.rows)
        if len(missing):
            a, days, x = _gather(inp, rows[missing], columns)
            fresh, x_t = _estimation_part(a, days, x)
            fresh["days"] = days.sum(axis=1)
            if joint:  # into the table with the rest: no table without it, nor copy of one, on the way
                fresh.update(_joint_part(a, x_t, fresh["delta"], fresh["nu"]), joint=np.ones(len(missing), dtype=bool))
            table = _Parts(inp.ar, rows[missing], fresh) if table is None else table.added(rows[missing], fresh)
            at[missing] = start + np.arange(len(missing))
        if joint:
            lacking = at if "joint" not in table.arrays else at[~table.arrays["joint"][at]]
            if len(lacking):  # cached by the average test, of this window or of another
                lacking = np.unique(lacking)
                a, days, x = _gather(inp, table.rows[lacking], columns)
                delta = table.arrays["delta"]
                part = _joint_part(
                    a,
                    _masked_regressors(x, days)[:, :-1],
                    None if delta is None else delta[lacking],
                    table.arrays["nu"][lacking],
                )
                table = table.with_joint(lacking, part)
        tables[n] = table
    return table.take(at)


#: smallest cluster whose returns :func:`_gather` zeroes off the common days by index (and whose common
#: days it finds in one reduction, not member after member)
_INDEXED_MASK = 16


def _gather(inp: Inputs, rows: np.ndarray, columns: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The abnormal returns (B, N, T), zero off the common estimation days, the common estimation days
    (B, T) and the regressors (B, T, K) of the clusters ``rows`` (B, N) on the grid's ``columns``.  The
    regressors are NaN where missing, which changes nothing: only common estimation days are read.

    The rows are read with the columns in one indexing step, and masked in place: the (N, T) copy of the
    columns first, and a masked copy of the gathered returns, were each as large as the result.  Large
    clusters zero the (cluster, day) columns off the common days by index (0.08 ms against 0.33 ms for
    20 clusters of 50 with 40 % of the days off); small ones with one masked copy, faster below about ten
    members, and find their common days member after member (0.10 ms against 0.18 ms for 700 clusters of
    4, and slower for 50 members).
    """
    mask = inp.estimation_mask
    ar = inp.ar[rows, columns]
    if rows.shape[1] >= _INDEXED_MASK:
        days: np.ndarray = np.all(mask[rows, columns], axis=1)
        cluster, day = np.nonzero(~days)
        ar[cluster, :, day] = 0.0
    else:
        days = mask[rows[:, 0], columns]
        for member in rows.T[1:]:
            days &= mask[member, columns]
        np.copyto(ar, 0.0, where=~days[:, None, :])
    return ar, days, _estimation_regressors(inp, rows[:, 0])


def _estimation_regressors(inp: Inputs, rows: np.ndarray) -> np.ndarray:
    """The regressors (B, T, K) of the same-day firm-events ``rows`` on the grid's estimation window.

    They are their day 0's (a same-day cluster's are its date's, whichever its members), so they are built
    once per fit for every date with two firm-events or more and read from there: the windows' clusters,
    which differ by a member or two, each built their own (one design call per cluster size and window,
    0.1 ms each).
    """
    fit = inp.fit

    def compute():
        dates, first, counts = np.unique(fit.day0, return_index=True, return_counts=True)
        shared = counts >= 2  # a date of one firm-event forms no system
        x = fit.design(inp.grid[_estimation_columns(inp)], rows=first[shared])
        x.flags.writeable = False
        return dates[shared], x

    dates, x = fit.cached("inference:mvrm-design", compute)
    return x[np.searchsorted(dates, fit.day0[rows])]


def _masked_regressors(x: np.ndarray, days: np.ndarray) -> np.ndarray:
    """The regressors ``x`` (B, T, K) transposed, zero off ``days`` (B, T), with a row more for the caller:
    (B, K + 1, T)."""
    k = x.shape[2]
    w = np.empty((len(x), k + 1, x.shape[1]))
    np.copyto(w[:, :k], np.swapaxes(x, 1, 2))
    np.copyto(w[:, :k], 0.0, where=~days[:, None, :])
    return w


def _estimation_columns(inp: Inputs) -> slice:
    """The columns of the estimation window on the grid."""
    lo, hi = inp.fit.estimation_window
    return slice(int(np.searchsorted(inp.grid, lo)), int(np.searchsorted(inp.grid, hi, side="right")))


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
    computed = ~batch.failed
    if computed.any():  # thousands of clusters, a few hundred distinct sizes: each text formatted once
        pairs, inverse, _ = unique_rows(np.stack([out.firms[computed], out.days[computed]], axis=1))
        texts = np.array([f"{firms} firms, {days} common estimation days" for firms, days in pairs.tolist()], object)
        caveats = np.full(len(batch), "", dtype=object)
        caveats[computed] = texts[inverse]
        batch.caveat(computed, caveats)
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


#: the tests whose per-cluster rows are the same-day systems of :func:`systems_of`
MVRM_TESTS = ("mvrm_joint", "mvrm_average")


def systems_of(fit, window: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same-day clusters that form a system over ``window`` (at least two firm-events with a CAR), in the
    order of the MVRM tests' rows (one group, one system per date): ``(members, start, size)``, cluster k's
    firm-events (rows of ``fit``, ascending) ``members[start[k]:start[k] + size[k]]``.

    A system's statistics read its members' rows only, so the tests of the first few systems are the tests run
    on a fit of their members (:meth:`StackedFit.take`): what a display that shows the first rows needs,
    without solving every system.
    """
    inp = Inputs(fit, window)
    _, inverse, n_all, order = _clusters(inp)
    n_used = np.bincount(inverse[inp.used], minlength=len(n_all))
    systems = np.flatnonzero(n_used >= 2)
    start = np.cumsum(n_all) - n_all
    return order, start[systems], n_all[systems]
