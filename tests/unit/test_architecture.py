"""The engine never imports orthanc; only the entry script does."""

from __future__ import annotations

import ast
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[2] / "plugin"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_entry_script_imports_orthanc() -> None:
    importers = {p.relative_to(PLUGIN).as_posix() for p in PLUGIN.rglob("*.py") if "orthanc" in imported_modules(p)}
    assert importers == {"anon_consistent_plugin.py"}


def test_engine_modules_do_not_reach_into_the_adapter() -> None:
    engine = [p for p in (PLUGIN / "anon_consistent").rglob("*.py") if "adapter" not in p.parts]
    for path in engine:
        source = path.read_text()
        assert "from .adapter" not in source and "from ..adapter" not in source, path
