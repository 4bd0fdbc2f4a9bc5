"""After the results: the follow-up of the favourable dossiers (the source's October and November confirmations) and
the worker's daily campaign jobs (rules: the package's docstring).

A favourable dossier answers by the campaign's `project_confirmation_due` whether its recruitment project is
maintained (or given up), then — if maintained — by `start_confirmation_due` the date the doctor started. The worker
e-mails the recruiting establishment REMINDER_DAYS before each date while the answer is missing (once per date),
and records « non recevable » the dossiers not confirmed at a campaign's closing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.campaigns.campaigns import candidate_name, record_non_recevable
from core.campaigns.scope import (
    get_campaign,
    get_dossier,
    require_owner,
    require_regulator,
    results_published,
)
from core.mail import emails
from core.mail.outbox import queue_email
from core.shared.actor import SessionUser
from core.shared.audit import record_event
from core.shared.clock import paris_today, utcnow
from core.shared.errors import Conflict, ValidationError
from core.shared.validation import parse_date
from db.models import Campaign, CampaignState, Dossier, DossierDecision, DossierState, Establishment

REMINDER_DAYS = 7  # a reminder this many days before each follow-up date
WAITING, LATE, DONE, GIVEN_UP, NOT_YET = "en_attente", "en_retard", "confirme", "abandonne", "sans_objet"
FOLLOW_UP_LABELS = {WAITING: "En attente", LATE: "Non confirmé à l'échéance", DONE: "Confirmé",
                    GIVEN_UP: "Projet abandonné", NOT_YET: "—"}


def _favourable(session: so.Session, actor: SessionUser | None, dossier_id: int) -> tuple[SessionUser, Dossier,
                                                                                           Campaign]:
    dossier, campaign = get_dossier(session, dossier_id)
    actor = require_owner(actor, dossier.establishment_id)
    dossier, campaign = get_dossier(session, dossier_id, for_update=True)
    if not results_published(campaign) or dossier.decision != DossierDecision.FAVORABLE.value:
        raise Conflict("Seuls les dossiers retenus (avis favorable, résultats publiés) ont un suivi à confirmer.")
    return actor, dossier, campaign


def confirm_project(session: so.Session, *, actor: SessionUser | None, dossier_id: int, maintained: bool,
                    now: datetime | None = None) -> str:
    """The owner of a favourable dossier says whether its project is maintained (it may still answer after the
    date: the ARS sees it late). Returns the answer's label."""
    now = now or utcnow()
    actor, dossier, campaign = _favourable(session, actor, dossier_id)
    if dossier.start_confirmed_at is not None:
        raise Conflict("La prise de poste est déjà confirmée : le projet est maintenu.")
    before = None if dossier.project_maintained is None else str(dossier.project_maintained).lower()
    dossier.project_maintained, dossier.project_answered_at = bool(maintained), now
    session.flush()
    record_event(session, actor_id=actor.id, entity="campaign_dossier", entity_id=dossier.id,
                 action="project_confirmed", before=before, after=str(bool(maintained)).lower(),
                 details={"campaign_id": campaign.id, "late": paris_today(now) > campaign.project_confirmation_due},
                 ars_code=campaign.ars_code, at=now)
    return FOLLOW_UP_LABELS[DONE if maintained else GIVEN_UP]


def confirm_start(session: so.Session, *, actor: SessionUser | None, dossier_id: int, started_on: date | str,
                  now: datetime | None = None) -> date:
    """The owner of a favourable dossier whose project is maintained gives the date the doctor started (not in the
    future). Returns that date."""
    now = now or utcnow()
    actor, dossier, campaign = _favourable(session, actor, dossier_id)
    if dossier.project_maintained is not True:
        raise Conflict("Confirmez d'abord le maintien du projet de recrutement.")
    day = parse_date(started_on, "started_on", "date de prise de poste")
    if day > paris_today(now):
        raise ValidationError("started_on", f"La prise de poste ({day:%d/%m/%Y}) est dans le futur : confirmez-la une "
                                            "fois le médecin en poste.")
    dossier.doctor_started_on, dossier.start_confirmed_at = day, now
    session.flush()
    record_event(session, actor_id=actor.id, entity="campaign_dossier", entity_id=dossier.id, action="start_confirmed",
                 details={"campaign_id": campaign.id, "late": paris_today(now) > campaign.start_confirmation_due},
                 ars_code=campaign.ars_code, at=now)
    return day


def _project_state(dossier: Dossier, campaign: Campaign, today: date) -> str:
    if dossier.project_maintained is None:
        return LATE if today > campaign.project_confirmation_due else WAITING
    return DONE if dossier.project_maintained else GIVEN_UP


def _start_state(dossier: Dossier, campaign: Campaign, today: date) -> str:
    if dossier.project_maintained is False:
        return NOT_YET
    if dossier.start_confirmed_at is not None:
        return DONE
    return LATE if today > campaign.start_confirmation_due else WAITING


def follow_up_table(session: so.Session, *, actor: SessionUser | None, campaign_id: int,
                    now: datetime | None = None) -> list[dict[str, Any]]:
    """The campaign's ARS sees each favourable dossier's follow-up: project maintained, doctor started, who has not
    confirmed (`pending`: a confirmation still missing; `late`: missing past its date)."""
    now = now or utcnow()
    campaign = get_campaign(session, campaign_id)
    actor = require_regulator(actor, campaign)
    today = paris_today(now)
    rows = session.execute(sa.select(Dossier, Establishment.name).join(
        Establishment, Establishment.id == Dossier.establishment_id).where(
        Dossier.campaign_id == campaign.id, Dossier.decision == DossierDecision.FAVORABLE.value)
        .order_by(Establishment.name, Dossier.priority, Dossier.id)).all()
    found = []
    for dossier, establishment in rows:
        project, start = _project_state(dossier, campaign, today), _start_state(dossier, campaign, today)
        found.append({
            "id": dossier.id, "establishment": establishment, "partner": dossier.partner_name,
            "candidate": candidate_name(dossier), "project": project, "project_label": FOLLOW_UP_LABELS[project],
            "project_answered_at": dossier.project_answered_at, "start": start,
            "start_label": FOLLOW_UP_LABELS[start], "doctor_started_on": dossier.doctor_started_on,
            "pending": WAITING in (project, start) or LATE in (project, start), "late": LATE in (project, start),
            "reminded": [d for d in (dossier.project_reminded_at, dossier.start_reminded_at) if d],
        })
    return found


# ---------------------------------------------------------------- the worker's daily jobs


@dataclass(frozen=True)
class CampaignJobReport:
    non_recevable: int
    reminders: int

    def __str__(self) -> str:
        return (f"Appels à candidatures : {self.non_recevable} dossier(s) non recevable(s) à la clôture, "
                f"{self.reminders} rappel(s) de suivi envoyé(s).")


def _remind(session: so.Session, dossier: Dossier, campaign: Campaign, what: str, due: date, step: str,
            now: datetime) -> bool:
    content = emails.follow_up_reminder(campaign.title, what, f"{due:%d/%m/%Y}", dossier.partner_name or "",
                                        candidate_name(dossier))
    queued = queue_email(session, dedup_key=f"campaign-follow-up:{dossier.id}:{step}", to=dossier.hospital_email,
                         content=content, now=now) if dossier.hospital_email else None
    if queued is None:
        return False
    record_event(session, actor_id=None, entity="campaign_dossier", entity_id=dossier.id, action="reminded",
                 details={"campaign_id": campaign.id, "step": step}, ars_code=campaign.ars_code, at=now)
    return True


PROJECT_STEP, START_STEP = "projet", "prise_de_poste"


def _due_step(dossier: Dossier, campaign: Campaign, today: date) -> tuple[str, str, date] | None:
    """The confirmation a dossier owes within REMINDER_DAYS and has not been reminded of: (step, what, due)."""
    horizon = today + timedelta(days=REMINDER_DAYS)
    project, start = campaign.project_confirmation_due, campaign.start_confirmation_due
    if dossier.project_maintained is None and today <= project <= horizon and dossier.project_reminded_at is None:
        return PROJECT_STEP, "le maintien du projet de recrutement", project
    if dossier.project_maintained is True and today <= start <= horizon and dossier.start_reminded_at is None:
        return START_STEP, "la prise de poste du médecin", start
    return None


def send_follow_up_reminders(session: so.Session, *, now: datetime) -> int:
    """REMINDER_DAYS before each date (and until it), one e-mail to each favourable dossier that has not answered."""
    today = paris_today(now)
    sent = 0
    rows = session.execute(sa.select(Dossier, Campaign).join(Campaign, Campaign.id == Dossier.campaign_id).where(
        Campaign.state == CampaignState.RESULTATS.value, Dossier.decision == DossierDecision.FAVORABLE.value,
        Dossier.start_confirmed_at.is_(None), Campaign.start_confirmation_due >= today).order_by(Dossier.id)).all()
    for dossier, campaign in rows:
        due = _due_step(dossier, campaign, today)
        if due is None or not _remind(session, dossier, campaign, due[1], due[2], due[0], now):
            continue
        if due[0] == PROJECT_STEP:
            dossier.project_reminded_at = now
        else:
            dossier.start_reminded_at = now
        sent += 1
    session.flush()
    return sent


def mark_closed_campaigns(session: so.Session, *, now: datetime) -> int:
    """At each campaign's closing, its dossiers not confirmed become « non recevable »."""
    campaigns = session.scalars(sa.select(Campaign).where(
        Campaign.state == CampaignState.PUBLIEE.value, Campaign.closes_at <= now,
        sa.select(Dossier.id).where(Dossier.campaign_id == Campaign.id, Dossier.state.in_(
            (DossierState.INCOMPLET.value, DossierState.COMPLET.value))).exists()).order_by(Campaign.id)).all()
    return sum(record_non_recevable(session, campaign, now) for campaign in campaigns)


def run_campaign_jobs(session: so.Session, *, now: datetime | None = None) -> CampaignJobReport:
    """The worker's pass over the campaigns (idempotent: a second pass on the same day does nothing)."""
    now = now or utcnow()
    return CampaignJobReport(mark_closed_campaigns(session, now=now), send_follow_up_reminders(session, now=now))
