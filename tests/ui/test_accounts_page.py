"""« Comptes » through the whole app (AppTest on app.py): what each regulator lists, creating an account,
disabling one (who is then refused at sign-in), attaching an establishment."""

from __future__ import annotations

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.access.accounts import authenticate
from db import models as m
from db.session import session_scope
from ops.seed import DEMO_PASSWORD
from tests.ui.conftest import open_page, sign_in_as, tick
from tests.ui.readers import error_under, table

FORM = "account_create:0:"


def _open(app: AppTest, email: str, role: str) -> AppTest:
    sign_in_as(app, email, role).run()
    open_page(app, "comptes")
    assert not app.exception
    return app


def _search(app: AppTest, text: str) -> AppTest:
    app.text_input(key="accounts_search").input(text)
    return app.run()


def _flash(app: AppTest) -> list[str]:
    return [s.value for s in app.success]


def _total(app: AppTest) -> int:
    [shown] = [c.value for c in app.caption if c.value.startswith("Affichage")]
    return int(shown.rsplit(" de ", 1)[1])


def _region_52_accounts(url: str) -> set[str]:
    """The e-mails an ARS of Pays de la Loire manages, read straight from the tables."""
    with session_scope(url, read_only=True) as session:
        staff = session.scalars(sa.select(m.User.email).where(m.User.role.in_(["ars", "pool"]), m.User.ars_code == "52"))
        members = session.scalars(
            sa.select(m.User.email).join(m.Membership, m.Membership.user_id == m.User.id)
            .join(m.Establishment, m.Establishment.id == m.Membership.establishment_id)
            .where(m.User.role == "etablissement", m.Establishment.ars_code == "52", m.User.status != "rejected"))
        return set(staff) | set(members)


def test_an_ars_lists_the_accounts_of_its_region_only(app, demo_url) -> None:
    _open(app, "ars.paysdelaloire@example.org", "ars")
    frame = table(app)
    assert set(frame["Courriel"]) == _region_52_accounts(demo_url)
    assert set(frame["Région"]) == {"Pays de la Loire"}
    assert set(frame["Rôle"]) == {"ARS", "Établissement"}
    moreau = frame[frame["Courriel"] == "etablissement@example.org"].iloc[0]
    assert moreau["Établissements"] == "CHU de Nantes (démo); EHPAD Les Glycines (démo)"
    assert moreau["État"] == "Actif"
    assert "Région" not in [s.label for s in app.selectbox]  # its region is fixed
    _search(app, "ccs@example.org")
    assert [i.value for i in app.info] == ["Aucun compte ne correspond à ces critères."]


def test_an_admin_lists_every_account_paged_and_filters_them(app, demo_url) -> None:
    _open(app, "admin@example.org", "admin")
    with session_scope(demo_url, read_only=True) as session:
        everyone = session.scalar(sa.select(sa.func.count()).select_from(m.User).where(m.User.status != "rejected"))
    assert _total(app) == everyone and len(table(app)) == 50
    app.selectbox(key="accounts_role").select("ccs").run()
    assert list(table(app)["Courriel"]) == ["ccs@example.org"]
    app.selectbox(key="accounts_role").select(None).run()
    app.selectbox(key="accounts_region").select("52").run()
    app.selectbox(key="accounts_state").select("active").run()
    assert {"etablissement@example.org", "ars.paysdelaloire@example.org", "benevole@example.org"} <= set(
        table(app)["Courriel"])
    assert set(table(app)["État"]) == {"Actif"}


def _fill_new_account(app: AppTest, role: str, email: str) -> AppTest:
    app.selectbox(key=FORM + "role").select(role).run()
    for field, value in (("last_name", "Garnier"), ("first_name", "Louise"), ("email", email)):
        app.text_input(key=FORM + field).input(value)
    return app.run()


def test_an_admin_creates_an_ars_account_which_then_shows_in_the_list(app, demo_url) -> None:
    _open(app, "admin@example.org", "admin")
    _fill_new_account(app, "ars", "louise.garnier@ars.sante.fr")
    app.selectbox(key=FORM + "ars_code").select("53").run()
    app.button(key="account_create_submit").click().run()
    assert not app.exception
    assert "Compte créé : un lien d'activation a été envoyé à louise.garnier@ars.sante.fr." in _flash(app)
    _search(app, "louise.garnier")
    [row] = table(app).to_dict("records")
    assert (row["Rôle"], row["Région"], row["État"]) == ("ARS", "Bretagne", "En attente d'activation")
    with session_scope(demo_url, read_only=True) as session:
        mail = session.scalars(sa.select(m.Outbox).where(m.Outbox.to == "louise.garnier@ars.sante.fr")).one()
        assert "activer-mon-compte?jeton=" in mail.body_text


def test_a_refused_account_keeps_what_was_typed_and_shows_the_error_beside_the_field(app, demo_url) -> None:
    _open(app, "ccs@example.org", "ccs")
    assert app.selectbox(key=FORM + "role").options == ["ARS", "Centre de crise sanitaire", "Ministère"]
    _fill_new_account(app, "ministere", "CCS@Example.org")  # taken, in another case
    app.button(key="account_create_submit").click().run()
    email = app.text_input(key=FORM + "email")
    assert email.value == "CCS@Example.org"
    assert error_under(app, email) == "Un compte existe déjà avec cette adresse électronique."
    assert app.text_input(key=FORM + "last_name").value == "Garnier"


def test_an_ars_opens_an_establishment_account_for_two_establishments(app, demo_url) -> None:
    _open(app, "ars.paysdelaloire@example.org", "ars")
    _fill_new_account(app, "etablissement", "drh@groupe-test.fr")
    app.text_input(key=FORM + "establishment_search").input("(démo)").run()
    with session_scope(demo_url, read_only=True) as session:
        demo = session.execute(sa.select(m.Establishment.id, m.Establishment.finess)
                               .where(m.Establishment.name.like("%(démo)")).order_by(m.Establishment.name)).all()
    assert app.multiselect(key=FORM + "establishment_ids").options == [
        f"CHU de Nantes (démo) — FINESS {demo[0].finess} (NANTES)", f"EHPAD Les Glycines (démo) — FINESS {demo[1].finess} (NANTES)"]
    for establishment_id, _ in demo:
        app.multiselect(key=FORM + "establishment_ids").select(establishment_id).run()
    app.button(key="account_create_submit").click().run()
    assert "Compte créé : un lien d'activation a été envoyé à drh@groupe-test.fr." in _flash(app)
    _search(app, "drh@groupe-test")
    assert table(app).iloc[0]["Établissements"] == "CHU de Nantes (démo); EHPAD Les Glycines (démo)"


def test_a_disabled_user_can_no_longer_sign_in(app, demo_url) -> None:
    _open(app, "admin@example.org", "admin")
    _search(app, "etablissement2@example.org")
    tick(app, 0)
    app.button(key=f"disable_account_{table(app).iloc[0]['N°']}").click().run()
    assert not app.exception
    assert "Compte etablissement2@example.org désactivé." in _flash(app)
    assert table(app).iloc[0]["État"] == "Désactivé"
    assert [b.label for b in app.button if b.label.startswith("Oui")] == ["Oui, réactiver"]  # its panel stays open
    with session_scope(demo_url) as session:
        outcome = authenticate(session, email="etablissement2@example.org", password=DEMO_PASSWORD)
    assert (outcome.user, outcome.error) == (None, "Ce compte est désactivé. Contactez votre ARS.")


def test_nobody_is_offered_to_disable_their_own_account(app) -> None:
    _open(app, "admin@example.org", "admin")
    _search(app, "admin@example.org")
    tick(app, 0)
    labels = [b.label for b in app.button]
    assert "Envoyer un lien de réinitialisation" in labels and "Oui, désactiver" not in labels


def test_an_ars_attaches_an_establishment_to_an_account_then_detaches_another(app, demo_url) -> None:
    _open(app, "ars.paysdelaloire@example.org", "ars")
    _search(app, "etablissement2@example.org")
    tick(app, 0)
    user_id = int(table(app).iloc[0]["N°"])
    app.text_input(key=f"attach_search_{user_id}").input("Glycines").run()
    app.button(key=f"attach_{user_id}").click().run()
    assert any("rattaché au compte etablissement2@example.org" in text for text in _flash(app))
    assert table(app).iloc[0]["Établissements"] == "CHU de Nantes (démo); EHPAD Les Glycines (démo)"
    with session_scope(demo_url, read_only=True) as session:
        ids = dict(session.execute(sa.select(m.Establishment.name, m.Establishment.id).where(
            m.Establishment.name.in_(["CHU de Nantes (démo)", "EHPAD Les Glycines (démo)"]))).all())
    app.button(key=f"detach_{user_id}_{ids['CHU de Nantes (démo)']}").click().run()
    assert "« CHU de Nantes (démo) » retiré du compte etablissement2@example.org." in _flash(app)
    assert table(app).iloc[0]["Établissements"] == "EHPAD Les Glycines (démo)"
    with session_scope(demo_url, read_only=True) as session:
        assert session.scalars(sa.select(m.Membership.establishment_id)
                               .where(m.Membership.user_id == user_id)).all() == [ids["EHPAD Les Glycines (démo)"]]


def test_the_ccs_unlocks_a_locked_ars_account(app, demo_url) -> None:
    with session_scope(demo_url) as session:
        for _ in range(5):
            authenticate(session, email="ars.paysdelaloire@example.org", password="mauvais mot de passe")
    _open(app, "ccs@example.org", "ccs")
    app.selectbox(key="accounts_state").select("locked").run()
    [row] = table(app).to_dict("records")
    assert (row["Courriel"], row["État"]) == ("ars.paysdelaloire@example.org", "Verrouillé")
    tick(app, 0)
    assert any(c.value.startswith("Verrouillé après 5 essais infructueux, jusqu'au ") for c in app.caption)
    app.button(key=f"unlock_{row['N°']}").click().run()
    assert "Compte ars.paysdelaloire@example.org déverrouillé." in _flash(app)
    with session_scope(demo_url) as session:
        assert authenticate(session, email="ars.paysdelaloire@example.org", password=DEMO_PASSWORD).user is not None


def test_an_account_never_activated_is_sent_a_fresh_activation_link(app, demo_url) -> None:
    _open(app, "ars.paysdelaloire@example.org", "ars")
    app.selectbox(key="accounts_state").select("pending").run()
    row = table(app).iloc[0]
    assert row["État"] == "En attente d'activation"
    tick(app, 0)
    app.button(key=f"link_{row['N°']}").click().run()
    assert (f"Un nouveau lien d'activation a été envoyé à {row['Courriel']} ; les liens précédents ne fonctionnent "
            "plus.") in _flash(app)
    with session_scope(demo_url, read_only=True) as session:
        mail = session.scalars(sa.select(m.Outbox).where(m.Outbox.to == row["Courriel"])
                               .order_by(m.Outbox.id.desc())).first()
        assert mail.subject == "Renfort RH — votre compte est créé" and "activer-mon-compte?jeton=" in mail.body_text
