"""« Appels à candidatures » of the ARS (issue 15) through the whole app on the demo data: the ARS Île-de-France's two
calls seeded by ops/seed_campaigns.py (« vague 2027 » open, « vague 2026 » with its results and follow-up), plus, for
the jury and the results, a call closed yesterday made in the test's database. The CCS reads the list only."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.campaigns.campaigns import CampaignInput, create_campaign
from core.shared.clock import PARIS, paris_today, utcnow
from db import models as m
from db.session import session_scope
from ops.seed_campaigns import CAMPAIGN_ARS, OPEN_TITLE, PAST_TITLE, hospital_names
from tests.factories import make_campaign, make_dossier
from tests.readers import events_at, outbox, row_at, user_at, xlsx_rows
from tests.ui.conftest import open_page, signed_in
from tests.ui.readers import button, charts, error_under, labels, metrics, plotly_array, served_files, texts
from tests.ui.test_no_english import _english
from ui.campaign_tables import dossiers_chart
from ui.markdown import md

PAGE = "appels-a-candidatures"
ARS = CAMPAIGN_ARS[0]
CREATE = "campaign_create:0:"
CLOSED_TITLE = "Appel clos hier — test du jury"


def _open(app: AppTest, email: str = ARS, role: str = "ars") -> AppTest:
    signed_in(app, email, role)
    open_page(app, PAGE)
    assert not app.exception
    return app


def _campaign_id(url: str, title: str) -> int:
    with session_scope(url, read_only=True) as session:
        return session.scalar(sa.select(m.Campaign.id).where(m.Campaign.title == title))


def _select(app: AppTest, key: str, position: int) -> AppTest:
    app.session_state[key] = {"selection": {"rows": [position], "columns": [], "cells": []}}
    app.run()
    assert not app.exception
    return app


def _open_campaign(app: AppTest, title: str) -> AppTest:
    frame = app.dataframe[0].value
    return _select(app, app.dataframe[0].key, list(frame["Appel à candidatures"]).index(title))


def _open_dossier(app: AppTest, candidate: str) -> AppTest:
    [table] = [d for d in app.dataframe if "Candidat" in d.value.columns and "Avis du jury" in d.value.columns]
    return _select(app, table.key, list(table.value["Candidat"]).index(candidate))


def _flashes(app: AppTest) -> list[str]:
    return [s.value for s in app.success]


def _closed_campaign(url: str, *, decided: bool = False) -> tuple[int, list[int]]:
    """A call of Île-de-France closed yesterday, with two dossiers confirmed in time (decided by the jury or not) and
    one left incomplete (non recevable)."""
    now = utcnow()
    with session_scope(url) as session:
        ars = session.scalar(sa.select(m.User).where(m.User.email == ARS))
        hospital = session.scalar(sa.select(m.Establishment).where(m.Establishment.name == hospital_names()[0]))
        campaign = make_campaign(session, created_by=ars, title=CLOSED_TITLE, opens_at=now - timedelta(days=30),
                                 closes_at=now - timedelta(days=1), published_at=now - timedelta(days=31),
                                 project_confirmation_due=paris_today() + timedelta(days=60),
                                 start_confirmation_due=paris_today() + timedelta(days=90))
        decisions = [("favorable", "Projet solide."), ("defavorable", "Hors territoire prioritaire.")] if decided \
            else [(None, None), (None, None)]
        ids = [make_dossier(session, campaign, hospital, state="confirme", confirmed_at=now - timedelta(days=5),
                            candidate_last_name=last, decision=decision, decision_reason=reason,
                            decided_at=now - timedelta(hours=2) if decision else None).id
               for last, (decision, reason) in zip(("Arnaud", "Barbier"), decisions, strict=True)]
        make_dossier(session, campaign, hospital, complete=False)
        return campaign.id, ids


# ---------------------------------------------------------------- the list


def test_the_ars_lists_its_calls_with_their_dossiers_by_state(app, demo_url) -> None:
    _open(app)
    frame = app.dataframe[0].value.set_index("Appel à candidatures")
    assert list(frame.index) == [OPEN_TITLE, PAST_TITLE]  # the newest first
    assert dict(frame.loc[OPEN_TITLE, ["Étape", "Dossiers"]]) == {"Étape": "Ouvert", "Dossiers": 4}
    assert dict(frame.loc[PAST_TITLE, ["Étape", "Dossiers"]]) == {"Étape": "Résultats publiés", "Dossiers": 4}
    with session_scope(demo_url, read_only=True) as session:
        opened = session.scalar(sa.select(m.Campaign.opens_at).where(m.Campaign.title == OPEN_TITLE))
    assert frame.loc[OPEN_TITLE, "Ouverture"] == f"{opened.astimezone(PARIS):%d/%m/%Y}"
    traces = charts(app)["campaigns_chart"]["data"]
    assert {trace["name"]: plotly_array(trace["x"]) for trace in traces} == {
        "Incomplet": [1, 0], "Complet (à confirmer)": [1, 0], "Confirmé": [2, 3], "Non recevable": [0, 1]}
    bars = [label.replace("<br>", " ") for label in plotly_array(traces[0]["y"])]
    assert bars == [OPEN_TITLE, PAST_TITLE]  # one bar per call, named in full
    _open_campaign(app, OPEN_TITLE)
    shown = metrics(app)
    assert (shown["Dossiers"], shown["Confirmé"], shown["Incomplet"]) == ("4", "2", "1")
    dossiers = app.dataframe[1].value.set_index("Candidat")
    assert dossiers.loc["Yasmine Benali", "État"] == "Confirmé"
    assert (dossiers.loc["(candidat à renseigner)", "État"], dossiers.loc["(candidat à renseigner)", "Pièces"]) == (
        "Incomplet", "2/4")


@pytest.mark.parametrize(("email", "role"), [("ccs@example.org", "ccs"), ("ministere@example.org", "ministere"),
                                             ("admin@example.org", "admin")])
def test_a_national_reader_reads_the_published_calls_only_no_form_no_dossier(app, demo_url, email, role) -> None:
    ars = user_at(demo_url, ARS)
    with session_scope(demo_url) as session:  # a draft of the ARS: never shown to the national roles
        create_campaign(session, actor=ars, campaign=CampaignInput(
            title="Brouillon de l'ARS", opens_at=paris_today() + timedelta(days=5),
            closes_at=paris_today() + timedelta(days=40), project_confirmation_due=paris_today() + timedelta(days=90),
            start_confirmation_due=paris_today() + timedelta(days=120)))
    _open(app, email, role)
    assert list(app.dataframe[0].value["Appel à candidatures"]) == [OPEN_TITLE, PAST_TITLE]
    assert "Créer un appel à candidatures" not in [e.label for e in app.expander]
    assert not app.text_input and not app.date_input  # no form at all
    assert "Enregistrer le brouillon" not in labels(app)
    _open_campaign(app, PAST_TITLE)
    assert app.subheader[0].value == PAST_TITLE
    assert metrics(app)["Non recevable"] == "1"
    assert len(app.dataframe) == 1  # the campaigns only: no dossier, no follow-up
    assert not any("Garnier" in text for text in texts(app.main))
    assert set(labels(app)) == set()  # neither export, publication, edit nor jury


# ---------------------------------------------------------------- creating, editing, publishing


def _fill_dates(app: AppTest, prefix: str, opens: object, closes: object, project: object, start: object) -> None:
    for field, value in (("opens_at", opens), ("closes_at", closes), ("project_confirmation_due", project),
                         ("start_confirmation_due", start)):
        app.date_input(key=prefix + field).set_value(value)


def test_the_ars_creates_a_call_with_its_documents_and_fields(app, demo_url) -> None:
    _open(app)
    today = paris_today()
    app.text_input(key=CREATE + "title").input("Assistants spécialistes partagés — 2027")
    app.text_input(key=CREATE + "legal_reference").input("Instruction DGOS du 3 décembre 2026")
    app.text_area(key=CREATE + "description").input("Un dossier par candidat.\nPièces en PDF.")
    _fill_dates(app, CREATE, today + timedelta(days=2), today + timedelta(days=30), today + timedelta(days=90),
                today + timedelta(days=150))
    app.multiselect(key=CREATE + "required_documents").unselect("Lettre de motivation du candidat")
    app.text_input(key=CREATE + "new_document").input("Projet de service")
    app.run()
    button(app, "Ajouter la pièce").click().run()
    assert "Projet de service" in app.multiselect(key=CREATE + "required_documents").value
    assert app.text_input(key=CREATE + "new_document").value == ""
    app.button_group(key=CREATE + "fields_1").select("priority_territory")  # Partenariat
    app.button_group(key=CREATE + "fields_4").unselect("candidate_status")  # Candidat
    app.run()
    app.button(key="campaign_create_submit").click().run()
    assert not app.exception
    assert any(f.startswith("Appel « Assistants spécialistes partagés — 2027 » enregistré en brouillon")
               for f in _flashes(app))
    with session_scope(demo_url, read_only=True) as session:
        campaign = session.scalar(sa.select(m.Campaign).where(m.Campaign.title.like("Assistants%")))
        assert (campaign.state, campaign.ars_code, campaign.legal_reference, campaign.description) == (
            "brouillon", "11", "Instruction DGOS du 3 décembre 2026", "Un dossier par candidat.\nPièces en PDF.")
        assert campaign.opens_at.astimezone(PARIS) == datetime.combine(today + timedelta(days=2), datetime.min.time(),
                                                                       PARIS)
        closes = campaign.closes_at.astimezone(PARIS)
        assert (closes.date(), f"{closes:%H:%M:%S}") == (today + timedelta(days=30), "23:59:59")
        assert (campaign.project_confirmation_due, campaign.start_confirmation_due) == (
            today + timedelta(days=90), today + timedelta(days=150))
        assert [d["label"] for d in campaign.required_documents] == [
            "CV du candidat", "Lettre d'engagement sur le projet ville/hôpital",
            "Attestation d'inscription à l'Ordre et n° RPPS ou date d'inscription prévue", "Projet de service"]
        assert "priority_territory" in campaign.required_fields
        assert "candidate_status" not in campaign.required_fields
        assert "candidate_last_name" in campaign.required_fields  # always mandatory
    # the new draft is open under the list, ready to be published
    assert app.subheader[0].value == "Assistants spécialistes partagés — 2027"
    assert "Oui, publier l'appel" in labels(app)
    assert app.text_input(key="campaign_create:1:title").value == ""  # the form starts blank again


def test_a_closing_before_the_opening_is_shown_under_the_closing_and_nothing_is_saved(app, demo_url) -> None:
    _open(app)
    today = paris_today()
    app.text_input(key=CREATE + "title").input("Appel mal daté")
    _fill_dates(app, CREATE, today + timedelta(days=20), today + timedelta(days=10), today + timedelta(days=90),
                today + timedelta(days=150))
    app.run()
    app.button(key="campaign_create_submit").click().run()
    assert not app.exception
    closing = app.date_input(key=CREATE + "closes_at")
    assert error_under(app, closing) == "La clôture doit suivre l'ouverture de l'appel à candidatures."
    assert error_under(app, app.date_input(key=CREATE + "opens_at")) is None
    assert app.text_input(key=CREATE + "title").value == "Appel mal daté"  # what was typed is kept
    with session_scope(demo_url, read_only=True) as session:
        assert session.scalar(sa.select(sa.func.count(m.Campaign.id)).where(m.Campaign.title == "Appel mal daté")) == 0
    # corrected, the error goes before the next submit
    app.date_input(key=CREATE + "closes_at").set_value(today + timedelta(days=40)).run()
    assert error_under(app, app.date_input(key=CREATE + "closes_at")) is None


def test_the_ars_edits_the_open_call_and_reads_what_changed(app, demo_url) -> None:
    campaign_id = _campaign_id(demo_url, OPEN_TITLE)
    before = row_at(demo_url, m.Campaign, campaign_id)
    _open(app)
    _open_campaign(app, OPEN_TITLE)
    edit = f"campaign_edit:{campaign_id}:0:"
    assert app.text_input(key=edit + "title").value == OPEN_TITLE  # prefilled
    assert app.multiselect(key=edit + "required_documents").disabled  # published: the rules are fixed
    new_closing = before.closes_at.astimezone(PARIS).date() + timedelta(days=7)
    app.text_input(key=edit + "title").input(OPEN_TITLE + " (prolongée)")
    app.date_input(key=edit + "closes_at").set_value(new_closing)
    app.run()
    app.button(key=f"campaign_edit_submit_{campaign_id}").click().run()
    assert not app.exception
    assert "Appel modifié : intitulé, clôture." in _flashes(app)
    after = row_at(demo_url, m.Campaign, campaign_id)
    assert after.title == OPEN_TITLE + " (prolongée)"
    assert after.closes_at.astimezone(PARIS).date() == new_closing
    assert after.opens_at == before.opens_at  # the opening's own instant, untouched
    # saved again unchanged: nothing recorded
    app.button(key=f"campaign_edit_submit_{campaign_id}").click().run()
    assert "Aucun changement à enregistrer." in _flashes(app)
    assert len([e for e in events_at(demo_url, "updated") if e.entity == "campaign"]) == 1


def test_the_ars_publishes_its_draft_after_confirming(app, demo_url) -> None:
    today, ars = paris_today(), user_at(demo_url, ARS)
    with session_scope(demo_url) as session:
        draft = create_campaign(session, actor=ars, campaign=CampaignInput(
            title="Brouillon à publier", opens_at=today, closes_at=today + timedelta(days=30),
            project_confirmation_due=today + timedelta(days=90), start_confirmation_due=today + timedelta(days=120)))
        eligible = session.scalar(sa.select(sa.func.count(m.Establishment.id)).where(
            m.Establishment.ars_code == "11", m.Establishment.id_kind == "finess",
            m.Establishment.status == "active"))
    _open(app)
    _open_campaign(app, "Brouillon à publier")
    assert app.multiselect(key=f"campaign_edit:{draft}:0:required_documents").disabled is False  # a draft: editable
    assert "Oui, publier l'appel" in labels(app)
    assert row_at(demo_url, m.Campaign, draft).state == "brouillon"  # the popover alone publishes nothing
    button(app, "Oui, publier l'appel").click().run()
    assert not app.exception
    assert (f"Appel « Brouillon à publier » publié : {eligible} établissement(s) de la région peuvent y déposer un "
            "dossier.") in _flashes(app)
    published = row_at(demo_url, m.Campaign, draft)
    assert (published.state, published.published_at is not None) == ("publiee", True)
    assert "Oui, publier l'appel" not in labels(app)
    assert app.dataframe[0].value.set_index("Appel à candidatures").loc["Brouillon à publier", "Étape"] == "Ouvert"


# ---------------------------------------------------------------- dossiers, jury, results


def test_the_ars_reads_a_dossier_and_downloads_its_pdf(app, demo_url) -> None:
    _open(app)
    _open_campaign(app, OPEN_TITLE)
    _open_dossier(app, "(candidat à renseigner)")  # the incomplete one: what is missing, by tab
    [warning] = [w.value for w in app.warning if w.value.startswith("Il manque")]
    assert "**Candidat** : Nom du candidat, Prénom du candidat" in warning
    assert "**Pièces justificatives** : Lettre d'engagement sur le projet ville/hôpital" in warning
    _open_dossier(app, "Yasmine Benali")
    assert any("**Nom du candidat** : Benali" in text for text in texts(app.main))
    assert not [w for w in app.warning if w.value.startswith("Il manque")]
    assert not any(r.key and r.key.startswith("campaign_jury") for r in app.radio)  # open call: no jury yet
    button(app, "Préparer : CV du candidat").click().run()
    assert not app.exception
    pdf = served_files(app)["Télécharger : cv.pdf"]
    assert pdf.startswith(b"%PDF") and b"CV du candidat" in pdf
    assert len(events_at(demo_url, "attachment_downloaded")) == 1  # audited


def test_the_jury_refuses_an_empty_motivation_then_records_the_decision(app, demo_url) -> None:
    campaign_id, (first, _) = _closed_campaign(demo_url)
    _open(app)
    _open_campaign(app, CLOSED_TITLE)
    assert any("2 dossier(s) confirmé(s) attendent l'avis du jury." in i.value for i in app.info)
    assert button(app, "Oui, publier les résultats").disabled  # too early: the warning says why
    assert any(w.value.startswith("2 dossier(s) confirmé(s) attendent encore l'avis du jury : la publication sera "
                                  "refusée") for w in app.warning)
    assert row_at(demo_url, m.Campaign, campaign_id).state == "publiee"
    dossiers = [d for d in app.dataframe if "Avis du jury" in d.value.columns][0].value.set_index("N°")
    assert dossiers.loc[first, "État"] == "Confirmé"
    _open_dossier(app, "Camille Arnaud")
    form = f"campaign_jury:{first}:0:"
    app.radio(key=form + "decision").set_value("favorable").run()
    button(app, "Enregistrer la décision").click().run()
    assert not app.exception
    reason = app.text_area(key=form + "decision_reason")
    assert error_under(app, reason) == "Le champ « Motivation » est obligatoire."
    assert row_at(demo_url, m.Dossier, first).decision is None
    assert app.radio(key=form + "decision").value == "favorable"  # kept
    app.text_area(key=form + "decision_reason").input("Projet médical partagé solide.").run()
    button(app, "Enregistrer la décision").click().run()
    assert not app.exception
    decided = row_at(demo_url, m.Dossier, first)
    assert (decided.decision, decided.decision_reason) == ("favorable", "Projet médical partagé solide.")
    assert any(f.startswith("Avis « Favorable » enregistré pour le dossier de") for f in _flashes(app))
    dossiers = [d for d in app.dataframe if "Avis du jury" in d.value.columns][0].value.set_index("N°")
    assert dossiers.loc[first, "Avis du jury"] == "Favorable"
    # changeable until the results are published
    app.radio(key=f"campaign_jury:{first}:1:decision").set_value("defavorable")
    app.text_area(key=f"campaign_jury:{first}:1:decision_reason").input("Finalement hors territoire.")
    app.run()
    button(app, "Modifier la décision").click().run()
    assert row_at(demo_url, m.Dossier, first).decision == "defavorable"
    assert row_at(demo_url, m.Campaign, campaign_id).state == "publiee"
    assert button(app, "Oui, publier les résultats").disabled  # the second dossier still waits


def test_the_ars_publishes_the_results_and_both_partners_are_emailed(app, demo_url) -> None:
    campaign_id, (favourable, refused) = _closed_campaign(demo_url, decided=True)
    with session_scope(demo_url, read_only=True) as session:
        queued_before = len(outbox(session))
    _open(app)
    _open_campaign(app, CLOSED_TITLE)
    assert row_at(demo_url, m.Campaign, campaign_id).state == "publiee"  # the popover alone publishes nothing
    assert any(c.startswith("2 dossier(s) décidé(s) : l'établissement recruteur et la structure partenaire")
               for c in (c.value for c in app.caption))
    button(app, "Oui, publier les résultats").click().run()
    assert not app.exception
    assert ("Résultats publiés : 2 dossier(s) décidé(s), dont 1 favorable(s) ; 4 courriel(s) en file d'envoi aux "
            "partenaires.") in _flashes(app)
    campaign = row_at(demo_url, m.Campaign, campaign_id)
    assert (campaign.state, campaign.results_published_at is not None) == ("resultats", True)
    addresses = []
    for dossier_id in (favourable, refused):
        dossier = row_at(demo_url, m.Dossier, dossier_id)
        addresses += [dossier.hospital_email, dossier.partner_email]
    with session_scope(demo_url, read_only=True) as session:
        mails = outbox(session)[queued_before:]
        assert sorted(mail.to for mail in mails) == sorted(addresses)
    assert "Oui, publier les résultats" not in labels(app)
    dossiers = [d for d in app.dataframe if "Avis du jury" in d.value.columns][0].value.set_index("N°")
    assert dossiers.loc[favourable, "Avis du jury"] == "Favorable"
    assert not any(r.key and r.key.startswith("campaign_jury") for r in app.radio)


def test_the_ars_exports_the_dossiers_and_opens_the_file(app, demo_url) -> None:
    _open(app)
    _open_campaign(app, OPEN_TITLE)
    button(app, "Exporter les dossiers (.xlsx)").click().run()
    assert not app.exception
    content = served_files(app)["Télécharger les dossiers (.xlsx)"]
    rows = xlsx_rows(content, "Dossiers")
    header, lines = rows[0], rows[1:]
    assert len(lines) == 4
    by_name = {line[header.index("Nom du candidat")]: line for line in lines}
    assert by_name["Benali"][header.index("État")] == "Confirmé"
    assert by_name["Lefort"][header.index("État")] == "Complet (à confirmer)"
    assert by_name[None][header.index("Pièce : CV du candidat")] == "Oui"
    assert by_name[None][header.index("Pièce : Lettre d'engagement sur le projet ville/hôpital")] == "Non"
    about = dict(row[:2] for row in xlsx_rows(content, "À propos"))
    assert about["Nombre de dossiers"] == 4
    [event] = [e for e in events_at(demo_url, "exported") if e.details.get("dataset") == "appel_a_candidatures"]
    assert event.details["rows"] == 4


def test_the_follow_up_of_the_2026_call_shows_the_late_dossier(app, demo_url) -> None:
    _open(app)
    _open_campaign(app, PAST_TITLE)
    assert [t.label for t in app.tabs] == ["Dossiers (4)", "Suivi des dossiers retenus"]
    follow_up = [d for d in app.dataframe if "Maintien du projet" in d.value.columns][0].value.set_index("Candidat")
    assert list(follow_up.index) == ["Lucie Garnier", "Hugo Roussel"]
    assert (follow_up.loc["Hugo Roussel", "Maintien du projet"], follow_up.loc["Hugo Roussel", "En retard"]) == (
        "Non confirmé à l'échéance", "Oui")
    assert (follow_up.loc["Lucie Garnier", "Maintien du projet"], follow_up.loc["Lucie Garnier", "Prise de poste"],
            follow_up.loc["Lucie Garnier", "En retard"]) == ("Confirmé", "En attente", "")
    assert follow_up.loc["Lucie Garnier", "Répondu le"] != ""
    assert [e.value for e in app.error] == [
        "Non confirmé à l'échéance : Centre hospitalier Val-d'Argent – Argenteuil (Hugo Roussel)."]
    # the results are published: decisions shown, no jury, no publication
    dossiers = [d for d in app.dataframe if "Avis du jury" in d.value.columns][0].value.set_index("Candidat")
    assert (dossiers.loc["Nadia Petit", "Avis du jury"], dossiers.loc["Léo Fabre", "État"]) == (
        "Défavorable", "Non recevable")
    assert not {"Oui, publier les résultats", "Oui, publier l'appel"} & set(labels(app))


def test_the_ars_page_with_a_dossier_and_the_jury_shows_no_english(app, demo_url) -> None:
    _closed_campaign(demo_url)
    _open(app)
    assert _english(app) == []
    _open_campaign(app, CLOSED_TITLE)
    _open_dossier(app, [d for d in app.dataframe if "Avis du jury" in d.value.columns][0].value["Candidat"][0])
    assert any(r.key and r.key.startswith("campaign_jury") for r in app.radio)
    assert _english(app) == []
    _open_campaign(app, PAST_TITLE)
    assert _english(app) == []


def test_a_title_typed_by_the_ars_stays_plain_text(app, demo_url) -> None:
    """Markdown in the headers, HTML in plotly's labels and hovers: a title is shown as typed, never interpreted."""
    title = "**Vague** <a href='https://example.org'>lien</a> :red[rouge]"
    today, ars = paris_today(), user_at(demo_url, ARS)
    with session_scope(demo_url) as session:
        create_campaign(session, actor=ars, campaign=CampaignInput(
            title=title, opens_at=today, closes_at=today + timedelta(days=30),
            project_confirmation_due=today + timedelta(days=90), start_confirmation_due=today + timedelta(days=120)))
    _open(app)
    _open_campaign(app, title)
    assert app.subheader[0].value == md(title)
    figure = dossiers_chart([{"id": 1, "title": title, "dossiers": 1, "counts": {"confirme": 1}}])
    label = figure.data[0].y[0].replace("<br>", " ")  # the title wrapped on lines of the axis
    assert "<a href" not in label and "&lt;a href=" in label
    assert figure.data[0].hovertext[0].startswith("**Vague** &lt;a href=")
