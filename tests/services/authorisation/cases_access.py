"""Rows of the authorisation table for core/access (accounts, account administration, establishment import) and
core/mail/outbox.py (the admins' « Courriels » page).

Public doors (DESIGN §5): the account request, « Mot de passe oublié », and a password link (who holds it may read
whose it is and choose the password: the link is the proof, whoever is signed in plays no part); signing out ends
the sessions of whoever is signed in. The validation queue is the ARS's (its region: another ARS sees it empty and
may not decide) and the CCS's (every region). Account administration follows who manages whom (issue 11 §3,
core/access/administration.py): admins manage every account, the CCS the national and ARS accounts, an ARS the
ARS, pool and establishment accounts of its region; so an establishment account of region 52 is managed by its
ARS and by admins only, and only they find, attach and detach establishments for it (another ARS finds only its
own region's). The bulk import of establishment accounts: the ARS (rows of its region only), the CCS and admins.
The outbox: admins only.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.access import accounts, administration, establishment_import
from core.access.accounts import AccountRequest
from core.access.administration import NewAccount
from core.access.establishment_import import REJECTED, TO_CREATE
from core.access.tokens import issue_token
from core.mail import outbox
from core.shared.actor import SessionUser
from core.shared.errors import ValidationError
from core.staffing.missions import MissionInput
from db import models as m
from tests.factories import END, NOW, START, import_row, import_workbook, make_user, workbook_bytes
from tests.readers import count
from tests.services.authorisation.world import (
    EVERYONE,
    ROLES,
    SIGNED_OUT,
    Service,
    World,
    interrupted,
    last_action,
    user,
)

SIGNED_IN = EVERYONE - SIGNED_OUT
QUEUE = frozenset({"ars", "ars_autre_region", "ccs"})  # the validation queue: an ARS sees its own region's
ADMINISTRATORS = frozenset({"ars", "ars_autre_region", "ccs", "admin"})  # « Comptes »: the accounts each manages
ESTABLISHMENT_MANAGERS = frozenset({"ars", "admin"})  # of an establishment account of region 52
ESTABLISHMENT_FINDERS = frozenset({"ars", "ars_autre_region", "admin"})
IMPORTERS = frozenset({"ars", "ars_autre_region", "ccs", "admin"})
ADMIN = frozenset({"admin"})
NEW_PASSWORD = "Nouveau-Mot-2026!"
NEW_EMAIL = "nouvelle.rh@example.org"

# The accounts of the world each column lists in « Comptes » (refused requests aside, none here)
LISTED = {
    "ars": {"ars", "etablissement", "etablissement_autre", "coordinateur", "compte_desactive", "compte_en_attente"},
    "ars_autre_region": {"ars_autre_region"},
    "ccs": {"ars", "ars_autre_region", "ccs", "ministere"},
    "admin": set(ROLES) - {"anonyme"},
}
CREATABLE = {
    "ars": {"ars", "pool", "etablissement"},
    "ccs": {"ars", "ccs", "ministere"},
    "admin": {"ars", "pool", "etablissement", "ccs", "ministere", "admin"},
}


def column(world: World, actor: SessionUser) -> str:
    """The column of the table an actor is the account of."""
    return next(role for role, user_id in world.user_ids.items() if user_id == actor.id)


def hr(world: World) -> int:
    """The world's « etablissement » account: of the mission's establishment, in region 52."""
    return world.user_ids["etablissement"]


def outbox_to(session: so.Session, email: str) -> int:
    return count(session, m.Outbox, m.Outbox.to == email)


# ---------------------------------------------------------------- accounts


def account_request() -> AccountRequest:
    return AccountRequest(
        last_name="Moreau", first_name="Claire", email="claire.moreau@chu-test.fr", phone="06 12 34 56 78",
        category_code="loi_hospitaliere", identifier="750100125", establishment_name="Hôpital de test",
        address="1 place de l'Hôpital", postal_code="44000", city="Nantes", ars_code="52",
        missions=[MissionInput(profession_code="infirmier_de", count=2, start_date=START, end_date=END)])


def requested(session: so.Session, world: World, receipt: accounts.RequestReceipt) -> bool:
    new = user(session, receipt.user_id)
    return (new.status == "pending" and new.email == "claire.moreau@chu-test.fr" and receipt.missions == 1
            and last_action(session, "user") == "account_requested" and outbox_to(session, new.email) == 1)


def password_link(session: so.Session, world: World) -> str:
    """A fresh reset link of the world's « etablissement » account (flushed): its raw token."""
    token = issue_token(session, user=user(session, hr(world)), purpose="reset", now=NOW)
    session.flush()
    return token


def activation_token(session: so.Session) -> str:
    """A new account, active and without password yet, and its activation link (flushed): the raw token."""
    new = make_user(session, email="a.activer@example.org", password=None)
    token = issue_token(session, user=new, purpose="activation", now=NOW)
    session.flush()
    return token


def activated(session: so.Session, world: World, email: str) -> bool:
    new = session.scalar(sa.select(m.User).where(m.User.email == email).execution_options(populate_existing=True))
    return (email == "a.activer@example.org" and new.password_hash is not None
            and last_action(session, "user") == "activated")


def signed_out(session: so.Session, world: World, result: tuple[SessionUser, None]) -> bool:
    actor, _ = result
    return user(session, actor.id).sessions_valid_after == NOW and last_action(session, "user") == "signed_out"


def queue_seen(session: so.Session, world: World, result: tuple[SessionUser, Any]) -> bool:
    """The pending request of region 52 for its ARS and the CCS; nothing for the ARS of another region."""
    actor, seen = result
    expected = [] if column(world, actor) == "ars_autre_region" else [world.pending_user_id]
    if isinstance(seen, int):
        return seen == len(expected)
    return [request.user_id for request in seen] == expected


def validated(session: so.Session, world: World, email: str) -> bool:
    pending = user(session, world.pending_user_id)
    return (pending.status == "active" and email == pending.email and outbox_to(session, email) == 1
            and session.get(m.Establishment, world.pending_establishment_id, populate_existing=True).status
            == "active")


def rejected(session: so.Session, world: World, email: str) -> bool:
    pending = user(session, world.pending_user_id)
    return (pending.status == "rejected" and pending.status_reason == "Établissement inconnu."
            and last_action(session, "establishment") == "rejected" and outbox_to(session, email) == 1)


# ---------------------------------------------------------------- administration


def scope_seen(session: so.Session, world: World, result: tuple[SessionUser, administration.AdminScope]) -> bool:
    actor, scope = result
    name = "ars" if actor.role == "ars" else column(world, actor)
    return (set(scope.creatable_roles) == CREATABLE[name]
            and scope.own_region == (actor.ars_code if actor.role == "ars" else None))


def accounts_seen(session: so.Session, world: World, result: tuple[SessionUser, administration.AccountPage]) -> bool:
    actor, page = result
    expected = {world.user_ids[role] for role in LISTED[column(world, actor)]}
    return page.total == len(expected) and {row["id"] for row in page.rows} == expected


def locked(session: so.Session, world: World) -> int:
    """The world's « etablissement » account, locked out for ten more minutes (flushed): its id."""
    user(session, hr(world)).locked_until = NOW + timedelta(minutes=10)
    session.flush()
    return hr(world)


def new_account(world: World) -> NewAccount:
    return NewAccount(role="etablissement", email=NEW_EMAIL, first_name="Nina", last_name="Nouvelle",
                      establishment_ids=(world.establishment_id,))


def created(session: so.Session, world: World, result: administration.CreatedAccount) -> bool:
    new = user(session, result.user_id)
    return ((new.role, new.status, new.password_hash) == ("etablissement", "active", None)
            and session.get(m.Membership, (new.id, world.establishment_id)) is not None
            and "jeton=" in result.link and outbox_to(session, NEW_EMAIL) == 1)


def second_establishment(session: so.Session, world: World) -> int:
    """The world's « etablissement » account also managing the region's other establishment (flushed): its id."""
    session.add(m.Membership(user_id=hr(world), establishment_id=world.other_establishment_id, created_at=NOW))
    session.flush()
    return hr(world)


def memberships(session: so.Session, world: World) -> list[int]:
    return list(session.scalars(sa.select(m.Membership.establishment_id).where(m.Membership.user_id == hr(world))
                                .order_by(m.Membership.establishment_id)))


def establishments_found(session: so.Session, world: World, result: tuple[SessionUser, list[dict]]) -> bool:
    """Both validated establishments of region 52, except for the ARS of another region: none."""
    actor, rows = result
    expected = set() if column(world, actor) == "ars_autre_region" else {world.establishment_id,
                                                                          world.other_establishment_id}
    return {row["id"] for row in rows} == expected


def finess(session: so.Session, world: World) -> str:
    return session.get(m.Establishment, world.establishment_id).finess


def ids_found(session: so.Session, world: World, actor: SessionUser | None) -> tuple[str, Any]:
    """The column, and the ids the FINESS of the world's establishment gives it, or the message refusing it."""
    try:
        found: Any = administration.establishment_ids_for(session, actor=actor, identifiers=(finess(session, world),))
    except ValidationError as error:
        found = error.message
    return column(world, actor), found


# ---------------------------------------------------------------- establishment import


ROW = import_row(1)


@cache
def import_file() -> bytes:
    """The ministry's template with one valid row: an EHPAD of Nantes (region 52)."""
    return workbook_bytes(import_workbook([ROW]))


def imported_establishments(session: so.Session) -> int:
    return count(session, m.Establishment, m.Establishment.finess == ROW["finess"])


def previewed(session: so.Session, world: World, result: tuple[SessionUser, Any]) -> bool:
    """The row is to create, or rejected for the ARS of another region; nothing is written either way."""
    actor, report = result
    expected = REJECTED if column(world, actor) == "ars_autre_region" else TO_CREATE
    return ([row.outcome for row in report.rows] == [expected] and not report.imported
            and imported_establishments(session) == 0)


def imported(session: so.Session, world: World, result: tuple[SessionUser, Any]) -> bool:
    """The establishment and its account are created (none for the ARS of another region); the import is recorded."""
    actor, report = result
    created_one = column(world, actor) != "ars_autre_region"
    return (report.accounts_created == imported_establishments(session) == outbox_to(session, ROW["email"])
            == int(created_one) and last_action(session, "establishment_import") == "imported")


# ---------------------------------------------------------------- the table


CASES: dict[str, Service] = {
    # ---- core/access/accounts.py
    "accounts.end_sessions": Service(
        lambda s, w, a: (a, accounts.end_sessions(s, actor=a, now=NOW)), SIGNED_IN, signed_out,
        "ses propres sessions"),
    "accounts.request_establishment_account": Service(
        lambda s, w, a: accounts.request_establishment_account(s, actor=a, request=account_request(), now=NOW),
        EVERYONE, requested, "formulaire public « Demande de compte »"),
    "accounts.pending_requests": Service(
        lambda s, w, a: (a, accounts.pending_requests(s, actor=a)), QUEUE, queue_seen,
        "une ARS ne voit que les demandes de sa région, le CCS toutes"),
    "accounts.pending_count": Service(
        lambda s, w, a: (a, accounts.pending_count(s, actor=a)), QUEUE, queue_seen,
        "une ARS ne compte que les demandes de sa région, le CCS toutes"),
    "accounts.validate_account": Service(
        lambda s, w, a: accounts.validate_account(s, actor=a, user_id=w.pending_user_id, now=NOW),
        frozenset({"ars", "ccs"}), validated, "l'ARS de la région de l'établissement, ou le CCS"),
    "accounts.reject_account": Service(
        lambda s, w, a: accounts.reject_account(s, actor=a, user_id=w.pending_user_id,
                                                reason="Établissement inconnu.", now=NOW),
        frozenset({"ars", "ccs"}), rejected, "l'ARS de la région de l'établissement, ou le CCS"),
    "accounts.password_link_owner": Service(
        lambda s, w, a: accounts.password_link_owner(s, actor=a, token=password_link(s, w), now=NOW), EVERYONE,
        lambda s, w, r: r.email == user(s, hr(w)).email,
        "quiconque détient le lien (connecté ou non)"),
    "accounts.activate": Service(
        lambda s, w, a: accounts.activate(s, actor=a, token=activation_token(s), password=NEW_PASSWORD, now=NOW),
        EVERYONE, activated, "jeton à usage unique : quiconque le détient"),
    "accounts.request_password_reset": Service(
        lambda s, w, a: accounts.request_password_reset(s, actor=a, email=user(s, hr(w)).email, now=NOW),
        EVERYONE,
        lambda s, w, r: (last_action(s, "user") == "reset_requested"
                         and outbox_to(s, user(s, hr(w)).email) == 1
                         and count(s, m.Token, m.Token.user_id == hr(w), m.Token.purpose == "reset") == 1),
        "« Mot de passe oublié » : public, même réponse pour une adresse inconnue"),
    # ---- core/access/administration.py
    "administration.admin_scope": Service(
        lambda s, w, a: (a, administration.admin_scope(s, actor=a)), ADMINISTRATORS, scope_seen,
        "les rôles que chacun gère : une ARS ceux de sa région"),
    "administration.list_accounts": Service(
        lambda s, w, a: (a, administration.list_accounts(s, actor=a, now=NOW)), ADMINISTRATORS, accounts_seen,
        "les comptes que chacun gère : une ARS ceux de sa région, le CCS les comptes nationaux et ARS"),
    "administration.disable_account": Service(
        lambda s, w, a: administration.disable_account(s, actor=a, user_id=hr(w), now=NOW),
        ESTABLISHMENT_MANAGERS,
        lambda s, w, r: user(s, hr(w)).status == "disabled" and last_action(s, "user") == "account_disabled",
        "compte établissement : l'ARS de sa région ou l'admin"),
    "administration.enable_account": Service(
        lambda s, w, a: administration.enable_account(s, actor=a, user_id=w.disabled_user_id, now=NOW),
        ESTABLISHMENT_MANAGERS,
        lambda s, w, r: (user(s, w.disabled_user_id).status == "active"
                         and last_action(s, "user") == "account_enabled"),
        "compte établissement : l'ARS de sa région ou l'admin"),
    "administration.unlock_account": Service(
        lambda s, w, a: administration.unlock_account(s, actor=a, user_id=locked(s, w), now=NOW),
        ESTABLISHMENT_MANAGERS,
        lambda s, w, r: user(s, hr(w)).locked_until is None and last_action(s, "user") == "account_unlocked",
        "compte établissement : l'ARS de sa région ou l'admin"),
    "administration.send_account_link": Service(
        lambda s, w, a: administration.send_account_link(s, actor=a, user_id=hr(w), now=NOW),
        ESTABLISHMENT_MANAGERS,
        lambda s, w, r: (r.purpose == "reset" and last_action(s, "user") == "link_sent"
                         and outbox_to(s, user(s, hr(w)).email) == 1),
        "compte établissement : l'ARS de sa région ou l'admin"),
    "administration.create_account": Service(
        lambda s, w, a: administration.create_account(s, actor=a, account=new_account(w), now=NOW),
        ESTABLISHMENT_MANAGERS, created,
        "compte établissement : l'ARS de la région de l'établissement ou l'admin (le CCS ouvre les comptes "
        "nationaux et ARS)"),
    "administration.search_establishments": Service(
        lambda s, w, a: (a, administration.search_establishments(s, actor=a, text="ment test")),
        ESTABLISHMENT_FINDERS, establishments_found, "une ARS ne trouve que les établissements de sa région"),
    "administration.establishment_ids_for": Service(
        ids_found, ESTABLISHMENT_FINDERS,
        lambda s, w, r: r[1] == (w.establishment_id,) if r[0] != "ars_autre_region" else (
            r[1] == f"Aucun établissement validé de votre région n'a le numéro FINESS ou GID « {finess(s, w)} »."),
        "numéro FINESS/GID exact (`create-user --finess`) ; une ARS, de sa région seulement"),
    "administration.attach_establishment": Service(
        lambda s, w, a: administration.attach_establishment(s, actor=a, user_id=hr(w),
                                                            establishment_id=w.other_establishment_id, now=NOW),
        ESTABLISHMENT_MANAGERS,
        lambda s, w, r: (memberships(s, w) == sorted([w.establishment_id, w.other_establishment_id])
                         and r == s.get(m.Establishment, w.other_establishment_id).name),
        "compte établissement : l'ARS de sa région ou l'admin"),
    "administration.detach_establishment": Service(
        lambda s, w, a: administration.detach_establishment(s, actor=a, user_id=second_establishment(s, w),
                                                            establishment_id=w.establishment_id, now=NOW),
        ESTABLISHMENT_MANAGERS,
        lambda s, w, r: (memberships(s, w) == [w.other_establishment_id]
                         and last_action(s, "user") == "establishment_detached"),
        "compte établissement : l'ARS de sa région ou l'admin"),
    # ---- core/access/establishment_import.py
    "establishment_import.preview_import": Service(
        lambda s, w, a: (a, establishment_import.preview_import(s, actor=a, content=import_file())), IMPORTERS,
        previewed, "une ARS : les lignes de sa région seulement (les autres sont rejetées)"),
    "establishment_import.import_establishments": Service(
        lambda s, w, a: (a, establishment_import.import_establishments(s, actor=a, content=import_file(), now=NOW)),
        IMPORTERS, imported, "une ARS : les lignes de sa région seulement (les autres sont rejetées)"),
    # ---- core/mail/outbox.py
    "outbox.list_outbox": Service(
        lambda s, w, a: outbox.list_outbox(s, actor=a, now=NOW), ADMIN,
        lambda s, w, r: r.total == 1 and [row["id"] for row in r.rows] == [w.outbox_id]),
    "outbox.get_outbox_message": Service(
        lambda s, w, a: outbox.get_outbox_message(s, actor=a, outbox_id=w.outbox_id), ADMIN,
        lambda s, w, r: r.id == w.outbox_id and r.to == "alerte@example.org"),
    "outbox.outbox_message": Service(
        lambda s, w, a: outbox.outbox_message(s, actor=a, outbox_id=w.outbox_id, now=NOW), ADMIN,
        lambda s, w, r: r.to == "alerte@example.org" and r.status == "en attente" and r.links == []),
    "outbox.requeue_interrupted": Service(
        lambda s, w, a: outbox.requeue_interrupted(s, actor=a, outbox_id=interrupted(s, w), now=NOW), ADMIN,
        lambda s, w, r: s.get(m.Outbox, w.outbox_id).status == "pending" and last_action(s, "outbox") == "requeued"),
    "outbox.mark_interrupted_as_sent": Service(
        lambda s, w, a: outbox.mark_interrupted_as_sent(s, actor=a, outbox_id=interrupted(s, w), now=NOW), ADMIN,
        lambda s, w, r: s.get(m.Outbox, w.outbox_id).status == "sent" and last_action(s, "outbox") == "marked_sent"),
}
