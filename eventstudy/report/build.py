"""The report's two entry points: :func:`build_report` (run and write the folder) and :func:`build_study`
(run only)."""

from __future__ import annotations

import warnings
from pathlib import Path

from eventstudy.data import PriceSource
from eventstudy.data.atomic import staged_folder
from eventstudy.exceptions import EventStudyWarning
from eventstudy.report.config import DEFAULT_REPORT, ReportConfig
from eventstudy.report.figures import write_figures
from eventstudy.report.provenance import input_paths, name_paths_relative, report_root
from eventstudy.report.run import NoProgress, Progress, StudyRun, run_study
from eventstudy.report.sections import extra_sections
from eventstudy.report.writing import write_all

__all__ = ["build_report", "build_study"]


def build_report(
    config: ReportConfig = DEFAULT_REPORT, *, source: PriceSource | None = None, progress: bool | None = None
) -> Path:
    """Run the study described by ``config`` and write the report folder; return its path.

    Parameters
    ----------
    config : ReportConfig
    source : PriceSource, optional
        Where prices come from; default a :class:`~eventstudy.data.CsvSource` on ``config.prices_dir`` if
        set, else :func:`~eventstudy.data.default_source` (Yahoo Finance through a local cache).
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    """
    steps = [
        "load events",
        "load prices",
        *[f"fit {label}" for label, _, _ in config.specifications],
        "figures",
        "write",
    ]
    bar: Progress = NoProgress()
    if progress is not False:
        from tqdm.auto import tqdm  # only where a bar may show: tqdm.auto costs about 0.03 s to import

        bar = tqdm(total=len(steps), desc=config.name, unit="step", disable=None if progress is None else False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EventStudyWarning)
        try:
            report = run_study(config, source, bar)
            # written beside the target and moved into place whole: an interrupted or failing run (Ctrl-C, a
            # full disk) leaves the previous report as it was, never a mix of two runs
            with staged_folder(config.out_dir, marker="results.json") as stage:
                bar.set_postfix_str("figures")
                write_figures(report, stage)
                report.sections = extra_sections(report, stage)
                bar.update()
                bar.set_postfix_str("writing")
                # a warning may name one of the run's input files: written relative to the report's root
                known = input_paths(config, report_root(config.out_dir))
                report.warnings = [name_paths_relative(m, known) for m in _unique_messages(caught)]
                write_all(report, stage)
                bar.update()
        finally:
            bar.close()
    for message in report.warnings:  # re-issued once each, after the progress bar
        warnings.warn(message, EventStudyWarning, stacklevel=2)
    return config.out_dir


def build_study(config: ReportConfig = DEFAULT_REPORT, *, source: PriceSource | None = None) -> list[StudyRun]:
    """Fit every specification of ``config`` and return them, without writing anything."""
    return run_study(config, source, NoProgress()).runs


def _unique_messages(caught: list[warnings.WarningMessage]) -> list[str]:
    return list(
        dict.fromkeys(" ".join(str(w.message).split()) for w in caught if issubclass(w.category, EventStudyWarning))
    )
