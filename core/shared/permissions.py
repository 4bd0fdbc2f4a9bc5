"""Who may do what: every service calls these itself (pages are never trusted)."""

from __future__ import annotations

from core.shared.actor import SessionUser
from core.shared.errors import PermissionDenied

REGULATORS = ("ars", "ccs")
NATIONAL_ROLES = ("ccs", "ministere", "admin")


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
    if actor.role == "ars" and actor.ars_code != ars_code:
        raise PermissionDenied("Cette demande relève d'une autre ARS : vous ne pouvez pas la traiter.")
    return actor


def sees_region(actor: SessionUser, ars_code: str) -> bool:
    return actor.role in NATIONAL_ROLES or (actor.role == "ars" and actor.ars_code == ars_code)
