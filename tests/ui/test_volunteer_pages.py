"""The volunteer's pages through the whole app (AppTest on app.py): registration and "Mon profil"."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.shared.clock import paris_today
from core.shared.validation import luhn_ok
from db import models as m
from db.session import session_scope
from tests.readers import count_at, events_at, user_at
from tests.ui.conftest import open_page, sign_in_as
from tests.ui.readers import button, error_under, errors, prepared_files, served_files

SIGNUP = "volunteer_signup:0:"
IDENTITY_UPLOAD, DIPLOMA_UPLOAD = "volunteer_signup-upload:identite:0", "volunteer_signup-upload:diplome:0"
PDF = b"%PDF-1.4 test"
PNG = b"\x89PNG\r\n\x1a\n test"
EXE = b"MZ\x90\x00 fake executable"
NEW_EMAIL = "camille.durand@example.org"
BAD_KEY_RPPS = "10000000000"
VOLUNTEER = "benevole@example.org"


# ---------------------------------------------------------------- helpers


def _open_signup(app: AppTest) -> AppTest:
    app.run()
    return open_page(app, "proposer-mon-aide")


def _send(app: AppTest) -> AppTest:
    next(b for b in app.button if b.label == "Envoyer mon inscription").click()
    return app.run()


def _fill_valid_form(app: AppTest, *, diploma: tuple[str, bytes, str] = ("diplome.png", PNG, "image/png")) -> AppTest:
    """Every required field of the questionnaire, with the commune chosen from the postal code."""
    app.text_input(key=SIGNUP + "last_name").input("Durand")
    app.text_input(key=SIGNUP + "first_name").input("Camille")
    app.text_input(key=SIGNUP + "email").input(NEW_EMAIL)
    app.text_input(key=SIGNUP + "phone").input("06 98 76 54 32")
    app.text_input(key=SIGNUP + "postal_code").input("44000")
    app.run()
    app.selectbox(key=SIGNUP + "city").select("NANTES")
    app.selectbox(key=SIGNUP + "profession_code").select("aide_soignant")
    app.radio(key=SIGNUP + "id_type").set_value("none")
    app.checkbox(key=SIGNUP + "consent").check()
    app.file_uploader(key=IDENTITY_UPLOAD).upload("identite.pdf", PDF, "application/pdf")
    app.file_uploader(key=DIPLOMA_UPLOAD).upload(*diploma)
    return app.run()


# ---------------------------------------------------------------- "Proposer mon aide"


def test_an_empty_registration_shows_an_error_under_each_required_field_and_saves_nothing(app, demo_url) -> None:
    _open_signup(app)
    before = count_at(demo_url, m.Professional)
    _send(app)
    assert not app.exception
    expected = {
        "last_name": "Le champ « Nom » est obligatoire.",
        "first_name": "Le champ « Prénom » est obligatoire.",
        "email": "L'adresse électronique est obligatoire.",
        "phone": "Le numéro de téléphone est obligatoire.",
        "postal_code": "Le code postal est obligatoire.",
        "consent": "Votre accord est nécessaire pour enregistrer votre inscription.",
    }
    for field, message in expected.items():
        widget = app.checkbox(key=SIGNUP + field) if field == "consent" else app.text_input(key=SIGNUP + field)
        assert error_under(app, widget) == message, field
    assert error_under(app, app.selectbox(key=SIGNUP + "profession_code")) == "Choisissez votre profession."
    assert error_under(app, app.file_uploader(key=IDENTITY_UPLOAD)) == (
        "Joignez votre pièce d'identité (PDF, JPEG ou PNG, 5 Mo au plus).")
    assert error_under(app, app.file_uploader(key=DIPLOMA_UPLOAD)) == (
        "Joignez votre diplôme (PDF, JPEG ou PNG, 5 Mo au plus).")
    shown = errors(app)
    assert shown[-1] == "10 champs à corriger : voir les messages en rouge ci-dessus."
    assert len(shown) == 11  # ten fields and the summary under the button
    assert count_at(demo_url, m.Professional) == before
    assert not app.success


def test_values_typed_before_a_failed_submit_survive_the_errors_and_a_visit_to_another_page(app) -> None:
    _open_signup(app)
    app.text_input(key=SIGNUP + "last_name").input("Durand")
    app.text_input(key=SIGNUP + "email").input("pas-une-adresse")
    app.text_input(key=SIGNUP + "postal_code").input("44000")
    app.run()
    app.selectbox(key=SIGNUP + "profession_code").select("aide_soignant")
    app.checkbox(key=SIGNUP + "has_vehicle").check()
    app.file_uploader(key=IDENTITY_UPLOAD).upload("identite.pdf", PDF, "application/pdf")
    _send(app)
    assert "L'adresse électronique « pas-une-adresse » n'est pas valide (exemple attendu : " \
           "prenom.nom@domaine.fr)." in errors(app)

    def assert_kept() -> None:
        assert app.text_input(key=SIGNUP + "last_name").value == "Durand"
        assert app.text_input(key=SIGNUP + "email").value == "pas-une-adresse"
        assert app.text_input(key=SIGNUP + "postal_code").value == "44000"
        assert app.selectbox(key=SIGNUP + "city").value == "NANTES"
        assert app.selectbox(key=SIGNUP + "profession_code").value == "aide_soignant"
        assert app.checkbox(key=SIGNUP + "has_vehicle").value is True

    assert_kept()
    open_page(app, "accueil")
    assert "Je suis un professionnel de santé et je souhaite proposer mon aide" in [h.value for h in app.subheader]
    assert SIGNUP + "last_name" not in app.session_state  # Streamlit dropped the widget's own state
    open_page(app, "proposer-mon-aide")
    assert not app.exception
    assert_kept()
    assert "Fichier conservé : identite.pdf" in [c.value for c in app.caption]


def test_a_complete_registration_is_saved_and_queues_the_activation_email(app, demo_url) -> None:
    _open_signup(app)
    before = count_at(demo_url, m.Professional)
    _fill_valid_form(app)
    _send(app)
    assert not app.exception
    assert not app.error
    assert [s.value for s in app.success] == [
        "Merci ! Votre inscription est enregistrée : les établissements de votre zone peuvent désormais "
        "vous solliciter."
    ]
    assert any(NEW_EMAIL in md.value for md in app.markdown)
    assert count_at(demo_url, m.Professional) == before + 1
    with session_scope(demo_url, read_only=True) as session:
        saved = session.scalars(sa.select(m.Professional).where(m.Professional.email == NEW_EMAIL)).one()
        assert (saved.last_name, saved.city, saved.profession_code, saved.id_type, saved.id_number) == (
            "Durand", "NANTES", "aide_soignant", "none", None)
        kinds = session.scalars(sa.select(m.Document.kind).where(m.Document.professional_id == saved.id)).all()
        assert sorted(kinds) == ["diplome", "identite"]
        subjects = session.scalars(sa.select(m.Outbox.subject).where(m.Outbox.to == NEW_EMAIL)).all()
    assert subjects == ["Renfort RH — merci pour votre inscription"]


def test_an_executable_renamed_as_a_pdf_is_refused_with_its_file_name(app, demo_url) -> None:
    _open_signup(app)
    before = count_at(demo_url, m.Professional)
    _fill_valid_form(app, diploma=("diplome.pdf", EXE, "application/pdf"))
    _send(app)
    message = "Diplôme : le fichier « diplome.pdf » n'est ni un PDF, ni une image JPEG ou PNG (contenu vérifié)."
    assert error_under(app, app.file_uploader(key=DIPLOMA_UPLOAD)) == message
    assert errors(app) == [message, "1 champ à corriger : voir les messages en rouge ci-dessus."]
    assert count_at(demo_url, m.Professional) == before
    assert count_at(demo_url, m.Outbox, m.Outbox.to == NEW_EMAIL) == 0


def test_an_rpps_with_a_wrong_key_asks_for_a_confirmation_that_lets_the_registration_through(app, demo_url) -> None:
    assert not luhn_ok(BAD_KEY_RPPS)
    _open_signup(app)
    _fill_valid_form(app)
    app.radio(key=SIGNUP + "id_type").set_value("rpps").run()
    app.text_input(key=SIGNUP + "id_number").input(BAD_KEY_RPPS)
    assert not any(c.label == "Je confirme ce numéro RPPS" for c in app.checkbox)
    _send(app)
    assert error_under(app, app.text_input(key=SIGNUP + "id_number")) == (
        f"La clé du numéro RPPS « {BAD_KEY_RPPS} » ne correspond pas : vérifiez-le sur votre carte CPS. "
        "S'il est exact, cochez « Je confirme ce numéro ».")
    confirm = [c for c in app.checkbox if c.label == "Je confirme ce numéro RPPS"]
    assert len(confirm) == 1 and confirm[0].value is False
    assert count_at(demo_url, m.Professional, m.Professional.email == NEW_EMAIL) == 0

    confirm[0].check()
    _send(app)
    assert not app.error
    assert len(app.success) == 1
    with session_scope(demo_url, read_only=True) as session:
        saved = session.scalars(sa.select(m.Professional).where(m.Professional.email == NEW_EMAIL)).one()
        assert (saved.id_type, saved.id_number) == ("rpps", BAD_KEY_RPPS)


# ---------------------------------------------------------------- "Mon profil"


def _volunteer(url: str) -> m.Professional:
    with session_scope(url, read_only=True) as session:
        user = session.scalars(sa.select(m.User).where(m.User.email == VOLUNTEER)).one()
        professional = session.get(m.Professional, user.professional_id)
        session.expunge(professional)
        return professional


def _decline_demo_reservation(url: str) -> None:
    """The demo volunteer starts with a reservation waiting; decline it as they would in "Mes missions"."""
    from core.shared.actor import to_session_user
    from core.staffing.workflow import withdraw

    with session_scope(url) as session:
        user = session.scalars(sa.select(m.User).where(m.User.email == VOLUNTEER)).one()
        proposal = session.scalars(sa.select(m.Proposal.id).where(
            m.Proposal.professional_id == user.professional_id, m.Proposal.state == "contacte")).first()
        if proposal is not None:
            withdraw(session, actor=to_session_user(session, user=user), proposal_id=proposal)


def _open_profile(app: AppTest) -> AppTest:
    sign_in_as(app, VOLUNTEER, "professionnel").run()
    return open_page(app, "mon-profil")


def _status_line(app: AppTest) -> str:
    return next(md.value for md in app.markdown if md.value.startswith("**Statut : "))


def test_my_profile_shows_my_status_and_lets_me_pause_then_resume(app, demo_url) -> None:
    _decline_demo_reservation(demo_url)
    assert _volunteer(demo_url).status == "disponible"
    _open_profile(app)
    assert not app.exception
    assert _status_line(app) == "**Statut : Disponible** · :blue-badge[VÉRIFIÉ]"

    button(app, "Me rendre indisponible").click()
    app.run()
    assert [s.value for s in app.success] == ["Vous êtes indisponible : aucun établissement ne vous verra."]
    assert _volunteer(demo_url).status == "indisponible"
    assert _status_line(app).startswith("**Statut : Indisponible**")
    assert [b.label for b in app.button if b.label.startswith("Me rendre")] == ["Me rendre de nouveau disponible"]

    button(app, "Me rendre de nouveau disponible").click()
    app.run()
    assert [s.value for s in app.success] == ["Vous êtes de nouveau disponible."]
    assert _volunteer(demo_url).status == "disponible"


def test_saving_my_availability_with_an_end_before_the_start_shows_the_error_under_the_dates(app, demo_url) -> None:
    _open_profile(app)
    start = paris_today() + timedelta(days=10)
    app.date_input(key="my_profile:0:available_from").set_value(start)
    app.date_input(key="my_profile:0:available_to").set_value(start - timedelta(days=3))
    button(app, "Enregistrer et confirmer mes disponibilités").click()
    app.run()
    message = "La fin de disponibilité est antérieure à son début."
    assert error_under(app, app.date_input(key="my_profile:0:available_to")) == message
    assert errors(app) == [message, "1 champ à corriger : voir les messages en rouge ci-dessus."]
    assert not app.success
    assert app.date_input(key="my_profile:0:available_from").value == start  # kept for the correction
    assert _volunteer(demo_url).available_from != start


def test_a_valid_save_of_my_profile_is_confirmed_and_stored(app, demo_url) -> None:
    _open_profile(app)
    app.text_input(key="my_profile:0:specialty").input("Gériatrie")
    button(app, "Enregistrer et confirmer mes disponibilités").click()
    app.run()
    assert not app.error
    # The count also includes the demo phone number, stored unnormalised by the seed (see report).
    assert [s.value[:46] for s in app.success] == ["Profil enregistré et disponibilités confirmées"]
    assert _volunteer(demo_url).specialty == "Gériatrie"


IDENTITY = "Pièce d'identité — piece-identite-demo.pdf (1 Ko)"
DIPLOMA = "Diplôme — diplome-demo.pdf (1 Ko)"


def test_my_documents_are_offered_for_download(app, demo_url) -> None:
    _open_profile(app)
    assert [b.label for b in app.button if b.label.startswith("Préparer : ")] == [
        f"Préparer : {IDENTITY}", f"Préparer : {DIPLOMA}"]
    assert served_files(app) == {}  # nothing read before it is asked for
    assert not [w for w in app.warning if "aucun fichier" in w.value]


def test_my_identity_document_is_prepared_then_offered_as_the_file_i_sent(app, demo_url) -> None:
    _open_profile(app)
    button(app, f"Préparer : {IDENTITY}").click().run()
    assert not app.exception and not app.error
    assert f"Préparer : {DIPLOMA}" in [b.label for b in app.button]  # the other one is still to prepare
    with session_scope(demo_url, read_only=True) as session:
        stored = session.scalars(sa.select(m.Document).where(
            m.Document.professional_id == _volunteer(demo_url).id, m.Document.kind == "identite")).one()
        key, content = f"document_{stored.id}", stored.content
    assert content.startswith(b"%PDF-")
    assert served_files(app) == {f"Télécharger : {IDENTITY}": content}
    assert prepared_files(app) == {key: content}
    [event] = events_at(demo_url, "document_downloaded")
    assert (event.actor_user_id, event.entity_id, event.details) == (
        user_at(demo_url, VOLUNTEER).id, str(_volunteer(demo_url).id), {"document_id": stored.id, "kind": "identite"})


def _documents_of(url: str) -> list[tuple[str, str]]:
    with session_scope(url, read_only=True) as session:
        return [(d.kind, d.filename) for d in session.scalars(
            sa.select(m.Document).where(m.Document.professional_id == _volunteer(url).id).order_by(m.Document.kind))]


def _without_documents(url: str) -> None:
    with session_scope(url) as session:
        session.execute(sa.delete(m.Document).where(m.Document.professional_id == _volunteer(url).id))


def test_a_missing_document_is_flagged_and_added_from_my_profile(app, demo_url) -> None:
    _without_documents(demo_url)
    _open_profile(app)
    assert [w.value for w in app.warning if "aucun fichier" in w.value] == [
        "Pièce d'identité : aucun fichier. Ajoutez-le ci-dessous, votre ARS en a besoin pour vérifier votre profil.",
        "Diplôme : aucun fichier. Ajoutez-le ci-dessous, votre ARS en a besoin pour vérifier votre profil."]
    app.radio(key="document_kind").set_value("diplome")
    app.file_uploader(key="document_upload:0").upload("diplôme IDE.pdf", PDF, "application/pdf")
    button(app, "Enregistrer le justificatif").click().run()
    assert not app.exception
    assert [s.value for s in app.success][0].startswith("Diplôme enregistré : « diplôme IDE.pdf ».")
    assert _documents_of(demo_url) == [("diplome", "diplôme IDE.pdf")]
    assert [b.label for b in app.button if b.label.startswith("Préparer : ")] == [
        "Préparer : Diplôme — diplôme IDE.pdf (1 Ko)"]
    assert app.file_uploader(key="document_upload:1").value is None  # emptied for the next one


def test_an_executable_sent_as_a_diploma_is_refused_and_nothing_changes(app, demo_url) -> None:
    _open_profile(app)
    app.radio(key="document_kind").set_value("diplome")
    app.file_uploader(key="document_upload:0").upload("diplome.pdf", EXE, "application/pdf")
    button(app, "Enregistrer le justificatif").click().run()
    assert [e.value for e in app.error] == [
        "Diplôme : le fichier « diplome.pdf » n'est ni un PDF, ni une image JPEG ou PNG (contenu vérifié)."]
    assert _documents_of(demo_url) == [("diplome", "diplome-demo.pdf"), ("identite", "piece-identite-demo.pdf")]


def test_a_verified_volunteer_is_told_the_new_file_takes_the_badge_away(app, demo_url) -> None:
    with session_scope(demo_url) as session:
        session.get(m.Professional, _volunteer(demo_url).id).verified = True
    _open_profile(app)
    assert any("badge VÉRIFIÉ" in i.value for i in app.info)
    app.file_uploader(key="document_upload:0").upload("cni.png", PNG, "image/png")
    button(app, "Enregistrer le justificatif").click().run()
    assert [s.value for s in app.success][0] == (
        "Pièce d'identité enregistrée : « cni.png ». Votre ARS le vérifiera : le badge VÉRIFIÉ reviendra ensuite.")
    assert _volunteer(demo_url).verified is False
    assert "VÉRIFIÉ" not in _status_line(app)
    assert _documents_of(demo_url) == [("diplome", "diplome-demo.pdf"), ("identite", "cni.png")]  # replaced


def test_saving_without_a_file_asks_for_one(app, demo_url) -> None:
    _open_profile(app)
    button(app, "Enregistrer le justificatif").click().run()
    assert [e.value for e in app.error] == ["Fichier : choisissez le fichier à enregistrer."]


def test_deleting_my_data_anonymises_me_and_signs_me_out(app, demo_url) -> None:
    _decline_demo_reservation(demo_url)
    professional_id = _volunteer(demo_url).id
    _open_profile(app)
    delete = button(app, "Supprimer définitivement")
    assert delete.disabled
    next(c for c in app.checkbox if c.label == "Je confirme vouloir supprimer mes données").check()
    app.run()
    button(app, "Supprimer définitivement").click()
    app.run()
    assert not app.exception
    assert [s.value for s in app.success] == ["Vos données ont été supprimées. Merci pour votre engagement."]
    with session_scope(demo_url, read_only=True) as session:
        professional = session.get(m.Professional, professional_id)
        assert (professional.status, professional.first_name, professional.phone) == ("supprime", "Volontaire", "")
    assert count_at(demo_url, m.User, m.User.email == VOLUNTEER) == 0
    assert not any(b.label == "Se déconnecter" for b in app.sidebar.button)
    assert "mon-profil" not in {info.get("url_pathname") for info in app._registered_pages.values()}



def test_i_download_all_my_data_as_a_zip(app, demo_url) -> None:
    import io
    import json
    import zipfile

    _open_profile(app)
    button(app, "Préparer mes données").click().run()
    assert not app.exception and not app.error
    archive = zipfile.ZipFile(io.BytesIO(served_files(app)["Télécharger mes données (.zip)"]))
    data = json.loads(archive.read("mes-donnees.json"))
    assert data["compte"]["courriel"] == VOLUNTEER
    assert sorted(d["type"] for d in data["justificatifs"]) == ["diplome", "identite"]
    assert all(archive.read(d["fichier"]).startswith(b"%PDF-") for d in data["justificatifs"])
    assert [e.entity_id for e in events_at(demo_url, "data_exported")] == [str(_volunteer(demo_url).id)]
