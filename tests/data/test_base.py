"""Helpers every source shares: library versions for provenance, retries with a doubling pause."""

from __future__ import annotations

import importlib.metadata
import time

import numpy as np
import pandas as pd
import pytest

import eventstudy
from eventstudy.data.base import library_versions, retry


def test_library_versions_names_the_libraries_that_shape_the_numbers():
    found = library_versions()
    assert found["eventstudy"] == eventstudy.__version__
    assert found["eventstudy-toolkit"] == importlib.metadata.version("eventstudy-toolkit")
    assert found["pandas"] == pd.__version__ and found["numpy"] == np.__version__
    for package in ("scipy", "statsmodels", "pyarrow", "yfinance", "exchange-calendars"):
        assert found[package] == importlib.metadata.version(package)


def test_library_versions_returns_a_fresh_copy():
    first = library_versions()
    first["pandas"] = "edited"
    assert library_versions()["pandas"] == pd.__version__
    assert library_versions() is not library_versions()


@pytest.fixture
def pauses(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


def test_retry_doubles_the_pause_and_returns_the_first_success(pauses):
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("reset by peer")
        return "rows"

    assert retry(flaky, retries=5, pause=0.5, retry_on=lambda exc: isinstance(exc, OSError)) == "rows"
    assert len(attempts) == 3 and pauses == [0.5, 1.0]


def test_retry_raises_the_last_error_when_the_attempts_are_used_up(pauses):
    attempts = []

    def down():
        attempts.append(1)
        raise TimeoutError(f"attempt {len(attempts)} timed out")

    with pytest.raises(TimeoutError, match="attempt 4 timed out"):
        retry(down, retries=3, pause=1.0, retry_on=lambda exc: True)
    assert pauses == [1.0, 2.0, 4.0]


def test_retry_stops_at_an_error_it_should_not_retry(pauses):
    def broken():
        raise KeyError("chart")

    with pytest.raises(KeyError, match="chart"):
        retry(broken, retries=3, pause=1.0, retry_on=lambda exc: isinstance(exc, OSError))
    assert pauses == []


def test_retry_with_no_retries_calls_once(pauses):
    calls = []

    def once():
        calls.append(1)
        raise OSError("no route to host")

    with pytest.raises(OSError):
        retry(once, retries=0, pause=1.0, retry_on=lambda exc: True)
    assert calls == [1] and pauses == []
