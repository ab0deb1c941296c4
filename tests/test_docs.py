"""The documentation builds with warnings as errors, and its examples run.

The build draws the pictures of the coastal products from a stand-in server
(``docs/make_figures.py``, called by ``docs/conf.py``), so a change that breaks
a product, a figure or a docstring's reST fails here.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = ("index", "getting-started", "client", "filesystem", "intake", "xarray", "video",
         "products", "cli", "configuration", "api", "design")
FIGURES = ("frame.png", "timex.png", "variance.png", "brightest.png", "darkest.png",
           "timex_10min.png", "timestack.png", "wave_timestack.png")
#: The maps of the cameras, shown on the client's page.
MAPS = ("cameras.png", "camera.png")
#: ```python fences are examples that must run; other fences (```text, ```bash,
#: ```{code-block} python) are shown only.
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    """The HTML documentation, built once with warnings as errors."""
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    pytest.importorskip("matplotlib")
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


def test_docs_maps_are_drawn(html):
    client = (html / "client.html").read_text()
    for name in MAPS:
        picture = html / "_images" / name
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{name} is not drawn"
        assert f"_images/{name}" in client, f"client.md does not show {name}"


def test_docs_api_reference_is_generated(html):
    api = (html / "api.html").read_text()
    for name in ("intake_webcoos.api.sync.Client", "intake_webcoos.api.client.AsyncClient",
                 "intake_webcoos.images.open_images", "intake_webcoos.fs.WebcoosFileSystem",
                 "intake_webcoos.imaging.timex", "intake_webcoos.imaging.timestack",
                 "intake_webcoos.api.config.Settings", "intake_webcoos.errors.WebcoosError",
                 "intake_webcoos.intake_readers.WebcoosCatalogReader",
                 "intake_webcoos.server.StandIn"):
        assert f'id="{name}"' in api, f"{name} is not in the API reference"


def _blocks(page: str) -> list[str]:
    return PYTHON_BLOCK.findall((DOCS / f"{page}.md").read_text())


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p)])
def test_docs_examples_run(page, api_env, monkeypatch, tmp_path):
    """Every ```python example of a page runs, in order, against the stand-in."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(ROOT)  # the intake page opens catalogs/*.yaml
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    namespace: dict = {"__name__": f"docs.{page}"}
    try:
        for number, code in enumerate(_blocks(page)):
            try:
                exec(compile(ast.parse(code), f"docs/{page}.md[{number}]", "exec"), namespace)
            except Exception as exc:
                raise AssertionError(f"example {number} of docs/{page}.md fails:\n{code}") from exc
    finally:
        plt.close("all")
        server = namespace.get("server")  # getting-started starts its own stand-in
        if server is not None and hasattr(server, "stop"):
            server.stop()
