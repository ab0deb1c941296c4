"""The archive's path layout (paths.py): local download paths."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from intake_webcoos.paths import local_path, safe_name


def test_safe_names():
    assert safe_name("../../etc/passwd", "x") == "passwd"
    assert safe_name("/abs/path.jpg", "x") == "path.jpg"
    assert safe_name("a:b:c.jpg", "x") == "a-b-c.jpg"
    assert safe_name("", "fallback.jpg") == "fallback.jpg"
    assert safe_name("..", "fallback") == "fallback"
    assert safe_name(".hidden", "x") == "hidden"
    root = Path("/tmp/dest")
    when = pd.Timestamp("2025-09-10T12:00Z")
    assert local_path(root, "cam", "prod", when, "../../x.jpg", "u") == \
        root / "cam/prod/2025/09/10/x.jpg"
    assert local_path(root, "../cam", "prod", when, "", "uuid") == \
        root / "cam/prod/2025/09/10/uuid"
