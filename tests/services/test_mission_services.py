"""An establishment's needs (create, edit, duplicate, dashboard, assigned staff) and what each side sees of
the other: the volunteer's sheet and documents, the volunteer's "Mes missions"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.actions import Action
from core.shared.actor import SessionUser, to_session_user
from core.shared.errors import Conflict, FormErrors, NotFound, PermissionDenied, ValidationError
from core.staffing.missions import (
    MissionInput,
    assigned_staff,
    create_missions,
    dashboard,
    duplicate_mission,
    update_mission,
)
from core.staffing.workflow import cancel_assignment, close_mission, contact, refuse, validate
from core.volunteers.professionals import document_for_download, my_missions, professional_sheet
from db import models as m
from tests.factories import (
    END,
    NOW,
    START,
    TODAY,
    make_actor,
    make_available_nurse,
    make_establishment,
    make_mission,
    make_user,
)
from tests.readers import count

PDF = b"%PDF-1.4\n%%EOF\n"


@dataclass(frozen=True)
class Office:
    """An establishment in Nantes and the signed-in account of its HR office."""

    establishment_id: int
    hr: SessionUser


def office(session: so.Session, status: str = "active", **user: Any) -> Office:
    establishment = make_establishment(session, postal_code="44000", status=status)
    account = make_user(session, establishment=establishment, **user)
    return Office(establishment.id, to_session_user(session, user=account))


def need(**overrides: Any) -> MissionInput:
    values: dict[str, Any] = {"profession_code": "infirmier_de", "count": 2, "start_date": START, "end_date": END,
                              **overrides}
    return MissionInput(**values)


def mission(session: so.Session, where: Office, **overrides: Any) -> m.Mission:
    establishment = session.get(m.Establishment, where.establishment_id)
    creator = session.get(m.User, where.hr.id)
    return make_mission(session, establishment, creator, **{"start_date": START, "end_date": END, **overrides})


def assign(session: so.Session, where: Office, row: m.Mission, *professionals: m.Professional) -> None:
    for professional in professionals:
        contact(session, actor=where.hr, mission_id=row.id, professional_id=professional.id, now=NOW)
    validate(session, actor=where.hr, mission_id=row.id, professional_ids=[p.id for p in professionals], now=NOW)


# ---------------------------------------------------------------- "Nouveau besoin"


def test_several_needs_are_filed_at_once_and_open_at_once_for_an_active_establishment(uow) -> None:
    with uow() as session:
        here = office(session)
    with uow() as session:
        ids = create_missions(session, actor=here.hr, establishment_id=here.establishment_id, missions=[
            need(specialty="  Urgences ", exp_reanimation=True, contact_name="Dr Martin", contact_phone="02 40 08 33 33"),
            need(profession_code="aide_soignant", count=1, needs_weekend=True),
            need(vaccination=True, count="3"),
        ], now=NOW)
    with uow() as session:
        rows = [session.get(m.Mission, mission_id) for mission_id in ids]
        created = session.scalars(sa.select(m.Event).where(m.Event.action == "created").order_by(m.Event.id)).all()
    assert len(ids) == 3
    assert [(r.profession_code, r.count, r.status, r.created_by, r.created_at) for r in rows] == [
        ("infirmier_de", 2, "open", here.hr.id, NOW), ("aide_soignant", 1, "open", here.hr.id, NOW),
        ("infirmier_de", 3, "open", here.hr.id, NOW)]
    assert (rows[0].specialty, rows[0].contact_name, rows[0].contact_phone, rows[0].exp_reanimation) == (
        "Urgences", "Dr Martin", "+33240083333", True)
    assert (rows[1].needs_weekend, rows[2].vaccination) == (True, True)
    assert [(e.entity_id, e.after, e.actor_user_id) for e in created] == [(str(i), "open", here.hr.id) for i in ids]


def test_needs_of_an_establishment_awaiting_validation_wait_too(uow) -> None:
    with uow() as session:
        here = office(session, status="pending")
        [mission_id] = create_missions(session, actor=here.hr, establishment_id=here.establishment_id, missions=[need()], now=NOW)
        assert session.get(m.Mission, mission_id).status == "pending"


def test_an_error_in_the_second_need_saves_none_of_them(uow) -> None:
    with uow() as session:
        here = office(session)
    with pytest.raises(FormErrors) as error, uow() as session:
        create_missions(session, actor=here.hr, establishment_id=here.establishment_id, missions=[
            need(),
            need(count=-1, start_date=END, end_date=START),
            need(profession_code="psychologue", vaccination=True, end_date=TODAY - timedelta(days=1),
                 start_date=TODAY - timedelta(days=3)),
        ], now=NOW)
    fields = error.value.by_field()
    assert fields == {
        "missions.1.count": "Le nombre de professionnels ne peut pas être négatif.",
        "missions.1.end_date": "La date de fin (25/11/2026) est antérieure à la date de début (08/12/2026).",
        "missions.2.vaccination": "La profession « Psychologue » n'est pas autorisée à vacciner.",
        "missions.2.end_date": "La date de fin (22/11/2026) est déjà passée.",
    }
    with uow() as session:
        assert (count(session, m.Mission), count(session, m.Event)) == (0, 0)


def test_a_need_without_any_row_is_refused(uow) -> None:
    with uow() as session:
        here = office(session)
        with pytest.raises(ValidationError) as error:
            create_missions(session, actor=here.hr, establishment_id=here.establishment_id, missions=[], now=NOW)
    assert (error.value.field, error.value.message) == ("missions", "Ajoutez au moins une mission.")


def test_only_the_establishments_own_accounts_file_its_needs(uow) -> None:
    with uow() as session:
        here, elsewhere = office(session), office(session)
        for outsider in (elsewhere.hr, make_actor(session, "ars"), make_actor(session, "ccs")):
            with pytest.raises(PermissionDenied) as error:
                create_missions(session, actor=outsider, establishment_id=here.establishment_id, missions=[need()], now=NOW)
            assert error.value.message == "Vous ne gérez pas cet établissement."
        assert count(session, m.Mission) == 0


# ---------------------------------------------------------------- "Modifier"


def test_a_mission_is_edited_and_the_changed_fields_are_recorded(uow) -> None:
    with uow() as session:
        here = office(session)
        row = mission(session, here, count=2)
    with uow() as session:
        changed = update_mission(session, actor=here.hr, mission_id=row.id, data=need(count=4, needs_vehicle=True, specialty="Gériatrie"),
                                 now=NOW)
    assert changed == ["count", "needs_vehicle", "specialty"]
    with uow() as session:
        stored = session.get(m.Mission, row.id)
        [event] = session.scalars(sa.select(m.Event).where(m.Event.action == "updated")).all()
    assert (stored.count, stored.needs_vehicle, stored.specialty, stored.status) == (4, True, "Gériatrie", "open")
    assert event.details == {"fields": ["count", "needs_vehicle", "specialty"]}


def test_a_mission_with_someone_assigned_can_no_longer_be_edited_whatever_the_count(uow) -> None:
    with uow() as session:
        here = office(session)
        row = mission(session, here, count=2)
        assign(session, here, row, make_available_nurse(session))
    for new_count in (0, 1, 5):
        with pytest.raises(Conflict) as error, uow() as session:
            update_mission(session, actor=here.hr, mission_id=row.id, data=need(count=new_count), now=NOW)
        assert error.value.message == ("1 professionnel(s) sont déjà affectés à cette mission : elle ne peut plus "
                                       "être modifiée. Annulez d'abord l'affectation, ou dupliquez la mission.")
    with uow() as session:
        assert session.get(m.Mission, row.id).count == 2


def test_once_the_assignment_is_cancelled_the_mission_can_be_edited_again(uow) -> None:
    with uow() as session:
        here = office(session)
        row = mission(session, here, count=1)
        professional = make_available_nurse(session)
        assign(session, here, row, professional)
        cancel_assignment(session, actor=here.hr, mission_id=row.id, professional_id=professional.id, reason="Changement de planning", now=NOW)
        assert update_mission(session, actor=here.hr, mission_id=row.id, data=need(count=1, exp_ehpad=True), now=NOW) == ["exp_ehpad"]


def test_a_closed_mission_cannot_be_edited(uow) -> None:
    with uow() as session:
        here = office(session)
        row = mission(session, here)
        close_mission(session, actor=here.hr, mission_id=row.id, now=NOW)
        with pytest.raises(Conflict) as error:
            update_mission(session, actor=here.hr, mission_id=row.id, data=need(), now=NOW)
    assert error.value.message == "Une mission clôturée ne peut plus être modifiée : dupliquez-la."


def test_an_edit_with_errors_changes_nothing_and_outsiders_cannot_edit(uow) -> None:
    with uow() as session:
        here, elsewhere = office(session), office(session)
        row = mission(session, here)
    with pytest.raises(FormErrors) as error, uow() as session:
        update_mission(session, actor=here.hr, mission_id=row.id, data=need(count="deux", specialty="Urgences"), now=NOW)
    assert set(error.value.by_field()) == {"missions.0.count"}
    with pytest.raises(PermissionDenied), uow() as session:
        update_mission(session, actor=elsewhere.hr, mission_id=row.id, data=need(count=9), now=NOW)
    with uow() as session:
        stored = session.get(m.Mission, row.id)
        assert (stored.count, stored.specialty) == (1, None)


# ---------------------------------------------------------------- "Dupliquer"


def test_duplicating_a_past_mission_moves_its_period_to_start_today(uow) -> None:
    with uow() as session:
        here = office(session)
        source = mission(session, here, start_date=date(2026, 10, 1), end_date=date(2026, 10, 10), status="closed",
                         count=3, specialty="Réanimation", exp_reanimation=True, needs_vehicle=True,
                         contact_name="Dr Martin", contact_phone="+33240083333")
    with uow() as session:
        copy_id = duplicate_mission(session, actor=here.hr, mission_id=source.id, now=NOW)
    with uow() as session:
        copy, original = session.get(m.Mission, copy_id), session.get(m.Mission, source.id)
    assert copy_id != source.id
    assert (copy.start_date, copy.end_date, copy.status) == (TODAY, TODAY + timedelta(days=9), "open")
    assert (copy.count, copy.specialty, copy.exp_reanimation, copy.needs_vehicle, copy.contact_name,
            copy.contact_phone) == (3, "Réanimation", True, True, "Dr Martin", "+33240083333")
    assert (original.start_date, original.status) == (date(2026, 10, 1), "closed")


def test_duplicating_a_future_mission_keeps_its_period(uow) -> None:
    with uow() as session:
        here = office(session)
        source = mission(session, here)
        copy = session.get(m.Mission, duplicate_mission(session, actor=here.hr, mission_id=source.id, now=NOW))
        assert (copy.start_date, copy.end_date, copy.specialty) == (START, END, None)


# ---------------------------------------------------------------- "Traitement des besoins"


def _dashboard_scene(session: so.Session) -> tuple[Office, dict[str, m.Mission]]:
    here = office(session)
    missions = {
        "busy": mission(session, here, count=3),
        "filled": mission(session, here, count=1, start_date=START + timedelta(days=1)),
        "closed": mission(session, here, count=2, start_date=START + timedelta(days=2)),
        "carers": mission(session, here, count=1, profession_code="aide_soignant",
                          start_date=START + timedelta(days=3)),
        "placeholder": mission(session, here, count=0, profession_code="autre", start_date=START + timedelta(days=4)),
    }
    assigned, contacted, pushed, refused = make_available_nurse(session), make_available_nurse(session), make_available_nurse(session), make_available_nurse(session)
    assign(session, here, missions["busy"], assigned)
    contact(session, actor=here.hr, mission_id=missions["busy"].id, professional_id=contacted.id, now=NOW)
    contact(session, actor=here.hr, mission_id=missions["busy"].id, professional_id=refused.id, now=NOW)
    refuse(session, actor=here.hr, mission_id=missions["busy"].id, professional_ids=[refused.id], now=NOW)
    session.add(m.Proposal(mission_id=missions["busy"].id, professional_id=pushed.id, origin="push", state="en_cours",
                           created_at=NOW))
    pushed.status = "en_cours"
    assign(session, here, missions["filled"], make_available_nurse(session))
    close_mission(session, actor=here.hr, mission_id=missions["closed"].id, now=NOW)
    mission(session, office(session))  # another establishment's mission is never listed
    return here, missions


def test_the_dashboard_shows_pourvue_x_of_n_and_who_is_contacted_or_pushed(uow) -> None:
    with uow() as session:
        here, missions = _dashboard_scene(session)
        rows = dashboard(session, actor=here.hr, establishment_id=here.establishment_id)
    name = {row.id: key for key, row in missions.items()}
    summary = {name[r["id"]]: (r["status"], r["assigned"], r["count"], r["contacted"], r["pushed"]) for r in rows}
    assert [name[r["id"]] for r in rows] == ["busy", "filled", "closed", "carers", "placeholder"]
    assert summary == {"busy": ("open", 1, 3, 1, 1), "filled": ("filled", 1, 1, 0, 0), "closed": ("closed", 0, 2, 0, 0),
                       "carers": ("open", 0, 1, 0, 0), "placeholder": ("open", 0, 0, 0, 0)}
    flags = {name[r["id"]]: tuple(a in r["actions"] for a in (Action.CHOOSE, Action.EDIT, Action.CLOSE)) for r in rows}
    assert flags == {"busy": (True, False, True), "filled": (False, False, True), "closed": (False, False, False),
                     "carers": (True, True, True), "placeholder": (False, True, True)}
    assert rows[3]["profession"] == "Aide-soignant"


def test_the_dashboard_filters_by_status_profession_and_unfilled_needs(uow) -> None:
    cases = [
        ({"statuses": ("open",)}, ["busy", "carers", "placeholder"]),
        ({"statuses": ("filled", "closed")}, ["filled", "closed"]),
        ({"profession": "aide_soignant"}, ["carers"]),
        ({"unfilled_only": True}, ["busy", "closed", "carers"]),  # never a filled or a 0-post mission
        ({"unfilled_only": True, "statuses": ("open",), "profession": "infirmier_de"}, ["busy"]),
    ]
    with uow() as session:
        here, missions = _dashboard_scene(session)
        name = {row.id: key for key, row in missions.items()}
        for filters, expected in cases:
            rows = dashboard(session, actor=here.hr, establishment_id=here.establishment_id, **filters)
            assert [name[r["id"]] for r in rows] == expected, filters


def test_the_dashboard_and_the_staff_list_are_for_the_establishment_and_its_regulators(uow) -> None:
    with uow() as session:
        here, elsewhere = office(session), office(session)
        mission(session, here)
        for outsider in (elsewhere.hr, make_actor(session, "ars", ars_code="11"),
                         make_actor(session, "professionnel", professional_id=make_available_nurse(session).id)):
            for service in (dashboard, assigned_staff):
                with pytest.raises(PermissionDenied) as error:
                    service(session, actor=outsider, establishment_id=here.establishment_id)
                assert error.value.message == "Vous n'avez pas accès à cet établissement."
        for regulator in (make_actor(session, "ars"), make_actor(session, "ccs"), make_actor(session, "ministere")):
            assert len(dashboard(session, actor=regulator, establishment_id=here.establishment_id)) == 1
        with pytest.raises(NotFound):
            dashboard(session, actor=here.hr, establishment_id=999_999)


# ---------------------------------------------------------------- "Voir affectation professionnels"


def test_the_staff_list_gives_the_contact_of_every_assigned_volunteer_and_nobody_else(uow) -> None:
    with uow() as session:
        here = office(session)
        early = mission(session, here, count=2)
        late = mission(session, here, count=1, profession_code="aide_soignant", start_date=START + timedelta(days=3))
        zoe = make_available_nurse(session, first_name="Zoé", last_name="Aubert", phone="+33611111111", email="zoe@example.org")
        yann = make_available_nurse(session, first_name="Yann", last_name="Bodin", phone="+33622222222", email="yann@example.org")
        carer = make_available_nurse(session, first_name="Lou", last_name="Abadie", profession_code="aide_soignant")
        waiting = make_available_nurse(session)
        assign(session, here, early, yann, zoe)
        assign(session, here, late, carer)
        contact(session, actor=here.hr, mission_id=mission(session, here).id, professional_id=waiting.id, now=NOW)
        staff = assigned_staff(session, actor=here.hr, establishment_id=here.establishment_id)
    assert [(row["first_name"], row["last_name"], row["mission_id"]) for row in staff] == [
        ("Zoé", "Aubert", early.id), ("Yann", "Bodin", early.id), ("Lou", "Abadie", late.id)]
    assert {k: staff[0][k] for k in ("phone", "email", "mission", "profession", "start_date", "end_date")} == {
        "phone": "+33611111111", "email": "zoe@example.org", "mission": "Infirmier diplômé d'État",
        "profession": "Infirmier diplômé d'État", "start_date": START, "end_date": END}
    assert staff[2]["mission"] == "Aide-soignant"


# ---------------------------------------------------------------- the volunteer's sheet and documents


def _volunteer_with_document(session: so.Session, postal_code: str = "44300") -> tuple[m.Professional, m.Document]:
    professional = make_available_nurse(session, postal_code=postal_code, mobility="nationale", email="ines@example.org",
                         phone="+33633333333")
    document = m.Document(professional_id=professional.id, kind="diplome", filename="diplome.pdf",
                          mime="application/pdf", size=len(PDF), sha256="0" * 64, content=PDF)
    session.add(document)
    session.flush()
    return professional, document


def test_an_establishment_sees_contact_details_and_documents_only_while_linked_to_the_volunteer(uow) -> None:
    with uow() as session:
        here = office(session)
        row = mission(session, here)
        professional, document = _volunteer_with_document(session)
        before = professional_sheet(session, actor=here.hr, professional_id=professional.id)
        with pytest.raises(PermissionDenied) as denied:
            document_for_download(session, actor=here.hr, document_id=document.id)
        contact(session, actor=here.hr, mission_id=row.id, professional_id=professional.id, now=NOW)
        during = professional_sheet(session, actor=here.hr, professional_id=professional.id)
        downloaded = document_for_download(session, actor=here.hr, document_id=document.id)
        refuse(session, actor=here.hr, mission_id=row.id, professional_ids=[professional.id], now=NOW)
        # refused, the volunteer is no longer a candidate for this mission (issue 13), nor linked to it
        with pytest.raises(PermissionDenied) as closed:
            professional_sheet(session, actor=here.hr, professional_id=professional.id)
    assert (before.contact_visible, before.documents, before.history) == (False, [], [])
    assert "email" not in before.professional and "phone" not in before.professional
    assert (before.professional["last_name"], before.professional["postal_code"]) == (professional.last_name, "44300")
    assert denied.value.message == "Vous n'avez pas accès à ce document."
    assert during.contact_visible
    assert (during.professional["email"], during.professional["phone"]) == ("ines@example.org", "+33633333333")
    assert [(d["id"], d["kind"], d["filename"]) for d in during.documents] == [(document.id, "diplome", "diplome.pdf")]
    assert [h["state"] for h in during.history] == ["contacte"]
    assert downloaded.content == PDF
    assert closed.value.message == "Vous n'avez pas accès à cette fiche."


def test_an_establishment_sees_only_its_own_history_with_a_volunteer(uow) -> None:
    with uow() as session:
        here, elsewhere = office(session), office(session)
        mission(session, here)
        professional, _ = _volunteer_with_document(session)
        elsewhere_mission = mission(session, elsewhere).id
        contact(session, actor=elsewhere.hr, mission_id=elsewhere_mission, professional_id=professional.id, now=NOW)
        refuse(session, actor=elsewhere.hr, mission_id=elsewhere_mission, professional_ids=[professional.id], now=NOW)
        sheet = professional_sheet(session, actor=here.hr, professional_id=professional.id)
    assert (sheet.contact_visible, sheet.history) == (False, [])


def test_the_ars_of_the_volunteers_region_and_the_ccs_see_everything(uow) -> None:
    with uow() as session:
        nantes, _ = _volunteer_with_document(session)
        rennes = make_available_nurse(session, postal_code="35000")
        elsewhere = office(session)
        contact(session, actor=elsewhere.hr, mission_id=mission(session, elsewhere).id, professional_id=nantes.id, now=NOW)
        ars, ccs = make_actor(session, "ars"), make_actor(session, "ccs")
        sheets = [professional_sheet(session, actor=who, professional_id=nantes.id) for who in (ars, ccs)]
        with pytest.raises(PermissionDenied) as other_region:
            professional_sheet(session, actor=ars, professional_id=rennes.id)
        assert document_for_download(session, actor=ars, document_id=sheets[0].documents[0]["id"]).filename == "diplome.pdf"
    for sheet in sheets:
        assert sheet.contact_visible and sheet.professional["email"] == "ines@example.org"
        assert len(sheet.documents) == 1 and [h["state"] for h in sheet.history] == ["contacte"]
    assert other_region.value.message == "Vous n'avez pas accès à cette fiche."


def test_other_roles_do_not_see_a_volunteers_sheet_or_documents(uow) -> None:
    with uow() as session:
        professional, document = _volunteer_with_document(session)
        other = make_available_nurse(session)
        outsiders = [make_actor(session, "ars", ars_code="11"), make_actor(session, "ministere"),
                     make_actor(session, "professionnel", professional_id=other.id)]
        for outsider in outsiders:
            with pytest.raises(PermissionDenied):
                professional_sheet(session, actor=outsider, professional_id=professional.id)
            with pytest.raises(PermissionDenied):
                document_for_download(session, actor=outsider, document_id=document.id)
        owner = make_actor(session, "professionnel", professional_id=professional.id)
        assert document_for_download(session, actor=owner, document_id=document.id).content == PDF
        professional.status = "supprime"
        session.flush()
        with pytest.raises(NotFound) as gone:
            professional_sheet(session, actor=make_actor(session, "ccs"), professional_id=professional.id)
    assert gone.value.message == "Ce professionnel n'est plus inscrit."


# ---------------------------------------------------------------- "Mes missions"


def test_my_missions_lists_the_live_proposal_first_with_the_establishments_contact(uow) -> None:
    with uow() as session:
        here = office(session, first_name="Hélène", last_name="Roux", phone="+33240000000", email="rh@chu-test.fr")
        current = mission(session, here, contact_name="Dr Martin", contact_phone="+33240083333")
        past = mission(session, office(session), start_date=date(2026, 9, 1), end_date=date(2026, 9, 10))
        professional = make_available_nurse(session)
        me = make_actor(session, "professionnel", professional_id=professional.id)
        contact(session, actor=here.hr, mission_id=current.id, professional_id=professional.id, now=NOW - timedelta(days=2))
        # An older solicitation that ended, recorded after the reservation: live still comes first.
        session.add(m.Proposal(mission_id=past.id, professional_id=professional.id, origin="direct",
                               state="termine", created_at=NOW - timedelta(days=1), decided_at=NOW))
        session.flush()
        rows = my_missions(session, actor=me)
        establishment = session.get(m.Establishment, here.establishment_id)
    assert [(r["state"], r["live"], Action.DECLINE in r["actions"]) for r in rows] == [("contacte", True, True),
                                                                        ("termine", False, False)]
    first = rows[0]
    assert {k: first[k] for k in ("establishment", "address", "postal_code", "city", "requester_name",
                                  "requester_email", "requester_phone", "contact_name", "contact_phone",
                                  "profession_code", "start_date", "end_date")} == {
        "establishment": establishment.name, "address": establishment.address, "postal_code": "44000",
        "city": "NANTES", "requester_name": "Hélène Roux", "requester_email": "rh@chu-test.fr",
        "requester_phone": "+33240000000", "contact_name": "Dr Martin", "contact_phone": "+33240083333",
        "profession_code": "infirmier_de", "start_date": START, "end_date": END}


def test_an_assignment_is_live_in_my_missions_but_cannot_be_declined(uow) -> None:
    with uow() as session:
        here = office(session)
        row = mission(session, here)
        professional = make_available_nurse(session)
        assign(session, here, row, professional)
        me = make_actor(session, "professionnel", professional_id=professional.id)
        assert [(r["state"], r["live"], Action.DECLINE in r["actions"]) for r in my_missions(session, actor=me)] == [
            ("affecte", True, False)]


def test_my_missions_is_only_for_volunteers(uow) -> None:
    with uow() as session:
        here = office(session)
        with pytest.raises(PermissionDenied) as error:
            my_missions(session, actor=here.hr)
    assert error.value.message == "Cette page est réservée aux professionnels volontaires."
