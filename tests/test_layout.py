"""The package's layout: its floors and circles, its size limits, its bridges, its errors."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
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


# -- the layers: one folder each, imports only downwards ---------------------------------------
#: Each top-level part of the package and its floor; a module imports only from its own
#: floor or below.  ``server`` (the stand-in) sits beside the package: it may use the
#: package, and only the command line (``serve``, the demo) may start it.
FLOORS = {"version": 0, "errors": 0, "paths": 0, "api": 1, "fs": 2, "cube": 3, "products": 4,
          "world": 5, "accessor": 6, "intake": 7, "intake_readers": 7, "cli": 8, "server": 9,
          "__init__": 10}
ALLOWED_UP = {("cli", "server")}
#: The one module that turns coroutines into blocking calls.
BRIDGE = "api/bridge.py"
BRIDGE_CALLS = {"run_coroutine_threadsafe", "sync", "sync_wrapper", "run_until_complete"}
#: The underscored names of fsspec's classes that implementations are meant to define or
#: call: the async methods of AsyncFileSystem, and the documented hooks.
FSSPEC_HOOKS = {"_strip_protocol", "_get_kwargs_from_urls", "_open", "_fetch_range",
                "_parent", "_initiate_upload", "_upload_chunk"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(["intake_webcoos", *(parts[:-1] if parts[-1] == "__init__" else parts)])


MODULE_NAMES = {module_name(p): p for p in MODULES}


def imported_modules(path: Path) -> set[str]:
    """The package's modules ``path`` imports, anywhere in it (functions, TYPE_CHECKING)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{name(path)}:{node.lineno}: relative import; write it whole")
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in MODULE_NAMES}
        elif isinstance(node, ast.ImportFrom) and node.module in MODULE_NAMES:
            subs = {f"{node.module}.{a.name}" for a in node.names}
            found |= subs & set(MODULE_NAMES)
            if node.module != "intake_webcoos":  # a subpackage's __init__ runs too
                found.add(node.module)
    return found - {module_name(path)}


GRAPH = {module_name(p): imported_modules(p) for p in MODULES}


def floor(module: str) -> tuple[str, int]:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    return top, FLOORS[top]


def test_every_part_of_the_package_has_a_floor():
    assert {floor(m)[0] for m in GRAPH} <= set(FLOORS)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_modules_import_only_their_floor_or_below(module):
    top, level = floor(module)
    upward = sorted(m for m in GRAPH[module]
                    if floor(m)[1] > level and (top, floor(m)[0]) not in ALLOWED_UP)
    assert upward == [], f"{module} imports from a higher floor: {upward}"


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = [stack.pop()]
            while component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return circles


def test_no_import_circles():
    assert import_circles(GRAPH) == []


#: Imports each module named on the command line first in a fresh interpreter (a forked
#: child that has imported nothing of the package), as a dask worker does when it
#: unpickles a task; prints the modules that fail.
_FIRST_IMPORTS = """
import importlib, os, sys
for module in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(module)
            import xarray
            xarray.Dataset().webcoos
        except BaseException as exc:
            print(module, repr(exc))
            os._exit(1)
        os._exit(0)
    os.waitpid(pid, 0)
"""


def test_every_module_a_worker_unpickles_imports_first():
    # Importing xarray registers the accessor (intake_webcoos/__init__.py); when a module
    # of ours is what imports xarray, the accessor must not import it back half-made.
    modules = [module_name(p) for p in MODULES
               if p.stem != "__init__" and p.parent.name in ("cube", "products", "world")]
    done = subprocess.run([sys.executable, "-c", _FIRST_IMPORTS, *modules],
                          capture_output=True, text=True, timeout=300)
    assert len(modules) > 15
    assert (done.returncode, done.stdout) == (0, ""), done.stderr


def letters_apart(a: str, b: str) -> int:
    """The edit distance of two names (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def test_no_two_modules_have_names_a_letter_apart():
    """``listing.py`` beside ``listings.py`` (or ``times.py`` beside ``timex.py``) misleads."""
    stems = sorted({p.stem for p in MODULES if p.relative_to(PACKAGE).parts[0] != "server"}
                   - {"__init__", "__main__"})
    close = [(a, b) for i, a in enumerate(stems) for b in stems[i + 1:]
             if letters_apart(a, b) <= 1]
    assert close == []
    assert letters_apart("listing", "listings") == 1 and letters_apart("times", "timex") == 1


def fsspec_names(tree: ast.Module) -> set[str]:
    """Names a module binds to fsspec modules or objects."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names
                      if a.name.split(".")[0] == "fsspec"}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "fsspec":
            names |= {a.asname or a.name for a in node.names}
    return names


def private_fsspec_uses(path: Path) -> list[str]:
    from fsspec.asyn import AsyncFileSystem

    hooks = FSSPEC_HOOKS | {n for n in dir(AsyncFileSystem) if n.startswith("_")
                            and inspect.iscoroutinefunction(getattr(AsyncFileSystem, n))}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    fsspec = fsspec_names(tree)
    found = [f"line {node.lineno}: from {node.module} import {a.name}"
             for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
             and (node.module or "").startswith("fsspec") for a in node.names
             if a.name.startswith("_")]
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        based = any(isinstance(b, ast.Name) and b.id in fsspec for b in cls.bases)
        own = {n.name for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        own |= {t.id for n in cls.body if isinstance(n, ast.Assign) for t in n.targets
                if isinstance(t, ast.Name)}
        own |= {n.attr for n in ast.walk(cls) if isinstance(n, ast.Attribute)
                and isinstance(n.ctx, ast.Store)}
        for node in ast.walk(cls):
            if (based and isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__") and node.attr not in own | hooks):
                found.append(f"line {node.lineno}: {node.attr} of an fsspec base")
    found += [f"line {node.lineno}: {node.value.id}.{node.attr}" for node in ast.walk(tree)
              if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id in fsspec and node.attr.startswith("_")
              and node.attr not in hooks]
    return found


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_no_private_fsspec_attributes(path):
    assert private_fsspec_uses(path) == [], name(path)


def bridge_calls(tree: ast.Module) -> list[str]:
    """Places that wait for a coroutine from synchronous code."""
    calls = [f"line {node.lineno}: {node.attr if isinstance(node, ast.Attribute) else node.id}"
             for node in ast.walk(tree)
             if (isinstance(node, ast.Attribute) and node.attr in BRIDGE_CALLS)
             or (isinstance(node, ast.Name) and node.id in BRIDGE_CALLS)]
    return calls + [f"line {node.lineno}: asyncio.run" for node in ast.walk(tree)
                    if isinstance(node, ast.Attribute) and node.attr == "run"
                    and isinstance(node.value, ast.Name) and node.value.id == "asyncio"]


@pytest.mark.parametrize("path", [p for p in MODULES if name(p) != BRIDGE
                                  and p.relative_to(PACKAGE).parts[0] != "server"], ids=name)
def test_no_sync_bridge_outside_its_module(path):
    """Every blocking face waits through ``api/bridge.py`` (which cancels on Ctrl-C)."""
    assert bridge_calls(ast.parse(path.read_text(encoding="utf-8"))) == [], name(path)


def test_the_layout_rules_catch_what_they_forbid(tmp_path):
    """The checks above can fail: each finds its fault in a module written to have it."""
    bad = tmp_path / "bad.py"
    bad.write_text("from fsspec.caching import BlockCache\n"
                   "from fsspec.asyn import sync, AsyncFileSystem\n"
                   "class F(AsyncFileSystem):\n"
                   "    def ls(self):\n"
                   "        return self._ls_from_cache('x')\n"
                   "def f(c):\n"
                   "    return BlockCache._fetch(c, 0, 1), sync(None, f)\n")
    assert len(private_fsspec_uses(bad)) == 2
    assert len(bridge_calls(ast.parse(bad.read_text()))) == 1
    assert import_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_circles({"a": {"b"}, "b": set()}) == []


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
    ("fs/dircache.py", "KeyError"): "the mapping protocol fsspec relies on: no (valid) "
                                    "listing of that path is cached",
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
