"""Migrations build the whole schema from an empty database, match the models, and are idempotent."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.migrate import migrate
from core.reference import NO_ARS_DEPARTMENTS, departements, postal_codes
from db.models import Base
from db.session import create_engine_for
from tests.conftest import PG_ADMIN_URL, _pg_admin, _pg_url, require


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    require(bool(PG_ADMIN_URL), "PostgreSQL non configuré (RENFORT_TEST_PG_URL absent)")
    name = f"renfort_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _index_names(connection: sa.Connection, table: str) -> list[str]:
    # The inspector skips expression indexes on SQLite (lower(email)): ask the catalogue itself.
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE tablename = :t AND indexname NOT LIKE 'pk_%'"
    return sorted(connection.execute(sa.text(query), {"t": table}).scalars())


def _snapshot(url: str) -> dict:
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            return {
                table: (
                    sorted(c["name"] for c in sa.inspect(connection).get_columns(table)),
                    _index_names(connection, table),
                    connection.execute(sa.text(f'SELECT COUNT(*) FROM "{table}"')).scalar(),
                )
                for table in sorted(sa.inspect(connection).get_table_names())
            }
    finally:
        engine.dispose()


def test_migrate_builds_every_table_with_reference_data_from_an_empty_database(empty_url: str) -> None:
    written = migrate(empty_url)
    assert written["ars"] == 18
    assert written["departement"] == len([d for d in departements() if d not in NO_ARS_DEPARTMENTS]) == 103
    assert written["postal_code"] == len(postal_codes())
    snapshot = _snapshot(empty_url)
    assert set(Base.metadata.tables) <= set(snapshot)
    assert "uq_proposal_one_live_per_professional" in snapshot["proposal"][1]
    assert "uq_users_email_lower_live" in snapshot["users"][1]
    # Later migrations must not lose the expression indexes (SQLite batch copies would).
    assert "uq_professional_email_lower" in snapshot["professional"][1]


def test_running_migrate_twice_changes_nothing(empty_url: str) -> None:
    migrate(empty_url)
    before = _snapshot(empty_url)
    assert all(count == 0 for count in migrate(empty_url).values())
    assert _snapshot(empty_url) == before


def test_the_migrations_match_the_models(empty_url: str) -> None:
    migrate(empty_url)
    engine = create_engine_for(empty_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    # Expression indexes (lower(email)) cannot be compared by autogenerate; they are checked above.
    assert differences == []
