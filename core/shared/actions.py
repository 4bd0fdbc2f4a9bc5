"""What the signed-in user may do on a row that a service hands to a page (DESIGN §8).

Each row of a list comes with the set of actions its reader may take on it, computed by core from the
same rules its services enforce: a page draws its buttons from that set and decides nothing itself (the
service still checks again when the button is used, since a page is never trusted).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    # a candidate of a mission (« Choisir », « Proposer »)
    CONTACT = "contact"
    VALIDATE = "validate"
    REFUSE = "refuse"
    PUSH = "push"
    ASSIGN = "assign"  # the ARS records an assignment for the establishment
    SHEET = "sheet"  # « Voir la fiche »
    # a mission
    CHOOSE = "choose"
    EDIT = "edit"
    DUPLICATE = "duplicate"
    CLOSE = "close"
    CANCEL = "cancel"  # an assignment, from « Voir affectation professionnels »
    PROPOSE = "propose"  # open « Proposer des candidats » on it
    PRIORITISE = "prioritise"
    ALERT = "alert"  # « Alerter le CCS »
    OPEN_POOLS = "open_pools"
    CLOSE_ALERT = "close_alert"
    ARCHIVE = "archive"
    RESTORE = "restore"  # an archived mission back to « clôturée »
    # a volunteer
    VERIFY = "verify"
    SET_UNAVAILABLE = "set_unavailable"
    PAUSE = "pause"
    RESUME = "resume"
    DECLINE = "decline"
    INTEREST = "interest"  # « Je suis intéressé(e) » on a push or a reservation
    # a volunteer and a territorial pool's roster (« Vivier », « Mon profil »)
    INVITE = "invite"  # the coordinator invites a volunteer of the region
    ACCEPT_INVITATION = "accept_invitation"
    DECLINE_INVITATION = "decline_invitation"
    LEAVE_POOL = "leave_pool"  # the volunteer leaves the pool's roster
    RELEASE = "release"  # a pool-only member opened to the national pool by the coordinator
    REMOVE = "remove"  # the coordinator takes a member off the roster, or withdraws an invitation
    # a region
    SWITCH_CRISIS = "switch_crisis"
    # a user account (« Comptes »)
    DISABLE = "disable"
    ENABLE = "enable"
    UNLOCK = "unlock"
    SEND_LINK = "send_link"  # a fresh activation link, or a reset link once the account has a password
    MANAGE_ESTABLISHMENTS = "manage_establishments"  # attach / detach an establishment user's establishments
    # a territorial pool (« Plateformes territoriales »): EDIT its project follow-up, CLOSE it; its join requests
    # take VALIDATE / REFUSE
    MANAGE_MEMBERS = "manage_members"  # add or remove member establishments
    REQUEST_JOIN = "request_join"  # an establishment asks to join a pool of its department
    # an application campaign (« Appels à candidatures », issue 15): EDIT a campaign or a dossier's tabs
    PUBLISH = "publish"  # the ARS publishes its drafted campaign to its region's establishments
    PUBLISH_RESULTS = "publish_results"
    EXPORT = "export"  # the campaign's dossiers as .xlsx
    FILE = "file"  # an establishment files a new dossier in an open campaign
    DELETE = "delete"  # a dossier, or one of its attachments
    UPLOAD = "upload"  # add or replace a dossier's PDF
    CONFIRM = "confirm"  # a complete dossier, commitments ticked
    RANK = "rank"  # the establishment orders its dossiers by priority
    DECIDE = "decide"  # the jury's Favorable / Défavorable
    FOLLOW_UP = "follow_up"  # a favourable dossier confirms the project maintained, then the doctor's start


Actions = frozenset[Action]
NONE: Actions = frozenset()


def common(rows: Iterable[Mapping[str, Any]]) -> Actions:
    """What can be done to every one of the selected rows at once: a button acts on all of them or on none."""
    sets = [frozenset(row["actions"]) for row in rows]
    return frozenset.intersection(*sets) if sets else NONE
