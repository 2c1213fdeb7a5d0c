"""Publication tables of CARs: :class:`EventTable`, built by :meth:`EventStudyResults.etable`.

One table drives every display (text, HTML, Markdown, LaTeX), as statsmodels' ``summary_col`` and pyfixest's
``etable`` do: a CAR per window and column with significance stars, and beneath it the t-statistic (or the
standard error) in parentheses; the model and benchmark go in the notes.  The LaTeX needs only ``booktabs``:
every label is escaped, numbers are written as numbers (percent in the header, not a ``\\%`` after each value)
and the table carries a ``\\label``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from eventstudy.foundation.summary import (
    NOT_AVAILABLE,
    NOT_AVAILABLE_NOTE,
    format_value,
    latex_escape,
    latex_label,
    latex_minus,
    window_label,
)

__all__ = ["EventTable", "stars_for"]


def stars_for(pvalue: float, stars: Sequence[float]) -> int:
    """How many stars ``pvalue`` earns: one per threshold of ``stars`` it lies strictly below (NaN: none)."""
    if pvalue is None or not math.isfinite(pvalue):
        return 0
    return sum(pvalue < level for level in stars)


@dataclass(frozen=True)
class EventTable:
    """CARs by window (rows) and firm or event (columns), with t-statistics or standard errors beneath.

    Attributes
    ----------
    data : DataFrame
        Tidy, full precision: ``group, column, window_start, window_end, car, se, t, pvalue, stars``
        (``group`` is the event when columns are firms and the study holds several events, the firm when
        columns are events; empty otherwise).
    below : {"t", "se"}
        What the parentheses hold.
    stars : tuple of float
        The p-value thresholds, loosest first.
    notes : list of str
        Model, benchmark, windows and the meaning of the stars and parentheses.
    title : str
    """

    data: pd.DataFrame
    below: str
    stars: tuple[float, ...]
    notes: list[str] = field(default_factory=list)
    title: str = "Cumulative abnormal returns"

    # -- the grid every display shows ---------------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(self.data["column"]))

    def _rows(self) -> list[tuple[str, str, list[tuple[float, int] | None], list[float | None]]]:
        """(group, window label, [(car %, stars) per column], [value below per column]) per window row."""
        columns = self.columns
        rows = []
        keys = ["group", "window_start", "window_end"]
        for key, part in self.data.groupby(keys, sort=False, dropna=False):
            group, lo, hi = (str(key[0]), int(key[1]), int(key[2]))  # type: ignore[index, call-overload]
            found = {
                str(c): (100 * float(car), int(stars), float(t) if self.below == "t" else 100 * float(se))
                for c, car, stars, t, se in zip(part["column"], part["car"], part["stars"], part["t"], part["se"])
            }
            top: list[tuple[float, int] | None] = [found[c][:2] if c in found else None for c in columns]
            under: list[float | None] = [found[c][2] if c in found else None for c in columns]
            rows.append((group, f"CAR{window_label((lo, hi))}", top, under))
        return rows

    @staticmethod
    def _num(value: float | None, digits: int = 2) -> str:
        if value is None or not math.isfinite(value):
            return ""
        return format_value(value, f"{{:.{digits}f}}")  # the summary's numbers: no "-0.00"

    def _cells(self, top, under, stars, number=None) -> tuple[list[str], list[str]]:
        """A row's CAR cells (``stars`` renders the stars, ``number`` the numbers; default :meth:`_num`) and the
        cells beneath: blank where the column has no such firm-event, :data:`NOT_AVAILABLE` over a blank where
        its CAR could not be computed (NaN)."""
        number = self._num if number is None else number
        cars, below = [], []
        for c, u in zip(top, under):
            if c is None:
                cars.append("")
                below.append("")
            elif not math.isfinite(c[0]):
                cars.append(NOT_AVAILABLE)
                below.append("")
            else:
                cars.append(number(c[0]) + stars(c[1]))
                below.append("" if u is None or not math.isfinite(u) else f"({number(u)})")
        return cars, below

    @property
    def shown_notes(self) -> list[str]:
        """:attr:`notes`, plus what :data:`NOT_AVAILABLE` means when a CAR could not be computed."""
        missing = bool(len(self.data)) and not self.data["car"].map(math.isfinite).all()
        return [*self.notes, NOT_AVAILABLE_NOTE] if missing else list(self.notes)

    def _header(self) -> str:
        return "CAR in percent" if self.below == "t" else "CAR and standard error in percent"

    def _grid(self) -> tuple[list[str], list[list[str]]]:
        """Header and rows of plain strings (stars as asterisks), for text and Markdown."""
        header = [""] + self.columns
        body = []
        grouped = any(group for group, *_ in self._rows())
        for group, label, top, under in self._rows():
            name = f"{group} {label}" if grouped and group else label
            cars, below = self._cells(top, under, lambda n: "*" * n)
            body += [[name, *cars], ["", *below]]
        return header, body

    # -- displays ----------------------------------------------------------------------------------------
    def as_text(self) -> str:
        header, body = self._grid()
        widths = [max(len(r[j]) for r in [header, *body]) for j in range(len(header))]
        line = lambda r: "  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
        rule = "-" * len(line(header))
        out = [self.title, f"({self._header()})", rule, line(header), rule, *map(line, body), rule]
        return "\n".join(out + self.shown_notes)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def to_markdown(self) -> str:
        header, body = self._grid()
        esc = lambda c: c.replace("|", "\\|").replace("*", "\\*")  # noqa: E731
        lines = [f"**{self.title}** ({self._header()})", ""]
        lines.append("| " + " | ".join(esc(c) for c in header) + " |")
        lines.append("|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|")
        lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in body]
        return "\n".join(lines + [""] + [f"*{esc(n)}*" for n in self.shown_notes]) + "\n"

    def as_html(self) -> str:
        columns = self.columns
        parts = [
            "<table class='eventstudy-etable'>",
            f"<caption>{html.escape(self.title)}</caption>",
            "<thead><tr><th></th>",
        ]
        parts += [f"<th>{html.escape(c)}</th>" for c in columns] + ["</tr></thead><tbody>"]
        header, body = self._grid()
        for row in body:
            cells = [html.escape(row[0])] + [
                html.escape(c.rstrip("*"))
                + (f"<sup>{'*' * (len(c) - len(c.rstrip('*')))}</sup>" if c.endswith("*") else "")
                for c in row[1:]
            ]
            parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append(f"</tbody><tfoot><tr><td colspan='{len(columns) + 1}'>")
        parts.append("<br>".join(html.escape(n) for n in [self._header() + ".", *self.shown_notes]))
        parts.append("</td></tr></tfoot></table>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.as_html()

    def to_latex(self, *, label: str = "tab:car", caption: str | None = None) -> str:
        r"""A ``table`` float that compiles with ``\usepackage{booktabs}`` and nothing else.

        Numbers are plain numbers (CARs in percent, the unit in the caption; a minus sign as ``$-$``, as in the
        summary's LaTeX), stars are superscripts
        (``$^{**}$``), parentheses hold the t-statistic or standard error, and every label is escaped.

        Parameters
        ----------
        label : str
            The ``\label`` of the table (for ``\ref``).
        caption : str, optional
            Default: :attr:`title` with the unit.
        """
        columns = self.columns
        caption = caption if caption is not None else f"{self.title} ({self._header()})"
        lines = [
            r"\begin{table}[htbp]",
            r"\centering",
            rf"\caption{{{latex_escape(caption)}}}",
            rf"\label{{{latex_label(label)}}}",
            r"\begin{tabular}{l" + "r" * len(columns) + "}",
            r"\toprule",
            " & ".join([""] + [latex_escape(c) for c in columns]) + r" \\",
            r"\midrule",
        ]
        rows = self._rows()
        grouped = any(group for group, *_ in rows)
        stars = lambda n: f"$^{{{'*' * n}}}$" if n else ""  # noqa: E731
        for group, window, top, under in rows:
            name = f"{group} {window}" if grouped and group else window
            cars, below = self._cells(top, under, stars, lambda v: latex_minus(self._num(v)))
            lines.append(" & ".join([latex_escape(name), *cars]) + r" \\")
            lines.append(" & ".join(["", *below]) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        if self.shown_notes:
            lines += [r"\par\smallskip", r"\footnotesize " + " ".join(latex_escape(n) for n in self.shown_notes)]
        lines.append(r"\end{table}")
        return "\n".join(lines) + "\n"
