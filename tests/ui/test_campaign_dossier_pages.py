"""« Appels à candidatures » of an establishment (issue 15): the region's calls, the recap of its dossiers (printable,
ranked), and one dossier in tabs — through the whole app on the demo data (ops/seed_campaigns.py: the medical
affairs office of the « Centre hospitalier Plaine Saint-Denis » has, in the open « vague 2027 », a confirmed, a
complete and an incomplete dossier; in the « vague 2026 », results published, a favourable dossier whose project is
maintained and a non recevable one)."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.shared.clock import paris_today
from core.shared.validation import luhn_ok
from db import models as m
from db.session import session_scope
from ops.seed_campaigns import DEMO_OFFICE, HOSPITALS, OPEN_TITLE, PAST_TITLE
from tests.factories import campaign_pdf
from tests.readers import count_at, row_at
from tests.ui.conftest import open_page, signed_in
from tests.ui.readers import error_under, served_files, texts
from tests.ui.test_no_english import _english

PAGE = "appels-a-candidatures"
CAMPAIGN = "campaign_dossiers_campaign"
EXE = b"MZ\x90\x00\x03\x00\x00\x00 un programme renomme en .pdf"


# ---------------------------------------------------------------- helpers


def _open(app: AppTest) -> AppTest:
    signed_in(app, DEMO_OFFICE, "etablissement")
    open_page(app, PAGE)
    assert not app.exception, app.exception
    return app


def _ids(url: str, title: str) -> tuple[int, int]:
    """The campaign's id and the demo office's establishment id."""
    with session_scope(url, read_only=True) as session:
        campaign = session.scalar(sa.select(m.Campaign.id).where(m.Campaign.title == title))
        establishment = session.scalar(sa.select(m.Establishment.id).where(m.Establishment.name == HOSPITALS[0].name))
        return campaign, establishment


def _dossiers(url: str, title: str) -> list[m.Dossier]:
    """The demo office's dossiers of a campaign, by priority (detached)."""
    campaign_id, establishment_id = _ids(url, title)
    with session_scope(url, read_only=True) as session:
        rows = list(session.scalars(sa.select(m.Dossier).where(
            m.Dossier.campaign_id == campaign_id, m.Dossier.establishment_id == establishment_id)
            .order_by(m.Dossier.priority)))
        session.expunge_all()
        return rows


def _by_state(url: str, title: str, state: str) -> m.Dossier:
    return next(d for d in _dossiers(url, title) if d.state == state)


def _choose(app: AppTest, url: str, title: str, dossier_id: int | None = None) -> AppTest:
    campaign_id, _ = _ids(url, title)
    if app.selectbox(key=CAMPAIGN).value != campaign_id:
        app.selectbox(key=CAMPAIGN).select(campaign_id).run()
    if dossier_id is not None:
        app.selectbox(key=f"campaign_dossiers_open:{campaign_id}").select(dossier_id).run()
    assert not app.exception, app.exception
    return app


def _key(dossier_id: int, tab: str, field: str, generation: int = 0) -> str:
    return f"dossier:{dossier_id}:{tab}:{generation}:{field}"


def _flash(app: AppTest) -> list[str]:
    return [s.value for s in app.success]


def _warnings(app: AppTest) -> list[str]:
    return [w.value for w in app.warning]


def _bad_key(number: str) -> str:
    """The same number with a wrong check digit."""
    return next(number[:-1] + d for d in "0123456789" if d != number[-1] and not luhn_ok(number[:-1] + d))


def _guard(app: AppTest) -> str:
    [guard] = [h.proto.body for h in app.get("html") if "renfort-unsaved-guard" in h.proto.body]
    return guard


class _Table(HTMLParser):
    """The header and the rows of the one table of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


# ---------------------------------------------------------------- the calls and the recap


def test_the_office_sees_its_regions_calls_and_the_recap_of_its_dossiers(app, demo_url) -> None:
    _open(app)
    calls = app.dataframe[0].value.set_index("Appel à candidatures")
    assert list(calls.index) == [OPEN_TITLE, PAST_TITLE]
    today = paris_today()
    assert calls.loc[OPEN_TITLE, "Ouverture"] == f"{today - timedelta(days=20):%d/%m/%Y}"  # the Paris day, not UTC's
    assert calls.loc[OPEN_TITLE, "Clôture"] == f"{today + timedelta(days=40):%d/%m/%Y}"
    assert f"maintien du projet à confirmer au plus tard le {today + timedelta(days=150):%d/%m/%Y}" in " ".join(
        texts(app.main))
    assert (calls.loc[OPEN_TITLE, "Étape"], calls.loc[PAST_TITLE, "Étape"]) == ("Ouvert", "Résultats publiés")
    assert (calls.loc[OPEN_TITLE, "Mes dossiers"], calls.loc[PAST_TITLE, "Mes dossiers"]) == (3, 2)
    assert app.subheader[0].value == OPEN_TITLE  # the open call is chosen first
    shown = texts(app.main)
    assert any("Instruction N°DGOS/DIR/2019/27" in t for t in shown)  # its legal reference, in the expander
    recap = app.dataframe[1].value
    assert list(recap["Priorité"]) == ["1", "2", "3"]
    assert list(recap["Candidat"])[:2] == ["Yasmine Benali", "Thomas Lefort"]
    assert list(recap["État"]) == ["Confirmé", "Complet (à confirmer)", "Incomplet"]
    assert list(recap["Pièces"]) == ["4/4", "4/4", "2/4"]
    assert recap["Éléments manquants"].iloc[2] != "0" and recap["Confirmé le"].iloc[1] == "–"
    assert "Décision" not in recap.columns  # no decision before the results
    assert _english(app) == []


def test_the_printable_recap_is_a_page_of_the_dossiers_table(app, demo_url) -> None:
    _open(app)
    page = served_files(app)["Version imprimable"].decode("utf-8")
    assert "@media print" in page and OPEN_TITLE in page and HOSPITALS[0].name in page
    table = _Table()
    table.feed(page)
    assert table.scripts == 0
    header, *rows = table.rows
    assert header[:5] == ["Priorité", "Candidat", "Statut du candidat", "Structure partenaire", "État"]
    assert [(r[0], r[1], r[4], r[6]) for r in rows] == [
        ("1", "Yasmine Benali", "Confirmé", "4/4"), ("2", "Thomas Lefort", "Complet (à confirmer)", "4/4"),
        ("3", "(candidat à renseigner)", "Incomplet", "2/4")]


def test_moving_a_dossier_down_changes_the_priorities_in_the_database(app, demo_url) -> None:
    first, second, third = _dossiers(demo_url, OPEN_TITLE)
    _open(app)
    app.button(key=f"rank_down:{first.id}").click().run()
    assert not app.exception
    assert _flash(app) == ["Ordre de priorité enregistré : 1. Thomas Lefort, 2. Yasmine Benali, 3. (candidat à "
                           "renseigner)."]
    assert [d.id for d in _dossiers(demo_url, OPEN_TITLE)] == [second.id, first.id, third.id]
    assert row_at(demo_url, m.Dossier, first.id).state == "confirme"  # the order is no change of content
    assert list(app.dataframe[1].value["Candidat"])[:2] == ["Thomas Lefort", "Yasmine Benali"]


# ---------------------------------------------------------------- a new dossier: the Identification tab


def test_a_new_dossier_is_created_by_its_identification_tab_and_listed(app, demo_url) -> None:
    campaign_id, _ = _ids(demo_url, OPEN_TITLE)
    _open(app)
    app.button(key=f"campaign_dossiers_new:{campaign_id}").click().run()
    form = f"dossier_new:{campaign_id}:0:"
    assert app.text_input(key=form + "hospital_name").value == HOSPITALS[0].name  # prefilled
    assert app.text_input(key=form + "hospital_postal_code").value == HOSPITALS[0].postal_code
    app.text_input(key=form + "hospital_email").input("bam@ch-plaine.example.org")
    app.text_input(key=form + "partner_name").input("Centre de santé de La Courneuve")
    app.text_input(key=form + "partner_email").input("contact@cds-courneuve.example.org").run()
    assert any("Modifications non enregistrées : Identification" in w for w in _warnings(app))
    app.button(key=f"dossier_create:{campaign_id}").click().run()
    assert not app.exception
    assert _flash(app) == ["Dossier créé (état **Incomplet**) : remplissez maintenant ses autres onglets et déposez "
                           "ses pièces."]
    created = _dossiers(demo_url, OPEN_TITLE)[-1]
    assert (created.partner_name, created.partner_email, created.hospital_name, created.state, created.priority) == (
        "Centre de santé de La Courneuve", "contact@cds-courneuve.example.org", HOSPITALS[0].name, "incomplet", 4)
    recap = app.dataframe[1].value
    assert recap["Structure partenaire"].iloc[-1] == "Centre de santé de La Courneuve"
    assert recap["État"].iloc[-1] == "Incomplet"
    # the new dossier is open, in its tabs, with what is missing in each
    assert [t.label for t in app.tabs][:5] == ["Identification", "Partenariat", "Activité hospitalière",
                                               "Structure de soins", "Candidat"]
    assert app.text_input(key=_key(created.id, "identification", "partner_name")).value == (
        "Centre de santé de La Courneuve")
    assert any(w.startswith("Il manque dans cet onglet : Nom du candidat, Prénom du candidat") for w in _warnings(app))
    assert _english(app) == []


def test_a_bad_finess_key_is_shown_under_its_field_and_nothing_is_created(app, demo_url) -> None:
    campaign_id, _ = _ids(demo_url, OPEN_TITLE)
    before = len(_dossiers(demo_url, OPEN_TITLE))
    _open(app)
    app.button(key=f"campaign_dossiers_new:{campaign_id}").click().run()
    form = f"dossier_new:{campaign_id}:0:"
    finess = app.text_input(key=form + "hospital_finess").value
    app.text_input(key=form + "hospital_finess").input(_bad_key(finess))
    app.text_input(key=form + "partner_name").input("Centre de santé de Pierrefitte").run()
    app.button(key=f"dossier_create:{campaign_id}").click().run()
    assert "clé" in (error_under(app, app.text_input(key=form + "hospital_finess")) or "")
    assert error_under(app, app.text_input(key=form + "partner_email")) == (
        "Le champ « Courriel de la structure de soins partenaire » est obligatoire pour enregistrer l'onglet "
        "Identification.")
    assert len(_dossiers(demo_url, OPEN_TITLE)) == before
    assert app.text_input(key=form + "partner_name").value == "Centre de santé de Pierrefitte"  # kept


def test_a_bad_siret_key_of_a_saved_dossier_is_refused_beside_the_field(app, demo_url) -> None:
    dossier = _by_state(demo_url, OPEN_TITLE, "complet")
    _open(app)
    _choose(app, demo_url, OPEN_TITLE, dossier.id)
    field = _key(dossier.id, "identification", "partner_siret")
    app.text_input(key=field).input(_bad_key(dossier.partner_siret)).run()
    app.button(key=f"dossier_save:{dossier.id}:identification").click().run()
    assert error_under(app, app.text_input(key=field)) == (
        f"Le numéro « {_bad_key(dossier.partner_siret)} » (SIRET/SIREN de la structure de soins partenaire) est "
        "invalide : sa clé de contrôle ne correspond pas. Vérifiez la saisie.")
    assert row_at(demo_url, m.Dossier, dossier.id).partner_siret == dossier.partner_siret
    assert count_at(demo_url, m.Event, m.Event.action == "tab_saved", m.Event.entity_id == dossier.id,
                    m.Event.at > dossier.updated_at) == 0
    # corrected, the error goes as the field changes, and the save goes through
    app.text_input(key=field).input(dossier.partner_siret).run()
    assert error_under(app, app.text_input(key=field)) is None


# ---------------------------------------------------------------- the other tabs


def test_the_partnership_tab_saves_and_says_what_changed(app, demo_url) -> None:
    dossier = _by_state(demo_url, OPEN_TITLE, "incomplet")
    _open(app)
    _choose(app, demo_url, OPEN_TITLE, dossier.id)
    app.text_input(key=_key(dossier.id, "partenariat", "priority_territory")).input("Quartier Franc-Moisin").run()
    app.button(key=f"dossier_save:{dossier.id}:partenariat").click().run()
    assert _flash(app) == ["Onglet « Partenariat » enregistré. Modifié(s) : Territoire prioritaire concerné. État du "
                           "dossier : **Incomplet**."]
    assert row_at(demo_url, m.Dossier, dossier.id).priority_territory == "Quartier Franc-Moisin"
    assert app.text_input(key=_key(dossier.id, "partenariat", "priority_territory", 1)).value == "Quartier Franc-Moisin"
    assert not any("Modifications non enregistrées" in w for w in _warnings(app))


def test_the_hospital_activity_tab_refuses_time_shares_over_100_percent(app, demo_url) -> None:
    dossier = _by_state(demo_url, OPEN_TITLE, "complet")
    _open(app)
    _choose(app, demo_url, OPEN_TITLE, dossier.id)
    field = _key(dossier.id, "activite_hospitaliere", "hospital_time_share")
    assert app.number_input(key=field).value == 50
    app.number_input(key=field).set_value(80).run()
    app.button(key=f"dossier_save:{dossier.id}:activite_hospitaliere").click().run()
    assert error_under(app, app.number_input(key=field)) == (
        "Les parts de temps à l'hôpital (80 %) et en structure de soins (50 %) dépassent 100 %.")
    assert row_at(demo_url, m.Dossier, dossier.id).hospital_time_share == 50
    app.number_input(key=field).set_value(40).run()
    app.button(key=f"dossier_save:{dossier.id}:activite_hospitaliere").click().run()
    assert row_at(demo_url, m.Dossier, dossier.id).hospital_time_share == 40
    assert _flash(app)[0].startswith("Onglet « Activité hospitalière » enregistré. Modifié(s) : Part du temps à "
                                     "l'hôpital (%).")


def test_editing_a_confirmed_dossier_says_so_and_takes_it_back_to_complete(app, demo_url) -> None:
    dossier = _by_state(demo_url, OPEN_TITLE, "confirme")
    _open(app)
    _choose(app, demo_url, OPEN_TITLE, dossier.id)
    assert any("Ce dossier est confirmé : enregistrer une modification le remet à l'état Incomplet ou Complet" in c.value
               for c in app.caption)
    app.text_area(key=_key(dossier.id, "structure_de_soins", "care_activity")).input(
        "Consultations et visites à domicile.").run()
    app.button(key=f"dossier_save:{dossier.id}:structure_de_soins").click().run()
    assert _flash(app) == ["Onglet « Structure de soins » enregistré. Modifié(s) : Activité ambulatoire proposée. État "
                           "du dossier : **Complet (à confirmer)**. Le dossier n'est plus confirmé : confirmez-le de "
                           "nouveau dans l'onglet « Confirmation »."]
    saved = row_at(demo_url, m.Dossier, dossier.id)
    assert (saved.care_activity, saved.state, saved.confirmed_at) == ("Consultations et visites à domicile.",
                                                                       "complet", None)


def test_the_candidate_tab_asks_to_confirm_an_rpps_whose_key_does_not_match(app, demo_url) -> None:
    dossier = _by_state(demo_url, OPEN_TITLE, "incomplet")
    rpps = _bad_key("10000000001" if luhn_ok("10000000001") else next(
        f"1000000000{d}" for d in range(10) if luhn_ok(f"1000000000{d}")))
    _open(app)
    _choose(app, demo_url, OPEN_TITLE, dossier.id)
    app.text_input(key=_key(dossier.id, "candidat", "candidate_last_name")).input("Traoré")
    app.text_input(key=_key(dossier.id, "candidat", "candidate_first_name")).input("Awa")
    app.selectbox(key=_key(dossier.id, "candidat", "candidate_status")).select("docteur_junior")
    app.text_input(key=_key(dossier.id, "candidat", "candidate_rpps")).input(rpps).run()
    app.button(key=f"dossier_save:{dossier.id}:candidat").click().run()
    assert error_under(app, app.text_input(key=_key(dossier.id, "candidat", "candidate_rpps"))) == (
        f"La clé du numéro RPPS « {rpps} » ne correspond pas : vérifiez-le sur votre carte CPS. S'il est exact, "
        "cochez « Je confirme ce numéro ».")
    assert row_at(demo_url, m.Dossier, dossier.id).candidate_last_name is None
    app.checkbox(key=_key(dossier.id, "candidat", "rpps_confirmed")).check().run()
    app.button(key=f"dossier_save:{dossier.id}:candidat").click().run()
    assert not app.exception
    saved = row_at(demo_url, m.Dossier, dossier.id)
    assert (saved.candidate_last_name, saved.candidate_first_name, saved.candidate_status, saved.candidate_rpps) == (
        "Traoré", "Awa", "docteur_junior", rpps)
    assert _flash(app)[0].startswith("Onglet « Candidat » enregistré. Modifié(s) : Nom du candidat, Prénom du "
                                     "candidat, Statut du candidat, N° RPPS du candidat.")


def test_the_candidate_tab_takes_a_planned_registration_date_instead(app, demo_url) -> None:
    dossier = _by_state(demo_url, OPEN_TITLE, "incomplet")
    planned = paris_today() + timedelta(days=45)
    _open(app)
    _choose(app, demo_url, OPEN_TITLE, dossier.id)
    app.text_input(key=_key(dossier.id, "candidat", "candidate_last_name")).input("Traoré")
    app.selectbox(key=_key(dossier.id, "candidat", "candidate_status")).select("interne")
    app.date_input(key=_key(dossier.id, "candidat", "candidate_registration_on")).set_value(planned).run()
    app.button(key=f"dossier_save:{dossier.id}:candidat").click().run()
    saved = row_at(demo_url, m.Dossier, dossier.id)
    assert (saved.candidate_registration_on, saved.candidate_rpps, saved.candidate_status) == (planned, None, "interne")


# ---------------------------------------------------------------- never lose what was typed


def test_typed_values_survive_another_page_and_another_dossier_with_the_unsaved_warnings(app, demo_url) -> None:
    dossier = _by_state(demo_url, OPEN_TITLE, "incomplet")
    other = _by_state(demo_url, OPEN_TITLE, "complet")
    name, territory = _key(dossier.id, "candidat", "candidate_last_name"), _key(dossier.id, "partenariat",
                                                                                 "priority_territory")
    _open(app)
    _choose(app, demo_url, OPEN_TITLE, dossier.id)
    assert "window.renfortUnsaved = false" in _guard(app)
    app.text_input(key=name).input("Traoré")
    app.text_input(key=territory).input("Quartier Pleyel").run()
    assert "window.renfortUnsaved = true" in _guard(app)
    open_page(app, "tableau-de-bord")
    assert not app.exception and app.title[0].value != "Appels à candidatures"
    open_page(app, PAGE)
    assert not app.exception
    # back on the page: the same call and dossier open, what was typed still there, and said unsaved
    assert app.text_input(key=name).value == "Traoré"
    assert app.text_input(key=territory).value == "Quartier Pleyel"
    warnings = _warnings(app)
    assert ("Modifications non enregistrées : Partenariat, Candidat. Enregistrez chaque onglet : vos saisies sont "
            "gardées le temps de votre session, pas au-delà.") in warnings
    assert "Modifications non enregistrées dans cet onglet : Nom du candidat." in warnings
    assert "Modifications non enregistrées dans cet onglet : Territoire prioritaire concerné." in warnings
    assert "window.renfortUnsaved = true" in _guard(app)
    # another dossier, then back: still there; the page says which other dossier has unsaved changes
    _choose(app, demo_url, OPEN_TITLE, other.id)
    assert ("Modifications non enregistrées dans d'autres dossiers : 3\\. (candidat à renseigner) — Maison de santé "
            "pluriprofessionnelle Pleyel — Incomplet (Partenariat, Candidat).") in _warnings(app)
    assert "window.renfortUnsaved = true" in _guard(app)
    _choose(app, demo_url, OPEN_TITLE, dossier.id)
    assert app.text_input(key=name).value == "Traoré"
    # nothing was saved behind the user's back
    saved = row_at(demo_url, m.Dossier, dossier.id)
    assert (saved.candidate_last_name, saved.priority_territory) == (None, dossier.priority_territory)


# ---------------------------------------------------------------- the PDFs


def _document_key(dossier_id: int, code: str, generation: int = 0) -> str:
    return f"dossier_upload:{dossier_id}:{code}:{generation}"


def test_a_pdf_is_uploaded_then_received_back(app, demo_url) -> None:
    dossier = _by_state(demo_url, OPEN_TITLE, "incomplet")
    content = campaign_pdf("Lettre d'engagement")
    _open(app)
    _choose(app, demo_url, OPEN_TITLE, dossier.id)
    assert any("(PDF uniquement, 5 Mo au plus)" in u.label for u in app.get("file_uploader"))
    app.file_uploader(key=_document_key(dossier.id, "lettre_engagement")).upload(
        "engagement signé.pdf", content, "application/pdf").run()
    assert any("Fichier(s) choisi(s) mais pas encore enregistré(s) : Lettre d'engagement" in w for w in _warnings(app))
    app.button(key=f"dossier_upload_save:{dossier.id}:lettre_engagement").click().run()
    assert not app.exception
    assert _flash(app) == ["Pièce « Lettre d'engagement sur le projet ville/hôpital » enregistrée : « engagement "
                           "signé.pdf ». État du dossier : **Incomplet**."]
    with session_scope(demo_url, read_only=True) as session:
        attachment = session.scalar(sa.select(m.DossierAttachment).where(
            m.DossierAttachment.dossier_id == dossier.id, m.DossierAttachment.kind == "lettre_engagement"))
        attachment_id, size = attachment.id, attachment.size
    assert size == len(content)
    size_text = f"{len(content) / 1024:.1f} Ko".replace(".", ",")
    assert any(f"engagement signé.pdf — {size_text} — déposé le" in t for t in texts(app.main))
    assert app.file_uploader(key=_document_key(dossier.id, "lettre_engagement", 1)).value is None  # emptied
    prepare = next(b for b in app.button if b.key.startswith(f"dossier_pdf_{attachment_id}_"))
    prepare.click().run()
    assert served_files(app)["Télécharger le PDF"] == content
    assert count_at(demo_url, m.Event, m.Event.action == "attachment_downloaded",
                    m.Event.entity_id == attachment_id) == 1


def test_an_executable_renamed_pdf_is_refused_with_the_french_message(app, demo_url) -> None:
    dossier = _by_state(demo_url, OPEN_TITLE, "incomplet")
    before = count_at(demo_url, m.DossierAttachment, m.DossierAttachment.dossier_id == dossier.id)
    _open(app)
    _choose(app, demo_url, OPEN_TITLE, dossier.id)
    uploader = _document_key(dossier.id, "attestation_ordre")
    app.file_uploader(key=uploader).upload("attestation.pdf", EXE, "application/pdf").run()
    app.button(key=f"dossier_upload_save:{dossier.id}:attestation_ordre").click().run()
    message = error_under(app, app.file_uploader(key=uploader))
    assert message is not None and message.startswith(
        "Attestation d'inscription à l'Ordre et n° RPPS ou date d'inscription prévue : le fichier « attestation.pdf » "
        "n'est pas un PDF (contenu vérifié) ; seuls les fichiers PDF sont acceptés.")
    assert count_at(demo_url, m.DossierAttachment, m.DossierAttachment.dossier_id == dossier.id) == before


def test_a_pdf_is_deleted_after_confirmation_and_the_dossier_becomes_incomplete(app, demo_url) -> None:
    dossier = _by_state(demo_url, OPEN_TITLE, "complet")
    with session_scope(demo_url, read_only=True) as session:
        cv = session.scalar(sa.select(m.DossierAttachment.id).where(
            m.DossierAttachment.dossier_id == dossier.id, m.DossierAttachment.kind == "cv"))
    _open(app)
    _choose(app, demo_url, OPEN_TITLE, dossier.id)
    app.button(key=f"dossier_pdf_delete:{cv}").click().run()
    assert _flash(app) == ["Pièce « CV du candidat » supprimée. État du dossier : **Incomplet**."]
    assert row_at(demo_url, m.Dossier, dossier.id).state == "incomplet"
    assert count_at(demo_url, m.DossierAttachment, m.DossierAttachment.id == cv) == 0


# ---------------------------------------------------------------- confirmation and deletion


def test_a_complete_dossier_is_confirmed_once_every_commitment_is_ticked(app, demo_url) -> None:
    dossier = _by_state(demo_url, OPEN_TITLE, "complet")
    _open(app)
    _choose(app, demo_url, OPEN_TITLE, dossier.id)
    confirm = f"dossier_confirm:{dossier.id}"
    app.button(key=confirm).click().run()
    assert "Cochez chacun des engagements pour confirmer le dossier (4 non coché(s))." in [e.value for e in app.error]
    assert row_at(demo_url, m.Dossier, dossier.id).state == "complet"
    for code in ("exactitude", "partenaires", "ordre", "delai"):
        app.checkbox(key=_key(dossier.id, "confirmation", code)).check()
    app.run()
    app.button(key=confirm).click().run()
    assert not app.exception
    [flash] = _flash(app)
    assert flash.startswith("Dossier confirmé le ")
    assert flash.endswith(f"un accusé de réception a été envoyé par courriel à {dossier.hospital_email}, "
                          f"{DEMO_OFFICE}.")
    saved = row_at(demo_url, m.Dossier, dossier.id)
    assert saved.state == "confirme" and saved.confirmed_at is not None
    with session_scope(demo_url, read_only=True) as session:
        sent = session.scalars(sa.select(m.Outbox).where(
            m.Outbox.dedup_key.like(f"dossier-confirmed:{dossier.id}:%"))).all()
        assert sorted(e.to for e in sent) == sorted([dossier.hospital_email, DEMO_OFFICE])
        assert all(dossier.partner_name in e.body_text and "Thomas Lefort" in e.body_text for e in sent)
    assert list(app.dataframe[1].value["État"])[1] == "Confirmé"


def test_an_incomplete_dossier_cannot_be_confirmed_and_says_what_is_missing(app, demo_url) -> None:
    dossier = _by_state(demo_url, OPEN_TITLE, "incomplet")
    _open(app)
    _choose(app, demo_url, OPEN_TITLE, dossier.id)
    assert not [b for b in app.button if b.key == f"dossier_confirm:{dossier.id}"]
    [missing] = [w for w in _warnings(app) if w.startswith("Le dossier est incomplet")]
    assert "**Candidat** : Nom du candidat, Prénom du candidat" in missing
    assert "**Pièces justificatives** : Lettre d'engagement sur le projet ville/hôpital" in missing


def test_a_dossier_is_deleted_after_its_confirmation_step(app, demo_url) -> None:
    dossier = _by_state(demo_url, OPEN_TITLE, "incomplet")
    _open(app)
    _choose(app, demo_url, OPEN_TITLE, dossier.id)
    app.button(key=f"dossier_delete:{dossier.id}").click().run()
    assert not app.exception
    assert _flash(app) == ["Dossier de (candidat à renseigner) supprimé."]
    assert count_at(demo_url, m.Dossier, m.Dossier.id == dossier.id) == 0
    assert len(app.dataframe[1].value) == 2
    assert not app.tabs  # no dossier open any more


# ---------------------------------------------------------------- after the results


def test_the_decision_tab_shows_the_jury_and_the_closed_call_is_read_only(app, demo_url) -> None:
    kept = _by_state(demo_url, PAST_TITLE, "confirme")
    _open(app)
    _choose(app, demo_url, PAST_TITLE)
    assert any(i.value.startswith("Appel clos le ") for i in app.info)
    recap = app.dataframe[1].value.set_index("Candidat")
    assert recap.loc["Lucie Garnier", "Décision"] == "Favorable"
    assert (recap.loc["Léo Fabre", "État"], recap.loc["Léo Fabre", "Décision"]) == ("Non recevable", "–")
    assert not any(b.label.startswith(("Monter", "Déposer")) for b in app.button)
    _choose(app, demo_url, PAST_TITLE, kept.id)
    assert [t.label for t in app.tabs][-1] == "Décision"
    assert app.session_state[f"dossier_tabs:{kept.id}"] == "Décision"  # opened on the decision
    assert any("Décision du jury" in i.value and "**Favorable**" in i.value for i in app.info)
    assert any("Projet médical partagé solide, territoire prioritaire, candidat inscrit." in t for t in texts(app.main))
    # read-only: no field, no save, no upload
    assert not app.text_input and not app.get("file_uploader")
    assert not [b for b in app.button if b.label in ("Enregistrer l'onglet", "Enregistrer la pièce")]
    assert _english(app) == []


def test_the_follow_up_records_the_doctors_start(app, demo_url) -> None:
    kept = _by_state(demo_url, PAST_TITLE, "confirme")
    started = paris_today() - timedelta(days=3)
    _open(app)
    _choose(app, demo_url, PAST_TITLE, kept.id)
    assert any("Réponse enregistrée le" in t and "**projet maintenu**" in t for t in texts(app.main))
    app.date_input(key=_key(kept.id, "suivi", "started_on")).set_value(started).run()
    app.button(key=f"dossier_start:{kept.id}").click().run()
    assert not app.exception
    assert _flash(app) == [f"Prise de poste du médecin confirmée au {started:%d/%m/%Y}."]
    saved = row_at(demo_url, m.Dossier, kept.id)
    assert (saved.doctor_started_on, saved.start_confirmed_at is not None) == (started, True)
    assert any(f"Médecin en poste depuis le **{started:%d/%m/%Y}**" in t for t in texts(app.main))


def test_the_follow_up_records_whether_the_project_is_maintained(app, demo_url) -> None:
    kept = _by_state(demo_url, PAST_TITLE, "confirme")
    with session_scope(demo_url) as session:
        dossier = session.get(m.Dossier, kept.id)
        dossier.project_maintained = dossier.project_answered_at = None
    _open(app)
    _choose(app, demo_url, PAST_TITLE, kept.id)
    assert not [b for b in app.button if b.key == f"dossier_start:{kept.id}"]  # the project first
    app.radio(key=_key(kept.id, "suivi", "maintained")).set_value("abandonne").run()
    app.button(key=f"dossier_project:{kept.id}").click().run()
    assert _flash(app) == ["Maintien du projet de recrutement : projet abandonné."]
    assert row_at(demo_url, m.Dossier, kept.id).project_maintained is False
    app.radio(key=_key(kept.id, "suivi", "maintained", 1)).set_value("maintenu").run()
    app.button(key=f"dossier_project:{kept.id}").click().run()
    assert row_at(demo_url, m.Dossier, kept.id).project_maintained is True
    assert [b for b in app.button if b.key == f"dossier_start:{kept.id}"]  # then the doctor's start

