"""The composition matrix (issue 19, item 6): every capability composed with every other, on the shared data.

Every model of the registry (read from :data:`eventstudy.estimation.models.REGISTRY`, never listed here) x the
input (``returns=`` a frame, or ``source=`` a :class:`~eventstudy.CsvSource` of the shared prices) x each outcome
(``returns``, ``volume``, ``volatility``) x each output (the fit itself, ``res.save``/``es.load``,
``res.to_stata``, ``res.to_r``, ``eventstudy run``, ``eventstudy report``).  Each cell either equals the direct
Python path, ``EventStudy(...).fit()`` on ``returns=``, to 1e-10 (ARs and their se, CARs with se and t, the
parameter table), or is refused up front with an error naming the combination.

Whether a model studies an outcome is decided from what it declares (:meth:`NormalReturnModel.needs()
<eventstudy.estimation.base.NormalReturnModel.needs>`): a model that reads factor returns or the risk-free rate
cannot explain log volume.  How many benchmarks a model gets is read there too (the multi-index model takes two).

One event (the 90-day tariff pause, 2025-04-09, announced during the session), NVDA and AMD, an estimation
window of (-120, -11) and an event window of (-3, +3).  Each (model, input, outcome) is fitted once per module.
GARCH models (those with a second stage, :meth:`~eventstudy.estimation.base.NormalReturnModel.refit`) and the
command-line cells are ``slow``.

Log volumes (about 18) are summed by prefix sums over the span each path loads (``source=`` reads a session or
two more than the frame given here), so the volume cells agree to about 1e-11, not to the last bit: the
comparison is ``rtol=1e-10, atol=1e-10``.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.cli import main
from eventstudy.estimation.base import NormalReturnModel
from eventstudy.estimation.models import REGISTRY

EVENT_DAY = pd.Timestamp("2025-04-09")
EVENTS_CSV = (
    "id,date,session,title\ntariff-pause-2025-04-09,2025-04-09,intraday,Reciprocal tariffs paused for 90 days\n"
)
TICKERS = ("NVDA", "AMD")
#: benchmarks in the order a model takes them; both have volumes in the shared files (SOXX and QQQ have none)
BENCHMARKS = ("SPY", "IXIC")
ESTIMATION = (-120, -11)
EVENT = (-3, 3)
WINDOWS = (EVENT, (0, 0), (-1, 1))
INPUTS = ("returns", "source")
OUTCOMES = ("returns", "volume", "volatility")
TOL = dict(rtol=1e-10, atol=1e-10)


def model_of(name: str) -> NormalReturnModel:
    return REGISTRY[name]()


def market_of(name: str) -> list[str]:
    """As many benchmarks as the model's declared needs ask for (at least one)."""
    return list(BENCHMARKS[: max(model_of(name).needs().min_benchmarks, 1)])


def supports(name: str, outcome: str) -> bool:
    """From the model's declared needs: log volume cannot be explained by factor returns or the risk-free rate."""
    needs = model_of(name).needs()
    return outcome != "volume" or (needs.factors is None and not needs.risk_free)


def is_slow(name: str) -> bool:
    """A model with a second stage (GARCH's likelihood) is slow to fit."""
    return type(model_of(name)).refit is not NormalReturnModel.refit


def _cell(name: str, *rest: str, slow: bool = False):
    marks = [pytest.mark.slow] if slow or is_slow(name) else []
    return pytest.param(name, *rest, marks=marks, id="-".join((name, *rest)))


SUPPORTED = [_cell(m, i, o) for m in REGISTRY for i in INPUTS for o in OUTCOMES if supports(m, o)]
REFUSED = [_cell(m, i, o) for m in REGISTRY for i in INPUTS for o in OUTCOMES if not supports(m, o)]


# --------------------------------------------------------------------------------------------------------
# the fits, once per (model, input, outcome)
# --------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shared(prices_dir, factors_dir, tmp_path_factory):
    """The inputs: the events file, the prices folder, and the frames of the direct path."""
    folder = tmp_path_factory.mktemp("composition")
    events_csv = folder / "events.csv"
    events_csv.write_text(EVENTS_CSV)
    source = es.CsvSource(prices_dir)
    names = [*TICKERS, *BENCHMARKS]
    prices = source.get_prices(names, "2024-01-02", "2025-06-30")
    # volumes over the sessions the windows cover, counted by hand on SPY's file: day 0 is the event day
    # (announced during the session), 120 sessions before it to 3 after, widened by the model's lags and leads
    sessions = pd.read_csv(prices_dir / "SPY.csv", index_col="Date", parse_dates=True).index
    volumes = source.get_prices(names, "2024-01-02", "2025-06-30", field="Volume")
    return {
        "folder": folder,
        "events_csv": events_csv,
        "events": es.load_events(events_csv),
        "source": source,
        "returns": es.returns(prices),
        "volumes": volumes,
        "sessions": sessions,
        "prices_dir": prices_dir,
        "factors_dir": factors_dir,
    }


def _volumes_for(shared, name: str) -> pd.DataFrame:
    needs = model_of(name).needs()
    sessions = shared["sessions"]
    pos = sessions.get_loc(EVENT_DAY)
    first = sessions[pos + ESTIMATION[0] - needs.lags]
    last = sessions[pos + EVENT[1] + needs.leads]
    return shared["volumes"].loc[first:last]


def _study(shared, name: str, given: str, outcome: str) -> es.EventStudy:
    common = dict(
        tickers=list(TICKERS),
        market=market_of(name),
        model=name,
        estimation_window=ESTIMATION,
        event_window=EVENT,
        outcome=outcome,
    )
    if given == "source":
        return es.EventStudy(shared["events"], source=shared["source"], **common)
    frame = _volumes_for(shared, name) if outcome == "volume" else shared["returns"]
    return es.EventStudy(shared["events"], frame, **common)


@pytest.fixture(scope="module")
def fitted(shared):
    """``fitted(model, input, outcome)``: the results, fitted once per module."""
    cache: dict[tuple[str, str, str], es.EventStudyResults] = {}

    def get(name: str, given: str, outcome: str):
        key = (name, given, outcome)
        if key not in cache:
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("EVENTSTUDY_FACTORS_DIR", str(shared["factors_dir"]))
                cache[key] = _study(shared, name, given, outcome).fit()
        return cache[key]

    return get


# --------------------------------------------------------------------------------------------------------
# comparing a cell with the direct path
# --------------------------------------------------------------------------------------------------------
def _same(got: pd.DataFrame, want: pd.DataFrame, keys: list[str], values: list[str], what: str) -> None:
    """``got`` has the rows of ``want`` (matched on ``keys``) and equal ``values`` to 1e-10."""
    assert len(want) > 0, f"{what}: the direct path has no rows"
    got = got.assign(**{k: got[k].astype(str) for k in keys})
    want = want.assign(**{k: want[k].astype(str) for k in keys})
    merged = want.merge(got, on=keys, how="left", suffixes=("", "_got"), validate="one_to_one", indicator=True)
    assert (merged["_merge"] == "both").all(), f"{what}: rows missing\n{merged[keys][merged['_merge'] != 'both']}"
    assert len(got) == len(want), f"{what}: {len(got)} rows, the direct path has {len(want)}"
    for column in values:
        np.testing.assert_allclose(
            merged[f"{column}_got"].to_numpy(float), merged[column].to_numpy(float), **TOL, err_msg=f"{what}: {column}"
        )


AR_KEYS, AR_VALUES = ["event_id", "ticker", "event_time"], ["ar", "se"]
CAR_KEYS, CAR_VALUES = ["event_id", "ticker", "window_start", "window_end"], ["car", "se", "t"]


def _cars(res, windows=WINDOWS) -> pd.DataFrame:
    return pd.concat([res.car(w) for w in windows], ignore_index=True)


def _params(res) -> pd.DataFrame:
    return res.params.reset_index() if "ticker" not in res.params.columns else res.params


def _param_columns(res) -> list[str]:
    table = _params(res)
    return [c for c in table.columns if c not in ("event_id", "ticker") and pd.api.types.is_float_dtype(table[c])]


def _equal_results(got, want, what: str) -> None:
    """The same firm-events dropped for the same reasons; ARs with se, CARs with se and t over every window,
    and every parameter column."""
    drops = ["event_id", "ticker", "reason"]
    pd.testing.assert_frame_equal(got.dropped[drops], want.dropped[drops], obj=f"{what} dropped")
    _same(got.ar, want.ar, AR_KEYS, AR_VALUES, f"{what} AR")
    _same(_cars(got), _cars(want), CAR_KEYS, CAR_VALUES, f"{what} CAR")
    columns = _param_columns(want)
    assert columns and columns == _param_columns(got), f"{what}: parameter columns differ"
    _same(_params(got), _params(want), ["event_id", "ticker"], columns, f"{what} params")


# --------------------------------------------------------------------------------------------------------
# the Python cells
# --------------------------------------------------------------------------------------------------------
def test_the_matrix_reads_the_registry_and_keeps_every_model():
    assert len(REGISTRY) >= 13 and SUPPORTED
    assert set(REGISTRY) == {p.values[0] for p in SUPPORTED} | {p.values[0] for p in REFUSED}
    assert all(any(p.values[0] == m and p.values[2] == "returns" for p in SUPPORTED) for m in REGISTRY)
    # independent of supports(): every cell is in one list, and the refused are exactly the models that read
    # factor returns or the risk-free rate, on volume (written out by hand)
    assert len(SUPPORTED) + len(REFUSED) == len(REGISTRY) * len(INPUTS) * len(OUTCOMES)
    assert {(p.values[0], p.values[2]) for p in REFUSED} == {(m, "volume") for m in ("capm", "ff3", "ff5", "carhart")}


@pytest.mark.parametrize(("model", "given", "outcome"), SUPPORTED)
def test_fit_equals_the_direct_path(shared, fitted, model, given, outcome):
    res = fitted(model, given, outcome)
    if given == "returns":  # the direct path itself: a second, separate fit must give it again (no hidden state)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("EVENTSTUDY_FACTORS_DIR", str(shared["factors_dir"]))
            direct = _study(shared, model, "returns", outcome).fit()
    else:
        direct = fitted(model, "returns", outcome)
    assert direct is not res
    _equal_results(res, direct, f"{model} on {given}= ({outcome})")
    assert res.settings["outcome"] == outcome
    assert isinstance(res, es.VolatilityResults) == (outcome == "volatility")
    if outcome == "volatility":
        _same(
            res.volatility((-1, 1)).reset_index(drop=True),
            direct.volatility((-1, 1)).reset_index(drop=True),
            ["event_id", "ticker"],
            ["ratio"],
            f"{model} on {given}= volatility ratio",
        )


@pytest.mark.parametrize(("model", "given", "outcome"), REFUSED)
def test_an_unsupported_combination_is_refused_up_front(shared, model, given, outcome):
    study = _study(shared, model, given, outcome)
    study.source = _Untouchable() if given == "source" else None
    study.returns = None if given == "source" else study.returns
    with pytest.raises(ValueError, match=f"model='{model}' with outcome='{outcome}' is not supported"):
        study.fit()


class _Untouchable:
    """A source that fails the test when read: a refusal comes before any data is loaded."""

    def get_prices(self, *args, **kwargs):
        raise AssertionError("the source was read before the combination was refused")


@pytest.mark.parametrize(("model", "given", "outcome"), SUPPORTED)
def test_save_and_load_round_trip(fitted, tmp_path, model, given, outcome):
    res = fitted(model, given, outcome)
    loaded = es.load(res.save(tmp_path / "saved"))
    assert type(loaded) is type(res)
    assert loaded.model == res.model and loaded.model.state() == res.model.state()
    _equal_results(loaded, fitted(model, "returns", outcome), f"{model} {given}= {outcome} saved and loaded")


@pytest.mark.parametrize(("model", "given", "outcome"), SUPPORTED)
def test_to_stata(fitted, tmp_path, model, given, outcome):
    res = fitted(model, given, outcome)
    direct = fitted(model, "returns", outcome)
    car = pd.read_stata(res.to_stata(tmp_path / "car.dta", windows=list(WINDOWS)))
    _same(car, _cars(direct), CAR_KEYS, CAR_VALUES, f"{model} {given}= {outcome} car.dta")
    ar = pd.read_stata(res.to_stata(tmp_path / "ar.dta", table="ar"))
    _same(ar, direct.ar, AR_KEYS, AR_VALUES, f"{model} {given}= {outcome} ar.dta")


@pytest.mark.parametrize(("model", "given", "outcome"), SUPPORTED)
def test_to_r(fitted, tmp_path, model, given, outcome):
    res = fitted(model, given, outcome)
    direct = fitted(model, "returns", outcome)
    paths = {p.name: p for p in res.to_r(tmp_path / "r", windows=list(WINDOWS))}
    car = pd.read_csv(paths["car.csv"], na_values="NA", keep_default_na=False)
    _same(car, _cars(direct), CAR_KEYS, CAR_VALUES, f"{model} {given}= {outcome} car.csv")
    ar = pd.read_csv(paths["ar.csv"], na_values="NA", keep_default_na=False)
    _same(ar, direct.ar, AR_KEYS, AR_VALUES, f"{model} {given}= {outcome} ar.csv")


# --------------------------------------------------------------------------------------------------------
# the command-line cells: written against today's `eventstudy run` / `eventstudy report` in this one place,
# so that a change of the command line (option names, --window, firm-specific files) is adapted here only
# --------------------------------------------------------------------------------------------------------
#: the command line and the study file study returns only: asking them for another outcome is refused up front
#: (an unknown --outcome option; the study file's Python-only key 'outcome'), and that refusal is the cell
NO_OUTCOME_OPTION = "eventstudy run/report study returns; volume and volatility are Python's (EventStudy(outcome=))"


def _cli_cell(name: str, outcome: str):
    return pytest.param(name, outcome, marks=[pytest.mark.slow], id=f"{name}-{outcome}")


CLI_CELLS = [_cli_cell(m, o) for m in REGISTRY for o in OUTCOMES if supports(m, o)]


def cli_run(shared, name: str, outcome: str) -> pd.DataFrame | int:
    """``eventstudy run ... --format csv``: the CAR table over :data:`WINDOWS`, as printed."""
    argv = [
        "run",
        "--catalog", str(shared["events_csv"]),
        "--tickers", ",".join(TICKERS),
        "--market", "+".join(market_of(name)),
        "--model", name,
        f"--estimation-window={ESTIMATION[0]},{ESTIMATION[1]}",
        f"--event-window={EVENT[0]},{EVENT[1]}",
        "--prices-dir", str(shared["prices_dir"]),
        "--format", "csv",
        *(f"--window={a},{b}" for a, b in WINDOWS),
    ]  # fmt: skip
    if outcome != "returns":
        argv += ["--outcome", outcome]
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVENTSTUDY_FACTORS_DIR", str(shared["factors_dir"]))
        mp.setattr("sys.stdout", out)
        code = main(argv)
    if outcome != "returns":
        return code
    assert code == 0, f"eventstudy {' '.join(argv)} exited {code}"
    return pd.read_csv(io.StringIO(out.getvalue()))


def cli_report(shared, name: str, outcome: str, out: Path) -> Path | int:
    """``eventstudy report --study <a study file of this cell>``: the folder written."""
    lines = [
        f'name = "matrix-{name}"',
        f'catalog = "{shared["events_csv"].as_posix()}"',
        f"tickers = {list(TICKERS)!r}".replace("'", '"'),
        f'benchmarks = ["{"+".join(market_of(name))}"]',
        f'model = "{name}"',
        f"estimation_window = [{ESTIMATION[0]}, {ESTIMATION[1]}]",
        f"event_window = [{EVENT[0]}, {EVENT[1]}]",
    ]
    if outcome != "returns":
        lines.append(f'outcome = "{outcome}"')
    study = out.parent / f"{name}.toml"
    study.write_text("\n".join(lines) + "\n")
    argv = ["report", "--study", str(study), "--prices-dir", str(shared["prices_dir"]), "--out", str(out)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVENTSTUDY_FACTORS_DIR", str(shared["factors_dir"]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the report's own warnings are its business, not this matrix's
            code = main([*argv, "--no-progress"])
    if outcome != "returns":
        return code
    assert code == 0, f"eventstudy {' '.join(argv)} exited {code}"
    return out


def _refused(call, capsys) -> str:
    """Run a command that must be refused before any work: exit code 2 and the message it printed."""
    try:
        code = call()
    except SystemExit as exc:  # argparse refuses an unknown option by exiting
        code = exc.code
    assert code == 2, f"expected a refusal (exit 2), got {code}"
    return capsys.readouterr().err


@pytest.mark.parametrize(("model", "outcome"), CLI_CELLS)
def test_eventstudy_run_equals_the_direct_path(shared, fitted, capsys, model, outcome):
    if outcome != "returns":  # refused up front, naming the option
        assert "--outcome" in _refused(lambda: cli_run(shared, model, outcome), capsys), NO_OUTCOME_OPTION
        return
    printed = cli_run(shared, model, outcome)
    _same(printed, _cars(fitted(model, "returns", outcome)), CAR_KEYS, CAR_VALUES, f"eventstudy run {model}")


@pytest.mark.parametrize(("model", "outcome"), CLI_CELLS)
def test_eventstudy_report_equals_the_direct_path(shared, fitted, tmp_path, capsys, model, outcome):
    if outcome != "returns":  # refused up front, naming the study file's key
        said = _refused(lambda: cli_report(shared, model, outcome, tmp_path / "report"), capsys)
        assert "'outcome'" in said and "only in Python" in said, said
        assert not (tmp_path / "report").exists()  # nothing written
        return
    folder = cli_report(shared, model, outcome, tmp_path / "report")
    direct = fitted(model, "returns", outcome)
    (ar_csv,) = (folder / "tables").glob("ar_*.csv")
    _same(pd.read_csv(ar_csv), direct.ar, AR_KEYS, AR_VALUES, f"eventstudy report {model} {ar_csv.name}")
    (car_csv,) = (folder / "tables").glob("car_*.csv")
    car = pd.read_csv(car_csv)
    windows = sorted(set(zip(car["window_start"], car["window_end"])))
    assert windows, f"{car_csv.name} holds no window"
    _same(car, _cars(direct, windows), CAR_KEYS, CAR_VALUES, f"eventstudy report {model} {car_csv.name}")
    (params_csv,) = (folder / "tables").glob("params_*.csv")
    params = pd.read_csv(params_csv)
    columns = _param_columns(direct)
    assert not set(columns) - set(params.columns), f"{params_csv.name} lacks {set(columns) - set(params.columns)}"
    _same(params, _params(direct), ["event_id", "ticker"], columns, f"eventstudy report {model} {params_csv.name}")
