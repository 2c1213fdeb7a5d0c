"""Small text helpers shared by the report's writers: file-name slugs and Markdown tables."""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["slug", "md_table", "collapsed", "SHORT_TABLE_ROWS"]

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
