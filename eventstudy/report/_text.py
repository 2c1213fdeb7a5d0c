"""Small text helpers shared by the report's writers: file-name slugs, Markdown tables, and the words its
sentences share (lists, p-values, the day-0 rule)."""

from __future__ import annotations

import re

import pandas as pd

from eventstudy.foundation.summary import format_value

__all__ = ["slug", "md_table", "collapsed", "join_words", "p_text", "rule_text", "SHORT_TABLE_ROWS"]

#: tables longer than this are folded away (``<details>``) in the report: the CSV files hold every row
SHORT_TABLE_ROWS = 12


def slug(text: str) -> str:
    """``"vs SPY+SOXX"`` -> ``"vs-spy-soxx"``: a label as a file name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def md_table(frame: pd.DataFrame) -> str:
    """``frame`` as a Markdown table without its index; ``(none)`` when it has no rows.

    Values are printed as they are: numbers formatted upstream keep their format (tabulate would parse "0.50"
    back into 0.5 and "+3.10" into 3.1), and columns of numbers, formatted or not, are right-aligned.
    """
    if not len(frame):
        return "(none)"
    align = ["right" if _numeric(frame[column]) else "left" for column in frame.columns]
    return frame.to_markdown(index=False, disable_numparse=True, colalign=align)


_NUMBER = re.compile(r"^[<>]?[+-]?(\d[\d,]*\.?\d*|\.\d+)([eE][+-]?\d+)?%?$")


def _numeric(column: pd.Series) -> bool:
    """Whether every non-empty value reads as a number ("+1.23%", "<0.001", "-0.5", 42)."""
    values = [str(v).strip() for v in column if not (v is None or (isinstance(v, float) and v != v))]
    values = [v for v in values if v]
    return bool(values) and all(_NUMBER.match(v) for v in values)


def collapsed(summary: str, body: str) -> str:
    """``body`` (Markdown) folded in a ``<details>`` block headed by ``summary`` (inline HTML).

    GitHub shows the block closed, and the HTML report (Python-Markdown's ``md_in_html``) renders the Markdown
    inside it: an exhaustive table stays one click away without filling the printed report.
    """
    return f'<details markdown="1">\n<summary>{summary}</summary>\n\n{body.strip()}\n\n</details>'


def join_words(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``; '' for none."""
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def p_text(p: float) -> str:
    """``p = 0.018``, or ``p < 0.001``."""
    text = format_value(p, "p")
    return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"


def rule_text(unknown_session: str) -> str:
    """Where day 0 falls for an event of unknown release session, in words (the rule ``unknown_session``)."""
    return "the first session on or after" if unknown_session == "pre" else "the session after"
