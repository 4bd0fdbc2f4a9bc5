"""Matching (DESIGN §4): which volunteers are candidates for a mission, in which order, and why.

Filtering, ranking and paging all happen in SQL. The score is an integer (hundredths of a point)
built from integer parts — distance in tenths of a kilometre, whole days of overlap — so that
SQLite, PostgreSQL and a plain Python implementation (`score_in_python`) give exactly the same
order; ties are broken by the volunteer's id.

Territorial pools (issue 14). For a mission of a member establishment of a pool, the pool's roster members come
first: the order is (roster member first, score, id), a sort key *before* the score and not a weight inside it.
The pool exists so that its members draw first on the staff it sourced and committed to them (the call for
projects' shared replacement pool): as a weight, a long enough distance or a few solicitations would outweigh
membership, and its size would be arbitrary. As a key it splits the list into two groups — the roster, then
everyone else — and each group keeps the documented score's order, fairness term included: among roster members,
as among the others, the least solicited rank higher. Pool-only members (registered with a pool's code, not
released by its coordinator) are candidates only for that pool's member establishments, and for the regulators
(ARS, CCS) of the pool's region; a coordinator sees its own roster only. core.staffing never imports core.pools:
these rules read the pool tables of db.models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.places import reference
from core.shared.actor import SessionUser
from core.shared.clock import paris_datetime, paris_today, utcnow
from core.shared.config import get_settings
from core.shared.distance import bounding_box, distance_dm
from core.shared.errors import Conflict, NotFound, PermissionDenied
from core.shared.permissions import require_actor, sees_region
from core.shared.sqlfunc import as_int, days_between, greatest, least
from core.shared.validation import search_text
from core.staffing.crisis import crisis_active
from core.staffing.transitions import NOTHING_TO_FILL, TURNED_DOWN, accepts_people, candidate_actions
from db.models import (
    LIVE_PROPOSAL_STATES,
    Establishment,
    Mission,
    MissionStatus,
    Mobility,
    PoolMember,
    PoolMemberState,
    PoolRosterEntry,
    Professional,
    ProfessionalStatus,
    Proposal,
    ProposalOrigin,
    ProposalState,
    Role,
    RosterState,
    TerritorialPool,
)

# ---------------------------------------------------------------- the documented score
# Points; the score is stored ×SCALE as an integer. Higher ranks first.
W_DATES = 30  # the volunteer is available over the whole mission (pro rata of the days covered)
W_DISTANCE = 25  # at the establishment's door, falling linearly to 0 at DISTANCE_REFERENCE_KM
DISTANCE_REFERENCE_KM = 200
# The mission's own criteria weigh more than the « vérifié » bonus (issue 13): an establishment asking for EHPAD
# experience wants, first, the candidates who have it. Twice the bonus: at comparable distance (within 80 km,
# 1 point per 8 km) the experienced candidate ranks above a verified one without it.
W_EXPERIENCE = 20  # for each experience the mission asks for (EHPAD, réanimation) that the volunteer has
W_SPECIALTY = 15  # same specialty as the mission's: a criterion of the mission too, above the bonus
W_VERIFIED = 10  # documents checked by the ARS
W_SOLICITATION = 4  # minus, per solicitation in the last SOLICITATION_WINDOW_DAYS (fairness)…
MAX_SOLICITATIONS = 10  # …counted up to this many
W_STALE = 20  # minus, when availability has not been confirmed for STALE_AFTER_DAYS
# Minus, when the volunteer declined a mission at least as far as « trop loin » (Professional.too_far_dm): their own
# word on the distance, worth as much as being available over the whole mission — they come after those who may go.
W_TOO_FAR = 30
SOLICITATION_WINDOW_DAYS = 30
STALE_AFTER_DAYS = 30
SCALE = 100
REFERENCE_DM = DISTANCE_REFERENCE_KM * 10
PAGE_SIZE = 20
MAP_LIMIT = 5000
# « Pourquoi ce rang » of a roster member of the mission's pool: why it stands above higher scores.
ROSTER_FIRST = "Vivier de votre plateforme : en tête"

LIVE = [s.value for s in LIVE_PROPOSAL_STATES]
CLOSED_REASONS = {
    MissionStatus.PENDING.value: "Cette mission attend la validation du compte par l'ARS : pas encore de candidats.",
    MissionStatus.FILLED.value: "Cette mission est pourvue : elle n'a plus de candidats.",
    MissionStatus.CLOSED.value: "Cette mission est clôturée : elle n'a plus de candidats.",
    MissionStatus.ARCHIVED.value: "Cette mission est archivée.",
}


@dataclass(frozen=True)
class CandidateFilters:
    """The filter widgets above the table; every one is applied in SQL, to the table and the map."""

    text: str = ""
    statuses: tuple[str, ...] = ()  # professional statuses; empty = all
    max_distance_km: float | None = None
    mobilities: tuple[str, ...] = ()
    verified_only: bool = False
    exp_ehpad: bool = False
    exp_reanimation: bool = False
    exp_vaccination: bool = False
    whole_period: bool = False  # available over every day of the mission


@dataclass(frozen=True)
class MissionContext:
    """What matching needs of a mission and its establishment (plain values, no ORM)."""

    mission_id: int
    establishment_id: int
    establishment_name: str
    profession_code: str
    specialty: str | None
    count: int
    status: str
    start_date: date
    end_date: date
    needs_vehicle: bool
    needs_weekend: bool
    exp_ehpad: bool
    exp_reanimation: bool
    vaccination: bool
    pools_opened: bool
    lat: float
    lon: float
    department_code: str
    ars_code: str
    pool_id: int | None = None  # the open territorial pool the establishment is a member of


@dataclass
class CandidatePage:
    mission: MissionContext
    rows: list[dict[str, Any]]
    total: int
    offset: int
    reserved_elsewhere: int
    map_points: list[dict[str, Any]] = field(default_factory=list)
    crisis: bool = False
    message: str | None = None  # why there is nobody, when there is nobody
    turned_down: list[dict[str, Any]] = field(default_factory=list)  # shown apart: never offered again
    interested: list[dict[str, Any]] = field(default_factory=list)  # said « intéressé(e) », wait for a decision
    roster_only: bool = False  # a pool's coordinator: every row is of its roster, no group to tell apart


# ---------------------------------------------------------------- access


def member_pool(establishment_id: Any) -> sa.ScalarSelect[int]:
    """The open pool an establishment is a member of (one at most: the pool_member partial unique index)."""
    return (sa.select(PoolMember.pool_id).join(TerritorialPool, TerritorialPool.id == PoolMember.pool_id)
            .where(PoolMember.establishment_id == establishment_id, PoolMember.state == PoolMemberState.MEMBRE.value,
                   TerritorialPool.closed_at.is_(None))
            .limit(1).scalar_subquery())


def load_mission_context(session: so.Session, *, mission_id: int) -> MissionContext:
    row = session.execute(
        sa.select(Mission, Establishment, member_pool(Establishment.id))
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .where(Mission.id == mission_id)
    ).one_or_none()
    if row is None:
        raise NotFound("Cette mission n'existe pas.")
    mission, establishment, pool_id = row
    return MissionContext(
        mission_id=mission.id, establishment_id=establishment.id, establishment_name=establishment.name,
        profession_code=mission.profession_code, specialty=mission.specialty, count=mission.count,
        status=mission.status, start_date=mission.start_date, end_date=mission.end_date,
        needs_vehicle=mission.needs_vehicle, needs_weekend=mission.needs_weekend, exp_ehpad=mission.exp_ehpad,
        exp_reanimation=mission.exp_reanimation, vaccination=mission.vaccination,
        pools_opened=mission.pools_opened_at is not None, lat=establishment.lat, lon=establishment.lon,
        department_code=establishment.department_code, ars_code=establishment.ars_code, pool_id=pool_id,
    )


NOT_A_MEMBER_MISSION = ("Cette mission n'est pas celle d'un établissement membre de votre plateforme territoriale : "
                        "vous ne pouvez pas lui proposer de candidats.")


def viewer_kind(actor: SessionUser | None, context: MissionContext) -> str:
    """'establishment' for the mission's own establishment, 'regulator' for its ARS or the CCS, 'pool' for the
    coordinator of the pool its establishment is a member of (who sees and pushes its roster only)."""
    actor = require_actor(actor)
    if actor.role == "etablissement" and context.establishment_id in actor.establishment_ids:
        return "establishment"
    if actor.role in ("ars", "ccs") and sees_region(actor, context.ars_code):
        return "regulator"
    if actor.role == Role.POOL.value:
        if context.pool_id is not None and actor.pool_id == context.pool_id:
            return "pool"
        raise PermissionDenied(NOT_A_MEMBER_MISSION)
    raise PermissionDenied("Vous n'avez pas accès aux candidats de cette mission.")


# ---------------------------------------------------------------- SQL pieces


def _distance(context: MissionContext) -> sa.ColumnElement[int]:
    return sa.func.distance_dm(Professional.lat, Professional.lon, context.lat, context.lon, type_=sa.Integer)


def _overlap_days(context: MissionContext) -> sa.ColumnElement[int]:
    start = greatest(sa.func.coalesce(Professional.available_from, context.start_date), context.start_date)
    end = least(sa.func.coalesce(Professional.available_to, context.end_date), context.end_date)
    return greatest(days_between(start, end) + 1, 0)


def _live_for_mission(context: MissionContext) -> sa.CTE:
    return (
        sa.select(Proposal.professional_id, Proposal.id.label("proposal_id"), Proposal.state, Proposal.origin,
                  Proposal.interested_at)
        .where(Proposal.mission_id == context.mission_id, Proposal.state.in_(LIVE))
        .cte("live").prefix_with("MATERIALIZED")
    )


def _turned_down(context: MissionContext) -> sa.ColumnElement[bool]:
    """This volunteer refused, declined or had an assignment cancelled for this mission (TURNED_DOWN). An
    uncorrelated IN over the mission's few such proposals, computed once — not a lookup for each candidate."""
    return Professional.id.in_(sa.select(Proposal.professional_id)
                               .where(Proposal.mission_id == context.mission_id, Proposal.state.in_(TURNED_DOWN)))


def _roster_members(pool_id: int) -> sa.Select:
    """The volunteers on a pool's roster (accepted invitations and registrations with its code)."""
    return sa.select(PoolRosterEntry.professional_id).where(PoolRosterEntry.pool_id == pool_id,
                                                            PoolRosterEntry.state == RosterState.MEMBRE.value)


# Both pool conditions are uncorrelated subqueries (IN / NOT IN a small set of ids, computed once per query), not
# an EXISTS evaluated for each of the thousands of volunteers a mission's area holds.


def _on_roster(context: MissionContext) -> sa.ColumnElement[int]:
    """1 for a roster member of the mission's pool — the sort key before the score (module docstring) —, else 0."""
    if context.pool_id is None:
        return sa.literal(0, sa.Integer)
    return as_int(Professional.id.in_(_roster_members(context.pool_id)))


def _pool_only_elsewhere(context: MissionContext, viewer: str) -> sa.ColumnElement[bool]:
    """A pool-only member (registered with a pool's code, not released to the national pool) of a pool whose
    candidates this viewer may not see: the regulators see those of the mission's region's pools, an
    establishment and a coordinator those of the mission's own pool."""
    restricted = sa.select(PoolRosterEntry.professional_id).where(
        PoolRosterEntry.state == RosterState.MEMBRE.value, PoolRosterEntry.pool_only.is_(True),
        PoolRosterEntry.released_at.is_(None))
    if viewer == "regulator":
        restricted = restricted.where(PoolRosterEntry.pool_id.not_in(
            sa.select(TerritorialPool.id).where(TerritorialPool.ars_code == context.ars_code)))
    elif context.pool_id is not None:
        restricted = restricted.where(PoolRosterEntry.pool_id != context.pool_id)
    return Professional.id.in_(restricted)


def _solicitations(now: datetime) -> sa.ScalarSelect[int]:
    """Per candidate (index proposal(professional_id, created_at)), not a count over every proposal."""
    since = now - timedelta(days=SOLICITATION_WINDOW_DAYS)
    return (
        sa.select(sa.func.count()).select_from(Proposal)
        .where(Proposal.professional_id == Professional.id, Proposal.created_at >= since)
        .correlate(Professional).scalar_subquery()
    )


def _geography(context: MissionContext, distance: sa.ColumnElement[int], local_radius_km: float) -> sa.ColumnElement[bool]:
    """Rule 4: each volunteer's declared mobility, measured from the establishment."""
    box = bounding_box(context.lat, context.lon, local_radius_km)
    national = Professional.ars_code == context.ars_code
    if context.pools_opened:
        national = sa.true()  # the CCS opened the other regions' pools for this mission
    return sa.or_(
        sa.and_(Professional.mobility == Mobility.LOCALE.value,
                Professional.lat.between(box.min_lat, box.max_lat),
                Professional.lon.between(box.min_lon, box.max_lon),
                distance <= int(local_radius_km * 10)),
        sa.and_(Professional.mobility == Mobility.DEPARTEMENTALE.value,
                Professional.department_code == context.department_code),
        sa.and_(Professional.mobility == Mobility.REGIONALE.value, Professional.ars_code == context.ars_code),
        sa.and_(Professional.mobility == Mobility.NATIONALE.value, national),
    )


def _eligibility(context: MissionContext, today: date, distance: sa.ColumnElement[int]) -> list[Any]:
    """Rules 1 to 4: profession, vehicle and weekend, availability, geography."""
    conditions: list[Any] = [Professional.profession_code == context.profession_code]
    if context.vaccination:
        conditions.append(Professional.volunteer_vaccination.is_(True))
        if not reference.is_eligible_vaccination(context.profession_code):
            conditions.append(sa.false())
    if context.needs_vehicle:
        conditions.append(Professional.has_vehicle.is_(True))
    if context.needs_weekend:
        conditions.append(Professional.available_weekend.is_(True))
    conditions.append(sa.or_(Professional.available_to.is_(None), Professional.available_to >= today))
    radius = get_settings().local_radius_km
    conditions.append(_prefilter(context, radius))
    conditions.append(_geography(context, distance, radius))
    return conditions


def _prefilter(context: MissionContext, local_radius_km: float) -> sa.ColumnElement[bool]:
    """A cheap superset of rule 4 that indexes can answer — the region, or the bounding box of the local
    radius across its border — so that distances are computed for a few thousand rows, not 100,000."""
    if context.pools_opened:
        return sa.true()
    box = bounding_box(context.lat, context.lon, local_radius_km)
    return sa.or_(Professional.ars_code == context.ars_code,
                  sa.and_(Professional.lat.between(box.min_lat, box.max_lat),
                          Professional.lon.between(box.min_lon, box.max_lon)))


def _score(context: MissionContext, distance: sa.ColumnElement[int], overlap: sa.ColumnElement[int],
           solicitations: sa.ColumnElement[int], now: datetime) -> sa.ColumnElement[int]:
    mission_days = (context.end_date - context.start_date).days + 1
    stale_before = now - timedelta(days=STALE_AFTER_DAYS)
    specialty = (context.specialty or "").strip().lower()
    parts = [
        # Integer division (//) on non-negative operands: the same result in SQLite, PostgreSQL and Python.
        (W_DATES * SCALE * overlap) // mission_days,
        (W_DISTANCE * SCALE * greatest(REFERENCE_DM - distance, 0)) // REFERENCE_DM,
        W_VERIFIED * SCALE * as_int(Professional.verified.is_(True)),
        -W_SOLICITATION * SCALE * least(solicitations, MAX_SOLICITATIONS),
        -W_STALE * SCALE * as_int(Professional.availability_confirmed_at < stale_before),
        -W_TOO_FAR * SCALE * as_int(sa.and_(Professional.too_far_dm.is_not(None), distance >= Professional.too_far_dm)),
    ]
    if context.exp_ehpad:
        parts.append(W_EXPERIENCE * SCALE * as_int(Professional.exp_ehpad.is_(True)))
    if context.exp_reanimation:
        parts.append(W_EXPERIENCE * SCALE * as_int(Professional.exp_reanimation.is_(True)))
    if specialty:
        parts.append(W_SPECIALTY * SCALE * as_int(sa.func.lower(sa.func.trim(Professional.specialty)) == specialty))
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def _filters(filters: CandidateFilters, distance: sa.ColumnElement[int], overlap: sa.ColumnElement[int],
             mission_days: int) -> list[Any]:
    conditions: list[Any] = []
    text = search_text(filters.text).lower()
    if text:
        pattern = f"%{text}%"
        conditions.append(sa.or_(sa.func.lower(Professional.last_name).like(pattern),
                                 sa.func.lower(Professional.first_name).like(pattern),
                                 sa.func.lower(Professional.city).like(pattern),
                                 Professional.postal_code.like(pattern)))
    if filters.statuses:
        conditions.append(Professional.status.in_(filters.statuses))
    if filters.max_distance_km is not None:
        conditions.append(distance <= int(filters.max_distance_km * 10))
    if filters.mobilities:
        conditions.append(Professional.mobility.in_(filters.mobilities))
    if filters.verified_only:
        conditions.append(Professional.verified.is_(True))
    for flag, column in ((filters.exp_ehpad, Professional.exp_ehpad),
                         (filters.exp_reanimation, Professional.exp_reanimation),
                         (filters.exp_vaccination, Professional.exp_vaccination)):
        if flag:
            conditions.append(column.is_(True))
    if filters.whole_period:
        conditions.append(overlap >= mission_days)
    return conditions


@dataclass(frozen=True)
class _Query:
    base: sa.Select  # eligible candidates with their computed columns, before the viewer's filters
    live: sa.Subquery


def candidate_query(context: MissionContext, viewer: str, crisis: bool, now: datetime,
                    *, with_reserved: bool = False) -> _Query:
    """Eligible, visible candidates with their computed columns. With `with_reserved`, volunteers
    reserved for another mission come too, flagged `reserved`, so that one pass also counts them. `viewer` is
    'establishment', 'regulator' or 'pool' (viewer_kind): a coordinator ('pool') sees its roster only."""
    today = paris_today(now)
    distance = _distance(context).label("distance_dm")
    overlap = _overlap_days(context).label("overlap_days")
    live = _live_for_mission(context)
    solicitations = _solicitations(now)
    score = _score(context, distance, overlap, solicitations, now).label("score")
    visible = sa.or_(Professional.status == ProfessionalStatus.DISPONIBLE.value, live.c.proposal_id.is_not(None))
    if viewer == "establishment" and crisis:
        # Rule 6: the ARS proposes. Volunteers already linked to this mission (pushed, or contacted and
        # assigned before the switch) stay visible so that the establishment can still decide on them.
        visible = live.c.proposal_id.is_not(None)
    visible = sa.and_(visible, ~_turned_down(context))
    elsewhere = sa.and_(live.c.proposal_id.is_(None), Professional.status.in_(LIVE))
    # A pool-only member stays hidden from whoever may not see them — unless already linked to this mission
    # (the region's ARS pushed them to it): its establishment must then be able to answer.
    unseen = sa.and_(live.c.proposal_id.is_(None), _pool_only_elsewhere(context, viewer))
    columns = [Professional.id, distance, overlap, solicitations.label("solicitations"), score,
               _on_roster(context).label("roster"), live.c.state.label("proposal_state"),
               live.c.origin.label("proposal_origin"), live.c.interested_at.label("interested_at")]
    if with_reserved:
        columns.append(as_int(elsewhere).label("reserved"))
    conditions = [*_eligibility(context, today, distance), ~unseen]
    if viewer == "pool":
        conditions.append(Professional.id.in_(_roster_members(context.pool_id)))
    base = (
        sa.select(*columns)
        .outerjoin(live, live.c.professional_id == Professional.id)
        .where(*conditions, sa.or_(visible, elsewhere) if with_reserved else visible)
    )
    return _Query(base=base, live=live)


# ---------------------------------------------------------------- the service


def _empty_message(session: so.Session, context: MissionContext, crisis: bool, filtered: bool,
                   reserved: int, viewer: str) -> str:
    profession = reference.profession_labels()[context.profession_code]
    if viewer == "establishment" and crisis:
        ars = reference.ars_names()[context.ars_code]
        return (f"L'ARS {ars} a activé le mode gestion de crise pour la profession « {profession} » : c'est elle "
                "qui propose les candidats. Ceux qu'elle vous proposera apparaîtront ici.")
    if filtered:
        return "Aucun professionnel ne correspond à ces filtres : élargissez-les (distance, statut, expériences…)."
    if viewer == "pool":
        return ("Aucun membre du vivier de la plateforme ne correspond à cette mission (profession, zone de mobilité, "
                "disponibilités) ou tous sont déjà sollicités : invitez des volontaires de la région depuis « Vivier ».")
    parts = [f"Aucun professionnel disponible ne correspond : profession « {profession} »"]
    if context.vaccination:
        parts.append("volontaire pour la vaccination")
    if context.needs_vehicle:
        parts.append("avec véhicule")
    if context.needs_weekend:
        parts.append("disponible le week-end")
    text = ", ".join(parts) + ", dans la zone de mobilité déclarée par chaque volontaire."
    if reserved:
        text += f" {reserved} professionnel(s) correspondant(s) sont déjà réservés par d'autres établissements."
    return text + " Vous pouvez alerter votre ARS."


def find_candidates(session: so.Session, *, actor: SessionUser | None, mission_id: int,
                    filters: CandidateFilters | None = None, offset: int = 0, limit: int = PAGE_SIZE,
                    now: datetime | None = None) -> CandidatePage:
    """One page of ranked candidates, their total, the map points of the whole filtered set, and why
    the list is empty when it is."""
    now = now or utcnow()
    filters = filters or CandidateFilters()
    context = load_mission_context(session, mission_id=mission_id)
    viewer = viewer_kind(actor, context)
    crisis = crisis_active(session, ars_code=context.ars_code, profession_code=context.profession_code, now=now)
    page = CandidatePage(mission=context, rows=[], total=0, offset=offset, reserved_elsewhere=0, crisis=crisis,
                         roster_only=viewer == "pool")
    if not accepts_people(context.status, context.count):
        page.message = CLOSED_REASONS.get(context.status, NOTHING_TO_FILL)
        return page
    page.turned_down = turned_down(session, mission_id=mission_id)
    page.interested = waiting_decision(session, mission_id=mission_id)
    query = candidate_query(context, viewer, crisis, now, with_reserved=True)
    mission_days = (context.end_date - context.start_date).days + 1
    cols = query.base.selected_columns
    # Those assigned to this mission are no longer candidates: « Voir affectation professionnels » lists them.
    assigned_here = sa.and_(cols.proposal_state.is_not(None), cols.proposal_state == ProposalState.AFFECTE.value)
    # The map's columns ride along in the same scan (a join back to the volunteers by id cost a second visit of
    # every row's page).
    filtered = (query.base.add_columns(*MAP_COLUMNS)
                .where(*_filters(filters, cols.distance_dm, cols.overlap_days, mission_days), ~assigned_here)
                .subquery("c"))
    # One ranked pass over the whole filtered set feeds the map, the total, the count of volunteers
    # reserved elsewhere and the page's ids; the page's details are then read for those ids only.
    # Thousands of plain rows: read through the connection, without the ORM's per-row bookkeeping.
    # The totals ride along as window aggregates over the whole set: beyond the map's cap, counting them apart
    # ran the whole ranking twice more (seconds for the 28,000 nurses of a region of the whole workforce).
    result = session.connection().execute(
        sa.select(filtered.c.id, filtered.c.reserved, filtered.c.distance_dm, filtered.c.proposal_state,
                  *(filtered.c[column.key] for column in MAP_COLUMNS),
                  sa.func.count().over().label("everyone"), sa.func.sum(filtered.c.reserved).over().label("held"))
        .order_by(filtered.c.reserved, *rank(filtered)).limit(MAP_LIMIT + 1)
    )
    keys = list(result.keys())
    ranked = [dict(zip(keys, row, strict=True)) for row in result.fetchall()]
    shown = [row for row in ranked if not row["reserved"]]
    page.map_points = shown[:MAP_LIMIT]
    held = int(ranked[0]["held"] or 0) if ranked else 0
    page.reserved_elsewhere, page.total = held, (int(ranked[0]["everyone"]) - held if ranked else 0)
    if page.total == 0:
        page.message = _empty_message(session, context, crisis, filtered=filters != CandidateFilters(),
                                      reserved=page.reserved_elsewhere, viewer=viewer)
        return page
    if offset + limit <= len(shown) or len(shown) == page.total:
        ids = [row["id"] for row in shown[offset:offset + limit]]
    else:  # a page beyond the map's cap: cut by the database itself
        ids = list(session.scalars(sa.select(filtered.c.id).where(filtered.c.reserved == 0)
                                   .order_by(*rank(filtered)).offset(offset).limit(limit)))
    page.rows = _rows_for(session, query, context, now, ids, roster_first=not page.roster_only)
    for row in page.rows:
        row["actions"] = candidate_actions(viewer, actor.role, row["proposal_state"], row["status"])
    return page


MAP_COLUMNS = (Professional.lat, Professional.lon, Professional.first_name, Professional.last_name, Professional.city)


def rank(candidates: sa.Subquery) -> tuple[Any, ...]:
    """The candidates' order: the pool's roster first (a key, see the module docstring), then the score, then the
    id for ties."""
    return candidates.c.roster.desc(), candidates.c.score.desc(), candidates.c.id


TURNED_DOWN_WORDS = {
    ProposalState.DECLINE.value: "{name} a décliné cette mission le {day}",
    ProposalState.REFUSE.value: "{name} a été refusé(e) pour cette mission le {day}",
    ProposalState.ANNULE.value: "L'affectation de {name} à cette mission a été annulée le {day}",
}


INTEREST_WORDS = {  # what the establishment does next with a volunteer who said « intéressé(e) »
    ProposalState.CONTACTE.value: "{name}, le {day} : cochez sa ligne puis « Valider les candidatures »",
    ProposalState.EN_COURS.value: "{name}, le {day}, proposé(e) par l'ARS : cochez sa ligne, « Contacter », puis "
                                  "« Valider les candidatures »",
}


def waiting_decision(session: so.Session, *, mission_id: int) -> list[dict[str, Any]]:
    """The volunteers who said « intéressé(e) » for this mission and still wait for the establishment, first come
    first, each with the sentence that says what to do: on any page of the list, they are not to be missed."""
    rows = session.execute(
        sa.select(Proposal.professional_id, Proposal.state, Proposal.interested_at, Professional.first_name,
                  Professional.last_name)
        .join(Professional, Professional.id == Proposal.professional_id)
        .where(Proposal.mission_id == mission_id, Proposal.state.in_(list(INTEREST_WORDS)),
               Proposal.interested_at.is_not(None))
        .order_by(Proposal.interested_at, Proposal.id)).mappings()
    return [{**row, "sentence": INTEREST_WORDS[row["state"]].format(
        name=f"{row['first_name']} {row['last_name']}", day=paris_datetime(row["interested_at"]))} for row in rows]


def turned_down(session: so.Session, *, mission_id: int,
                professional_id: int | None = None) -> list[dict[str, Any]]:
    """The volunteers this mission may never be offered again (TURNED_DOWN), latest first, each with the French
    sentence that says why and since when."""
    query = (sa.select(Proposal.professional_id, Proposal.state, Proposal.reason_code,
                       sa.func.coalesce(Proposal.decided_at, Proposal.created_at).label("at"),
                       Professional.first_name, Professional.last_name)
             .join(Professional, Professional.id == Proposal.professional_id)
             .where(Proposal.mission_id == mission_id, Proposal.state.in_(TURNED_DOWN))
             .order_by(sa.text("at DESC"), Proposal.id.desc()))
    if professional_id is not None:
        query = query.where(Proposal.professional_id == professional_id)
    rows, seen = [], set()
    for row in session.execute(query).mappings():
        if row["professional_id"] in seen:
            continue
        seen.add(row["professional_id"])
        name = f"{row['first_name']} {row['last_name']}"
        rows.append({**row, "name": name, "sentence": TURNED_DOWN_WORDS[row["state"]].format(
            name=name, day=paris_datetime(row["at"]))})
    return rows


def refuse_if_turned_down(session: so.Session, *, mission_id: int, professional_id: int) -> None:
    """A contact, a push or an assignment of a volunteer this mission may not be offered again: refused."""
    found = turned_down(session, mission_id=mission_id, professional_id=professional_id)
    if found:
        raise Conflict(f"{found[0]['sentence']} : elle ne peut plus lui être proposée.")


def _rows_for(session: so.Session, query: _Query, context: MissionContext, now: datetime,
              ids: list[int], *, roster_first: bool = True) -> list[dict[str, Any]]:
    """Every column of the table for the page's volunteers (found by primary key), in rank order; `roster_first`:
    « Pourquoi ce rang » says why a roster member stands first (not for a coordinator, who sees its roster only)."""
    if not ids:
        return []
    rows = session.execute(query.base.add_columns(*_display_columns()).where(Professional.id.in_(ids))).mappings()
    by_id = {row["id"]: row for row in rows}
    return [_candidate_row(by_id[i], context, now, roster_first) for i in ids if i in by_id]


def _display_columns() -> list[Any]:
    # DESIGN §4's public fields: no RPPS/ADELI, no message, no contact (the sheet shows them to those linked).
    return [Professional.first_name, Professional.last_name, Professional.postal_code, Professional.city,
            Professional.profession_code, Professional.specialty, Professional.available_from,
            Professional.available_to, Professional.exp_ehpad, Professional.exp_reanimation,
            Professional.exp_vaccination, Professional.has_vehicle,
            Professional.mobility, Professional.status, Professional.verified,
            Professional.availability_confirmed_at, Professional.too_far_dm, Professional.lat, Professional.lon]


def is_stale(availability_confirmed_at: datetime, now: datetime) -> bool:
    """Availability not confirmed for more than STALE_AFTER_DAYS: ranked lower and flagged."""
    return availability_confirmed_at < now - timedelta(days=STALE_AFTER_DAYS)


def _candidate_row(row: Any, context: MissionContext, now: datetime, roster_first: bool = True) -> dict[str, Any]:
    values = dict(row)
    stale = is_stale(values["availability_confirmed_at"], now)
    values["distance_km"] = values["distance_dm"] / 10
    values["stale"] = stale
    values["warnings"] = missing_experience(context, values)
    values["score_parts"] = row_score_parts(context, values, stale)
    values["pool_roster"] = bool(values["roster"])
    values["pool_push"] = (values["proposal_state"] == ProposalState.EN_COURS.value
                           and values["proposal_origin"] == ProposalOrigin.POOL.value)
    values["reasons"] = reasons(context, values, values["score_parts"], stale, roster_first=roster_first)
    return values


def missing_experience(context: MissionContext, values: dict[str, Any]) -> list[str]:
    """The experience the mission asks for and the volunteer lacks (a warning badge, not a filter)."""
    missing = []
    if context.exp_reanimation and not values["exp_reanimation"]:
        missing.append("sans expérience en réanimation")
    if context.exp_ehpad and not values["exp_ehpad"]:
        missing.append("sans expérience en EHPAD")
    return missing


def score_parts(context: MissionContext, *, distance_dm: int, overlap_days: int, verified: bool, solicitations: int,
                stale: bool, exp_ehpad: bool, exp_reanimation: bool, specialty: str | None,
                too_far_dm: int | None) -> dict[str, int]:
    """Each part of the score (×SCALE), as the SQL of `_score` computes it: « Pourquoi ce rang » shows them, and
    `score_in_python` is their sum."""
    mission_days = (context.end_date - context.start_date).days + 1
    wanted = (context.specialty or "").strip().lower()
    criteria = (W_EXPERIENCE * SCALE * int(context.exp_ehpad and bool(exp_ehpad))
                + W_EXPERIENCE * SCALE * int(context.exp_reanimation and bool(exp_reanimation))
                + W_SPECIALTY * SCALE * int(bool(wanted) and (specialty or "").strip().lower() == wanted))
    return {
        "distance": W_DISTANCE * SCALE * max(REFERENCE_DM - distance_dm, 0) // REFERENCE_DM,
        "dates": W_DATES * SCALE * overlap_days // mission_days,
        "criteria": criteria,
        "verified": W_VERIFIED * SCALE * int(bool(verified)),
        "solicitations": -W_SOLICITATION * SCALE * min(solicitations, MAX_SOLICITATIONS),
        "freshness": -W_STALE * SCALE * int(stale),
        "too_far": -W_TOO_FAR * SCALE * int(too_far_dm is not None and distance_dm >= too_far_dm),
    }


def _points(value: int) -> str:
    """Hundredths of a point as a French reader reads a signed score: +24,2 · −8 · 0."""
    if value == 0:
        return "0"
    text = f"{value / SCALE:+.1f}".replace(".", ",").removesuffix(",0")
    return text.replace("-", "−")


def row_score_parts(context: MissionContext, values: dict[str, Any], stale: bool) -> dict[str, int]:
    """The parts of a candidate row's score (the row as the candidate query reads it)."""
    return score_parts(context, distance_dm=values["distance_dm"], overlap_days=values["overlap_days"],
                       verified=values["verified"], solicitations=values["solicitations"], stale=stale,
                       exp_ehpad=values["exp_ehpad"], exp_reanimation=values["exp_reanimation"],
                       specialty=values.get("specialty"), too_far_dm=values["too_far_dm"])


def km_text(tenths_of_km: int) -> str:
    """A matching distance (tenths of a km) as a French reader reads it: 53,5 km."""
    return f"{tenths_of_km / 10:.1f} km".replace(".", ",")


def reasons(context: MissionContext, values: dict[str, Any], parts: dict[str, int], stale: bool, *,
            roster_first: bool = True) -> str:
    """Why this rank: a roster member's place first (`roster_first`), then each part of the score in words and
    points, then the total."""
    mission_days = (context.end_date - context.start_date).days + 1
    covered = values["overlap_days"]
    matched = [text for wanted, has, text in ((context.exp_ehpad, values["exp_ehpad"], "EHPAD"),
                                              (context.exp_reanimation, values["exp_reanimation"], "réanimation"))
               if wanted and has]
    count = values["solicitations"]
    words = [
        (km_text(values["distance_dm"]), parts["distance"]),
        ("toute la période" if covered >= mission_days else f"{covered}/{mission_days} j", parts["dates"]),
        ("critères " + (", ".join(matched) if matched else "—"), parts["criteria"]),
        ("vérifié" if values["verified"] else "non vérifié", parts["verified"]),
        (f"{count} sollicitation{'s' if count > 1 else ''} en 30 j", parts["solicitations"]),
        ("non confirmé depuis 30 j" if stale else "profil confirmé", parts["freshness"]),
    ]
    if values["too_far_dm"] is not None:
        declined = km_text(values["too_far_dm"])
        words.append((f"« trop loin » dit à {declined}" if parts["too_far"] else f"moins loin que {declined}",
                      parts["too_far"]))
    total = sum(parts.values())
    text = " · ".join(f"{text} {_points(points)}" for text, points in words) + f" = {_points(total).lstrip('+')} pts"
    return (ROSTER_FIRST + " · " + text) if roster_first and values.get("roster") else text


def score_in_python(context: MissionContext, professional: dict[str, Any], solicitations: int,
                    now: datetime) -> int:
    """The same score computed without SQL, for checks and for the naive benchmark."""
    start = max(professional["available_from"] or context.start_date, context.start_date)
    end = min(professional["available_to"] or context.end_date, context.end_date)
    return sum(score_parts(
        context, distance_dm=distance_dm(professional["lat"], professional["lon"], context.lat, context.lon),
        overlap_days=max((end - start).days + 1, 0), verified=professional["verified"], solicitations=solicitations,
        stale=professional["availability_confirmed_at"] < now - timedelta(days=STALE_AFTER_DAYS),
        exp_ehpad=professional["exp_ehpad"], exp_reanimation=professional["exp_reanimation"],
        specialty=professional["specialty"], too_far_dm=professional["too_far_dm"]).values())
