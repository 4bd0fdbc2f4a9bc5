"""The coordinator's work (issue 14): the member establishments' open missions as one queue — the ARS's urgency
rules (core.staffing.regulation), no exclusivity: the establishments still choose anyone —, pushes of roster
members to those missions — the ARS's push (same EN COURS flow, e-mails, audit), origin `pool` —, and the pool's
indicators.

A coordinator acts on its own pool only: missions of its member establishments, volunteers of its roster.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.figures.indicators import Period
from core.mail import emails
from core.places import reference
from core.places.geo import normalize_commune
from core.pools.scope import get_pool, require_coordinator, require_pool_reader
from core.shared.actions import NONE, Action
from core.shared.actor import SessionUser
from core.shared.clock import paris_today, utcnow
from core.shared.errors import Conflict, PermissionDenied
from core.staffing.matching import NOT_A_MEMBER_MISSION, candidate_query, load_mission_context
from core.staffing.regulation import (
    MissionFilters,
    MissionQueue,
    accepts_candidates,
    mission_queue,
    push_candidates,
)
from core.staffing.workflow import locked_mission
from db.models import (
    Establishment,
    Mission,
    MissionStatus,
    PoolMember,
    PoolMemberState,
    PoolRosterEntry,
    Professional,
    Proposal,
    ProposalOrigin,
    ProposalState,
    RosterState,
)

QUEUE_LIMIT = 500  # a pool's open missions: a few dozen; the most urgent 500 at most


def _members(pool_id: int) -> sa.Select:
    return sa.select(PoolMember.establishment_id).where(PoolMember.pool_id == pool_id,
                                                        PoolMember.state == PoolMemberState.MEMBRE.value)


def pool_queue(session: so.Session, *, actor: SessionUser | None, offset: int = 0, limit: int = QUEUE_LIMIT,
               now: datetime | None = None) -> MissionQueue:
    """« File des besoins »: the member establishments' open missions still short of people, by manual priority
    then urgency (the ARS's score), each with the number of roster members free to be proposed to it."""
    now = now or utcnow()
    pool = require_coordinator(session, actor)
    queue = mission_queue(session, scope=[Establishment.id.in_(_members(pool.id))],
                          filters=MissionFilters(unfilled_only=True), today=paris_today(now), offset=offset,
                          limit=limit)
    for row in queue.rows:
        row["roster_candidates"] = _free_roster_candidates(session, row["id"], now)
        row["actions"] = frozenset({Action.PROPOSE}) if accepts_candidates(row) else NONE
    return queue


def _free_roster_candidates(session: so.Session, mission_id: int, now: datetime) -> int:
    """Roster members matching would list for the mission and who are not yet linked to it (matching decides)."""
    candidates = candidate_query(load_mission_context(session, mission_id=mission_id), "pool", False,
                                 now).base.subquery("c")
    return session.scalar(sa.select(sa.func.count()).select_from(candidates)
                          .where(candidates.c.proposal_state.is_(None))) or 0


def push_roster_members(session: so.Session, *, actor: SessionUser | None, mission_id: int,
                        professional_ids: list[int], now: datetime | None = None) -> int:
    """Propose roster members to a member establishment's mission: the ARS's push (disponible → en cours for this
    mission, e-mails to the establishment and the volunteers), origin `pool`. Refused for another mission, for a
    volunteer off the roster, and wherever the ARS's push is (not available, already turned down for it…)."""
    now = now or utcnow()
    pool = require_coordinator(session, actor)
    mission = locked_mission(session, mission_id=mission_id)
    establishment = session.get(Establishment, mission.establishment_id)
    if load_mission_context(session, mission_id=mission_id).pool_id != pool.id:
        raise PermissionDenied(NOT_A_MEMBER_MISSION)
    ids = list(dict.fromkeys(professional_ids))
    on_roster = set(session.scalars(sa.select(PoolRosterEntry.professional_id).where(
        PoolRosterEntry.pool_id == pool.id, PoolRosterEntry.state == RosterState.MEMBRE.value,
        PoolRosterEntry.professional_id.in_(ids))))
    for professional_id in ids:
        if professional_id not in on_roster:
            professional = session.get(Professional, professional_id)
            who = f"{professional.first_name} {professional.last_name}" if professional else "Ce professionnel"
            raise Conflict(f"{who} n'est pas membre du vivier de la plateforme : la plateforme ne propose que ses "
                           "membres.")
    return push_candidates(session, actor=actor, mission=mission, establishment=establishment, professional_ids=ids,
                           viewer="pool", origin=ProposalOrigin.POOL.value, sender=emails.pool_sender(pool.name),
                           now=now)


# ---------------------------------------------------------------- indicators

ASSIGNED = (ProposalState.AFFECTE.value, ProposalState.TERMINE.value)  # assignments under way or gone to their end


@dataclass(frozen=True)
class PoolFigures:
    """A pool's activity over a period (by default since its start): posts asked by its member establishments,
    posts filled (of which by the pool's pushes) and absenteeism covered in days (each assignment's days of mission
    within the period), in all, per member establishment and per profession."""

    pool_name: str
    since: date  # the period counted: from the later of the pool's start and the period's…
    until: date | None  # …to the period's end (None: every mission to come)
    pool_start: date
    totals: dict[str, int]
    by_establishment: list[dict[str, Any]]
    by_profession: list[dict[str, Any]]


def _blank() -> dict[str, int]:
    return {"needs": 0, "filled": 0, "by_pool": 0, "days": 0}


def _meeting(since: date, until: date | None) -> list[sa.ColumnElement[bool]]:
    """Missions whose dates meet the period (no end: every mission to come); none when it ended before it began."""
    if until is not None and until < since:
        return [sa.false()]
    return [Mission.end_date >= since, *([Mission.start_date <= until] if until else [])]


def pool_indicators(session: so.Session, *, actor: SessionUser | None, pool_id: int | None = None,
                    start: date | None = None, end: date | None = None) -> PoolFigures:
    """The pool's indicators (the coordinator's own pool when `pool_id` is None; the ARS of its region and the
    national roles read any). Counted: missions of the current member establishments asking for somebody whose
    dates meet the period from `start` (never before the pool's start date, the default) to `end` (None: every
    mission to come), pending ones aside; an assignment's days are those of its mission within that period."""
    if pool_id is None:
        pool = require_coordinator(session, actor)
    else:
        pool = get_pool(session, pool_id)
        require_pool_reader(actor, pool)
    if start and end:
        Period(start, end)  # refuses an end before the start
    since, until = max(start or pool.start_date, pool.start_date), end
    missions = session.execute(
        sa.select(Mission.id, Mission.count, Mission.profession_code, Mission.start_date, Mission.end_date,
                  Establishment.id.label("establishment_id"), Establishment.name.label("establishment"))
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .where(Establishment.id.in_(_members(pool.id)), Mission.count > 0,
               Mission.status != MissionStatus.PENDING.value, *_meeting(since, until))
    ).mappings().all()
    assignments = session.execute(
        sa.select(Proposal.mission_id, Proposal.origin)
        .where(Proposal.mission_id.in_([m["id"] for m in missions]), Proposal.state.in_(ASSIGNED))
    ).all() if missions else []
    per_mission: dict[int, list[str]] = defaultdict(list)
    for mission_id, origin in assignments:
        per_mission[mission_id].append(origin)
    labels = reference.profession_labels()
    totals, by_establishment, by_profession = _blank(), defaultdict(_blank), defaultdict(_blank)
    names: dict[int, str] = {}
    for mission in missions:
        origins = per_mission[mission["id"]]
        days = (min(mission["end_date"], until or mission["end_date"]) - max(mission["start_date"], since)).days + 1
        figures = {"needs": mission["count"], "filled": len(origins),
                   "by_pool": sum(origin == ProposalOrigin.POOL.value for origin in origins),
                   "days": days * len(origins)}
        names[mission["establishment_id"]] = mission["establishment"]
        for bucket in (totals, by_establishment[mission["establishment_id"]],
                       by_profession[mission["profession_code"]]):
            for key, value in figures.items():
                bucket[key] += value
    return PoolFigures(
        pool_name=pool.name, since=since, until=until, pool_start=pool.start_date, totals=totals,
        # the largest needs first, then alphabetically as a French reader expects (accents aside)
        by_establishment=sorted(({"establishment": names[i], **v} for i, v in by_establishment.items()),
                                key=lambda r: (-r["needs"], normalize_commune(r["establishment"]))),
        by_profession=sorted(({"profession": labels[code], **v} for code, v in by_profession.items()),
                             key=lambda r: (-r["needs"], normalize_commune(r["profession"]))))


def pool_heading(session: so.Session, *, actor: SessionUser | None) -> dict[str, Any]:
    """The coordinator's pool in a few words, for the top of its pages: name, department, code, members, roster
    size; and the departments of its region (where it invites volunteers)."""
    pool = require_coordinator(session, actor)
    department = reference.departements()[pool.department_code]
    members = session.scalar(sa.select(sa.func.count()).select_from(_members(pool.id).subquery())) or 0
    roster_size = session.scalar(sa.select(sa.func.count()).select_from(PoolRosterEntry).where(
        PoolRosterEntry.pool_id == pool.id, PoolRosterEntry.state == RosterState.MEMBRE.value)) or 0
    region = {d.code: d.name for d in sorted(reference.departements().values(), key=lambda d: d.code)
              if d.ars_code == pool.ars_code}
    return {"id": pool.id, "name": pool.name, "code": pool.code,
            "department": f"{department.name} ({department.code})",
            "department_code": pool.department_code, "members": members, "roster": roster_size,
            "region_departments": region}

