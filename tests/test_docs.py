"""The documentation builds with warnings as errors, and the notebooks run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).parent.parent


def test_docs_build_without_warnings(tmp_path):
    run = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                          "html", str(ROOT / "docs"), str(tmp_path)], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    for page in ("index", "getting-started", "client", "filesystem", "intake", "xarray",
                 "products", "cli", "configuration", "api"):
        assert (tmp_path / f"{page}.html").exists(), page
    for figure in ("timex.png", "variance.png", "brightest.png", "timestack.png"):
        assert (tmp_path / "_images" / figure).stat().st_size > 1000
    assert "open_images" in (tmp_path / "api.html").read_text()


@pytest.mark.parametrize("name", ["quickstart", "coastal_products"])
def test_notebook_runs(name):
    notebook = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    pictures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pictures) >= (1 if name == "quickstart" else 3)
