"""Who reads a volunteer's personal data through the services (issue 12, defects 2, 5 and 6).

- The ministry reads pseudonymised data only (DESIGN §4): no nominative list, no sheet, no document.
- A volunteer's sheet opens for the establishments of an open mission they are a candidate for (DESIGN §4's
  public fields), for those they are linked to by a live proposal or an assignment (contact, RPPS/ADELI,
  message, documents), for the ARS of their region and the CCS (everything), for the ARS of a region whose
  open mission they are a candidate for (public fields) or linked to (everything), and for admins (public
  fields and contact, no document). Every case is tried on SQLite and PostgreSQL.
- An admin finds a volunteer anywhere by name or e-mail and makes them unavailable (DESIGN §3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from core.figures.exports import export_assigned_staff
from core.shared.actions import Action
from core.shared.actor import SessionUser, to_session_user
from core.shared.errors import PermissionDenied, ValidationError
from core.staffing.missions import assigned_staff
from core.staffing.regulation import (
    ProfessionalFilters,
    push,
    region_professionals,
    set_crisis_mode,
    set_unavailable_by_ars,
)
from core.staffing.workflow import contact
from core.volunteers.professionals import document_for_download, professional_sheet
from db import models as m
from tests.factories import (
    END,
    NOW,
    START,
    make_actor,
    make_available_nurse,
    make_establishment,
    make_mission,
    make_proposal,
    make_user,
    with_luhn_key,
)
from tests.readers import count, events, status_of

PDF = b"%PDF-1.4\n%%EOF\n"
RPPS = with_luhn_key("1000000000")
EXPORTS_HINT = "« Exports »"


# ---------------------------------------------------------------- a volunteer and everyone around them


@dataclass(frozen=True)
class World:
    """Inès, a nurse of Nantes (region 52) with national mobility, back to « disponible » after an assignment
    that went to its end at a Nantes clinic; a Nantes hospital's open mission she is a candidate for; a Rennes
    mission (region 53) whose national pools the CCS opened; a Paris mission (region 11) she is not a candidate
    for; and a signed-in reader of every kind."""

    professional_id: int
    documents: dict[str, int]  # kind → id
    readers: dict[str, SessionUser | None]
    linked_establishment_id: int


def establishment_with_mission(session: so.Session, postal_code: str, **mission: Any) -> tuple[m.Establishment, m.User, m.Mission]:
    establishment = make_establishment(session, postal_code=postal_code)
    manager = make_user(session, establishment=establishment)
    row = make_mission(session, establishment, manager, **{"start_date": START, "end_date": END, **mission})
    return establishment, manager, row


def build(session: so.Session) -> World:
    ines = make_available_nurse(session, mobility="nationale", email="ines@example.org", phone="+33633333333",
                                first_name="Inès", last_name="Moreau", id_type="rpps", id_number=RPPS,
                                message="Disponible aussi les nuits.")
    documents = {}
    for kind in ("identite", "diplome"):
        document = m.Document(professional_id=ines.id, kind=kind, filename=f"{kind}.pdf", mime="application/pdf",
                              size=len(PDF), sha256="0" * 64, content=PDF)
        session.add(document)
        session.flush()
        documents[kind] = document.id
    _, candidate_hr, _ = establishment_with_mission(session, "44000")
    linked, linked_hr, over = establishment_with_mission(session, "44000", status="closed",
                                                         start_date=START - timedelta(days=30),
                                                         end_date=START - timedelta(days=20))
    make_proposal(session, over, ines, state="termine", created_at=NOW - timedelta(days=40),
                  decided_at=NOW - timedelta(days=39))
    establishment_with_mission(session, "35000", pools_opened_at=NOW - timedelta(days=1))  # Rennes, region 53
    _, paris_hr, _ = establishment_with_mission(session, "75001")  # region 11, pools closed: not a candidate
    other = make_available_nurse(session)
    users = {
        "autre_professionnel": make_user(session, "professionnel", professional_id=other.id),
        "le_volontaire": make_user(session, "professionnel", professional_id=ines.id),
        "etablissement_candidat": candidate_hr,
        "etablissement_lie": linked_hr,
        "etablissement_sans_lien": paris_hr,
        "pool": make_user(session, "pool"),
        "ars": make_user(session, "ars", ars_code="52"),
        "ars_region_de_mission": make_user(session, "ars", ars_code="53"),
        "ars_autre_region": make_user(session, "ars", ars_code="11"),
        "ccs": make_user(session, "ccs"),
        "ministere": make_user(session, "ministere"),
        "admin": make_user(session, "admin"),
    }
    readers: dict[str, SessionUser | None] = {name: to_session_user(session, user=user) for name, user in users.items()}
    readers["anonyme"] = None
    return World(ines.id, documents, readers, linked.id)


@dataclass(frozen=True)
class Visible:
    contact: bool  # e-mail, phone
    file: bool  # RPPS/ADELI number, the volunteer's message
    documents: tuple[str, ...]  # kinds of documents listed and downloadable


PUBLIC = Visible(False, False, ())
EVERYTHING = Visible(True, True, ("diplome", "identite"))
SHEET_CASES: dict[str, Visible | None] = {
    "anonyme": None,
    "autre_professionnel": None,
    "le_volontaire": None,  # « Mon profil » is their own view
    "etablissement_candidat": PUBLIC,
    "etablissement_lie": EVERYTHING,
    "etablissement_sans_lien": None,
    "pool": None,
    "ars": EVERYTHING,
    "ars_region_de_mission": PUBLIC,
    "ars_autre_region": None,
    "ccs": EVERYTHING,
    "ministere": None,
    "admin": Visible(True, False, ()),
}
PUBLIC_KEYS = {"id", "first_name", "last_name", "postal_code", "city", "profession_code", "specialty", "verified"}


def _written(session: so.Session) -> tuple[int, int]:
    return count(session, m.Event), count(session, m.Outbox)


@pytest.mark.parametrize("reader", list(SHEET_CASES))
def test_the_sheet_shows_each_reader_what_its_case_allows(uow, reader: str) -> None:
    expected = SHEET_CASES[reader]
    with uow() as session:
        world = build(session)
        before = _written(session)
        if expected is None:
            with pytest.raises(PermissionDenied):
                professional_sheet(session, actor=world.readers[reader], professional_id=world.professional_id, now=NOW)
            assert _written(session) == before
            return
        sheet = professional_sheet(session, actor=world.readers[reader], professional_id=world.professional_id, now=NOW)
    values = sheet.professional
    assert set(values) >= PUBLIC_KEYS and (values["first_name"], values["last_name"]) == ("Inès", "Moreau")
    assert (sheet.contact_visible, sheet.file_visible) == (expected.contact, expected.file)
    assert {"email", "phone"} & set(values) == ({"email", "phone"} if expected.contact else set())
    assert (values.get("email"), values.get("phone")) == (
        ("ines@example.org", "+33633333333") if expected.contact else (None, None))
    assert (values.get("id_number"), values.get("message")) == (
        (RPPS, "Disponible aussi les nuits.") if expected.file else (None, None))
    assert ("id_number" in values, "message" in values, "id_type" in values) == (expected.file,) * 3
    assert tuple(sorted(d["kind"] for d in sheet.documents)) == expected.documents
    if expected != EVERYTHING:
        assert sheet.notice, "the page says what stays hidden, in core's words"


DOCUMENT_CASES = [(reader, kind) for reader in SHEET_CASES for kind in ("identite", "diplome")]


@pytest.mark.parametrize(("reader", "kind"), DOCUMENT_CASES, ids=[f"{r}-{k}" for r, k in DOCUMENT_CASES])
def test_a_document_downloads_for_whoever_sees_it_on_the_sheet_and_its_owner(uow, reader: str, kind: str) -> None:
    expected = SHEET_CASES[reader]
    allowed = reader == "le_volontaire" or (expected is not None and kind in expected.documents)
    with uow() as session:
        world = build(session)
        before = _written(session)
        if not allowed:
            with pytest.raises(PermissionDenied) as denied:
                document_for_download(session, actor=world.readers[reader], document_id=world.documents[kind], now=NOW)
            assert _written(session) == before
            assert denied.value.message
            return
        document = document_for_download(session, actor=world.readers[reader], document_id=world.documents[kind],
                                          now=NOW)
        received = (document.kind, document.content)
        session.flush()
        [event] = events(session, "document_downloaded")
    assert received == (kind, PDF)
    assert event.details == {"document_id": world.documents[kind], "kind": kind}


def test_the_ministry_is_told_where_its_pseudonymised_data_is(uow) -> None:
    with uow() as session:
        world = build(session)
        with pytest.raises(PermissionDenied) as denied:
            professional_sheet(session, actor=world.readers["ministere"], professional_id=world.professional_id)
    assert EXPORTS_HINT in denied.value.message


def test_a_candidate_reserved_by_another_establishment_no_longer_opens_to_the_candidate_one(uow) -> None:
    """Matching's own rule 5: a volunteer reserved elsewhere is hidden from the other establishments."""
    with uow() as session:
        world = build(session)
        _, rival_hr, rival_mission = establishment_with_mission(session, "44000")
        contact(session, actor=to_session_user(session, user=rival_hr), mission_id=rival_mission.id,
                professional_id=world.professional_id, now=NOW)
        with pytest.raises(PermissionDenied):
            professional_sheet(session, actor=world.readers["etablissement_candidat"],
                               professional_id=world.professional_id, now=NOW)
        rival = professional_sheet(session, actor=to_session_user(session, user=rival_hr),
                                   professional_id=world.professional_id, now=NOW)
    assert rival.contact_visible and rival.file_visible and len(rival.documents) == 2


def test_in_crisis_mode_only_a_pushed_volunteer_opens_to_the_establishment(uow) -> None:
    """Matching's rule 6: in crisis mode the establishment sees the volunteers its ARS pushes, nobody else."""
    with uow() as session:
        world = build(session)
        candidate = world.readers["etablissement_candidat"]
        set_crisis_mode(session, actor=world.readers["ars"], ars_code="52", enabled=True, now=NOW)
        with pytest.raises(PermissionDenied):
            professional_sheet(session, actor=candidate, professional_id=world.professional_id, now=NOW)
        [mission_id] = session.scalars(sa.select(m.Mission.id).where(
            m.Mission.establishment_id == candidate.establishment_ids[0]))
        push(session, actor=world.readers["ars"], mission_id=mission_id, professional_ids=[world.professional_id],
             now=NOW)
        pushed = professional_sheet(session, actor=candidate, professional_id=world.professional_id, now=NOW)
    assert pushed.contact_visible and [d["kind"] for d in pushed.documents] == ["identite", "diplome"]


def test_a_past_assignment_keeps_the_establishment_linked_with_its_own_history(uow) -> None:
    with uow() as session:
        world = build(session)
        linked = world.readers["etablissement_lie"]
        sheet = professional_sheet(session, actor=linked, professional_id=world.professional_id, now=NOW)
        regulator = professional_sheet(session, actor=world.readers["ccs"], professional_id=world.professional_id,
                                       now=NOW)
    assert [h["state"] for h in sheet.history] == ["termine"] == [h["state"] for h in regulator.history]


def test_the_ars_of_another_region_sees_the_whole_file_once_it_pushed_the_volunteer_to_its_region(uow) -> None:
    with uow() as session:
        world = build(session)
        rennes_ars = world.readers["ars_region_de_mission"]
        [rennes_mission] = session.scalars(sa.select(m.Mission.id).join(m.Establishment).where(
            m.Establishment.ars_code == "53"))
        push(session, actor=rennes_ars, mission_id=rennes_mission, professional_ids=[world.professional_id], now=NOW)
        sheet = professional_sheet(session, actor=rennes_ars, professional_id=world.professional_id, now=NOW)
        identity = document_for_download(session, actor=rennes_ars, document_id=world.documents["identite"], now=NOW)
        assert identity.content == PDF
    assert sheet.contact_visible and sheet.file_visible and sheet.notice is None
    assert [h["state"] for h in sheet.history] == ["en_cours"]  # its region's proposals only, not the Nantes one


# ---------------------------------------------------------------- defect 2: no names for the ministry


def _assigned_nurse(session: so.Session) -> tuple[int, SessionUser]:
    establishment, manager, row = establishment_with_mission(session, "44000")
    nurse = make_available_nurse(session, status="affecte")
    make_proposal(session, row, nurse, state="affecte", created_at=NOW, decided_at=NOW)
    return establishment.id, to_session_user(session, user=manager)


def test_the_ministry_reads_no_assigned_staff_and_no_region_volunteers(uow) -> None:
    with uow() as session:
        establishment_id, manager = _assigned_nurse(session)
        ministry = make_actor(session, "ministere")
        before = _written(session)
        refusals = []
        for call in (lambda: assigned_staff(session, actor=ministry, establishment_id=establishment_id),
                     lambda: export_assigned_staff(session, actor=ministry, establishment_id=establishment_id, now=NOW),
                     lambda: region_professionals(session, actor=ministry, ars_code="52"),
                     lambda: region_professionals(session, actor=ministry, ars_code=None,
                                                  filters=ProfessionalFilters(text="volontaire"))):
            with pytest.raises(PermissionDenied) as denied:
                call()
            refusals.append(denied.value.message)
        assert _written(session) == before
        assert len(assigned_staff(session, actor=manager, establishment_id=establishment_id)) == 1
    assert all(EXPORTS_HINT in message for message in refusals), refusals


# ---------------------------------------------------------------- defect 6: the admin pauses a volunteer


def test_an_admin_finds_volunteers_of_every_region_by_name_or_email_page_by_page(uow) -> None:
    with uow() as session:
        nantes = make_available_nurse(session, last_name="Lemoine", email="c.lemoine@example.org")
        paris = make_available_nurse(session, postal_code="75011", last_name="Lemoine", first_name="Zoé")
        busy = make_available_nurse(session, postal_code="35000", email="lemoine.b@example.org", status="contacte")
        make_available_nurse(session, last_name="Martin")
        admin = make_actor(session, "admin")
        first, total = region_professionals(session, actor=admin, ars_code=None,
                                            filters=ProfessionalFilters(text="LEMOINE"), limit=2)
        second, _ = region_professionals(session, actor=admin, ars_code=None,
                                         filters=ProfessionalFilters(text="lemoine"), offset=2, limit=2)
        by_email, _ = region_professionals(session, actor=admin, ars_code=None,
                                           filters=ProfessionalFilters(text="c.lemoine@"))
    rows = first + second
    assert total == 3 and len(first) == 2 and len(second) == 1
    assert {r["id"] for r in rows} == {nantes.id, paris.id, busy.id}
    assert [r["id"] for r in by_email] == [nantes.id]
    found = {r["id"]: r for r in rows}
    assert (found[paris.id]["email"], found[paris.id]["ars_code"]) == (paris.email, "11")
    assert found[nantes.id]["actions"] == {Action.SHEET, Action.SET_UNAVAILABLE}
    assert found[busy.id]["actions"] == {Action.SHEET}
    assert Action.SET_UNAVAILABLE in found[busy.id]["why_not"]


def test_only_national_name_readers_search_every_region_and_only_for_someone(uow) -> None:
    with uow() as session:
        nurse = make_available_nurse(session, last_name="Lemoine")
        ars = make_actor(session, "ars", ars_code="52")
        with pytest.raises(PermissionDenied):
            region_professionals(session, actor=ars, ars_code=None, filters=ProfessionalFilters(text="lemoine"))
        ccs, admin = make_actor(session, "ccs"), make_actor(session, "admin")
        rows, total = region_professionals(session, actor=ccs, ars_code=None, filters=ProfessionalFilters(text="lem"))
        with pytest.raises(ValidationError) as vague:  # the whole country's list is never shown
            region_professionals(session, actor=admin, ars_code=None, filters=ProfessionalFilters(text=" l "))
    assert (total, [r["id"] for r in rows]) == (1, [nurse.id])
    assert (vague.value.field, vague.value.message) == (
        "text", "Saisissez au moins 2 caractères du nom, du prénom ou de l'adresse électronique du volontaire.")


def test_an_admin_makes_a_volunteer_of_any_region_unavailable_and_it_is_audited(uow) -> None:
    with uow() as session:
        nurse = make_available_nurse(session, postal_code="75011")
        admin = make_actor(session, "admin")
        set_unavailable_by_ars(session, actor=admin, professional_id=nurse.id, reason="Demande du volontaire par "
                                                                                      "téléphone", now=NOW)
        [event] = events(session, "made_unavailable")
        assert status_of(session, nurse.id) == "indisponible"
    assert (event.actor_user_id, event.entity_id, event.before, event.after, event.details, event.ars_code) == (
        admin.id, str(nurse.id), "disponible", "indisponible", {"by": "admin"}, "11")
