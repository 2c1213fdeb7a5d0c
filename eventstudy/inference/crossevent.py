r"""Inference across events: the average effect of events on different dates.

Firm-events on one date share shocks, so a set of events is as many independent observations as it has
event dates, not firm-events.  Ibragimov & Müller (2010) turn that into a test that needs no estimate of the
within-date correlation: estimate the effect on each date alone and run a t test on those estimates.
"""

from __future__ import annotations

import numpy as np

from eventstudy.inference.base import (
    Batch,
    Inputs,
    TestResult,
    TestSpec,
    dist_labels,
    register,
    single,
    state_nulls,
    unique_rows,
)
from eventstudy.inference.parametric import p_t

__all__ = ["im_t", "MIN_IM_DATES"]

#: im_t needs at least this many event dates (Ibragimov & Müller's q >= 2)
MIN_IM_DATES = 2
#: below this many dates im_t is valid but has little power; the note says so
FEW_IM_DATES = 5


def _im_t(inp: Inputs) -> Batch:
    groups, used = inp.groups, inp.used
    rows = np.flatnonzero(used)
    # one cluster per independent group: the study's event groups (one announcement on several exchanges is
    # one group), else the firm-events sharing a day 0
    cluster = getattr(inp.fit, "cluster", None)
    day0 = np.asarray(inp.fit.day0 if cluster is None else cluster, dtype=np.int64)
    keys = np.stack([groups.ids[rows], day0[rows]], axis=1)
    clusters, inverse, sizes = unique_rows(keys)
    # theta_j: the mean CAR of the firm-events of date j
    theta = np.bincount(inverse.ravel(), weights=inp.car[rows], minlength=len(clusters)) / sizes
    owner = clusters[:, 0]
    q = np.bincount(owner, minlength=groups.n).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(owner, weights=theta, minlength=groups.n) / q
        dev = theta - mean[owner]
        sd = np.sqrt(np.bincount(owner, weights=dev**2, minlength=groups.n) / (q - 1.0))
        batch = Batch(groups.n)
        batch.stat = mean / (sd / np.sqrt(q))
    batch.pvalue = p_t(batch.stat, q - 1.0)
    batch.distribution = dist_labels("t", q - 1.0)
    batch.n[:] = q.astype(np.int64)
    batch.fail_each(
        q < MIN_IM_DATES,
        q,
        lambda k: (
            f"im_t compares the mean CARs of different event dates and needs at least {MIN_IM_DATES}; got "
            f"{int(k)} (one date: use kp_bmp, grank_t or mvrm_average)"
        ),
    )
    firms = groups.sum(used)
    texts = np.array(
        [f"{int(k)} event dates ({f} firm-events); valid at levels up to 8.3%" for k, f in zip(q, firms)],
        dtype=object,
    )
    batch.caveat(q >= MIN_IM_DATES, texts)
    batch.caveat((q >= MIN_IM_DATES) & (q < FEW_IM_DATES), "few dates: valid but low power")
    return batch.finish()


def im_t(fit, window: tuple[int, int]) -> TestResult:
    r"""Ibragimov & Müller (2010) t test of the average effect, one cluster per event date.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)

    Returns
    -------
    TestResult
        ``n`` is the number of event dates :math:`q`; invalid with fewer than :data:`MIN_IM_DATES`.

    Notes
    -----
    The firm-events are split into :math:`q` dates: the independent groups of :attr:`StackedFit.cluster`
    where the study set them (one announcement seen on several exchanges, whose day 0s differ, is one
    group; so are announcements that share a day 0), else the firm-events sharing a day 0
    (:attr:`StackedFit.day0`).  On date :math:`j`
    with :math:`N_j` firm-events the effect is estimated alone, and the :math:`q` estimates are tested
    with an ordinary t test:

    .. math::

        \hat\theta_j = \frac{1}{N_j}\sum_{i\in j} CAR_i,\qquad
        \bar\theta = \frac1q\sum_{j=1}^q\hat\theta_j,\qquad
        s^2_\theta = \frac{1}{q-1}\sum_j(\hat\theta_j-\bar\theta)^2,\qquad
        t_{IM} = \frac{\bar\theta}{s_\theta/\sqrt q}\ \text{vs}\ t(q-1).

    Any correlation *within* a date (the industry shock every same-day firm shares), fat tails and
    event-induced variance are absorbed by :math:`\hat\theta_j`; only independence *across* dates and
    approximate normality of each :math:`\hat\theta_j` are needed.  Ibragimov & Müller show that with
    independent, normal, possibly heteroskedastic :math:`\hat\theta_j` the t test is conservative for
    :math:`q\ge2` at levels :math:`\alpha\le 0.083`, so its 1%, 5% and 8% tests are valid even with
    very different numbers of firms per date; the null is that the dates' effects average zero
    (:math:`\frac1q\sum_j E\hat\theta_j=0`), each date weighted equally, not each firm-event.  Events
    whose windows overlap in calendar time are not independent; keep them apart or merge them.

    References
    ----------
    Ibragimov, R., & Müller, U. K. (2010). t-statistic based correlation and heterogeneity robust
    inference. *Journal of Business & Economic Statistics*, 28(4), 453-468.
    """
    return single(_im_t(Inputs(fit, window)), "im_t", window)


register(
    TestSpec(
        "im_t",
        im_t,
        "cross-section",
        "t test across event dates of each date's mean CAR",
        "Ibragimov & Müller (2010)",
        _im_t,
    )
)
state_nulls({"im_t": "the event dates' mean CARs average zero"})
