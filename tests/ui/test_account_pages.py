"""Account request, validation queue, activation link, forgotten password, establishment missions."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from core.access.accounts import AccountRequest, request_establishment_account
from core.staffing.missions import MissionInput
from db import models as m
from db.session import session_scope
from tests.readers import count_at
from tests.ui.conftest import open_page, sign_in_as
from tests.ui.readers import button

KEY = "account_request:0:"


def _fill_request(app, email: str = "claire@chu-test.fr") -> None:
    for field, value in (("last_name", "Moreau"), ("first_name", "Claire"), ("email", email),
                         ("phone", "06 12 34 56 78"), ("identifier", "750100125"),
                         ("establishment_name", "Hôpital de test"), ("address", "1 place de l'Hôpital"),
                         ("postal_code", "44000")):
        app.text_input(key=KEY + field).input(value)
    app.selectbox(key=KEY + "category_code").select("loi_hospitaliere")
    app.run()
    app.selectbox(key=KEY + "m1.profession_code").select("infirmier_de")
    app.run()


def test_an_empty_request_shows_each_error_beside_its_field_and_saves_nothing(app, demo_url) -> None:
    app.run()
    open_page(app, "demande-de-compte")
    users = count_at(demo_url, m.User)
    button(app, "Valider la demande").click()
    app.run()
    errors = [e.value for e in app.error]
    assert "Le champ « Nom » est obligatoire." in errors
    assert "L'adresse électronique est obligatoire." in errors
    assert "Choisissez la profession recherchée." in errors
    assert any("champs à corriger" in e for e in errors)
    assert count_at(demo_url, m.User) == users


def test_a_complete_request_is_confirmed_and_the_ars_is_deduced_from_the_postal_code(app, demo_url) -> None:
    app.run()
    open_page(app, "demande-de-compte")
    _fill_request(app)
    assert app.selectbox(key=KEY + "city").value == "NANTES"
    assert app.selectbox(key=KEY + "ars_code").value == "52"
    button(app, "Valider la demande").click()
    app.run()
    assert not app.exception
    assert any("sont enregistrés" in s.value for s in app.success)
    with session_scope(demo_url) as session:
        user = session.scalar(sa.select(m.User).where(m.User.email == "claire@chu-test.fr"))
        assert user.status == "pending"


def test_the_finess_category_is_chosen_by_its_short_label_or_left_as_other(app, demo_url) -> None:
    app.run()
    open_page(app, "demande-de-compte")
    select = app.selectbox(key=KEY + "finess_category_code")
    assert (select.label, select.placeholder) == ("Catégorie FINESS (EHPAD, SSIAD, SPASAD, SAAD…)",
                                                  "Autre / je ne sais pas")
    assert select.options[:5] == ["Autre / je ne sais pas", "EHPAD", "SSIAD", "SPASAD", "SAAD"]
    _fill_request(app, email="ssiad@test.fr")
    app.selectbox(key=KEY + "finess_category_code").select("354")
    app.run()
    button(app, "Valider la demande").click()
    app.run()
    assert any("sont enregistrés" in s.value for s in app.success)
    with session_scope(demo_url) as session:
        establishment = session.scalar(sa.select(m.Establishment).where(m.Establishment.finess == "750100125"))
        assert establishment.finess_category_code == "354"


def test_typed_values_survive_a_failed_submit_and_a_page_switch(app) -> None:
    app.run()
    open_page(app, "demande-de-compte")
    app.text_input(key=KEY + "last_name").input("Moreau")
    app.text_input(key=KEY + "identifier").input("750100126")  # wrong key
    app.run()
    button(app, "Valider la demande").click()
    app.run()
    assert any("clé de contrôle" in e.value for e in app.error)
    open_page(app, "")
    open_page(app, "demande-de-compte")
    assert app.text_input(key=KEY + "last_name").value == "Moreau"
    assert app.text_input(key=KEY + "identifier").value == "750100126"


def test_missions_can_be_added_and_removed(app) -> None:
    app.run()
    open_page(app, "demande-de-compte")
    button(app, "Ajouter une mission").click()
    app.run()
    assert [md.value for md in app.markdown if md.value.startswith("**Mission")] == ["**Mission 1**", "**Mission 2**"]
    next(b for b in app.button if b.label == "Supprimer").click()
    app.run()
    assert [md.value for md in app.markdown if md.value.startswith("**Mission")] == ["**Mission 1**"]


def test_an_existing_email_is_refused_on_the_email_field(app, demo_url) -> None:
    app.run()
    open_page(app, "demande-de-compte")
    users = count_at(demo_url, m.User)
    _fill_request(app, email="ccs@example.org")
    button(app, "Valider la demande").click()
    app.run()
    assert any("Un compte existe déjà" in e.value for e in app.error)
    assert count_at(demo_url, m.User) == users


def _pending_request(url: str) -> int:
    request = AccountRequest(
        last_name="Durand", first_name="Louise", email="louise@ehpad-test.fr", phone="0612345678",
        category_code="sociaux_hebergement", identifier="010000024", establishment_name="EHPAD des Tests",
        address="2 rue des Lilas", postal_code="49000", city="", ars_code="52",
        missions=[MissionInput(profession_code="aide_soignant", count=2, start_date=date.today(),
                               end_date=date.today() + timedelta(days=10))],
    )
    with session_scope(url) as session:
        return request_establishment_account(session, actor=None, request=request).user_id


def test_the_ars_validates_a_request_from_its_queue(app, demo_url) -> None:
    user_id = _pending_request(demo_url)
    sign_in_as(app, "ars.paysdelaloire@example.org", "ars").run()
    open_page(app, "validation-des-comptes")
    assert any(md.value == "#### EHPAD des Tests" for md in app.markdown)
    assert any("FINESS 010000024 — vérifié" in md.value for md in app.markdown)
    # an Ain FINESS (01) for an Angers address (49): flagged for the ARS to check, the request still validates
    assert [w.value for w in app.warning] == [
        "Le numéro FINESS commence par 01, le code postal est dans le département 49 : vérifiez qu'il s'agit bien "
        "de cet établissement (certains sont immatriculés dans un autre département)."]
    next(b for b in app.button if b.key == f"validate_{user_id}").click()
    app.run()
    assert any("un lien d'activation a été envoyé à louise@ehpad-test.fr" in s.value for s in app.success)
    assert not any(md.value == "#### EHPAD des Tests" for md in app.markdown)
    with session_scope(demo_url) as session:
        assert session.get(m.User, user_id).status == "active"


def test_a_refusal_without_reason_is_refused(app, demo_url) -> None:
    user_id = _pending_request(demo_url)
    sign_in_as(app, "ccs@example.org", "ccs").run()
    open_page(app, "validation-des-comptes")
    next(b for b in app.button if b.key == f"reject_{user_id}").click()
    app.run()
    assert any("Motif du refus" in e.value for e in app.error)
    app.text_area(key=f"reason_{user_id}").input("Doublon d'une demande existante")
    next(b for b in app.button if b.key == f"reject_{user_id}").click()
    app.run()
    assert any("refusé" in s.value for s in app.success)


def _token_of_last_email(session) -> str:  # noqa: ANN001
    body = session.scalars(sa.select(m.Outbox.body_text).order_by(m.Outbox.id.desc())).first()
    return body.split("jeton=")[1].split()[0]


def _activation_token(url: str, user_id: int) -> str:
    from core.access.accounts import validate_account
    from core.shared.actor import to_session_user

    with session_scope(url) as session:
        ccs = to_session_user(session, user=session.scalar(sa.select(m.User).where(m.User.email == "ccs@example.org")))
        validate_account(session, actor=ccs, user_id=user_id)
        return _token_of_last_email(session)


def test_the_activation_link_ticks_the_rules_and_sets_the_password(app, demo_url) -> None:
    token = _activation_token(demo_url, _pending_request(demo_url))
    app.query_params["jeton"] = token
    app.run()
    open_page(app, "activer-mon-compte")
    assert any("Bonjour Louise" in md.value for md in app.markdown)
    app.text_input[0].input("faible")
    app.text_input[1].input("faible")
    next(b for b in app.button if b.label == "Enregistrer mon mot de passe").click()
    app.run()
    assert any("majuscule" in e.value for e in app.error)
    assert any(":red[✘] au moins 12 caractères" in md.value for md in app.markdown)
    assert any(":green[✔] une lettre minuscule" in md.value for md in app.markdown)
    app.text_input[0].input("Louise-Renfort-2026!")
    app.text_input[1].input("Louise-Renfort-2026!")
    next(b for b in app.button if b.label == "Enregistrer mon mot de passe").click()
    app.run()
    assert any("Votre mot de passe est enregistré" in s.value for s in app.success)


def _all_state_values(app) -> list:  # noqa: ANN001
    """Every value the session holds, keyless widgets included (what the filtered view hides)."""
    inner = app.session_state._state._state  # AppTest → SafeSessionState → SessionState
    return [inner[key] for key in inner._keys()]


def test_the_activation_page_never_keeps_the_typed_password(app, demo_url) -> None:
    token = _activation_token(demo_url, _pending_request(demo_url))
    app.query_params["jeton"] = token
    app.run()
    open_page(app, "activer-mon-compte")
    for password, confirmation in (("faible", "faible"), ("Louise-Renfort-2026!", "Autre-Chose-2026!")):
        app.text_input(key="activation_password").input(password)
        app.text_input(key="activation_confirmation").input(confirmation)
        next(b for b in app.button if b.label == "Enregistrer mon mot de passe").click()
        app.run()
        assert app.error  # too weak, then not identical: refused, rules still ticked
        assert any(":green[✔]" in md.value for md in app.markdown)
        for value in _all_state_values(app):
            assert password not in repr(value) and confirmation not in repr(value)
        assert app.text_input(key="activation_password").value == ""


def _reset_token(url: str, email: str) -> str:
    from core.access.accounts import request_password_reset

    with session_scope(url) as session:
        request_password_reset(session, actor=None, email=email)
        return _token_of_last_email(session)


def test_a_link_opened_while_signed_in_as_someone_else_offers_to_sign_out_first(app, demo_url) -> None:
    token = _activation_token(demo_url, _pending_request(demo_url))
    sign_in_as(app, "admin@example.org", "admin").run()
    app.query_params["jeton"] = token  # the link is opened after the first page (which switches pages)
    open_page(app, "activer-mon-compte")  # registered (hidden) for every role: no "Page not found"
    assert not app.exception
    warning = app.warning[0].value
    assert "admin@example.org" in warning and "louise@ehpad-test.fr" in warning
    assert not any(b.label == "Enregistrer mon mot de passe" for b in app.button)
    next(b for b in app.button if b.label == "Me déconnecter et utiliser ce lien").click()
    app.run()
    assert not app.session_state["authentication_status"]
    assert any("Bonjour Louise" in md.value for md in app.markdown)
    app.text_input(key="activation_password").input("Louise-Renfort-2026!")
    app.text_input(key="activation_confirmation").input("Louise-Renfort-2026!")
    next(b for b in app.button if b.label == "Enregistrer mon mot de passe").click()
    app.run()
    assert any("Connectez-vous avec « louise@ehpad-test.fr »" in s.value for s in app.success)


def test_the_owner_of_a_reset_link_sets_the_password_without_signing_out(app, demo_url) -> None:
    sign_in_as(app, "ccs@example.org", "ccs").run()
    app.query_params["jeton"] = _reset_token(demo_url, "ccs@example.org")
    open_page(app, "activer-mon-compte")
    assert not app.warning
    app.text_input(key="activation_password").input("Nouveau-Secret-2026!")
    app.text_input(key="activation_confirmation").input("Nouveau-Secret-2026!")
    next(b for b in app.button if b.label == "Enregistrer mon mot de passe").click()
    app.run()
    assert any(s.value == "Votre nouveau mot de passe est enregistré." for s in app.success)
    assert app.session_state["authentication_status"]


def test_a_broken_link_says_so_and_offers_a_new_one(app) -> None:
    app.query_params["jeton"] = "lien-inexistant"
    app.run()
    open_page(app, "activer-mon-compte")
    assert any("n'est pas valable" in e.value for e in app.error)
    assert any(b.label == "Recevoir un nouveau lien" for b in app.button)


def test_forgotten_password_answers_the_same_for_any_email(app) -> None:
    app.run()
    open_page(app, "mot-de-passe-oublie")
    answers = []
    for email in ("ccs@example.org", "personne@example.org"):
        app.text_input(key="reset_request_email").input(email)
        next(b for b in app.button if b.label == "Recevoir un nouveau lien").click()
        app.run()
        answers.append([s.value.replace(email, "EMAIL") for s in app.success])
    assert answers[0] == answers[1] and answers[0]


def test_a_user_of_two_establishments_switches_between_them_in_the_sidebar(app) -> None:
    sign_in_as(app, "etablissement@example.org", "etablissement").run()
    open_page(app, "tableau-de-bord")
    choice = app.sidebar.selectbox(key="current_establishment")
    assert choice.options == ["CHU de Nantes (démo)", "EHPAD Les Glycines (démo)"]
    assert "CHU de Nantes (démo)" in app.caption[0].value
    # AppTest cannot map a format_func'd option back to its id: set the widget's state directly.
    ids = sorted(app.session_state["_renfort_current_user"].establishment_ids)
    app.session_state["current_establishment"] = next(i for i in ids if i != choice.value)
    app.run()
    assert "EHPAD Les Glycines (démo)" in app.caption[0].value
