"""Layering rules that keep the domain testable and the pages safe (DESIGN §8).

The import graph is read from the code itself (every `import`, at any depth of a function): layers only
import downwards — app → navigation → pages → ui → core → db —, core.shared is the base of core, db may
import core.shared only, nothing imports ops, no page imports another page, no module takes part in a
cycle and the domain packages of core form no cycle either. A dynamic import (importlib, __import__)
would hide an arrow from this graph: it is refused. `make test` prints the longest import chain.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE_FOLDERS = ("pages", "ui", "core", "db", "ops")
ENTRY_POINTS = {"app", "core.__main__"}  # they start a program: exempt by name from the layer rule
# What each layer may import, besides itself. The lowest layers come last.
MAY_IMPORT: dict[str, set[str]] = {
    "app": {"navigation", "pages", "ui", "core", "core.shared", "db"},
    "ops": {"navigation", "pages", "ui", "core", "core.shared", "db"},
    "navigation": {"pages", "ui", "core", "core.shared", "db"},
    "pages": {"ui", "core", "core.shared"},  # a page reaches the database only through ui.actions
    "ui": {"core", "core.shared", "db"},
    "core": {"core.shared", "db"},
    "core.shared": {"db"},
    "db": {"core.shared"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _python_files_of(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def project_files() -> list[Path]:
    files = [ROOT / "app.py", ROOT / "navigation.py"]
    for folder in SOURCE_FOLDERS:
        # Alembic's revision scripts are frozen history, run by Alembic alone.
        files += [p for p in sorted((ROOT / folder).rglob("*.py")) if "versions" not in p.parts]
    return files


def package_of(path: Path) -> str:
    """The package a module's relative imports start from."""
    module = module_name(path)
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def imported_names(tree: ast.AST, package: str) -> set[str]:
    """Every dotted name an import statement names (`from a.b import c` gives a.b and a.b.c), at any depth."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolved against this module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _resolve(name: str, modules: Iterable[str]) -> str | None:
    """The project module an imported name lives in (a package's __init__ when it names a function)."""
    known = set(modules)
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


@lru_cache(maxsize=1)
def import_graph() -> dict[str, frozenset[str]]:
    """Module → the project modules it imports (third-party imports left out)."""
    paths = {module_name(path): path for path in project_files()}
    graph = {}
    for module, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = {_resolve(name, paths) for name in imported_names(tree, package_of(path))}
        # `from core.places import geo` names the package core.places too: keep it only when the package's own
        # __init__ is what is imported, not just the road to a submodule.
        submodules = {t for t in targets if t}
        roads = {t for t in submodules if any(other.startswith(t + ".") for other in submodules)}
        graph[module] = frozenset(submodules - roads - {module})
    return graph


def layer_of(module: str) -> str:
    top = module.split(".")[0]
    if top == "core":
        return "core.shared" if module.startswith("core.shared") else "core"
    return top


def domain_package(module: str) -> str | None:
    """core.staffing.matching → core.staffing; core.shared and the core package itself are no domain."""
    parts = module.split(".")
    if parts[0] != "core" or len(parts) < 2 or parts[1] in ("shared", "__main__"):
        return None
    return ".".join(parts[:2])


def strongly_connected(graph: dict[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's algorithm: every group of nodes that reach each other (a cycle when more than one)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def cycles(graph: dict[str, Iterable[str]]) -> list[list[str]]:
    return [group for group in strongly_connected(graph) if len(group) > 1]


def upward_imports(graph: dict[str, Iterable[str]]) -> list[str]:
    """Every arrow the layers forbid, as « a → b (why) »."""
    wrong = []
    for module, targets in sorted(graph.items()):
        if module in ENTRY_POINTS:
            continue
        for target in sorted(targets):
            source_layer, target_layer = layer_of(module), layer_of(target)
            if source_layer == "pages" and target_layer == "pages" and target != "pages":
                wrong.append(f"{module} → {target} (une page n'importe jamais une autre page)")
            elif target_layer == "ops" and source_layer != "ops":
                wrong.append(f"{module} → {target} (rien n'importe ops)")
            elif source_layer != target_layer and target_layer not in MAY_IMPORT[source_layer]:
                wrong.append(f"{module} → {target} ({source_layer} n'importe pas {target_layer})")
    return wrong


def package_graph(graph: dict[str, Iterable[str]]) -> dict[str, set[str]]:
    """The domain packages of core and the arrows between them."""
    packages: dict[str, set[str]] = {}
    for module, targets in graph.items():
        source = domain_package(module)
        if source is None:
            continue
        packages.setdefault(source, set())
        packages[source] |= {t for t in map(domain_package, targets) if t and t != source}
    return packages


def longest_chain(graph: dict[str, Iterable[str]]) -> list[str]:
    """The longest import path, in modules. An arrow that closes a loop is not followed: a cycle is reported by its
    own test, and this must still answer (the test that checks the graph is read calls it)."""
    best: dict[str, list[str]] = {}
    walking: set[str] = set()

    def chain(node: str) -> list[str]:
        if node not in best:
            walking.add(node)
            # Sorted: among chains of equal length, the same one is printed at every run.
            tails = [chain(target) for target in sorted(graph.get(node, ())) if target not in walking]
            walking.discard(node)
            best[node] = [node, *max(tails, key=len, default=[])]
        return best[node]

    return max((chain(node) for node in sorted(graph)), key=len, default=[])


def dynamic_imports() -> list[str]:
    found = []
    for path in project_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            called = node.func if isinstance(node, ast.Call) else None
            name = getattr(called, "attr", None) or getattr(called, "id", None)
            if name in ("import_module", "__import__"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


# ---------------------------------------------------------------- the rules


def test_the_import_graph_has_no_cycle() -> None:
    assert cycles(import_graph()) == []


def test_layers_only_import_downwards() -> None:
    assert upward_imports(import_graph()) == []


def test_the_domain_packages_of_core_form_no_cycle() -> None:
    assert cycles(package_graph(import_graph())) == []


def test_no_dynamic_import_hides_an_arrow() -> None:
    assert dynamic_imports() == []


def test_the_graph_sees_every_project_module() -> None:
    """A renamed folder must not empty the graph and let every rule pass on nothing."""
    graph = import_graph()
    assert {"app", "navigation", "pages.choose", "ui.actions", "core.shared.errors", "core.staffing.workflow",
            "db.models", "ops.cli"} <= set(graph)
    assert "core.staffing.matching" in graph["core.staffing.workflow"]
    assert len(longest_chain(graph)) >= 5


# ---------------------------------------------------------------- the checker checks itself


def test_a_page_importing_a_page_is_refused() -> None:
    graph = {**import_graph(), "pages.choose": frozenset({*import_graph()["pages.choose"], "pages.propose"})}
    assert "pages.choose → pages.propose (une page n'importe jamais une autre page)" in upward_imports(graph)


def test_db_importing_a_domain_package_is_refused() -> None:
    graph = {**import_graph(), "db.session": frozenset({"core.staffing.matching"})}
    assert "db.session → core.staffing.matching (db n'importe pas core)" in upward_imports(graph)


def test_core_importing_ui_or_ops_is_refused() -> None:
    graph = {"core.staffing.matching": frozenset({"ui.layout", "ops.bench"}), "ui.layout": frozenset(),
             "ops.bench": frozenset()}
    assert upward_imports(graph) == ["core.staffing.matching → ops.bench (rien n'importe ops)",
                                     "core.staffing.matching → ui.layout (core n'importe pas ui)"]


def test_a_cycle_is_found() -> None:
    graph = {**import_graph(), "core.shared.validation": frozenset({"core.places.geo"})}
    assert ["core.places.geo", "core.shared.validation"] in cycles(graph)
    assert len(longest_chain(graph)) >= 5  # still measured: the loop's closing arrow is not followed


def test_a_cycle_between_domain_packages_is_found() -> None:
    graph = {"core.staffing.workflow": {"core.mail.outbox"}, "core.mail.outbox": {"core.staffing.jobs"},
             "core.staffing.jobs": set()}
    assert cycles(package_graph(graph)) == [["core.mail", "core.staffing"]]


def test_a_relative_import_is_resolved() -> None:
    tree = ast.parse("from .matching import find_candidates\nfrom . import jobs\n")
    assert imported_names(tree, "core.staffing") >= {"core.staffing.matching", "core.staffing.jobs"}


# ---------------------------------------------------------------- decisions belong to core


def _domain_values() -> set[str]:
    from db.models import MissionStatus, ProfessionalStatus, ProposalState, Role

    return {member.value for enum in (MissionStatus, ProfessionalStatus, ProposalState, Role) for member in enum}


def _literals(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return set()


def decisions(tree: ast.AST, values: set[str]) -> list[str]:
    """Comparisons with a role, a mission or volunteer status or a proposal state, and reads of `.role`: what
    a user may do is decided by core, which hands each row its actions (core.shared.actions)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            hit = set().union(*map(_literals, [node.left, *node.comparators])) & values
            if hit:
                found.append(f"{node.lineno}: compares with {sorted(hit)}")
        elif isinstance(node, ast.Attribute) and node.attr == "role":
            found.append(f"{node.lineno}: reads .role")
    return found


# ui/auth.py keeps the role in the browser session's state; ui/layout.py names it in the sidebar (a label).
ROLE_LABELLERS = {"auth.py", "layout.py"}


@pytest.mark.parametrize("path", _python_files_of("pages") + _python_files_of("ui"), ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_and_ui_decide_nothing_on_a_role_or_a_state(path: Path) -> None:
    found = decisions(ast.parse(path.read_text(encoding="utf-8")), _domain_values())
    if path.parent.name == "ui" and path.name in ROLE_LABELLERS:
        found = [f for f in found if not f.endswith("reads .role")]
    assert found == []


def test_a_decision_on_a_state_in_a_page_is_found() -> None:
    tree = ast.parse('if row["status"] == "open" and user.role in ("ars", "ccs"):\n    pass\n')
    assert decisions(tree, _domain_values()) == ["1: compares with ['open']", "1: compares with ['ars', 'ccs']",
                                                  "1: reads .role"]


# ---------------------------------------------------------------- Streamlit stays where it belongs


def _imported_modules(path: Path) -> set[str]:
    return imported_names(ast.parse(path.read_text(encoding="utf-8")), package_of(path))


@pytest.mark.parametrize("path", _python_files_of("core") + _python_files_of("db"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_and_db_never_import_streamlit(path: Path) -> None:
    imported = _imported_modules(path)
    assert not {name for name in imported if name.split(".")[0] in {"streamlit", "streamlit_authenticator"}}


@pytest.mark.parametrize("path", _python_files_of("pages"), ids=lambda p: p.name)
def test_page_modules_never_touch_streamlit_at_import_time(path: Path) -> None:
    """A statement that renders at import time could show a page to a signed-out visitor by URL."""
    definitions = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, definitions):
            continue
        names = {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name)}
        assert "st" not in names, f"{path.name}:{node.lineno} calls Streamlit at import time"


@pytest.mark.parametrize("path", [p for p in _python_files_of("pages") if p.name != "__init__.py"], ids=lambda p: p.name)
def test_every_page_module_exposes_render(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert "render" in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("path", _python_files_of("pages"), ids=lambda p: p.name)
def test_pages_run_no_sql(path: Path) -> None:
    imported = _imported_modules(path)
    assert "sqlalchemy" not in {name.split(".")[0] for name in imported}


def test_no_url_path_equals_a_page_module_name() -> None:
    """Streamlit's legacy discovery hashes pages/<name>.py like a url_path <name>: a clash makes a
    rerun execute the bare module instead of app.py (seen in AppTest), so the names must differ."""
    from navigation import LANDING_PATH, all_specs

    modules = {p.stem for p in (ROOT / "pages").glob("*.py")}
    assert not ({spec.url_path for spec in all_specs()} | {LANDING_PATH}) & modules
