"""What a study finds, in sentences computed from its ``results.json``: the block the README shows between
``<!-- computed:start -->`` and ``<!-- computed:end -->``.

Every number and every verdict in the block is read from the results, so a sentence cannot drift from the
numbers beside it; :func:`update_readme` rewrites the block in place (``scripts/readme_findings.py`` runs it
after the report), and a test checks that the committed README holds what the committed results give.

>>> from eventstudy.report.findings import findings_markdown
>>> text = findings_markdown(json.loads(Path("results/ai-diffusion-rescission/results.json").read_text()))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from eventstudy.foundation.summary import format_value
from eventstudy.report._text import join_words, p_text

__all__ = ["findings_markdown", "update_readme", "START", "END", "LEVEL"]

START = "<!-- computed:start: written by scripts/readme_findings.py from {source}; do not edit by hand -->"
END = "<!-- computed:end -->"
#: the significance level of every verdict in the block
LEVEL = 0.05


def _pct(value: float) -> str:
    return format_value(value, "pct")


def _day0_rows(payload: dict[str, Any], other: bool) -> list[dict[str, Any]]:
    """Day-0 ``car()`` rows of every study, each with its benchmark label (``other``: the other candidate day 0
    of the events of unknown release session)."""
    studies = payload.get("other_day0", {}).get("studies", {}) if other else payload["studies"]
    return [row | {"benchmark": label} for label, study in studies.items() for row in study["car"]["(0)"]]


def findings_markdown(payload: dict[str, Any]) -> str:
    """The findings of the study in ``payload`` (a report's ``results.json``) as Markdown.

    Paragraphs: the focus stocks' raw day-0 moves and the press figures comparable with them; a table of the
    focus stocks' day-0 abnormal returns against every benchmark (both candidate day 0s of an event whose
    release session is unknown); every single-stock day-0 abnormal return significant at 5%, with how many
    were tested and how many chance alone would give; and the verdicts of the tests suited to the design
    (``suited_tests`` of each study, from :func:`eventstudy.inference.recommend`) beside the unsuited that reject.
    """
    focus = list(payload["config"]["focus"])
    events = {e["id"]: e for e in payload["events"]}
    others = {e["id"]: e for e in payload.get("other_day0", {}).get("events", [])}
    labels = list(payload["studies"])
    lines: list[str] = []

    # 1. raw moves and the press
    moves = []
    for event_id, event in events.items():
        row = next(
            r for r in payload["raw_returns"] if r["event_id"] == event_id and r["event_time"] == 0
        )  # day 0 of the event
        said = join_words([f"{t} {_pct(row[t])}" for t in focus if row.get(t) is not None])
        moves.append(f"{said} on {event['day0']} ({event_id})")
        if event_id in others:
            later = next(r for r in payload["raw_returns"] if r["event_id"] == event_id and r["event_time"] == 1)
            moves[-1] += f", then {join_words([f'{t} {_pct(later[t])}' for t in focus])} on {later['date']}"
    field = payload["config"].get("price_field", "Adj Close")
    basis = "adjusted closes" if field == "Adj Close" else f"the {field} prices"
    lines.append(f"In the data the focus stocks moved {'; '.join(moves)} (close-to-close, {basis}).")
    press = [r for r in payload.get("press_check") or [] if str(r["basis"]).strip().lower() == "close"]
    if press:
        lines[-1] += " The press's close-to-close figures against the data: " + "; ".join(
            f"{r['ticker']} {r['trade_date']} reported {r['move_pct']:+.2f}%, data {r['data_pct']:+.2f}%" for r in press
        )
        lines[-1] += "."
    lines.append("")

    # 2. the focus stocks' day-0 abnormal returns
    header = ["benchmark", "event", "day 0"] + [f"{t} {c}" for t in focus for c in ("AR(0)", "t", "p")]
    table = ["| " + " | ".join(header) + " |", "|" + "|".join([":--"] * 3 + ["--:"] * (3 * len(focus))) + "|"]
    readings = [(False, events)] + ([(True, others)] if others else [])
    for label in labels:
        for other, which in readings:
            rows = {(r["event_id"], r["ticker"]): r for r in _day0_rows(payload, other) if r["benchmark"] == label}
            for event_id, event in which.items():
                cells = [label, event_id, event["day0"]]
                for t in focus:
                    hit = rows.get((event_id, t))
                    cells += (
                        [_pct(hit["car"]), f"{hit['t']:.2f}", f"{hit['pvalue']:.3f}"] if hit else ["dropped", "", ""]
                    )
                table.append("| " + " | ".join(cells) + " |")
    if others:
        unknown = join_words([f"{e} (day 0 {events[e]['day0']} or {others[e]['day0']})" for e in others])
        lines.append(
            f"The release session of {unknown} is not in the catalog, so the table shows both candidate day 0s. "
            "AR(0): the day-0 abnormal return, with MacKinlay's t and its two-sided p:"
        )
    else:
        lines.append("AR(0): the day-0 abnormal return, with MacKinlay's t and its two-sided p:")
    lines += ["", *table, ""]

    # 3. every single-stock verdict
    for other, which in readings:
        tested = [r for r in _day0_rows(payload, other) if r["event_id"] in which and r["pvalue"] is not None]
        significant = sorted((r for r in tested if r["pvalue"] < LEVEL), key=lambda r: r["pvalue"])
        n_events = len({r["event_id"] for r in tested})
        n_tickers = len({r["ticker"] for r in tested})
        scope = (
            f"the {len(tested)} single-stock day-0 abnormal returns ({n_tickers} stocks x {n_events} "
            f"event{'' if n_events == 1 else 's'} x {len(labels)} benchmark{'' if len(labels) == 1 else 's'}"
            + (f", with day 0 on {join_words(sorted({which[e]['day0'] for e in which}))}" if other else "")
            + ")"
        )
        expected = f"about {LEVEL * len(tested):.1f} would be by chance alone at {LEVEL:.0%}"
        if significant:
            listed = [
                f"{r['ticker']} on {which[r['event_id']]['day0']} {r['benchmark']} ({_pct(r['car'])}, t = {r['t']:.2f}, "
                f"{p_text(r['pvalue'])})"
                for r in significant
            ]
            lines.append(
                f"Of {scope}, {len(significant)} are significant at {LEVEL:.0%} ({expected}): {join_words(listed)}."
            )
        else:
            lines.append(f"None of {scope} is significant at {LEVEL:.0%} ({expected}).")
        lines.append("")

    # 4. the pooled tests, suited or not
    first = labels[0]
    study = payload["studies"][first]
    suited = list(study.get("suited_tests", []))
    day0 = [
        t
        for t in study["tests"]
        if t["window_start"] == 0 and t["window_end"] == 0 and t["scope"] != "single" and t["pvalue"] is not None
    ]

    def named(t: dict[str, Any]) -> str:
        where = f" ({t['event_id']})" if t.get("event_id") else ""
        return f"`{t['test']}`{where} {p_text(t['pvalue'])}"

    good = [t for t in day0 if t["test"] in suited]
    bad = [t for t in day0 if t["test"] not in suited and t["pvalue"] < LEVEL]
    n = len({(r["event_id"], r["ticker"]) for r in study["car"]["(0)"]})
    sentence = f"Across all {n} firm-events {first}, the tests suited to this same-day design"
    rejecting = [t for t in good if t["pvalue"] < LEVEL]
    if good:
        sentence += (
            f" {'reject' if rejecting else 'do not reject'} at {LEVEL:.0%}: {join_words([named(t) for t in good])}."
        )
    else:
        sentence += " are not recorded in these results." if not suited else " did not run."
    if bad:
        sentence += (
            f" Tests that reject but are not suited, since on same-day samples they reject more or less often than "
            f"{LEVEL:.0%} with no effect ([`results/size-power`](results/size-power/size_power.md)): "
            f"{join_words([named(t) for t in bad])}."
        )
    lines.append(sentence)
    return "\n".join(lines).rstrip() + "\n"


def update_readme(readme: str | os.PathLike[str], results: str | os.PathLike[str]) -> bool:
    """Rewrite the computed block of ``readme`` from ``results`` (a ``results.json``); True when it changed.

    The block runs from the line starting ``<!-- computed:start`` to ``<!-- computed:end -->``; a README
    without both markers is an error naming the file.
    """
    path, source = Path(readme), Path(results)
    text = path.read_text()
    start, end = text.find("<!-- computed:start"), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{path} has no '<!-- computed:start ... -->' ... '{END}' block to rewrite")
    relative = os.path.relpath(source.resolve(), path.resolve().parent)
    block = START.format(source=Path(relative).as_posix()) + "\n" + findings_markdown(json.loads(source.read_text()))
    new = text[:start] + block + text[end:]
    if new != text:
        path.write_text(new)
    return new != text
