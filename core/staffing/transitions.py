"""The state machines of DESIGN §3 in one place: from which states each transition starts.

The services move proposals and volunteers with conditional UPDATEs on exactly these states, and refuse a
mission in the wrong status with the reasons below; the lists hand each row the actions the same tables
allow (core.shared.actions), so that a page shows the buttons the services will accept.
"""

from __future__ import annotations

from core.shared.actions import NONE, Action, Actions
from db.models import MissionStatus, ProfessionalStatus, ProposalState

OPEN = MissionStatus.OPEN.value
PENDING = MissionStatus.PENDING.value
FILLED = MissionStatus.FILLED.value
CLOSED = MissionStatus.CLOSED.value
ARCHIVED = MissionStatus.ARCHIVED.value
EN_COURS = ProposalState.EN_COURS.value
CONTACTE = ProposalState.CONTACTE.value
AFFECTE = ProposalState.AFFECTE.value
DISPONIBLE = ProfessionalStatus.DISPONIBLE.value
INDISPONIBLE = ProfessionalStatus.INDISPONIBLE.value

# ---------------------------------------------------------------- a proposal (None: no live proposal yet)
# The volunteer's live proposal for this mission → the status the volunteer must then have.
CONTACT_FROM = {None: DISPONIBLE, EN_COURS: EN_COURS}  # a free volunteer, or one the ARS pushed to this mission
PUSH_FROM = {None: DISPONIBLE}
ASSIGN_ON_BEHALF_FROM = {None: DISPONIBLE, CONTACTE: CONTACTE, EN_COURS: EN_COURS}
VALIDATE_FROM = (CONTACTE,)
REFUSE_FROM = (CONTACTE, EN_COURS)
WAITING = (CONTACTE, EN_COURS)  # released when the mission is filled or closed, on expiry, on a decline
DECLINE_FROM = WAITING
INTEREST_FROM = WAITING  # « Je suis intéressé(e) »: an answer to a push or a reservation, no change of state
# A volunteer whose proposal for a mission ended so is never offered it again — not in the candidate lists, not
# by a contact, a push or an assignment: refused by the establishment, declined by the volunteer, or an
# assignment cancelled. A reservation that merely expired ('libere') or an assignment that ran to its end may.
TURNED_DOWN = (ProposalState.REFUSE.value, ProposalState.DECLINE.value, ProposalState.ANNULE.value)

ON_BEHALF_ROLES = ("ars",)  # « Affecter pour l'établissement » belongs to the region's own ARS

# ---------------------------------------------------------------- a volunteer
UNAVAILABLE_FROM = (DISPONIBLE,)  # the ARS takes a volunteer out of the pool
ASSIGNABLE_STATUSES = (DISPONIBLE, CONTACTE, EN_COURS)  # what « Affecter à une mission… » may start from

# ---------------------------------------------------------------- a mission
EDITABLE = (OPEN, PENDING, FILLED)
FINISHED = (CLOSED, ARCHIVED)
NOT_OPEN = {
    PENDING: "Cette mission attend la validation de votre compte.",
    FILLED: "Cette mission est déjà pourvue.",
    CLOSED: "Cette mission est clôturée.",
    ARCHIVED: "Cette mission est archivée.",
}
NOTHING_TO_FILL = "Cette mission ne recherche personne (0 poste)."


def accepts_people(status: str, count: int) -> bool:
    """Candidates may be contacted, pushed or assigned: the mission is open and asks for somebody."""
    return status == OPEN and count > 0


def not_open_reason(status: str) -> str:
    return NOT_OPEN.get(status, NOTHING_TO_FILL)


def edit_refusal(status: str, assigned: int) -> str | None:
    """Why « Modifier » is refused, or None when the mission can be edited."""
    if status not in EDITABLE:
        return "Une mission clôturée ne peut plus être modifiée : dupliquez-la."
    if assigned:
        return (f"{assigned} professionnel(s) sont déjà affectés à cette mission : elle ne peut plus être modifiée. "
                "Annulez d'abord l'affectation, ou dupliquez la mission.")
    return None


def close_refusal(status: str) -> str | None:
    return "Cette mission est déjà clôturée." if status in FINISHED else None


CHOICE_REFUSALS = {  # why an establishment has nobody to choose for its mission (shown instead of « Choisir »)
    PENDING: "En attente de la validation de votre compte par l'ARS.",
    FILLED: "Mission pourvue : plus de renfort à choisir.",
    CLOSED: "Mission clôturée.",
    ARCHIVED: "Mission archivée.",
}


def establishment_mission_actions(status: str, count: int, assigned: int) -> tuple[Actions, dict[Action, str]]:
    """An establishment's own mission on its dashboard: the actions it allows, and why the others are not."""
    refusals: dict[Action, str] = {}
    if not accepts_people(status, count):
        refusals[Action.CHOOSE] = CHOICE_REFUSALS.get(status, "Aucun poste à pourvoir (0 demandé).")
    if (edit := edit_refusal(status, assigned)) is not None:
        refusals[Action.EDIT] = edit
    if (close := close_refusal(status)) is not None:
        refusals[Action.CLOSE] = close
    allowed = {Action.CHOOSE, Action.EDIT, Action.DUPLICATE, Action.CLOSE} - set(refusals)
    return frozenset(allowed), refusals


def starts_from(table: dict[str | None, str], proposal_state: str | None, status: str) -> bool:
    """Whether a transition of `table` may start from this live proposal and this volunteer status."""
    return proposal_state in table and table[proposal_state] == status


def candidate_actions(viewer: str, role: str, proposal_state: str | None, status: str) -> Actions:
    """A candidate row of an open mission: what its establishment ('establishment'), its regulator ('regulator':
    ARS, CCS) or its pool's coordinator ('pool') may do, from the volunteer's live proposal for this mission and
    status."""
    if viewer not in ("establishment", "regulator", "pool"):
        return NONE
    actions = {Action.SHEET}
    if viewer == "establishment":
        if starts_from(CONTACT_FROM, proposal_state, status):
            actions.add(Action.CONTACT)
        if proposal_state in VALIDATE_FROM:
            actions.add(Action.VALIDATE)
        if proposal_state in REFUSE_FROM:
            actions.add(Action.REFUSE)
    else:
        if starts_from(PUSH_FROM, proposal_state, status):
            actions.add(Action.PUSH)
        if role in ON_BEHALF_ROLES and starts_from(ASSIGN_ON_BEHALF_FROM, proposal_state, status):
            actions.add(Action.ASSIGN)
    return frozenset(actions)
