"""The layout's arrows point down: kzclassify ← labeling ← training ← backend; no import loops.

Imports are read with ``ast``, including those inside functions (a deferred import is still an arrow).
"""
import ast
import re
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


# -- the NLP core (issue 21): one lexicon, short functions, no regex compiled while analysing ---------------

MAX_FUNCTION_LINES = 60
CYRILLIC = re.compile("[\u0400-\u04FF]")
# era_president and its helper name the two presidents; the `honest` branch rewrites them (dates, terms as data)
LEXICON_EXEMPT = {("_people.py", "era_president"), ("_people.py", "_tokayev_as_other_in")}


def _core_files():
    return sorted((ROOT / "kzclassify").glob("*.py"))


def _functions(tree):
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_no_function_in_kzclassify_is_over_60_lines():
    long = [f"{f.name}:{n.lineno} {n.name} ({n.end_lineno - n.lineno + 1} lines)"
            for f in _core_files() for n in _functions(ast.parse(f.read_text(encoding="utf-8")))
            if n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, long


def _string_constants(tree):
    """(string, enclosing function name) of every str constant that is not a docstring."""
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    out = []

    def walk(node, fn):
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else fn
            if isinstance(child, ast.Constant) and isinstance(child.value, str) and id(child) not in docs:
                out.append((child.value, fn, child.lineno))
            walk(child, name)
    walk(tree, "")
    return out


def test_kazakh_words_and_sentence_ends_live_in_the_lexicon_only():
    """No Kazakh word (speech verb, case ending, title, name) and no sentence-end pattern in a string of the
    core's code outside kzclassify/_morphology.py, which builds every pattern from kzclassify/data/lexicon.json."""
    bad = []
    for f in _core_files():
        if f.name == "_morphology.py":
            continue
        for s, fn, line in _string_constants(ast.parse(f.read_text(encoding="utf-8"))):
            if (CYRILLIC.search(s) and (f.name, fn) not in LEXICON_EXEMPT) or ".!?" in s:
                bad.append(f"{f.name}:{line} {s[:40]!r}")
    assert not bad, bad


def test_the_lexicon_is_read_by_morphology_only():
    readers = [f.name for f in _core_files() if "lexicon.json" in f.read_text(encoding="utf-8")
               and f.name != "_morphology.py"]
    assert not readers, readers


def test_no_regex_is_compiled_while_analysing_the_corpus(monkeypatch):
    """Every pattern is compiled at import: analysing the 393 releases compiles none and looks none up in
    the ``re`` module's cache (a ``re.search(pattern, ...)`` call would)."""
    import kzclassify
    from kzclassify.corpus import read_corpus
    from paths import CORPUS

    texts = [r.text for r in read_corpus(CORPUS)]
    kzclassify.analyze(texts[0])  # loads the models (their manifests are checked with a compiled pattern too)
    calls = []
    real = re._compile
    monkeypatch.setattr(re, "_compile", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    for t in texts:
        kzclassify.analyze(t)
    assert not calls, sorted(set(map(str, calls)))[:10]
