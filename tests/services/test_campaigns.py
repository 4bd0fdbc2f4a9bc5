"""Application campaigns (issue 15), on SQLite and PostgreSQL: the ARS's campaign for its region, an establishment's
dossier in five tabs with its PDFs, completeness and confirmation, the deadline on an injected clock, the jury, the
results and the follow-up; who may do what, and that every change is audited."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.campaigns import campaigns, dossiers, fields, followup, retention
from core.campaigns.fields import (
    COMMITMENTS,
    Candidate,
    CareStructure,
    HospitalActivity,
    Identification,
    Partnership,
)
from core.shared.actions import Action
from core.shared.actor import COMMAND_LINE, to_session_user
from core.shared.errors import Conflict, FormErrors, PermissionDenied, ValidationError
from db import models as m
from ops.demo_pdf import assemble, text_objects
from tests.factories import (
    CAMPAIGN_CLOSES,
    CAMPAIGN_OPENS,
    NOW,
    TODAY,
    campaign_pdf,
    complete_values,
    make_actor,
    make_campaign,
    make_dossier,
    make_establishment,
    make_user,
)
from tests.readers import count, events, outbox, xlsx_rows

AFTER_CLOSING = CAMPAIGN_CLOSES + timedelta(minutes=1)
ALL = tuple(COMMITMENTS)


class Setting:
    """Île-de-France: its ARS, a published campaign open at NOW, a hospital of Paris and another of Saint-Denis with
    an account each; the ARS of Pays de la Loire and an establishment of Nantes."""

    def __init__(self, session):
        self.ars_user = make_user(session, "ars", ars_code="11")
        self.ars = to_session_user(session, user=self.ars_user)
        self.other_ars = make_actor(session, "ars", ars_code="52")
        self.campaign = make_campaign(session, created_by=self.ars_user)
        self.hospital = make_establishment(session, postal_code="75013")
        self.other = make_establishment(session, postal_code="93200")
        self.nantes = make_establishment(session, postal_code="44000")
        self.hr = to_session_user(session, user=make_user(session, establishment=self.hospital))
        self.other_hr = to_session_user(session, user=make_user(session, establishment=self.other))
        self.nantes_hr = to_session_user(session, user=make_user(session, establishment=self.nantes))


def _tabs(n: int = 1):
    values = complete_values(n)

    def pick(cls):
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})

    return [pick(Identification), pick(Partnership), pick(HospitalActivity), pick(CareStructure), pick(Candidate)]


def _file_complete(session, s: Setting, *, now=NOW) -> int:
    """A dossier filed through the services: the five tabs (Candidat before Partenariat), then the four PDFs."""
    identification, partnership, hospital, care, candidate = _tabs()
    dossier_id = dossiers.create_dossier(session, actor=s.hr, campaign_id=s.campaign.id,
                                         establishment_id=s.hospital.id, identification=identification, now=now)
    for tab in (candidate, hospital, care, partnership):
        dossiers.save_tab(session, actor=s.hr, dossier_id=dossier_id, tab=tab, now=now)
    for document in s.campaign.required_documents:
        dossiers.upload_attachment(session, actor=s.hr, dossier_id=dossier_id, kind=document["code"],
                                   filename=f"{document['code']}.pdf", content=campaign_pdf(document["label"]),
                                   now=now)
    return dossier_id


# ---------------------------------------------------------------- the ARS's campaign


def test_an_ars_creates_a_campaign_for_its_own_region_with_the_default_documents_then_publishes_it(uow) -> None:
    with uow() as session:
        ars = make_actor(session, "ars", ars_code="11")
        campaign_id = campaigns.create_campaign(session, actor=ars, now=NOW, campaign=campaigns.CampaignInput(
            title="400 postes de médecins généralistes", legal_reference="Instruction N°DGOS/DIR/2019/27",
            opens_at=date(2026, 11, 24), closes_at=date(2027, 1, 15), project_confirmation_due=date(2027, 10, 1),
            start_confirmation_due=date(2027, 11, 2)))
        campaign = session.get(m.Campaign, campaign_id)
        assert (campaign.ars_code, campaign.state) == ("11", "brouillon")
        assert [d["code"] for d in campaign.required_documents] == ["cv", "lettre_motivation", "lettre_engagement",
                                                                   "attestation_ordre"]
        assert set(fields.ALWAYS_REQUIRED) <= set(campaign.required_fields)
        # « jusqu'au 15 janvier inclus »: the closing is the end of that day in Paris
        assert campaign.closes_at == datetime(2027, 1, 15, 22, 59, 59, tzinfo=timezone.utc)
        hr = make_actor(session, establishment=make_establishment(session, postal_code="75013"))
        establishment_id = hr.establishment_ids[0]
        assert dossiers.open_campaigns(session, actor=hr, establishment_id=establishment_id, now=NOW) == []
        assert campaigns.publish_campaign(session, actor=ars, campaign_id=campaign_id, now=NOW) >= 1
        [row] = dossiers.open_campaigns(session, actor=hr, establishment_id=establishment_id,
                                        now=NOW + timedelta(days=1))
        assert (row["title"], row["open"], row["actions"]) == ("400 postes de médecins généralistes", True,
                                                               {Action.FILE})
        nantes = make_actor(session, establishment=make_establishment(session, postal_code="44000"))
        assert dossiers.open_campaigns(session, actor=nantes, establishment_id=nantes.establishment_ids[0],
                                       now=NOW + timedelta(days=1)) == []
        assert [e.action for e in session.scalars(sa.select(m.Event).where(m.Event.entity == "campaign"))] == [
            "created", "published"]


def test_only_an_ars_creates_campaigns_and_never_edits_another_regions(uow) -> None:
    with uow() as session:
        s = Setting(session)
        for actor in (make_actor(session, "ccs"), s.hr, make_actor(session, "admin")):
            with pytest.raises(PermissionDenied):
                campaigns.create_campaign(session, actor=actor, now=NOW, campaign=campaigns.CampaignInput(
                    title="x", opens_at=TODAY, closes_at=TODAY + timedelta(days=5),
                    project_confirmation_due=TODAY + timedelta(days=30),
                    start_confirmation_due=TODAY + timedelta(days=60)))
        with pytest.raises(PermissionDenied):
            campaigns.update_campaign(session, actor=s.other_ars, campaign_id=s.campaign.id, now=NOW,
                                      campaign=campaigns.CampaignInput(title="Autre"))
        assert count(session, m.Campaign) == 1 and count(session, m.Event, m.Event.entity == "campaign") == 0


def test_the_campaign_form_says_every_mistake_at_once(uow) -> None:
    with uow() as session:
        ars = make_actor(session, "ars", ars_code="11")
        with pytest.raises(FormErrors) as error:
            campaigns.create_campaign(session, actor=ars, now=NOW, campaign=campaigns.CampaignInput(
                title="", opens_at=date(2027, 2, 1), closes_at=date(2027, 1, 1),
                project_confirmation_due=date(2027, 10, 1), start_confirmation_due=date(2027, 9, 1),
                required_fields=("inconnu",)))
        assert set(error.value.by_field()) == {"title", "closes_at", "start_confirmation_due", "required_fields"}
        assert count(session, m.Campaign) == 0


def test_a_campaign_reads_the_same_through_its_form_and_its_header_opens_to_its_region_only(uow) -> None:
    with uow() as session:
        s = Setting(session)
        form = campaigns.campaign_form(session, actor=s.ars, campaign_id=s.campaign.id)
        assert campaigns.update_campaign(session, actor=s.ars, campaign_id=s.campaign.id, campaign=form,
                                         now=NOW) == []
        header = campaigns.campaign_detail(session, actor=s.hr, campaign_id=s.campaign.id, now=NOW)
        assert (header["phase"], header["counts"], header["actions"]) == ("Ouvert", {}, frozenset())
        assert header["required_field_labels"]["Candidat"][-1] == "N° RPPS ou date prévue d'inscription à l'Ordre"
        assert campaigns.campaign_detail(session, actor=s.ars, campaign_id=s.campaign.id,
                                         now=NOW)["actions"] >= {Action.EDIT, Action.EXPORT}
        for outsider in (s.nantes_hr, s.other_ars):
            with pytest.raises(PermissionDenied):
                campaigns.campaign_detail(session, actor=outsider, campaign_id=s.campaign.id, now=NOW)
        draft = make_campaign(session, created_by=s.ars_user, state="brouillon", published_at=None)
        with pytest.raises(PermissionDenied):  # a draft stays the ARS's own
            campaigns.campaign_detail(session, actor=s.hr, campaign_id=draft.id, now=NOW)


def test_the_mandatory_lists_are_fixed_once_published(uow) -> None:
    with uow() as session:
        s = Setting(session)
        form = campaigns.CampaignInput(title="Nouveau titre", opens_at=CAMPAIGN_OPENS, closes_at=CAMPAIGN_CLOSES,
                                       project_confirmation_due=s.campaign.project_confirmation_due,
                                       start_confirmation_due=s.campaign.start_confirmation_due)
        assert campaigns.update_campaign(session, actor=s.ars, campaign_id=s.campaign.id, campaign=form,
                                         now=NOW) == ["intitulé"]
        with pytest.raises(ValidationError) as error:
            campaigns.update_campaign(session, actor=s.ars, campaign_id=s.campaign.id, now=NOW,
                                      campaign=replace(form, required_documents=("CV du candidat",)))
        assert error.value.field == "required_documents"


# ---------------------------------------------------------------- the dossier: tabs, completeness, confirmation


def test_a_dossier_starts_with_identification_stays_incomplete_until_everything_is_there_and_lists_what_is_missing(
        uow) -> None:
    with uow() as session:
        s = Setting(session)
        identification, partnership, hospital, care, candidate = _tabs()
        with pytest.raises(FormErrors) as error:  # the partners' names and e-mails are needed first
            dossiers.create_dossier(session, actor=s.hr, campaign_id=s.campaign.id, establishment_id=s.hospital.id,
                                    identification=replace(identification, partner_email=""), now=NOW)
        assert list(error.value.by_field()) == ["partner_email"]
        dossier_id = dossiers.create_dossier(session, actor=s.hr, campaign_id=s.campaign.id,
                                             establishment_id=s.hospital.id, identification=identification, now=NOW)
        detail = dossiers.dossier_detail(session, actor=s.hr, dossier_id=dossier_id, now=NOW)
        assert (detail["state_label"], detail["priority"]) == ("Incomplet", 1)
        assert detail["missing"]["Candidat"] == ["Nom du candidat", "Prénom du candidat", "Statut du candidat",
                                                 "N° RPPS ou date prévue d'inscription à l'Ordre"]
        assert detail["missing"]["Pièces justificatives"][0] == "CV du candidat"
        assert "Identification" not in detail["missing"]
        # any order once Identification is saved: Candidat, then Partenariat
        saved = dossiers.save_tab(session, actor=s.hr, dossier_id=dossier_id, tab=candidate, now=NOW)
        assert "Candidat" not in saved.missing and saved.state == "incomplet"
        saved = dossiers.save_tab(session, actor=s.hr, dossier_id=dossier_id, tab=partnership, now=NOW)
        assert saved.changed == ["Nature du projet médical partagé", "Territoire prioritaire concerné"]
        for tab in (hospital, care):
            dossiers.save_tab(session, actor=s.hr, dossier_id=dossier_id, tab=tab, now=NOW)
        with pytest.raises(ValidationError, match="incomplet"):
            dossiers.confirm_dossier(session, actor=s.hr, dossier_id=dossier_id, commitments=ALL, now=NOW)
        for document in s.campaign.required_documents:
            saved = dossiers.upload_attachment(session, actor=s.hr, dossier_id=dossier_id, kind=document["code"],
                                               filename="piece.pdf", content=campaign_pdf(), now=NOW)
        assert (saved.state, saved.missing) == ("complet", {})
        assert dossiers.save_tab(session, actor=s.hr, dossier_id=dossier_id, tab=care, now=NOW).changed == []


def test_a_tab_is_checked_on_its_format_and_an_rpps_or_a_planned_registration_date_will_do(uow) -> None:
    with uow() as session:
        s = Setting(session)
        dossier = make_dossier(session, s.campaign, s.hospital)
        with pytest.raises(FormErrors) as error:
            dossiers.save_tab(session, actor=s.hr, dossier_id=dossier.id, now=NOW, tab=replace(
                _tabs()[0], hospital_finess="750000011", partner_siret="12345", partner_email="pas-un-courriel",
                partner_postal_code="9320"))
        assert set(error.value.by_field()) == {"hospital_finess", "partner_siret", "partner_email",
                                               "partner_postal_code"}
        saved = dossiers.save_tab(session, actor=s.hr, dossier_id=dossier.id, now=NOW, tab=replace(
            _tabs()[4], candidate_rpps="", candidate_registration_on="15/12/2026"))
        assert saved.state == "complet" and saved.missing == {}
        with pytest.raises(ValidationError, match="100 %"):
            dossiers.save_tab(session, actor=s.hr, dossier_id=dossier.id, now=NOW,
                              tab=replace(_tabs()[3], care_time_share=60))


def test_confirming_needs_every_commitment_sends_the_acknowledgement_and_any_change_undoes_it(uow) -> None:
    with uow() as session:
        s = Setting(session)
        dossier_id = _file_complete(session, s)
        with pytest.raises(ValidationError, match="engagements"):
            dossiers.confirm_dossier(session, actor=s.hr, dossier_id=dossier_id, commitments=ALL[:-1], now=NOW)
        dossiers.confirm_dossier(session, actor=s.hr, dossier_id=dossier_id, commitments=ALL, now=NOW)
        dossier = session.get(m.Dossier, dossier_id)
        assert (dossier.state, dossier.confirmed_at, dossier.confirmed_by) == ("confirme", NOW, s.hr.id)
        mails = outbox(session)
        assert sorted(mail.to for mail in mails) == sorted([dossier.hospital_email, s.hr.email])
        assert "Maison de santé test 1" in mails[0].body_text and "Camille Candidat1" in mails[0].body_text
        with pytest.raises(Conflict):
            dossiers.confirm_dossier(session, actor=s.hr, dossier_id=dossier_id, commitments=ALL, now=NOW)
        later = NOW + timedelta(hours=1)
        dossiers.save_tab(session, actor=s.hr, dossier_id=dossier_id, now=later,
                          tab=replace(_tabs()[1], priority_territory="Autre quartier"))
        assert (dossier.state, dossier.confirmed_at) == ("complet", None)
        dossiers.confirm_dossier(session, actor=s.hr, dossier_id=dossier_id, commitments=ALL, now=later)
        assert dossiers.delete_attachment(session, actor=s.hr, now=later, attachment_id=session.scalar(
            sa.select(m.DossierAttachment.id).where(m.DossierAttachment.kind == "cv"))).state == "incomplet"
        assert dossier.confirmed_at is None


# ---------------------------------------------------------------- the deadline, on an injected clock


def test_from_the_closing_instant_nothing_changes_and_unconfirmed_dossiers_are_non_recevable(uow) -> None:
    with uow() as session:
        s = Setting(session)
        confirmed = make_dossier(session, s.campaign, s.hospital, state="confirme", confirmed_at=NOW)
        complete = make_dossier(session, s.campaign, s.hospital)
        incomplete = make_dossier(session, s.campaign, s.hospital, complete=False)
        just_before = CAMPAIGN_CLOSES - timedelta(seconds=1)
        dossiers.save_tab(session, actor=s.hr, dossier_id=complete.id, tab=_tabs(7)[1], now=just_before)
        attempts = [
            lambda: dossiers.save_tab(session, actor=s.hr, dossier_id=complete.id, tab=_tabs(8)[1], now=CAMPAIGN_CLOSES),
            lambda: dossiers.confirm_dossier(session, actor=s.hr, dossier_id=complete.id, commitments=ALL,
                                             now=AFTER_CLOSING),
            lambda: dossiers.upload_attachment(session, actor=s.hr, dossier_id=incomplete.id, kind="cv",
                                               filename="cv.pdf", content=campaign_pdf(), now=AFTER_CLOSING),
            lambda: dossiers.delete_dossier(session, actor=s.hr, dossier_id=complete.id, now=AFTER_CLOSING),
            lambda: dossiers.create_dossier(session, actor=s.hr, campaign_id=s.campaign.id,
                                            establishment_id=s.hospital.id, identification=_tabs()[0],
                                            now=AFTER_CLOSING),
            lambda: dossiers.rank_dossiers(session, actor=s.hr, campaign_id=s.campaign.id,
                                           establishment_id=s.hospital.id, now=AFTER_CLOSING,
                                           dossier_ids=[incomplete.id, complete.id, confirmed.id]),
        ]
        for attempt in attempts:
            with pytest.raises(Conflict, match="clos depuis le"):
                attempt()
        with pytest.raises(Conflict, match="ouvre le"):  # nor before the opening
            dossiers.save_tab(session, actor=s.hr, dossier_id=complete.id, tab=_tabs(9)[1],
                              now=CAMPAIGN_OPENS - timedelta(seconds=1))
        rows = dossiers.my_dossiers(session, actor=s.hr, campaign_id=s.campaign.id, establishment_id=s.hospital.id,
                                    now=AFTER_CLOSING)
        assert {r["id"]: r["state_label"] for r in rows} == {
            confirmed.id: "Confirmé", complete.id: "Non recevable", incomplete.id: "Non recevable"}
        assert all(r["actions"] == frozenset() for r in rows)
        # the worker records it, once
        report = followup.run_campaign_jobs(session, now=AFTER_CLOSING)
        assert report.non_recevable == 2 and followup.run_campaign_jobs(session, now=AFTER_CLOSING).non_recevable == 0
        assert {e.entity_id for e in events(session, "non_recevable")} == {str(complete.id), str(incomplete.id)}
        assert session.get(m.Dossier, complete.id).state == "non_recevable"


# ---------------------------------------------------------------- who may do what


def test_only_the_owning_establishment_edits_and_only_it_and_the_campaigns_ars_read_a_dossier(uow) -> None:
    with uow() as session:
        s = Setting(session)
        dossier_id = _file_complete(session, s)
        attachment_id = session.scalar(sa.select(m.DossierAttachment.id).where(m.DossierAttachment.kind == "cv"))
        before = count(session, m.Event)
        outsiders = (s.other_hr, s.nantes_hr, s.ars, s.other_ars, make_actor(session, "ccs"),
                     make_actor(session, "admin"), None)
        for actor in outsiders:
            with pytest.raises(PermissionDenied):
                dossiers.save_tab(session, actor=actor, dossier_id=dossier_id, tab=_tabs(5)[1], now=NOW)
            with pytest.raises(PermissionDenied):
                dossiers.delete_attachment(session, actor=actor, attachment_id=attachment_id, now=NOW)
        for actor in outsiders[:1] + outsiders[2:]:
            if actor is s.ars:
                continue
            with pytest.raises(PermissionDenied):
                dossiers.dossier_detail(session, actor=actor, dossier_id=dossier_id, now=NOW)
            with pytest.raises(PermissionDenied):
                dossiers.attachment_file(session, actor=actor, attachment_id=attachment_id, now=NOW)
        assert count(session, m.Event) == before
        for reader in (s.hr, s.ars):
            file = dossiers.attachment_file(session, actor=reader, attachment_id=attachment_id, now=NOW)
            assert file.content.startswith(b"%PDF-") and (file.file_name, file.mime) == ("cv.pdf", "application/pdf")
            assert dossiers.dossier_detail(session, actor=reader, dossier_id=dossier_id, now=NOW)["id"] == dossier_id
        assert [e.actor_user_id for e in events(session, "attachment_downloaded")] == [s.hr.id, s.ars.id]
        assert dossiers.dossier_detail(session, actor=s.ars, dossier_id=dossier_id, now=NOW)["actions"] == frozenset()


def test_an_establishment_of_another_region_cannot_file(uow) -> None:
    with uow() as session:
        s = Setting(session)
        with pytest.raises(PermissionDenied, match="région"):
            dossiers.create_dossier(session, actor=s.nantes_hr, campaign_id=s.campaign.id,
                                    establishment_id=s.nantes.id, identification=_tabs()[0], now=NOW)
        with pytest.raises(PermissionDenied):  # nor for an establishment that is not its own
            dossiers.create_dossier(session, actor=s.nantes_hr, campaign_id=s.campaign.id,
                                    establishment_id=s.hospital.id, identification=_tabs()[0], now=NOW)
        assert count(session, m.Dossier) == 0


# ---------------------------------------------------------------- PDFs


def _scripted_pdf() -> bytes:
    """A valid PDF whose catalog runs a script when opened."""
    objects = text_objects("CV", ["Document fictif."])
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"
    return assemble(objects)



def test_attachments_are_pdf_only_by_their_content_of_5_mo_at_most_and_replaced_in_place(uow) -> None:
    with uow() as session:
        s = Setting(session)
        dossier = make_dossier(session, s.campaign, s.hospital, complete=False)
        png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
        refused = [
            ("cv.pdf", png, "n'est pas un PDF"),
            ("cv.pdf", b"MZ\x90\x00" + b"0" * 100, "n'est pas un PDF"),
            ("cv.pdf", b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024), "la limite est de 5 Mo"),
            ("cv.pdf", b"", "est vide"),
            ("cv.pdf", _scripted_pdf(), "JavaScript"),
        ]
        for name, content, message in refused:
            with pytest.raises(ValidationError, match=message) as error:
                dossiers.upload_attachment(session, actor=s.hr, dossier_id=dossier.id, kind="cv", filename=name,
                                           content=content, now=NOW)
            assert error.value.field == "file"
        with pytest.raises(ValidationError, match="pièces demandées"):
            dossiers.upload_attachment(session, actor=s.hr, dossier_id=dossier.id, kind="autre", filename="a.pdf",
                                       content=campaign_pdf(), now=NOW)
        assert count(session, m.DossierAttachment) == 0
        dossiers.upload_attachment(session, actor=s.hr, dossier_id=dossier.id, kind="cv", filename="cv.txt",
                                   content=campaign_pdf("premier"), now=NOW)  # a PDF whatever its name says
        dossiers.upload_attachment(session, actor=s.hr, dossier_id=dossier.id, kind="cv", filename="cv-v2.pdf",
                                   content=campaign_pdf("second"), now=NOW)
        [attachment] = session.scalars(sa.select(m.DossierAttachment)).all()
        assert attachment.filename == "cv-v2.pdf" and b"second" in attachment.content
        assert [e.action for e in session.scalars(sa.select(m.Event).where(m.Event.entity == "dossier_attachment")
                                                  .order_by(m.Event.id))] == ["attachment_added",
                                                                              "attachment_replaced"]
        detail = dossiers.dossier_detail(session, actor=s.hr, dossier_id=dossier.id, now=NOW)
        cv = detail["documents"][0]
        assert (cv["code"], cv["attachment"]["filename"], cv["actions"]) == ("cv", "cv-v2.pdf",
                                                                             {Action.UPLOAD, Action.DELETE})
        dossiers.delete_attachment(session, actor=s.hr, attachment_id=attachment.id, now=NOW)
        assert count(session, m.DossierAttachment) == 0


# ---------------------------------------------------------------- priority, deletion, recap


def test_the_establishment_ranks_its_dossiers_and_a_deleted_one_leaves_no_gap(uow) -> None:
    with uow() as session:
        s = Setting(session)
        ids = [dossiers.create_dossier(session, actor=s.hr, campaign_id=s.campaign.id, establishment_id=s.hospital.id,
                                       identification=_tabs(n)[0], now=NOW) for n in (1, 2, 3)]
        make_dossier(session, s.campaign, s.other)  # another establishment's: not in its list
        with pytest.raises(Conflict):
            dossiers.rank_dossiers(session, actor=s.hr, campaign_id=s.campaign.id, establishment_id=s.hospital.id,
                                   dossier_ids=ids[:2], now=NOW)
        dossiers.rank_dossiers(session, actor=s.hr, campaign_id=s.campaign.id, establishment_id=s.hospital.id,
                               dossier_ids=[ids[2], ids[0], ids[1]], now=NOW)
        assert dossiers.delete_dossier(session, actor=s.hr, dossier_id=ids[0], now=NOW) == "(candidat à renseigner)"
        recap = dossiers.my_dossiers(session, actor=s.hr, campaign_id=s.campaign.id, establishment_id=s.hospital.id,
                                     now=NOW)
        assert [(r["id"], r["priority"]) for r in recap] == [(ids[2], 1), (ids[1], 2)]
        assert recap[0]["partner"] == "Maison de santé test 3" and recap[0]["decision"] is None
        assert [e.action for e in events(session, "dossiers_ranked")] == ["dossiers_ranked"]
        assert len(events(session, "deleted")) == 1


# ---------------------------------------------------------------- the jury, the results


def _closed_with_confirmed(session, s: Setting):
    mine = make_dossier(session, s.campaign, s.hospital, state="confirme", confirmed_at=NOW)
    other = make_dossier(session, s.campaign, s.other, state="confirme", confirmed_at=NOW)
    late = make_dossier(session, s.campaign, s.hospital)  # complete but never confirmed
    return mine, other, late


def test_only_the_campaigns_ars_decides_after_the_closing_on_confirmed_dossiers_with_a_motivation(uow) -> None:
    with uow() as session:
        s = Setting(session)
        mine, _, late = _closed_with_confirmed(session, s)
        with pytest.raises(Conflict, match="après la clôture"):
            campaigns.decide(session, actor=s.ars, dossier_id=mine.id, decision="favorable", reason="Bon projet.",
                             now=NOW)
        for actor in (s.other_ars, make_actor(session, "ccs"), s.hr, make_actor(session, "admin")):
            with pytest.raises(PermissionDenied):
                campaigns.decide(session, actor=actor, dossier_id=mine.id, decision="favorable", reason="x",
                                 now=AFTER_CLOSING)
        with pytest.raises(Conflict, match="non recevable"):
            campaigns.decide(session, actor=s.ars, dossier_id=late.id, decision="favorable", reason="x",
                             now=AFTER_CLOSING)
        with pytest.raises(FormErrors) as error:
            campaigns.decide(session, actor=s.ars, dossier_id=mine.id, decision="peut-etre", reason=" ",
                             now=AFTER_CLOSING)
        assert set(error.value.by_field()) == {"decision", "decision_reason"}
        assert events(session, "decided") == []
        assert campaigns.decide(session, actor=s.ars, dossier_id=mine.id, decision="favorable",
                                reason="Projet solide.", now=AFTER_CLOSING) == "Favorable"
        table = {r["id"]: r for r in campaigns.campaign_dossiers(session, actor=s.ars, campaign_id=s.campaign.id,
                                                                 now=AFTER_CLOSING)}
        assert (table[mine.id]["decision_label"], table[mine.id]["actions"]) == ("Favorable", {Action.DECIDE})
        assert (table[late.id]["state_label"], table[late.id]["actions"]) == ("Non recevable", frozenset())
        with pytest.raises(PermissionDenied):
            campaigns.campaign_dossiers(session, actor=s.other_ars, campaign_id=s.campaign.id, now=AFTER_CLOSING)


def test_decisions_stay_hidden_from_the_establishment_until_the_results_are_published_to_both_partners(uow) -> None:
    with uow() as session:
        s = Setting(session)
        mine, other, late = _closed_with_confirmed(session, s)
        campaigns.decide(session, actor=s.ars, dossier_id=mine.id, decision="favorable", reason="Projet solide.",
                         now=AFTER_CLOSING)
        with pytest.raises(Conflict, match="1 dossier"):
            campaigns.publish_results(session, actor=s.ars, campaign_id=s.campaign.id, now=AFTER_CLOSING)
        campaigns.decide(session, actor=s.ars, dossier_id=other.id, decision="defavorable",
                         reason="Territoire non prioritaire.", now=AFTER_CLOSING)
        hidden = dossiers.dossier_detail(session, actor=s.hr, dossier_id=mine.id, now=AFTER_CLOSING)
        assert (hidden["decision"], hidden["decision_label"], hidden["decision_reason"]) == (None, None, None)
        assert all(r["decision"] is None for r in dossiers.my_dossiers(
            session, actor=s.hr, campaign_id=s.campaign.id, establishment_id=s.hospital.id, now=AFTER_CLOSING))
        with pytest.raises(PermissionDenied):
            campaigns.publish_results(session, actor=s.other_ars, campaign_id=s.campaign.id, now=AFTER_CLOSING)
        report = campaigns.publish_results(session, actor=s.ars, campaign_id=s.campaign.id, now=AFTER_CLOSING)
        assert (report.dossiers, report.favourable, report.emails) == (2, 1, 4)
        assert sorted(mail.to for mail in outbox(session)) == sorted(
            [mine.hospital_email, mine.partner_email, other.hospital_email, other.partner_email])
        shown = dossiers.dossier_detail(session, actor=s.hr, dossier_id=mine.id, now=AFTER_CLOSING)
        assert (shown["decision_label"], shown["decision_reason"]) == ("Favorable", "Projet solide.")
        assert shown["actions"] == {Action.FOLLOW_UP} and shown["follow_up"]["project_maintained"] is None
        assert session.get(m.Dossier, late.id).state == "non_recevable"
        with pytest.raises(Conflict, match="ne changent plus"):
            campaigns.decide(session, actor=s.ars, dossier_id=mine.id, decision="defavorable", reason="x",
                             now=AFTER_CLOSING)


# ---------------------------------------------------------------- follow-up


def test_a_favourable_dossier_confirms_its_project_then_the_start_reminded_before_each_date(uow) -> None:
    with uow() as session:
        s = Setting(session)
        mine, other, _ = _closed_with_confirmed(session, s)
        for dossier, decision in ((mine, "favorable"), (other, "favorable")):
            campaigns.decide(session, actor=s.ars, dossier_id=dossier.id, decision=decision, reason="Retenu.",
                             now=AFTER_CLOSING)
        campaigns.publish_results(session, actor=s.ars, campaign_id=s.campaign.id, now=AFTER_CLOSING)
        project_due = s.campaign.project_confirmation_due
        eight_days_before = datetime.combine(project_due - timedelta(days=8), datetime.min.time(), timezone.utc)
        assert followup.run_campaign_jobs(session, now=eight_days_before).reminders == 0
        week_before = eight_days_before + timedelta(days=1, hours=9)
        assert followup.run_campaign_jobs(session, now=week_before).reminders == 2
        assert followup.run_campaign_jobs(session, now=week_before + timedelta(days=1)).reminders == 0  # once
        with pytest.raises(PermissionDenied):
            followup.confirm_project(session, actor=s.other_hr, dossier_id=mine.id, maintained=True, now=week_before)
        with pytest.raises(Conflict, match="maintien"):
            followup.confirm_start(session, actor=s.hr, dossier_id=mine.id, started_on=TODAY, now=week_before)
        followup.confirm_project(session, actor=s.hr, dossier_id=mine.id, maintained=True, now=week_before)
        after_due = week_before + timedelta(days=8)
        table = {r["id"]: r for r in followup.follow_up_table(session, actor=s.ars, campaign_id=s.campaign.id,
                                                              now=after_due)}
        assert (table[mine.id]["project_label"], table[mine.id]["start_label"]) == ("Confirmé", "En attente")
        assert (table[other.id]["project_label"], table[other.id]["late"]) == ("Non confirmé à l'échéance", True)
        start_due = s.campaign.start_confirmation_due
        near_start = datetime.combine(start_due - timedelta(days=3), datetime.min.time(), timezone.utc)
        assert followup.run_campaign_jobs(session, now=near_start).reminders == 1  # the maintained project only
        started = followup.confirm_start(session, actor=s.hr, dossier_id=mine.id, started_on=start_due -
                                         timedelta(days=5), now=near_start)
        assert started == start_due - timedelta(days=5)
        with pytest.raises(PermissionDenied):
            followup.follow_up_table(session, actor=s.hr, campaign_id=s.campaign.id, now=near_start)
        assert [e.action for e in session.scalars(sa.select(m.Event).where(
            m.Event.entity == "campaign_dossier", m.Event.entity_id == str(mine.id)).order_by(m.Event.id))] == [
            "decided", "reminded", "project_confirmed", "reminded", "start_confirmed"]
        subjects = [mail.subject for mail in outbox(session) if "à confirmer" in mail.subject]
        assert len(subjects) == 3


# ---------------------------------------------------------------- export, audit, retention


def test_the_ars_exports_every_dossier_of_its_campaign(uow) -> None:
    with uow() as session:
        s = Setting(session)
        make_dossier(session, s.campaign, s.hospital, state="confirme", confirmed_at=NOW)
        make_dossier(session, s.campaign, s.other, complete=False)
        export = campaigns.export_campaign(session, actor=s.ars, campaign_id=s.campaign.id, now=NOW)
        assert export.rows == 2 and export.file_name.endswith(".xlsx")
        rows = xlsx_rows(export.content, sheet="Dossiers")
        header = rows[0]
        states = sorted(row[header.index("État")] for row in rows[1:])
        assert states == ["Confirmé", "Incomplet"]
        assert "Pièce : CV du candidat" in header
        assert events(session, "exported")[0].details["dataset"] == "appel_a_candidatures"
        with pytest.raises(PermissionDenied):
            campaigns.export_campaign(session, actor=s.other_ars, campaign_id=s.campaign.id, now=NOW)


def test_every_change_is_audited_with_ids_and_field_names_only(uow) -> None:
    with uow() as session:
        s = Setting(session)
        dossier_id = _file_complete(session, s)
        dossiers.confirm_dossier(session, actor=s.hr, dossier_id=dossier_id, commitments=ALL, now=NOW)
        trail = list(session.scalars(sa.select(m.Event).where(m.Event.entity.in_(
            ("campaign_dossier", "dossier_attachment"))).order_by(m.Event.id)))
        assert [e.action for e in trail] == ["created", "tab_saved", "tab_saved", "tab_saved", "tab_saved",
                                             *["attachment_added"] * 4, "confirmed"]
        assert {e.ars_code for e in trail} == {"11"} and {e.actor_user_id for e in trail} == {s.hr.id}
        assert "Candidat1" not in str([e.details for e in trail])  # no personal value in the trail


def test_the_purge_deletes_the_dossiers_and_pdfs_of_campaigns_whose_follow_up_ended(uow) -> None:
    with uow() as session:
        s = Setting(session)
        old = make_campaign(session, created_by=s.ars_user, title="Ancien appel",
                            opens_at=NOW - timedelta(days=800), closes_at=NOW - timedelta(days=700),
                            project_confirmation_due=TODAY - timedelta(days=600),
                            start_confirmation_due=TODAY - timedelta(days=500))
        gone = make_dossier(session, old, s.hospital)
        kept = make_dossier(session, s.campaign, s.hospital)
        cutoff = TODAY - timedelta(days=400)
        report = retention.purge_dossiers(session, actor=COMMAND_LINE, before=cutoff, dry_run=True, now=NOW)
        assert (report.dossiers, report.attachments) == (1, 4) and count(session, m.Dossier) == 2
        with pytest.raises(PermissionDenied):
            retention.purge_dossiers(session, actor=s.ars, before=cutoff, now=NOW)
        assert "1 supprimés" in str(retention.purge_dossiers(session, actor=COMMAND_LINE, before=cutoff, now=NOW))
        assert session.scalars(sa.select(m.Dossier.id)).all() == [kept.id]
        assert count(session, m.DossierAttachment) == 4 and session.get(m.Campaign, old.id) is not None
        assert gone.id not in session.scalars(sa.select(m.DossierAttachment.dossier_id)).all()
        assert events(session, "dossiers_purged")[0].details["dossiers"] == 1


def test_the_worker_and_the_purge_command_run_the_campaign_jobs(db_url, uow, capsys) -> None:
    from ops.cli import main as cli
    from ops.worker import run_once

    with uow() as session:
        s = Setting(session)
        make_dossier(session, s.campaign, s.hospital)
        make_dossier(session, s.campaign, s.hospital, complete=False)
    lines = run_once(db_url, now=AFTER_CLOSING)
    assert ("Appels à candidatures : 2 dossier(s) non recevable(s) à la clôture, 0 rappel(s) de suivi envoyé(s)."
            in lines)
    assert cli(["purge", "--db", db_url, "--before", "2026-01-01", "--dry-run"]) == 0
    assert "dont le suivi a pris fin avant le 01/01/2026 : 0 seraient supprimés" in capsys.readouterr().out
