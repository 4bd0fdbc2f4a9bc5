"""Regulation dashboards: the ARS "Indicateurs" and the CCS "Vue nationale" (DESIGN §6).

Every figure is an aggregate computed by the database (GROUP BY, conditional sums, window functions);
Python only reshapes the small result sets (one row per department, region, profession or day) into
the tuples the charts plot. Missions of 0 people (placeholders of account requests) never count, nor
do pending or archived missions; "open needs" are missions with status open.

Definitions shared by both dashboards:
- a mission is *in the period* when [start_date, end_date] overlaps it;
- *posts requested* = sum of `count` over open and filled missions; *posts filled* = proposals in
  state affecte or termine on those missions; *unfilled posts* = count − assigned over open missions;
- *available volunteers* = volunteers with status disponible (and, when a period is chosen, whose
  availability window [available_from, available_to] overlaps it);
- days are Europe/Paris business days; the day series default to the last 30 days up to today.

The pages open on `dashboard_period()` (the last 30 days and the next 60): see its docstring.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.figures import snapshots
from core.shared.actor import SessionUser
from core.shared.clock import paris_midnight, paris_today, utcnow
from core.shared.errors import NotFound, PermissionDenied, ValidationError
from core.shared.permissions import NATIONAL_ROLES, require_role, sees_region
from core.shared.sqlfunc import as_int, greatest, hours_between, paris_date
from db.models import (
    AccountStatus,
    Ars,
    CrisisMode,
    Departement,
    Establishment,
    EstablishmentStatus,
    FiguresSnapshot,
    Membership,
    Mission,
    MissionStatus,
    Profession,
    Professional,
    ProfessionalStatus,
    Proposal,
    ProposalState,
    Role,
    User,
)

DEFAULT_SERIES_DAYS = 30
DASHBOARD_PAST_DAYS = 30  # the dashboards' first period: these past days (today included)…
DASHBOARD_AHEAD_DAYS = 60  # …and these days to come
POSTED = (MissionStatus.OPEN.value, MissionStatus.FILLED.value)  # needs whose posts are requested now
# Missions that were needs at some time (series and time-to-fill); pending and archived never count.
NEEDS = (MissionStatus.OPEN.value, MissionStatus.FILLED.value, MissionStatus.CLOSED.value)
ASSIGNED = (ProposalState.AFFECTE.value, ProposalState.TERMINE.value)
REGION_ROLES = ("ars", *NATIONAL_ROLES)


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError("period", "La date de fin de la période précède sa date de début.")

    def days(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class IndicatorFilters:
    period: Period | None = None
    profession_code: str | None = None
    department_code: str | None = None


def default_period(now: datetime | None = None) -> Period:
    """The last 30 days up to today (Paris)."""
    today = paris_today(now)
    return Period(today - timedelta(days=DEFAULT_SERIES_DAYS - 1), today)


def dashboard_period(now: datetime | None = None) -> Period:
    """The period "Vue nationale" and "Indicateurs" open on: the last 30 days and the next 60 (Paris).

    A crisis centre staffs the needs that are running or about to start: most open missions begin in
    the coming weeks, and a period ending today dropped every one of them from the figures (on the demo,
    most of the open needs). The 30 past days keep the recently filled posts in the fill rate
    and give the activity series their days; 60 days ahead cover the needs an establishment posts in
    advance. The user can still narrow or widen the period."""
    today = paris_today(now)
    return Period(today - timedelta(days=DASHBOARD_PAST_DAYS - 1), today + timedelta(days=DASHBOARD_AHEAD_DAYS))


def activity_period(period: Period, now: datetime | None = None) -> Period | None:
    """The part of `period` up to today, over which the day series are drawn (the days to come have
    no activity yet); None when the period lies wholly in the future."""
    today = paris_today(now)
    if period.start > today:
        return None
    return Period(period.start, min(period.end, today))


# ---------------------------------------------------------------- results (tuples, ready for a small frame)


class DepartmentPosts(NamedTuple):
    department_code: str
    department_name: str
    requested: int
    filled: int


class DayCount(NamedTuple):
    day: date
    open_missions: int


class ProfessionNeeds(NamedTuple):
    profession_code: str
    label: str
    missions: int
    posts: int


class AvailableVolunteers(NamedTuple):
    profession_code: str
    department_code: str
    volunteers: int


class FunnelRow(NamedTuple):
    profession_code: str
    label: str
    registered: int
    verified: int
    solicited: int
    assigned: int


@dataclass(frozen=True)
class RegionIndicators:
    ars_code: str
    ars_name: str
    period: Period  # the period of the day series (the filter's, or the last 30 days)
    posts_by_department: list[DepartmentPosts] = field(default_factory=list)
    open_needs_over_time: list[DayCount] = field(default_factory=list)
    needs_by_profession: list[ProfessionNeeds] = field(default_factory=list)
    available_by_profession_and_department: list[AvailableVolunteers] = field(default_factory=list)
    median_time_to_fill_hours: float | None = None
    funnel: list[FunnelRow] = field(default_factory=list)
    computed_at: datetime | None = None  # set when the worker computed it (core.figures.snapshots); else just now


@dataclass(frozen=True)
class Headline:
    open_missions: int
    posts_requested: int
    posts_filled: int
    fill_rate: float | None
    available_volunteers: int
    pending_account_requests: int
    open_alerts: int


class DepartmentTension(NamedTuple):
    department_code: str
    department_name: str
    ars_code: str
    unfilled_posts: int
    available_same_professions: int
    tension: float | None  # unfilled / available; None when posts are unfilled and nobody is available


class RegionTension(NamedTuple):
    ars_code: str
    name: str
    unfilled_posts: int
    available_same_professions: int
    tension: float | None


class RegionPosts(NamedTuple):
    ars_code: str
    name: str
    requested: int
    filled: int


class ProfessionPosts(NamedTuple):
    profession_code: str
    label: str
    requested: int
    filled: int


class DaySeries(NamedTuple):
    day: date
    missions_created: int
    assignments: int


@dataclass(frozen=True)
class NationalOverview:
    period: Period  # the period of the time series
    headline: Headline
    by_department: list[DepartmentTension] = field(default_factory=list)
    by_region: list[RegionTension] = field(default_factory=list)
    by_region_posts: list[RegionPosts] = field(default_factory=list)
    by_profession_posts: list[ProfessionPosts] = field(default_factory=list)
    time_series: list[DaySeries] = field(default_factory=list)
    crises: list[ActiveCrisis] = field(default_factory=list)  # crisis mode, wherever it is on
    computed_at: datetime | None = None  # set when the worker computed it (core.figures.snapshots); else just now


@dataclass(frozen=True)
class ActiveCrisis:
    """A region in crisis mode for one profession (or all), since when: seen at a glance nationally."""

    ars_code: str
    region: str
    profession: str  # its label, or « toutes professions »
    since: datetime


def active_crises(session: so.Session) -> list[ActiveCrisis]:
    """Every crisis mode switched on and not off, by region then profession."""
    rows = session.execute(
        sa.select(CrisisMode.ars_code, Ars.name, CrisisMode.profession_code, CrisisMode.enabled_at)
        .join(Ars, Ars.code == CrisisMode.ars_code).where(CrisisMode.disabled_at.is_(None))
        .order_by(Ars.name, CrisisMode.profession_code)
    ).all()
    labels = _profession_labels(session)
    return [ActiveCrisis(code, name, labels.get(profession, profession) if profession else "toutes professions",
                         since) for code, name, profession, since in rows]


# ---------------------------------------------------------------- shared SQL pieces


def _mission_scope(filters: IndicatorFilters, statuses: Sequence[str], *, ars_code: str | None = None,
                   with_period: bool = True, joined: bool = False) -> list[sa.ColumnElement[bool]]:
    """Conditions on missions in the filters.

    With `joined`, the query joins Establishment (to group by department) and the conditions name its
    columns; otherwise they go through subqueries on establishment ids and the database scans the
    missions alone."""
    conditions: list[sa.ColumnElement[bool]] = [Mission.count > 0, Mission.status.in_(list(statuses))]
    if filters.profession_code:
        conditions.append(Mission.profession_code == filters.profession_code)
    if with_period and filters.period is not None:
        conditions += [Mission.start_date <= filters.period.end, Mission.end_date >= filters.period.start]
    where: list[sa.ColumnElement[bool]] = []
    if ars_code is not None:
        where.append(Establishment.ars_code == ars_code)
    if filters.department_code:
        where.append(Establishment.department_code == filters.department_code)
    rejected = Establishment.status == EstablishmentStatus.REJECTED.value
    # A rejected account request closes its missions without their ever being open.
    check_rejected = MissionStatus.CLOSED.value in statuses
    if joined:
        conditions += where + ([~rejected] if check_rejected else [])
    else:
        if where:
            conditions.append(Mission.establishment_id.in_(sa.select(Establishment.id).where(*where)))
        if check_rejected:
            conditions.append(Mission.establishment_id.not_in(sa.select(Establishment.id).where(rejected)))
    return conditions


def _missions(*columns: Any, joined: bool = False) -> sa.Select:
    """Missions, joined to their establishment with `joined` (then scope them with joined=True too)."""
    query = sa.select(*columns).select_from(Mission)
    # An outer join (every mission has its establishment): SQLite then scans the missions and looks
    # establishments up by key, instead of walking every establishment's index entries; a condition on
    # the establishment (region, department) turns it back into an inner join driven by that condition.
    return query.outerjoin(Establishment, Establishment.id == Mission.establishment_id) if joined else query


def assigned_by_mission() -> sa.Subquery:
    """Assignments (affecte or termine) per mission: one row per mission that has any."""
    return (
        sa.select(Proposal.mission_id, sa.func.count().label("assigned"))
        .where(Proposal.state.in_(ASSIGNED))
        .group_by(Proposal.mission_id)
        .subquery("assigned_by_mission")
    )


def _with_assigned(query: sa.Select, assigned: sa.Subquery) -> sa.Select:
    return query.outerjoin(assigned, assigned.c.mission_id == Mission.id)


def _volunteer_scope(filters: IndicatorFilters) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.profession_code:
        conditions.append(Professional.profession_code == filters.profession_code)
    if filters.department_code:
        conditions.append(Professional.department_code == filters.department_code)
    return conditions


def _is_available(filters: IndicatorFilters) -> sa.ColumnElement[bool]:
    """Disponible; with a period, also available during it (availability window overlapping it)."""
    conditions: list[sa.ColumnElement[bool]] = [Professional.status == ProfessionalStatus.DISPONIBLE.value]
    if filters.period is not None:
        conditions += [
            sa.or_(Professional.available_from.is_(None), Professional.available_from <= filters.period.end),
            sa.or_(Professional.available_to.is_(None), Professional.available_to >= filters.period.start),
        ]
    return sa.and_(*conditions)


def _per_day(session: so.Session, query: sa.Select, moment: sa.ColumnElement[Any], period: Period,
             *, before_bucket: bool) -> dict[date | None, int]:
    """Counts of `query`'s rows per Paris day of `moment` (up to the end of the period).

    With `before_bucket`, rows before the period are counted under the key None (the starting level
    of an accumulated series); otherwise they are left out."""
    start, end = paris_midnight(period.start), paris_midnight(period.end + timedelta(days=1))
    inner = query.add_columns(moment.label("moment")).where(moment < end)
    if not before_bucket:
        inner = inner.where(moment >= start)
    moments = inner.subquery("moments")
    day = sa.case((moments.c.moment < start, None), else_=paris_date(moments.c.moment)).label("day")
    days = sa.select(day).subquery("days")
    rows = session.execute(sa.select(days.c.day, sa.func.count()).group_by(days.c.day)).all()
    return {_as_date(row[0]): int(row[1]) for row in rows}


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def tension(unfilled: int, available: int) -> float | None:
    if available == 0:
        return None if unfilled > 0 else 0.0
    return unfilled / available


# ---------------------------------------------------------------- ARS "Indicateurs"


def region_indicators(session: so.Session, *, actor: SessionUser | None, ars_code: str,
                      filters: IndicatorFilters | None = None, now: datetime | None = None,
                      series_period: Period | None = None) -> RegionIndicators:
    """The figures of one region (ARS of the region, CCS, ministry, admin).

    `series_period` gives the days of the open-needs series (default: the filter's period, or the
    last 30 days); the pages pass `activity_period(...)` so that the line stops at today."""
    actor = require_role(actor, *REGION_ROLES)
    if not sees_region(actor, ars_code):
        raise PermissionDenied("Ces indicateurs relèvent d'une autre ARS.")
    filters = filters or IndicatorFilters()
    ars_name = session.scalar(sa.select(Ars.name).where(Ars.code == ars_code))
    if ars_name is None:
        raise NotFound("Cette ARS n'existe pas.")
    departments = session.execute(
        sa.select(Departement.code, Departement.name).where(Departement.ars_code == ars_code)
        .order_by(Departement.code)
    ).all()
    if filters.department_code and filters.department_code not in {code for code, _ in departments}:
        raise ValidationError("department_code", "Ce département ne relève pas de cette ARS.")
    now = now or utcnow()
    stored = _stored(session, REGION_SNAPSHOT.format(ars_code), _decode_region, filters, series_period, now)
    return stored or _compute_region_indicators(session, ars_code, ars_name, departments, filters, now, series_period)


def _compute_region_indicators(session: so.Session, ars_code: str, ars_name: str, departments: Sequence[Any],
                               filters: IndicatorFilters, now: datetime,
                               series_period: Period | None) -> RegionIndicators:
    period = series_period or filters.period or default_period(now)
    labels = _profession_labels(session)
    funnel, available = _volunteers(session, ars_code, filters, labels)
    return RegionIndicators(
        ars_code=ars_code,
        ars_name=ars_name,
        period=period,
        posts_by_department=_posts_by_department(session, ars_code, filters, departments),
        open_needs_over_time=_open_needs_over_time(session, ars_code, filters, period),
        needs_by_profession=_needs_by_profession(session, ars_code, filters, labels),
        available_by_profession_and_department=available,
        median_time_to_fill_hours=_median_time_to_fill(session, ars_code, filters),
        funnel=funnel,
    )


def _profession_labels(session: so.Session) -> dict[str, str]:
    return {code: label for code, label in session.execute(sa.select(Profession.code, Profession.label))}


def _posts_by_department(session: so.Session, ars_code: str, filters: IndicatorFilters,
                         departments: Sequence[Any]) -> list[DepartmentPosts]:
    assigned = assigned_by_mission()
    rows = session.execute(
        _with_assigned(_missions(Establishment.department_code, sa.func.sum(Mission.count),
                                 sa.func.sum(sa.func.coalesce(assigned.c.assigned, 0)), joined=True), assigned)
        .where(*_mission_scope(filters, POSTED, ars_code=ars_code, joined=True))
        .group_by(Establishment.department_code)
    ).all()
    figures = {code: (int(requested or 0), int(filled or 0)) for code, requested, filled in rows}
    return [
        DepartmentPosts(code, name, *figures.get(code, (0, 0)))
        for code, name in departments
        if not filters.department_code or code == filters.department_code
    ]


def _open_needs_over_time(session: so.Session, ars_code: str, filters: IndicatorFilters,
                          period: Period) -> list[DayCount]:
    """Open missions at the end of each day: created so far minus filled or closed so far."""
    scope = _mission_scope(filters, NEEDS, ars_code=ars_code, with_period=False)
    created = _per_day(session, _missions().where(*scope), Mission.created_at, period, before_bucket=True)
    stopped_at = sa.case(  # the first of filled_at and closed_at
        (Mission.filled_at.is_(None), Mission.closed_at),
        (sa.or_(Mission.closed_at.is_(None), Mission.filled_at <= Mission.closed_at), Mission.filled_at),
        else_=Mission.closed_at,
    )
    stopped = _per_day(session, _missions().where(*scope, stopped_at.is_not(None)), stopped_at, period,
                       before_bucket=True)
    level = created.get(None, 0) - stopped.get(None, 0)
    series = []
    for day in period.days():
        level += created.get(day, 0) - stopped.get(day, 0)
        series.append(DayCount(day, level))
    return series


def _needs_by_profession(session: so.Session, ars_code: str, filters: IndicatorFilters,
                         labels: dict[str, str]) -> list[ProfessionNeeds]:
    """Open and filled missions and their posts, per profession."""
    rows = session.execute(
        _missions(Mission.profession_code, sa.func.count(), sa.func.sum(Mission.count))
        .where(*_mission_scope(filters, POSTED, ars_code=ars_code))
        .group_by(Mission.profession_code)
    ).all()
    needs = [ProfessionNeeds(code, labels.get(code, code), int(missions), int(posts or 0))
             for code, missions, posts in rows]
    return sorted(needs, key=lambda row: (-row.posts, row.label))


def _median_time_to_fill(session: so.Session, ars_code: str, filters: IndicatorFilters) -> float | None:
    """Median over missions of (first assignment's decided_at − created_at), in hours.

    Ranked with window functions (row_number, and count over the whole set) so that both engines
    compute it in SQL: the middle row, or the mean of the two middle rows."""
    first_assignment = (
        _missions(hours_between(Mission.created_at, sa.func.min(Proposal.decided_at)).label("hours"))
        .join(Proposal, Proposal.mission_id == Mission.id)
        .where(*_mission_scope(filters, NEEDS, ars_code=ars_code), Proposal.state.in_(ASSIGNED),
               Proposal.decided_at.is_not(None))
        .group_by(Mission.id, Mission.created_at)
        .subquery("first_assignment")
    )
    ranked = sa.select(
        first_assignment.c.hours,
        sa.func.row_number().over(order_by=first_assignment.c.hours).label("rank"),
        sa.func.count().over().label("total"),
    ).subquery("ranked")
    median = session.scalar(
        sa.select(sa.func.avg(ranked.c.hours))
        .where(2 * ranked.c.rank >= ranked.c.total, 2 * ranked.c.rank <= ranked.c.total + 2)
    )
    return None if median is None else round(float(median), 2)


def _volunteers(session: so.Session, ars_code: str, filters: IndicatorFilters,
                labels: dict[str, str]) -> tuple[list[FunnelRow], list[AvailableVolunteers]]:
    """The funnel and the available volunteers, from one GROUP BY (profession, department) over the
    region's volunteers, their proposals summed per volunteer beforehand.

    Funnel: registered (not deleted) → verified → solicited (any proposal) → assigned (a proposal
    affecte or termine). With a period, a proposal counts when its mission is in the period."""
    proposals = (
        sa.select(Proposal.professional_id.label("professional_id"),
                  sa.func.max(as_int(Proposal.state.in_(ASSIGNED))).label("assigned"))
        .join(Professional, Professional.id == Proposal.professional_id)
        .where(Professional.ars_code == ars_code)
        .group_by(Proposal.professional_id)
    )
    if filters.period is not None:
        proposals = proposals.join(Mission, Mission.id == Proposal.mission_id).where(
            Mission.start_date <= filters.period.end, Mission.end_date >= filters.period.start)
    solicited = proposals.subquery("solicited")
    rows = session.execute(
        sa.select(
            Professional.profession_code,
            Professional.department_code,
            sa.func.count(),
            sa.func.sum(as_int(Professional.verified.is_(True))),
            sa.func.count(solicited.c.professional_id),
            sa.func.sum(sa.func.coalesce(solicited.c.assigned, 0)),
            sa.func.sum(as_int(_is_available(filters))),
        )
        .outerjoin(solicited, solicited.c.professional_id == Professional.id)
        .where(Professional.ars_code == ars_code, Professional.status != ProfessionalStatus.SUPPRIME.value,
               *_volunteer_scope(filters))
        .group_by(Professional.profession_code, Professional.department_code)
        .order_by(Professional.profession_code, Professional.department_code)
    ).all()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    available: list[AvailableVolunteers] = []
    for profession, department, registered, verified, asked, assigned, free in rows:
        for index, value in enumerate((registered, verified, asked, assigned)):
            totals[profession][index] += int(value or 0)
        if free:
            available.append(AvailableVolunteers(profession, department, int(free)))
    funnel = [FunnelRow(code, labels.get(code, code), *figures) for code, figures in totals.items()]
    return sorted(funnel, key=lambda row: (-row.registered, row.label)), available


# ---------------------------------------------------------------- CCS "Vue nationale"


def national_overview(session: so.Session, *, actor: SessionUser | None,
                      filters: IndicatorFilters | None = None,
                      now: datetime | None = None, series_period: Period | None = None) -> NationalOverview:
    """National tension and posts (CCS, ministry — read-only — and admin).

    `series_period` gives the days of the time series (default: the filter's period, or the last 30
    days); the page passes `activity_period(...)` so that the series stops at today."""
    require_role(actor, *NATIONAL_ROLES)
    filters = filters or IndicatorFilters()
    now = now or utcnow()
    stored = _stored(session, NATIONAL_SNAPSHOT, _decode_overview, filters, series_period, now)
    return stored or compute_national_overview(session, filters, now=now, series_period=series_period)


# ---------------------------------------------------------------- the opening view, computed by the worker

NATIONAL_SNAPSHOT = "national_overview"


def opening_view(now: datetime) -> tuple[IndicatorFilters, Period | None]:
    """The filters and series period « Vue nationale » opens on (pages/national.py): every profession, the
    dashboard's period, its days up to today."""
    filters = IndicatorFilters(period=dashboard_period(now))
    return filters, activity_period(filters.period, now)


REGION_SNAPSHOT = "region_indicators:{}"
# Seconds of regions' indicators a worker pass computes at most (the national overview always): at the scale of
# the whole workforce a region takes seconds, so each pass refreshes the oldest ones and the rest wait their turn.
REGIONS_BUDGET_SECONDS = 10.0


def refresh_figures(session: so.Session, *, now: datetime | None = None,
                    regions_budget_seconds: float = REGIONS_BUDGET_SECONDS) -> str:
    """The worker's job (core.figures.snapshots): the opening views of « Vue nationale » and of each region's
    « Indicateurs », computed and stored for every reader — the national one at each pass, the regions' oldest
    first within the budget (the bench gives an endless one: every region before measuring)."""
    now = now or utcnow()
    national = refresh_national_overview(session, now=now)
    done, regions = refresh_regions(session, now=now, budget_seconds=regions_budget_seconds)
    return f"{national} Indicateurs régionaux précalculés : {done} sur {regions}."


def refresh_regions(session: so.Session, *, now: datetime, budget_seconds: float) -> tuple[int, int]:
    """Regions' opening views, those never computed then the oldest first, until the budget is spent; returns
    (regions refreshed, regions)."""
    filters, series_period = opening_view(now)
    regions = session.execute(sa.select(Ars.code, Ars.name).order_by(Ars.code)).all()
    ages = dict(session.execute(sa.select(FiguresSnapshot.key, FiguresSnapshot.computed_at)
                                .where(FiguresSnapshot.key.like(REGION_SNAPSHOT.format("%")))).all())

    def age(region: Any) -> tuple[bool, datetime]:
        computed = ages.get(REGION_SNAPSHOT.format(region.code))
        return computed is not None, computed or now

    started, done = time.perf_counter(), 0
    for code, name in sorted(regions, key=age):
        if done and time.perf_counter() - started > budget_seconds:  # at least one a pass: every region gets its turn
            break
        departments = session.execute(sa.select(Departement.code, Departement.name)
                                      .where(Departement.ars_code == code).order_by(Departement.code)).all()
        _store(session, REGION_SNAPSHOT.format(code), now, partial(
            _compute_region_indicators, session, code, name, departments, filters, now, series_period))
        done += 1
    return done, len(regions)


def refresh_national_overview(session: so.Session, *, now: datetime | None = None) -> str:
    """The opening view's national overview, computed and stored for everyone."""
    now = now or utcnow()
    filters, series_period = opening_view(now)
    seconds = _store(session, NATIONAL_SNAPSHOT, now, lambda: compute_national_overview(
        session, filters, now=now, series_period=series_period))
    return f"Vue nationale précalculée en {seconds:.1f} s."


def _store(session: so.Session, key: str, now: datetime, compute: Any) -> float:
    """Compute figures and store them under `key` as plain JSON; returns how long the computation took."""
    started = time.perf_counter()
    figures = compute()
    seconds = time.perf_counter() - started
    snapshots.store(session, key, _plain(asdict(figures)), computed_at=now, seconds=seconds)
    return seconds


def _stored(session: so.Session, key: str, decode: Any, filters: IndicatorFilters, series_period: Period | None,
            now: datetime) -> Any:
    """The figures stored under `key` when this is the opening view and they are fresh, with their time; else None."""
    if (filters, series_period) != opening_view(now) or (stored := snapshots.fresh(session, key, now)) is None:
        return None
    payload, computed_at = stored
    return replace(decode(payload), computed_at=computed_at)


def _plain(value: Any) -> Any:
    """JSON-ready: dates as ISO text, tuples as lists."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _decode_region(payload: dict[str, Any]) -> RegionIndicators:
    day = date.fromisoformat
    return RegionIndicators(
        ars_code=payload["ars_code"], ars_name=payload["ars_name"],
        period=Period(day(payload["period"]["start"]), day(payload["period"]["end"])),
        posts_by_department=[DepartmentPosts(*row) for row in payload["posts_by_department"]],
        open_needs_over_time=[DayCount(day(when), count) for when, count in payload["open_needs_over_time"]],
        needs_by_profession=[ProfessionNeeds(*row) for row in payload["needs_by_profession"]],
        available_by_profession_and_department=[AvailableVolunteers(*row) for row in
                                                payload["available_by_profession_and_department"]],
        median_time_to_fill_hours=payload["median_time_to_fill_hours"],
        funnel=[FunnelRow(*row) for row in payload["funnel"]],
    )


def _decode_overview(payload: dict[str, Any]) -> NationalOverview:
    day = date.fromisoformat
    return NationalOverview(
        period=Period(day(payload["period"]["start"]), day(payload["period"]["end"])),
        headline=Headline(**payload["headline"]),
        by_department=[DepartmentTension(*row) for row in payload["by_department"]],
        by_region=[RegionTension(*row) for row in payload["by_region"]],
        by_region_posts=[RegionPosts(*row) for row in payload["by_region_posts"]],
        by_profession_posts=[ProfessionPosts(*row) for row in payload["by_profession_posts"]],
        time_series=[DaySeries(day(when), *counts) for when, *counts in payload["time_series"]],
        crises=[ActiveCrisis(**{**crisis, "since": datetime.fromisoformat(crisis["since"])})
                for crisis in payload["crises"]],
    )


def compute_national_overview(session: so.Session, filters: IndicatorFilters, *, now: datetime,
                              series_period: Period | None = None) -> NationalOverview:
    """The overview computed from the missions, proposals and volunteers themselves (no permission check: the
    caller's, or the worker's, which stores it for everyone — core.figures.snapshots)."""
    departments = session.execute(
        sa.select(Departement.code, Departement.name, Departement.ars_code, Ars.name)
        .join(Ars, Ars.code == Departement.ars_code).order_by(Departement.code)
    ).all()
    if filters.department_code and filters.department_code not in {row[0] for row in departments}:
        raise ValidationError("department_code", "Ce département n'existe pas.")
    period = series_period or filters.period or default_period(now)
    labels = _profession_labels(session)
    posts = posts_by_department_and_profession(session, filters)
    volunteers = available_by_department_and_profession(session, filters)

    # Roll-ups of the two small grouped results (a few hundred rows at most).
    by_department_posts: dict[str, list[int]] = defaultdict(lambda: [0] * len(_Posts._fields))
    by_profession_posts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    needed: set[tuple[str, str]] = set()
    for (department, profession), figures in posts.items():
        for index, value in enumerate(figures):
            by_department_posts[department][index] += value
        by_profession_posts[profession][0] += figures.requested
        by_profession_posts[profession][1] += figures.filled
        if figures.open_missions:
            needed.add((department, profession))
    same_professions: dict[str, int] = defaultdict(int)
    for (department, profession), people in volunteers.items():
        if (department, profession) in needed:
            same_professions[department] += people

    by_department: list[DepartmentTension] = []
    region_names: dict[str, str] = {}
    region_totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # unfilled, available, requested, filled
    for code, name, region, region_name in departments:
        if filters.department_code and code != filters.department_code:
            continue
        figures = _Posts(*by_department_posts[code]) if code in by_department_posts else _NO_POSTS
        people = same_professions.get(code, 0)
        by_department.append(DepartmentTension(code, name, region, figures.unfilled, people,
                                               tension(figures.unfilled, people)))
        region_names[region] = region_name
        for index, value in enumerate((figures.unfilled, people, figures.requested, figures.filled)):
            region_totals[region][index] += value
    regions = sorted(region_names, key=lambda region: region_names[region])
    by_region = [RegionTension(region, region_names[region], region_totals[region][0], region_totals[region][1],
                               tension(region_totals[region][0], region_totals[region][1])) for region in regions]
    by_region_posts = [RegionPosts(region, region_names[region], region_totals[region][2], region_totals[region][3])
                       for region in regions]
    profession_posts = sorted(
        (ProfessionPosts(code, labels.get(code, code), requested, filled)
         for code, (requested, filled) in by_profession_posts.items()),
        key=lambda row: (-row.requested, row.label),
    )

    requested = sum(figures.requested for figures in posts.values())
    filled = sum(figures.filled for figures in posts.values())
    headline = Headline(
        open_missions=sum(figures.open_missions for figures in posts.values()),
        posts_requested=requested,
        posts_filled=filled,
        fill_rate=filled / requested if requested else None,
        available_volunteers=sum(volunteers.values()),
        pending_account_requests=_pending_account_requests(session, filters),
        open_alerts=sum(figures.open_alerts for figures in posts.values()),
    )
    return NationalOverview(
        period=period,
        headline=headline,
        by_department=by_department,
        by_region=by_region,
        by_region_posts=by_region_posts,
        by_profession_posts=profession_posts,
        time_series=_time_series(session, filters, period),
        crises=active_crises(session),
    )


class _Posts(NamedTuple):
    requested: int
    filled: int
    open_missions: int
    unfilled: int
    open_alerts: int


_NO_POSTS = _Posts(0, 0, 0, 0, 0)


def posts_by_department_and_profession(session: so.Session,
                                        filters: IndicatorFilters) -> dict[tuple[str, str], _Posts]:
    """One pass over open and filled missions, grouped by (department, profession)."""
    assigned = assigned_by_mission()
    done = sa.func.coalesce(assigned.c.assigned, 0)
    is_open = Mission.status == MissionStatus.OPEN.value
    rows = session.execute(
        _with_assigned(_missions(
            Establishment.department_code,
            Mission.profession_code,
            sa.func.sum(Mission.count),
            sa.func.sum(done),
            sa.func.sum(as_int(is_open)),
            sa.func.sum(sa.case((is_open, greatest(Mission.count - done, 0)), else_=0)),
            sa.func.sum(as_int(sa.and_(is_open, Mission.ccs_alert_at.is_not(None),
                                       Mission.pools_opened_at.is_(None), Mission.alert_closed_at.is_(None)))),
            joined=True,
        ), assigned)
        .where(*_mission_scope(filters, POSTED, joined=True))
        .group_by(Establishment.department_code, Mission.profession_code)
    ).all()
    return {(row[0], row[1]): _Posts(*(int(value or 0) for value in row[2:])) for row in rows}


def available_by_department_and_profession(session: so.Session,
                                            filters: IndicatorFilters) -> dict[tuple[str, str], int]:
    rows = session.execute(
        sa.select(Professional.department_code, Professional.profession_code, sa.func.count())
        .where(_is_available(filters), *_volunteer_scope(filters))
        .group_by(Professional.department_code, Professional.profession_code)
    ).all()
    return {(department, profession): int(people) for department, profession, people in rows}


def _pending_account_requests(session: so.Session, filters: IndicatorFilters) -> int:
    """Establishment accounts waiting for validation (in the department when one is chosen)."""
    query = sa.select(sa.func.count()).select_from(User).where(
        User.status == AccountStatus.PENDING.value, User.role == Role.ETABLISSEMENT.value)
    if filters.department_code:
        query = query.where(
            sa.select(Membership.user_id)
            .join(Establishment, Establishment.id == Membership.establishment_id)
            .where(Membership.user_id == User.id, Establishment.department_code == filters.department_code)
            .exists())
    return session.scalar(query) or 0


def _time_series(session: so.Session, filters: IndicatorFilters, period: Period) -> list[DaySeries]:
    """Missions created and assignments made (decided_at of affecte/termine proposals) per Paris day."""
    scope = _mission_scope(filters, NEEDS, with_period=False)
    created = _per_day(session, _missions().where(*scope), Mission.created_at, period, before_bucket=False)
    assignments = _per_day(
        session,
        _missions().join(Proposal, Proposal.mission_id == Mission.id).where(*scope, Proposal.state.in_(ASSIGNED)),
        Proposal.decided_at, period, before_bucket=False,
    )
    return [DaySeries(day, created.get(day, 0), assignments.get(day, 0)) for day in period.days()]
