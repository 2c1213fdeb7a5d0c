"""What a report run needs: :class:`ReportConfig`, filled in from a study file by :func:`load_study`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from eventstudy.data.base import Field
from eventstudy.estimation.models import get_model
from eventstudy.report.study import DEFAULT_STUDY, read_study

__all__ = ["ReportConfig", "DEFAULT_REPORT", "load_study", "with_overrides"]


@dataclass(frozen=True)
class ReportConfig:
    """Everything a report run needs; the defaults are the field's conventions, and no study of its own.

    A study file (:func:`load_study`) fills it in; a field has the name of the study file's key, of the command
    line's option and, where :class:`~eventstudy.EventStudy` takes the same setting, of its argument.
    ``market`` lists one benchmark per specification: a ticker gives the market model (or ``model``) against
    it; several tickers joined by ``+`` give the multi-index model on them. ``events`` empty means every event of the catalog; ``focus`` empty means the first two
    tickers; ``title`` empty means a title made from ``name``.
    """

    name: str = "study"
    title: str = ""
    question: str = ""
    catalog: str = "export-controls"
    events: tuple[str, ...] = ()
    tickers: tuple[str, ...] = ()
    focus: tuple[str, ...] = ()
    market: tuple[str, ...] = ("SPY",)
    model: str = "market"
    estimation_window: tuple[int, int] = (-250, -11)
    event_window: tuple[int, int] = (-5, 5)
    windows: tuple[tuple[int, int], ...] = ((0, 0), (-1, 1), (-5, 5))
    unknown_session: Literal["pre", "post"] = "pre"
    exclude_events: bool = False
    return_kind: Literal["simple", "log", "overnight", "intraday"] = "simple"
    price_field: Field = "Adj Close"
    min_estimation_obs: int | None = None  # as EventStudy's (default: the model's minimum)
    align_benchmarks: str = "refuse"  # as EventStudy's
    naive_tz: str | None = None  # the zone of event times written without one (load_events, EventStudy)
    prices_dir: str | None = None
    reported_moves: str | None = None
    out: str | None = None
    #: extra sections, as a study file asks: volume, volatility and GARCH of the focus stocks ("outcomes"),
    #: non-US listings ("global") and minute bars ("intraday")
    sections: tuple[str, ...] = ()
    outcomes_garch: str = "garch"  # the GARCH model of the "outcomes" section
    global_events: tuple[str, ...] = ()  # the catalog events of the "global" section
    global_title: str = "Non-US listings"  # its heading
    global_listings: str | None = None  # its listings file (default: the built-in catalog/global_listings.csv)
    intraday_cases: str | None = None  # the "intraday" section's cases file (default: the built-in cases)
    #: the "sensitivity" section: estimation windows, models and benchmarks ("A+B": several indices) to vary
    #: (each empty: the study's own)
    sensitivity_estimation_windows: tuple[tuple[int, int], ...] = ()
    sensitivity_models: tuple[str, ...] = ()
    sensitivity_benchmarks: tuple[str, ...] = ()
    global_dir: str | None = None  # default: prices_global beside prices_dir
    intraday_dir: str | None = None  # default: intraday beside prices_dir
    #: paragraphs of the study's own, by slot (:data:`eventstudy.report.study.PROSE_SLOTS`)
    prose: dict[str, str] = field(default_factory=dict)
    study: str | None = None  # the study file's name, and its SHA-256 (recorded in results.json)
    study_sha256: str | None = None
    #: the command-line options that built this config, as (option, value, is a path) in the order given
    #: (None: built from Python); the report's "How to regenerate" writes them out, paths relative to the
    #: folder holding the report
    command: tuple[tuple[str, str | None, bool], ...] | None = None

    @property
    def benchmarks(self) -> tuple[str, ...]:
        """``market``, under its former name (kept for code written before the option had one name)."""
        return self.market

    @property
    def heading(self) -> str:
        """The report's title: the study's own, else one made from its name."""
        return self.title or f"Event study: {self.name}"

    @property
    def focus_tickers(self) -> tuple[str, ...]:
        """The stocks the story is about: ``focus``, else the first two tickers."""
        return self.focus or self.tickers[:2]

    @property
    def out_dir(self) -> Path:
        return Path(self.out) if self.out else Path("results") / self.name

    def folder(self, section: str) -> Path | None:
        """The data folder of an extra section: given, or the shared layout's sibling of ``prices_dir``."""
        if section in ("outcomes", "sensitivity"):
            return Path(self.prices_dir) if self.prices_dir else None
        given = {"global": self.global_dir, "intraday": self.intraday_dir}[section]
        if given:
            return Path(given)
        if self.prices_dir:
            return Path(self.prices_dir).parent / {"global": "prices_global", "intraday": "intraday"}[section]
        return None

    @property
    def specifications(self) -> list[tuple[str, tuple[str, ...], str]]:
        """(label, benchmarks, model) of each fit: one per benchmark for models that use one, a single fit
        for models that ignore the benchmark (constant mean, Fama-French, Carhart)."""
        model = get_model(self.model)
        probe = ("BENCHMARK",)
        if probe[0] not in model.regressors(probe) and model.offset(probe) != probe[0]:
            return [(model.name, (self.market[0].split("+")[0],), self.model)]
        specs = []
        for entry in self.market:
            tickers = tuple(entry.split("+"))
            specs.append((f"vs {entry}", tickers, self.model if len(tickers) == 1 else "multi-index"))
        return specs

    @property
    def table_windows(self) -> list[tuple[int, int]]:
        """The CAR windows of the tables, in the order the study gives them (``windows``, each once), as far as
        the event window allows; day 0 and (-1, +1) when it gives none.  The first two are the ones the
        comparison table and the tests section show."""
        lo, hi = self.event_window
        wanted: list[tuple[int, int]] = list(self.windows) or [(0, 0), (-1, 1)]
        return [w for w in dict.fromkeys((int(a), int(b)) for a, b in wanted) if lo <= w[0] and w[1] <= hi]

    @property
    def inner_window(self) -> tuple[int, int]:
        """(-1, +1) where the event window holds it, else the event window: the heatmaps' CAR window."""
        lo, hi = self.event_window
        return (-1, 1) if lo <= -1 and hi >= 1 else (lo, hi)


_dataclass_init = ReportConfig.__init__


def _init(self: ReportConfig, *args: Any, benchmarks: tuple[str, ...] | None = None, **kwargs: Any) -> None:
    # ``benchmarks=``, the former name of ``market``, still builds a config (code written before the rename)
    if benchmarks is not None:
        if "market" in kwargs:
            raise TypeError("ReportConfig takes 'market' only ('benchmarks' is its former name)")
        kwargs["market"] = tuple(benchmarks)
    _dataclass_init(self, *args, **kwargs)


ReportConfig.__init__ = _init  # type: ignore[method-assign]


def load_study(path: str | os.PathLike[str]) -> ReportConfig:
    """Read a study file (TOML, see :mod:`eventstudy.report.study`) into a :class:`ReportConfig`.

    Parameters
    ----------
    path : str or path-like
        The study file; relative paths inside it are read against its folder.

    Returns
    -------
    ReportConfig
        Keys the file leaves out keep the generic defaults of :class:`ReportConfig`.
    """
    return ReportConfig(**read_study(path))


#: the study ``eventstudy report`` runs with no ``--study``: the package's ``report/studies/ai-diffusion-rescission.toml``
DEFAULT_REPORT = load_study(DEFAULT_STUDY)


def with_overrides(config: ReportConfig, **changes: Any) -> ReportConfig:
    """``config`` with the non-None ``changes`` applied (used by the command line)."""
    return replace(config, **{k: v for k, v in changes.items() if v is not None})


def is_default_study(config: ReportConfig) -> bool:
    """True when ``config`` was read from the package's own study file, unchanged."""
    return config.study == DEFAULT_STUDY.name and config.study_sha256 == DEFAULT_REPORT.study_sha256
