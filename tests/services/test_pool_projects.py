"""The ARS's territorial pools (core.pools.projects, core.pools.members): creation rules, one open pool per department
(several in Gironde and Pyrénées-Atlantiques), the project follow-up's checks, deadline states and the clawback
warning at given dates, member establishments and join requests, scope by region, the table, the map, the export."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from core.pools import members as pool_members
from core.pools.members import decide_join, establishment_pool, request_join
from core.pools.projects import (
    CLAWBACK_WARNING,
    NewPool,
    ProjectFollowUp,
    close_pool,
    create_pool,
    deadline,
    euros,
    export_pools,
    list_pools,
    pool_detail,
    pools_map,
    update_project,
)
from core.pools.scope import require_coordinator
from core.shared.actions import Action
from core.shared.actor import SessionUser, to_session_user
from core.shared.errors import Conflict, FormErrors, PermissionDenied, ValidationError
from db import models as m
from tests.factories import (
    NOW,
    make_actor,
    make_coordinator,
    make_establishment,
    make_pool,
    make_professional,
    make_roster_entry,
    make_user,
)
from tests.readers import count, events, outbox, xlsx_rows

REGION = "75"  # Nouvelle-Aquitaine
CALL_START = date(2026, 10, 19)  # a project started as the call was published (19/10/2020): deadlines 06/11, 30/01
LETTER = date(2026, 11, 2)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


def ars(session: so.Session, region: str = REGION) -> SessionUser:
    return make_actor(session, "ars", ars_code=region)


def site(session: so.Session, postal_code: str = "24000", category: str | None = "500", **overrides: Any) -> m.Establishment:
    return make_establishment(session, postal_code, finess_category_code=category, **overrides)


def new_pool(support: m.Establishment, *members: m.Establishment, **overrides: Any) -> NewPool:
    values = {"name": "Plateforme test", "department_code": support.department_code, "support_finess": support.finess,
              "member_ids": tuple(e.id for e in members), "start_date": CALL_START}
    return NewPool(**{**values, **overrides})


def created(session: so.Session, actor: SessionUser, support: m.Establishment, *members: m.Establishment,
            **overrides: Any) -> m.TerritorialPool:
    result = create_pool(session, actor=actor, pool=new_pool(support, *members, **overrides), now=NOW)
    return session.get(m.TerritorialPool, result.id)


def hr_of(session: so.Session, establishment: m.Establishment) -> SessionUser:
    return to_session_user(session, user=make_user(session, establishment=establishment))


def follow_up(pool: m.TerritorialPool, **overrides: Any) -> ProjectFollowUp:
    return ProjectFollowUp(**{"engagement_due": pool.engagement_due, "convention_due": pool.convention_due,
                              **overrides})


def state(session: so.Session, pool_id: int, establishment_id: int) -> str | None:
    return session.scalar(sa.select(m.PoolMember.state).where(m.PoolMember.pool_id == pool_id,
                                                              m.PoolMember.establishment_id == establishment_id)
                          .order_by(m.PoolMember.id.desc()).limit(1))


def record(header: tuple, row: tuple) -> dict[str, Any]:
    """A spreadsheet row by its column headers (trailing empty cells are not written)."""
    return dict(zip(header, [*row, *[None] * (len(header) - len(row))], strict=True))


def row_of(session: so.Session, actor: SessionUser, pool_id: int, now: datetime = NOW) -> dict[str, Any]:
    return next(r for r in list_pools(session, actor=actor, now=now).rows if r["id"] == pool_id)


# ---------------------------------------------------------------- creating a pool


def test_an_ars_creates_a_pool_with_its_support_members_the_calls_deadlines_and_a_code(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        support, ssiad = site(session, "24000"), site(session, "24100", "354")
        pool = created(session, regulator, support, ssiad, name="  Plateforme   Dordogne ")
        assert re.fullmatch(r"PT24-[A-HJ-NP-Z2-9]{5}", pool.code)
        assert (pool.name, pool.ars_code, pool.department_code, pool.support_establishment_id) == (
            "Plateforme Dordogne", REGION, "24", support.id)
        # the call's pattern: letter 18 days after the start (19/10 → 06/11), convention 103 days (→ 30/01)
        assert (pool.engagement_due, pool.convention_due) == (date(2026, 11, 6), date(2027, 1, 30))
        # the support, an EHPAD, is a member with the chosen SSIAD
        assert {state(session, pool.id, e.id) for e in (support, ssiad)} == {"membre"}
        [event] = events(session, "created")
        assert (event.entity, event.ars_code, event.details["department"]) == ("territorial_pool", REGION, "24")
        assert len(events(session, "member_added")) == 2


def test_a_second_open_pool_in_a_department_is_refused_naming_the_department_and_nothing_is_saved(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        created(session, regulator, site(session, "24000"), name="Plateforme Dordogne")
        other = site(session, "24100")
        before = (count(session, m.TerritorialPool), count(session, m.PoolMember), count(session, m.Event))
        with pytest.raises(FormErrors) as error:
            created(session, regulator, other, name="Plateforme Bergerac")
        assert error.value.by_field() == {"department_code": (
            "Le département Dordogne (24) a déjà une plateforme territoriale ouverte, « Plateforme Dordogne » : "
            "l'appel à projets en prévoit une par département (plusieurs seulement en Gironde et dans les "
            "Pyrénées-Atlantiques).")}
        assert (count(session, m.TerritorialPool), count(session, m.PoolMember), count(session, m.Event)) == before


@pytest.mark.parametrize(("first", "second"), [("33000", "33500"), ("64000", "64100")])
def test_gironde_and_pyrenees_atlantiques_take_several_infra_departmental_pools(uow, first: str, second: str) -> None:
    with uow() as session:
        regulator = ars(session)
        one = created(session, regulator, site(session, first), name="Plateforme Nord")
        two = created(session, regulator, site(session, second), name="Plateforme Sud")
        assert one.department_code == two.department_code and one.code != two.code


def test_a_closed_pool_frees_its_department_its_members_and_its_pool_only_volunteers(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        support, asking = site(session, "24000"), site(session, "24100")
        pool = created(session, regulator, support)
        request_join(session, actor=hr_of(session, asking), establishment_id=asking.id, pool_id=pool.id, now=NOW)
        only = make_roster_entry(session, pool, make_professional(session, "24000"), origin="inscription")
        coordinator = to_session_user(session, user=make_coordinator(session, pool))
        assert close_pool(session, actor=regulator, pool_id=pool.id, now=NOW) == "Plateforme test"
        assert (state(session, pool.id, support.id), state(session, pool.id, asking.id)) == ("retire", "refuse")
        session.refresh(only)
        assert (only.state, only.released_at) == ("retire", NOW)  # back in the national pool
        with pytest.raises(PermissionDenied, match="fermée"):
            require_coordinator(session, coordinator)
        again = created(session, regulator, support, asking, name="Plateforme Dordogne 2")
        assert {state(session, again.id, e.id) for e in (support, asking)} == {"membre"}
        with pytest.raises(Conflict, match="fermée"):
            update_project(session, actor=regulator, pool_id=pool.id, follow_up=follow_up(pool), now=NOW)


@pytest.mark.parametrize(("category", "postal_code", "status", "why"), [
    ("355", "24000", "active", "est de catégorie CH : une plateforme territoriale réunit des EHPAD, SSIAD, SPASAD ou "
                               "SAAD."),
    (None, "24000", "active", "n'a pas de catégorie FINESS renseignée : une plateforme territoriale réunit des "
                              "EHPAD, SSIAD, SPASAD ou SAAD."),
    ("500", "33000", "active", "n'est pas dans le département de la plateforme (24)."),
    ("500", "24000", "pending", "n'est pas un établissement validé."),
])
def test_a_member_is_an_active_ehpad_ssiad_spasad_or_saad_of_the_department(uow, category, postal_code, status,
                                                                             why) -> None:
    with uow() as session:
        wrong = site(session, postal_code, category, status=status)
        with pytest.raises(FormErrors) as error:
            created(session, ars(session), site(session, "24000"), wrong)
        assert error.value.by_field() == {"member_ids": f"« {wrong.name} » (FINESS {wrong.finess}) {why}"}
        assert count(session, m.TerritorialPool) == 0


def test_an_establishment_belongs_to_one_pool_only(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        member = site(session, "33000")
        first = created(session, regulator, site(session, "33500"), member, name="Plateforme du Libournais")
        with pytest.raises(FormErrors) as error:
            created(session, regulator, site(session, "33700"), member, name="Plateforme Bordeaux")
        assert error.value.by_field()["member_ids"] == (
            f"« {member.name} » (FINESS {member.finess}) est déjà membre de la plateforme « {first.name} » : un "
            "établissement n'appartient qu'à une plateforme.")


def test_the_support_is_chosen_by_finess_among_the_departments_active_establishments(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        elsewhere = site(session, "87000")
        with pytest.raises(FormErrors) as error:
            create_pool(session, actor=regulator, now=NOW, pool=NewPool(
                name="", department_code="24", support_finess=elsewhere.finess, start_date=None))
        assert error.value.by_field() == {
            "name": "Le champ « Nom de la plateforme » est obligatoire.",
            "support_finess": f"« {elsewhere.name} » (FINESS {elsewhere.finess}) n'est pas dans le département de la "
                              "plateforme (Dordogne).",
            "start_date": "La date de début du projet est obligatoire."}
        with pytest.raises(FormErrors) as unknown:
            create_pool(session, actor=regulator, now=NOW, pool=new_pool(site(session), support_finess="240000000"))
        assert unknown.value.by_field() == {"support_finess": "Aucun établissement validé n'a le FINESS « 240000000 »."}


# ---------------------------------------------------------------- scope


def test_an_ars_never_touches_another_regions_pool(uow) -> None:
    with uow() as session:
        pool = created(session, ars(session), site(session, "24000"))
        other = ars(session, "52")
        before = (count(session, m.Event), count(session, m.PoolMember), count(session, m.Outbox))
        with pytest.raises(PermissionDenied, match="Dordogne \\(24\\) relève d'une autre ARS"):
            created(session, other, site(session, "24100"))
        for call in (
            lambda: update_project(session, actor=other, pool_id=pool.id, follow_up=follow_up(pool), now=NOW),
            lambda: close_pool(session, actor=other, pool_id=pool.id, now=NOW),
            lambda: pool_members.add_member(session, actor=other, pool_id=pool.id,
                                            establishment_id=site(session, "24100").id, now=NOW),
            lambda: pool_detail(session, actor=other, pool_id=pool.id, now=NOW),
            lambda: list_pools(session, actor=other, ars_code=REGION, now=NOW),
            lambda: export_pools(session, actor=other, ars_code=REGION, now=NOW),
        ):
            with pytest.raises(PermissionDenied):
                call()
        assert list_pools(session, actor=other, now=NOW).rows == []  # its own region: no pool there
        assert (count(session, m.Event), count(session, m.PoolMember), count(session, m.Outbox)) == before


def test_the_ccs_and_the_ministry_read_every_pool_and_only_the_regulators_get_actions(uow) -> None:
    with uow() as session:
        dordogne = created(session, ars(session), site(session, "24000"))
        nantes = created(session, ars(session, "52"), site(session, "44000"))
        make_coordinator(session, dordogne, first_name="Sophie", last_name="Delmas")
        rows = {r["id"]: r for r in list_pools(session, actor=make_actor(session, "ccs"), now=NOW).rows}
        assert set(rows) == {dordogne.id, nantes.id}
        assert rows[dordogne.id]["coordinators"] == ["Sophie Delmas"]
        assert rows[dordogne.id]["actions"] == {Action.EDIT, Action.CLOSE, Action.MANAGE_MEMBERS}
        ministry = {r["id"]: r for r in list_pools(session, actor=make_actor(session, "ministere"), now=NOW).rows}
        assert ministry[dordogne.id]["actions"] == frozenset()
        assert (ministry[dordogne.id]["coordinators"], ministry[dordogne.id]["coordinator_count"]) == (None, 1)
        with pytest.raises(PermissionDenied):
            update_project(session, actor=make_actor(session, "ministere"), pool_id=dordogne.id,
                           follow_up=follow_up(dordogne), now=NOW)


# ---------------------------------------------------------------- the project follow-up


BAD_FOLLOW_UPS = [
    ({"engagement_received_on": LETTER, "total_budget": -5}, "total_budget",
     "Le montant « budget total » ne peut pas être négatif."),
    ({"engagement_received_on": LETTER, "funding_acquired": 1000.5}, "funding_acquired",
     "Le montant « financements acquis » s'indique en euros entiers, sans centimes."),
    ({"engagement_received_on": LETTER, "funding_expected": "beaucoup"}, "funding_expected",
     "Le montant « financements attendus » (« beaucoup ») n'est pas un nombre d'euros entiers."),
    ({"engagement_summary": "Trois EHPAD"}, "engagement_received_on",
     "Indiquez la date de réception de la lettre d'engagement avant son contenu (résumé, budget, financements)."),
    ({"engagement_received_on": LETTER, "total_budget": 100_000, "funding_acquired": 80_000,
      "funding_expected": 30_000}, "funding_expected",
     f"Les financements acquis et attendus ({euros(110_000)}) dépassent le budget total du projet ({euros(100_000)})."),
    ({"first_credit_on": date(2026, 11, 10)}, "first_credit_on",
     "Le premier crédit est octroyé après analyse de la lettre d'engagement : indiquez d'abord la date de réception "
     "de la lettre."),
    ({"engagement_received_on": date(2026, 11, 10), "first_credit_on": date(2026, 11, 5)}, "first_credit_on",
     "Le premier crédit (05/11/2026) ne peut être versé avant la réception de la lettre d'engagement (10/11/2026)."),
    ({"convention_received_on": date(2026, 11, 5)}, "convention_received_on",
     "La convention suit la lettre d'engagement : indiquez d'abord la date de réception de la lettre."),
    ({"engagement_received_on": date(2026, 11, 10), "convention_received_on": date(2026, 11, 5)},
     "convention_received_on",
     "La convention (05/11/2026) ne peut être reçue avant la lettre d'engagement (10/11/2026)."),
    ({"convention_signatories": "EHPAD Les Pins"}, "convention_received_on",
     "Indiquez la date de réception de la convention avant ses signataires et son bilan d'étape."),
    ({"engagement_received_on": date(2026, 11, 30)}, "engagement_received_on",
     "La date de réception de la lettre d'engagement (30/11/2026) est dans le futur : indiquez-la une fois la pièce "
     "reçue ou le crédit versé."),
    ({"engagement_received_on": "31/02/2026"}, "engagement_received_on",
     "La date de réception de la lettre d'engagement « 31/02/2026 » n'est pas une date (attendu : JJ/MM/AAAA)."),
    ({"engagement_received_on": LETTER, "first_credit_on": date(2026, 11, 5), "second_credit_amount": 20_000},
     "second_credit_amount",
     "Le second crédit est délégué sur la base de la convention et du bilan d'étape : indiquez d'abord la date de "
     "réception de la convention."),
    ({"engagement_received_on": LETTER, "convention_received_on": date(2026, 11, 10),
      "second_credit_amount": 20_000}, "second_credit_amount",
     "Le second crédit complète le premier : renseignez d'abord le premier crédit."),
    ({"engagement_received_on": LETTER, "first_credit_on": date(2026, 11, 5),
      "convention_received_on": date(2026, 11, 10), "second_credit_amount": 20_000,
      "second_credit_on": date(2026, 11, 8)}, "second_credit_on",
     "Le second crédit (08/11/2026) ne peut être versé avant la réception de la convention (10/11/2026)."),
    ({"engagement_received_on": LETTER, "first_credit_on": date(2026, 11, 5),
      "convention_received_on": date(2026, 11, 10), "second_credit_on": date(2026, 11, 20)}, "second_credit_amount",
     "Indiquez le montant du second crédit versé."),
    ({"convention_due": date(2026, 11, 1)}, "convention_due",
     "L'échéance de la convention (01/11/2026) précède celle de la lettre d'engagement (06/11/2026)."),
    ({"engagement_due": None}, "engagement_due", "L'échéance de la lettre d'engagement est obligatoire."),
    ({"engagement_due": date(2026, 10, 1)}, "engagement_due",
     "L'échéance de la lettre d'engagement (01/10/2026) précède le début du projet (19/10/2026)."),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_FOLLOW_UPS,
                         ids=[f"{field}-{index}" for index, (_, field, _) in enumerate(BAD_FOLLOW_UPS)])
def test_each_wrong_follow_up_names_its_field_and_nothing_is_saved(uow, overrides, field, message) -> None:
    with uow() as session:
        regulator = ars(session)
        pool = created(session, regulator, site(session))
        before = count(session, m.Event)
        with pytest.raises(FormErrors) as error:
            update_project(session, actor=regulator, pool_id=pool.id, follow_up=follow_up(pool, **overrides), now=NOW)
        assert error.value.by_field() == {field: message}
        session.refresh(pool)
        assert (pool.engagement_received_on, pool.total_budget, count(session, m.Event)) == (None, None, before)


def test_the_first_credit_defaults_to_50000_and_money_is_committed_then_paid(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        pool = created(session, regulator, site(session))
        changed = update_project(session, actor=regulator, pool_id=pool.id, now=NOW, follow_up=follow_up(
            pool, engagement_received_on=LETTER, engagement_summary="Trois EHPAD et un SSIAD.", total_budget="180 000 €",
            funding_acquired=90_000, funding_expected=60_000, first_credit_on=date(2026, 11, 5)))
        assert changed == ["date de réception de la lettre d'engagement", "résumé de la lettre d'engagement",
                           "budget total", "financements acquis", "financements attendus", "montant du premier crédit",
                           "date du premier crédit"]
        session.refresh(pool)
        assert (pool.total_budget, pool.first_credit_amount) == (180_000, 50_000)
        [event] = events(session, "project_updated")
        assert event.details == {"fields": ["engagement_received_on", "engagement_summary", "total_budget",
                                            "funding_acquired", "funding_expected", "first_credit_amount",
                                            "first_credit_on"]}  # field names, never the values
        row = row_of(session, regulator, pool.id)
        assert (row["committed"], row["paid"]) == (50_000, 50_000)
        update_project(session, actor=regulator, pool_id=pool.id, now=NOW, follow_up=follow_up(
            pool, engagement_received_on=LETTER, engagement_summary="Trois EHPAD et un SSIAD.", total_budget=180_000,
            funding_acquired=90_000, funding_expected=60_000, first_credit_amount=50_000,
            first_credit_on=date(2026, 11, 5), convention_received_on=date(2026, 11, 20),
            second_credit_amount=30_000))
        row = row_of(session, regulator, pool.id)
        assert (row["committed"], row["paid"]) == (80_000, 50_000)  # the second credit granted, not paid yet
        again = update_project(session, actor=regulator, pool_id=pool.id, now=NOW, follow_up=follow_up(
            pool, engagement_received_on=LETTER, engagement_summary="Trois EHPAD et un SSIAD.", total_budget=180_000,
            funding_acquired=90_000, funding_expected=60_000, first_credit_amount=50_000,
            first_credit_on=date(2026, 11, 5), convention_received_on=date(2026, 11, 20),
            second_credit_amount=30_000))
        assert again == [] and len(events(session, "project_updated")) == 2  # nothing changed: nothing recorded


# ---------------------------------------------------------------- deadlines and the clawback warning


@pytest.mark.parametrize(("today", "received", "label"), [
    (date(2026, 11, 5), None, "à venir"),
    (date(2026, 11, 6), None, "à venir"),  # the due day itself
    (date(2026, 11, 7), None, "en retard"),
    (date(2026, 11, 30), date(2026, 11, 10), "reçue le 10/11/2026"),
])
def test_a_deadline_reads_to_come_late_or_received(today: date, received: date | None, label: str) -> None:
    assert deadline(date(2026, 11, 6), received, today).label == label


def test_the_table_gives_each_deadlines_state_on_the_day_it_is_read(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        pool = created(session, regulator, site(session))
        read = lambda day: row_of(session, regulator, pool.id, now=at(day))  # noqa: E731
        assert (read(date(2026, 11, 5))["engagement"].label, read(date(2026, 11, 5))["convention"].label) == (
            "à venir", "à venir")
        assert read(date(2026, 11, 7))["engagement"].label == "en retard"
        update_project(session, actor=regulator, pool_id=pool.id, now=at(date(2026, 11, 12)),
                       follow_up=follow_up(pool, engagement_received_on=date(2026, 11, 10)))
        assert read(date(2026, 11, 12))["engagement"].label == "reçue le 10/11/2026"
        assert read(date(2027, 1, 31))["convention"].label == "en retard"


def test_past_the_conventions_deadline_a_pool_not_operational_carries_the_clawback_warning(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        pool = created(session, regulator, site(session))  # convention due 30/01/2027
        make_coordinator(session, pool, password=None)  # never activated: does not count
        assert row_of(session, regulator, pool.id, now=at(date(2027, 1, 30)))["warnings"] == []
        late = row_of(session, regulator, pool.id, now=at(date(2027, 1, 31)))
        assert late["warnings"] == [CLAWBACK_WARNING] == [
            "plateforme non opérationnelle à l'échéance de la convention : les crédits peuvent être récupérés"]
        assert late["gaps"] == ["convention reçue", "coordinateur au compte activé", "volontaire membre du vivier"]
        assert not late["operational"]
        update_project(session, actor=regulator, pool_id=pool.id, now=at(date(2027, 1, 31)), follow_up=follow_up(
            pool, engagement_received_on=LETTER, convention_received_on=date(2027, 1, 31)))
        make_coordinator(session, pool)
        assert row_of(session, regulator, pool.id, now=at(date(2027, 2, 1)))["gaps"] == ["volontaire membre du vivier"]
        make_roster_entry(session, pool, make_professional(session, "24000"), state="invite")  # not a member yet
        assert row_of(session, regulator, pool.id, now=at(date(2027, 2, 1)))["warnings"] == [CLAWBACK_WARNING]
        make_roster_entry(session, pool, make_professional(session, "24000"))
        running = row_of(session, regulator, pool.id, now=at(date(2027, 2, 1)))
        assert (running["operational"], running["warnings"], running["roster"], running["invited"]) == (True, [], 1, 1)


# ---------------------------------------------------------------- members and join requests


def test_an_establishment_asks_to_join_and_the_coordinator_accepts_with_an_email(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        pool = created(session, regulator, site(session, "33500"), name="Plateforme du Libournais")
        coordinator = to_session_user(session, user=make_coordinator(session, pool, first_name="Julie",
                                                                      last_name="Lacoste"))
        ssiad = site(session, "33000", "354", name="SSIAD de Bordeaux")
        hr = hr_of(session, ssiad)
        view = establishment_pool(session, actor=hr, establishment_id=ssiad.id)
        assert (view.category, view.eligible, view.notice) == ("SSIAD", True, None)
        assert [(p["name"], p["actions"]) for p in view.open_pools] == [("Plateforme du Libournais",
                                                                         {Action.REQUEST_JOIN})]
        assert request_join(session, actor=hr, establishment_id=ssiad.id, pool_id=pool.id, now=NOW) == pool.name
        assert establishment_pool(session, actor=hr, establishment_id=ssiad.id).pending["name"] == pool.name
        with pytest.raises(ValidationError, match="a déjà demandé à rejoindre cette plateforme"):
            request_join(session, actor=hr, establishment_id=ssiad.id, pool_id=pool.id, now=NOW)
        [request] = pool_members.join_requests(session, actor=coordinator, pool_id=pool.id)
        assert (request["name"], request["category"], request["actions"]) == (
            "SSIAD de Bordeaux", "SSIAD", {Action.VALIDATE, Action.REFUSE})
        assert decide_join(session, actor=coordinator, member_id=request["id"], accept=True, now=NOW) == ssiad.name
        assert state(session, pool.id, ssiad.id) == "membre"
        [mail] = [o for o in outbox(session) if o.to == hr.email]
        assert "acceptée" in mail.subject and "« SSIAD de Bordeaux » est désormais membre" in mail.body_text
        member = establishment_pool(session, actor=hr, establishment_id=ssiad.id).member_of
        assert (member["name"], member["code"], [c["last_name"] for c in member["coordinators"]]) == (
            pool.name, pool.code, ["Lacoste"])
        with pytest.raises(Conflict, match="déjà été traitée"):
            decide_join(session, actor=regulator, member_id=request["id"], accept=False, now=NOW)


def test_the_ars_refuses_a_request_with_its_reason_and_the_establishment_may_ask_again(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        pool = created(session, regulator, site(session, "87000"))
        saad = site(session, "87200", "460")
        hr = hr_of(session, saad)
        request_join(session, actor=hr, establishment_id=saad.id, pool_id=pool.id, now=NOW)
        [request] = pool_members.join_requests(session, actor=regulator, pool_id=pool.id)
        other_pool = make_pool(session, site(session, "24000"))
        stranger = to_session_user(session, user=make_coordinator(session, other_pool))
        with pytest.raises(PermissionDenied, match="coordinateur de la plateforme et son ARS"):
            decide_join(session, actor=stranger, member_id=request["id"], accept=True, now=NOW)
        decide_join(session, actor=regulator, member_id=request["id"], accept=False, now=NOW,
                    reason="Le SAAD n'a pas encore signé la lettre d'engagement.")
        assert state(session, pool.id, saad.id) == "refuse"
        [mail] = [o for o in outbox(session) if o.to == hr.email]
        assert "Motif : Le SAAD n'a pas encore signé la lettre d'engagement." in mail.body_text
        view = establishment_pool(session, actor=hr, establishment_id=saad.id)
        assert view.refused["name"] == pool.name and view.open_pools[0]["actions"] == {Action.REQUEST_JOIN}
        request_join(session, actor=hr, establishment_id=saad.id, pool_id=pool.id, now=NOW)  # open pools: ask again
        assert state(session, pool.id, saad.id) == "demande"


def test_who_cannot_ask_to_join_is_told_why(uow) -> None:
    with uow() as session:
        pool = created(session, ars(session), site(session, "24000"))
        hospital = site(session, "24000", "355", name="Centre hospitalier de Périgueux")
        hr = hr_of(session, hospital)
        view = establishment_pool(session, actor=hr, establishment_id=hospital.id)
        assert view.notice == ("Les plateformes territoriales réunissent des EHPAD, SSIAD, SPASAD ou SAAD : votre "
                               "établissement est enregistré comme CH.")
        assert view.open_pools[0]["actions"] == frozenset()
        with pytest.raises(ValidationError, match="est de catégorie CH"):
            request_join(session, actor=hr, establishment_id=hospital.id, pool_id=pool.id, now=NOW)
        limoges = site(session, "87000")
        with pytest.raises(ValidationError, match="celle de votre département"):
            request_join(session, actor=hr_of(session, limoges), establishment_id=limoges.id, pool_id=pool.id, now=NOW)
        assert establishment_pool(session, actor=hr_of(session, limoges), establishment_id=limoges.id).notice == (
            "Aucune plateforme territoriale n'est ouverte dans votre département (Haute-Vienne) pour l'instant : votre "
            "ARS en crée une par département.")
        with pytest.raises(PermissionDenied):
            request_join(session, actor=hr, establishment_id=limoges.id, pool_id=pool.id, now=NOW)


def test_an_establishment_of_unknown_category_declares_it_once_and_may_then_ask(uow) -> None:
    with uow() as session:
        pool = created(session, ars(session), site(session, "24000"))
        older = site(session, "24100", None, name="EHPAD inscrit avant les plateformes")
        hr = hr_of(session, older)
        view = establishment_pool(session, actor=hr, establishment_id=older.id)
        assert (view.notice, view.actions) == (
            "Les plateformes territoriales réunissent des EHPAD, SSIAD, SPASAD ou SAAD : votre établissement n'a pas "
            "de catégorie FINESS renseignée : indiquez-la ci-dessous.", {Action.EDIT})
        with pytest.raises(ValidationError, match="Choisissez la catégorie FINESS"):
            pool_members.declare_finess_category(session, actor=hr, establishment_id=older.id, code="999", now=NOW)
        assert pool_members.declare_finess_category(session, actor=hr, establishment_id=older.id, code="500",
                                                    now=NOW) == "EHPAD"
        [event] = events(session, "finess_category_declared")
        assert (event.entity, event.details) == ("establishment", {"finess_category": "500"})
        view = establishment_pool(session, actor=hr, establishment_id=older.id)
        assert (view.category, view.actions, view.open_pools[0]["actions"]) == ("EHPAD", frozenset(),
                                                                                {Action.REQUEST_JOIN})
        with pytest.raises(Conflict, match="déjà renseignée"):
            pool_members.declare_finess_category(session, actor=hr, establishment_id=older.id, code="354", now=NOW)
        with pytest.raises(PermissionDenied):
            pool_members.declare_finess_category(session, actor=hr, establishment_id=pool.support_establishment_id,
                                                 code="354", now=NOW)


def test_its_ars_corrects_a_wrong_finess_category_and_the_ehpad_may_then_be_added(uow) -> None:
    """« Pour la corriger, contactez votre ARS »: an EHPAD registered as a hospital is offered nowhere until its ARS
    corrects the category, from the pool's members tab."""
    with uow() as session:
        regulator = ars(session)
        pool = created(session, regulator, site(session, "24000"))
        wrong = site(session, "24100", "355", name="EHPAD enregistré comme centre hospitalier")
        detail = pool_detail(session, actor=regulator, pool_id=pool.id, now=NOW)
        assert wrong.id not in detail["candidates"] and wrong.id in detail["correctable"]
        assert detail["correctable"][wrong.id].endswith(f" — FINESS {wrong.finess}")
        with pytest.raises(ValidationError, match="Choisissez la catégorie FINESS"):
            pool_members.correct_finess_category(session, actor=regulator, establishment_id=wrong.id, code="999",
                                                 now=NOW)
        with pytest.raises(PermissionDenied, match="autre ARS"):
            pool_members.correct_finess_category(session, actor=ars(session, "11"), establishment_id=wrong.id,
                                                 code="500", now=NOW)
        assert pool_members.correct_finess_category(session, actor=regulator, establishment_id=wrong.id, code="500",
                                                    now=NOW) == ("EHPAD enregistré comme centre hospitalier", "EHPAD")
        [event] = events(session, "finess_category_corrected")
        assert (event.entity, event.entity_id, event.before, event.after) == ("establishment", str(wrong.id), "355",
                                                                               "500")
        assert wrong.id in pool_detail(session, actor=regulator, pool_id=pool.id, now=NOW)["candidates"]
        with pytest.raises(Conflict, match="déjà enregistré comme EHPAD"):
            pool_members.correct_finess_category(session, actor=regulator, establishment_id=wrong.id, code="500",
                                                 now=NOW)


def test_the_ars_adds_and_removes_members_but_never_the_support(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        support = site(session, "64000")
        pool = created(session, regulator, support)
        newcomer = site(session, "64100", "209", name="SPASAD de Bayonne")
        hr = hr_of(session, newcomer)
        detail = pool_detail(session, actor=regulator, pool_id=pool.id, now=NOW)
        assert newcomer.id in detail["candidates"] and detail["candidates"][newcomer.id].endswith("(SPASAD)")
        assert pool_members.add_member(session, actor=regulator, pool_id=pool.id, establishment_id=newcomer.id,
                                       now=NOW) == "SPASAD de Bayonne"
        [mail] = [o for o in outbox(session) if o.to == hr.email]
        assert "inscrit « SPASAD de Bayonne » parmi les membres de la plateforme territoriale" in mail.body_text
        rows = {r["establishment_id"]: r for r in pool_detail(session, actor=regulator, pool_id=pool.id,
                                                               now=NOW)["member_rows"]}
        assert (rows[support.id]["support"], rows[support.id]["actions"]) == (True, frozenset())
        assert rows[newcomer.id]["actions"] == {Action.MANAGE_MEMBERS}
        with pytest.raises(Conflict, match="support reçoit les crédits"):
            pool_members.remove_member(session, actor=regulator, pool_id=pool.id, establishment_id=support.id, now=NOW)
        pool_members.remove_member(session, actor=regulator, pool_id=pool.id, establishment_id=newcomer.id, now=NOW)
        assert state(session, pool.id, newcomer.id) == "retire"
        assert [e.action for e in events(session, "member_removed")] == ["member_removed"]


def test_adding_an_establishment_that_asked_grants_its_request(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        pool = created(session, regulator, site(session, "24000"))
        asking = site(session, "24100")
        request_join(session, actor=hr_of(session, asking), establishment_id=asking.id, pool_id=pool.id, now=NOW)
        pool_members.add_member(session, actor=regulator, pool_id=pool.id, establishment_id=asking.id, now=NOW)
        assert count(session, m.PoolMember, m.PoolMember.establishment_id == asking.id) == 1
        assert state(session, pool.id, asking.id) == "membre" and len(events(session, "join_accepted")) == 1


# ---------------------------------------------------------------- the map and the export


def test_the_map_gives_each_department_of_the_region_the_worst_state_of_its_pools(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        running = created(session, regulator, site(session, "33500"), name="Plateforme du Libournais")
        created(session, regulator, site(session, "33000"), name="Plateforme Bordeaux")  # not operational
        update_project(session, actor=regulator, pool_id=running.id, now=NOW, follow_up=follow_up(
            running, engagement_received_on=LETTER, convention_received_on=date(2026, 11, 20)))
        make_coordinator(session, running)
        make_roster_entry(session, running, make_professional(session, "33500"))
        created(session, regulator, site(session, "24000"), name="Plateforme Dordogne")
        departments = {d["code"]: d for d in pools_map(session, actor=regulator, now=at(date(2027, 2, 1)))}
        assert len(departments) == 12  # the twelve departments of Nouvelle-Aquitaine
        assert (departments["33"]["pools"], departments["33"]["state"]) == (2, "alerte")  # Bordeaux is late
        assert departments["24"]["state_label"] == "Non opérationnelle à l'échéance de la convention"
        assert (departments["87"]["pools"], departments["87"]["state"]) == (0, "aucune")
        early = {d["code"]: d["state"] for d in pools_map(session, actor=regulator, now=NOW)}
        assert (early["33"], early["24"]) == ("en_montage", "en_montage")


def test_the_export_opens_in_a_spreadsheet_with_the_pools_and_their_members(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        support = site(session, "24000", name="EHPAD Les Jardins")
        pool = created(session, regulator, support, name="Plateforme Dordogne")
        update_project(session, actor=regulator, pool_id=pool.id, now=NOW, follow_up=follow_up(
            pool, engagement_received_on=LETTER, total_budget=180_000, first_credit_on=date(2026, 11, 5)))
        asking = site(session, "24100", "354", name="SSIAD de Bergerac")
        request_join(session, actor=hr_of(session, asking), establishment_id=asking.id, pool_id=pool.id, now=NOW)
        make_coordinator(session, pool, first_name="Sophie", last_name="Delmas")
        created(session, ars(session, "52"), site(session, "44000"), name="Plateforme Loire-Atlantique")
        exported = export_pools(session, actor=regulator, now=NOW)
        assert exported.file_name == "plateformes-territoriales-region-75-2026-11-23.xlsx"
        header, *rows = xlsx_rows(exported.content, "Plateformes")
        assert len(rows) == 1  # its region only
        line = record(header, rows[0])
        assert (line["Code"], line["Plateforme"], line["Région"], line["Département"]) == (
            pool.code, "Plateforme Dordogne", "Nouvelle-Aquitaine", "24 — Dordogne")
        assert (line["Établissement support"], line["Établissements membres"], line["Demandes d'adhésion"]) == (
            "EHPAD Les Jardins", 1, 1)
        assert (line["Coordinateurs"], line["Lettre d'engagement"], line["Budget total (€)"]) == (
            "Sophie Delmas", "reçue le 02/11/2026", 180_000)
        assert (line["Premier crédit (€)"], line["Crédits engagés (€)"], line["Crédits versés (€)"]) == (
            50_000, 50_000, 50_000)
        assert line["Premier crédit versé le"] == datetime(2026, 11, 5)
        assert (line["Convention"], line["Opérationnelle"], line["Alerte"]) == ("à venir", "Non", None)
        members = xlsx_rows(exported.content, "Établissements membres")
        assert [(r[4], r[5], r[7]) for r in members[1:]] == [("EHPAD Les Jardins", "EHPAD", "Membre"),
                                                              ("SSIAD de Bergerac", "SSIAD", "Demande d'adhésion")]
        about = dict(xlsx_rows(exported.content, "À propos"))
        assert about["Périmètre"] == "ARS Nouvelle-Aquitaine" and about["Nombre de plateformes"] == 1
        [event] = events(session, "exported")
        assert (event.details["dataset"], event.ars_code, event.details["rows"]) == ("plateformes_territoriales",
                                                                                     REGION, 1)
        national = export_pools(session, actor=make_actor(session, "ministere"), now=NOW)
        header, *rows = xlsx_rows(national.content, "Plateformes")
        assert sorted(r[1] for r in rows) == ["Plateforme Dordogne", "Plateforme Loire-Atlantique"]
        coordinators = {record(header, row)["Plateforme"]: record(header, row)["Coordinateurs"] for row in rows}
        assert coordinators == {"Plateforme Dordogne": "1 désigné(s)", "Plateforme Loire-Atlantique": "0 désigné(s)"}
        with pytest.raises(PermissionDenied):
            export_pools(session, actor=make_actor(session, "admin"), now=NOW)
