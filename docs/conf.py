"""Sphinx configuration of the intake_webcoos documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build`` (needs the
``docs`` extra). When the build starts, ``make_figures.py`` draws the pictures
of the coastal products from a stand-in server into ``docs/_generated/``
(git-ignored), so they always match the code. Nothing here uses the network.
"""

from __future__ import annotations

import sys
from pathlib import Path

import intake_webcoos

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

project = "intake_webcoos"
author = "intake_webcoos developers"
copyright = "2026, intake_webcoos developers"
release = intake_webcoos.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_generated", "make_figures.py"]

# Docstrings are numpy style.
napoleon_numpy_docstring = True
napoleon_google_docstring = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"

myst_heading_anchors = 3

html_theme = "alabaster"
html_title = f"intake_webcoos {release}"
html_theme_options = {
    "description": "The WebCOOS coastal webcam archive as PyData objects",
    "fixed_sidebar": True,
}

#: Where make_figures.py writes; the pages refer to ``_generated/NAME.png``.
FIGURES = HERE / "_generated"


def _draw_figures(app) -> None:
    """Draw the product pictures from the stand-in, so they are never stale."""
    from make_figures import make_figures
    from sphinx.util import logging

    log = logging.getLogger(__name__)
    timings = make_figures(FIGURES)
    log.info("drew the figures from the stand-in in %.1f s", sum(timings.values()))


def setup(app) -> dict:
    app.connect("builder-inited", _draw_figures)
    return {"parallel_read_safe": True}
