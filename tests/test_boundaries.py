"""Architecture rules that keep the safety properties checkable (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from connectors import REGISTRY, load_connector_class

ROOT = Path(__file__).resolve().parents[1]


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["rules", "connectors"])
def test_rules_and_connectors_never_import_monitor(package: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files(package)
        if any(m == "monitor" or m.startswith("monitor.") for m in imported_modules(path))
    ]
    assert offenders == []


def test_rules_never_import_connectors() -> None:
    assert not [p for p in python_files("rules") if any(m.startswith("connectors") for m in imported_modules(p))]


def test_only_the_outbox_posts_to_a_platform() -> None:
    callers = []
    for path in python_files("monitor"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "post_reply":
                callers.append(str(path.relative_to(ROOT)))
    assert sorted(set(callers)) == ["monitor/outbox.py"]


@pytest.mark.parametrize("source", sorted(REGISTRY))
def test_every_registered_connector_loads_and_has_tests(source: str) -> None:
    cls = load_connector_class(source)
    assert cls.streams  # type: ignore[attr-defined]
    tested = [p for p in (ROOT / "tests").rglob("test_*.py") if f"connectors.{source}" in p.read_text("utf-8")]
    assert tested, f"connector {source!r} has no test module importing connectors.{source}"
