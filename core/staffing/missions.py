"""Missions (needs): input checks shared by the account request and the needs form, and their lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.places import reference
from core.shared.actions import NONE, Action
from core.shared.actor import SessionUser
from core.shared.audit import record_event
from core.shared.clock import paris_today, utcnow
from core.shared.errors import Conflict, ErrorCollector, NotFound, PermissionDenied, ValidationError
from core.shared.permissions import regulates, require_actor, require_names_reader, sees_region
from core.shared.validation import validate_count, validate_date_range, validate_phone, validate_text
from core.staffing import transitions
from db.models import Establishment, Mission, MissionStatus, Professional, Proposal, ProposalState


@dataclass
class MissionInput:
    """One need as typed in a form; `clean_mission` turns it into column values."""

    profession_code: str = ""
    specialty: str = ""
    count: Any = 1
    start_date: Any = None
    end_date: Any = None
    needs_vehicle: bool = False
    needs_weekend: bool = False
    exp_ehpad: bool = False
    exp_reanimation: bool = False
    vaccination: bool = False
    contact_name: str = ""
    contact_phone: str = ""


def placeholder_mission(today: date) -> MissionInput:
    """The 2020 rule: a request with no need files one mission of 0 people, profession "Autre", dated today."""
    return MissionInput(profession_code="autre", count=0, start_date=today, end_date=today)


def clean_mission(mission: MissionInput, prefix: str, errors: ErrorCollector, today: date) -> dict[str, Any]:
    """Column values of a valid mission; each problem is added to `errors` under `prefix.field`."""
    profession = (mission.profession_code or "").strip()
    if profession not in reference.profession_labels():
        errors.add(f"{prefix}profession_code", "Choisissez la profession recherchée.")
    elif mission.vaccination and not reference.is_eligible_vaccination(profession):
        label = reference.profession_labels()[profession]
        errors.add(f"{prefix}vaccination", f"La profession « {label} » n'est pas autorisée à vacciner.")
    count = errors.check(validate_count, mission.count, f"{prefix}count")
    dates = errors.check(validate_date_range, mission.start_date, mission.end_date,
                         start_field=f"{prefix}start_date", end_field=f"{prefix}end_date")
    if dates and dates[1] < today:
        errors.add(f"{prefix}end_date", f"La date de fin ({dates[1]:%d/%m/%Y}) est déjà passée.")
    specialty = errors.check(validate_text, mission.specialty, f"{prefix}specialty", "Spécialité",
                             max_length=120, required=False)
    contact_name = errors.check(validate_text, mission.contact_name, f"{prefix}contact_name",
                                "Personne à contacter", required=False)
    contact_phone = None
    if (mission.contact_phone or "").strip():
        contact_phone = errors.check(validate_phone, mission.contact_phone, f"{prefix}contact_phone")
    return {
        "profession_code": profession,
        "specialty": specialty,
        "count": count,
        "start_date": dates[0] if dates else None,
        "end_date": dates[1] if dates else None,
        "needs_vehicle": bool(mission.needs_vehicle),
        "needs_weekend": bool(mission.needs_weekend),
        "exp_ehpad": bool(mission.exp_ehpad),
        "exp_reanimation": bool(mission.exp_reanimation),
        "vaccination": bool(mission.vaccination),
        "contact_name": contact_name,
        "contact_phone": contact_phone,
    }



# ---------------------------------------------------------------- an establishment's missions


def establishment_for(session: so.Session, *, actor: SessionUser | None,
                      establishment_id: int) -> Establishment:
    """The establishment if the actor may see it: its members, the ARS of its region, national roles."""
    actor = require_actor(actor)
    establishment = session.get(Establishment, establishment_id)
    if establishment is None:
        raise NotFound("Cet établissement n'existe pas.")
    if establishment_id not in actor.establishment_ids and not sees_region(actor, establishment.ars_code):
        raise PermissionDenied("Vous n'avez pas accès à cet établissement.")
    return establishment


def my_establishments(session: so.Session, *, actor: SessionUser | None) -> dict[int, str]:
    """The establishments the user manages (id → name), for the sidebar's choice."""
    actor = require_actor(actor)
    if not actor.establishment_ids:
        return {}
    rows = session.execute(
        sa.select(Establishment.id, Establishment.name).where(Establishment.id.in_(actor.establishment_ids))
        .order_by(Establishment.name)
    )
    return {row.id: row.name for row in rows}


def establishment_of_my_mission(session: so.Session, *, actor: SessionUser | None, mission_id: int) -> int | None:
    """The establishment of a mission of one of the actor's establishments (an e-mail's link names the mission: a
    user managing several establishments lands on the right one); None for anyone else's mission."""
    actor = require_actor(actor)
    if not actor.establishment_ids:
        return None
    return session.scalar(sa.select(Mission.establishment_id).where(
        Mission.id == mission_id, Mission.establishment_id.in_(actor.establishment_ids)))


def assigned_counts(session: so.Session, *, mission_ids: list[int]) -> dict[int, int]:
    """Validated assignments per mission: the x of "POURVUE x/n", always derived, never typed."""
    if not mission_ids:
        return {}
    rows = session.execute(
        sa.select(Proposal.mission_id, sa.func.count()).where(
            Proposal.mission_id.in_(mission_ids), Proposal.state == ProposalState.AFFECTE.value
        ).group_by(Proposal.mission_id)
    )
    return dict(rows.all())


def establishment_missions(session: so.Session, *, actor: SessionUser | None,
                           establishment_id: int) -> list[dict]:
    """Every mission of the establishment (all its accounts see the same list), newest start first."""
    establishment_for(session, actor=actor, establishment_id=establishment_id)
    missions = session.scalars(
        sa.select(Mission).where(Mission.establishment_id == establishment_id)
        .order_by(Mission.start_date.desc(), Mission.id.desc())
    ).all()
    filled = assigned_counts(session, mission_ids=[m.id for m in missions])
    labels = reference.profession_labels()
    return [
        {"id": m.id, "profession": labels.get(m.profession_code, m.profession_code), "specialty": m.specialty,
         "count": m.count, "assigned": filled.get(m.id, 0), "start_date": m.start_date, "end_date": m.end_date,
         "needs_vehicle": m.needs_vehicle, "needs_weekend": m.needs_weekend, "exp_ehpad": m.exp_ehpad,
         "exp_reanimation": m.exp_reanimation, "vaccination": m.vaccination, "status": m.status}
        for m in missions
    ]


# ---------------------------------------------------------------- the establishment's needs


def _member_establishment(session: so.Session, actor: SessionUser | None,
                          establishment_id: int) -> Establishment:
    actor = require_actor(actor)
    if actor.role != "etablissement" or establishment_id not in actor.establishment_ids:
        raise PermissionDenied("Vous ne gérez pas cet établissement.")
    establishment = session.get(Establishment, establishment_id)
    if establishment is None:
        raise NotFound("Cet établissement n'existe pas.")
    return establishment


def create_missions(session: so.Session, *, actor: SessionUser | None, establishment_id: int,
                    missions: list[MissionInput], now: datetime | None = None) -> list[int]:
    """"Nouveau besoin": one or more missions at once, all or nothing; open at once for an active establishment."""
    now = now or utcnow()
    establishment = _member_establishment(session, actor, establishment_id)
    if not missions:
        raise ValidationError("missions", "Ajoutez au moins une mission.")
    errors = ErrorCollector()
    cleaned = [clean_mission(m, f"missions.{i}.", errors, paris_today(now)) for i, m in enumerate(missions)]
    for index, values in enumerate(cleaned):
        if values["count"] == 0 and not errors.has(f"missions.{index}.count"):
            # 0 is only the placeholder of an account request without need.
            errors.add(f"missions.{index}.count", "Indiquez le nombre de professionnels recherchés (au moins 1).")
    errors.raise_if_any()
    status = MissionStatus.OPEN.value if establishment.status == "active" else MissionStatus.PENDING.value
    ids = []
    for values in cleaned:
        mission = Mission(establishment_id=establishment_id, created_by=actor.id, status=status, created_at=now, **values)
        session.add(mission)
        session.flush()
        record_event(session, actor_id=actor.id, entity="mission", entity_id=mission.id, action="created",
                     after=status, at=now)
        ids.append(mission.id)
    return ids


def _editable_mission(session: so.Session, actor: SessionUser | None, mission_id: int) -> Mission:
    mission = session.get(Mission, mission_id, with_for_update=True)
    if mission is None:
        raise NotFound("Cette mission n'existe pas.")
    _member_establishment(session, actor, mission.establishment_id)
    return mission


def mission_input(session: so.Session, *, actor: SessionUser | None, mission_id: int) -> MissionInput:
    """A mission's values as a form would hold them (to edit or duplicate it)."""
    mission = _editable_mission(session, actor, mission_id)
    return MissionInput(**{name: getattr(mission, name) if getattr(mission, name) is not None else ""
                           for name in MissionInput.__dataclass_fields__})


def update_mission(session: so.Session, *, actor: SessionUser | None, mission_id: int, data: MissionInput,
                   now: datetime | None = None) -> list[str]:
    """"Modifier": allowed while nothing is assigned; returns the changed field names."""
    now = now or utcnow()
    mission = _editable_mission(session, actor, mission_id)
    assigned = assigned_counts(session, mission_ids=[mission_id]).get(mission_id, 0)
    if (refusal := transitions.edit_refusal(mission.status, assigned)) is not None:
        raise Conflict(refusal)
    errors = ErrorCollector()
    values = clean_mission(data, "missions.0.", errors, paris_today(now))
    errors.raise_if_any()
    changed = sorted(name for name, value in values.items() if getattr(mission, name) != value)
    for name in changed:
        setattr(mission, name, values[name])
    record_event(session, actor_id=actor.id, entity="mission", entity_id=mission.id, action="updated",
                 details={"fields": changed}, at=now)
    return changed


def duplicate_mission(session: so.Session, *, actor: SessionUser | None, mission_id: int,
                      now: datetime | None = None) -> int:
    """"Dupliquer": a new mission with the same needs; a past period is moved to start today."""
    now = now or utcnow()
    source = _editable_mission(session, actor, mission_id)
    data = mission_input(session, actor=actor, mission_id=mission_id)
    today = paris_today(now)
    if data.end_date < today:
        length = data.end_date - data.start_date
        data.start_date, data.end_date = today, today + length
    return create_missions(session, actor=actor, establishment_id=source.establishment_id, missions=[data], now=now)[0]


DASHBOARD_SORTS = {
    "start": (Mission.start_date, Mission.id),
    "created": (Mission.created_at.desc(), Mission.id.desc()),
    "profession": (Mission.profession_code, Mission.start_date),
}


def dashboard(session: so.Session, *, actor: SessionUser | None, establishment_id: int,
              statuses: tuple[str, ...] = (), profession: str | None = None, unfilled_only: bool = False,
              sort: str = "start") -> list[dict]:
    """"Traitement des besoins": every mission of the establishment with its POURVUE x/n and how many
    volunteers are contacted or pushed, filtered and sorted in SQL."""
    establishment_for(session, actor=actor, establishment_id=establishment_id)
    assigned = (
        sa.select(Proposal.mission_id,
                  sa.func.sum(sa.case((Proposal.state == ProposalState.AFFECTE.value, 1), else_=0)).label("assigned"),
                  sa.func.sum(sa.case((Proposal.state == ProposalState.CONTACTE.value, 1), else_=0)).label("contacted"),
                  sa.func.sum(sa.case((Proposal.state == ProposalState.EN_COURS.value, 1), else_=0)).label("pushed"))
        .join(Mission, Mission.id == Proposal.mission_id)
        .where(Mission.establishment_id == establishment_id)  # this establishment's proposals only
        .group_by(Proposal.mission_id).subquery()
    )
    query = (
        sa.select(Mission, sa.func.coalesce(assigned.c.assigned, 0), sa.func.coalesce(assigned.c.contacted, 0),
                  sa.func.coalesce(assigned.c.pushed, 0))
        .outerjoin(assigned, assigned.c.mission_id == Mission.id)
        .where(Mission.establishment_id == establishment_id)
    )
    if statuses:
        query = query.where(Mission.status.in_(statuses))
    if profession:
        query = query.where(Mission.profession_code == profession)
    if unfilled_only:
        query = query.where(sa.func.coalesce(assigned.c.assigned, 0) < Mission.count)
    labels = reference.profession_labels()
    member = establishment_id in actor.establishment_ids  # regulators may read the list, not act on it
    rows = []
    for mission, filled, contacted, pushed in session.execute(query.order_by(*DASHBOARD_SORTS.get(sort, DASHBOARD_SORTS["start"]))):
        rows.append({
            "id": mission.id, "profession_code": mission.profession_code,
            "profession": labels.get(mission.profession_code, mission.profession_code),
            "specialty": mission.specialty, "count": mission.count, "assigned": int(filled),
            "contacted": int(contacted), "pushed": int(pushed), "start_date": mission.start_date,
            "end_date": mission.end_date, "needs_vehicle": mission.needs_vehicle,
            "needs_weekend": mission.needs_weekend, "exp_ehpad": mission.exp_ehpad,
            "exp_reanimation": mission.exp_reanimation, "vaccination": mission.vaccination,
            "status": mission.status, "contact_name": mission.contact_name,
        })
        rows[-1]["actions"], rows[-1]["why_not"] = (
            transitions.establishment_mission_actions(mission.status, mission.count, int(filled)) if member
            else (NONE, {}))
    return rows


@dataclass(frozen=True)
class DashboardFigures:
    open_missions: int
    posts_to_fill: int  # in open missions
    waiting: int  # contacted or pushed, awaiting the establishment's decision
    assigned: int


def dashboard_figures(rows: list[dict]) -> DashboardFigures:
    """The four figures above an establishment's dashboard, from all its missions' rows."""
    open_rows = [r for r in rows if r["status"] == MissionStatus.OPEN.value]
    return DashboardFigures(open_missions=len(open_rows),
                            posts_to_fill=sum(r["count"] - r["assigned"] for r in open_rows),
                            waiting=sum(r["contacted"] + r["pushed"] for r in rows),
                            assigned=sum(r["assigned"] for r in rows))


def assigned_staff(session: so.Session, *, actor: SessionUser | None, establishment_id: int) -> list[dict]:
    """"Voir affectation professionnels": everyone assigned to the establishment's missions, with contact — for
    its own accounts and those who read names in its region (its ARS, the CCS, admins), never the ministry."""
    establishment = establishment_for(session, actor=actor, establishment_id=establishment_id)
    if establishment_id not in actor.establishment_ids:
        require_names_reader(actor, establishment.ars_code)
    # Each row: the sheet, and cancelling the assignment for those who manage the mission (close_mission's rule).
    actions = frozenset({Action.SHEET, Action.CANCEL}) if (
        establishment_id in actor.establishment_ids or regulates(actor, establishment.ars_code)) else NONE
    labels = reference.profession_labels()
    rows = session.execute(
        sa.select(Proposal.id.label("proposal_id"), Proposal.decided_at, Mission.id.label("mission_id"),
                  Mission.profession_code, Mission.start_date, Mission.end_date, Professional.id.label("professional_id"),
                  Professional.first_name, Professional.last_name, Professional.phone, Professional.email,
                  Professional.profession_code.label("own_profession"))
        .join(Mission, Mission.id == Proposal.mission_id)
        .join(Professional, Professional.id == Proposal.professional_id)
        .where(Mission.establishment_id == establishment_id, Proposal.state == ProposalState.AFFECTE.value)
        .order_by(Mission.start_date, Professional.last_name, Professional.first_name)
    ).mappings()
    return [{**row, "mission": labels.get(row["profession_code"], row["profession_code"]),
             "profession": labels.get(row["own_profession"], row["own_profession"]), "actions": actions}
            for row in rows]
