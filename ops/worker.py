"""`python -m core worker`: sends the outbox and runs the periodic jobs.

Two workers (or more) may run at once — a deployment with two for availability, a restart overlapping the old
process: each periodic job runs under its advisory lock (db.locks), so one worker does it and the other says
in its log line that it skipped it; each e-mail is claimed before it is sent (core.mail.outbox). Every
transition is thus made, audited and announced once. The log line reports sends interrupted by a crash, which
wait for an admin on the "Courriels" page.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from core.campaigns.followup import run_campaign_jobs
from core.figures.indicators import refresh_figures
from core.figures.tension_history import snapshot_tension
from core.mail.outbox import send_pending
from core.shared.clock import utcnow
from core.shared.errors import ServiceUnavailable
from core.staffing.jobs import run_jobs
from core.volunteers.freshness import send_availability_checks
from db.locks import try_job_lock
from db.session import session_scope

DEFAULT_INTERVAL_SECONDS = 30
SKIPPED = "déjà en cours dans un autre worker, ignoré à ce passage."


def run_once(url: str | None = None, *, now: datetime | None = None) -> list[str]:
    """One pass of every job; returns a French line per job for the log.

    Each job is one transaction: a database lost in the middle of one (a restart, a failover) rolls it back
    whole, the others still run, and the next pass does it again — nothing is done twice, nothing half."""
    now = now or utcnow()
    return [_job(url, "Tâches", run_jobs, now, str),
            _job(url, "Toujours disponible ?", send_availability_checks, now,
                 lambda sent: f"Demandes « Toujours disponible ? » envoyées : {sent}."),
            _job(url, "Tension", snapshot_tension, now, str),
            _job(url, "Chiffres précalculés", refresh_figures, now, str),
            _job(url, "Appels à candidatures", run_campaign_jobs, now, str),
            _step("Courriels", lambda: str(send_pending(url, now=now)))]


def _job(url: str | None, name: str, job: Callable[..., Any], now: datetime, say: Callable[[Any], str]) -> str:
    return _step(name, lambda: _locked(url, name, job, now, say))


def _locked(url: str | None, name: str, job: Callable[..., Any], now: datetime, say: Callable[[Any], str]) -> str:
    """The job in one transaction that holds its lock (the job's name is the lock's key); skipped when another
    worker holds it: that worker is doing this very work, and the next pass finds nothing left."""
    with session_scope(url) as session:
        if not try_job_lock(session, name):
            return f"{name} : {SKIPPED}"
        return say(job(session, now=now))


def _step(name: str, job: Callable[[], str]) -> str:
    try:
        return job()
    except ServiceUnavailable as error:
        return f"{name} : {error.message} (nouvel essai au prochain passage)"


def run_forever(url: str | None = None, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        for line in run_once(url):
            print(f"[{utcnow():%Y-%m-%d %H:%M:%S}Z] {line}", flush=True)
        deadline = time.monotonic() + interval
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.5)
