"""One summary, many displays: text, HTML (Jupyter), Markdown, LaTeX and CSV from the same tables.

A :class:`Summary` is a title, a list of facts (label, value), a list of titled tables and a list of notes.
Every display is rendered from those, so the numbers a notebook shows are the numbers a report prints.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from eventstudy.foundation.files import files_aside

__all__ = [
    "Summary", "Table", "format_table", "format_value", "latex_escape", "latex_label", "latex_minus", "text_table",
    "window_label",
]  # fmt: skip


@dataclass(frozen=True)
class Table:
    """A titled table; ``data`` keeps full precision, ``display`` is formatted for reading."""

    title: str
    data: pd.DataFrame
    formats: dict = field(default_factory=dict)
    caption: str = ""

    @cached_property
    def display(self) -> pd.DataFrame:
        """The table formatted for reading (:func:`format_table`), once per table: every rendering and the
        check for :data:`NOT_AVAILABLE` cells read it."""
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
    # column by column into one constructor (by position: names may repeat), not assignments into a copy
    columns: dict[int, Any] = {}
    for at, column in enumerate(frame.columns):
        values, spec = frame.iloc[:, at], formats.get(column)
        if spec is not None:
            columns[at] = [format_value(v, spec) or NOT_AVAILABLE for v in values.tolist()]
        elif pd.api.types.is_datetime64_any_dtype(values):
            columns[at] = values.dt.strftime("%Y-%m-%d").fillna("")
        else:
            columns[at] = values.fillna("")
    out = pd.DataFrame(columns, index=frame.index).astype(str)
    out.columns = frame.columns
    return out


#: the characters pandas' text tables escape (``pandas.io.formats.printing.pprint_thing``)
_ESCAPES = str.maketrans({"\t": "\\t", "\n": "\\n", "\r": "\\r"})


def text_table(frame: pd.DataFrame) -> str:
    """A table of strings as plain text: each column right-justified to its widest cell, header included,
    columns one space apart, tabs, newlines and carriage returns written as ``\\t``, ``\\n`` and ``\\r``;
    what ``frame.to_string(index=False)`` prints for such a table with pandas' default options, at a tenth of
    its cost (2-3 ms a table)."""
    columns = []
    for name, values in zip(frame.columns, frame.to_numpy(dtype=object).T.tolist()):
        cells = [str(cell).translate(_ESCAPES) for cell in (name, *values)]
        width = max(map(len, cells))
        columns.append([cell.rjust(width) for cell in cells])
    return "\n".join(" ".join(row) for row in zip(*columns))


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

    @cached_property
    def shown_notes(self) -> list[str]:
        """``notes``, plus :data:`NOT_AVAILABLE_NOTE` when a table shows a value that could not be computed."""
        blank = any(
            len(table.data) and (table.display.to_numpy(dtype=object) == NOT_AVAILABLE).any() for table in self.tables
        )
        return [*self.notes, NOT_AVAILABLE_NOTE] if blank and NOT_AVAILABLE_NOTE not in self.notes else self.notes

    # -- text ------------------------------------------------------------------------------------------
    def as_text(self) -> str:
        width = max([len(self.title), *(len(label) + len(value) + 2 for label, value in self.facts)], default=40)
        lines = [self.title, "=" * width]
        lines += [f"{label}: {value}" for label, value in self.facts]
        for table in self.tables:
            lines += ["", table.title, "-" * len(table.title)]
            lines.append(text_table(table.display) if len(table.data) else "(none)")
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
    def to_latex(self, *, label: str = "tab:eventstudy") -> str:
        r"""LaTeX that compiles with ``\usepackage{booktabs}`` alone: the facts as a tabular, each table as a
        ``table`` float with its ``\caption`` and ``\label`` (``label`` + ``-`` + the table's title as a slug),
        the notes as a list.

        Every text is escaped (:func:`latex_escape`: ``^N225`` prints as typed).  Percent columns are written
        as numbers in percent with the unit in the header (``CAR (0) (\%)``: ``-0.83``, not ``-0.83\%``),
        p-values as numbers (``<0.001`` as ``$<$0.001``), other values as they are displayed.
        """
        lines = [f"% {self.title}".replace("\n", " "), r"\begin{tabular}{ll}", r"\toprule"]
        lines += [f"{latex_escape(label_)} & {latex_escape(value)} \\\\" for label_, value in self.facts]
        lines += [r"\bottomrule", r"\end{tabular}"]
        for table in self.tables:
            if not len(table.data):
                continue
            slug = re.sub(r"[^a-z0-9]+", "-", table.title.lower()).strip("-")
            header, rows = _latex_cells(table)
            lines += [
                "",
                r"\begin{table}[htbp]",
                r"\centering",
                rf"\caption{{{latex_escape(table.title)}}}",
                rf"\label{{{latex_label(label)}-{slug}}}",
                r"\begin{tabular}{" + "l" * len(header) + "}",
                r"\toprule",
                " & ".join(header) + r" \\",
                r"\midrule",
                *(" & ".join(row) + r" \\" for row in rows),
                r"\bottomrule",
                r"\end{tabular}",
            ]
            if table.caption:
                lines += [r"\par\smallskip", r"\footnotesize " + latex_escape(table.caption)]
            lines.append(r"\end{table}")
        if self.shown_notes:
            lines += ["", r"\begin{itemize}"] + [rf"\item {latex_escape(note)}" for note in self.shown_notes]
            lines.append(r"\end{itemize}")
        return "\n".join(lines) + "\n"

    # -- csv -------------------------------------------------------------------------------------------
    def to_csv(self, directory: str | Path) -> list[Path]:
        """Write each table at full precision to ``directory/<table-title>.csv``; return the paths.

        Every file is written aside and the files are moved into place together when all are complete
        (:func:`eventstudy.foundation.files.files_aside`): a failure leaves the earlier files whole."""
        directory = Path(directory)
        names = [re.sub(r"[^a-z0-9]+", "_", table.title.lower()).strip("_") or "table" for table in self.tables]
        paths = [directory / f"{name}.csv" for name in names]
        with files_aside(paths) as temps:
            for table, temp in zip(self.tables, temps):
                table.data.to_csv(temp, index=False)
        return paths


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
    "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
}  # fmt: skip
_LATEX_RE = re.compile("|".join(re.escape(c) for c in _LATEX_SPECIAL))


def latex_escape(text: str) -> str:
    r"""``text`` with LaTeX's special characters written as commands (``^N225`` -> ``\textasciicircum{}N225``,
    ``<`` -> ``\textless{}``), so it prints as typed with the standard fonts and no package."""
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group(0)], str(text))


def latex_label(text: str) -> str:
    """``text`` as a LaTeX ``\\label`` key: letters, digits and ``:._-`` kept, anything else ``-``."""
    return re.sub(r"[^A-Za-z0-9:._-]", "-", str(text))


def _latex_cells(table: Table) -> tuple[list[str], list[list[str]]]:
    """Header and body of ``table`` for LaTeX: percent columns in percent as numbers, the unit in the header."""
    header, columns = [], []
    for column in table.data.columns:
        spec = table.formats.get(column)
        values = table.data[column]
        if spec == "pct":
            header.append(latex_escape(f"{column} (%)"))
            columns.append([_latex_number(v, "{:.2f}", 100.0) for v in values])
        elif spec == "p":
            header.append(latex_escape(str(column)))
            columns.append(["$<$0.001" if pd.notna(v) and v < 0.001 else _latex_number(v, "{:.3f}") for v in values])
        elif spec is not None:
            header.append(latex_escape(str(column)))
            columns.append([_latex_number(v, spec) for v in values])
        else:
            header.append(latex_escape(str(column)))
            columns.append([latex_escape(v) for v in format_table(table.data[[column]], {})[column]])
    return header, [list(row) for row in zip(*columns)]


def _latex_number(value, spec: str, scale: float = 1.0) -> str:
    """A number as LaTeX text: ``-0.83`` (a minus sign in math mode), '' for NaN."""
    if value is None or pd.isna(value):
        return ""
    return latex_minus(format_value(value * scale, spec))


def latex_minus(text: str) -> str:
    """A formatted number for LaTeX text mode: a leading ``-`` becomes a minus sign (``$-$0.83``), not a hyphen."""
    return "$-$" + text[1:] if text.startswith("-") else text
