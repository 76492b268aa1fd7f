"""The package's shape: no import circles, and the sandbox stays out of production code paths.

Every ``import`` statement counts, also those inside functions (a deferred
import is still a dependency, only a later one), except ``if TYPE_CHECKING``
blocks, which never run. Importing ``a.b.c`` runs ``a/__init__`` and
``a/b/__init__`` too, so the parents count as dependencies as well.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

ETL = Path(__file__).resolve().parents[2] / "etl"
#: The emulator and what runs it: the sandbox's server and world, each platform's emulation, the demo and the harness.
SANDBOX_SIDE = ("etl.sandbox", "etl.harness", "etl.demo")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ETL.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for name in names:
            parts = name.split(".")
            for end in range(1, len(parts) + 1):
                candidate = ".".join(parts[:end])
                if candidate in known and candidate != module:
                    found.add(candidate)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the etl modules it imports."""
    files = {_module_name(p): p for p in ETL.rglob("*.py")}
    return {module: _imports(path, module, set(files)) for module, path in files.items()}


def _reached(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def _sandbox_side(module: str) -> bool:
    return module.startswith(SANDBOX_SIDE) or (module.startswith("etl.platforms.") and module.endswith(".emulator"))


def test_the_graph_sees_deferred_and_relative_imports() -> None:
    graph = import_graph()
    assert "etl.sandbox.mounted" in graph["etl.sandbox.server"]  # `from .mounted import ...`
    assert "etl.platforms.x.emulator" in graph["etl.sandbox.server"]  # inside a method
    assert "etl.platforms" in graph["etl.platforms.instagram.source"]  # importing graph.source runs the parent first


def test_no_import_circles_in_etl() -> None:
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as exc:
        raise AssertionError("import circle: " + " -> ".join(exc.args[1])) from None


def test_production_code_never_imports_the_sandbox_or_an_emulator() -> None:
    graph = import_graph()
    offending = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if not _sandbox_side(module) and _sandbox_side(target) and target not in ("etl.harness", "etl.demo")
    )
    assert offending == []


def test_the_shared_sdk_imports_no_platform() -> None:
    graph = import_graph()
    sdk = [m for m in graph if m.startswith("etl.sources") or m in ("etl.http", "etl.budget", "etl.landing")]
    assert sdk, "the SDK modules moved: update this test"
    reached = {target for module in sdk for target in _reached(graph, module)}
    assert sorted(t for t in reached if t.startswith("etl.platforms")) == []


def test_each_platform_is_one_folder_with_source_parser_and_emulator() -> None:
    from etl.platforms import PLATFORMS

    for platform in PLATFORMS.values():
        for reference in (platform.source, platform.parser, platform.emulator):
            module = reference.partition(":")[0]
            assert module.startswith("etl.platforms."), reference
            assert (ETL.parent / (module.replace(".", "/") + ".py")).is_file(), reference
        assert platform.source.startswith(f"etl.platforms.{platform.name}.source:")
        assert platform.parser.startswith(f"etl.platforms.{platform.name}.parser:")
