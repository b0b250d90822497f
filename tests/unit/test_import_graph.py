"""The import graph: math depends only downward, pure math imports no transport, no loops.

Every `import` in the sources is read (those inside functions too: a function-level import
hides a loop from Python, not from the design).
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
import support

PACKAGES = {"cliplens.v1": "protos/cliplens/v1", "cliplens.core": "services/core",
            "cliplens.embedding": "services/embedding", "cliplens.lexicon": "services/lexicon",
            "cliplens.explanation": "services/explanation", "cliplens.gateway": "services/gateway",
            "cliplens.toyworld": "services/toyworld",
            "cliplens.client": "clients/python/cliplens_client"}
# The pure math, in layers: each may import only what is below it (and itself).
BASE = "cliplens.explanation.base"
METHODS = ("cliplens.explanation.surgery", "cliplens.explanation.convis",
           "cliplens.explanation.mutual", "cliplens.explanation.evaluation")
PURE = (BASE, *METHODS, "cliplens.core.errors", "cliplens.lexicon.ids")
TRANSPORT = ("grpc", "google.protobuf", "cliplens.v1", "prometheus_client", "torch")


def _modules() -> dict[str, object]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in sorted((support.ROOT / folder).rglob("*.py")):
            if path.name.endswith(("_pb2.py", "_pb2_grpc.py")):
                continue
            parts = path.relative_to(support.ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """The cliplens modules `name` imports anywhere in its source."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[:len(package.split(".")) - node.level + 1],
                                 *([base] if base else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                       for a in node.names]
        else:
            continue
        out.update(t for t in targets if t.startswith("cliplens."))
    return out


def _in(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("layer", PURE)
def test_pure_math_imports_no_transport(layer):
    code = (f"import sys, {layer}; "
            f"print(' '.join(m for m in sys.modules if m.startswith({TRANSPORT!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert not out, f"{layer} imports {sorted(out)[:10]}"


def test_math_depends_only_downward():
    wrong = []
    for name in MODULES:
        if _in(name, BASE):
            allowed = (BASE, "cliplens.core.errors")
        elif any(_in(name, m) for m in METHODS):
            own = next(m for m in METHODS if _in(name, m))
            allowed = (own, BASE, "cliplens.core.errors")
        else:
            continue
        wrong += [f"{name} -> {t}" for t in _imports(name)
                  if not any(_in(t, a) for a in allowed)]
    assert not wrong


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_loops_between_modules():
    # A package's __init__ re-exports its modules: an edge from a module to its own package
    # (or the reverse) is that, not a loop.
    graph = {name: {t for t in _imports(name) if t in MODULES and not _in(name, t)
                    and not _in(t, name)} for name in MODULES}
    assert not _cycles(graph)


def test_no_import_loops_between_services():
    def top(module: str) -> str:
        return ".".join(module.split(".")[:2])

    graph: dict[str, set[str]] = {}
    for name in MODULES:
        graph.setdefault(top(name), set()).update(
            top(t) for t in _imports(name) if top(t) != top(name))
    assert not _cycles(graph), graph
