"""The package layers of ARCHITECTURE.md keep one direction: no import cycle between
conformance's sub-packages (module-level imports, read from the source with ``ast``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "conformance"


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "conformance" else None


def package_graph() -> dict[str, set[str]]:
    """sub-package -> sub-packages its modules import at module level (not in functions)."""
    graph: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if len(rel.parts) < 2:
            continue                      # top-level modules (suite.py, ...) are faces
        pkg = rel.parts[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                other = _package_of(name)
                if other and other != pkg and (ROOT / other).is_dir():
                    graph.setdefault(pkg, set()).add(other)
    return graph


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for nxt in graph.get(node, ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


@pytest.mark.parametrize("a,b", [("engine", "negotiation"), ("statement", "negotiation"),
                                 ("engine", "families"), ("services", "families")])
def test_no_import_cycle_between(a: str, b: str) -> None:
    graph = package_graph()
    assert not (_reaches(graph, a, b) and _reaches(graph, b, a)), f"{a} <-> {b}"


@pytest.mark.parametrize("package", ["engine", "negotiation", "statement", "services", "families",
                                     "scenario", "reporting", "iod", "standard"])
def test_each_package_imports_alone(package: str) -> None:
    done = subprocess.run([sys.executable, "-c", f"import conformance.{package}"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_package_graph_is_acyclic() -> None:
    graph = package_graph()
    cycles = [(a, b) for a in graph for b in graph[a] if _reaches(graph, b, a)]
    assert not cycles, cycles
