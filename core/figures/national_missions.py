"""« Missions nationales » (issue 13): one list of every region's missions for the CCS, the ministry (read-only)
and admins, and the drill-down region → department → establishment → mission with its breadcrumbs.

The list is the regions' priority queue seen from the whole country: the same urgency score
(core.staffing.regulation.urgency_score, never written twice), the same « assigned » (live assignments) and the
same alert states. It is sorted by that score alone: a manual priority is an ARS's order *within* its region
(1 = its most urgent), which says nothing of another region's, so it is shown beside the score but does not
sort a national list. Filtering, counting and paging happen in SQL.

Each level of the drill-down counts the same filtered missions (open missions, posts requested, unfilled posts,
open alerts), so that a level's figures add up to its parent's and a row's count is the length of the list one
level down. The ministry reads no contact name or phone (its data is pseudonymised, DESIGN §4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.figures.indicators import active_crises
from core.places import reference
from core.shared.actions import NONE, Action, Actions
from core.shared.actor import SessionUser
from core.shared.clock import paris_today, utcnow
from core.shared.errors import NotFound, ValidationError
from core.shared.labels import MISSION_STATUS
from core.shared.permissions import NATIONAL_ROLES, reads_names, regulates, require_role
from core.shared.sqlfunc import as_int
from core.staffing.regulation import ALERT_STATES, alert_state, profession_and_period, urgency_score
from db.models import CrisisMode, Establishment, Mission, MissionStatus, Proposal, ProposalState

MAX_LIMIT = 200  # rows of one page of the list (or of the establishments of a level)

# Urgency levels over the score of core.staffing.regulation (0 to 125 points), the most urgent first: (key, label,
# lowest score). 70 points is, for instance, a mission starting within 3 days (30) with 3 unfilled posts (15)
# waiting for a week (14) and asking for ICU experience (15); 50, one starting within a week (20) with 3 unfilled
# posts waiting for a week; 30, a mission starting within 3 days and nothing else. On the demo data the four
# levels hold about 7 %, 25 %, 45 % and 23 % of the open missions.
URGENCY_LEVELS: tuple[tuple[str, str, int], ...] = (
    ("tres_urgente", "Très urgente", 70),
    ("urgente", "Urgente", 50),
    ("a_surveiller", "À surveiller", 30),
    ("peu_urgente", "Peu urgente", 0),
)
URGENCY_LABELS = {key: label for key, label, _ in URGENCY_LEVELS}
ALERT_FILTERS = {"open": "Alerte CCS en cours", "none": "Sans alerte en cours"}
LEVELS = ("region", "department", "establishment")  # what national_breakdown groups by
OPEN_ALERT = ("waiting", "pools")  # alert states (core.staffing.regulation.ALERT_STATES) of an alert not closed


@dataclass(frozen=True)
class NationalFilters:
    """What the national list is narrowed to; None (or empty) is « all ». A department implies its region and an
    establishment its department: the service resolves the place from the most precise one given."""

    ars_code: str | None = None
    department_code: str | None = None
    establishment_id: int | None = None
    profession_code: str | None = None
    category_code: str | None = None
    period_start: date | None = None  # missions whose dates overlap [period_start, period_end]
    period_end: date | None = None
    urgency_levels: tuple[str, ...] = ()  # keys of URGENCY_LEVELS
    alert: str | None = None  # a key of ALERT_FILTERS
    crisis: bool | None = None  # the mission's region is in crisis mode for its profession (or for all)
    statuses: tuple[str, ...] = (MissionStatus.OPEN.value,)


@dataclass(frozen=True)
class Place:
    """Where a level of the drill-down stands: its breadcrumbs (None: not that deep)."""

    ars_code: str | None = None
    region: str | None = None
    department_code: str | None = None
    department: str | None = None
    establishment_id: int | None = None
    establishment: str | None = None


@dataclass(frozen=True)
class NationalMissionList:
    """One page of the list, with the figures of every mission of the filters (not of the page alone)."""

    rows: list[dict[str, Any]]
    total: int
    offset: int
    place: Place
    posts: int = 0  # posts requested
    unfilled: int = 0  # posts still to fill
    alerts: int = 0  # missions with an alert to the CCS still open


@dataclass(frozen=True)
class Breakdown:
    """One level of the drill-down: a row per region, department or establishment, with its figures."""

    level: str
    rows: list[dict[str, Any]]
    total: int
    place: Place


# ---------------------------------------------------------------- the place of a level


def resolve_place(session: so.Session, filters: NationalFilters) -> Place:
    """The region, department and establishment named by the filters, checked and completed upwards."""
    regions, departments = reference.ars_names(), reference.departements()
    ars_code, department_code = filters.ars_code, filters.department_code
    establishment_id = establishment = None
    if filters.establishment_id is not None:
        row = session.get(Establishment, filters.establishment_id)
        if row is None:
            raise NotFound("Cet établissement n'existe pas.")
        establishment_id, establishment, department_code, ars_code = row.id, row.name, row.department_code, row.ars_code
    if department_code is not None:
        departement = departments.get(department_code)
        if departement is None or departement.ars_code is None:
            raise NotFound(f"Le département « {department_code} » n'existe pas.")
        ars_code = departement.ars_code
    if ars_code is not None and ars_code not in regions:
        raise NotFound(f"La région « {ars_code} » n'existe pas.")
    return Place(ars_code, regions.get(ars_code) if ars_code else None, department_code,
                 departments[department_code].name if department_code else None, establishment_id, establishment)


def _check(filters: NationalFilters) -> None:
    if filters.period_start and filters.period_end and filters.period_end < filters.period_start:
        raise ValidationError("period", "La date de fin de la période précède sa date de début.")
    unknown = [level for level in filters.urgency_levels if level not in URGENCY_LABELS]
    if unknown:
        raise ValidationError("urgency", "Niveau d'urgence inconnu : choisissez-le dans la liste.")
    if filters.alert is not None and filters.alert not in ALERT_FILTERS:
        raise ValidationError("alert", "État d'alerte inconnu : choisissez-le dans la liste.")
    if filters.profession_code and filters.profession_code not in reference.profession_labels():
        raise ValidationError("profession", "Profession inconnue : choisissez-la dans la liste.")
    if filters.category_code and filters.category_code not in reference.category_labels():
        raise ValidationError("category", "Catégorie d'établissement inconnue : choisissez-la dans la liste.")


def _check_page(offset: int, limit: int) -> None:
    if offset < 0 or not 1 <= limit <= MAX_LIMIT:
        raise ValidationError("page", f"Page demandée hors limites (de 1 à {MAX_LIMIT} lignes, à partir de la "
                                      "première).")


# ---------------------------------------------------------------- the filtered missions, in SQL


def _live_counts() -> sa.Subquery:
    """Per mission, its live assignments and its pending solicitations (what the regions' queue counts)."""
    return (
        sa.select(Proposal.mission_id,
                  sa.func.sum(as_int(Proposal.state == ProposalState.AFFECTE.value)).label("assigned"),
                  sa.func.sum(as_int(Proposal.state.in_([ProposalState.CONTACTE.value,
                                                         ProposalState.EN_COURS.value]))).label("waiting"))
        .where(Proposal.state.in_([ProposalState.AFFECTE.value, ProposalState.CONTACTE.value,
                                   ProposalState.EN_COURS.value]))
        .group_by(Proposal.mission_id).subquery("live_counts")
    )


def _in_crisis(now: datetime) -> sa.ColumnElement[bool]:
    """The mission's region is in crisis mode for its profession, or for every profession (as crisis_active)."""
    return sa.exists().where(
        CrisisMode.ars_code == Establishment.ars_code, CrisisMode.enabled_at <= now, CrisisMode.disabled_at.is_(None),
        sa.or_(CrisisMode.profession_code.is_(None), CrisisMode.profession_code == Mission.profession_code))


def _urgency_condition(urgency: sa.ColumnElement[int], levels: tuple[str, ...]) -> sa.ColumnElement[bool]:
    bounds = []
    for position, (key, _, lowest) in enumerate(URGENCY_LEVELS):
        if key in levels:
            above = URGENCY_LEVELS[position - 1][2] if position else None
            bounds.append(sa.and_(urgency >= lowest, *([urgency < above] if above is not None else [])))
    return sa.or_(*bounds)


def _filtered(filters: NationalFilters, place: Place, now: datetime) -> sa.Select:
    """Every mission of the filters with its figures, unordered: the list pages it, the levels group it."""
    counts = _live_counts()
    assigned = sa.func.coalesce(counts.c.assigned, 0)
    urgency = urgency_score(paris_today(now), assigned)
    crisis = _in_crisis(now)
    alert = alert_state()
    open_alert = sa.and_(Mission.ccs_alert_at.is_not(None), alert.in_(OPEN_ALERT))
    conditions: list[sa.ColumnElement[bool]] = [Mission.count > 0]
    if filters.statuses:
        conditions.append(Mission.status.in_(filters.statuses))
    if place.establishment_id is not None:
        conditions.append(Mission.establishment_id == place.establishment_id)
    elif place.department_code is not None:
        conditions.append(Establishment.department_code == place.department_code)
    elif place.ars_code is not None:
        conditions.append(Establishment.ars_code == place.ars_code)
    conditions += profession_and_period(filters.profession_code, filters.period_start, filters.period_end)
    if filters.category_code:
        conditions.append(Establishment.category_code == filters.category_code)
    if filters.urgency_levels:
        conditions.append(_urgency_condition(urgency, filters.urgency_levels))
    if filters.alert is not None:
        conditions.append(open_alert if filters.alert == "open" else ~open_alert)
    if filters.crisis is not None:
        conditions.append(crisis if filters.crisis else ~crisis)
    return (
        sa.select(Mission.id, Mission.profession_code, Mission.specialty, Mission.count, Mission.start_date,
                  Mission.end_date, Mission.needs_vehicle, Mission.needs_weekend, Mission.exp_ehpad,
                  Mission.exp_reanimation, Mission.vaccination, Mission.status, Mission.manual_priority,
                  Mission.ccs_alert_at, Mission.pools_opened_at, Mission.created_at,
                  Establishment.id.label("establishment_id"), Establishment.name.label("establishment"),
                  Establishment.postal_code, Establishment.city, Establishment.category_code,
                  Establishment.department_code, Establishment.ars_code,
                  assigned.label("assigned"), sa.func.coalesce(counts.c.waiting, 0).label("waiting"),
                  urgency.label("urgency"), crisis.label("crisis"), open_alert.label("open_alert"),
                  alert.label("alert_state"))
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .outerjoin(counts, counts.c.mission_id == Mission.id)
        .where(*conditions)
    )


def urgency_level(score: int) -> str:
    """The key of the level a score falls in."""
    return next(key for key, _, lowest in URGENCY_LEVELS if score >= lowest)


def _presented(row: Any, labels: dict[str, dict[str, str]]) -> dict[str, Any]:
    """A mission row with the words a page shows (labels of codes, levels, alert and crisis states)."""
    row = dict(row)
    level = urgency_level(row["urgency"])
    alerted = row["ccs_alert_at"] is not None
    return {**row, "profession": labels["professions"].get(row["profession_code"], row["profession_code"]),
            "category": labels["categories"].get(row["category_code"], row["category_code"]),
            "region": labels["regions"].get(row["ars_code"], row["ars_code"]),
            "department": labels["departments"].get(row["department_code"], row["department_code"]),
            "urgency_level": level, "urgency_label": URGENCY_LABELS[level],
            "unfilled": max(row["count"] - row["assigned"], 0), "crisis": bool(row["crisis"]),
            "open_alert": bool(row["open_alert"]),
            "alert_label": ALERT_STATES[row["alert_state"]] if alerted else "Aucune"}


def _labels() -> dict[str, dict[str, str]]:
    return {"professions": reference.profession_labels(), "categories": reference.category_labels(),
            "regions": reference.ars_names(),
            "departments": {code: d.name for code, d in reference.departements().items()}}


# ---------------------------------------------------------------- services


def national_missions(session: so.Session, *, actor: SessionUser | None, filters: NationalFilters | None = None,
                      offset: int = 0, limit: int = 50, now: datetime | None = None) -> NationalMissionList:
    """Every region's missions of the filters (open ones by default), the most urgent first, one page of them with
    their total; and the place the filters name (the breadcrumbs). National roles only."""
    now = now or utcnow()
    require_role(actor, *NATIONAL_ROLES)
    filters = filters or NationalFilters()
    _check(filters)
    _check_page(offset, limit)
    place = resolve_place(session, filters)
    base = _filtered(filters, place, now)
    missions = base.subquery("missions")
    total, posts, unfilled, alerts = session.execute(sa.select(
        sa.func.count(), sa.func.sum(missions.c.count), sa.func.sum(_unfilled(missions)),
        sa.func.sum(as_int(missions.c.open_alert)))).one()
    urgency = base.selected_columns.urgency
    ordered = base.order_by(urgency.desc(), Mission.start_date, Mission.id).offset(offset).limit(limit)
    labels = _labels()
    rows = [_presented(row, labels) for row in session.execute(ordered).mappings()]
    return NationalMissionList(rows=rows, total=total or 0, offset=offset, place=place, posts=int(posts or 0),
                               unfilled=int(unfilled or 0), alerts=int(alerts or 0))


def national_breakdown(session: so.Session, *, actor: SessionUser | None, level: str,
                       filters: NationalFilters | None = None, offset: int = 0, limit: int = MAX_LIMIT,
                       now: datetime | None = None) -> Breakdown:
    """One level of the drill-down under the filters' place: every region of the country, every department of a
    region (those without missions too, at zero), or the establishments of a department that have missions of the
    filters (paged: a department may have many). Each row counts the filtered missions, their posts requested and
    unfilled, their open alerts and the highest urgency; the most unfilled posts first."""
    now = now or utcnow()
    require_role(actor, *NATIONAL_ROLES)
    if level not in LEVELS:
        raise ValidationError("level", "Niveau inconnu : région, département ou établissement.")
    filters = filters or NationalFilters()
    _check(filters)
    _check_page(offset, limit)
    place = resolve_place(session, filters)
    missions = _filtered(filters, place, now).subquery("missions")
    key = {"region": missions.c.ars_code, "department": missions.c.department_code,
           "establishment": missions.c.establishment_id}[level]
    figures = (
        sa.func.count().label("missions"), sa.func.sum(missions.c.count).label("posts"),
        sa.func.sum(_unfilled(missions)).label("unfilled"),
        sa.func.sum(as_int(missions.c.open_alert)).label("alerts"), sa.func.max(missions.c.urgency).label("top_urgency"),
    )
    grouped = sa.select(key.label("key"), *figures).group_by(key)
    if level == "establishment":
        return _establishments(session, grouped, missions, place, offset, limit)
    found = {row["key"]: row for row in session.execute(grouped).mappings()}
    if level == "region":
        crises = _crises_by_region(session)
        rows = [_level_row(code, name, found.get(code), crisis=crises.get(code))
                for code, name in reference.ars_names().items()
                if place.ars_code is None or code == place.ars_code]
    else:
        rows = [_level_row(d.code, d.name, found.get(d.code)) for d in reference.departements().values()
                if d.ars_code is not None and (place.ars_code is None or d.ars_code == place.ars_code)
                and (place.department_code is None or d.code == place.department_code)]
    rows.sort(key=lambda r: (-r["unfilled"], -r["missions"], r["name"]))
    return Breakdown(level, rows, len(rows), place)


def _unfilled(missions: sa.Subquery) -> sa.ColumnElement[int]:
    return sa.case((missions.c.assigned < missions.c.count, missions.c.count - missions.c.assigned), else_=0)


def _level_row(code: str, name: str, figures: Any, *, crisis: str | None = None) -> dict[str, Any]:
    figures = figures or {}
    return {"code": code, "name": name, "missions": int(figures.get("missions") or 0),
            "posts": int(figures.get("posts") or 0), "unfilled": int(figures.get("unfilled") or 0),
            "alerts": int(figures.get("alerts") or 0), "top_urgency": figures.get("top_urgency"),
            "crisis": crisis}


def _crises_by_region(session: so.Session) -> dict[str, str]:
    """Per region in crisis mode, the professions it covers, in words."""
    words: dict[str, list[str]] = {}
    for crisis in active_crises(session):
        words.setdefault(crisis.ars_code, []).append(crisis.profession)
    return {code: ", ".join(professions) for code, professions in words.items()}


def _establishments(session: so.Session, grouped: sa.Select, missions: sa.Subquery, place: Place, offset: int,
                    limit: int) -> Breakdown:
    total = session.scalar(sa.select(sa.func.count()).select_from(grouped.subquery())) or 0
    figures = grouped.subquery("figures")
    query = (
        sa.select(figures, Establishment.name, Establishment.city, Establishment.postal_code,
                  Establishment.category_code, Establishment.department_code)
        .join(Establishment, Establishment.id == figures.c.key)
        .order_by(figures.c.unfilled.desc(), figures.c.missions.desc(), Establishment.name, Establishment.id)
        .offset(offset).limit(limit)
    )
    categories = reference.category_labels()
    rows = []
    for row in session.execute(query).mappings():
        line = _level_row(row["key"], row["name"], row)
        rows.append({**line, "city": row["city"], "postal_code": row["postal_code"],
                     "department_code": row["department_code"],
                     "category": categories.get(row["category_code"], row["category_code"])})
    return Breakdown("establishment", rows, total, place)


def national_mission(session: so.Session, *, actor: SessionUser | None, mission_id: int,
                     now: datetime | None = None) -> dict[str, Any]:
    """One mission read whatever its status (a shared link may outlive its opening), as a row of the national list
    with its place, criteria and alert; its contact for the CCS and admins, never for the ministry. A regulator may
    propose candidates to it while it is open and short of people."""
    now = now or utcnow()
    require_role(actor, *NATIONAL_ROLES)
    query = _filtered(NationalFilters(statuses=()), Place(), now).where(Mission.id == mission_id)
    found = session.execute(query).mappings().first()
    if found is None:
        raise NotFound("Cette mission n'existe pas.")
    row = _presented(found, _labels())
    mission = session.get(Mission, mission_id)
    shows_contact = reads_names(actor, row["ars_code"])
    row.update(
        place=Place(row["ars_code"], row["region"], row["department_code"], row["department"],
                    row["establishment_id"], row["establishment"]),
        status_label=MISSION_STATUS.get(row["status"], row["status"]),
        ccs_alert_message=mission.ccs_alert_message, alert_closed_at=mission.alert_closed_at,
        contact_name=mission.contact_name if shows_contact else None,
        contact_phone=mission.contact_phone if shows_contact else None, contact_hidden=not shows_contact,
        actions=_mission_actions(actor, row),
    )
    return row


def _mission_actions(actor: SessionUser, row: dict[str, Any]) -> Actions:
    """« Proposer des candidats » for a regulator of the region (the CCS), while the mission still needs people."""
    if regulates(actor, row["ars_code"]) and row["status"] == MissionStatus.OPEN.value and row["unfilled"] > 0:
        return frozenset({Action.PROPOSE})
    return NONE
