"""Form errors disappear from a field once it is corrected (issue 13): after a refused submit, changing a field checks
it again — right, its error goes before the next submit; still wrong, the new message — and the submit still has the
service validate everything (here, an address already in use, which only the database knows)."""

from __future__ import annotations

from datetime import timedelta

from core.shared.clock import paris_today
from db import models as m
from tests.readers import count_at
from tests.ui.conftest import open_page, signed_in
from tests.ui.readers import button, error_under

REQUEST = "account_request:0:"
NEED = "new_need:0:"
SIGNUP = "volunteer_signup:0:"
SUMMARY_ONE = "1 champ à corriger : voir les messages en rouge ci-dessus."


def _summary(app) -> str:  # noqa: ANN001
    return [e.value for e in app.error][-1]


def test_a_corrected_field_of_the_account_request_loses_its_error_and_the_submit_checks_everything_again(
        app, demo_url) -> None:
    app.run()
    open_page(app, "demande-de-compte")
    for field, value in (("last_name", "Moreau"), ("first_name", "Claire"), ("email", "claire@"),
                         ("phone", "12"), ("identifier", "750100125"), ("establishment_name", "Hôpital de test"),
                         ("address", "1 place de l'Hôpital"), ("postal_code", "44000")):
        app.text_input(key=REQUEST + field).input(value)
    app.selectbox(key=REQUEST + "category_code").select("loi_hospitaliere").run()
    app.selectbox(key=REQUEST + "m1.profession_code").select("infirmier_de").run()
    button(app, "Valider la demande").click().run()
    phone, email = app.text_input(key=REQUEST + "phone"), app.text_input(key=REQUEST + "email")
    assert error_under(app, phone).startswith("Le numéro de téléphone « 12 » n'est pas un numéro français valide")
    assert error_under(app, email).startswith("L'adresse électronique « claire@ » n'est pas valide")

    phone.input("06 12 34 56 78").run()  # corrected: its error goes at once, the other stays
    assert error_under(app, app.text_input(key=REQUEST + "phone")) is None
    assert error_under(app, app.text_input(key=REQUEST + "email")).startswith("L'adresse électronique « claire@ »")
    assert _summary(app) == SUMMARY_ONE

    app.text_input(key=REQUEST + "email").input("claire@@chu").run()  # still wrong: the message follows the value
    assert error_under(app, app.text_input(key=REQUEST + "email")).startswith("L'adresse électronique « claire@@chu »")

    app.text_input(key=REQUEST + "email").input("etablissement@example.org").run()  # well formed, but taken
    assert error_under(app, app.text_input(key=REQUEST + "email")) is None
    assert not [e for e in app.error]
    users = count_at(demo_url, m.User)
    button(app, "Valider la demande").click().run()  # the service validates everything again
    assert error_under(app, app.text_input(key=REQUEST + "email")) == (
        "Un compte existe déjà avec cette adresse électronique : connectez-vous, ou utilisez « Mot de passe "
        "oublié ? ».")
    assert count_at(demo_url, m.User) == users


def test_a_mission_end_date_error_goes_when_its_start_date_is_moved_before_it(app, demo_url) -> None:
    """A mission row: the error is named missions.0.end_date, its widgets m1.…; the start date is what righted it."""
    signed_in(app, "etablissement@example.org", "etablissement")
    open_page(app, "nouveau-besoin")
    start, end = paris_today() + timedelta(days=10), paris_today() + timedelta(days=5)
    app.selectbox(key=NEED + "m1.profession_code").select("aide_soignant")
    app.date_input(key=NEED + "m1.start_date").set_value(start)
    app.date_input(key=NEED + "m1.end_date").set_value(end)
    button(app, "Enregistrer les besoins").click().run()
    assert error_under(app, app.date_input(key=NEED + "m1.end_date")) == (
        f"La date de fin ({end:%d/%m/%Y}) est antérieure à la date de début ({start:%d/%m/%Y}).")

    app.date_input(key=NEED + "m1.start_date").set_value(end - timedelta(days=2)).run()
    assert error_under(app, app.date_input(key=NEED + "m1.end_date")) is None
    assert not [e for e in app.error]
    before = count_at(demo_url, m.Mission)
    button(app, "Enregistrer les besoins").click().run()
    assert not app.exception
    assert count_at(demo_url, m.Mission) == before + 1


def test_an_availability_error_goes_when_the_other_box_is_ticked(app) -> None:
    """The volunteer's « en semaine ou le week-end » error sits under the week box; ticking the weekend rights it."""
    app.run()
    open_page(app, "proposer-mon-aide")
    app.checkbox(key=SIGNUP + "available_week").uncheck().run()
    button(app, "Envoyer mon inscription").click().run()
    weekend = app.checkbox(key=SIGNUP + "available_weekend")
    assert error_under(app, weekend) == "Indiquez au moins une disponibilité : en semaine ou le week-end."
    assert error_under(app, app.text_input(key=SIGNUP + "last_name")) == "Le champ « Nom » est obligatoire."

    weekend.check().run()
    assert error_under(app, app.checkbox(key=SIGNUP + "available_weekend")) is None
    assert error_under(app, app.text_input(key=SIGNUP + "last_name")) == "Le champ « Nom » est obligatoire."
