"""`session_scope(replica=True)`: an explicit opt-in that reads RENFORT_DATABASE_READ_URL (the primary when unset),
read-only, and refuses a write loudly on PostgreSQL (SQLSTATE 25006) even when the read URL is the primary."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from core.shared.config import get_settings, load_settings
from db import models as m
from db import session as db_session
from db.session import session_scope
from tests.conftest import clone_sqlite
from tests.factories import make_user

UNREACHABLE_PG = "postgresql+psycopg://postgres@127.0.0.1:1/absente"


def _users(**scope: bool) -> int:
    with session_scope(**scope) as session:
        return session.scalar(sa.select(sa.func.count()).select_from(m.User))


@pytest.fixture
def point_to(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201 - a fixture
    """Configure the primary and, optionally, the read URL, as the environment would."""

    def configure(primary: str, read: str | None = None) -> None:
        monkeypatch.setenv("RENFORT_DATABASE_URL", primary)
        if read is None:
            monkeypatch.delenv("RENFORT_DATABASE_READ_URL", raising=False)
        else:
            monkeypatch.setenv("RENFORT_DATABASE_READ_URL", read)
        get_settings.cache_clear()

    yield configure
    get_settings.cache_clear()


def test_the_read_url_defaults_to_the_primary_and_must_be_of_its_engine() -> None:
    primary = "postgresql+psycopg://app@db/renfort"
    assert load_settings({"RENFORT_DATABASE_URL": primary}).read_url == primary
    replica = "postgresql+psycopg://app@replica/renfort"
    assert load_settings({"RENFORT_DATABASE_URL": primary, "RENFORT_DATABASE_READ_URL": f" {replica} "}).read_url \
        == replica
    with pytest.raises(RuntimeError, match="RENFORT_DATABASE_READ_URL"):
        load_settings({"RENFORT_DATABASE_URL": primary, "RENFORT_DATABASE_READ_URL": "sqlite:///copie.db"})


def test_a_replica_scope_reads_the_read_url_and_every_other_scope_the_primary(
        sqlite_url: str, sqlite_template: Path, tmp_path: Path, point_to) -> None:
    # The "replica" is a copy taken before the write: what it lacks shows which database a scope read.
    replica = clone_sqlite(sqlite_template, tmp_path / "replica.db")
    with session_scope(sqlite_url) as session:
        make_user(session)
    point_to(sqlite_url, replica)
    assert (_users(), _users(read_only=True), _users(replica=True)) == (1, 1, 0)
    assert db_session.read_url_for() == replica
    assert db_session.read_url_for(str(tmp_path / "other")) == str(tmp_path / "other")  # no known replica

    point_to(sqlite_url)  # unset: the replica scopes read the primary, through the same engine
    assert _users(replica=True) == 1
    assert db_session.read_url_for() == sqlite_url


def test_a_replica_scope_never_writes(sqlite_url: str) -> None:
    with session_scope(sqlite_url, replica=True) as session:
        make_user(session)
        session.flush()
    with session_scope(sqlite_url) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.User)) == 0


def test_a_write_in_a_replica_scope_fails_loudly_on_postgresql_even_on_the_primary(pg_url: str) -> None:
    with pytest.raises(sa.exc.InternalError) as raised, session_scope(pg_url, replica=True) as session:
        make_user(session)
        session.flush()
    assert raised.value.orig.sqlstate == "25006"  # read_only_sql_transaction
    with session_scope(pg_url, read_only=True) as session:  # the flag belongs to that transaction alone
        assert session.scalar(sa.text("SHOW transaction_read_only")) == "off"
        assert session.scalar(sa.select(sa.func.count()).select_from(m.User)) == 0


def test_a_caught_up_read_falls_back_to_the_primary_when_the_replica_is_out_of_reach(pg_url: str, point_to) -> None:
    with session_scope(pg_url) as session:
        make_user(session)
    point_to(pg_url, UNREACHABLE_PG)
    # An export just recorded on the primary is still built: the primary serves it.
    assert _users(replica=True, caught_up=True) == 1
    # A plain replica read does not probe the primary: the replica's absence is the usual French refusal.
    from core.shared.errors import ServiceUnavailable

    with pytest.raises(ServiceUnavailable):
        _users(replica=True)
