"""The benchmark harness runs end to end in quick mode (it asserts nothing about time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_quick_benchmarks(tmp_path):
    root = Path(__file__).parent.parent
    run = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--output",
                          str(tmp_path)], cwd=root, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    cases = {row["case"] for row in results["rows"]}
    assert cases == {"1 listing", "2 download", "3 decode", "4 memory", "5 parsing",
                     "6 wide span", "7 cache", "8 products", "9 day", "10 graph", "11 CLI",
                     "12 rectify", "13 camera stills", "14 bursts"}
    assert all(row["value"] > 0 for row in results["rows"])
    assert len(results["targets"]) == 26
    text = (tmp_path / "RESULTS.md").read_text()
    assert "| target | measured | met |" in text and "## Machine" in text
