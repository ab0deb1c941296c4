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


# -- the error promise: what the package raises on purpose is a WebcoosError ----------------

#: Raises of other exceptions that are right, by (module, exception): why.
OTHER_RAISES_ALLOWED = {
    ("__init__.py", "AttributeError"): "a module __getattr__ says 'no such name' so (PEP 562)",
    ("api/http.py", "_Retry"): "a private signal, caught by the attempt loop of its module",
    ("api/bodies.py", "BodyTooLarge"): "a signal its callers turn into ResponseFormatError or "
                                        "TruncatedDownloadError (each with its own message)",
    ("api/partial.py", "ClientPayloadError"): "a resume that went wrong, retried by the "
                                               "transport like any broken body",
    ("cli/main.py", "ClickException"): "click's protocol: print the message, exit 1",
    ("cli/main.py", "Abort"): "click's protocol: Ctrl-C ends the command",
    ("cli/main.py", "BadParameter"): "click's protocol: a usage error, exit 2",
}


def _namespace(path: Path) -> dict[str, object]:
    """The globals of the module at ``path`` (imported: they resolve aliases and re-exports)."""
    import importlib

    dotted = path.relative_to(PACKAGE.parent).with_suffix("").as_posix().replace("/", ".")
    return vars(importlib.import_module(dotted.removesuffix(".__init__")))


def _resolved(node: ast.expr, namespace: dict[str, object]) -> object:
    """What a raise's name or dotted name stands for in its module; None for a local name.

    A name no module global holds is looked up in intake_webcoos.errors (imported
    inside a function) and the builtins.
    """
    import builtins

    from intake_webcoos import errors

    if isinstance(node, ast.Name):
        for scope in (namespace, vars(errors), vars(builtins)):
            if node.id in scope:
                return scope[node.id]
        return None
    if isinstance(node, ast.Attribute):
        owner = _resolved(node.value, namespace)
        return None if owner is None else getattr(owner, node.attr, None)
    return None


def _raised_class(target: object) -> type | None:
    """The exception class ``raise target(...)`` raises: the class, or a helper's return type."""
    import inspect

    if isinstance(target, type):
        return target
    if callable(target):  # a helper that builds the error: its return annotation says which
        returned = inspect.get_annotations(target).get("return")
        returned = eval(returned, target.__globals__) if isinstance(returned, str) else returned
        return returned if isinstance(returned, type) else None
    return None


def _other_raises(path: Path) -> list[tuple[int, str, str]]:
    """``(line, name, why)`` of each raise in ``path`` that is not of a WebcoosError."""
    from intake_webcoos.errors import WebcoosError

    namespace = _namespace(path)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue  # a bare raise re-raises what was caught
        called = isinstance(node.exc, ast.Call)
        target = node.exc.func if called else node.exc
        shown = ast.unparse(target)
        value = _resolved(target, namespace)
        if value is None and not called:
            continue  # raise exc: a caught (or given) exception, raised as it is
        raised = _raised_class(value)
        if raised is None:
            found.append((node.lineno, shown, "names no exception class the test can resolve"))
        elif not issubclass(raised, WebcoosError):
            found.append((node.lineno, raised.__name__, f"{raised.__module__}."
                          f"{raised.__qualname__} is not a WebcoosError"))
    return sorted(found)


RAISING = [p for p in MODULES if name(p) != "errors.py" and "server" not in
           p.relative_to(PACKAGE).parts]


def test_every_deliberate_raise_is_a_webcoos_error():
    """``except WebcoosError`` catches whatever the package raises on purpose (errors.py)."""
    offending = [f"intake_webcoos/{name(path)}:{line}: raise {shown}: {why}"
                 for path in RAISING for line, shown, why in _other_raises(path)
                 if (name(path), shown) not in OTHER_RAISES_ALLOWED]
    assert offending == [], ("raise a class of intake_webcoos.errors (or allow the raise "
                             "in OTHER_RAISES_ALLOWED, saying why):\n" + "\n".join(offending))


def test_each_allowed_raise_is_still_there():
    used = {(name(path), shown) for path in RAISING for _, shown, _ in _other_raises(path)}
    assert set(OTHER_RAISES_ALLOWED) <= used, set(OTHER_RAISES_ALLOWED) - used
