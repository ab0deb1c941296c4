"""The package's size limits: modules (outside server/) up to 450 lines, functions up to 60."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "intake_webcoos"
MODULE_LINES, FUNCTION_LINES = 450, 60
MODULES = sorted(PACKAGE.rglob("*.py"))


def name(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def test_the_package_is_where_the_layout_test_looks():
    assert (PACKAGE / "__init__.py").is_file() and len(MODULES) > 30


@pytest.mark.parametrize("path", [p for p in MODULES if "server" not in p.relative_to(
    PACKAGE).parts], ids=name)
def test_modules_outside_the_server_are_at_most_450_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MODULE_LINES, f"{name(path)} has {lines} lines: split it by concern"


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_functions_are_at_most_60_lines(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    long = [f"{node.name} (line {node.lineno}): {node.end_lineno - node.lineno + 1} lines"
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > FUNCTION_LINES]
    assert long == [], f"{name(path)}: " + "; ".join(long)
