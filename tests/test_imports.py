"""The package has no import cycle: facecue's modules, and the imports between them, form a layered graph.

Every `import` / `from … import` of a facecue module counts, at module level and inside functions alike. A
function-level import is lazy (it keeps `facecue --help` and the training path light), but it still says
"this module needs that one": the two loops this test was written against (batch <-> batch_ray and cli <->
live) were both made of function-level imports, and a graph of module-level imports alone never saw them.
Imports under `if TYPE_CHECKING:` do not count: they never run. The whole package is walked, the train and
service packages included (neither needs its optional dependencies installed for this: only the source is read).
"""

from __future__ import annotations

import ast
from pathlib import Path

import facecue

PACKAGE = Path(facecue.__file__).parent
ROOT = PACKAGE.parent


def _modules() -> dict[str, Path]:
    """Dotted name -> file, for every module and package of facecue."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _known(name: str) -> str | None:
    """The module `name` names, or its nearest enclosing package that exists (`facecue.x.attr` -> `facecue.x`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path) -> set[str]:
    """The facecue modules `module` imports anywhere in its source (function bodies included)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str | None] = set()
    pending: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"), str(path))]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(_known(alias.name) for alias in node.names if alias.name.split(".")[0] == "facecue")
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package, one level up per extra dot
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target.split(".")[0] != "facecue":
                continue
            for alias in node.names:  # `from facecue.io import sample` imports the module facecue.io.sample
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else _known(target))
        pending.extend(ast.iter_child_nodes(node))
    found.discard(None)
    found.discard(module)
    return {name for name in found if name is not None}


def import_graph() -> dict[str, set[str]]:
    return {module: _imports(module, path) for module, path in MODULES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, …, a], or None when the graph has none (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for start in sorted(graph):
        if start in state:
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_the_walker_sees_module_and_function_level_imports():
    graph = import_graph()
    assert len(graph) > 50 and "facecue.batch_worker" in graph["facecue.batch"]  # module level
    assert "facecue.governance.check" in graph["facecue.live"]  # inside run_live_cli
    assert "facecue.pipeline" in graph["facecue"]  # inside the package's __getattr__
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_package_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])
