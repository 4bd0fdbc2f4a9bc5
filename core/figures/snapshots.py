"""Figures the worker computes for every reader, stored as JSON (never pickle: the database is not code).

At the scale of the whole health workforce (1.5 million volunteers, 300,000 missions), the national overview's
GROUP BYs take seconds: too long for the page that every crisis-centre and ministry agent opens first. The worker
computes the overview of the page's opening view at each pass (core.figures.indicators.refresh_national_overview)
and stores it here; the service serves it while it is younger than RENFORT_FIGURES_SNAPSHOT_SECONDS, and the page
says when the figures were computed. Any other filter is computed on demand. A snapshot missing or too old
(worker stopped) falls back to the live computation: the page is slower, never older than the age it states.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy.orm as so

from core.shared.config import get_settings
from db.models import FiguresSnapshot


def store(session: so.Session, key: str, payload: dict[str, Any], *, computed_at: datetime, seconds: float) -> None:
    snapshot = session.get(FiguresSnapshot, key) or FiguresSnapshot(key=key)
    snapshot.computed_at, snapshot.seconds, snapshot.payload = computed_at, round(seconds, 3), payload
    session.add(snapshot)


def fresh(session: so.Session, key: str, now: datetime) -> tuple[dict[str, Any], datetime] | None:
    """The stored payload and when it was computed, if that was within RENFORT_FIGURES_SNAPSHOT_SECONDS."""
    snapshot = session.get(FiguresSnapshot, key)
    max_age = timedelta(seconds=get_settings().figures_snapshot_seconds)
    if snapshot is None or not now - max_age <= snapshot.computed_at <= now:
        return None
    return snapshot.payload, snapshot.computed_at
