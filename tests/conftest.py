"""Shared fixtures: a clean database per test on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.config import get_settings
from db import session as db_session
from db.models import Base
from db.session import copy_sqlite
from ops.migrate import migrate

pytest_plugins = ["tests.smtp"]  # the `smtp_server` fixture: a real SMTP server on loopback

PG_ADMIN_URL = os.environ.get("RENFORT_TEST_PG_URL", "").strip()
UNDER_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REFERENCE_TABLES = {"ars", "departement", "profession", "establishment_category", "postal_code"}


def require(condition: bool, reason: str) -> None:
    """Skip on a laptop without the tool; under CI a missing tool is a failure, never a skip."""
    if condition:
        return
    if UNDER_CI:
        pytest.fail(f"CI : {reason}")
    pytest.skip(reason)


def _forget_engine(url: str) -> None:
    db_session.get_engine(url).dispose()
    db_session._engine.cache_clear()
    db_session._session_factory.cache_clear()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file (schema + reference data), copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    migrate(url)
    _forget_engine(url)
    return path


def clone_sqlite(source: Path, target: Path) -> str:
    """A copy of a database nobody writes to any more (a template): a plain file copy when its write-ahead log is
    empty — 0.4 ms instead of the online backup's 15, for each of thousands of tests."""
    wal = source.with_name(source.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        return copy_sqlite(source, target)
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


def _pg_url(database: str) -> str:
    return sa.engine.make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def _pg_admin(statement: str) -> None:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(statement)
    engine.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test run, migrated once."""
    require(bool(PG_ADMIN_URL), "PostgreSQL non configuré (RENFORT_TEST_PG_URL absent)")
    name = f"renfort_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    url = _pg_url(name)
    try:
        migrate(url)
        yield url
    finally:
        _forget_engine(url)
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_pg(url: str) -> None:
    """Empty every table but the reference ones, and start their ids at 1 again. DELETE, not TRUNCATE: on tables
    this small it takes 5 ms where TRUNCATE (new files for each table) takes 90 — over 3,000 tests, two minutes."""
    tables = [t for t in Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    engine = db_session.get_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("SET LOCAL synchronous_commit = off")  # a throw-away database
        for table in reversed(tables):  # children first
            connection.exec_driver_sql(f'DELETE FROM "{table.name}"')
        # What RESTART IDENTITY did: every sequence these tables own starts again.
        connection.execute(sa.text(
            "SELECT setval(s.oid, 1, false) FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
            "JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S' AND d.deptype IN ('a', 'i') "
            "AND t.relname = ANY(:tables)"), {"tables": [t.name for t in tables]})


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A clean database with reference data: a fresh SQLite copy, or a truncated PostgreSQL one."""
    if request.param == "sqlite":
        url = clone_sqlite(request.getfixturevalue("sqlite_template"), tmp_path / "test.db")
        yield url
        _forget_engine(url)
    else:
        url = request.getfixturevalue("pg_database")
        _truncate_pg(url)
        yield url


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """PostgreSQL only (clean), for what only makes sense there — such as the load test."""
    _truncate_pg(pg_database)
    return pg_database


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """SQLite only, for tests of behaviour that does not depend on the engine."""
    url = clone_sqlite(sqlite_template, tmp_path / "test.db")
    yield url
    _forget_engine(url)


@pytest.fixture
def uow(db_url: str) -> Callable[..., AbstractContextManager[so.Session]]:
    """`with uow() as session:` — one unit of work on the test database."""
    return partial(db_session.session_scope, db_url)


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Point the application settings at a given database."""

    def point_to(url: str) -> None:
        monkeypatch.setenv("RENFORT_DATABASE_URL", url)
        get_settings.cache_clear()

    yield point_to
    get_settings.cache_clear()


def pytest_report_header(config: pytest.Config) -> str:
    engines = "SQLite + PostgreSQL" if PG_ADMIN_URL else "SQLite seulement (RENFORT_TEST_PG_URL absent)"
    return f"Renfort RH — bases de test : {engines}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The depth of the code, for a reader of `make test`: its longest import chain (tests/unit/test_architecture)."""
    from tests.unit.test_architecture import cycles, import_graph, longest_chain

    graph = import_graph()
    if cycles(graph):
        return  # the architecture test reports the cycle; a longest path means nothing then
    chain = longest_chain(graph)
    terminalreporter.write_line(f"Chaîne d'imports la plus longue : {len(chain)} modules ({len(graph)} modules en tout) — "
                                + " → ".join(chain))


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen]:
    """A process that looks like the crisis simulator (its command line says « simulate ») and runs until killed."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "simulate"])
    yield process
    process.kill()
    process.wait()
