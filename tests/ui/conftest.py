"""AppTest fixtures: the whole app (app.py) on a small seeded SQLite database."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from ops.apptest import open_page, sign_in_as  # noqa: F401 - re-exported for the tests
from ops.seed import seed_demo
from tests.conftest import clone_sqlite
from tests.ui.readers import MEDIA_FILES

ROOT = Path(__file__).resolve().parents[2]
SMALL_DEMO = {"establishments": 40, "volunteers": 300, "missions": 60}


@pytest.fixture(autouse=True)
def record_media_files(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201 - a fixture
    """Keep the bytes Streamlit stores for each download button: AppTest drops its media store after each run,
    and tests/ui/readers.served_files reads the file behind a button's URL here."""
    store = MemoryMediaFileStorage.load_and_get_id

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):  # noqa: ANN001, ANN202
        file_id = store(self, path_or_data, mimetype, kind, filename)
        MEDIA_FILES[file_id] = self._files_by_id[file_id].content
        return file_id

    MEDIA_FILES.clear()
    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load_and_get_id)
    yield
    MEDIA_FILES.clear()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    path = tmp_path_factory.mktemp("seeded") / "demo.db"
    seed_demo(clone_sqlite(sqlite_template, path), seed=3, now=datetime.now(timezone.utc), **SMALL_DEMO)
    return path


@pytest.fixture
def demo_url(tmp_path: Path, seeded_template: Path, app_env) -> str:
    url = clone_sqlite(seeded_template, tmp_path / "demo.db")
    app_env(url)
    return url


@pytest.fixture
def app(demo_url: str) -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)


def signed_in(app: AppTest, email: str, role: str) -> AppTest:
    """Signed in as ui.auth leaves it, after one run (which registers the pages)."""
    sign_in_as(app, email, role).run()
    assert not app.exception
    return app


def tick(app: AppTest, *positions: int) -> AppTest:
    """Tick rows of the page's table the way the browser does (under its current key: it follows the rows shown)."""
    app.session_state[app.dataframe[0].key] = {"selection": {"rows": list(positions), "columns": [], "cells": []}}
    return app.run()
