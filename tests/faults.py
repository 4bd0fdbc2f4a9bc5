"""PostgreSQL faults on demand: the server ends a connection in the middle of a transaction.

`pg_terminate_backend` is what an administrator's `kill`, a server restart or a failover does to a session: its
open transaction is rolled back by the server and the client's next statement fails. The tests arm a trigger
on the application's engine that terminates the connection's backend right before a chosen statement (or at
the commit), then check that nothing was half-written, that the user reads a French message, and that the next
try works on a new connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa

from db.session import get_engine


@dataclass
class Trigger:
    statement_start: str  # e.g. "INSERT INTO event"; "COMMIT" for the commit itself
    skip: int = 0  # statements of that kind let through first (to strike in the middle of a batch)
    seen: int = 0
    killed: list[int] = field(default_factory=list)  # the backends terminated


def terminate_backend(url: str, pid: int) -> bool:
    """What the server does to a session on a `kill`: from another connection, outside the application's pool;
    waits until the backend is gone. False if there was no such backend."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        terminated = bool(connection.scalar(sa.text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}))
    engine.dispose()
    return terminated


def _strike(url: str, trigger: Trigger, connection: sa.Connection) -> None:
    if trigger.killed:
        return
    trigger.seen += 1
    if trigger.seen > trigger.skip:
        pid = connection.connection.dbapi_connection.info.backend_pid
        terminate_backend(url, pid)
        trigger.killed.append(pid)


@contextmanager
def backend_terminated(url: str, statement_start: str, *, skip: int = 0) -> Iterator[Trigger]:
    """While the block runs, the first matching statement (after `skip` of them) of the application's engine for
    this URL finds its connection terminated by the server."""
    engine = get_engine(url)
    trigger = Trigger(statement_start.upper(), skip)

    def before_statement(connection, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith(trigger.statement_start):
            _strike(url, trigger, connection)

    def before_commit(connection: sa.Connection) -> None:
        if trigger.statement_start == "COMMIT":
            _strike(url, trigger, connection)

    sa.event.listen(engine, "before_cursor_execute", before_statement)
    sa.event.listen(engine, "commit", before_commit)
    try:
        yield trigger
    finally:
        sa.event.remove(engine, "before_cursor_execute", before_statement)
        sa.event.remove(engine, "commit", before_commit)
