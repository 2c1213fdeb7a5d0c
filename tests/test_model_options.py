"""The model options everywhere read the one registry: the command line, the study file, the docs; an unknown
name or a model without the data it needs is refused before any fit, naming the option."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.cli import build_parser, main
from eventstudy.estimation.models import REGISTRY, model_names
from eventstudy.report.study import read_study

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _help(command: str) -> str:
    parser = build_parser()
    out = io.StringIO()
    sub = next(a for a in parser._actions if a.dest == "command" or getattr(a, "choices", None))
    sub.choices[command].print_help(out)  # type: ignore[index]
    return re.sub(r"\s+", " ", out.getvalue()).replace("- ", "-")


@pytest.mark.parametrize("command", ["run", "report"])
def test_cli_help_lists_every_registered_model(command):
    text = _help(command)
    listed = re.search(r"one of: (.*?) \(default market\)", text)
    assert listed is not None
    assert tuple(n.strip() for n in listed.group(1).split(",")) == model_names()


def test_cli_refuses_an_unknown_model_listing_the_known(capsys):
    assert main(["run", "--model", "arima", "--tickers", "NVDA"]) == 2
    err = capsys.readouterr().err
    assert "--model must be one of" in err and "'arima'" in err
    for name in REGISTRY:
        assert repr(name) in err


def test_the_guide_lists_the_registry():
    """docs/guide/models.md's table names every model of the registry, in its order, and nothing else."""
    text = (DOCS / "guide" / "models.md").read_text()
    cells = [line.split("|")[1] for line in text.splitlines() if line.startswith("| `")]
    names = [name for cell in cells for name in re.findall(r"`([a-z0-9-]+)`", cell)]
    assert tuple(names) == tuple(REGISTRY)


def _study_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text('title = "t"\n' + body)
    return path


@pytest.mark.parametrize("name", [*model_names(), "SW", "market_model"])
def test_a_study_file_takes_every_registered_model(tmp_path, name):
    assert read_study(_study_file(tmp_path, f'model = "{name}"\n'))["model"] == name


def test_a_study_file_refuses_an_unknown_model_naming_the_key_and_the_choices(tmp_path):
    with pytest.raises(ValueError, match=r"'model' must be a model name, one of \['constant-mean'.*'egarch-t'\]"):
        read_study(_study_file(tmp_path, 'model = "arima"\n'))
    with pytest.raises(ValueError, match=r"\[sections.outcomes\] garch must be one of \['garch', 'gjr-garch'"):
        read_study(_study_file(tmp_path, '[sections.outcomes]\ngarch = "market"\n'))


def test_cli_run_with_dimson_equals_the_api_on_every_session(capsys, prices_dir, tmp_path):
    """``eventstudy run --model dimson`` reads the leads and lags too: its CARs are the API's on full returns."""
    events = tmp_path / "pause.csv"
    events.write_text("id,date,session\ntariff-pause-2025-04-09,2025-04-09,intraday\n")
    code = main(["run", "--catalog", str(events), "--tickers", "NVDA,AMD", "--market", "SPY", "--model", "dimson",
                 "--prices-dir", str(prices_dir), "--window=-5,5", "--format", "csv"])  # fmt: skip
    assert code == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("ticker")
    prices = es.CsvSource(prices_dir).get_prices(["NVDA", "AMD", "SPY"], "2023-01-01", "2025-09-30")
    catalog = es.load_events(str(events))
    want = es.EventStudy(catalog, es.returns(prices), tickers=["NVDA", "AMD"], market="SPY", model="dimson").fit()
    want_car = want.car(window=(-5, 5)).set_index("ticker")
    np.testing.assert_allclose(got.loc[["NVDA", "AMD"], "car"], want_car.loc[["NVDA", "AMD"], "car"], rtol=1e-10)


def test_volume_from_files_without_a_volume_column_is_refused_before_any_fit(prices_dir, tmp_path):
    for ticker in ("NVDA", "SPY"):
        frame = pd.read_csv(prices_dir / f"{ticker}.csv")
        frame.drop(columns=["Volume"] if ticker == "NVDA" else []).to_csv(tmp_path / f"{ticker}.csv", index=False)
    events = pd.DataFrame({"ticker": ["NVDA"], "date": ["2025-04-09"], "session": ["intraday"]})
    study = es.EventStudy(events, source=es.CsvSource(tmp_path), market="SPY", outcome="volume")
    with pytest.raises(es.DataSourceError, match=r"outcome='volume' reads the Volume field.*no volumes for \['NVDA'\]"):
        study.fit()
