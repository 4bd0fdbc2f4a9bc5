"""Layering rules that keep the domain testable and the pages safe."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", _python_files("core") + _python_files("db"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_and_db_never_import_streamlit(path: Path) -> None:
    imported = _imported_modules(path)
    assert not {name for name in imported if name.split(".")[0] in {"streamlit", "streamlit_authenticator", "ui", "pages"}}


@pytest.mark.parametrize("path", _python_files("pages"), ids=lambda p: p.name)
def test_page_modules_never_touch_streamlit_at_import_time(path: Path) -> None:
    """A statement that renders at import time could show a page to a signed-out visitor by URL."""
    definitions = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, definitions):
            continue
        names = {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name)}
        assert "st" not in names, f"{path.name}:{node.lineno} calls Streamlit at import time"


@pytest.mark.parametrize("path", [p for p in _python_files("pages") if p.name != "__init__.py"], ids=lambda p: p.name)
def test_every_page_module_exposes_render(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert "render" in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("path", _python_files("pages"), ids=lambda p: p.name)
def test_pages_run_no_sql(path: Path) -> None:
    imported = _imported_modules(path)
    assert "sqlalchemy" not in {name.split(".")[0] for name in imported}


def test_no_url_path_equals_a_page_module_name() -> None:
    """Streamlit's legacy discovery hashes pages/<name>.py like a url_path <name>: a clash makes a
    rerun execute the bare module instead of app.py (seen in AppTest), so the names must differ."""
    from ui.navigation import LANDING_PATH, all_specs

    modules = {p.stem for p in (ROOT / "pages").glob("*.py")}
    assert not ({spec.url_path for spec in all_specs()} | {LANDING_PATH}) & modules
