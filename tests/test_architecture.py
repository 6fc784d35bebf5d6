"""The shape of the package: no import cycle, a light ``import gisplan``, lazy submodules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx

import gisplan

PACKAGE = Path(gisplan.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[str]:
    """Every module imported when the code runs (module level and inside functions)."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> nx.DiGraph:
    """Module → module it imports, inside the package (implicit parent imports left out)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py") if p.name != "conftest.py"}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for target in _runtime_imports(tree):
            if target in modules and target != name and not name.startswith(f"{target}."):
                graph.add_edge(name, target)
    return graph


def test_no_import_cycle() -> None:
    graph = import_graph()
    assert graph.number_of_edges() > 50  # the parser sees the imports
    assert list(nx.simple_cycles(graph)) == []


def test_readers_of_a_run_go_through_outputs() -> None:
    """Maps, the 公示 site and the CLI read run folders via outputs.read_run, never the runner."""
    graph = import_graph()
    for module in ("gisplan.maps", "gisplan.publish", "gisplan.outputs"):
        assert "gisplan.runner" not in nx.descendants(graph, module), module
    assert "gisplan.outputs" in graph.successors("gisplan.publish")
    assert "gisplan.outputs" in graph.successors("gisplan.maps")
    steps = ["access", "gaps", "eligibility", "catalogue", "finance", "plan", "siting"]
    assert not any(f"gisplan.{s}" in graph.successors("gisplan.outputs") for s in steps)


def test_import_gisplan_is_light_and_submodules_load_on_use() -> None:
    code = (
        "import sys, gisplan\n"
        "heavy = ['folium', 'jinja2', 'gisplan.maps', 'gisplan.siting', 'gisplan.bundles']\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "print(gisplan.access.AccessOptions.__name__, gisplan.bundles.large_area.__name__)\n"
        "print('gisplan.bundles' in sys.modules, 'vocabulary' in dir(gisplan))\n"
    )
    out = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["[]", "AccessOptions large_area", "True True"]
