"""Account administration (« Comptes », issue 11 §3): each operation, each refusal, and who manages whom.

The matrix of the issue, as the tests below check it over every actor × every target role:

| actor ↓ manages → | admin | CCS | ministry | ARS | pool | establishment | volunteer |
| admin, command line |  ✓  |  ✓  |    ✓     |  ✓  |  ✓   |      ✓        |  ✓ (disable, unlock, link) |
| CCS               |       |  ✓  |    ✓     |  ✓  |      |               |           |
| ARS (its region)  |       |     |          |  ✓  |  ✓   |      ✓        |           |
| everyone else     |       |     |          |     |      |               |           |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from core.access import administration as admin
from core.access.accounts import activate, authenticate, load_session_user
from core.access.administration import AccountFilters, NewAccount
from core.access.tokens import InvalidLink
from core.shared.actions import Action
from core.shared.actor import COMMAND_LINE, SessionUser, to_session_user
from core.shared.errors import Conflict, FormErrors, NotFound, PermissionDenied, ValidationError
from db import models as m
from db.session import session_scope
from tests.factories import NOW, PASSWORD, make_establishment, make_pool, make_professional, make_user
from tests.readers import count, events, outbox
from tests.services.test_concurrency import race, winners

REGION, OTHER_REGION = "52", "53"
NEW_PASSWORD = "Nouveau-Mot-2026!"
ACTORS = ("anonyme", "professionnel", "etablissement", "pool", "ars", "ars_autre_region", "ccs", "ministere",
          "admin", "operateur")
TARGETS = ("admin", "ccs", "ministere", "ars", "pool", "etablissement", "professionnel")
MANAGES = {
    "admin": frozenset(TARGETS),
    "operateur": frozenset(TARGETS),
    "ccs": frozenset({"ccs", "ministere", "ars"}),
    "ars": frozenset({"ars", "pool", "etablissement"}),
}
ADMINISTRATORS = frozenset({"admin", "operateur", "ccs", "ars", "ars_autre_region"})
ESTABLISHMENT_MANAGERS = frozenset({"admin", "operateur", "ars"})


@dataclass(frozen=True)
class World:
    """Two establishments of Pays de la Loire and one of Bretagne; a target account of every role (region 52
    where it has one), a signed-in actor of every role, and the territorial pool of Loire-Atlantique (a pool
    coordinator account runs one)."""

    nantes: int
    angers: int
    rennes: int
    targets: dict[str, int]
    actors: dict[str, SessionUser | None]
    pool: int


def build(session: so.Session) -> World:
    nantes = make_establishment(session, postal_code="44000")
    angers = make_establishment(session, postal_code="49000")
    rennes = make_establishment(session, postal_code="35000")
    nurse = make_professional(session, postal_code="44300")
    targets = {
        "admin": make_user(session, "admin", first_name="Cible"),
        "ccs": make_user(session, "ccs", first_name="Cible"),
        "ministere": make_user(session, "ministere", first_name="Cible"),
        "ars": make_user(session, "ars", ars_code=REGION, first_name="Cible"),
        "pool": make_user(session, "pool", ars_code=REGION, first_name="Cible"),
        "etablissement": make_user(session, establishment=nantes, first_name="Cible"),
        "professionnel": make_user(session, "professionnel", professional_id=nurse.id, first_name="Cible"),
    }
    actors: dict[str, SessionUser | None] = {
        role: to_session_user(session, user=user) for role, user in {
            "professionnel": make_user(session, "professionnel", professional_id=make_professional(session).id),
            "etablissement": make_user(session, establishment=nantes),
            "pool": make_user(session, "pool", ars_code=REGION),
            "ars": make_user(session, "ars", ars_code=REGION),
            "ars_autre_region": make_user(session, "ars", ars_code=OTHER_REGION),
            "ccs": make_user(session, "ccs"),
            "ministere": make_user(session, "ministere"),
            "admin": make_user(session, "admin"),
        }.items()
    }
    actors["anonyme"] = None
    actors["operateur"] = COMMAND_LINE
    pool = make_pool(session, nantes, created_by=session.get(m.User, actors["ars"].id))
    return World(nantes.id, angers.id, rennes.id, {role: user.id for role, user in targets.items()}, actors, pool.id)


def user(session: so.Session, user_id: int) -> m.User:
    return session.get(m.User, user_id, populate_existing=True)


def written(session: so.Session) -> tuple[Any, ...]:
    """Everything an account action may write."""
    users = session.execute(sa.select(m.User.id, m.User.status, m.User.failed_logins, m.User.locked_until)
                            .order_by(m.User.id)).all()
    return (tuple(users), count(session, m.Event), count(session, m.Outbox), count(session, m.Token),
            count(session, m.Membership))


def new_account(world: World, role: str, actor_role: str, **overrides: Any) -> NewAccount:
    values: dict[str, Any] = {"role": role, "email": f"nouveau.{role}@example.org", "first_name": "Nina",
                              "last_name": "Nouvelle"}
    if role in ("ars", "pool") and actor_role != "ars":
        values["ars_code"] = REGION
    if role == "etablissement":
        values["establishment_ids"] = (world.nantes,)
    if role == "pool":
        values["pool_id"] = world.pool
    return NewAccount(**{**values, **overrides})


# ---------------------------------------------------------------- the who-manages-whom matrix


def _lock(session: so.Session, target: m.User) -> None:
    target.locked_until = NOW + timedelta(minutes=10)


def _disable(session: so.Session, target: m.User) -> None:
    target.status = "disabled"


@dataclass(frozen=True)
class TargetService:
    call: Callable[..., Any]
    prepare: Callable[[so.Session, m.User], None]
    succeeded: Callable[[so.Session, m.User], bool]


TARGET_SERVICES = {
    "disable_account": TargetService(admin.disable_account, lambda s, t: None, lambda s, t: t.status == "disabled"),
    "enable_account": TargetService(admin.enable_account, _disable, lambda s, t: t.status == "active"),
    "unlock_account": TargetService(admin.unlock_account, _lock, lambda s, t: t.locked_until is None),
    "send_account_link": TargetService(
        admin.send_account_link, lambda s, t: None,
        lambda s, t: count(s, m.Token, m.Token.user_id == t.id, m.Token.purpose == "reset") == 1),
}


def _matrix(allowed: bool) -> list[Any]:
    return [pytest.param(service, actor, target, id=f"{service}-{actor}-{target}")
            for service in TARGET_SERVICES for actor in ACTORS for target in TARGETS
            if (target in MANAGES.get(actor, ())) == allowed]


@pytest.mark.parametrize(("service", "actor", "target"), _matrix(allowed=True))
def test_an_actor_manages_the_accounts_the_matrix_gives_it(uow, service: str, actor: str, target: str) -> None:
    with uow() as session:
        world = build(session)
        spec = TARGET_SERVICES[service]
        target_user = user(session, world.targets[target])
        spec.prepare(session, target_user)
        session.flush()
        spec.call(session, actor=world.actors[actor], user_id=target_user.id, now=NOW)
        session.flush()
        assert spec.succeeded(session, user(session, target_user.id))
        event = session.scalars(sa.select(m.Event).order_by(m.Event.id.desc())).first()
        assert event.entity_id == str(target_user.id)
        assert event.actor_user_id == (None if actor == "operateur" else world.actors[actor].id)


@pytest.mark.parametrize(("service", "actor", "target"), _matrix(allowed=False))
def test_anybody_else_is_refused_and_nothing_is_written(uow, service: str, actor: str, target: str) -> None:
    with uow() as session:
        world = build(session)
        spec = TARGET_SERVICES[service]
        target_user = user(session, world.targets[target])
        spec.prepare(session, target_user)
        session.flush()
        before = written(session)
        with pytest.raises(PermissionDenied):
            spec.call(session, actor=world.actors[actor], user_id=target_user.id, now=NOW)
        assert not session.new and not session.dirty
        assert written(session) == before


def _creation(allowed: bool) -> list[Any]:
    creatable = [t for t in TARGETS if t != "professionnel"]
    return [pytest.param(actor, role, id=f"create-{actor}-{role}") for actor in ACTORS for role in creatable
            if (role in MANAGES.get(actor, ())) == allowed]


@pytest.mark.parametrize(("actor", "role"), _creation(allowed=True))
def test_an_actor_opens_accounts_of_the_roles_it_manages(uow, actor: str, role: str) -> None:
    with uow() as session:
        world = build(session)
        created = admin.create_account(session, actor=world.actors[actor], account=new_account(world, role, actor),
                                       now=NOW)
        opened = user(session, created.user_id)
        assert (opened.role, opened.status, opened.password_hash) == (role, "active", None)
        assert opened.ars_code == (REGION if role in ("ars", "pool") else None)


@pytest.mark.parametrize(("actor", "role"), _creation(allowed=False))
def test_an_actor_cannot_open_an_account_of_a_role_it_does_not_manage(uow, actor: str, role: str) -> None:
    with uow() as session:
        world = build(session)
        before = written(session)
        with pytest.raises(PermissionDenied):
            admin.create_account(session, actor=world.actors[actor], account=new_account(world, role, actor), now=NOW)
        assert written(session) == before


# Services without a target account: who may call them at all (`name` is the actor's key in ACTORS).
def _list(session: so.Session, world: World, name: str) -> bool:
    page = admin.list_accounts(session, actor=world.actors[name], now=NOW)
    listed = {row["id"] for row in page.rows}
    return {role for role, target in world.targets.items() if target in listed} == set(MANAGES.get(name, ()))


def _scope(session: so.Session, world: World, name: str) -> bool:
    scope = admin.admin_scope(session, actor=world.actors[name])
    return set(scope.creatable_roles) == MANAGES[world.actors[name].role] - {"professionnel"}


def _attach(session: so.Session, world: World, name: str) -> bool:
    admin.attach_establishment(session, actor=world.actors[name], user_id=world.targets["etablissement"],
                               establishment_id=world.angers, now=NOW)
    return count(session, m.Membership, m.Membership.user_id == world.targets["etablissement"]) == 2


def _second_establishment(session: so.Session, world: World) -> None:
    session.add(m.Membership(user_id=world.targets["etablissement"], establishment_id=world.angers))
    session.flush()


def _detach(session: so.Session, world: World, name: str) -> bool:
    admin.detach_establishment(session, actor=world.actors[name], user_id=world.targets["etablissement"],
                               establishment_id=world.nantes, now=NOW)
    return session.scalars(sa.select(m.Membership.establishment_id)
                           .where(m.Membership.user_id == world.targets["etablissement"])).all() == [world.angers]


def _search(session: so.Session, world: World, name: str) -> bool:
    found = {row["id"] for row in admin.search_establishments(session, actor=world.actors[name],
                                                              text="ment TEST")}
    expected = {"ars": {world.nantes, world.angers}, "ars_autre_region": {world.rennes}}
    return found == expected.get(name, {world.nantes, world.angers, world.rennes})


def _ids_for(session: so.Session, world: World, name: str) -> bool:
    finess = session.get(m.Establishment, world.nantes).finess
    if name == "ars_autre_region":  # an ARS finds those of its own region only
        with pytest.raises(ValidationError, match="Aucun établissement validé de votre région"):
            admin.establishment_ids_for(session, actor=world.actors[name], identifiers=(finess,))
        return True
    return admin.establishment_ids_for(session, actor=world.actors[name], identifiers=(finess,)) == (world.nantes,)


ESTABLISHMENT_FINDERS = ESTABLISHMENT_MANAGERS | {"ars_autre_region"}  # an ARS finds those of its own region
POOL_ACCOUNT_OPENERS = frozenset({"admin", "operateur", "ars", "ars_autre_region"})  # not the CCS (issue 11 §3)


def _pools(session: so.Session, world: World, name: str) -> bool:
    """The open pools a new coordinator may run: an ARS's own region's (none in Brittany), the chosen region's."""
    found = admin.assignable_pools(session, actor=world.actors[name], ars_code=REGION)
    return set(found) == (set() if name == "ars_autre_region" else {world.pool})


def _nothing(session: so.Session, world: World) -> None:
    pass


# name → (the call and what it must give, the actors allowed, what the world needs first)
OTHER_SERVICES: dict[str, tuple[Callable[..., bool], frozenset[str], Callable[[so.Session, World], None]]] = {
    "list_accounts": (_list, ADMINISTRATORS, _nothing),
    "admin_scope": (_scope, ADMINISTRATORS, _nothing),
    "attach_establishment": (_attach, ESTABLISHMENT_MANAGERS, _nothing),
    "detach_establishment": (_detach, ESTABLISHMENT_MANAGERS, _second_establishment),
    "search_establishments": (_search, ESTABLISHMENT_FINDERS, _nothing),
    "establishment_ids_for": (_ids_for, ESTABLISHMENT_FINDERS, _nothing),
    "assignable_pools": (_pools, POOL_ACCOUNT_OPENERS, _nothing),
}


def test_every_public_service_is_in_the_matrix() -> None:
    public = {name for name, value in vars(admin).items()
              if callable(value) and getattr(value, "__module__", None) == admin.__name__
              and not name.startswith("_") and not isinstance(value, type)}
    helpers = {"manages", "creatable_roles"}  # the rules themselves, not services
    assert public - helpers == set(TARGET_SERVICES) | set(OTHER_SERVICES) | {"create_account"}


@pytest.mark.parametrize(("service", "actor"), [
    pytest.param(service, actor, id=f"{service}-{actor}") for service in OTHER_SERVICES for actor in ACTORS])
def test_the_other_services_answer_their_roles_only(uow, service: str, actor: str) -> None:
    check, allowed, prepare = OTHER_SERVICES[service]
    with uow() as session:
        world = build(session)
        prepare(session, world)
        if actor in allowed:
            assert check(session, world, actor)
            return
        before = written(session)
        with pytest.raises(PermissionDenied):
            check(session, world, actor)
        assert written(session) == before


# ---------------------------------------------------------------- creating an account


def _last_link(session: so.Session, to: str) -> str:
    body = session.scalars(sa.select(m.Outbox.body_text).where(m.Outbox.to == to).order_by(m.Outbox.id.desc())).first()
    return body.split("Activer mon compte : ")[1].split()[0]


def test_a_new_ars_account_gets_an_activation_link_and_can_then_sign_in(uow) -> None:
    with uow() as session:
        world = build(session)
        created = admin.create_account(session, actor=world.actors["ccs"], now=NOW, account=NewAccount(
            role="ars", email="  Sophie.Garnier@ARS.sante.fr ", first_name="Sophie", last_name="Garnier",
            phone="02 40 12 34 56", ars_code="52"))
        opened = user(session, created.user_id)
        assert (opened.email, opened.phone, opened.ars_code) == ("sophie.garnier@ars.sante.fr", "+33240123456", "52")
        mail = outbox(session)[-1]
        assert (mail.to, mail.subject) == ("sophie.garnier@ars.sante.fr", "Renfort RH — votre compte est créé")
        assert created.link == _last_link(session, opened.email)
        [event] = events(session, "account_created")
        assert (event.actor_user_id, event.after, event.ars_code) == (world.actors["ccs"].id, "active", "52")
        assert event.details == {"role": "ars", "establishment_ids": []}
        assert authenticate(session, email=opened.email, password=NEW_PASSWORD, now=NOW).user is None
        activate(session, actor=None, token=created.link.split("jeton=")[1], password=NEW_PASSWORD, now=NOW)
        outcome = authenticate(session, email=opened.email, password=NEW_PASSWORD, now=NOW)
        assert outcome.user is not None and outcome.user.role == "ars" and outcome.user.ars_code == "52"


def test_an_establishment_account_can_manage_several_establishments_from_the_start(uow) -> None:
    with uow() as session:
        world = build(session)
        created = admin.create_account(session, actor=world.actors["ars"], now=NOW, account=new_account(
            world, "etablissement", "ars", establishment_ids=(world.nantes, world.angers, world.nantes)))
        signed = to_session_user(session, user=user(session, created.user_id))
        assert set(signed.establishment_ids) == {world.nantes, world.angers}
        [event] = events(session, "account_created")
        assert sorted(event.details["establishment_ids"]) == sorted([world.nantes, world.angers])


def test_a_coordinator_account_runs_an_open_pool_of_its_region(uow) -> None:
    with uow() as session:
        world = build(session)
        ars = world.actors["ars"]
        created = admin.create_account(session, actor=ars, account=new_account(world, "pool", "ars"), now=NOW)
        opened = user(session, created.user_id)
        assert (opened.role, opened.pool_id, opened.ars_code) == ("pool", world.pool, REGION)
        assert events(session, "account_created")[-1].details["pool_id"] == world.pool
        assert outbox(session)[-1].to == "nouveau.pool@example.org"  # its activation link, as every account here
        [listed] = admin.list_accounts(session, actor=ars, filters=AccountFilters(text="nouveau.pool"), now=NOW).rows
        assert listed["pool"] == session.get(m.TerritorialPool, world.pool).name  # « Comptes » names its pool
        before = written(session)
        with pytest.raises(FormErrors) as missing:
            admin.create_account(session, actor=ars, now=NOW, account=new_account(
                world, "pool", "ars", email="sans.plateforme@example.org", pool_id=None))
        assert missing.value.by_field() == {"pool_id": "Choisissez la plateforme territoriale que ce compte coordonne."}
        with pytest.raises(FormErrors) as wrong_role:
            admin.create_account(session, actor=ars, now=NOW, account=new_account(
                world, "ars", "ars", email="ars.plateforme@example.org", pool_id=world.pool))
        assert wrong_role.value.by_field() == {
            "pool_id": "Seuls les comptes coordinateur de vivier territorial sont rattachés à une plateforme."}
        with pytest.raises(PermissionDenied, match="relève d'une autre ARS"):
            admin.create_account(session, actor=world.actors["ars_autre_region"], now=NOW, account=new_account(
                world, "pool", "ars", email="bretagne@example.org"))
        with pytest.raises(FormErrors) as other_region:
            admin.create_account(session, actor=world.actors["admin"], now=NOW, account=new_account(
                world, "pool", "admin", email="bretagne@example.org", ars_code=OTHER_REGION))
        assert other_region.value.by_field() == {
            "pool_id": "Cette plateforme territoriale est dans une autre région que celle du compte."}
        session.get(m.TerritorialPool, world.pool).closed_at = NOW
        with pytest.raises(FormErrors) as closed:
            admin.create_account(session, actor=ars, now=NOW, account=new_account(
                world, "pool", "ars", email="fermee@example.org"))
        assert closed.value.by_field() == {"pool_id": "Cette plateforme territoriale n'existe pas ou est fermée."}
        session.get(m.TerritorialPool, world.pool).closed_at = None
        assert written(session) == before


def test_an_ars_opens_ars_and_pool_accounts_of_its_own_region_only(uow) -> None:
    with uow() as session:
        world = build(session)
        ars = world.actors["ars"]
        created = admin.create_account(session, actor=ars, account=new_account(world, "pool", "ars"), now=NOW)
        assert user(session, created.user_id).ars_code == REGION
        before = written(session)
        with pytest.raises(PermissionDenied, match="dans sa région"):
            admin.create_account(session, actor=ars, now=NOW,
                                 account=new_account(world, "ars", "ars", email="autre@example.org", ars_code="53"))
        with pytest.raises(PermissionDenied, match="relève d'une autre ARS"):
            admin.create_account(session, actor=ars, now=NOW, account=new_account(
                world, "etablissement", "ars", email="autre@example.org", establishment_ids=(world.rennes,)))
        assert written(session) == before


@pytest.mark.parametrize("email", ["CIBLE.EXISTANTE@example.org", "cible.existante@EXAMPLE.ORG"])
def test_an_email_already_used_in_another_case_is_refused_on_its_field(uow, email: str) -> None:
    with uow() as session:
        world = build(session)
        make_user(session, "ccs", email="cible.existante@example.org")
        before = written(session)
        with pytest.raises(FormErrors) as refused:
            admin.create_account(session, actor=world.actors["admin"], now=NOW,
                                 account=new_account(world, "ministere", "admin", email=email))
        assert refused.value.by_field() == {"email": "Un compte existe déjà avec cette adresse électronique."}
        assert written(session) == before


def test_every_wrong_field_is_reported_at_once_with_a_french_message_and_nothing_is_saved(uow) -> None:
    with uow() as session:
        world = build(session)
        before = written(session)
        with pytest.raises(FormErrors) as refused:
            admin.create_account(session, actor=world.actors["admin"], now=NOW, account=NewAccount(
                role="ars", email="pas-une-adresse", first_name=" ", last_name="X" * 101, phone="12"))
        assert refused.value.by_field() == {
            "first_name": "Le champ « Prénom » est obligatoire.",
            "last_name": "Le champ « Nom » dépasse 100 caractères.",
            "email": "L'adresse électronique « pas-une-adresse » n'est pas valide (exemple attendu : "
                     "prenom.nom@domaine.fr).",
            "phone": "Le numéro de téléphone « 12 » n'est pas un numéro français valide (exemples : 06 12 34 56 78, "
                     "+33 6 12 34 56 78, 0690 12 34 56).",
            "ars_code": "Choisissez la région (ARS) du compte.",
        }
        assert written(session) == before


@pytest.mark.parametrize(("account", "field", "message"), [
    (dict(role="professionnel"), "role", "Les comptes des professionnels volontaires s'ouvrent par leur inscription "
                                         "(« Proposer mon aide »)."),
    (dict(role="chef"), "role", "Choisissez le rôle du compte."),
    (dict(role="admin", ars_code="52"), "ars_code",
     "Seuls les comptes ARS et coordinateur de vivier sont rattachés à une région."),
    (dict(role="etablissement"), "establishment_ids", "Choisissez au moins un établissement."),
    (dict(role="ccs", establishment_ids=(1,)), "establishment_ids",
     "Seuls les comptes établissement sont rattachés à des établissements."),
    (dict(role="etablissement", establishment_ids=(999_999,)), "establishment_ids",
     "Cet établissement n'existe pas ou n'est pas encore validé."),
])
def test_a_role_gets_what_it_needs_and_nothing_else(uow, account: dict, field: str, message: str) -> None:
    with uow() as session:
        world = build(session)
        with pytest.raises(FormErrors) as refused:
            admin.create_account(session, actor=world.actors["admin"], now=NOW, account=NewAccount(
                email="nina@example.org", first_name="Nina", last_name="Nouvelle", **account))
        assert refused.value.by_field() == {field: message}


def test_a_pending_establishment_cannot_be_given_to_an_account(uow) -> None:
    with uow() as session:
        world = build(session)
        pending = make_establishment(session, status="pending")
        with pytest.raises(FormErrors) as refused:
            admin.create_account(session, actor=world.actors["admin"], now=NOW,
                                 account=new_account(world, "etablissement", "admin", establishment_ids=(pending.id,)))
        assert set(refused.value.by_field()) == {"establishment_ids"}


# ---------------------------------------------------------------- disable, re-enable, unlock


def test_a_disabled_user_is_out_at_once_and_can_sign_in_again_once_re_enabled(uow) -> None:
    with uow() as session:
        world = build(session)
        target = user(session, world.targets["etablissement"])
        assert load_session_user(session, email=target.email) is not None
        assert admin.disable_account(session, actor=world.actors["ars"], user_id=target.id, now=NOW) == target.email
        assert load_session_user(session, email=target.email) is None
        outcome = authenticate(session, email=target.email, password=PASSWORD, now=NOW)
        assert (outcome.user, outcome.error) == (None, "Ce compte est désactivé. Contactez votre ARS.")
        [disabled] = events(session, "account_disabled")
        assert (disabled.before, disabled.after, disabled.ars_code) == ("active", "disabled", REGION)
        with pytest.raises(Conflict, match="déjà désactivé"):
            admin.disable_account(session, actor=world.actors["ars"], user_id=target.id, now=NOW)
        admin.enable_account(session, actor=world.actors["ars"], user_id=target.id, now=NOW)
        assert authenticate(session, email=target.email, password=PASSWORD, now=NOW).user is not None
        [enabled] = events(session, "account_enabled")
        assert (enabled.before, enabled.after) == ("disabled", "active")
        with pytest.raises(Conflict, match="déjà actif"):
            admin.enable_account(session, actor=world.actors["ars"], user_id=target.id, now=NOW)


def test_nobody_disables_their_own_account(uow) -> None:
    with uow() as session:
        world = build(session)
        for role in ("admin", "ccs", "ars"):
            with pytest.raises(Conflict, match="votre propre compte"):
                admin.disable_account(session, actor=world.actors[role], user_id=world.actors[role].id, now=NOW)
        assert not events(session, "account_disabled")


def test_nobody_disables_the_last_admin_who_can_sign_in(uow) -> None:
    with uow() as session:
        world = build(session)
        last = user(session, world.targets["admin"])
        user(session, world.actors["admin"].id).status = "disabled"
        never_activated = make_user(session, "admin", password=None)  # cannot sign in: does not count
        session.flush()
        with pytest.raises(Conflict, match="dernier compte administrateur actif"):
            admin.disable_account(session, actor=COMMAND_LINE, user_id=last.id, now=NOW)
        assert user(session, last.id).status == "active"
        rows = admin.list_accounts(session, actor=COMMAND_LINE, filters=AccountFilters(role="admin"), now=NOW).rows
        actions = {row["id"]: row["actions"] for row in rows}
        assert Action.DISABLE not in actions[last.id]
        assert Action.DISABLE in actions[never_activated.id]
        admin.enable_account(session, actor=COMMAND_LINE, user_id=world.actors["admin"].id, now=NOW)
        admin.disable_account(session, actor=COMMAND_LINE, user_id=last.id, now=NOW)
        assert user(session, last.id).status == "disabled"


def test_unlocking_lifts_the_lockout_before_its_fifteen_minutes(uow) -> None:
    with uow() as session:
        world = build(session)
        target = user(session, world.targets["ars"])
        for _ in range(5):
            authenticate(session, email=target.email, password="mauvais", now=NOW)
        assert "verrouillé" in authenticate(session, email=target.email, password=PASSWORD, now=NOW).error
        rows = admin.list_accounts(session, actor=world.actors["ccs"], filters=AccountFilters(state="locked"),
                                   now=NOW).rows
        assert [(row["id"], Action.UNLOCK in row["actions"]) for row in rows] == [(target.id, True)]
        admin.unlock_account(session, actor=world.actors["ccs"], user_id=target.id, now=NOW)
        assert authenticate(session, email=target.email, password=PASSWORD, now=NOW).user is not None
        assert [e.actor_user_id for e in events(session, "account_unlocked")] == [world.actors["ccs"].id]
        with pytest.raises(Conflict, match="n'est pas verrouillé"):
            admin.unlock_account(session, actor=world.actors["ccs"], user_id=target.id, now=NOW)


def test_a_request_awaiting_validation_is_left_to_the_validation_queue(uow) -> None:
    with uow() as session:
        world = build(session)
        request = make_user(session, establishment=session.get(m.Establishment, world.nantes), status="pending",
                            password=None)
        before = written(session)
        for service in (admin.disable_account, admin.send_account_link):
            with pytest.raises(Conflict, match="Validation des comptes"):
                service(session, actor=world.actors["ars"], user_id=request.id, now=NOW)
        assert written(session) == before
        [row] = [r for r in admin.list_accounts(session, actor=world.actors["ars"], now=NOW).rows if r["id"] == request.id]
        assert (row["state"], row["situation"], row["actions"]) == ("pending", "awaiting_validation", frozenset())


def test_an_unknown_or_refused_account_is_not_found(uow) -> None:
    with uow() as session:
        world = build(session)
        refused = make_user(session, status="rejected", password=None)
        for user_id in (refused.id, 999_999):
            with pytest.raises(NotFound):
                admin.disable_account(session, actor=world.actors["admin"], user_id=user_id, now=NOW)


# ---------------------------------------------------------------- links


def test_an_account_not_activated_gets_a_fresh_activation_link_and_the_earlier_one_stops_working(uow) -> None:
    with uow() as session:
        world = build(session)
        first = admin.create_account(session, actor=world.actors["admin"], now=NOW,
                                     account=new_account(world, "ministere", "admin"))
        sent = admin.send_account_link(session, actor=world.actors["admin"], user_id=first.user_id,
                                       now=NOW + timedelta(hours=1))
        assert (sent.email, sent.purpose) == ("nouveau.ministere@example.org", "activation")
        mails = [mail for mail in outbox(session) if mail.to == sent.email]
        assert [mail.subject for mail in mails] == ["Renfort RH — votre compte est créé"] * 2
        tokens = session.scalars(sa.select(m.Token).where(m.Token.user_id == first.user_id).order_by(m.Token.id)).all()
        assert [(t.purpose, t.cancelled_at is not None) for t in tokens] == [("activation", True), ("activation", False)]
        with pytest.raises(InvalidLink, match="remplacé"):
            activate(session, actor=None, token=first.link.split("jeton=")[1], password=NEW_PASSWORD, now=NOW)
        activate(session, actor=None, token=_last_link(session, sent.email).split("jeton=")[1], password=NEW_PASSWORD,
                 now=NOW + timedelta(hours=2))
        assert authenticate(session, email=sent.email, password=NEW_PASSWORD, now=NOW).user is not None
        assert [e.details for e in events(session, "link_sent")] == [{"purpose": "activation"}]


def test_an_active_account_gets_a_reset_link_and_a_disabled_one_none(uow) -> None:
    with uow() as session:
        world = build(session)
        target = user(session, world.targets["ccs"])
        sent = admin.send_account_link(session, actor=world.actors["admin"], user_id=target.id, now=NOW)
        assert sent.purpose == "reset"
        mail = outbox(session)[-1]
        assert (mail.to, mail.subject) == (target.email, "Renfort RH — choisir votre mot de passe")
        token = mail.body_text.split("jeton=")[1].split()[0]
        activate(session, actor=None, token=token, password=NEW_PASSWORD, now=NOW)
        assert authenticate(session, email=target.email, password=NEW_PASSWORD, now=NOW).user is not None
        admin.disable_account(session, actor=world.actors["admin"], user_id=target.id, now=NOW)
        before = written(session)
        with pytest.raises(Conflict, match="désactivé"):
            admin.send_account_link(session, actor=world.actors["admin"], user_id=target.id, now=NOW)
        assert written(session) == before


# ---------------------------------------------------------------- establishments of an account


def test_an_establishment_user_is_attached_to_several_establishments_and_detached_again(uow) -> None:
    with uow() as session:
        world = build(session)
        target = world.targets["etablissement"]
        ars = world.actors["ars"]
        admin.attach_establishment(session, actor=ars, user_id=target, establishment_id=world.angers, now=NOW)
        assert set(to_session_user(session, user=user(session, target)).establishment_ids) == {world.nantes, world.angers}
        with pytest.raises(Conflict, match="gère déjà"):
            admin.attach_establishment(session, actor=ars, user_id=target, establishment_id=world.angers, now=NOW)
        with pytest.raises(PermissionDenied, match="autre ARS"):
            admin.attach_establishment(session, actor=ars, user_id=target, establishment_id=world.rennes, now=NOW)
        admin.detach_establishment(session, actor=ars, user_id=target, establishment_id=world.nantes, now=NOW)
        assert to_session_user(session, user=user(session, target)).establishment_ids == (world.angers,)
        with pytest.raises(Conflict, match="seul établissement"):
            admin.detach_establishment(session, actor=ars, user_id=target, establishment_id=world.angers, now=NOW)
        with pytest.raises(NotFound):
            admin.detach_establishment(session, actor=ars, user_id=target, establishment_id=world.nantes, now=NOW)
        assert [e.details for e in events(session, "establishment_attached")] == [{"establishment_id": world.angers}]
        assert [e.details for e in events(session, "establishment_detached")] == [{"establishment_id": world.nantes}]


def test_an_account_spanning_two_regions_is_left_to_the_admins(uow) -> None:
    with uow() as session:
        world = build(session)
        target = world.targets["etablissement"]
        admin.attach_establishment(session, actor=world.actors["admin"], user_id=target, establishment_id=world.rennes,
                                   now=NOW)
        for ars in ("ars", "ars_autre_region"):
            with pytest.raises(PermissionDenied):
                admin.disable_account(session, actor=world.actors[ars], user_id=target, now=NOW)
            [row] = [r for r in admin.list_accounts(session, actor=world.actors[ars], now=NOW).rows if r["id"] == target]
            assert row["actions"] == frozenset() and row["regions"] == ("52", "53")


def test_only_establishment_accounts_have_establishments(uow) -> None:
    with uow() as session:
        world = build(session)
        with pytest.raises(Conflict, match="Seuls les comptes établissement"):
            admin.attach_establishment(session, actor=world.actors["admin"], user_id=world.targets["ccs"],
                                       establishment_id=world.nantes, now=NOW)


def test_establishments_are_found_by_finess_or_name_validated_only(uow) -> None:
    with uow() as session:
        world = build(session)
        make_establishment(session, status="pending", name="Clinique en attente")
        nantes = session.get(m.Establishment, world.nantes)
        nantes.name = "CHU de Nantes"
        session.flush()
        by_name = admin.search_establishments(session, actor=world.actors["admin"], text="chu de")
        by_finess = admin.search_establishments(session, actor=world.actors["admin"], text=nantes.finess[:7])
        assert [row["id"] for row in by_name] == [world.nantes]
        assert world.nantes in [row["id"] for row in by_finess]
        assert admin.search_establishments(session, actor=world.actors["admin"], text="clinique en") == []
        assert admin.search_establishments(session, actor=world.actors["admin"], text="c") == []


# ---------------------------------------------------------------- the list


def _ids(session: so.Session, actor: SessionUser, **filters: Any) -> set[int]:
    return {row["id"] for row in admin.list_accounts(session, actor=actor, filters=AccountFilters(**filters),
                                                     now=NOW, limit=200).rows}


def test_the_list_filters_in_sql_by_text_role_region_establishment_and_state(uow) -> None:
    with uow() as session:
        world = build(session)
        operator = COMMAND_LINE
        t = world.targets
        garnier = make_user(session, "ars", ars_code=OTHER_REGION, first_name="Sophie", last_name="Garnier",
                            email="s.garnier@ars.example.org")
        pending = make_user(session, "ccs", password=None)
        disabled = make_user(session, "ministere", status="disabled")
        locked = make_user(session, "pool", ars_code=REGION, locked_until=NOW + timedelta(minutes=3))
        assert _ids(session, operator, text="GARN") == {garnier.id}
        assert _ids(session, operator, text="sophie garnier") == {garnier.id}
        assert _ids(session, operator, text="ars.example") == {garnier.id}
        assert _ids(session, operator, role="pool") == {t["pool"], locked.id, world.actors["pool"].id}
        in_region = _ids(session, operator, ars_code=OTHER_REGION)
        assert in_region == {garnier.id, world.actors["ars_autre_region"].id}
        region_52 = _ids(session, operator, ars_code=REGION)
        assert {t["ars"], t["pool"], t["etablissement"], t["professionnel"]} <= region_52
        assert t["ccs"] not in region_52
        finess = session.get(m.Establishment, world.nantes).finess
        assert _ids(session, operator, establishment=finess) == {t["etablissement"], world.actors["etablissement"].id}
        assert _ids(session, operator, state="pending") == {pending.id}
        [row] = admin.list_accounts(session, actor=operator, filters=AccountFilters(state="pending"), now=NOW).rows
        assert (row["situation"], row["has_password"], row["actions"]) == (
            "awaiting_activation", False, frozenset({Action.SEND_LINK, Action.DISABLE}))
        assert _ids(session, operator, state="disabled") == {disabled.id}
        assert _ids(session, operator, state="locked") == {locked.id}
        assert locked.id not in _ids(session, operator, state="active")
        assert t["admin"] in _ids(session, operator, state="active")


def test_the_list_is_paged_and_counted(uow) -> None:
    with uow() as session:
        world = build(session)
        for n in range(12):
            make_user(session, "ministere", last_name=f"Zz{n:02d}")
        first = admin.list_accounts(session, actor=world.actors["ccs"], filters=AccountFilters(role="ministere"),
                                    offset=0, limit=5, now=NOW)
        last = admin.list_accounts(session, actor=world.actors["ccs"], filters=AccountFilters(role="ministere"),
                                   offset=10, limit=5, now=NOW)
        assert first.total == last.total == 14
        assert len(first.rows) == 5 and len(last.rows) == 4
        assert [row["last_name"] for row in last.rows][-3:] == ["Zz09", "Zz10", "Zz11"]


def test_an_ars_lists_the_accounts_of_its_region_and_the_ccs_the_national_ones(uow) -> None:
    with uow() as session:
        world = build(session)
        rennes_user = make_user(session, establishment=session.get(m.Establishment, world.rennes))
        ars_rows = admin.list_accounts(session, actor=world.actors["ars"], now=NOW).rows
        assert {row["role"] for row in ars_rows} == {"ars", "pool", "etablissement"}
        assert rennes_user.id not in {row["id"] for row in ars_rows}
        assert {row["regions"] for row in ars_rows} == {(REGION,)}
        ccs_rows = admin.list_accounts(session, actor=world.actors["ccs"], now=NOW).rows
        assert {row["role"] for row in ccs_rows} == {"ccs", "ministere", "ars"}
        own = next(row for row in ccs_rows if row["id"] == world.actors["ccs"].id)
        assert own["actions"] == frozenset({Action.SEND_LINK})  # never its own « Désactiver »


def test_no_personal_value_is_written_in_the_events(uow) -> None:
    with uow() as session:
        world = build(session)
        created = admin.create_account(session, actor=world.actors["admin"], now=NOW, account=new_account(
            world, "etablissement", "admin", email="tres.personnel@example.org", first_name="Prénomunique",
            last_name="Nomunique", phone="06 99 88 77 66"))
        for service in (admin.send_account_link, admin.disable_account, admin.enable_account):
            service(session, actor=world.actors["admin"], user_id=created.user_id, now=NOW)
        admin.attach_establishment(session, actor=world.actors["admin"], user_id=created.user_id,
                                   establishment_id=world.angers, now=NOW)
        trail = " ".join(f"{e.before} {e.after} {e.details}" for e in session.scalars(sa.select(m.Event)))
        for personal in ("tres.personnel", "Prénomunique", "Nomunique", "99 88", "+33699"):
            assert personal not in trail


def test_two_last_admins_disabling_each_other_at_once_leave_one_active(db_url) -> None:
    """The database settles it (row locks taken in one order on PostgreSQL, BEGIN IMMEDIATE on SQLite): one
    succeeds, the other gets the last-admin refusal — never both, never a deadlock."""
    with session_scope(db_url) as session:
        first, second = (to_session_user(session, user=make_user(session, "admin")) for _ in range(2))
    outcomes = race(db_url, {
        "first": lambda s: admin.disable_account(s, actor=first, user_id=second.id, now=NOW),
        "second": lambda s: admin.disable_account(s, actor=second, user_id=first.id, now=NOW),
    })
    assert len(winners(outcomes)) == 1
    [loser] = [o for o in outcomes.values() if not o.ok]
    assert isinstance(loser.error, Conflict) and "dernier compte administrateur actif" in loser.error.message
    with session_scope(db_url, read_only=True) as session:
        assert count(session, m.User, m.User.role == "admin", m.User.status == "active") == 1
