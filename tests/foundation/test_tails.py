"""The tails from scipy.special equal scipy.stats's to the last bit, edge values included."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from eventstudy.foundation.tails import chi2_sf, f_sf, norm_sf, t_ppf, t_sf

RNG = np.random.default_rng(13)
X = np.concatenate(
    [
        RNG.normal(0, 3, 400),
        RNG.standard_cauchy(100),
        [0.0, -0.0, 1e-300, -1e-300, 40.0, -40.0, np.inf, -np.inf, np.nan],
    ]
)
DF = np.concatenate([RNG.uniform(0.1, 500, 300), [1.0, 2.0, 30.0, 1e6, 0.0, -1.0, np.nan, np.inf]])


def equal(a, b):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # NaN where NaN, every other value exact


def test_t_sf_and_ppf():
    x, df = np.meshgrid(X, DF)
    equal(t_sf(x, df), stats.t.sf(x, df))
    q = np.array([1e-9, 0.025, 0.5, 0.975, 1 - 1e-9])
    qq, dd = np.meshgrid(q, DF)
    equal(t_ppf(qq, dd), stats.t.ppf(qq, dd))


def test_norm_sf():
    equal(norm_sf(X), stats.norm.sf(X))


def test_chi2_sf():
    x, k = np.meshgrid(np.abs(X[:200]).tolist() + [-1.0, 0.0, np.nan, np.inf], DF[:60])
    equal(chi2_sf(x, k), stats.chi2.sf(x, k))


@pytest.mark.parametrize("d2", [1.0, 7.5, 238.0, 1e5, 0.0, -3.0, np.nan])
def test_f_sf(d2):
    x, d1 = np.meshgrid(np.abs(X[:200]).tolist() + [-1.0, 0.0, np.nan, np.inf], DF[:60])
    equal(f_sf(x, d1, d2), stats.f.sf(x, d1, d2))
