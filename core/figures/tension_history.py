"""Tension over time (issue 13): daily snapshots per department and profession, and the series the
dashboards draw from them (« Vue nationale », « Indicateurs »).

Past availability of volunteers is not stored anywhere else, so the worker takes a snapshot of the day
(at most every hour; the day's last snapshot stands for it): posts requested, filled and unfilled, and
available volunteers, per department and profession. Days before the first snapshot — or while the worker
was stopped — are rebuilt from missions and proposals: their posts are known, their volunteers are not
(shown as missing, so is the tension). A day with neither is missing and drawn as a gap.

Definitions (a stock at the end of the day, Europe/Paris):
- a need *counts on day D* when its mission was posted by the end of D (created, not pending), was not
  closed by then, and its dates are not over (end_date ≥ D): the needs running or to come on that day;
- *posts filled* = assignments (affecte or termine) decided by the end of D; a later cancelled assignment
  is no longer known as such and a rebuilt day misses it;
- *unfilled* = requested − filled per mission (never below zero);
- *available volunteers* = disponible on D (their availability window covering D);
- *tension* = unfilled posts per available volunteer of the same department and professions where posts
  wait, as on the map (core.figures.indicators.tension).
A week's value is that of its last day with figures (a stock, not a sum).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.figures.indicators import ASSIGNED, REGION_ROLES, _missions, tension
from core.shared.actor import SessionUser
from core.shared.clock import paris_midnight, paris_today, utcnow
from core.shared.errors import PermissionDenied, ValidationError
from core.shared.permissions import NATIONAL_ROLES, require_role, sees_region
from core.shared.sqlfunc import greatest
from db.models import (
    Ars,
    Departement,
    Establishment,
    EstablishmentStatus,
    Mission,
    MissionStatus,
    Professional,
    ProfessionalStatus,
    Proposal,
    TensionDay,
    TensionSnapshot,
    TensionSource,
)

SNAPSHOT_EVERY = timedelta(hours=1)  # a day's figures move slowly; 2 000 rows every 30 s would be waste
HISTORY_DAYS = 180  # how far back missing days are rebuilt
REBUILD_DAYS_PER_PASS = 31  # bounded work per worker pass: a long history fills in over a few passes
TREND_DAYS = 7
STEPS = {"jour": "Par jour", "semaine": "Par semaine"}
DEFAULT_DAYS = 56  # eight weeks: enough for a weekly trend, short enough to read the days
MAX_DAYS = 366
FLAT_TENSION = 0.05  # a smaller change of tension reads as stable


class _Figures(NamedTuple):
    requested: int
    filled: int
    unfilled: int
    available: int | None


# ---------------------------------------------------------------- taking and rebuilding snapshots


def _posts_on(session: so.Session, day: date, until: datetime) -> dict[tuple[str, str], tuple[int, int, int]]:
    """Posts of the needs counting on `day`, as the database stood at `until`, per (department, profession)."""
    filled = (sa.select(Proposal.mission_id, sa.func.count().label("filled"))
              .where(Proposal.state.in_(ASSIGNED), Proposal.decided_at < until)
              .group_by(Proposal.mission_id).subquery("filled_by_mission"))
    done = sa.func.coalesce(filled.c.filled, 0)
    rows = session.execute(
        _missions(Establishment.department_code, Mission.profession_code, sa.func.sum(Mission.count),
                  sa.func.sum(sa.case((done > Mission.count, Mission.count), else_=done)),
                  sa.func.sum(greatest(Mission.count - done, 0)), joined=True)
        .outerjoin(filled, filled.c.mission_id == Mission.id)
        .where(Mission.count > 0, Mission.status != MissionStatus.PENDING.value, Mission.created_at < until,
               sa.or_(Mission.closed_at.is_(None), Mission.closed_at >= until), Mission.end_date >= day,
               Establishment.status != EstablishmentStatus.REJECTED.value)
        .group_by(Establishment.department_code, Mission.profession_code)
    ).all()
    return {(row[0], row[1]): (int(row[2] or 0), int(row[3] or 0), int(row[4] or 0)) for row in rows}


def _available_on(session: so.Session, day: date) -> dict[tuple[str, str], int]:
    rows = session.execute(
        sa.select(Professional.department_code, Professional.profession_code, sa.func.count())
        .where(Professional.status == ProfessionalStatus.DISPONIBLE.value,
               sa.or_(Professional.available_from.is_(None), Professional.available_from <= day),
               sa.or_(Professional.available_to.is_(None), Professional.available_to >= day))
        .group_by(Professional.department_code, Professional.profession_code)
    ).all()
    return {(department, profession): int(people) for department, profession, people in rows}


def _write_day(session: so.Session, day: date, source: TensionSource, now: datetime,
               figures: dict[tuple[str, str], _Figures]) -> None:
    """Replace the day's figures (non-zero rows only: a missing pair of a recorded day is zero)."""
    session.execute(sa.delete(TensionSnapshot).where(TensionSnapshot.day == day))
    session.execute(sa.delete(TensionDay).where(TensionDay.day == day))
    session.add(TensionDay(day=day, source=source.value, taken_at=now))
    session.flush()
    session.add_all(
        TensionSnapshot(day=day, department_code=department, profession_code=profession,
                        posts_requested=f.requested, posts_filled=f.filled, posts_unfilled=f.unfilled,
                        available_volunteers=f.available)
        for (department, profession), f in sorted(figures.items())
        if f.requested or f.available
    )
    session.flush()


def take_snapshot(session: so.Session, *, now: datetime) -> date:
    """Today's figures as they stand now, volunteers included."""
    today = paris_today(now)
    posts, people = _posts_on(session, today, now), _available_on(session, today)
    figures = {pair: _Figures(*posts.get(pair, (0, 0, 0)), people.get(pair, 0)) for pair in {*posts, *people}}
    _write_day(session, today, TensionSource.RELEVE, now, figures)
    return today


def rebuild_day(session: so.Session, day: date, *, now: datetime) -> None:
    """A past day's posts from missions and proposals; its volunteers are unknown (None)."""
    posts = _posts_on(session, day, paris_midnight(day + timedelta(days=1)))
    _write_day(session, day, TensionSource.RECONSTITUE, now,
               {pair: _Figures(*values, None) for pair, values in posts.items()})


def _days_to_rebuild(session: so.Session, today: date) -> list[date]:
    """Missing past days since the first need (at most HISTORY_DAYS back), the most recent first."""
    first_need = session.scalar(sa.select(sa.func.min(Mission.created_at)).where(Mission.count > 0))
    if first_need is None:
        return []
    start = max(paris_today(first_need), today - timedelta(days=HISTORY_DAYS))
    known = set(session.scalars(sa.select(TensionDay.day).where(TensionDay.day >= start)))
    days = (today - timedelta(days=offset) for offset in range(1, (today - start).days + 1))
    return [day for day in days if day not in known][:REBUILD_DAYS_PER_PASS]


def snapshot_tension(session: so.Session, *, now: datetime | None = None) -> str:
    """The worker's job: today's snapshot when missing or older than SNAPSHOT_EVERY, then missing past
    days rebuilt. Idempotent: a second pass in the same hour does nothing."""
    now = now or utcnow()
    today = paris_today(now)
    current = session.get(TensionDay, today)
    taken = current is None or current.source != TensionSource.RELEVE.value or current.taken_at <= now - SNAPSHOT_EVERY
    if taken:
        take_snapshot(session, now=now)
    rebuilt = _days_to_rebuild(session, today)
    for day in rebuilt:
        rebuild_day(session, day, now=now)
    return (f"Relevé de tension du jour : {'pris' if taken else 'à jour'}, "
            f"jours passés reconstitués : {len(rebuilt)}.")


# ---------------------------------------------------------------- reading the history


@dataclass(frozen=True)
class TensionPoint:
    """One day (or one week, dated by its Monday) of the series; `missing` when nothing is known."""

    day: date
    requested: int | None
    filled: int | None
    unfilled: int | None
    available: int | None  # all available volunteers of the scope; None on a rebuilt day
    tension: float | None
    rebuilt: bool = False
    missing: bool = False


@dataclass(frozen=True)
class Change:
    """The change over TREND_DAYS days of one figure, with its arrow (↑ rising, ↓ falling, → stable)."""

    value: float | None

    @property
    def arrow(self) -> str:
        if self.value is None:
            return "–"
        return "→" if abs(self.value) < FLAT_TENSION else ("↑" if self.value > 0 else "↓")


@dataclass(frozen=True)
class AreaTrend:
    code: str
    name: str
    ars_code: str
    unfilled: int | None
    tension: float | None
    unfilled_change: Change
    tension_change: Change


@dataclass(frozen=True)
class TensionHistory:
    step: str
    days: int
    points: list[TensionPoint]
    latest: TensionPoint | None  # the latest day with figures
    unfilled_change: Change
    tension_change: Change
    regions: list[AreaTrend]
    departments: list[AreaTrend]
    recorded_days: int
    rebuilt_days: int
    missing_days: int


@dataclass(frozen=True)
class _Scope:
    ars_code: str | None
    department_code: str | None
    profession_code: str | None


def tension_history(session: so.Session, *, actor: SessionUser | None, ars_code: str | None = None,
                    department_code: str | None = None, profession_code: str | None = None,
                    days: int = DEFAULT_DAYS, step: str = "jour", now: datetime | None = None) -> TensionHistory:
    """The series of the last `days` days (or weeks) of the scope: the whole country for the national roles,
    a region for its ARS (and the national roles), a department of it; with the change over 7 days of
    each region and department."""
    scope = _check_scope(session, actor, ars_code, department_code, profession_code)
    if step not in STEPS:
        raise ValidationError("step", "Le pas doit être « jour » ou « semaine ».")
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError("days", f"La durée doit être comprise entre 1 et {MAX_DAYS} jours.")
    today = paris_today(now or utcnow())
    first = today - timedelta(days=days - 1 + TREND_DAYS)  # a week more: the first days' change is known
    sources = dict(session.execute(sa.select(TensionDay.day, TensionDay.source).where(TensionDay.day >= first)).all())
    by_day = _figures_by(session, scope, first, None)
    daily = [_point(day, sources.get(day), by_day.get(day))
             for day in (first + timedelta(days=offset) for offset in range((today - first).days + 1))]
    latest = next((point for point in reversed(daily) if not point.missing), None)
    shown = daily[TREND_DAYS:]
    previous = {point.day: point for point in daily}.get(latest.day - timedelta(days=TREND_DAYS)) if latest else None
    return TensionHistory(
        step=step, days=days,
        points=shown if step == "jour" else _weekly(shown),
        latest=latest,
        unfilled_change=_change(latest, previous, "unfilled"),
        tension_change=_change(latest, previous, "tension"),
        regions=_area_trends(session, scope, latest, "region") if latest else [],
        departments=_area_trends(session, scope, latest, "department") if latest else [],
        recorded_days=sum(1 for p in shown if not p.missing and not p.rebuilt),
        rebuilt_days=sum(1 for p in shown if p.rebuilt),
        missing_days=sum(1 for p in shown if p.missing),
    )


def _check_scope(session: so.Session, actor: SessionUser | None, ars_code: str | None,
                 department_code: str | None, profession_code: str | None) -> _Scope:
    if department_code is not None:
        region = session.scalar(sa.select(Departement.ars_code).where(Departement.code == department_code))
        if region is None:
            raise ValidationError("department_code", "Ce département n'existe pas.")
        if ars_code is not None and region != ars_code:
            raise ValidationError("department_code", "Ce département ne relève pas de cette ARS.")
        ars_code = region
    if ars_code is None:
        require_role(actor, *NATIONAL_ROLES)
    else:
        actor = require_role(actor, *REGION_ROLES)
        if not sees_region(actor, ars_code):
            raise PermissionDenied("Ces indicateurs relèvent d'une autre ARS.")
        if session.get(Ars, ars_code) is None:
            raise ValidationError("ars_code", "Cette ARS n'existe pas.")
    return _Scope(ars_code, department_code, profession_code)


def _figures_by(session: so.Session, scope: _Scope, first: date, area: str | None,
                only_days: Iterable[date] | None = None) -> dict:
    """Sums of the scope per day (and per region or department with `area`) over the snapshots."""
    s = TensionSnapshot
    waiting = s.posts_unfilled > 0
    group = [s.day] + ([Departement.ars_code] if area == "region" else [s.department_code] if area else [])
    query = (sa.select(*group, sa.func.sum(s.posts_requested), sa.func.sum(s.posts_filled),
                       sa.func.sum(s.posts_unfilled), sa.func.sum(s.available_volunteers),
                       sa.func.sum(sa.case((waiting, s.available_volunteers), else_=0)),
                       sa.func.count(s.available_volunteers), sa.func.count())
             .join(Departement, Departement.code == s.department_code)
             .where(s.day >= first).group_by(*group))
    if only_days is not None:
        query = query.where(s.day.in_(list(only_days)))
    if scope.ars_code:
        query = query.where(Departement.ars_code == scope.ars_code)
    if scope.department_code:
        query = query.where(s.department_code == scope.department_code)
    if scope.profession_code:
        query = query.where(s.profession_code == scope.profession_code)
    result = {}
    for row in session.execute(query):
        key = tuple(row[:len(group)]) if area else row[0]
        requested, filled, unfilled, available, for_needs, known, pairs = row[len(group):]
        complete = known == pairs  # a rebuilt day has no volunteer figure (NULL) in any of its rows
        result[key] = (int(requested or 0), int(filled or 0), int(unfilled or 0),
                       int(available or 0) if complete else None, int(for_needs or 0) if complete else None)
    return result


def _point(day: date, source: str | None, sums: tuple | None) -> TensionPoint:
    if source is None:
        return TensionPoint(day, None, None, None, None, None, missing=True)
    rebuilt = source == TensionSource.RECONSTITUE.value
    requested, filled, unfilled, available, for_needs = sums or (0, 0, 0, None if rebuilt else 0,
                                                                 None if rebuilt else 0)
    return TensionPoint(day, requested, filled, unfilled, available, _tension(unfilled, for_needs), rebuilt=rebuilt)


def _tension(unfilled: int, for_needs: int | None) -> float | None:
    if for_needs is None:  # unknown volunteers: no tension, unless nothing waits
        return 0.0 if unfilled == 0 else None
    return tension(unfilled, for_needs)


def _weekly(points: list[TensionPoint]) -> list[TensionPoint]:
    """Each week (Monday) takes the figures of its last day with figures; missing if it has none."""
    weeks: dict[date, list[TensionPoint]] = defaultdict(list)
    for point in points:
        weeks[point.day - timedelta(days=point.day.weekday())].append(point)
    result = []
    for monday, week in weeks.items():
        known = [point for point in week if not point.missing]
        last = known[-1] if known else TensionPoint(monday, None, None, None, None, None, missing=True)
        result.append(TensionPoint(monday, last.requested, last.filled, last.unfilled, last.available,
                                   last.tension, rebuilt=last.rebuilt, missing=last.missing))
    return result


def _change(latest: TensionPoint | None, previous: TensionPoint | None, figure: str) -> Change:
    if latest is None or previous is None or previous.missing:
        return Change(None)
    now_value, then_value = getattr(latest, figure), getattr(previous, figure)
    if now_value is None or then_value is None:
        return Change(None)
    return Change(round(now_value - then_value, 4))


def _area_trends(session: so.Session, scope: _Scope, latest: TensionPoint, area: str) -> list[AreaTrend]:
    """Each region or department of the scope on the latest day, with its change over 7 days."""
    before = latest.day - timedelta(days=TREND_DAYS)
    known_before = session.scalar(sa.select(TensionDay.source).where(TensionDay.day == before))
    sums = _figures_by(session, scope, before, area, only_days=(latest.day, before))
    names = _area_names(session, scope, area)
    trends = []
    for code, (name, region) in names.items():
        now_point = _point(latest.day, TensionSource.RELEVE.value if not latest.rebuilt
                           else TensionSource.RECONSTITUE.value, sums.get((latest.day, code)))
        then_point = _point(before, known_before, sums.get((before, code)))
        trends.append(AreaTrend(code, name, region, now_point.unfilled, now_point.tension,
                                _change(now_point, then_point, "unfilled"), _change(now_point, then_point, "tension")))
    return trends


def _area_names(session: so.Session, scope: _Scope, area: str) -> dict[str, tuple[str, str]]:
    if area == "region":
        query = sa.select(Ars.code, Ars.name, Ars.code).order_by(Ars.name)
        if scope.ars_code:
            query = query.where(Ars.code == scope.ars_code)
    else:
        query = sa.select(Departement.code, Departement.name, Departement.ars_code).order_by(Departement.code)
        if scope.ars_code:
            query = query.where(Departement.ars_code == scope.ars_code)
        if scope.department_code:
            query = query.where(Departement.code == scope.department_code)
    return {code: (name, region) for code, name, region in session.execute(query)}
