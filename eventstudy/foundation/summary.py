"""One summary, many displays: text, HTML (Jupyter), Markdown, LaTeX and CSV from the same tables.

A :class:`Summary` is a title, a list of facts (label, value), a list of titled tables and a list of notes.
Every display is rendered from those, so the numbers a notebook shows are the numbers a report prints.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from eventstudy.foundation.files import atomic_write_bytes

__all__ = ["Summary", "Table", "format_table", "format_value", "window_label"]


@dataclass(frozen=True)
class Table:
    """A titled table; ``data`` keeps full precision, ``display`` is formatted for reading."""

    title: str
    data: pd.DataFrame
    formats: dict = field(default_factory=dict)
    caption: str = ""

    @property
    def display(self) -> pd.DataFrame:
        return format_table(self.data, self.formats)


#: what a formatted number that could not be computed (NaN) shows in a table, rather than a blank cell
NOT_AVAILABLE = "n/a"
#: the note a :class:`Summary` adds under tables that show :data:`NOT_AVAILABLE`
NOT_AVAILABLE_NOTE = (
    f"{NOT_AVAILABLE}: the value could not be computed for that row (e.g. a return missing in the window, or a "
    "test that needs more firms); the warnings of the fit say which and why."
)


def format_table(frame: pd.DataFrame, formats: dict) -> pd.DataFrame:
    """Format columns for reading: ``{"car": "pct", "t": "{:.2f}", "pvalue": "p"}``; others as they are.

    A formatted number that is NaN shows :data:`NOT_AVAILABLE` (``"n/a"``), never a blank cell.
    """
    out = frame.copy()
    for column, spec in formats.items():
        if column not in out.columns:
            continue
        out[column] = out[column].map(lambda v, spec=spec: format_value(v, spec) or NOT_AVAILABLE).astype(object)
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
    return out.fillna("").astype(str) if len(out) else out


def window_label(window: tuple[int, int]) -> str:
    """``(0)`` for day 0, else ``(-1,+1)``: the one spelling of a window in tables, JSON keys and titles."""
    lo, hi = window
    return "(0)" if (lo, hi) == (0, 0) else f"({lo:+d},{hi:+d})"


def format_value(value, spec: str) -> str:
    """One number for reading: ``"pct"`` (+1.23%), ``"p"`` (0.012 or <0.001) or a format string; '' for NaN."""
    if value is None or pd.isna(value):
        return ""
    if not math.isfinite(value):
        return f"{value:+}" if spec == "pct" else str(value)  # -inf keeps its sign
    if spec == "p":
        return "<0.001" if value < 0.001 else f"{value:.3f}"
    text = f"{value:+.2%}" if spec == "pct" else spec.format(value)
    # a value that rounds to zero prints as zero, not "-0.00": its sign is below the shown precision
    if text.startswith("-") and not any(c in "123456789" for c in text.split("e")[0].split("E")[0]):
        text = ("+" if spec == "pct" or spec.startswith("{:+") else "") + text[1:]
    return text


@dataclass(frozen=True)
class Summary:
    """Facts, tables and notes about a study, rendered the same way in every format.

    Evaluate it in Jupyter for an HTML table; ``print(summary)`` for text; :meth:`to_markdown`,
    :meth:`to_latex` and :meth:`to_csv` for reports.
    """

    title: str
    facts: list[tuple[str, str]]
    tables: list[Table]
    notes: list[str] = field(default_factory=list)

    @property
    def shown_notes(self) -> list[str]:
        """``notes``, plus :data:`NOT_AVAILABLE_NOTE` when a table shows a value that could not be computed."""
        blank = any(len(table.data) and table.display.isin([NOT_AVAILABLE]).to_numpy().any() for table in self.tables)
        return [*self.notes, NOT_AVAILABLE_NOTE] if blank and NOT_AVAILABLE_NOTE not in self.notes else self.notes

    # -- text ------------------------------------------------------------------------------------------
    def as_text(self) -> str:
        width = max([len(self.title), *(len(label) + len(value) + 2 for label, value in self.facts)], default=40)
        lines = [self.title, "=" * width]
        lines += [f"{label}: {value}" for label, value in self.facts]
        for table in self.tables:
            lines += ["", table.title, "-" * len(table.title)]
            lines.append(table.display.to_string(index=False) if len(table.data) else "(none)")
            if table.caption:
                lines.append(table.caption)
        if self.shown_notes:
            lines += ["", "Notes"] + [f"- {note}" for note in self.shown_notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    # -- markdown --------------------------------------------------------------------------------------
    def to_markdown(self, *, heading_level: int = 2) -> str:
        hashes = "#" * heading_level
        lines = [f"{hashes} {self.title}", ""]
        lines += [f"- **{label}:** {value}" for label, value in self.facts]
        for table in self.tables:
            lines += ["", f"{hashes}# {table.title}", ""]
            # disable_numparse: keep the formatted strings ('0.50' must not become '0.5')
            lines.append(table.display.to_markdown(index=False, disable_numparse=True) if len(table.data) else "(none)")
            if table.caption:
                lines += ["", f"*{table.caption}*"]
        if self.shown_notes:
            lines += ["", f"{hashes}# Notes", ""] + [f"- {note}" for note in self.shown_notes]
        return "\n".join(lines) + "\n"

    # -- html ------------------------------------------------------------------------------------------
    def as_html(self) -> str:
        parts = [f"<div class='eventstudy-summary'><h4>{html.escape(self.title)}</h4>", "<table>"]
        parts += [
            f"<tr><th style='text-align:left'>{html.escape(label)}</th><td style='text-align:left'>"
            f"{html.escape(value)}</td></tr>"
            for label, value in self.facts
        ]
        parts.append("</table>")
        for table in self.tables:
            parts.append(f"<h5>{html.escape(table.title)}</h5>")
            parts.append(table.display.to_html(index=False, border=0) if len(table.data) else "<p>(none)</p>")
            if table.caption:
                parts.append(f"<p><em>{html.escape(table.caption)}</em></p>")
        if self.shown_notes:
            notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.shown_notes)
            parts.append(f"<h5>Notes</h5><ul>{notes}</ul>")
        parts.append("</div>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.as_html()

    # -- latex -----------------------------------------------------------------------------------------
    def to_latex(self) -> str:
        def esc(text: str) -> str:
            return re.sub(r"([&%$#_{}])", r"\\\1", text)

        lines = [f"% {esc(self.title)}", "\\begin{tabular}{ll}", "\\hline"]
        lines += [f"{esc(label)} & {esc(value)} \\\\" for label, value in self.facts]
        lines += ["\\hline", "\\end{tabular}"]
        for table in self.tables:
            if not len(table.data):
                continue
            body = table.display.to_latex(index=False, escape=True, caption=table.title)
            lines += ["", body]
        if self.shown_notes:
            lines += (
                ["", "\\begin{itemize}"] + [f"\\item {esc(note)}" for note in self.shown_notes] + ["\\end{itemize}"]
            )
        return "\n".join(lines) + "\n"

    # -- csv -------------------------------------------------------------------------------------------
    def to_csv(self, directory: str | Path) -> list[Path]:
        """Write each table at full precision to ``directory/<table-title>.csv``; return the paths.

        Each file is written aside and moved into place (:func:`~eventstudy.foundation.files.atomic_write_bytes`):
        a failure (a full disk) leaves an earlier file of that name whole, never a truncated one.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for table in self.tables:
            name = re.sub(r"[^a-z0-9]+", "_", table.title.lower()).strip("_") or "table"
            path = directory / f"{name}.csv"
            atomic_write_bytes(path, table.data.to_csv(index=False).encode("utf-8"))
            paths.append(path)
        return paths
