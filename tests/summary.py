"""Sections that tests add to pytest's terminal summary (fault matrix, load figures)."""

from __future__ import annotations

from typing import Any

import pytest


class Section:
    """A pytest plugin registered at run time; prints its lines at the end of the run."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.lines:
            terminalreporter.write_sep("-", self.title)
            for line in self.lines:
                terminalreporter.write_line(line)


def section(request: pytest.FixtureRequest, title: str) -> Section:
    """The summary section named ``title`` (registered once per run)."""
    name = f"intake-webcoos-summary-{title}"
    found = request.config.pluginmanager.get_plugin(name)
    if found is None:
        found = Section(title)
        request.config.pluginmanager.register(found, name)
    return found
