"""One periodic job at a time across workers: a PostgreSQL advisory lock per job, held by the job's transaction.

Two workers may run at once (a deployment with two, or a restart overlapping the old process). Each periodic
job runs in one transaction that first asks `pg_try_advisory_xact_lock` for the job's key: the worker that gets
it does the job, the other skips it for this pass (it does not wait: the first one is doing the work). The
lock goes with the transaction — commit, rollback or a lost connection release it — so a crashed worker never
leaves a job locked. A worker that takes the lock after the holder committed runs the job again on committed
data (READ COMMITTED: every statement sees the latest commits) and finds nothing left to do: the jobs are
idempotent. On SQLite, `BEGIN IMMEDIATE` (db.session) already lets one writer in at a time: no lock there.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
import sqlalchemy.orm as so

NAMESPACE = "renfort-rh:job:"  # keeps our keys apart from any other application's on the same cluster


def job_key(name: str) -> int:
    """A stable signed 64-bit key for a job's name (Python's hash() differs from one process to the next)."""
    digest = hashlib.sha256(f"{NAMESPACE}{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def try_job_lock(session: so.Session, name: str) -> bool:
    """Take the job's lock inside the session's transaction; False if another worker holds it now."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(job_key(name)))))
