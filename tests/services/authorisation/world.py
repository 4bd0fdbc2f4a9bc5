"""The one world every cell of the authorisation table runs in (tests/services/test_authorisation_table.py).

Built once per database engine and committed; each cell runs in a transaction of its own that is rolled back
afterwards, so a cell may prepare what its service needs (a proposal, a token, a finished mission…) inside
that transaction without disturbing the next one.

The world, in Pays de la Loire (ARS 52): the establishment « of the mission » (Nantes) with one open mission
already alerted to the CCS, another establishment of the region with its own open mission, one available nurse
(a candidate for both, with a volunteer account), one e-mail in the outbox, an account request awaiting its
ARS (a pending establishment and its pending user) and a disabled account of the mission's establishment.
The mission's establishment is an EHPAD, support and member of the department's territorial pool (issue 14), whose
coordinator has the nurse on its roster; the other establishment is no member.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.access.accounts import load_session_user
from core.mail.emails import EmailContent
from core.mail.outbox import queue_email
from core.shared.actor import SessionUser, to_session_user
from db import models as m
from tests.factories import (
    END,
    NOW,
    START,
    make_coordinator,
    make_establishment,
    make_mission,
    make_pool,
    make_pool_member,
    make_professional,
    make_roster_entry,
    make_user,
)

REGION, OTHER_REGION = "52", "53"  # Pays de la Loire (Nantes, 44000), Bretagne

# The columns of the table, in its order (docs/securite.md). « etablissement » is an account of the mission's
# establishment, « etablissement_autre » one of another establishment of the same region; « ars » is the ARS
# of the mission's and the volunteer's region. A disabled account and a pending one are whatever the
# application builds from their session cookie: `load_session_user` gives nothing for them, so they reach
# every service as an anonymous visitor does (the harness checks it for each cell).
ROLES = ("anonyme", "professionnel", "etablissement", "etablissement_autre", "ars", "ars_autre_region", "ccs",
         "ministere", "admin", "coordinateur", "compte_desactive", "compte_en_attente")
ROLE_TITLES = {
    "anonyme": "Anonyme", "professionnel": "Volontaire", "etablissement": "Établissement de la mission",
    "etablissement_autre": "Autre établissement", "ars": "ARS de la région", "ars_autre_region": "Autre ARS",
    "ccs": "CCS", "ministere": "Ministère", "admin": "Admin", "coordinateur": "Coordinateur de la plateforme",
    "compte_desactive": "Compte désactivé",
    "compte_en_attente": "Compte en attente",
}
SIGNED_OUT = frozenset({"anonyme", "compte_desactive", "compte_en_attente"})

# Handy sets for the `allowed` column of the cases
READERS = frozenset({"ars", "ccs", "ministere", "admin"})  # a region's missions and figures
NAME_READERS = frozenset({"ars", "ccs", "admin"})  # the ministry reads pseudonymised data only (issue 12)
REGULATORS = frozenset({"ars", "ccs"})
NATIONAL = frozenset({"ccs", "ministere", "admin"})
EVERYONE = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class World:
    mission_id: int  # open, of `establishment_id`, alerted to the CCS the day before NOW
    establishment_id: int  # « the mission's establishment » (Nantes, 44000)
    other_mission_id: int  # open, of `other_establishment_id`
    other_establishment_id: int  # another establishment of the same region (Saint-Nazaire, 44600)
    professional_id: int  # an available nurse of Nantes (44300), candidate for both missions
    outbox_id: int  # one e-mail waiting in the outbox
    pending_user_id: int  # an account request awaiting the ARS of the region
    pending_establishment_id: int  # the establishment of that request
    disabled_user_id: int  # a disabled account of the mission's establishment
    pool_id: int  # the territorial pool of Loire-Atlantique: the mission's establishment is its member
    user_ids: dict[str, int]  # the account of every signed-in column
    actors: dict[str, SessionUser | None]  # what a service receives from each column


def build(session: so.Session) -> World:
    establishment = make_establishment(session, postal_code="44000", finess_category_code="500")
    other = make_establishment(session, postal_code="44600")
    hr = make_user(session, establishment=establishment)
    other_hr = make_user(session, establishment=other)
    mission = make_mission(session, establishment, hr, start_date=START, end_date=END, created_at=NOW,
                           ccs_alert_at=NOW - timedelta(days=1), ccs_alert_message="Aucun candidat.")
    other_mission = make_mission(session, other, other_hr, start_date=START, end_date=END, created_at=NOW)
    nurse = make_professional(session, postal_code="44300", available_from=None,
                              availability_confirmed_at=NOW - timedelta(days=1))
    pending_establishment = make_establishment(session, postal_code="44000", status="pending")
    pending = make_user(session, establishment=pending_establishment, status="pending", password=None)
    disabled = make_user(session, establishment=establishment, status="disabled")
    users = {
        "professionnel": make_user(session, "professionnel", professional_id=nurse.id),
        "etablissement": hr,
        "etablissement_autre": other_hr,
        "ars": make_user(session, "ars", ars_code=REGION),
        "ars_autre_region": make_user(session, "ars", ars_code=OTHER_REGION),
        "ccs": make_user(session, "ccs"),
        "ministere": make_user(session, "ministere"),
        "admin": make_user(session, "admin"),
        "compte_desactive": disabled,
        "compte_en_attente": pending,
    }
    pool = make_pool(session, establishment, created_by=users["ars"])
    make_pool_member(session, pool, establishment)
    make_roster_entry(session, pool, nurse)
    users["coordinateur"] = make_coordinator(session, pool)
    mail = queue_email(session, dedup_key="world", to="alerte@example.org", now=NOW,
                       content=EmailContent("Renfort RH — test", "Sans lien.", "<p>Sans lien.</p>"))
    session.flush()
    actors: dict[str, SessionUser | None] = {"anonyme": None}
    for role, user in users.items():
        actors[role] = None if role in SIGNED_OUT else to_session_user(session, user=user)
    return World(mission.id, establishment.id, other_mission.id, other.id, nurse.id, mail.id, pending.id,
                 pending_establishment.id, disabled.id, pool.id, {role: user.id for role, user in users.items()},
                 actors)


def session_actor(session: so.Session, world: World, role: str) -> SessionUser | None:
    """The actor the application hands a service for this column, read back as a page does on every run."""
    if role == "anonyme":
        return None
    user = session.get(m.User, world.user_ids[role])
    return load_session_user(session, email=user.email, issued_at=NOW.timestamp() + 1)


# ---------------------------------------------------------------- what cells use to prepare and to check


def mission(session: so.Session, world: World, mission_id: int | None = None) -> m.Mission:
    return session.get(m.Mission, mission_id or world.mission_id, populate_existing=True)


def professional(session: so.Session, world: World) -> m.Professional:
    return session.get(m.Professional, world.professional_id, populate_existing=True)


def user(session: so.Session, user_id: int) -> m.User:
    return session.get(m.User, user_id, populate_existing=True)


def last_action(session: so.Session, entity: str) -> str | None:
    """The action of the latest audit event about this kind of entity."""
    return session.scalar(sa.select(m.Event.action).where(m.Event.entity == entity).order_by(m.Event.id.desc())
                          .limit(1))


def finished(session: so.Session, world: World, status: str = "closed") -> int:
    """The world's mission, ended and closed (or archived) already: its id."""
    mission(session, world).status = status
    session.flush()
    return world.mission_id


def proposal(session: so.Session, world: World, state: str, mission_id: int | None = None) -> m.Proposal:
    """The world's nurse proposed for a mission (the world's by default) in this state, flushed."""
    row = m.Proposal(mission_id=mission_id or world.mission_id, professional_id=world.professional_id, state=state,
                     origin="direct", created_at=NOW, decided_at=NOW if state == "affecte" else None)
    session.add(row)
    if state in {"contacte", "en_cours", "affecte"}:
        professional(session, world).status = state
    session.flush()
    return row


def assigned(session: so.Session, world: World) -> int:
    """The world's nurse assigned to its mission already: the establishment's id."""
    proposal(session, world, "affecte")
    return world.establishment_id


def interrupted(session: so.Session, world: World) -> int:
    """The world's e-mail claimed by a worker an hour ago that never reported back: its id."""
    row = session.get(m.Outbox, world.outbox_id)
    row.status, row.claimed_at = "sending", NOW - timedelta(hours=1)
    session.flush()
    return world.outbox_id


Call = Callable[[so.Session, World, SessionUser | None], Any]
Check = Callable[[so.Session, World, Any], bool]


@dataclass(frozen=True)
class Service:
    """One row of the table: how to call the service as a column's actor, which columns it allows, and what an
    allowed call must have done or returned (so that a service refusing everybody fails too)."""

    call: Call
    allowed: frozenset[str]
    succeeded: Check
    note: str = ""  # what the table says about the rule, when the columns alone do not tell it


