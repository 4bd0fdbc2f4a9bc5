"""Time in one place: stored timestamps are UTC, business dates are Europe/Paris dates."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def paris_today(now: datetime | None = None) -> date:
    """Today's date in Paris (a mission dated today in Paris may still be yesterday in UTC)."""
    return (now or utcnow()).astimezone(PARIS).date()


def paris_midnight(day: date) -> datetime:
    """The UTC instant at which this Paris day begins."""
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(timezone.utc)


def paris_datetime(moment: datetime) -> str:
    """A timestamp as French users read it: 23/11/2026 à 16:05."""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
