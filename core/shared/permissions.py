"""Who may do what: every service calls these itself (pages are never trusted)."""

from __future__ import annotations

from core.shared.actor import SessionUser
from core.shared.errors import PermissionDenied

REGULATORS = ("ars", "ccs")
NATIONAL_ROLES = ("ccs", "ministere", "admin")  # look at every region's missions and figures
READ_ONLY_ROLES = ("ministere",)  # the ministry looks at everything and acts on nothing
# Who reads volunteers' names and contact details in a region they see. Not the ministry: its data is
# pseudonymised (DESIGN §4), it reads figures and the pseudonymised « Exports ». Admins do: they administer the
# accounts and the outbox, which hold names and addresses already, and pause volunteers (DESIGN §3).
NAME_READERS = ("ars", "ccs", "admin")
# Who reads a volunteer's whole file — RPPS/ADELI number, message, documents — in a region they see: the
# regulators who verify it. Admins see no identity document (issue 12), nor any other part of the file.
FILE_READERS = ("ars", "ccs")
PSEUDONYMISED_ONLY = ("Le ministère consulte des données pseudonymisées : les listes nominatives et les fiches des "
                      "volontaires ne lui sont pas ouvertes. Les données détaillées sont dans « Exports » "
                      "(volontaires pseudonymisés).")


def reader_scope(actor: SessionUser | None) -> tuple[str, str | None]:
    """What a reader's rights depend on — role and region, never the person: readers with the same scope may
    share one computed answer (ui.actions.read_shared)."""
    return (actor.role, actor.ars_code) if actor is not None else ("", None)


def require_actor(actor: SessionUser | None) -> SessionUser:
    if actor is None:
        raise PermissionDenied("Connectez-vous pour effectuer cette action.")
    return actor


def require_role(actor: SessionUser | None, *roles: str) -> SessionUser:
    actor = require_actor(actor)
    if actor.role not in roles:
        raise PermissionDenied()
    return actor


def require_region(actor: SessionUser | None, ars_code: str) -> SessionUser:
    """An ARS acts on its own region only; the CCS everywhere."""
    actor = require_role(actor, *REGULATORS)
    if not regulates(actor, ars_code):
        raise PermissionDenied("Cette demande relève d'une autre ARS : vous ne pouvez pas la traiter.")
    return actor


def regulates(actor: SessionUser | None, ars_code: str) -> bool:
    """What require_region allows, as a yes or no: to build the actions a row offers."""
    return actor is not None and (actor.role == "ccs" or (actor.role == "ars" and actor.ars_code == ars_code))


def own_region(actor: SessionUser | None) -> str | None:
    """The region an ARS account is bound to; None for the national roles, which may look at any region."""
    return actor.ars_code if actor is not None and actor.role == "ars" else None


def is_read_only(actor: SessionUser | None) -> bool:
    return actor is not None and actor.role in READ_ONLY_ROLES


def reads_volunteer_files(actor: SessionUser, ars_code: str) -> bool:
    """The regulators see the whole file (documents included) of the volunteers of the regions they see."""
    return actor.role in FILE_READERS and sees_region(actor, ars_code)


def reads_names(actor: SessionUser | None, ars_code: str | None) -> bool:
    """Nominative reads of a region (None: of every region): its ARS, the CCS and admins — never the ministry."""
    if actor is None or actor.role not in NAME_READERS:
        return False
    return actor.role != "ars" if ars_code is None else sees_region(actor, ars_code)


def require_names_reader(actor: SessionUser | None, ars_code: str | None) -> SessionUser:
    """What reads_names allows, or the refusal that says why (the ministry is sent to its pseudonymised exports)."""
    actor = require_actor(actor)
    if actor.role == "ministere":
        raise PermissionDenied(PSEUDONYMISED_ONLY)
    if actor.role not in NAME_READERS:
        raise PermissionDenied()
    if not reads_names(actor, ars_code):
        raise PermissionDenied("Ces informations concernent une autre région.")
    return actor


def pauses_volunteers(actor: SessionUser | None, ars_code: str) -> bool:
    """May make a volunteer of this region unavailable (DESIGN §3): its ARS, the CCS, an admin."""
    return actor is not None and (regulates(actor, ars_code) or actor.role == "admin")


def sees_region(actor: SessionUser, ars_code: str) -> bool:
    return actor.role in NATIONAL_ROLES or (actor.role == "ars" and actor.ars_code == ars_code)
