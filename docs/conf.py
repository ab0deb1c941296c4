"""Sphinx configuration for the intake_webcoos documentation."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

project = "intake_webcoos"
author = "intake_webcoos developers"
copyright = "2026, intake_webcoos developers"
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_generated"]
html_theme = "alabaster"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"
myst_heading_anchors = 3


def _figures(app) -> None:
    """Draw the pictures of the products from the stand-in, so they are never stale."""
    from make_figures import make_figures

    make_figures(HERE / "_generated")


def setup(app) -> None:
    app.connect("builder-inited", _figures)
