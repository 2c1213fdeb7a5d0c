"""The study's settings go down as one frozen FitSpec; nothing in eventstudy.estimation sees the EventStudy."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.estimation.spec import FitSpec

ESTIMATION = Path(es.__file__).resolve().parent / "estimation"


def _returns(kind: str | None) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    index = es.TradingCalendar("XNYS").sessions_in_range("2024-01-02", "2024-12-31")
    m = rng.normal(0, 0.01, len(index))
    frame = pd.DataFrame({"SPY": m, "AAA": 0.001 + 1.2 * m + rng.normal(0, 0.01, len(index))}, index=index)
    if kind is not None:
        frame.attrs["return_kind"] = kind
    return frame


def _study(**kwargs) -> es.EventStudy:
    events = pd.DataFrame({"ticker": ["AAA"], "date": ["2024-11-01"], "session": ["pre"]})
    return es.EventStudy(events, market="SPY", **kwargs)


def test_the_spec_is_frozen_and_built_with_every_field_final():
    study = _study(returns=_returns("log"), outcome="volatility")
    spec = study._validated()
    assert isinstance(spec, FitSpec)
    assert (spec.return_kind, spec.outcome) == ("log", "volatility")  # read from the returns' attrs, up front
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.outcome = "returns"  # type: ignore[misc]
    assert dataclasses.replace(spec, outcome="returns").outcome == "returns" and spec.outcome == "volatility"


@pytest.mark.parametrize(("given", "expected"), [(None, "simple"), ("log", "log"), ("simple", "simple")])
def test_the_return_kind_of_the_results_is_the_one_the_returns_state(given, expected):
    res = _study(returns=_returns(given)).fit()
    assert res.settings["return_kind"] == expected


def test_a_bad_return_kind_in_attrs_is_refused_before_any_work():
    with pytest.raises(ValueError, match=r"returns.attrs\['return_kind'\]"):
        _study(returns=_returns("percent"))._validated()


def test_a_volatility_study_fits_its_returns_once_on_the_same_spec():
    vol = _study(returns=_returns(None), outcome="volatility").fit()
    plain = _study(returns=_returns(None)).fit()
    np.testing.assert_array_equal(vol.ar["ar"], plain.ar["ar"])  # one fit: the volatility study is a returns study
    assert isinstance(vol, es.EventStudyResults) and vol.settings["outcome"] == "volatility"


def test_no_estimation_module_sees_the_study_object():
    """No import of the results layer, no parameter named ``study``, no read of an EventStudy attribute."""
    for path in sorted(ESTIMATION.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not any(n.startswith("eventstudy.results") for n in names), path.name
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                params = [a.arg for a in (*node.args.args, *node.args.kwonlyargs)]
                assert "study" not in params, f"{path.name}: {node.name}(study)"
