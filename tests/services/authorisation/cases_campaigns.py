"""Rows of the authorisation table for core/campaigns: application campaigns for funded posts (issue 15).

A campaign is created by an ARS for its own region (each ARS column creates one of its own), then edited, published,
followed (its dossiers' table, the follow-up), decided (the jury), its results published and exported by the ARS of
its region only — not the CCS, the ministry or an admin, and never another ARS. The national roles and every ARS list
the campaigns they see (an ARS: its region's; here the other ARS's list is empty). An establishment lists its region's
campaigns, prefills and files a dossier for itself (both establishments of the world are of the campaign's region);
a dossier's tabs, PDFs, confirmation, deletion, priority and follow-up belong to its owning establishment alone; a
dossier and its PDFs are read by the owner and the campaign's ARS only. The purge of old dossiers: admins (and the
command line).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.campaigns import campaigns, dossiers, fields, followup, retention
from core.shared.actor import SessionUser
from db import models as m
from tests.factories import (
    CAMPAIGN_CLOSES,
    NOW,
    TODAY,
    campaign_pdf,
    complete_values,
    make_campaign,
    make_dossier,
)
from tests.services.authorisation.world import REGION, Service, World, last_action, user

AFTER_CLOSING = CAMPAIGN_CLOSES + timedelta(minutes=1)
CAMPAIGN_ARS = frozenset({"ars"})
ANY_ARS = frozenset({"ars", "ars_autre_region"})
LISTERS = frozenset({"ars", "ars_autre_region", "ccs", "ministere", "admin"})
ESTABLISHMENTS = frozenset({"etablissement", "etablissement_autre"})
OWNER = frozenset({"etablissement"})
READERS = frozenset({"etablissement", "ars"})


def _campaign(session: so.Session, world: World, **overrides) -> m.Campaign:
    """An open campaign of the world's region, by its ARS (flushed)."""
    return make_campaign(session, ars_code=REGION, created_by=user(session, world.user_ids["ars"]), **overrides)


def _dossier(session: so.Session, world: World, **overrides) -> m.Dossier:
    """A complete dossier of the world's establishment in a new campaign of the region (flushed)."""
    campaign = _campaign(session, world, **overrides.pop("campaign", {}))
    return make_dossier(session, campaign, session.get(m.Establishment, world.establishment_id), **overrides)


def _decided(session: so.Session, world: World) -> m.Dossier:
    """A confirmed dossier decided favourably by the jury, its results published."""
    return _dossier(session, world, state="confirme", confirmed_at=NOW, decision="favorable", decision_reason="Oui.",
                    decided_at=NOW, campaign={"state": "resultats", "results_published_at": NOW})


def _maintained(session: so.Session, world: World) -> int:
    """A decided dossier whose project is confirmed maintained (flushed): its id."""
    dossier = _decided(session, world)
    dossier.project_maintained, dossier.project_answered_at = True, NOW
    session.flush()
    return dossier.id


def _own(world: World, actor: SessionUser | None) -> int:
    """The establishment the actor manages (the world's by default): what it files or reads « for itself »."""
    return actor.establishment_ids[0] if actor is not None and actor.establishment_ids else world.establishment_id


def _form(session: so.Session, world: World, campaign: m.Campaign) -> campaigns.CampaignInput:
    return campaigns.CampaignInput(title="Nouvel intitulé", opens_at=campaign.opens_at, closes_at=campaign.closes_at,
                                   project_confirmation_due=campaign.project_confirmation_due,
                                   start_confirmation_due=campaign.start_confirmation_due)


def _new_campaign() -> campaigns.CampaignInput:
    return campaigns.CampaignInput(title="Postes partagés", opens_at=TODAY, closes_at=TODAY + timedelta(days=30),
                                   project_confirmation_due=TODAY + timedelta(days=90),
                                   start_confirmation_due=TODAY + timedelta(days=120))


def _identification(n: int = 1) -> fields.Identification:
    values = complete_values(n)
    return fields.Identification(**{k: v for k, v in values.items() if k in fields.Identification.__dataclass_fields__})


def _attachment(session: so.Session, world: World) -> int:
    dossier = _dossier(session, world)
    return session.scalar(sa.select(m.DossierAttachment.id).where(m.DossierAttachment.dossier_id == dossier.id,
                                                                 m.DossierAttachment.kind == "cv"))


def _state(session: so.Session, dossier_id: int) -> str | None:
    return session.scalar(sa.select(m.Dossier.state).where(m.Dossier.id == dossier_id))


def _old_dossier(session: so.Session, world: World) -> int:
    long_ago = NOW - timedelta(days=900)
    return _dossier(session, world, campaign={
        "opens_at": long_ago, "closes_at": long_ago + timedelta(days=30),
        "project_confirmation_due": TODAY - timedelta(days=800),
        "start_confirmation_due": TODAY - timedelta(days=700)}).id


CASES: dict[str, Service] = {
    # ---- core/campaigns/campaigns.py
    "campaigns.create_campaign": Service(
        lambda s, w, a: campaigns.create_campaign(s, actor=a, campaign=_new_campaign(), now=NOW), ANY_ARS,
        lambda s, w, r: s.get(m.Campaign, r).state == "brouillon" and last_action(s, "campaign") == "created",
        "une ARS, pour sa région"),
    "campaigns.update_campaign": Service(
        lambda s, w, a: (c := _campaign(s, w), campaigns.update_campaign(s, actor=a, campaign_id=c.id, now=NOW,
                                                                         campaign=_form(s, w, c)))[1], CAMPAIGN_ARS,
        lambda s, w, r: r == ["intitulé"] and last_action(s, "campaign") == "updated", "l'ARS de sa région"),
    "campaigns.publish_campaign": Service(
        lambda s, w, a: campaigns.publish_campaign(s, actor=a, campaign_id=_campaign(s, w, state="brouillon").id,
                                                   now=NOW), CAMPAIGN_ARS,
        lambda s, w, r: r >= 2 and last_action(s, "campaign") == "published"),
    "campaigns.list_campaigns": Service(
        lambda s, w, a: (_campaign(s, w), campaigns.list_campaigns(s, actor=a, now=NOW))[1], LISTERS,
        lambda s, w, r: len(r) <= 1 and all(row["ars_code"] == REGION for row in r),
        "une ARS : celles de sa région ; le CCS, le ministère, les admins : celles publiées, sans dossier"),
    "campaigns.campaign_detail": Service(
        lambda s, w, a: campaigns.campaign_detail(s, actor=a, campaign_id=_campaign(s, w).id, now=NOW),
        LISTERS - {"ars_autre_region"} | ESTABLISHMENTS,
        lambda s, w, r: r["open"] and len(r["required_documents"]) == 4,
        "publié : l'ARS de sa région, les rôles nationaux, les établissements de la région"),
    "campaigns.campaign_form": Service(
        lambda s, w, a: campaigns.campaign_form(s, actor=a, campaign_id=_campaign(s, w).id), CAMPAIGN_ARS,
        lambda s, w, r: r.title.startswith("400 postes")),
    "campaigns.campaign_dossiers": Service(
        lambda s, w, a: (d := _dossier(s, w), campaigns.campaign_dossiers(s, actor=a, campaign_id=d.campaign_id,
                                                                          now=NOW))[1], CAMPAIGN_ARS,
        lambda s, w, r: [row["establishment_id"] for row in r] == [w.establishment_id]),
    "campaigns.decide": Service(
        lambda s, w, a: campaigns.decide(s, actor=a, dossier_id=_dossier(s, w, state="confirme", confirmed_at=NOW).id,
                                         decision="favorable", reason="Projet solide.", now=AFTER_CLOSING),
        CAMPAIGN_ARS, lambda s, w, r: r == "Favorable" and last_action(s, "campaign_dossier") == "decided",
        "l'ARS de la région de l'appel, après la clôture, sur un dossier confirmé"),
    "campaigns.publish_results": Service(
        lambda s, w, a: (d := _dossier(s, w, state="confirme", confirmed_at=NOW, decision="defavorable",
                                       decision_reason="Non.", decided_at=NOW),
                         campaigns.publish_results(s, actor=a, campaign_id=d.campaign_id, now=AFTER_CLOSING))[1],
        CAMPAIGN_ARS, lambda s, w, r: (r.dossiers, r.emails) == (1, 2)
        and last_action(s, "campaign") == "results_published"),
    "campaigns.export_campaign": Service(
        lambda s, w, a: campaigns.export_campaign(s, actor=a, campaign_id=_dossier(s, w).campaign_id, now=NOW),
        CAMPAIGN_ARS, lambda s, w, r: r.content.startswith(b"PK") and r.rows == 1
        and last_action(s, "export") == "exported"),
    # ---- core/campaigns/dossiers.py
    "dossiers.open_campaigns": Service(
        lambda s, w, a: (_campaign(s, w), dossiers.open_campaigns(s, actor=a, establishment_id=_own(w, a), now=NOW))[1],
        ESTABLISHMENTS, lambda s, w, r: len(r) == 1 and r[0]["open"], "les comptes de l'établissement, pour lui-même"),
    "dossiers.new_identification": Service(
        lambda s, w, a: dossiers.new_identification(s, actor=a, establishment_id=_own(w, a)), ESTABLISHMENTS,
        lambda s, w, r: r.hospital_name.startswith("Établissement test")),
    "dossiers.create_dossier": Service(
        lambda s, w, a: dossiers.create_dossier(s, actor=a, campaign_id=_campaign(s, w).id, now=NOW,
                                                establishment_id=_own(w, a), identification=_identification()),
        ESTABLISHMENTS, lambda s, w, r: _state(s, r) == "incomplet" and last_action(s, "campaign_dossier") == "created",
        "un établissement (FINESS) de la région de l'appel, pour lui-même"),
    "dossiers.save_tab": Service(
        lambda s, w, a: dossiers.save_tab(s, actor=a, dossier_id=_dossier(s, w).id, now=NOW,
                                          tab=fields.Partnership(partnership_nature="Autre projet partagé.")), OWNER,
        lambda s, w, r: r.changed[0] == "Nature du projet médical partagé", "l'établissement du dossier seulement"),
    "dossiers.upload_attachment": Service(
        lambda s, w, a: dossiers.upload_attachment(s, actor=a, dossier_id=_dossier(s, w).id, kind="cv",
                                                   filename="cv.pdf", content=campaign_pdf("CV"), now=NOW), OWNER,
        lambda s, w, r: last_action(s, "dossier_attachment") == "attachment_replaced"),
    "dossiers.delete_attachment": Service(
        lambda s, w, a: dossiers.delete_attachment(s, actor=a, attachment_id=_attachment(s, w), now=NOW), OWNER,
        lambda s, w, r: r.state == "incomplet" and last_action(s, "dossier_attachment") == "attachment_deleted"),
    "dossiers.attachment_file": Service(
        lambda s, w, a: dossiers.attachment_file(s, actor=a, attachment_id=_attachment(s, w), now=NOW), READERS,
        lambda s, w, r: r.content.startswith(b"%PDF-") and last_action(s, "dossier_attachment")
        == "attachment_downloaded", "l'établissement du dossier et l'ARS de l'appel"),
    "dossiers.confirm_dossier": Service(
        lambda s, w, a: dossiers.confirm_dossier(s, actor=a, dossier_id=_dossier(s, w).id, now=NOW,
                                                 commitments=tuple(fields.COMMITMENTS)), OWNER,
        lambda s, w, r: r == NOW and last_action(s, "campaign_dossier") == "confirmed"),
    "dossiers.delete_dossier": Service(
        lambda s, w, a: (d := _dossier(s, w), dossiers.delete_dossier(s, actor=a, dossier_id=d.id, now=NOW), d.id)[2],
        OWNER, lambda s, w, r: _state(s, r) is None and last_action(s, "campaign_dossier") == "deleted"),
    "dossiers.rank_dossiers": Service(
        lambda s, w, a: (d := _dossier(s, w), dossiers.rank_dossiers(s, actor=a, campaign_id=d.campaign_id,
                                                                     establishment_id=w.establishment_id,
                                                                     dossier_ids=[d.id], now=NOW))[1], OWNER,
        lambda s, w, r: len(r) == 1 and last_action(s, "campaign") == "dossiers_ranked"),
    "dossiers.my_dossiers": Service(
        lambda s, w, a: (d := _dossier(s, w), dossiers.my_dossiers(s, actor=a, campaign_id=d.campaign_id,
                                                                   establishment_id=w.establishment_id, now=NOW))[1],
        OWNER, lambda s, w, r: len(r) == 1 and r[0]["state"] == "complet"),
    "dossiers.dossier_detail": Service(
        lambda s, w, a: dossiers.dossier_detail(s, actor=a, dossier_id=_dossier(s, w).id, now=NOW), READERS,
        lambda s, w, r: r["establishment_id"] == w.establishment_id and len(r["tabs"]) == 5,
        "l'établissement du dossier et l'ARS de l'appel"),
    # ---- core/campaigns/followup.py
    "followup.confirm_project": Service(
        lambda s, w, a: followup.confirm_project(s, actor=a, dossier_id=_decided(s, w).id, maintained=True, now=NOW),
        OWNER, lambda s, w, r: r == "Confirmé" and last_action(s, "campaign_dossier") == "project_confirmed"),
    "followup.confirm_start": Service(
        lambda s, w, a: followup.confirm_start(s, actor=a, dossier_id=_maintained(s, w), started_on=TODAY, now=NOW),
        OWNER,
        lambda s, w, r: r == TODAY and last_action(s, "campaign_dossier") == "start_confirmed"),
    "followup.follow_up_table": Service(
        lambda s, w, a: followup.follow_up_table(s, actor=a, campaign_id=_decided(s, w).campaign_id, now=NOW),
        CAMPAIGN_ARS, lambda s, w, r: len(r) == 1 and r[0]["pending"]),
    # ---- core/campaigns/retention.py
    "retention.purge_dossiers": Service(
        lambda s, w, a: (i := _old_dossier(s, w), retention.purge_dossiers(s, actor=a, now=NOW,
                                                                           before=TODAY - timedelta(days=365)), i),
        frozenset({"admin"}), lambda s, w, r: r[1].dossiers == 1 and _state(s, r[2]) is None
        and last_action(s, "database") == "dossiers_purged", "et la ligne de commande (opérateur)"),
}
