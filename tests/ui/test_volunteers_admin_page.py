"""Admin: « Volontaires » (issue 12, defect 6) — a volunteer of any region found by name or e-mail, their sheet
without any document, and « Rendre indisponible » with a reason, audited (AppTest on the whole app)."""

from __future__ import annotations

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.shared.validation import format_phone
from core.staffing.regulation import ProfessionalFilters, region_professionals
from core.volunteers.professionals import ADMIN_NOTICE
from db import models as m
from db.session import session_scope
from tests.readers import events_at, row_at, user_at
from tests.ui.conftest import open_page, signed_in, tick
from tests.ui.readers import blocks, button, dialog_titles, errors, table, texts
from ui.labels import PROFESSIONAL_STATUS
from ui.markdown import md
from ui.unavailability import DONE

ADMIN = "admin@example.org"
SEARCH = "admin_volunteers_text"


def _a_free_volunteer_outside_the_admins_region(url: str) -> m.Professional:
    """An available demo volunteer (the admin has no region: any will do, one of Brittany here)."""
    with session_scope(url, read_only=True) as session:
        return session.scalars(sa.select(m.Professional).where(m.Professional.status == "disponible")
                               .order_by(m.Professional.ars_code.desc(), m.Professional.id)).first()


def _found(url: str, text: str) -> list[dict]:
    with session_scope(url, read_only=True) as session:
        return region_professionals(session, actor=user_at(url, ADMIN), ars_code=None,
                                    filters=ProfessionalFilters(text=text))[0]


def _search(app: AppTest, text: str) -> AppTest:
    signed_in(app, ADMIN, "admin")
    open_page(app, "volontaires")
    assert not app.exception
    app.text_input(key=SEARCH).input(text).run()
    assert not app.exception
    return app


def _popover_enabled(app: AppTest) -> bool:
    [popover] = [b for b in blocks(app._tree, "popover") if b.proto.popover.label == "Rendre indisponible…"]
    return not popover.proto.popover.disabled


def test_the_page_is_the_admins_only_and_asks_for_a_name_first(app: AppTest) -> None:
    signed_in(app, ADMIN, "admin")
    titles = {info["page_name"] for info in app._registered_pages.values()}
    assert "Volontaires" in titles
    open_page(app, "volontaires")
    assert not app.exception and not app.dataframe
    assert [i.value for i in app.info] == ["Saisissez le nom, le prénom ou l'adresse électronique du volontaire "
                                           "recherché."]
    app.text_input(key=SEARCH).input("a").run()
    assert errors(app) == ["Saisissez au moins 2 caractères du nom, du prénom ou de l'adresse électronique du "
                           "volontaire."]
    signed_in(app, "ministere@example.org", "ministere")
    assert "Volontaires" not in {info["page_name"] for info in app._registered_pages.values()}


def test_the_admin_finds_a_volunteer_by_email_or_name_in_any_region(app: AppTest, demo_url: str) -> None:
    volunteer = _a_free_volunteer_outside_the_admins_region(demo_url)
    _search(app, volunteer.email.upper())
    frame = table(app)
    assert frame["Courriel"].tolist() == [volunteer.email]
    assert (frame["Nom"].iloc[0], frame["Prénom"].iloc[0]) == (volunteer.last_name, volunteer.first_name)
    assert frame["Statut"].tolist() == ["Disponible"]

    app.text_input(key=SEARCH).input(volunteer.last_name).run()
    expected = _found(demo_url, volunteer.last_name)
    assert list(zip(table(app)["Nom"], table(app)["Courriel"])) == [(r["last_name"], r["email"]) for r in expected]
    assert volunteer.email in table(app)["Courriel"].tolist()


def test_the_admin_makes_a_volunteer_unavailable_with_a_reason_and_it_is_audited(app: AppTest, demo_url: str) -> None:
    volunteer = _a_free_volunteer_outside_the_admins_region(demo_url)
    _search(app, volunteer.email)
    tick(app, 0)
    assert _popover_enabled(app)
    button(app, "Confirmer").click().run()
    assert not app.exception
    assert errors(app) == ["Le champ « Motif » est obligatoire."]
    assert row_at(demo_url, m.Professional, volunteer.id).status == "disponible"

    app.text_area(key=f"admin_pro_reason_{volunteer.id}").input("Le volontaire a appelé : arrêt maladie")
    button(app, "Confirmer").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == [DONE]
    assert row_at(demo_url, m.Professional, volunteer.id).status == "indisponible"
    assert table(app)["Statut"].tolist() == [PROFESSIONAL_STATUS["indisponible"]]
    assert not _popover_enabled(app)  # nothing more to do: core says why
    [event] = [e for e in events_at(demo_url, "made_unavailable") if e.entity_id == str(volunteer.id)]
    assert (event.actor_user_id, event.before, event.after, event.details) == (
        user_at(demo_url, ADMIN).id, "disponible", "indisponible", {"by": "admin"})


def test_the_admins_sheet_shows_identity_and_contact_but_no_identifier_nor_document(app: AppTest,
                                                                                     demo_url: str) -> None:
    with session_scope(demo_url, read_only=True) as session:
        volunteer = session.scalars(sa.select(m.Professional).join(m.Document).where(
            m.Professional.id_number.is_not(None), m.Professional.status != "supprime")
            .order_by(m.Professional.id)).first()
    _search(app, volunteer.email)
    tick(app, 0)
    button(app, "Voir la fiche").click().run()
    assert not app.exception
    assert dialog_titles(app) == ["Fiche du professionnel"]
    sheet = texts(blocks(app._tree, "dialog")[0])
    assert f"**Téléphone** : {md(format_phone(volunteer.phone))}  \n**Courriel** : {md(volunteer.email)}" in sheet
    assert ADMIN_NOTICE in sheet
    assert not any("**Identifiant**" in text or volunteer.id_number in text for text in sheet)
    assert not any(b.label.startswith("Préparer :") for b in app.button)
