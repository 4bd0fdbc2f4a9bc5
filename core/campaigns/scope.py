"""Who acts on which campaign and dossier, and where a campaign stands in time. Every campaign service calls these
itself (pages are never trusted)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy.orm as so

from core.shared.actor import SessionUser
from core.shared.clock import paris_datetime
from core.shared.errors import Conflict, NotFound, PermissionDenied
from core.shared.permissions import require_actor
from db.models import Campaign, CampaignState, Dossier, DossierState

CAMPAIGN_ARS = "ars"  # the ARS of the campaign's region: creates, follows, decides
NATIONAL_READERS = ("ccs", "ministere", "admin")  # the published campaigns and their counts, no dossier
ESTABLISHMENT = "etablissement"
STATE_LABELS = {DossierState.INCOMPLET.value: "Incomplet", DossierState.COMPLET.value: "Complet (à confirmer)",
                DossierState.CONFIRME.value: "Confirmé", DossierState.NON_RECEVABLE.value: "Non recevable"}
CAMPAIGN_STATE_LABELS = {CampaignState.BROUILLON.value: "Brouillon", CampaignState.PUBLIEE.value: "Publiée",
                         CampaignState.RESULTATS.value: "Résultats publiés"}


def get_campaign(session: so.Session, campaign_id: int, *, for_update: bool = False) -> Campaign:
    campaign = session.get(Campaign, campaign_id, with_for_update=for_update or None,
                           populate_existing=for_update)
    if campaign is None:
        raise NotFound("Cet appel à candidatures n'existe pas ou plus.")
    return campaign


def get_dossier(session: so.Session, dossier_id: int, *, for_update: bool = False) -> tuple[Dossier, Campaign]:
    dossier = session.get(Dossier, dossier_id, with_for_update=for_update or None, populate_existing=for_update)
    if dossier is None:
        raise NotFound("Ce dossier de candidature n'existe pas ou plus.")
    return dossier, session.get(Campaign, dossier.campaign_id)


def regulates_campaign(actor: SessionUser | None, campaign: Campaign) -> bool:
    """The ARS of the campaign's region: the only one that edits it, reads its dossiers and decides."""
    return actor is not None and actor.role == CAMPAIGN_ARS and actor.ars_code == campaign.ars_code


def owns(actor: SessionUser | None, establishment_id: int) -> bool:
    return actor is not None and actor.role == ESTABLISHMENT and establishment_id in actor.establishment_ids


def reads_dossier(actor: SessionUser | None, campaign: Campaign, dossier: Dossier) -> bool:
    return owns(actor, dossier.establishment_id) or regulates_campaign(actor, campaign)


def require_regulator(actor: SessionUser | None, campaign: Campaign) -> SessionUser:
    actor = require_actor(actor)
    if not regulates_campaign(actor, campaign):
        raise PermissionDenied("Cet appel à candidatures relève d'une autre ARS.")
    return actor


def require_owner(actor: SessionUser | None, establishment_id: int) -> SessionUser:
    actor = require_actor(actor)
    if not owns(actor, establishment_id):
        raise PermissionDenied("Ce dossier est celui d'un autre établissement.")
    return actor


def require_dossier_reader(actor: SessionUser | None, campaign: Campaign, dossier: Dossier) -> SessionUser:
    actor = require_actor(actor)
    if not reads_dossier(actor, campaign, dossier):
        raise PermissionDenied("Ce dossier n'est ouvert qu'à l'établissement qui l'a déposé et à l'ARS de l'appel à "
                               "candidatures.")
    return actor


def is_published(campaign: Campaign) -> bool:
    return campaign.state != CampaignState.BROUILLON.value


def is_open(campaign: Campaign, now: datetime) -> bool:
    return campaign.state == CampaignState.PUBLIEE.value and campaign.opens_at <= now < campaign.closes_at


def is_closed(campaign: Campaign, now: datetime) -> bool:
    return is_published(campaign) and now >= campaign.closes_at


def results_published(campaign: Campaign) -> bool:
    return campaign.state == CampaignState.RESULTATS.value


def require_open(campaign: Campaign, now: datetime) -> None:
    """The establishment changes nothing outside the campaign's opening hours."""
    if is_open(campaign, now):
        return
    if campaign.state == CampaignState.PUBLIEE.value and now < campaign.opens_at:
        raise Conflict(f"L'appel à candidatures « {campaign.title} » ouvre le {paris_datetime(campaign.opens_at)} : "
                       "aucun dossier ne peut encore être déposé.")
    raise Conflict(f"L'appel à candidatures « {campaign.title} » est clos depuis le "
                   f"{paris_datetime(campaign.closes_at)} : les dossiers ne peuvent plus être modifiés.")


def effective_state(dossier: Dossier, campaign: Campaign, now: datetime) -> str:
    """The dossier's state as of `now`: from the closing instant, any dossier not confirmed is non recevable, even
    before the worker has recorded it."""
    if dossier.state != DossierState.CONFIRME.value and is_closed(campaign, now):
        return DossierState.NON_RECEVABLE.value
    return dossier.state
