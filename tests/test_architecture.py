"""The layout's arrows point down: kzclassify ← labeling ← training ← backend; no import loops.

Imports are read with ``ast``, including those inside functions (a deferred import is still an arrow).
"""
import ast
from collections import defaultdict

from conftest import ROOT

PACKAGES = ("kzclassify", "labeling", "training", "backend")
# who may import whom (besides itself and the stdlib/third-party); ``paths`` names the repo's files
ALLOWED = {
    "kzclassify": set(),
    "labeling": {"kzclassify", "paths"},
    "training": {"kzclassify", "labeling", "paths"},
    "backend": {"kzclassify", "labeling", "training", "paths"},
}


def _module(path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)  # `from . import x` may name a module
    return out


def _graph() -> dict[str, set[str]]:
    files = {}
    for pkg in PACKAGES:
        for f in (ROOT / pkg).rglob("*.py") if (ROOT / pkg).is_dir() else ():
            files[_module(f)] = f
    files["paths"] = ROOT / "paths.py"
    graph = defaultdict(set)
    for mod, f in files.items():
        for imp in _imports(f, mod):
            # the longest known module the import names
            parts = imp.split(".")
            for n in range(len(parts), 0, -1):
                target = ".".join(parts[:n])
                if target in files and target != mod:
                    graph[mod].add(target)
                    break
    return graph


def test_top_level_folders_only_import_downwards():
    bad = []
    for mod, targets in _graph().items():
        top = mod.split(".")[0]
        for t in targets:
            t_top = t.split(".")[0]
            if t_top != top and t_top not in ALLOWED.get(top, set()):
                bad.append(f"{mod} imports {t}")
    assert not bad, bad


def test_no_import_loops_between_modules():
    graph = _graph()
    state, loops = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                loops.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not loops, loops


def test_every_module_says_what_it_is_for():
    missing = [str(f.relative_to(ROOT)) for pkg in PACKAGES if (ROOT / pkg).is_dir()
               for f in (ROOT / pkg).rglob("*.py")
               if f.name != "__main__.py" and not ast.get_docstring(ast.parse(f.read_text(encoding="utf-8")))]
    assert not missing, missing
