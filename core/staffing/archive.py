"""Archiving finished missions (the 2020 guide's « supprimer »): archived, never deleted.

Only a closed mission is finished: closing released its waiting candidates and ended its assignments
(by hand, or by the worker the day after its end date), so archiving changes nothing but the status.
An archived mission leaves the dashboards and the figures; an admin can restore it (it goes back to
« clôturée »), which is the undo of a mistaken archiving.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.places import reference
from core.shared.actions import Action
from core.shared.actor import OPERATOR_ROLE, SessionUser
from core.shared.audit import record_event
from core.shared.clock import utcnow
from core.shared.errors import Conflict, NotFound, ValidationError
from core.shared.permissions import require_role
from core.shared.validation import validate_date_range
from core.staffing.transitions import ARCHIVED, CLOSED
from core.staffing.workflow import locked_mission
from db.models import Establishment, Mission

ARCHIVERS = ("admin", OPERATOR_ROLE)
PAGE_SIZE = 50
ARCHIVE_REFUSAL = "Seule une mission clôturée peut être archivée : clôturez-la d'abord."
RESTORE_REFUSAL = "Cette mission n'est pas archivée."


@dataclass(frozen=True)
class MissionList:
    rows: list[dict[str, Any]]
    total: int


def _period(start: Any, end: Any) -> tuple[date, date]:
    return validate_date_range(start, end, start_field="archive_from", end_field="archive_to")


def _finished(status: str, start: date | None, end: date | None, ars_code: str | None) -> list[sa.ColumnElement]:
    """Missions of one status, ended within the period (by their end date), in one region or all."""
    conditions: list[sa.ColumnElement] = [Mission.status == status]
    if start is not None and end is not None:
        conditions.append(Mission.end_date.between(start, end))
    if ars_code:
        conditions.append(Establishment.ars_code == ars_code)
    return conditions


def finished_missions(session: so.Session, *, actor: SessionUser | None, archived: bool = False,
                      start: Any = None, end: Any = None, ars_code: str | None = None,
                      offset: int = 0, limit: int = PAGE_SIZE) -> MissionList:
    """Closed missions (to archive) or archived ones (to restore), the most recently ended first."""
    require_role(actor, *ARCHIVERS)
    if start is not None or end is not None:
        start, end = _period(start, end)
    conditions = _finished(ARCHIVED if archived else CLOSED, start, end, ars_code)
    base = sa.select(Mission.id).join(Establishment, Establishment.id == Mission.establishment_id).where(*conditions)
    total = session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        sa.select(Mission.id, Mission.profession_code, Mission.count, Mission.start_date, Mission.end_date,
                  Mission.closed_at, Mission.archived_at, Establishment.name.label("establishment"),
                  Establishment.finess, Establishment.ars_code)
        .join(Establishment, Establishment.id == Mission.establishment_id).where(*conditions)
        .order_by(Mission.end_date.desc(), Mission.id.desc()).offset(max(0, offset)).limit(limit)
    ).mappings()
    labels, regions = reference.profession_labels(), reference.ars_names()
    action = frozenset({Action.RESTORE if archived else Action.ARCHIVE})
    return MissionList([{**row, "profession": labels[row["profession_code"]], "region": regions[row["ars_code"]],
                         "actions": action} for row in rows], total)


def _move(session: so.Session, actor: SessionUser, mission: Mission, target: str, now: datetime) -> None:
    record_event(session, actor_id=actor.id, entity="mission", entity_id=mission.id,
                 action="archived" if target == ARCHIVED else "restored", before=mission.status, after=target, at=now)
    mission.status = target
    mission.archived_at = now if target == ARCHIVED else None


def archive_mission(session: so.Session, *, actor: SessionUser | None, mission_id: int,
                    now: datetime | None = None) -> None:
    actor = require_role(actor, *ARCHIVERS)
    mission = locked_mission(session, mission_id=mission_id)
    if mission.status == ARCHIVED:
        raise Conflict("Cette mission est déjà archivée.")
    if mission.status != CLOSED:
        raise Conflict(ARCHIVE_REFUSAL)
    _move(session, actor, mission, ARCHIVED, now or utcnow())
    session.flush()


def restore_mission(session: so.Session, *, actor: SessionUser | None, mission_id: int,
                    now: datetime | None = None) -> None:
    """The undo of an archiving: the mission is « clôturée » again."""
    actor = require_role(actor, *ARCHIVERS)
    mission = locked_mission(session, mission_id=mission_id)
    if mission.status != ARCHIVED:
        raise Conflict(RESTORE_REFUSAL)
    _move(session, actor, mission, CLOSED, now or utcnow())
    session.flush()


def archive_period(session: so.Session, *, actor: SessionUser | None, start: Any, end: Any,
                   ars_code: str | None = None, now: datetime | None = None) -> int:
    """Every closed mission whose end date falls within the period (one region, or all): how many."""
    actor = require_role(actor, *ARCHIVERS)
    start, end = _period(start, end)
    if ars_code and ars_code not in reference.ars_names():
        raise ValidationError("archive_region", "Cette région n'existe pas.")
    now = now or utcnow()
    missions = session.scalars(
        sa.select(Mission).join(Establishment, Establishment.id == Mission.establishment_id)
        .where(*_finished(CLOSED, start, end, ars_code)).order_by(Mission.id).with_for_update(of=Mission)
    ).all()
    if not missions:
        raise NotFound(f"Aucune mission clôturée ne s'est terminée entre le {start:%d/%m/%Y} et le {end:%d/%m/%Y}.")
    for mission in missions:
        _move(session, actor, mission, ARCHIVED, now)
    session.flush()
    return len(missions)
