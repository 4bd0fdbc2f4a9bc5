"""Engines from RENFORT_DATABASE_URL (and RENFORT_DATABASE_READ_URL) and the unit of work (`session_scope`)."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.config import get_settings
from core.shared.distance import distance_dm, distance_km
from core.shared.errors import ServiceUnavailable

READ_ONLY = "renfort_read_only"
# What the database's absence looks like: a connection lost mid-transaction (server restarted, backend
# terminated, failover), refused, or a lock or pool wait that timed out. Not IntegrityError nor
# ProgrammingError: those are answers of a working database, and bugs must stay visible.
UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)
# A replica scope asked to be caught up (it reads what its caller has just committed) waits at most this long for
# the replica to replay the primary's WAL; past it, the primary serves the read rather than a stale replica.
REPLICA_WAIT_SECONDS = 2.0
REPLICA_POLL_SECONDS = 0.01
log = logging.getLogger(__name__)


def _null_safe(function):  # noqa: ANN001, ANN202
    # Volunteers share their commune's point: the same pairs of coordinates come back again and again in
    # one query (and the next one, for the same establishment), so a cache saves most of the trigonometry.
    cached = lru_cache(maxsize=131_072)(function)

    def wrapper(*args):  # noqa: ANN002, ANN202
        return None if None in args else cached(*args)

    return wrapper


def _configure_sqlite(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        # Driver autocommit off: we emit BEGIN ourselves (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "busy_timeout=10000",
            "synchronous=NORMAL",
            "foreign_keys=ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        # SQLite has no trigonometry: the same functions PostgreSQL defines in SQL (migration 0003).
        dbapi_connection.create_function("haversine_km", 4, _null_safe(distance_km), deterministic=True)
        dbapi_connection.create_function("distance_dm", 4, _null_safe(distance_dm), deterministic=True)

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A deferred transaction that reads then writes can fail with "database is locked" under
        # contention; taking the write lock up front makes writers queue instead. Read-only scopes
        # keep a plain BEGIN so dashboards do not wait behind each other.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine_for(url: str) -> sa.Engine:
    """A configured engine for this URL (SQLite pragmas and haversine, or PostgreSQL pool)."""
    if url.startswith("sqlite"):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def get_engine(url: str | None = None) -> sa.Engine:
    """The process-wide engine of this URL (default: the configured database)."""
    return _engine(url or get_settings().database_url)


@lru_cache(maxsize=8)
def _engine(url: str) -> sa.Engine:
    return create_engine_for(url)


@lru_cache(maxsize=8)
def _session_factory(url: str) -> so.sessionmaker[so.Session]:
    return so.sessionmaker(bind=_engine(url), expire_on_commit=False)


def read_url_for(url: str | None = None) -> str:
    """The database the replica scopes of this primary read: RENFORT_DATABASE_READ_URL for the configured primary
    (itself when unset); any other database (a test's, a command's --db) has no known replica and reads itself."""
    settings = get_settings()
    primary = url or settings.database_url
    return settings.read_url if primary == settings.database_url else primary


@contextmanager
def session_scope(url: str | None = None, *, read_only: bool = False, replica: bool = False,
                  caught_up: bool = False) -> Iterator[so.Session]:
    """One unit of work: commits when the block ends normally, rolls back on any exception. A database out of
    reach, before or during the work, becomes ServiceUnavailable: a French message, nothing written.

    `replica=True` is an explicit opt-in for reads that tolerate about a second of lag (national figures,
    indicators, the rows of an export): a read-only scope on the replica of `url` (read_url_for), made
    `READ ONLY` on PostgreSQL so that a write attempted there fails loudly (SQLSTATE 25006) even when the replica
    is the primary itself. `caught_up=True` first waits until the replica has replayed what the primary had
    committed (read-your-writes: an export built just after its Event was recorded); see _replica_url.
    """
    primary = url or get_settings().database_url
    target = _replica_url(primary, caught_up) if replica else primary
    session = _session_factory(target)()
    try:
        if read_only or replica:
            connection = session.connection(execution_options={READ_ONLY: True})
            if replica and connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        yield session
        if read_only or replica:
            # Detach first: the caller keeps what it loaded (a rollback would expire it), nothing is written.
            session.expunge_all()
            session.rollback()
        else:
            session.commit()
    except UNAVAILABLE as error:
        _rollback_quietly(session)
        log.warning("Base de données indisponible : %s", error)
        raise ServiceUnavailable() from error
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _replica_url(primary: str, caught_up: bool) -> str:
    """The replica of `primary`; when `caught_up`, only once it has replayed the primary's WAL up to now, else
    the primary itself (a replica late by more than REPLICA_WAIT_SECONDS, or one that cannot be reached)."""
    replica = read_url_for(primary)
    if replica == primary or not caught_up or not primary.startswith("postgresql"):
        return replica
    try:
        if _wait_for_replay(primary, replica):
            return replica
    except UNAVAILABLE as error:
        log.warning("Réplique de lecture injoignable, lecture sur la base principale : %s", error)
    return primary


def _wait_for_replay(primary: str, replica: str) -> bool:
    """Poll the replica until it has replayed the primary's current WAL position (a few ms on a healthy pair)."""
    with _engine(primary).connect() as connection:
        position = connection.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar_one()
    deadline = time.monotonic() + REPLICA_WAIT_SECONDS
    # NULL: the read URL is not in recovery (another primary?) — there is no replay to wait for.
    replayed = sa.text("SELECT coalesce(pg_last_wal_replay_lsn() >= CAST(:position AS pg_lsn), true)")
    with _engine(replica).connect() as connection:
        while not connection.execute(replayed, {"position": position}).scalar_one():
            if time.monotonic() > deadline:
                log.warning("Réplique de lecture en retard de plus de %s s : lecture sur la base principale.",
                            REPLICA_WAIT_SECONDS)
                return False
            time.sleep(REPLICA_POLL_SECONDS)
    return True


def _rollback_quietly(session: so.Session) -> None:
    """The transaction is lost with its connection: the server has rolled it back already."""
    try:
        session.rollback()
    except UNAVAILABLE:
        log.warning("Annulation impossible : la connexion est déjà perdue.")


def copy_sqlite(source: Path, target: Path) -> str:
    """Copy a SQLite database with SQLite's online backup (a file copy would miss pages still in the write-ahead
    log); returns the copy's URL."""
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)
    return f"sqlite:///{target}"
