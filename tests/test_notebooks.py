"""The notebooks in notebooks/ run from top to bottom, so they never rot.

Each notebook starts its own stand-in server, so nothing here needs a token or
the network. The kernel is this test's own interpreter: a kernelspec named
``python3`` pointing at ``sys.executable`` is put first on ``JUPYTER_PATH``,
whatever other ``python3`` kernels the machine has.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
#: Pictures each notebook must draw, and text its outputs must contain.
EXPECTED = {
    "quickstart": {"pictures": 2, "text": ["waikiki_sheraton/one-minute-stills/elements",
                                           "60 stills", "Dimensions:", "SECOORA"]},
    "coastal_products": {"pictures": 8, "text": ["tidal amplitude", "dominant wave period",
                                                 "waterline row", "of the true waterline"]},
}


@pytest.fixture
def kernel_here(tmp_path, monkeypatch) -> str:
    """A ``python3`` kernelspec that runs this very interpreter, found before any other."""
    spec = tmp_path / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (intake_webcoos tests)",
        "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(
        [str(tmp_path), *filter(None, [os.environ.get("JUPYTER_PATH")])]))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the notebooks draw inline
    return "python3"


def _text(output) -> str:
    if output.output_type == "stream":
        return output.text
    return output.get("data", {}).get("text/plain", "")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_is_committed_without_outputs(name):
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, f"{name} has no code"
    for cell in code:
        assert not cell.outputs and cell.execution_count is None, (
            f"{name}.ipynb is committed with outputs: clear them (Kernel > Restart and "
            "Clear Outputs, or `jupyter nbconvert --clear-output --inplace`)")
    assert notebook.metadata.kernelspec.name == "python3"
    # It says how to use a real token instead of the stand-in.
    assert "WEBCOOS_API_TOKEN" in "".join(c.source for c in notebook.cells
                                          if c.cell_type == "markdown")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs(name, kernel_here):
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    # One more cell, to check which interpreter ran the notebook.
    notebook.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    client = nbclient.NotebookClient(notebook, kernel_name=kernel_here, timeout=300,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError, with the traceback, if a cell fails

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    pictures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pictures) >= EXPECTED[name]["pictures"], (
        f"{name} drew {len(pictures)} pictures, expected {EXPECTED[name]['pictures']}")
    text = "\n".join(_text(o) for o in outputs)
    for expected in EXPECTED[name]["text"]:
        assert expected in text, f"{name}: no output contains {expected!r}"
    assert "Traceback" not in text
    executable = _text(notebook.cells[-1].outputs[0]).strip()
    assert Path(executable).resolve() == Path(sys.executable).resolve()
