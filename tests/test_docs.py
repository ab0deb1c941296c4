"""The documentation builds with warnings as errors, and every code block runs.

The build draws the pictures of the coastal products from a stand-in server
(``docs/make_figures.py``, called by ``docs/conf.py``), so a change that breaks
a product, a figure or a docstring's reST fails here.

Every fenced block of ``README.md`` and of the ``docs/`` pages is checked, by kind:

* ```python blocks are examples: those of one page run in order in one namespace,
  as a notebook would, against a stand-in with 640x360 stills, in a temporary folder
  holding a copy of ``catalogs/``.  A block whose last line is an expression and that
  is followed by "gives `VALUE`", or by a ```text block of a table or a literal, must
  give that value.
* ```{code-block} python blocks captioned ``NAME.py`` are scripts: each is saved as
  ``NAME.py`` and run with ``python NAME.py`` in a fresh interpreter, and must print
  what the page says "`python NAME.py` prints".
* ```bash and ```text blocks are shown only.  Each ``intake-webcoos`` command line in
  them (in ```text, those after ``$``) runs against the stand-in, with nothing changed
  but the token and API root in the environment: it must exit 0, or 1 with the
  ``Error: ...`` shown.  Lines that install or that start a long-running server are
  skipped, each with its reason.
* ``{toctree}`` and ``{eval-rst}`` are Sphinx directives; any other fence fails
  :func:`test_every_fence_is_run_or_shown_on_purpose`.
"""

from __future__ import annotations

import ast
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from intake_webcoos.cli.main import main
from intake_webcoos.fs.filesystem import WebcoosFileSystem
from intake_webcoos.server import StandIn

from .helpers import TOKEN, cli_env

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = ("index", "getting-started", "client", "filesystem", "intake", "xarray", "video",
         "products", "geometry", "rectification", "cli", "configuration", "api", "design",
         "changelog")
SOURCES = ("README.md", *(f"docs/{page}.md" for page in PAGES))
FIGURES = ("frame.png", "timex.png", "variance.png", "brightest.png", "darkest.png",
           "timex_10min.png", "timestack.png", "wave_timestack.png")
#: The plan view and the shoreline, shown on the rectification page.
RECTIFIED = ("plan_view.png", "shoreline.png")
#: The maps of the cameras, shown on the client's page.
MAPS = ("cameras.png", "camera.png")
#: A fence at any indentation (list items indent theirs), closed at the same one.
FENCE = re.compile(r"^( *)```(\S*)[ \t]*(.*?)\n(.*?)^\1```[ \t]*$", re.S | re.M)
SHOWN = {"bash", "text"}
DIRECTIVES = {"{toctree}", "{eval-rst}"}
#: "gives `VALUE`" right after a block: what its last expression evaluates to.
GIVES = re.compile(r"\A\s*gives `([^`]+)`")
#: Command lines shown but not run, and why.
NOT_RUN = {
    "installs": "installs the package: the suite runs where it is installed (the demo "
                "this line ends with is run by test_cli.py::test_demo_command)",
    "serves": "starts the stand-in server, which runs until Ctrl-C (test_cli.py runs "
              "`serve --help`, and the fixtures run the server itself)",
}


@dataclass
class Block:
    """One fenced block of a Markdown file."""

    source: str
    line: int
    kind: str
    argument: str
    code: str
    #: The text between this block and the next one.
    after: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.source}:{self.line}"


def blocks(source: str) -> list[Block]:
    """The fenced blocks of ``source`` (a path relative to the repository), in order."""
    text = (ROOT / source).read_text()
    found = list(FENCE.finditer(text))
    result = []
    for number, match in enumerate(found):
        end = found[number + 1].start() if number + 1 < len(found) else len(text)
        code = textwrap.dedent(match.group(4))
        options = {}
        if match.group(2).startswith("{"):  # a MyST directive: ":name: value" lines first
            while (option := re.match(r":(\w+):[ \t]*(.*)\n", code)):
                options[option.group(1)] = option.group(2).strip()
                code = code[option.end():]
        result.append(Block(source, text.count("\n", 0, match.start()) + 1, match.group(2),
                            match.group(3).strip(), code.lstrip("\n"), text[match.end():end],
                            options))
    return result


def examples(source: str) -> list[Block]:
    return [b for b in blocks(source) if b.kind == "python"]


def scripts() -> list[Block]:
    return [b for s in SOURCES for b in blocks(s)
            if b.kind == "{code-block}" and b.options.get("caption", "").endswith(".py")]


# -- the build -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    """The HTML documentation, built once with warnings as errors."""
    out = tmp_path_factory.mktemp("html")
    run = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(out / ".doctrees"), str(DOCS), str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert run.returncode == 0, f"sphinx-build failed:\n{run.stdout}\n{run.stderr}"
    return out


def test_docs_build_without_warnings(html):
    for page in PAGES:
        assert (html / f"{page}.html").is_file(), f"{page}.html was not built"


def test_docs_pictures_are_drawn(html):
    for name in FIGURES:
        picture = html / "_images" / name
        assert picture.is_file(), f"{name} is missing from the built docs"
        assert picture.stat().st_size > 5000, f"{name} looks empty"
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    products = (html / "products.html").read_text()
    for name in FIGURES:
        assert f"_images/{name}" in products, f"products.md does not show {name}"


def test_docs_rectified_pictures_are_drawn(html):
    page = (html / "rectification.html").read_text()
    for name in RECTIFIED:
        picture = html / "_images" / name
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{name} is not drawn"
        assert picture.stat().st_size > 5000, f"{name} looks empty"
        assert f"_images/{name}" in page, f"rectification.md does not show {name}"


def test_docs_maps_are_drawn(html):
    client = (html / "client.html").read_text()
    for name in MAPS:
        picture = html / "_images" / name
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{name} is not drawn"
        assert f"_images/{name}" in client, f"client.md does not show {name}"


def test_docs_api_reference_is_generated(html):
    api = (html / "api.html").read_text()
    for name in ("intake_webcoos.api.sync.Client", "intake_webcoos.api.client.AsyncClient",
                 "intake_webcoos.cube.stills.open_images", "intake_webcoos.fs.WebcoosFileSystem",
                 "intake_webcoos.products.reductions.timex",
                 "intake_webcoos.products.timestack.timestack",
                 "intake_webcoos.api.config.Settings", "intake_webcoos.errors.WebcoosError",
                 "intake_webcoos.intake.readers.WebcoosCatalogReader",
                 "intake_webcoos.server.StandIn"):
        assert f'id="{name}"' in api, f"{name} is not in the API reference"


# -- which blocks there are ------------------------------------------------------------------
def test_every_fence_is_run_or_shown_on_purpose():
    """A new block cannot escape the checks: it is an example, a script, shown or Sphinx's."""
    run_as_scripts = scripts()
    for source in SOURCES:
        for block in blocks(source):
            script = block in run_as_scripts
            assert block.kind in {"python", *SHOWN, *DIRECTIVES} or script, (
                f"{block.name}: a ```{block.kind} {block.argument} block is neither run nor "
                "shown on purpose: use ```python (run), ```text or ```bash (shown), or "
                "```{code-block} python with :caption: NAME.py (run as a script)")


def test_the_fence_reader_finds_what_the_pages_hold():
    """The reader of fences itself: kinds, indented fences, directive options."""
    kinds = {b.kind for s in SOURCES for b in blocks(s)}
    assert {"python", "bash", "text", "{code-block}", "{toctree}", "{eval-rst}"} <= kinds
    indented = [b for b in blocks("docs/getting-started.md") if b.kind == "bash"]
    assert indented[-1].code == "export WEBCOOS_API_TOKEN=...\n"  # in a list item
    assert "timex_on_a_cluster.py" in [b.options["caption"] for b in scripts()]
    assert not any(b.code.startswith(":") for b in scripts())  # options are not code
    assert examples("README.md") and commands("README.md")


# -- ```python examples ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def docs_standin():
    """The stand-in the pages describe: stills of 640x360."""
    with StandIn(token=TOKEN, frame_size=(640, 360)) as s:
        yield s


@pytest.fixture
def reader_folder(docs_standin, monkeypatch, tmp_path) -> Iterator[Path]:
    """Where a reader runs the examples: a fresh folder with a copy of ``catalogs/``, the
    stand-in's token and root in the environment, and the on-disk cache on, in the folder.

    ``fsspec.filesystem("webcoos")`` keeps its instance, which holds the API root it
    found in the environment: none is kept from before the page, nor after it (its
    stand-in stops with this module).
    """
    WebcoosFileSystem.clear_instance_cache()
    shutil.copytree(ROOT / "catalogs", tmp_path / "catalogs")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("WEBCOOS_API_TOKEN", TOKEN)
    monkeypatch.setenv("WEBCOOS_API_URL", docs_standin.api_url)
    monkeypatch.delenv("WEBCOOS_CACHE", raising=False)
    monkeypatch.setenv("WEBCOOS_CACHE_DIR", str(tmp_path / "cache"))
    yield tmp_path
    WebcoosFileSystem.clear_instance_cache()


def run_example(block: Block, namespace: dict) -> Any:
    """Run a block in ``namespace``; returns its last expression's value (None without)."""
    tree = ast.parse(block.code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, block.name, "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), block.name, "eval"), namespace)


def shown_value(block: Block, following: Block | None) -> str | None:
    """What the page says the block gives: "gives `...`", or the ```text right after it."""
    if following is not None and following.kind == "text" and not block.after.strip():
        return following.code.rstrip()
    gives = GIVES.match(block.after)
    return " ".join(gives.group(1).split()) if gives else None


def assert_gives(block: Block, value: Any, shown: str) -> None:
    """``value`` is what the page shows: a literal, a table, or the repr of an object.

    A ```text rendering of something else (a Dataset's repr, elided) is not compared.
    """
    where = f"{block.name} shows\n{shown}\nbut gives\n{value!r}"
    if isinstance(value, pd.DataFrame):
        assert value.to_string() == shown, where
        return
    try:
        literal = ast.literal_eval(shown)
    except (ValueError, SyntaxError):
        if "\n" not in shown:
            assert repr(value) == shown, where
        return
    plain = dict(value) if isinstance(value, Mapping) else value
    assert plain == literal, where


@pytest.mark.parametrize("source", [s for s in SOURCES if examples(s)])
def test_examples_run_and_give_what_the_page_shows(source, reader_folder):
    """Every ```python example of a page runs, in order, against the stand-in."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    every = blocks(source)
    namespace: dict = {"__name__": f"docs.{Path(source).stem}"}
    repository = set(ROOT.iterdir())
    try:
        for block, following in zip(every, [*every[1:], None], strict=True):
            if block.kind != "python":
                continue
            try:
                value = run_example(block, namespace)
            except Exception as exc:
                raise AssertionError(f"example {block.name} fails:\n{block.code}") from exc
            shown = shown_value(block, following)
            if shown is not None:
                assert_gives(block, value, shown)
    finally:
        plt.close("all")
        server = namespace.get("server")  # getting-started starts its own stand-in
        if server is not None and hasattr(server, "stop"):
            server.stop()
    assert set(ROOT.iterdir()) == repository, "an example wrote into the repository"


def test_gives_is_checked():
    """A value other than the one shown fails, in each of the three ways of showing it."""
    block = Block("page.md", 1, "python", "", "x\n", "")
    assert_gives(block, {"time": 60}, "{'time': 60}")
    assert_gives(block, pd.Timestamp("2025-09-10T18:00Z"),
                 "Timestamp('2025-09-10 18:00:00+0000', tz='UTC')")
    table = pd.DataFrame({"count": [2880]})
    assert_gives(block, table, table.to_string())
    for value, shown in [({"time": 61}, "{'time': 60}"), (pd.Timestamp(0), "Timestamp('x')"),
                         (table + 1, table.to_string())]:
        with pytest.raises(AssertionError):
            assert_gives(block, value, shown)


# -- scripts ------------------------------------------------------------------------------------
@pytest.mark.parametrize("script", scripts(), ids=lambda b: b.options["caption"])
def test_scripts_run_as_scripts(script, docs_standin, tmp_path):
    """Saved as the file its caption names and run with ``python NAME.py``: a script that
    starts worker processes must guard its main code, or the workers run it again."""
    path = tmp_path / script.options["caption"]
    path.write_text(script.code)
    run = subprocess.run([sys.executable, path.name], cwd=tmp_path, capture_output=True,
                         text=True, timeout=240, env=cli_env(docs_standin))
    assert run.returncode == 0, f"{script.name} fails as a script:\n{run.stderr[-3000:]}"
    prints = re.search(rf"`python {re.escape(path.name)}` prints `([^`]+)`", script.after)
    assert prints is not None, f"{script.name}: the page does not say what the script prints"
    assert run.stdout.strip() == prints.group(1), run.stdout


# -- intake-webcoos command lines -----------------------------------------------------------------
@dataclass
class Command:
    """An ``intake-webcoos`` command line shown in a page, and the output shown under it."""

    where: str
    line: str
    args: list[str]
    shown: str = ""

    def not_run(self) -> str | None:
        """Why this line is not run, or None."""
        if "pip install" in self.line:
            return NOT_RUN["installs"]
        if self.args[:1] == ["serve"] and "--help" not in self.args:
            return NOT_RUN["serves"]
        return None


def logical_lines(code: str) -> list[tuple[int, str]]:
    """Lines with their backslash continuations joined, with their first line's number."""
    joined: list[tuple[int, str]] = []
    pending = None
    for number, line in enumerate(code.splitlines()):
        if pending is not None:
            line = pending[1] + " " + line.strip()
            number = pending[0]
        if line.rstrip().endswith("\\"):
            pending = (number, line.rstrip()[:-1].rstrip())
            continue
        pending = None
        joined.append((number, line))
    return joined


def bash_commands(block: Block) -> list[Command]:
    """``intake-webcoos`` commands of a ```bash block, alone or joined by ``&&``."""
    found = []
    for number, line in logical_lines(block.code):
        for segment in line.split("&&"):
            words = shlex.split(segment, comments=True)
            if words[:1] == ["intake-webcoos"]:
                found.append(Command(f"{block.name}+{number + 1}", line, words[1:]))
    return found


def text_commands(block: Block) -> list[Command]:
    """``$ intake-webcoos`` lines of a ```text block, each with the output shown under it."""
    lines = logical_lines(block.code)
    found = []
    for index, (number, line) in enumerate(lines):
        if not line.startswith("$ intake-webcoos"):
            continue
        shown = []
        for _, text in lines[index + 1:]:
            if text.startswith("$ "):
                break
            shown.append(text)
        found.append(Command(f"{block.name}+{number + 1}", line, shlex.split(line[2:])[1:],
                             "\n".join(shown)))
    return found


def commands(source: str) -> list[Command]:
    """The ``intake-webcoos`` command lines of ``source``'s ```bash and ```text blocks."""
    readers = {"bash": bash_commands, "text": text_commands}
    return [c for block in blocks(source) if block.kind in readers
            for c in readers[block.kind](block)]


ALL_COMMANDS = [c for source in SOURCES for c in commands(source)]
#: The lines run: those shown but not run (see NOT_RUN) are left out, not skipped.
RUN_COMMANDS = [c for c in ALL_COMMANDS if c.not_run() is None]


@pytest.mark.parametrize("command", RUN_COMMANDS, ids=lambda c: c.where)
def test_command_lines_run(command, api_env, monkeypatch, tmp_path):
    """Each command line of the pages runs as shown: exit status 0, or 1 with the error shown.

    The stand-in has the 320x180 stills docs/cli.md says its outputs come from.
    """
    monkeypatch.chdir(tmp_path)  # files the commands write land here
    monkeypatch.setenv("WEBCOOS_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(main, command.args, catch_exceptions=False)
    if command.shown.startswith("Error: "):
        assert result.exit_code == 1, result.output
        assert result.output.split() == command.shown.split(), (
            f"{command.where} shows\n{command.shown}\nbut prints\n{result.output}")
    else:
        assert result.exit_code == 0, f"{command.where}: {command.line}\n{result.output}"


def test_command_lines_are_found_and_skipped_for_a_reason():
    """The reader of command lines, on blocks of each kind."""
    bash = Block("page.md", 1, "bash", "", textwrap.dedent("""\
        pip install -e . && intake-webcoos demo
        export WEBCOOS_API_TOKEN=...   # or --token
        intake-webcoos elements cam stills \\
            --every 10min -o day.parquet   # a comment
        intake-webcoos serve --port 0
        """), "")
    found = bash_commands(bash)
    assert [c.args for c in found] == [
        ["demo"], ["elements", "cam", "stills", "--every", "10min", "-o", "day.parquet"],
        ["serve", "--port", "0"]]
    assert [c.not_run() for c in found] == [NOT_RUN["installs"], None, NOT_RUN["serves"]]
    text = Block("page.md", 1, "text", "", textwrap.dedent("""\
        $ intake-webcoos latest cam stills
        Error: no such camera,
        try another.
        $ intake-webcoos serve --help
        Usage: ...
        """), "")
    shown = text_commands(text)
    assert [(c.args, c.shown) for c in shown] == [
        (["latest", "cam", "stills"], "Error: no such camera,\ntry another."),
        (["serve", "--help"], "Usage: ...")]
    assert shown[1].not_run() is None
    assert any(c.shown.startswith("Error: ") for c in ALL_COMMANDS)  # the pages show errors
