"""The house drawing, checked: the folders are the layers, every import points down them, and no two modules
import each other.

The layers, bottom to top (the README's "What is inside" table describes them), one package each:

0. foundation: exceptions, the version, argument checks, checks of misread values, exchange symbols, tables;
1. data: price and factor sources, the cache, bars, atomic writes;
2. time: trading sessions and calendars, event time (day 0), the event catalogs, the session layout, returns;
3. estimation: the normal-return models, the stacked fit, design, firm-events, contamination, data quality;
4. inference: the tests, simulation, CAR regressions, the advice on which test suits a design;
5. results: ``EventStudy``, its results, their storage;
6. intraday: bars on each exchange's sessions, their tests, the intraday study;
7. plotting; 8. report (study files read by one generic report);
9. the command line, and the facade (``eventstudy/__init__``: its public names load lazily, on first use).

Every import of a package module counts, in a function body or not (an import inside a function that dodges a
cycle hides a seam), except one under ``if TYPE_CHECKING:``. A module may import its own layer or one below,
and the graph of imports has no cycle. The test reads the sources with :mod:`ast`; it imports nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "eventstudy"

# one line per package: a module's layer is its package's
LAYERS: dict[str, int] = {
    "eventstudy.exceptions": 0,
    "eventstudy._version": 0,
    "eventstudy.foundation": 0,
    "eventstudy.data": 1,
    "eventstudy.time": 2,
    "eventstudy.estimation": 3,
    "eventstudy.inference": 4,
    "eventstudy.results": 5,
    "eventstudy.intraday": 6,
    "eventstudy.plotting": 7,
    "eventstudy.report": 8,
    "eventstudy.cli": 9,
    "eventstudy.__main__": 9,
    "eventstudy": 9,  # the facade
}

MAX_TOP_MODULES = 8  # the facade, __main__, cli, exceptions, the version, and room for three more


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
    """The facade's lazy public names (``es.EventStudy`` -> ``eventstudy.results.study``), read from its
    ``_LAZY`` table: ``from eventstudy import EventStudy`` loads that module."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign) and "_LAZY" in ast.unparse(node).split("=")[0]:
            return dict(ast.literal_eval(node.value))
    return {}


LAZY = _root_lazy_names()


def _is_type_checking(test: ast.expr) -> bool:
    return ast.unparse(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def imports(module: str, source: str | None = None, *, is_package: bool | None = None):
    """(line, module, when loaded) of the package's modules that ``module`` imports (from its file, or from
    ``source``): every import but those under ``if TYPE_CHECKING:``; "when loaded" is False for one in a
    function body, which runs when the function is called."""
    if source is None:
        path = MODULES[module]
        source, is_package = path.read_text(encoding="utf-8"), path.name == "__init__.py"
    found: list[tuple[int, str, bool]] = []

    def resolve(node: ast.ImportFrom, loaded: bool) -> None:
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
                found.append((node.lineno, full, loaded))
            elif target == "eventstudy" and alias.name in LAZY:
                found.append((node.lineno, LAZY[alias.name], loaded))
            else:
                found.append((node.lineno, target, loaded))

    def visit(node: ast.AST, loaded: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            loaded = False
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child, loaded)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name, loaded) for a in node.names if a.name.split(".")[0] == "eventstudy")
        elif isinstance(node, ast.ImportFrom):
            resolve(node, loaded)
        for child in ast.iter_child_nodes(node):
            visit(child, loaded)

    visit(ast.parse(source), True)
    return found


def _placed(module: str) -> bool:
    try:
        layer(module)
    except KeyError:
        return False
    return True


def upward_imports(module: str, found) -> list[str]:
    """The imports in ``found`` that point to a higher layer than ``module``'s."""
    return [
        f"line {line}: {target} (layer {layer(target)})"
        for line, target, _ in found
        if target in MODULES and layer(target) > layer(module)
    ]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm), each a cycle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def import_graph() -> dict[str, set[str]]:
    """Every module's imports of other package modules, with a package's imports of its own submodules left out
    when the submodule's own import of the package is only Python loading the parent first."""
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        targets = {t for _, t, _ in imports(module) if t in MODULES and t != module}
        if module == "eventstudy":  # the facade reaches every layer lazily; nothing below imports it
            targets = set()
        graph[module] = targets
    return graph


def test_every_module_has_a_layer():
    unplaced = [m for m in MODULES if not _placed(m)]
    assert not unplaced, f"add these modules' packages to LAYERS in tests/test_layers.py: {unplaced}"


def test_the_top_of_the_package_holds_few_modules_and_the_rest_are_layers():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, f"eventstudy/ holds {len(top)} modules at the top: {top}"
    folders = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    assert len(folders) >= 8, folders
    assert all(f"eventstudy.{name}" in LAYERS for name in folders), folders


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _placed(m)))
def test_imports_point_down_the_layers(module):
    upward = upward_imports(module, imports(module))
    assert not upward, f"{module} (layer {layer(module)}) imports a higher layer: {upward}"


def test_no_two_modules_import_each_other():
    assert cycles(import_graph()) == []


def test_the_facade_loads_only_the_exceptions_and_the_version():
    loaded = sorted({t for _, t, at_load in imports("eventstudy") if at_load})
    assert loaded == ["eventstudy._version", "eventstudy.exceptions"]


def test_the_checks_fail_on_planted_violations():
    planted = "from eventstudy.report.build import build_study\n"
    assert upward_imports("eventstudy.data.local", imports("eventstudy.data.local", planted, is_package=False))
    in_function = "def later():\n    from eventstudy.results.study import EventStudy\n"
    found = imports("eventstudy.estimation.fit", in_function, is_package=False)
    assert found == [(2, "eventstudy.results.study", False)]
    assert upward_imports("eventstudy.estimation.fit", found)
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


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
    found = [(target, at_load) for _, target, at_load in imports("eventstudy.data.local", source, is_package=False)]
    assert found == [
        ("eventstudy.data.base", True),
        ("eventstudy.results.storage", True),
        ("eventstudy.inference.parametric", True),
        ("eventstudy.estimation.fit", True),
        ("eventstudy.estimation.models", True),
        ("eventstudy.report.build", False),
        ("eventstudy.results.results", True),
        ("eventstudy.results.storage", True),
        ("eventstudy.plotting", True),
        ("eventstudy.results.study", True),
    ]
    # a package's relative imports start from the package itself
    found = [target for _, target, _ in imports("eventstudy.data", "from .cache import X", is_package=True)]
    assert found == ["eventstudy.data.cache"]
    assert layer("eventstudy.data.cache") == 1 and layer("eventstudy.report.build") == 8
    with pytest.raises(KeyError):
        layer("eventstudy_other.module")
