"""Writing the report folder: the CSV tables, ``results.json`` (every number, with the inputs' provenance),
``report.md`` and ``report.html``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.foundation.summary import window_label
from eventstudy.inference import recommend
from eventstudy.report._text import slug
from eventstudy.report.provenance import ROOT_NOTE, config_record, report_root
from eventstudy.report.render import render_html, render_markdown
from eventstudy.report.run import Report

__all__ = ["write_all", "records"]


def write_all(report: Report, out: Path) -> None:
    """Write the tables, ``results.json``, ``report.md`` and ``report.html`` into ``out``."""
    tables = out / "tables"
    tables.mkdir(parents=True, exist_ok=True)

    def table(name: str, frame: pd.DataFrame) -> None:
        path = tables / f"{name}.csv"
        frame.to_csv(path, index=False, date_format="%Y-%m-%d")
        report.tables[name] = f"tables/{path.name}"

    table("events", _event_table(report.events))
    table("raw_returns", report.raw_moves)
    for run in report.runs:
        name = slug(run.label)
        table(f"car_{name}", pd.concat(run.car.values(), ignore_index=True))
        table(f"tests_{name}", run.tests)
        for kind in ("ar", "bhar", "params", "decompose", "dropped"):
            table(f"{kind}_{name}", run.tables[kind])
    table("comparison", _comparison(report))
    if report.alternates:
        table("car_other_day0", _other_day0(report))
    if len(report.alternate_dropped):
        table("dropped_other_day0", report.alternate_dropped)
    if report.reported is not None:
        table("press_check", report.reported)
    payload = _json_payload(report)
    (out / "results.json").write_text(json.dumps(payload, indent=2, default=_json_default) + "\n")
    markdown = render_markdown(report)
    (out / "report.md").write_text(markdown)
    (out / "report.html").write_text(render_html(markdown, report.config.heading))


def _event_table(events: pd.DataFrame) -> pd.DataFrame:
    return events[["id", "date", "session", "day0", "category", "direction", "title"]].copy()


def _comparison(report: Report) -> pd.DataFrame:
    """Day-0 and (-1,+1) abnormal returns of each firm-event under every benchmark, side by side."""
    frames = []
    for window in report.config.table_windows[:2]:
        wide = pd.concat(
            {
                run.label: run.car[window].set_index(["event_id", "ticker"])[["car", "t", "pvalue"]]
                for run in report.runs
            },
            axis=1,
        )
        labels, stats = wide.columns.get_level_values(0), wide.columns.get_level_values(1)
        wide.columns = [f"{label} {stat} {window_label(window)}" for label, stat in zip(labels, stats)]
        frames.append(wide)
    return pd.concat(frames, axis=1).reset_index()


def _other_day0(report: Report) -> pd.DataFrame:
    """The CARs of every window of the events of unknown release session at the other candidate day 0."""
    return pd.concat(
        [pd.concat(run.car.values(), ignore_index=True).assign(benchmark=run.label) for run in report.alternates],
        ignore_index=True,
    ).merge(report.alternate_events[["id", "day0"]].rename(columns={"id": "event_id"}), on="event_id")


def _json_payload(report: Report) -> dict[str, Any]:
    config = report.config
    studies = {}
    for run in report.runs:
        studies[run.label] = {
            "benchmark": list(run.benchmark),
            "model": run.model,
            "settings": run.results.settings,
            "car": {window_label(w): records(table) for w, table in run.car.items()},
            "tests": records(run.tests),
            # the tests recommend() calls suited to this design (measured size within 2 SE of 5%)
            "suited_tests": [name for name, _ in recommend(run.results.fit)],
            **{name: records(table) for name, table in run.tables.items() if name != "decompose"},
            "decompose_day0": records(run.tables["decompose"]),
            "provenance": run.results.provenance,
        }
    # no time stamp and no absolute path: rerunning the same inputs rewrites the same file on any machine. The
    # paths are written relative to the declared root where they are recorded (the config's path fields here,
    # the source's in run_study, the warnings' in build_report); no text is searched for paths
    return {
        "study": config.name,
        "title": config.heading,
        "paths_relative_to": ROOT_NOTE,
        "config": config_record(config, report_root(config.out_dir)),
        "events": records(_event_table(report.events)),
        "source": report.source,
        "warnings": report.warnings,
        "raw_returns": records(report.raw_moves),
        "press_check": records(report.reported) if report.reported is not None else None,
        "studies": studies,
        # events of unknown release session at the other candidate day 0 (the report shows both)
        "other_day0": {
            "events": records(_event_table(report.alternate_events)) if report.alternates else [],
            "studies": {
                run.label: {
                    "car": {window_label(w): records(t) for w, t in run.car.items()},
                    "tests": records(run.pooled_tests),  # the single-firm rows repeat the CARs
                }
                for run in report.alternates
            },
        },
    }


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as JSON-ready dicts (ISO dates, None for NaN)."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
    return [{str(k): _json_default(v) for k, v in row.items()} for row in out.to_dict(orient="records")]


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (tuple, list, np.ndarray)):
        return [_json_default(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dict):
        return {str(k): _json_default(v) for k, v in value.items()}
    return value
