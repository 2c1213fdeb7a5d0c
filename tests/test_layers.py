"""The house drawing, checked: each module's import-time imports of the package point down the layers.

The layers, bottom to top (the README's "What is inside" table describes them):

0. foundation: exceptions, argument checks, checks of misread values, exchange symbols, table rendering;
1. data: price and factor sources, the cache, atomic writes;
2. time: trading calendars, event time, the event catalog, the session layout, returns on it;
3. estimation core: the stacked fit, models, design, firm-events, contamination, data quality, outcomes;
4. inference: the tests, simulation, CAR regressions;
5. results and studies: ``EventStudy``, results, storage, the intraday study;
6. presentation: plots, the report, study files, the command line.

A module may import its own layer or one below when it is imported. An import inside a function is not
counted (a few break a cycle or defer a heavy library, each with a comment saying which), nor one under
``TYPE_CHECKING``. The test reads the source with :mod:`ast`; it imports nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "eventstudy"

LAYERS: dict[str, int] = {
    # 0 foundation (the package root imports only the exceptions when loaded; public names come lazily)
    "eventstudy": 0,
    "eventstudy.exceptions": 0,
    "eventstudy.foundation": 0,
    # 1 data
    "eventstudy.data": 1,
    # 2 time
    "eventstudy.time": 2,
    # 3 estimation core
    "eventstudy.estimation": 3,
    # 4 inference
    "eventstudy.inference": 4,
    # 5 results and studies
    "eventstudy.results": 5,
    # 5.5 intraday (bars, their tests, the intraday study) sits above the daily study and below presentation
    "eventstudy.intraday": 5.5,
    # 6 presentation
    "eventstudy.plotting": 6,
    "eventstudy.report": 6,
    "eventstudy.cli": 6,
    "eventstudy.__main__": 6,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> int:
    """The layer of a module: its own entry, else its package's (``eventstudy.data.cache`` -> data)."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in LAYERS and (end == len(parts) or name != "eventstudy"):
            return LAYERS[name]
    raise KeyError(module)


def _root_lazy_names() -> dict[str, str]:
    """The package root's lazy public names (``es.EventStudy`` -> ``eventstudy.results.study``), read from its
    ``_LAZY`` table: ``from eventstudy import EventStudy`` loads that module."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign) and "_LAZY" in ast.unparse(node).split("=")[0]:
            table = ast.literal_eval(node.value)
            return dict(table)
    return {}


LAZY = _root_lazy_names()


def _is_type_checking(test: ast.expr) -> bool:
    return ast.unparse(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def import_time_imports(module: str, source: str | None = None, *, is_package: bool | None = None):
    """(line, module) of the package's modules that ``module`` imports when it is loaded (from its file, or
    from ``source``): every import outside function bodies and ``if TYPE_CHECKING:`` blocks, class bodies,
    ``with``, loops and ``try`` included."""
    if source is None:
        path = MODULES[module]
        source, is_package = path.read_text(encoding="utf-8"), path.name == "__init__.py"
    found: list[tuple[int, str]] = []

    def resolve(node: ast.ImportFrom) -> None:
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        if target.split(".")[0] != "eventstudy":
            return
        for alias in node.names:  # `from . import storage` names a module, `from eventstudy import X` a lazy name
            full = f"{target}.{alias.name}"
            if full in MODULES:
                found.append((node.lineno, full))
            elif target == "eventstudy" and alias.name in LAZY:
                found.append((node.lineno, LAZY[alias.name]))
            else:
                found.append((node.lineno, target))

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return  # runs when called, not when loaded
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "eventstudy")
        elif isinstance(node, ast.ImportFrom):
            resolve(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return found


def test_every_module_has_a_layer():
    unplaced = [m for m in MODULES if not _placed(m)]
    assert not unplaced, f"add these modules to LAYERS in tests/test_layers.py: {unplaced}"


def _placed(module: str) -> bool:
    try:
        layer(module)
    except KeyError:
        return False
    return True


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _placed(m)))
def test_imports_point_down_the_layers(module):
    upward = [
        f"line {line}: {target} (layer {layer(target)})"
        for line, target in import_time_imports(module)
        if target in MODULES and layer(target) > layer(module)
    ]
    assert not upward, f"{module} (layer {layer(module)}) imports a higher layer when loaded: {upward}"


def test_the_check_reads_imports_the_way_python_resolves_them():
    source = """
from __future__ import annotations
from typing import TYPE_CHECKING
import numpy as np
from . import base
from ..results import storage
from ..inference.parametric import p_t
import eventstudy.estimation.fit
if TYPE_CHECKING:
    from ..results.results import EventStudyResults
else:
    from ..estimation.models import get_model
def later():
    from ..report import build
class Holder:
    from ..results.results import EventStudyResults
with open(__file__):
    from ..results import storage as again
if not TYPE_CHECKING:
    from ..plotting import plot_car
from eventstudy import EventStudy
"""
    found = [target for _, target in import_time_imports("eventstudy.data.local", source, is_package=False)]
    assert found == [
        "eventstudy.data.base",
        "eventstudy.results.storage",
        "eventstudy.inference.parametric",
        "eventstudy.estimation.fit",
        "eventstudy.estimation.models",
        "eventstudy.results.results",
        "eventstudy.results.storage",
        "eventstudy.plotting",
        "eventstudy.results.study",
    ]
    # a package's relative imports start from the package itself
    found = [target for _, target in import_time_imports("eventstudy.data", "from .cache import X", is_package=True)]
    assert found == ["eventstudy.data.cache"]
    assert layer("eventstudy.data.cache") == 1 and layer("eventstudy.report.build") == 6
    with pytest.raises(KeyError):
        layer("eventstudy_other.module")
