"""Time in one place: stored timestamps are UTC, business dates are Europe/Paris dates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

# The crisis simulator (ops.simulation) replays weeks in minutes: while it runs, "now" is the simulated instant
# it sets, for the services it calls and for every default (an Event's time, a row's created_at) alike.
_SIMULATED_NOW: ContextVar[datetime | None] = ContextVar("simulated_now", default=None)


def utcnow() -> datetime:
    simulated = _SIMULATED_NOW.get()
    return simulated if simulated is not None else datetime.now(timezone.utc)


class SimulatedClock:
    """The simulator's hand on the clock: set() moves "now" for everything that asks utcnow()."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def set(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("Un instant simulé porte son fuseau (UTC).")
        self.now = moment
        _SIMULATED_NOW.set(moment)
        return moment


@contextmanager
def simulated_clock(start: datetime) -> Iterator[SimulatedClock]:
    """Within the block, utcnow() answers the simulated instant (real time again afterwards)."""
    token = _SIMULATED_NOW.set(None)
    clock = SimulatedClock(start)
    clock.set(start)
    try:
        yield clock
    finally:
        _SIMULATED_NOW.reset(token)


def paris_today(now: datetime | None = None) -> date:
    """Today's date in Paris (a mission dated today in Paris may still be yesterday in UTC)."""
    return (now or utcnow()).astimezone(PARIS).date()


def paris_midnight(day: date) -> datetime:
    """The UTC instant at which this Paris day begins."""
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(timezone.utc)


def paris_datetime(moment: datetime) -> str:
    """A timestamp as French users read it: 23/11/2026 à 16:05."""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
