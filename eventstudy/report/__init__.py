"""The report: one complete event study written to a folder.

A study is data: a TOML study file (see :mod:`eventstudy.report.study`) read into a :class:`ReportConfig` by
:func:`load_study`.  ``eventstudy report`` with no arguments runs the study shipped with the package
(:data:`eventstudy.report.study.DEFAULT_STUDY`); ``--study FILE`` runs another, and options swap in other events, a
user's own catalog, tickers, benchmarks, model and windows.  ``ReportConfig()`` itself holds no study: its
defaults are the field's conventions only.  The folder receives ``report.md`` and ``report.html`` (the story in
plain words, tables, figures, confounders and the data's provenance), ``figures/*.png``, ``tables/*.csv``
and ``results.json`` with every number.

The modules, each importing only those above it:

=====================  ================================================================================
``config``             :class:`ReportConfig`, :func:`load_study`, :data:`DEFAULT_REPORT`
``run``                the study run: events, prices, one fit per specification, the tables (no files)
``provenance``         paths as structured fields, relative to the folder holding the report folder
``figures``            the main study's figures
``outcomes``,          the extra sections (volume, volatility and GARCH; non-US listings; minute bars),
``global_listings``,   each computing, drawing and writing its own table and Markdown;
``intraday``,          ``sections`` runs those a study asks for
``sections``
``render``             the report's Markdown and HTML
``writing``            the CSV tables, ``results.json``, ``report.md`` and ``report.html``
``build``              :func:`build_report` and :func:`build_study`
=====================  ================================================================================
"""

from __future__ import annotations

from eventstudy.report.build import build_report, build_study
from eventstudy.report.config import DEFAULT_REPORT, ReportConfig, load_study, with_overrides
from eventstudy.report.run import StudyRun
from eventstudy.report.writing import records

__all__ = [
    "ReportConfig",
    "DEFAULT_REPORT",
    "load_study",
    "build_report",
    "build_study",
    "StudyRun",
    "records",
    "with_overrides",
]
