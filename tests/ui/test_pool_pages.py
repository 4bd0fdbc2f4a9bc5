"""« Plateformes territoriales » (ARS, CCS, ministry), « Plateforme territoriale » (an establishment), the pools'
export in « Exports » and the coordinator accounts of « Comptes », through the whole app on the demo data (whose
five pools of Nouvelle-Aquitaine are seeded by ops/seed_pools.py)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.shared.clock import paris_today
from db import models as m
from db.session import session_scope
from ops.seed_pools import DEMO_COORDINATOR, POOL_ARS, POOL_EHPAD_ACCOUNT
from tests.factories import make_establishment, make_user
from tests.readers import events_at, xlsx_rows
from tests.ui.conftest import open_page, signed_in, tick
from tests.ui.readers import button, charts, labels, metrics, served_files, texts

PAGE = "plateformes-territoriales"
NAMES = ["Plateforme Dordogne solidaire", "Plateforme Bordeaux Métropole", "Plateforme du Libournais",
         "Plateforme Béarn", "Plateforme Haute-Vienne"]  # by department, then name
CREATE = "pool_create:0:"


def _open(app: AppTest, email: str, role: str) -> AppTest:
    signed_in(app, email, role)
    open_page(app, PAGE)
    assert not app.exception
    return app


def _pools_table(app: AppTest):  # noqa: ANN202 - a DataFrame
    return app.dataframe[0].value


def _pool_id(url: str, name: str) -> int:
    with session_scope(url, read_only=True) as session:
        return session.scalar(sa.select(m.TerritorialPool.id).where(m.TerritorialPool.name == name))


def _flash(app: AppTest) -> list[str]:
    return [s.value for s in app.success]


def test_the_ars_sees_its_regions_demo_pools_their_money_deadlines_and_the_warning(app, demo_url) -> None:
    _open(app, POOL_ARS[0], "ars")
    frame = _pools_table(app)
    assert list(frame["Plateforme"]) == NAMES
    rows = frame.set_index("Plateforme")
    dordogne = rows.loc["Plateforme Dordogne solidaire"]
    assert (dordogne["Convention"], dordogne["Alerte"], dordogne["Opérationnelle"]) == (
        "en retard", "Crédits récupérables", "Non")
    assert (rows.loc["Plateforme du Libournais", "Crédits engagés"],
            rows.loc["Plateforme du Libournais", "Crédits versés"]) == ("90\u202f000\u202f€", "90\u202f000\u202f€")
    assert rows.loc["Plateforme Béarn", "Lettre d'engagement"] == "à venir"
    assert rows.loc["Plateforme Bordeaux Métropole", "Demandes"] == 1
    assert rows.loc["Plateforme du Libournais", "Coordination"] == "Julie Lacoste"
    shown = metrics(app)
    assert (shown["Plateformes"], shown["Opérationnelles"], shown["Alertes"]) == ("5", "2", "1")
    assert (shown["Crédits engagés"], shown["Crédits versés"]) == ("270\u202f000\u202f€", "190\u202f000\u202f€")
    # the map: the twelve departments of Nouvelle-Aquitaine, Dordogne in the warning's colour
    traces = {trace["name"]: list(trace["locations"]) for trace in charts(app)["pools_map"]["data"]}
    assert traces["Non opérationnelle à l'échéance de la convention"] == ["24"]
    assert traces["Plateforme opérationnelle"] == ["33"] and sorted(traces["Plateforme en montage"]) == ["64", "87"]
    assert sum(len(codes) for codes in traces.values()) == 12
    assert any("Plateforme Dordogne solidaire" in t and "les crédits peuvent être récupérés" in t for t in texts(app.main))


def test_the_ars_creates_a_pool_through_the_form(app, demo_url) -> None:
    with session_scope(demo_url) as session:
        support = make_establishment(session, "40000", name="EHPAD des Landes", finess_category_code="500")
        ssiad = make_establishment(session, "40100", name="SSIAD de Dax", finess_category_code="354")
        finess, ssiad_id = support.finess, ssiad.id
    _open(app, POOL_ARS[0], "ars")
    app.selectbox(key=CREATE + "department_code").select("24").run()
    assert any("Ce département a déjà une plateforme ouverte, « Plateforme Dordogne solidaire »" in w.value
               for w in app.warning)
    app.selectbox(key=CREATE + "department_code").select("40").run()
    assert not app.warning
    app.text_input(key=CREATE + "name").input("Plateforme des Landes")
    app.selectbox(key=CREATE + "support_finess").select(finess)
    app.multiselect(key=CREATE + "member_ids").select(ssiad_id)
    app.run()
    start = app.date_input(key=CREATE + "start_date").value
    assert f"lettre d'engagement le {start + timedelta(days=18):%d/%m/%Y} (18 jours après le début)" in " ".join(
        c.value for c in app.caption)
    app.button(key="pool_create_submit").click().run()
    assert not app.exception
    [flash] = [f for f in _flash(app) if "créée" in f]
    assert flash.startswith("Plateforme « Plateforme des Landes » créée : code PT40-")
    assert flash.endswith(", 2 établissement(s) membre(s).")  # the EHPAD support and the SSIAD
    assert "Plateforme des Landes" in list(_pools_table(app)["Plateforme"])
    with session_scope(demo_url, read_only=True) as session:
        pool = session.scalar(sa.select(m.TerritorialPool).where(m.TerritorialPool.name == "Plateforme des Landes"))
        assert (pool.department_code, pool.engagement_due) == ("40", start + timedelta(days=18))


def test_a_refused_creation_shows_each_error_beside_its_field_and_keeps_what_was_typed(app, demo_url) -> None:
    _open(app, POOL_ARS[0], "ars")
    app.selectbox(key=CREATE + "department_code").select("24").run()
    app.text_input(key=CREATE + "name").input("Deuxième plateforme").run()
    app.button(key="pool_create_submit").click().run()
    errors = [e.value for e in app.error]
    assert ("Le département Dordogne (24) a déjà une plateforme territoriale ouverte, « Plateforme Dordogne "
            "solidaire » : l'appel à projets en prévoit une par département (plusieurs seulement en Gironde et dans "
            "les Pyrénées-Atlantiques).") in errors
    assert "Choisissez l'établissement support (son FINESS) : c'est lui qui reçoit les crédits." in errors
    assert app.text_input(key=CREATE + "name").value == "Deuxième plateforme"


def test_the_ars_records_the_convention_and_the_warning_goes(app, demo_url) -> None:
    _open(app, POOL_ARS[0], "ars")
    tick(app, 0)  # Plateforme Dordogne solidaire
    pool_id = _pool_id(demo_url, NAMES[0])
    assert app.subheader[0].value == "Plateforme Dordogne solidaire"
    form = f"pool_project:{pool_id}:0:"
    assert app.number_input(key=form + "total_budget").value == 180_000  # the recorded follow-up, ready to edit
    app.date_input(key=form + "convention_received_on").set_value(paris_today() - timedelta(days=1))
    app.text_area(key=form + "convention_signatories").input("EHPAD de Périgueux, EHPAD de Bergerac, SSIAD")
    app.button(key=f"pool_project_save_{pool_id}").click().run()
    assert not app.exception
    assert ("Suivi enregistré : date de réception de la convention, signataires de la convention."
            in _flash(app))
    dordogne = _pools_table(app).set_index("Plateforme").loc["Plateforme Dordogne solidaire"]
    assert (dordogne["Alerte"], dordogne["Opérationnelle"]) == ("", "Oui")
    assert dordogne["Convention"] == f"reçue le {paris_today() - timedelta(days=1):%d/%m/%Y}"
    assert metrics(app)["Alertes"] == "0"


def test_a_wrong_follow_up_is_refused_beside_its_field(app, demo_url) -> None:
    _open(app, POOL_ARS[0], "ars")
    tick(app, 3)  # Plateforme Béarn: nothing received yet
    pool_id = _pool_id(demo_url, "Plateforme Béarn")
    form = f"pool_project:{pool_id}:0:"
    app.date_input(key=form + "convention_received_on").set_value(paris_today())
    app.button(key=f"pool_project_save_{pool_id}").click().run()
    assert ("La convention suit la lettre d'engagement : indiquez d'abord la date de réception de la lettre."
            in [e.value for e in app.error])
    assert app.date_input(key=form + "convention_received_on").value == paris_today()  # kept for correction
    assert _pools_table(app).set_index("Plateforme").loc["Plateforme Béarn", "Convention"] == "à venir"


def test_the_ars_accepts_a_join_request_from_the_pools_detail(app, demo_url) -> None:
    _open(app, POOL_ARS[0], "ars")
    tick(app, 1)  # Plateforme Bordeaux Métropole, whose SSIAD of Langon asks to join
    button(app, "Accepter").click().run()
    assert not app.exception
    assert "« SSIAD du Sud-Gironde – Langon » est membre de la plateforme ; ses comptes sont prévenus par courriel." in (
        _flash(app))
    assert _pools_table(app).set_index("Plateforme").loc["Plateforme Bordeaux Métropole", "Membres"] == 5
    assert len(events_at(demo_url, "join_accepted")) == 1


def _offered_to_add(app: AppTest, pool_id: int, name: str) -> bool:
    adding = [box for box in app.selectbox if box.key == f"pool_add_{pool_id}"]
    return bool(adding) and any(option.startswith(name) for option in adding[0].options)


def test_the_ars_corrects_the_finess_category_of_an_ehpad_registered_as_a_hospital(app, demo_url) -> None:
    with session_scope(demo_url) as session:
        wrong = make_establishment(session, postal_code="33000", finess_category_code="355",
                                   name="EHPAD des Chartrons (enregistré comme CH)")
        wrong_id = wrong.id
    pool_id = _pool_id(demo_url, "Plateforme Bordeaux Métropole")
    _open(app, POOL_ARS[0], "ars")
    tick(app, 1)  # Plateforme Bordeaux Métropole (Gironde)
    assert not _offered_to_add(app, pool_id, "EHPAD des Chartrons")
    app.selectbox(key=f"pool_category_establishment_{pool_id}").set_value(wrong_id)
    app.selectbox(key=f"pool_category_code_{pool_id}").set_value("500").run()
    button(app, "Enregistrer la catégorie").click().run()
    assert not app.exception
    assert _flash(app) == ["Catégorie FINESS de « EHPAD des Chartrons (enregistré comme CH) » : EHPAD."]
    with session_scope(demo_url, read_only=True) as session:
        assert session.get(m.Establishment, wrong_id).finess_category_code == "500"
    assert len(events_at(demo_url, "finess_category_corrected")) == 1
    assert _offered_to_add(app, pool_id, "EHPAD des Chartrons")  # it may now be added


def test_the_ministry_sees_every_pool_but_cannot_edit(app, demo_url) -> None:
    _open(app, "ministere@example.org", "ministere")
    assert app.selectbox(key="pools_region").value is None  # every region
    assert list(_pools_table(app)["Plateforme"]) == NAMES
    assert set(_pools_table(app)["Coordination"]) == {"1 désigné(s)"}  # no staff name for the ministry
    tick(app, 0)
    assert app.subheader[0].value == "Plateforme Dordogne solidaire"
    assert not {"Enregistrer le suivi", "Créer la plateforme", "Accepter", "Ajouter à la plateforme"} & set(labels(app))
    assert not app.date_input and not app.number_input  # the follow-up is read, not edited
    assert any("**Budget total** : 180\u202f000\u202f€" in t for t in texts(app.main))
    assert any("1 coordinateur(s) désigné(s)" in t for t in texts(app.main))


def test_an_establishment_sees_its_pool_and_another_asks_to_join(app, demo_url) -> None:
    signed_in(app, POOL_EHPAD_ACCOUNT[0], "etablissement")
    open_page(app, "ma-plateforme-territoriale")
    assert not app.exception
    assert ("« EHPAD Les Charmilles – Libourne » est membre de la plateforme territoriale « Plateforme du "
            "Libournais »") in app.success[0].value
    assert any(DEMO_COORDINATOR in t for t in texts(app.main))
    with session_scope(demo_url) as session:  # an HR account with a password, for the EHPAD outside the pool
        nontron = session.scalar(sa.select(m.Establishment).where(m.Establishment.name == "EHPAD du Périgord vert – "
                                                                                         "Nontron"))
        email = make_user(session, establishment=nontron).email
    signed_in(app, email, "etablissement")
    open_page(app, "ma-plateforme-territoriale")
    button(app, "Demander à rejoindre").click().run()
    assert not app.exception
    assert any("Demande envoyée à la plateforme « Plateforme Dordogne solidaire »" in f for f in _flash(app))
    assert "attend la décision de son coordinateur ou de l'ARS" in app.info[0].value
    assert "Demander à rejoindre" not in labels(app)


def test_an_establishment_registered_before_the_pools_declares_its_category_then_asks(app, demo_url) -> None:
    with session_scope(demo_url) as session:
        older = make_establishment(session, "87200", name="EHPAD des Feuillardiers")  # no FINESS category
        email, older_id = make_user(session, establishment=older).email, older.id
    signed_in(app, email, "etablissement")
    open_page(app, "ma-plateforme-territoriale")
    assert "n'a pas de catégorie FINESS renseignée : indiquez-la ci-dessous" in app.info[0].value
    assert "Demander à rejoindre" not in labels(app)
    app.selectbox(key=f"declare_category_{older_id}").select("500").run()
    button(app, "Enregistrer la catégorie").click().run()
    assert not app.exception
    assert "Catégorie FINESS enregistrée : EHPAD." in _flash(app)
    assert "Enregistrer la catégorie" not in labels(app) and labels(app)["Demander à rejoindre"]


def test_the_ars_exports_its_regions_pools_from_exports(app, demo_url) -> None:
    signed_in(app, POOL_ARS[0], "ars")
    open_page(app, "exports-de-donnees")
    assert not app.exception
    button(app, "Préparer l'export des plateformes").click().run()
    assert not app.exception
    content = served_files(app)["Télécharger les plateformes (.xlsx)"]
    header, *rows = xlsx_rows(content, "Plateformes")
    assert sorted(row[header.index("Plateforme")] for row in rows) == sorted(NAMES)
    [event] = events_at(demo_url, "exported")
    assert (event.details["dataset"], event.ars_code) == ("plateformes_territoriales", "75")


def test_an_establishment_is_not_offered_the_pools_export(app, demo_url) -> None:
    signed_in(app, POOL_EHPAD_ACCOUNT[0], "etablissement")
    open_page(app, "exports-de-donnees")
    assert not app.exception and not app.error
    assert "Préparer l'export des plateformes" not in labels(app)


def test_the_ars_opens_a_coordinator_account_for_one_of_its_pools(app, demo_url) -> None:
    signed_in(app, POOL_ARS[0], "ars")
    open_page(app, "comptes")
    form = "account_create:0:"
    app.selectbox(key=form + "role").select("pool").run()
    for field, value in (("last_name", "Arrieta"), ("first_name", "Maite"), ("email", "maite.arrieta@example.org")):
        app.text_input(key=form + field).input(value)
    pools = app.selectbox(key=form + "pool_id")
    assert [option.split(" — ")[0] for option in pools.options] == [
        "Plateforme Dordogne solidaire", "Plateforme Bordeaux Métropole", "Plateforme du Libournais",
        "Plateforme Béarn", "Plateforme Haute-Vienne"]
    pools.select(_pool_id(demo_url, "Plateforme Béarn")).run()
    app.button(key="account_create_submit").click().run()
    assert not app.exception
    assert "Compte créé : un lien d'activation a été envoyé à maite.arrieta@example.org." in _flash(app)
    with session_scope(demo_url, read_only=True) as session:
        user = session.scalar(sa.select(m.User).where(m.User.email == "maite.arrieta@example.org"))
        assert (user.role, user.ars_code, user.pool_id) == ("pool", "75", _pool_id(demo_url, "Plateforme Béarn"))


def test_the_ccs_finds_the_pools_of_a_region_it_chooses(app, demo_url) -> None:
    _open(app, "ccs@example.org", "ccs")
    app.selectbox(key="pools_region").select("52").run()
    assert not app.exception
    assert app.info[0].value == "Aucune plateforme territoriale pour l'instant."
    app.selectbox(key="pools_region").select("75").run()
    assert len(_pools_table(app)) == 5 and "Créer la plateforme" in labels(app)

