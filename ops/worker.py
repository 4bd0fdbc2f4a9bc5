"""`python -m core worker`: sends the outbox and runs the periodic jobs (one worker per deployment).

Sending stays safe should two workers run at once (a restart overlapping the old process): each e-mail
is claimed before it is sent (core.mail.outbox). The log line reports sends interrupted by a crash, which
wait for an admin on the "Courriels" page.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from core.campaigns.followup import run_campaign_jobs
from core.figures.tension_history import snapshot_tension
from core.mail.outbox import send_pending
from core.shared.clock import utcnow
from core.shared.errors import ServiceUnavailable
from core.staffing.jobs import run_jobs
from core.volunteers.freshness import send_availability_checks
from db.session import session_scope

DEFAULT_INTERVAL_SECONDS = 30


def run_once(url: str | None = None, *, now: datetime | None = None) -> list[str]:
    """One pass of every job; returns a French line per job for the log.

    Each job is one transaction: a database lost in the middle of one (a restart, a failover) rolls it back
    whole, the others still run, and the next pass does it again — nothing is done twice, nothing half."""
    now = now or utcnow()
    return [_step("Tâches", lambda: str(_in_transaction(url, run_jobs, now))),
            _step("Toujours disponible ?", lambda: "Demandes « Toujours disponible ? » envoyées : "
                  f"{_in_transaction(url, send_availability_checks, now)}."),
            _step("Tension", lambda: _in_transaction(url, snapshot_tension, now)),
            _step("Appels à candidatures", lambda: str(_in_transaction(url, run_campaign_jobs, now))),
            _step("Courriels", lambda: str(send_pending(url, now=now)))]


def _in_transaction(url: str | None, job: Callable[..., Any], now: datetime) -> Any:
    with session_scope(url) as session:
        return job(session, now=now)


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
