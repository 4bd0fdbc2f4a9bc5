"""The volunteer's status machine (DESIGN §3): contact, validate, refuse, close, cancel, withdraw.

Every transition checks permissions, changes the proposal and the volunteer's status together,
writes an Event and queues its e-mails in the caller's transaction. Races are settled by the
database: a conditional UPDATE … WHERE status = :expected plus the partial unique index "one live
proposal per volunteer"; the mission row is locked (FOR UPDATE) while its assignments are counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from core.mail import emails
from core.mail.outbox import queue_email
from core.places import reference
from core.shared.actor import SessionUser
from core.shared.audit import record_event
from core.shared.clock import utcnow
from core.shared.distance import distance_dm
from core.shared.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.shared.labels import DECLINE_REASONS
from core.shared.permissions import regulates, require_actor, require_role
from core.shared.validation import validate_text
from core.staffing import transitions
from core.staffing.crisis import crisis_active
from core.staffing.matching import candidate_query, load_mission_context, refuse_if_turned_down
from db.models import (
    DeclineReason,
    Establishment,
    Mission,
    MissionStatus,
    Professional,
    ProfessionalStatus,
    Proposal,
    ProposalOrigin,
    ProposalState,
    User,
)

TOO_FAR_FLOOR_DM = 100  # 10 km: a « trop loin » closer than this is about the journey, not a distance to avoid
TOO_FAR_NOTE = ("Les missions au moins aussi lointaines vous seront proposées après les autres ; « Mon profil » "
                "permet de revenir sur ce choix.")
REBOOKED = "Ce professionnel vient d'être réservé par un autre établissement."
# Dedup keys' prefixes of e-mails that others read back (the simulator's establishments, the tests)
CONTACTED_MAIL = "contacted:"  # to the volunteer an establishment reserved
INTERESTED_MAIL = "interested:"  # to the establishment whose volunteer said « intéressé(e) »
DECLINED_MAIL = "declined:"  # to the establishment whose volunteer declined


# ---------------------------------------------------------------- shared steps


def locked_mission(session: so.Session, *, mission_id: int) -> Mission:
    """The mission, locked until the end of the transaction (PostgreSQL; SQLite writers are serialised)."""
    mission = session.get(Mission, mission_id, with_for_update=True, populate_existing=True)
    if mission is None:
        raise NotFound("Cette mission n'existe pas.")
    return mission


def _establishment(session: so.Session, mission: Mission) -> Establishment:
    return session.get(Establishment, mission.establishment_id)


def require_member(actor: SessionUser | None, mission: Mission) -> SessionUser:
    """Only the accounts of the mission's establishment."""
    actor = require_role(actor, "etablissement")
    if mission.establishment_id not in actor.establishment_ids:
        raise PermissionDenied("Cette mission appartient à un autre établissement.")
    return actor


def require_manager(session: so.Session, *, actor: SessionUser | None, mission: Mission) -> SessionUser:
    """The establishment's accounts, the ARS of its region, or the CCS."""
    actor = require_actor(actor)
    if actor.role == "etablissement":
        return require_member(actor, mission)
    if regulates(actor, _establishment(session, mission).ars_code):
        return actor
    raise PermissionDenied("Vous ne pouvez pas agir sur cette mission.")


def assigned_count(session: so.Session, *, mission_id: int) -> int:
    return session.scalar(
        sa.select(sa.func.count()).select_from(Proposal)
        .where(Proposal.mission_id == mission_id, Proposal.state == ProposalState.AFFECTE.value)
    ) or 0


def refresh_mission_status(session: so.Session, *, mission: Mission, now: datetime | None = None) -> str:
    """open ⇄ filled from the derived number of assignments; pending, closed and archived stay."""
    now = now or utcnow()
    if mission.status not in (MissionStatus.OPEN.value, MissionStatus.FILLED.value):
        return mission.status
    assigned = assigned_count(session, mission_id=mission.id)
    target = MissionStatus.FILLED.value if mission.count > 0 and assigned >= mission.count else MissionStatus.OPEN.value
    if target != mission.status:
        record_event(session, actor_id=None, entity="mission", entity_id=mission.id, action="status_refreshed",
                     before=mission.status, after=target, details={"assigned": assigned}, at=now)
        mission.status = target
        mission.filled_at = now if target == MissionStatus.FILLED.value else None
    return mission.status


def set_status(session: so.Session, *, professional_id: int, expected: Iterable[str], target: str,
               now: datetime) -> bool:
    """Conditional UPDATE: True only if the volunteer was in one of the expected statuses."""
    result = session.execute(
        sa.update(Professional)
        .where(Professional.id == professional_id, Professional.status.in_(list(expected)))
        .values(status=target, status_since=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def move_proposal(session: so.Session, *, proposal: Proposal, target: str, actor_id: int | None,
                  now: datetime, reason: str | None = None, action: str | None = None,
                  keep_decision_time: bool = False) -> None:
    record_event(session, actor_id=actor_id, entity="proposal", entity_id=proposal.id, action=action or target,
                 before=proposal.state, after=target,
                 details={"mission_id": proposal.mission_id, "professional_id": proposal.professional_id}, at=now)
    proposal.state = target
    if not keep_decision_time:
        proposal.decided_at = now
    if reason:
        proposal.reason = reason


def _live_proposal(session: so.Session, mission_id: int, professional_id: int,
                   states: Iterable[str]) -> Proposal | None:
    return session.scalar(
        sa.select(Proposal).where(Proposal.mission_id == mission_id, Proposal.professional_id == professional_id,
                                  Proposal.state.in_(list(states))).with_for_update()
    )


def _name(session: so.Session, professional_id: int) -> str:
    professional = session.get(Professional, professional_id)
    return f"{professional.first_name} {professional.last_name}" if professional else "Ce professionnel"


def _require_open(mission: Mission) -> None:
    if not transitions.accepts_people(mission.status, mission.count):
        raise Conflict(transitions.not_open_reason(mission.status))


# ---------------------------------------------------------------- transitions


def contact(session: so.Session, *, actor: SessionUser | None, mission_id: int, professional_id: int,
            now: datetime | None = None) -> Proposal:
    """disponible → contacté (new proposal), or pushed to this mission → contacté (same proposal).
    When several establishments click at the same instant, exactly one wins."""
    now = now or utcnow()
    mission = locked_mission(session, mission_id=mission_id)
    actor = require_member(actor, mission)
    _require_open(mission)
    context = load_mission_context(session, mission_id=mission_id)
    crisis = crisis_active(session, ars_code=context.ars_code, profession_code=context.profession_code, now=now)
    query = candidate_query(context, "establishment", crisis, now)
    row = session.execute(query.base.where(Professional.id == professional_id)).mappings().first()
    if row is None:
        return _refuse_contact(session, mission_id, professional_id, crisis)
    state = row["proposal_state"]
    if state not in transitions.CONTACT_FROM:
        raise Conflict(f"{_name(session, professional_id)} est déjà contacté(e) ou affecté(e) pour cette mission.")
    expected = [transitions.CONTACT_FROM[state]]
    if state is not None:  # pushed by the ARS to this mission: the same proposal goes on
        proposal = _live_proposal(session, mission_id, professional_id, [state])
        if proposal is None or not set_status(session, professional_id=professional_id, expected=expected,
                                              target=ProfessionalStatus.CONTACTE.value, now=now):
            raise Conflict("Cette proposition vient d'être déclinée ou levée.")
        move_proposal(session, proposal=proposal, target=ProposalState.CONTACTE.value, actor_id=actor.id, now=now,
                      action="contacted")
        proposal.by_user_id = actor.id
        return proposal
    if not set_status(session, professional_id=professional_id, expected=expected,
                      target=ProfessionalStatus.CONTACTE.value, now=now):
        raise Conflict(REBOOKED)
    proposal = Proposal(mission_id=mission_id, professional_id=professional_id, origin=ProposalOrigin.DIRECT.value,
                        state=ProposalState.CONTACTE.value, by_user_id=actor.id, created_at=now)
    session.add(proposal)
    try:
        session.flush()
    except IntegrityError as error:  # the live-proposal index: someone else got there first
        raise Conflict(REBOOKED) from error
    record_event(session, actor_id=actor.id, entity="proposal", entity_id=proposal.id, action="contacted",
                 before=ProfessionalStatus.DISPONIBLE.value, after=ProposalState.CONTACTE.value,
                 details={"mission_id": mission_id, "professional_id": professional_id}, at=now)
    _mail_contact(session, proposal, mission, now)
    return proposal


def _mail_contact(session: so.Session, proposal: Proposal, mission: Mission, now: datetime) -> None:
    """A direct contact tells the volunteer where to answer (a pushed one was told by the push's e-mail)."""
    professional = session.get(Professional, proposal.professional_id)
    establishment = _establishment(session, mission)
    content = emails.volunteer_contacted(professional.first_name, establishment.name, establishment.city,
                                         reference.profession_labels()[mission.profession_code], mission.start_date,
                                         mission.end_date)
    queue_email(session, dedup_key=f"{CONTACTED_MAIL}{proposal.id}", to=professional.email, content=content, now=now)


@dataclass(frozen=True)
class ContactOutcome:
    contacted: int
    failures: list[str]  # one French sentence per volunteer who could not be contacted


def contact_many(session: so.Session, *, actor: SessionUser | None, mission_id: int, professional_ids: list[int],
                 now: datetime | None = None) -> ContactOutcome:
    """« Contacter » on several ticked volunteers: each one is contacted in a savepoint of its own, so that losing
    a race on one (another establishment was faster) does not undo the others. Refused when nobody could be."""
    mission = locked_mission(session, mission_id=mission_id)
    require_member(actor, mission)  # who may, and on which mission: refused as a whole, never per volunteer
    _require_open(mission)
    ids = list(dict.fromkeys(professional_ids))
    if not ids:
        raise ValidationError("professionals", "Aucun professionnel sélectionné.")
    contacted, failures = 0, []
    for professional_id in ids:
        try:
            with session.begin_nested():
                contact(session, actor=actor, mission_id=mission_id, professional_id=professional_id, now=now)
            contacted += 1
        except Conflict as error:  # taken by another establishment meanwhile, or no longer a candidate
            failures.append(error.message)
    if not contacted:
        raise Conflict(failures[0])
    return ContactOutcome(contacted, failures)


def _refuse_contact(session: so.Session, mission_id: int, professional_id: int, crisis: bool) -> Proposal:
    professional = session.get(Professional, professional_id)
    if professional is None:
        raise NotFound("Ce professionnel n'existe pas.")
    refuse_if_turned_down(session, mission_id=mission_id, professional_id=professional_id)
    if crisis:
        raise Conflict("Le mode gestion de crise est actif : seuls les professionnels proposés par l'ARS "
                       "peuvent être contactés.")
    if professional.status in (ProfessionalStatus.CONTACTE.value, ProfessionalStatus.EN_COURS.value,
                               ProfessionalStatus.AFFECTE.value):
        raise Conflict(REBOOKED)
    if professional.status == ProfessionalStatus.INDISPONIBLE.value:
        raise Conflict(f"{_name(session, professional_id)} s'est déclaré(e) indisponible.")
    raise Conflict(f"{_name(session, professional_id)} ne correspond pas à cette mission (profession, zone ou "
                   "disponibilité).")


def validate(session: so.Session, *, actor: SessionUser | None, mission_id: int, professional_ids: list[int],
             now: datetime | None = None) -> int:
    """contacté (this mission) → affecté, never beyond the mission's count; e-mails each volunteer."""
    now = now or utcnow()
    ids = list(dict.fromkeys(professional_ids))
    mission = locked_mission(session, mission_id=mission_id)
    actor = require_member(actor, mission)
    _require_open(mission)
    remaining = mission.count - assigned_count(session, mission_id=mission_id)
    if len(ids) > remaining:
        raise Conflict(f"Il ne reste que {remaining} poste(s) à pourvoir sur cette mission : sélectionnez au plus "
                       f"{remaining} professionnel(s).")
    establishment = _establishment(session, mission)
    validator = session.get(User, actor.id)
    for professional_id in ids:
        proposal = _live_proposal(session, mission_id, professional_id, transitions.VALIDATE_FROM)
        if proposal is None or not set_status(session, professional_id=professional_id,
                                              expected=[ProfessionalStatus.CONTACTE.value],
                                              target=ProfessionalStatus.AFFECTE.value, now=now):
            raise Conflict(f"{_name(session, professional_id)} n'est pas (ou plus) contacté(e) pour cette mission.")
        move_proposal(session, proposal=proposal, target=ProposalState.AFFECTE.value, actor_id=actor.id, now=now,
                      action="validated")
        _mail_assignment(session, proposal, mission, establishment, validator, now)
    after_assignment(session, mission=mission, actor_id=actor.id, now=now)
    return len(ids)


def after_assignment(session: so.Session, *, mission: Mission, actor_id: int, now: datetime) -> None:
    """Refresh the mission; once it is filled, the volunteers still contacted or pushed for it go back
    to everyone (nobody else can be validated)."""
    if refresh_mission_status(session, mission=mission, now=now) == MissionStatus.FILLED.value:
        release_live(session, mission=mission, actor_id=actor_id, now=now, reason="mission pourvue")


def _mail_assignment(session: so.Session, proposal: Proposal, mission: Mission, establishment: Establishment,
                     validator: User, now: datetime) -> None:
    professional = session.get(Professional, proposal.professional_id)
    contact = " — ".join(x for x in (mission.contact_name, mission.contact_phone) if x) or None
    content = emails.assignment_confirmed(
        professional.first_name, establishment.name,
        f"{establishment.address}, {establishment.postal_code} {establishment.city}",
        reference.profession_labels()[mission.profession_code], mission.start_date, mission.end_date,
        validator.email, contact,
    )
    queue_email(session, dedup_key=f"assigned:{proposal.id}", to=professional.email, content=content, now=now)


def refuse(session: so.Session, *, actor: SessionUser | None, mission_id: int, professional_ids: list[int],
           now: datetime | None = None) -> int:
    """contacté or pushed (this mission) → disponible again, without e-mail."""
    now = now or utcnow()
    mission = locked_mission(session, mission_id=mission_id)
    actor = require_member(actor, mission)
    live = transitions.REFUSE_FROM
    ids = list(dict.fromkeys(professional_ids))
    for professional_id in ids:
        proposal = _live_proposal(session, mission_id, professional_id, live)
        if proposal is None:
            raise Conflict(f"{_name(session, professional_id)} n'est pas (ou plus) contacté(e) pour cette mission.")
        set_status(session, professional_id=professional_id, expected=live,
                   target=ProfessionalStatus.DISPONIBLE.value, now=now)
        move_proposal(session, proposal=proposal, target=ProposalState.REFUSE.value, actor_id=actor.id, now=now,
                      action="refused")
    return len(ids)


def close_mission(session: so.Session, *, actor: SessionUser | None, mission_id: int,
                  now: datetime | None = None) -> int:
    """Close a mission (never deleted): contacted and pushed volunteers are released; assigned ones
    stay until the end of the mission. Returns how many were released."""
    now = now or utcnow()
    mission = locked_mission(session, mission_id=mission_id)
    actor = require_manager(session, actor=actor, mission=mission)
    if (refusal := transitions.close_refusal(mission.status)) is not None:
        raise Conflict(refusal)
    released = release_live(session, mission=mission, actor_id=actor.id, now=now, reason="mission clôturée")
    record_event(session, actor_id=actor.id, entity="mission", entity_id=mission.id, action="closed",
                 before=mission.status, after=MissionStatus.CLOSED.value, details={"released": released}, at=now)
    mission.status = MissionStatus.CLOSED.value
    mission.closed_at = now
    return released


def release_live(session: so.Session, *, mission: Mission, actor_id: int | None, now: datetime,
                 reason: str) -> int:
    """Contacted and pushed volunteers of a mission → libéré, disponible again."""
    live = transitions.WAITING
    proposals = session.scalars(
        sa.select(Proposal).where(Proposal.mission_id == mission.id, Proposal.state.in_(live)).with_for_update()
    ).all()
    for proposal in proposals:
        set_status(session, professional_id=proposal.professional_id, expected=live,
                   target=ProfessionalStatus.DISPONIBLE.value, now=now)
        move_proposal(session, proposal=proposal, target=ProposalState.LIBERE.value, actor_id=actor_id, now=now,
                      reason=reason, action="released")
    return len(proposals)


def cancel_assignment(session: so.Session, *, actor: SessionUser | None, mission_id: int,
                      professional_id: int, reason: str, now: datetime | None = None) -> None:
    """affecté → disponible (a no-show, a change of plan): the mission reopens, the volunteer is told."""
    now = now or utcnow()
    mission = locked_mission(session, mission_id=mission_id)
    actor = require_manager(session, actor=actor, mission=mission)  # a stranger learns nothing of the rules
    reason = validate_text(reason, "reason", "Motif de l'annulation", max_length=500, multiline=True)
    proposal = _live_proposal(session, mission_id, professional_id, [ProposalState.AFFECTE.value])
    if proposal is None:
        raise Conflict(f"{_name(session, professional_id)} n'est pas affecté(e) à cette mission.")
    set_status(session, professional_id=professional_id, expected=[ProfessionalStatus.AFFECTE.value],
               target=ProfessionalStatus.DISPONIBLE.value, now=now)
    move_proposal(session, proposal=proposal, target=ProposalState.ANNULE.value, actor_id=actor.id, now=now,
                  reason=reason, action="assignment_cancelled")
    refresh_mission_status(session, mission=mission, now=now)
    professional = session.get(Professional, professional_id)
    queue_email(session, dedup_key=f"cancelled:{proposal.id}", to=professional.email, now=now,
                content=emails.assignment_cancelled(professional.first_name, _establishment(session, mission).name,
                                                    mission.start_date, mission.end_date, reason))


def _own_waiting_proposal(session: so.Session, actor: SessionUser | None, proposal_id: int) -> tuple[SessionUser,
                                                                                                     Proposal]:
    """The volunteer's own push or reservation, still waiting for an answer (locked)."""
    actor = require_role(actor, "professionnel")
    proposal = session.get(Proposal, proposal_id, with_for_update=True, populate_existing=True)
    if proposal is None or proposal.professional_id != actor.professional_id:
        raise NotFound("Cette proposition n'existe pas.")
    if proposal.state == ProposalState.AFFECTE.value:
        raise Conflict("Vous êtes affecté(e) à cette mission : prévenez l'établissement, qui annulera l'affectation.")
    if proposal.state not in transitions.DECLINE_FROM:
        raise Conflict("Cette demande n'est plus en cours.")
    return actor, proposal


def _answered(session: so.Session, professional_id: int, now: datetime) -> None:
    """An answer to a request shows the volunteer reads the platform: it confirms the availability, as « Toujours
    disponible ? » would, so that matching does not rank an active volunteer among the stale profiles."""
    session.execute(sa.update(Professional).where(Professional.id == professional_id)
                    .values(availability_confirmed_at=now))


def _remember_too_far(session: so.Session, proposal: Proposal) -> bool:
    """« Trop loin »: the mission's distance is one the volunteer will not travel; matching ranks missions at least
    as far lower for them (the shortest such distance is kept). Not below TOO_FAR_FLOOR_DM: distances run between
    postal-code centres, a mission in their own town would push every other one down."""
    professional = session.get(Professional, proposal.professional_id)
    establishment = _establishment(session, session.get(Mission, proposal.mission_id))
    declined = distance_dm(professional.lat, professional.lon, establishment.lat, establishment.lon)
    if declined < TOO_FAR_FLOOR_DM:
        return False
    if professional.too_far_dm is None or declined < professional.too_far_dm:
        professional.too_far_dm = declined
    return True


def express_interest(session: so.Session, *, actor: SessionUser | None, proposal_id: int,
                     now: datetime | None = None) -> None:
    """« Je suis intéressé(e) » from « Mes missions »: the establishment sees when, in its candidate list; the
    proposal's state does not change (the establishment still validates)."""
    now = now or utcnow()
    actor, proposal = _own_waiting_proposal(session, actor, proposal_id)
    if proposal.interested_at is not None:
        return  # said already: the first answer's time is the one shown
    proposal.interested_at = now
    _answered(session, proposal.professional_id, now)
    record_event(session, actor_id=actor.id, entity="proposal", entity_id=proposal.id, action="interested",
                 details={"mission_id": proposal.mission_id}, at=now)
    pushed = proposal.state == ProposalState.EN_COURS.value
    link = emails.choose_link(proposal.mission_id)
    # Only the establishment's side validates: a regulator who pushed the volunteer is not asked to.
    _tell_establishment(session, proposal, INTERESTED_MAIL, now, lambda first_name, volunteer, mission, profession: (
        emails.volunteer_interested(first_name, volunteer, profession, mission.start_date, mission.end_date,
                                    link, pushed)), to_maker=not pushed)


def withdraw(session: so.Session, *, actor: SessionUser | None, proposal_id: int, pause: bool = False,
             reason_code: str | None = None, now: datetime | None = None) -> str | None:
    """The volunteer declines a push or a reservation from "Mes missions", with a reason from the short list;
    the establishment is told, and the mission is never offered to this volunteer again. Returns what else the
    reason changes for the volunteer (« trop loin »: missions as far rank lower), in French, if anything."""
    now = now or utcnow()
    codes = {reason.value for reason in DeclineReason}
    if reason_code is not None and reason_code not in codes:
        raise ValidationError("reason_code", "Choisissez la raison dans la liste proposée.")
    actor, proposal = _own_waiting_proposal(session, actor, proposal_id)
    live = transitions.DECLINE_FROM
    target = ProfessionalStatus.INDISPONIBLE.value if pause else ProfessionalStatus.DISPONIBLE.value
    set_status(session, professional_id=proposal.professional_id, expected=live, target=target, now=now)
    proposal.reason_code = reason_code
    _answered(session, proposal.professional_id, now)
    too_far = reason_code == DeclineReason.TROP_LOIN.value and _remember_too_far(session, proposal)
    move_proposal(session, proposal=proposal, target=ProposalState.DECLINE.value, actor_id=actor.id, now=now,
                  reason=DECLINE_REASONS.get(reason_code or ""), action="declined")
    _tell_establishment(session, proposal, DECLINED_MAIL, now, lambda first_name, volunteer, mission, profession: (
        emails.volunteer_declined(first_name, volunteer, profession, mission.start_date, mission.end_date)))
    return TOO_FAR_NOTE if too_far else None


def _tell_establishment(session: so.Session, proposal: Proposal, key: str, now: datetime,
                        build: Callable[[str, str, Mission, str], emails.EmailContent], to_maker: bool = True) -> None:
    """The volunteer's answer by e-mail to the establishment (the mission's requester), and to whoever made the
    contact or the push when someone else (unless `to_maker` is false): the answer is what they wait for to
    validate or look further."""
    mission = session.get(Mission, proposal.mission_id)
    professional = session.get(Professional, proposal.professional_id)
    volunteer = f"{professional.first_name} {professional.last_name}"
    profession = reference.profession_labels()[mission.profession_code]
    makers = (proposal.by_user_id,) if to_maker else ()
    for user_id in dict.fromkeys(filter(None, (mission.created_by, *makers))):
        recipient = session.get(User, user_id)
        queue_email(session, dedup_key=f"{key}{proposal.id}:{user_id}", to=recipient.email, now=now,
                    content=build(recipient.first_name, volunteer, mission, profession))
