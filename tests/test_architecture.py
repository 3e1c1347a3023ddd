"""The layout rules of docs/architecture.md, checked on the source so they cannot drift.

Every import among the four packages counts: module level, inside functions and under
`TYPE_CHECKING` alike (an import cycle that only the type checker sees is still a knot a reader
has to untie). Edges are read with `ast`, so nothing is imported to check them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("oracle_wms", "tap_oracle_wms", "target_oracle_wms", "oracle_wms_sim", "orchestration")
MAX_MODULE_LINES = 500
MAX_SIM_TOP_LEVEL_MODULES = 8

ALLOWED_PACKAGE_IMPORTS = {
    "oracle_wms": set(),
    "tap_oracle_wms": {"oracle_wms"},
    "target_oracle_wms": {"oracle_wms"},
    "oracle_wms_sim": set(),
    "orchestration": set(),
}
"""Which of our packages each may import: the core imports none, the two Singer layers only the
core, and the simulator none (it stands for the WMS; sharing code would let both sides agree on
a shape Oracle does not document). The Dagster definitions (`orchestration`, optional) import none
either: they run the connectors through Meltano, and no connector imports them."""

SIM_LAYERS = (
    "errors",
    "responses",
    "data",
    "read",
    "write",
    "stage",
    "chaos",
    "http",
    "cli",
    "__main__",
)
"""The simulator's layers, lowest first: a module imports only from its own layer or below.
`oracle_wms_sim/__init__.py` is the package's front door and may import any layer."""


@dataclass(frozen=True)
class Import:
    """One import of one of our modules by another: where it stands and what it names."""

    importer: str
    imported: str
    names: tuple[str, ...]
    line: int


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the four packages."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = module_files()


def imports_of(module: str, path: Path) -> Iterator[Import]:
    """Every import in `module` of another of our modules, resolved to a module name.

    `from pkg import name` counts as an import of `pkg.name` when that is a module, else of
    `pkg` itself."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    yield Import(module, alias.name, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            if source.split(".")[0] not in PACKAGES:
                continue
            names = tuple(alias.name for alias in node.names)
            submodules = [f"{source}.{name}" for name in names if f"{source}.{name}" in MODULES]
            for submodule in submodules:
                yield Import(module, submodule, (), node.lineno)
            if len(submodules) < len(names):
                other = tuple(n for n in names if f"{source}.{n}" not in MODULES)
                yield Import(module, source, other, node.lineno)


ALL_IMPORTS = [imp for module, path in MODULES.items() for imp in imports_of(module, path)]


def where(imp: Import) -> str:
    return f"{MODULES[imp.importer].relative_to(ROOT)}:{imp.line}"


def test_the_import_reader_sees_what_it_must() -> None:
    """The checks below are only as good as the reader: it must see known edges."""
    edges = {(imp.importer, imp.imported) for imp in ALL_IMPORTS}
    assert ("tap_oracle_wms.tap", "oracle_wms.settings") in edges
    assert ("oracle_wms.session", "oracle_wms.auth") in edges
    assert len(MODULES) > 60


def test_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for imp in ALL_IMPORTS:
        if imp.imported in MODULES and imp.imported != imp.importer:
            graph[imp.importer].add(imp.imported)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_packages_import_only_what_the_layout_allows() -> None:
    wrong = [
        f"{where(imp)}: {imp.importer} imports {imp.imported}"
        for imp in ALL_IMPORTS
        if (theirs := imp.imported.split(".")[0]) != (ours := imp.importer.split(".")[0])
        and theirs not in ALLOWED_PACKAGE_IMPORTS[ours]
    ]
    assert not wrong, "imports across packages the layout forbids:\n" + "\n".join(wrong)


def sim_layer(module: str) -> int | None:
    """The layer index of a simulator module (None for the package's `__init__`)."""
    parts = module.split(".")
    if parts[0] != "oracle_wms_sim" or len(parts) == 1:
        return None
    assert parts[1] in SIM_LAYERS, f"{module}: not in a simulator layer {SIM_LAYERS}"
    return SIM_LAYERS.index(parts[1])


def test_simulator_layers_import_only_downwards() -> None:
    """The package's `__init__` (the front door, which re-exports `Simulator`) is above every
    layer: a module inside a layer that imports it imports the top."""
    upward = []
    for imp in ALL_IMPORTS:
        mine, theirs = sim_layer(imp.importer), sim_layer(imp.imported)
        if imp.imported == "oracle_wms_sim" and mine is not None:
            theirs = len(SIM_LAYERS)
        if mine is not None and theirs is not None and theirs > mine:
            upward.append(f"{where(imp)}: {imp.importer} imports {imp.imported}")
    assert not upward, "simulator imports that go up a layer:\n" + "\n".join(upward)


def test_simulator_top_level_is_small() -> None:
    top = sorted(p.name for p in (ROOT / "oracle_wms_sim").glob("*.py"))
    assert len(top) <= MAX_SIM_TOP_LEVEL_MODULES, f"oracle_wms_sim/ top level: {top}"


def test_no_module_imports_private_names() -> None:
    private = [
        f"{where(imp)}: {imp.importer} imports {name} from {imp.imported}"
        for imp in ALL_IMPORTS
        for name in imp.names
        if name.startswith("_") and not name.startswith("__")
    ]
    private += [
        f"{where(imp)}: {imp.importer} imports private module {imp.imported}"
        for imp in ALL_IMPORTS
        if any(part.startswith("_") and part != "__main__" for part in imp.imported.split("."))
    ]
    assert not private, "private names imported from another module:\n" + "\n".join(private)


def module_aliases(module: str, tree: ast.AST) -> dict[str, str]:
    """Local name -> our module it stands for (`import a.b as c`, `from a import b` where `b`
    is a module)."""
    aliases: dict[str, str] = {}
    for imp in imports_of(module, MODULES[module]):
        if imp.imported in MODULES:
            aliases[imp.imported.rpartition(".")[2]] = imp.imported
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES and alias.asname:
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.asname and alias.name in aliases:
                    aliases[alias.asname] = aliases.pop(alias.name)
    return aliases


def test_no_module_reads_private_names_of_another() -> None:
    """`import oracle_wms.session as s; s._error_body(...)` is the same reach as importing it."""
    reads = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = module_aliases(module, tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and aliases[node.value.id] != module
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                reads.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert not reads, "private names read off another module:\n" + "\n".join(reads)


def test_no_dynamic_imports() -> None:
    """Imports by string would hide edges from every check above."""
    dynamic = []
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                if name in {"import_module", "__import__"}:
                    dynamic.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not dynamic, "dynamic imports:\n" + "\n".join(dynamic)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_small(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module}: {lines} lines (at most {MAX_MODULE_LINES})"
