"""The public names: each one imports on first use, and type checkers see each one."""

from __future__ import annotations

import ast
import inspect

import eventstudy as es


def test_every_public_name_imports():
    missing = [name for name in es.__all__ if getattr(es, name, None) is None]
    assert missing == []


def test_type_checkers_see_every_public_name():
    # es.X is imported lazily at run time; the TYPE_CHECKING block is what mypy and IDEs read instead
    tree = ast.parse(inspect.getsource(es))
    blocks = [node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"]
    typed = {
        alias.asname or alias.name
        for block in blocks
        for statement in block.body
        if isinstance(statement, ast.ImportFrom)
        for alias in statement.names
    }
    assert sorted(set(es._LAZY) - typed) == []
