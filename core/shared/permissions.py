"""Who may do what: every service calls these itself (pages are never trusted)."""

from __future__ import annotations

from core.shared.actor import SessionUser
from core.shared.errors import PermissionDenied

REGULATORS = ("ars", "ccs")
NATIONAL_ROLES = ("ccs", "ministere", "admin")
READ_ONLY_ROLES = ("ministere",)  # the ministry looks at everything and acts on nothing
FILE_READERS = ("ars", "ccs", "admin")  # see a volunteer's whole file (documents, contact) in their region


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
    """Regulators (and admins) see the whole file of the volunteers of the regions they see."""
    return actor.role in FILE_READERS and sees_region(actor, ars_code)


def sees_region(actor: SessionUser, ars_code: str) -> bool:
    return actor.role in NATIONAL_ROLES or (actor.role == "ars" and actor.ars_code == ars_code)
