"""The ARS's side of an application campaign: create and edit it for its region, publish it, follow its dossiers,
record the jury's decisions, publish the results and export the dossiers (rules: the package's docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.campaigns import fields as f
from core.campaigns.scope import (
    CAMPAIGN_ARS,
    CAMPAIGN_STATE_LABELS,
    NATIONAL_READERS,
    STATE_LABELS,
    effective_state,
    get_campaign,
    get_dossier,
    is_closed,
    is_open,
    is_published,
    regulates_campaign,
    require_regulator,
    results_published,
)
from core.figures.spreadsheet import XLSX_MIME, Column, XlsxWriter
from core.mail import emails
from core.mail.outbox import queue_email
from core.places import reference
from core.shared.actions import NONE, Action, Actions
from core.shared.actor import SessionUser
from core.shared.audit import record_event
from core.shared.clock import PARIS, paris_datetime, paris_midnight, paris_today, utcnow
from core.shared.errors import Conflict, ErrorCollector, PermissionDenied, ValidationError
from core.shared.permissions import require_actor, require_role
from core.shared.validation import parse_date, validate_text
from db.models import (
    Campaign,
    CampaignState,
    Dossier,
    DossierAttachment,
    DossierDecision,
    DossierState,
    Establishment,
    EstablishmentStatus,
    IdKind,
)

TITLE_MAX, REFERENCE_MAX, DESCRIPTION_MAX, REASON_MAX = 200, 300, 8000, 4000
DECISION_LABELS = {DossierDecision.FAVORABLE.value: "Favorable", DossierDecision.DEFAVORABLE.value: "Défavorable"}
CAMPAIGN_LABELS = {
    "title": "intitulé", "legal_reference": "référence du texte", "description": "description",
    "opens_at": "ouverture", "closes_at": "clôture", "project_confirmation_due": "confirmation du maintien du projet",
    "start_confirmation_due": "confirmation de la prise de poste", "required_documents": "pièces obligatoires",
    "required_fields": "champs obligatoires",
}
FIXED_WHEN_PUBLISHED = ("required_documents", "required_fields")


# ---------------------------------------------------------------- the campaign's form


@dataclass(frozen=True)
class CampaignInput:
    """« Créer un appel à candidatures ». A date for the opening means 00:00 that day in Paris; a date for the
    closing means the end of that day (« jusqu'au 13 mars inclus »); an aware datetime is taken as is. Documents
    are given by their labels (the defaults: fields.DEFAULT_DOCUMENTS); fields by name (fields.field_choices)."""

    title: str = ""
    legal_reference: str = ""
    description: str = ""
    opens_at: datetime | date | str | None = None
    closes_at: datetime | date | str | None = None
    project_confirmation_due: date | str | None = None
    start_confirmation_due: date | str | None = None
    required_documents: tuple[str, ...] = tuple(d["label"] for d in f.DEFAULT_DOCUMENTS)
    required_fields: tuple[str, ...] = f.DEFAULT_REQUIRED_FIELDS


def _instant(value: Any, field_name: str, label: str, errors: ErrorCollector, *, end_of_day: bool) -> datetime | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            errors.add(field_name, f"La date de {label} doit indiquer son fuseau horaire.")
            return None
        return value
    day = errors.check(parse_date, value, field_name, f"date de {label}")
    if day is None:
        return None
    return paris_midnight(day + timedelta(days=1)) - timedelta(seconds=1) if end_of_day else paris_midnight(day)


def _documents(labels: tuple[str, ...], errors: ErrorCollector) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for raw in labels:
        label = errors.check(validate_text, raw, "required_documents", "Pièce obligatoire", max_length=200,
                             required=False)
        if label and all(d["label"].casefold() != label.casefold() for d in found):
            found.append({"code": f.document_code(label, {d["code"] for d in found}), "label": label})
    return found


def clean_campaign(values: CampaignInput) -> dict[str, Any]:
    """Every field of the form checked; all errors at once (FormErrors)."""
    errors = ErrorCollector()
    cleaned: dict[str, Any] = {
        "title": errors.check(validate_text, values.title, "title", "Intitulé", max_length=TITLE_MAX),
        "legal_reference": errors.check(validate_text, values.legal_reference, "legal_reference",
                                        "Référence du texte", max_length=REFERENCE_MAX, required=False),
        "description": errors.check(validate_text, values.description, "description", "Description",
                                    max_length=DESCRIPTION_MAX, required=False, multiline=True),
        "opens_at": _instant(values.opens_at, "opens_at", "l'ouverture", errors, end_of_day=False),
        "closes_at": _instant(values.closes_at, "closes_at", "clôture", errors, end_of_day=True),
        "project_confirmation_due": errors.check(parse_date, values.project_confirmation_due,
                                                 "project_confirmation_due",
                                                 "date de confirmation du maintien du projet"),
        "start_confirmation_due": errors.check(parse_date, values.start_confirmation_due, "start_confirmation_due",
                                               "date de confirmation de la prise de poste"),
        "required_documents": _documents(tuple(values.required_documents), errors),
    }
    unknown = [name for name in values.required_fields if name not in f.REQUIRABLE]
    if unknown:
        errors.add("required_fields", f"Champs inconnus : {', '.join(unknown)}.")
    cleaned["required_fields"] = [name for name in f.REQUIRABLE
                                  if name in values.required_fields or name in f.ALWAYS_REQUIRED]
    opens, closes = cleaned["opens_at"], cleaned["closes_at"]
    if opens and closes and closes <= opens:
        errors.add("closes_at", "La clôture doit suivre l'ouverture de l'appel à candidatures.")
    project, start = cleaned["project_confirmation_due"], cleaned["start_confirmation_due"]
    if closes and project and project <= closes.astimezone(PARIS).date():
        errors.add("project_confirmation_due", "La confirmation du maintien du projet se fait après la clôture de "
                                               "l'appel et le jury.")
    if project and start and start < project:
        errors.add("start_confirmation_due", "La confirmation de la prise de poste suit celle du maintien du "
                                             f"projet ({project:%d/%m/%Y}).")
    errors.raise_if_any()
    return cleaned


def _require_ars(actor: SessionUser | None) -> SessionUser:
    actor = require_actor(actor)
    if actor.role != CAMPAIGN_ARS or not actor.ars_code:
        raise PermissionDenied("Seule une ARS crée les appels à candidatures de sa région.")
    return actor


def create_campaign(session: so.Session, *, actor: SessionUser | None, campaign: CampaignInput,
                    now: datetime | None = None) -> int:
    """An ARS drafts a campaign for its own region; returns its id (publish it with `publish_campaign`)."""
    now = now or utcnow()
    actor = _require_ars(actor)
    values = clean_campaign(campaign)
    row = Campaign(ars_code=actor.ars_code, created_at=now, created_by=actor.id, state=CampaignState.BROUILLON.value,
                   **values)
    session.add(row)
    session.flush()
    record_event(session, actor_id=actor.id, entity="campaign", entity_id=row.id, action="created",
                 after=row.state, ars_code=row.ars_code, at=now)
    return row.id


def update_campaign(session: so.Session, *, actor: SessionUser | None, campaign_id: int, campaign: CampaignInput,
                    now: datetime | None = None) -> list[str]:
    """The campaign's ARS edits it until its results are published; its mandatory fields and documents only while
    it is a draft. Returns the French names of what changed (none: nothing recorded)."""
    now = now or utcnow()
    row = get_campaign(session, campaign_id, for_update=True)
    actor = require_regulator(actor, row)
    if results_published(row):
        raise Conflict("Les résultats de cet appel à candidatures sont publiés : il n'est plus modifiable.")
    values = clean_campaign(campaign)
    changed = [name for name in CAMPAIGN_LABELS if getattr(row, name) != values[name]]
    fixed = [name for name in changed if name in FIXED_WHEN_PUBLISHED and is_published(row)]
    if fixed:
        raise ValidationError(fixed[0], "Les champs et pièces obligatoires ne changent plus une fois l'appel publié : "
                                        "les établissements déposent leurs dossiers selon ces règles.")
    if not changed:
        return []
    for name in changed:
        setattr(row, name, values[name])
    session.flush()
    record_event(session, actor_id=actor.id, entity="campaign", entity_id=row.id, action="updated",
                 details={"fields": changed}, ars_code=row.ars_code, at=now)
    return [CAMPAIGN_LABELS[name] for name in changed]


def _eligible_establishments(session: so.Session, ars_code: str) -> int:
    return session.scalar(sa.select(sa.func.count(Establishment.id)).where(
        Establishment.ars_code == ars_code, Establishment.id_kind == IdKind.FINESS.value,
        Establishment.status == EstablishmentStatus.ACTIVE.value)) or 0


def publish_campaign(session: so.Session, *, actor: SessionUser | None, campaign_id: int,
                     now: datetime | None = None) -> int:
    """The campaign's ARS publishes its draft to the establishments of its region (they see it from its opening);
    returns how many establishments (with a FINESS) may file."""
    now = now or utcnow()
    row = get_campaign(session, campaign_id, for_update=True)
    actor = require_regulator(actor, row)
    if is_published(row):
        raise Conflict("Cet appel à candidatures est déjà publié.")
    if row.closes_at <= now:
        raise ValidationError("closes_at", f"La clôture ({paris_datetime(row.closes_at)}) est passée : reportez-la "
                                           "avant de publier l'appel.")
    row.state, row.published_at = CampaignState.PUBLIEE.value, now
    session.flush()
    record_event(session, actor_id=actor.id, entity="campaign", entity_id=row.id, action="published",
                 before=CampaignState.BROUILLON.value, after=row.state, ars_code=row.ars_code, at=now)
    return _eligible_establishments(session, row.ars_code)


# ---------------------------------------------------------------- reading campaigns


def campaign_actions(actor: SessionUser | None, campaign: Campaign, now: datetime) -> Actions:
    if not regulates_campaign(actor, campaign):
        return NONE
    actions = {Action.EXPORT}
    if not results_published(campaign):
        actions.add(Action.EDIT)
    if not is_published(campaign):
        actions.add(Action.PUBLISH)
    if is_closed(campaign, now) and not results_published(campaign):
        actions |= {Action.DECIDE, Action.PUBLISH_RESULTS}
    if results_published(campaign):
        actions.add(Action.FOLLOW_UP)
    return frozenset(actions)


def _phase(campaign: Campaign, now: datetime) -> str:
    if not is_published(campaign):
        return "Brouillon"
    if results_published(campaign):
        return "Résultats publiés"
    if is_open(campaign, now):
        return "Ouvert"
    return "À venir" if now < campaign.opens_at else "Clos — en attente du jury"


def campaign_summary(campaign: Campaign, counts: dict[str, int], now: datetime,
                     actor: SessionUser | None) -> dict[str, Any]:
    """A campaign as lists and headers show it (no personal data)."""
    return {
        "id": campaign.id, "title": campaign.title, "ars_code": campaign.ars_code,
        "region": reference.ars_names().get(campaign.ars_code, campaign.ars_code),
        "legal_reference": campaign.legal_reference, "description": campaign.description,
        "opens_at": campaign.opens_at, "closes_at": campaign.closes_at,
        "project_confirmation_due": campaign.project_confirmation_due,
        "start_confirmation_due": campaign.start_confirmation_due,
        "required_documents": [dict(d) for d in campaign.required_documents],
        "required_fields": list(campaign.required_fields),
        "state": campaign.state, "state_label": CAMPAIGN_STATE_LABELS[campaign.state],
        "phase": _phase(campaign, now), "open": is_open(campaign, now), "closed": is_closed(campaign, now),
        "results_published": results_published(campaign), "results_published_at": campaign.results_published_at,
        "counts": counts, "dossiers": sum(counts.values()), "actions": campaign_actions(actor, campaign, now),
    }


def dossier_counts(session: so.Session, campaigns: list[Campaign], now: datetime) -> dict[int, dict[str, int]]:
    """Dossiers by effective state, per campaign."""
    found: dict[int, dict[str, int]] = {c.id: dict.fromkeys(STATE_LABELS, 0) for c in campaigns}
    by_id = {c.id: c for c in campaigns}
    if not campaigns:
        return found
    rows = session.execute(sa.select(Dossier.campaign_id, Dossier.state, sa.func.count())
                           .where(Dossier.campaign_id.in_(by_id)).group_by(Dossier.campaign_id, Dossier.state))
    for campaign_id, state, count in rows:
        campaign = by_id[campaign_id]
        shown = (DossierState.NON_RECEVABLE.value if state != DossierState.CONFIRME.value and is_closed(campaign, now)
                 else state)
        found[campaign_id][shown] += count
    return found


def list_campaigns(session: so.Session, *, actor: SessionUser | None,
                   now: datetime | None = None) -> list[dict[str, Any]]:
    """An ARS: its region's campaigns, drafts included, with their dossiers by state and its actions; the CCS, the
    ministry and admins: every published campaign with its counts (no dossier). Newest first."""
    now = now or utcnow()
    actor = require_role(actor, CAMPAIGN_ARS, *NATIONAL_READERS)
    query = sa.select(Campaign)
    if actor.role == CAMPAIGN_ARS:
        query = query.where(Campaign.ars_code == actor.ars_code)
    else:
        query = query.where(Campaign.state != CampaignState.BROUILLON.value)
    campaigns = list(session.scalars(query.order_by(Campaign.opens_at.desc(), Campaign.id.desc())))
    counts = dossier_counts(session, campaigns, now)
    return [campaign_summary(c, counts[c.id], now, actor) for c in campaigns]


def _reads_campaign(session: so.Session, actor: SessionUser | None, campaign: Campaign) -> SessionUser:
    """Its region's ARS (drafts too); once published, the national roles and the accounts of an establishment of
    its region."""
    actor = require_actor(actor)
    if regulates_campaign(actor, campaign):
        return actor
    if is_published(campaign):
        if actor.role in NATIONAL_READERS:
            return actor
        if actor.role == "etablissement" and session.scalar(sa.select(sa.func.count(Establishment.id)).where(
                Establishment.id.in_(actor.establishment_ids), Establishment.ars_code == campaign.ars_code)):
            return actor
    raise PermissionDenied("Cet appel à candidatures relève d'une autre région.")


def campaign_detail(session: so.Session, *, actor: SessionUser | None, campaign_id: int,
                    now: datetime | None = None) -> dict[str, Any]:
    """One campaign's header (title, reference, description, dates, mandatory documents and fields with their
    labels, phase) for its ARS, the national roles and the establishments of its region once published; the
    dossiers' counts by state for the ARS and the national roles only."""
    now = now or utcnow()
    campaign = get_campaign(session, campaign_id)
    actor = _reads_campaign(session, actor, campaign)
    counts = dossier_counts(session, [campaign], now)[campaign.id] if actor.role != "etablissement" else {}
    row = campaign_summary(campaign, counts, now, actor)
    row["required_field_labels"] = {f.TABS[tab]: [label for name, (t, label) in f.REQUIRABLE.items()
                                                  if t == tab and name in campaign.required_fields]
                                    for tab in f.TABS}
    return row


def campaign_form(session: so.Session, *, actor: SessionUser | None, campaign_id: int) -> CampaignInput:
    """The campaign's current values as its form's input (« Modifier l'appel »), for its ARS."""
    campaign = get_campaign(session, campaign_id)
    require_regulator(actor, campaign)
    return CampaignInput(
        title=campaign.title, legal_reference=campaign.legal_reference or "", description=campaign.description or "",
        opens_at=campaign.opens_at, closes_at=campaign.closes_at,
        project_confirmation_due=campaign.project_confirmation_due,
        start_confirmation_due=campaign.start_confirmation_due,
        required_documents=tuple(d["label"] for d in campaign.required_documents),
        required_fields=tuple(campaign.required_fields))


# ---------------------------------------------------------------- the dossiers' table (the ARS)


def attached_kinds(session: so.Session, dossier_ids: list[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {i: set() for i in dossier_ids}
    if dossier_ids:
        for dossier_id, kind in session.execute(sa.select(DossierAttachment.dossier_id, DossierAttachment.kind)
                                                .where(DossierAttachment.dossier_id.in_(dossier_ids))):
            found[dossier_id].add(kind)
    return found


def candidate_name(dossier: Dossier) -> str:
    name = f"{dossier.candidate_first_name or ''} {dossier.candidate_last_name or ''}".strip()
    return name or "(candidat à renseigner)"


def dossier_row(dossier: Dossier, campaign: Campaign, establishment: str, kinds: set[str], now: datetime, *,
                decision_visible: bool, actions: Actions) -> dict[str, Any]:
    """One dossier as the tables show it; the decision only when its reader may see it."""
    state = effective_state(dossier, campaign, now)
    missing = f.missing_items(dossier, campaign.required_fields, campaign.required_documents, kinds)
    return {
        "id": dossier.id, "campaign_id": campaign.id, "establishment_id": dossier.establishment_id,
        "establishment": establishment, "hospital": dossier.hospital_name, "partner": dossier.partner_name,
        "partner_email": dossier.partner_email, "candidate": candidate_name(dossier),
        "candidate_status": f.CANDIDATE_STATUSES.get(dossier.candidate_status or ""),
        "priority": dossier.priority, "state": state, "state_label": STATE_LABELS[state],
        "complete": not missing, "missing": missing, "missing_count": sum(len(v) for v in missing.values()),
        "confirmed_at": dossier.confirmed_at, "updated_at": dossier.updated_at,
        "documents": len(kinds), "documents_required": len(campaign.required_documents),
        "decision": dossier.decision if decision_visible else None,
        "decision_label": DECISION_LABELS.get(dossier.decision or "") if decision_visible else None,
        "decision_reason": dossier.decision_reason if decision_visible else None,
        "actions": actions,
    }


def _jury_actions(actor: SessionUser, campaign: Campaign, state: str, now: datetime) -> Actions:
    if (regulates_campaign(actor, campaign) and is_closed(campaign, now) and not results_published(campaign)
            and state == DossierState.CONFIRME.value):
        return frozenset({Action.DECIDE})
    return NONE


def campaign_dossiers(session: so.Session, *, actor: SessionUser | None, campaign_id: int,
                      now: datetime | None = None) -> list[dict[str, Any]]:
    """The campaign's ARS follows every dossier: establishment, partner, candidate, priority, completeness (what is
    missing), state, decision — and DECIDE on the confirmed ones once the call is closed. By establishment, then
    priority."""
    now = now or utcnow()
    campaign = get_campaign(session, campaign_id)
    actor = require_regulator(actor, campaign)
    rows = session.execute(sa.select(Dossier, Establishment.name).join(
        Establishment, Establishment.id == Dossier.establishment_id).where(Dossier.campaign_id == campaign.id)
        .order_by(Establishment.name, Dossier.establishment_id, Dossier.priority.is_(None), Dossier.priority,
                  Dossier.id)).all()
    kinds = attached_kinds(session, [d.id for d, _ in rows])
    return [dossier_row(d, campaign, name, kinds[d.id], now, decision_visible=True,
                        actions=_jury_actions(actor, campaign, effective_state(d, campaign, now), now))
            for d, name in rows]


def record_non_recevable(session: so.Session, campaign: Campaign, now: datetime) -> int:
    """From the closing instant, the dossiers not confirmed are recorded « non recevable » (each with its Event, by
    no user): the worker does it at the closing, the publication of the results makes sure of it."""
    if not is_closed(campaign, now):
        return 0
    late = list(session.scalars(sa.select(Dossier).where(
        Dossier.campaign_id == campaign.id,
        Dossier.state.in_((DossierState.INCOMPLET.value, DossierState.COMPLET.value))).order_by(Dossier.id)))
    for dossier in late:
        before, dossier.state = dossier.state, DossierState.NON_RECEVABLE.value
        record_event(session, actor_id=None, entity="campaign_dossier", entity_id=dossier.id, action="non_recevable",
                     before=before, after=dossier.state, details={"campaign_id": campaign.id},
                     ars_code=campaign.ars_code, at=now)
    session.flush()
    return len(late)


# ---------------------------------------------------------------- the jury


def decide(session: so.Session, *, actor: SessionUser | None, dossier_id: int, decision: str, reason: str,
           now: datetime | None = None) -> str:
    """The campaign's ARS records the jury's decision on a confirmed dossier, once the call is closed: Favorable or
    Défavorable with its motivation (required); it may change it until the results are published. Returns the
    decision's label."""
    now = now or utcnow()
    dossier, campaign = get_dossier(session, dossier_id, for_update=True)
    actor = require_regulator(actor, campaign)
    if results_published(campaign):
        raise Conflict("Les résultats sont publiés : les décisions ne changent plus.")
    if not is_closed(campaign, now):
        raise Conflict(f"Le jury statue après la clôture de l'appel ({paris_datetime(campaign.closes_at)}) : les "
                       "dossiers peuvent encore changer d'ici là.")
    if effective_state(dossier, campaign, now) != DossierState.CONFIRME.value:
        raise Conflict("Ce dossier n'a pas été confirmé avant la clôture : il est non recevable et ne va pas au jury.")
    errors = ErrorCollector()
    if decision not in DECISION_LABELS:
        errors.add("decision", "Choisissez l'avis du jury : Favorable ou Défavorable.")
    text = errors.check(validate_text, reason, "decision_reason", "Motivation", max_length=REASON_MAX, multiline=True)
    errors.raise_if_any()
    before = dossier.decision
    dossier.decision, dossier.decision_reason = decision, text
    dossier.decided_at, dossier.decided_by = now, actor.id
    session.flush()
    record_event(session, actor_id=actor.id, entity="campaign_dossier", entity_id=dossier.id, action="decided",
                 before=before, after=decision, details={"campaign_id": campaign.id}, ars_code=campaign.ars_code,
                 at=now)
    return DECISION_LABELS[decision]


@dataclass(frozen=True)
class ResultsReport:
    dossiers: int  # decided dossiers whose results were published
    favourable: int
    emails: int  # e-mails queued to the partners


def _follow_up_sentence(campaign: Campaign) -> str:
    return (f"Le dossier étant retenu, l'établissement recruteur confirmera le maintien du projet au plus tard le "
            f"{campaign.project_confirmation_due:%d/%m/%Y}, puis la prise de poste du médecin au plus tard le "
            f"{campaign.start_confirmation_due:%d/%m/%Y}.")


def publish_results(session: so.Session, *, actor: SessionUser | None, campaign_id: int,
                    now: datetime | None = None) -> ResultsReport:
    """The campaign's ARS publishes the results once every confirmed dossier is decided: the establishments see
    their decisions, both partners of each decided dossier get an e-mail, and the decisions are frozen."""
    now = now or utcnow()
    campaign = get_campaign(session, campaign_id, for_update=True)
    actor = require_regulator(actor, campaign)
    if results_published(campaign):
        raise Conflict("Les résultats de cet appel à candidatures sont déjà publiés.")
    if not is_closed(campaign, now):
        raise Conflict(f"L'appel est ouvert jusqu'au {paris_datetime(campaign.closes_at)} : le jury statue après la "
                       "clôture.")
    dossiers = list(session.scalars(sa.select(Dossier).where(Dossier.campaign_id == campaign.id,
                                                             Dossier.state == DossierState.CONFIRME.value)
                                    .order_by(Dossier.id)))
    undecided = [d for d in dossiers if d.decision is None]
    if undecided:
        raise Conflict(f"{len(undecided)} dossier(s) confirmé(s) sans décision du jury : enregistrez chaque décision "
                       "avant de publier les résultats.")
    record_non_recevable(session, campaign, now)
    campaign.state, campaign.results_published_at, campaign.results_published_by = (
        CampaignState.RESULTATS.value, now, actor.id)
    names = dict(session.execute(sa.select(Establishment.id, Establishment.name).where(
        Establishment.id.in_({d.establishment_id for d in dossiers}))).all()) if dossiers else {}
    queued = 0
    for dossier in dossiers:
        favourable = dossier.decision == DossierDecision.FAVORABLE.value
        for recruiter, address in ((True, dossier.hospital_email), (False, dossier.partner_email)):
            content = emails.campaign_results(
                campaign.title, dossier.hospital_name or names[dossier.establishment_id], dossier.partner_name or "",
                candidate_name(dossier), DECISION_LABELS[dossier.decision],
                _follow_up_sentence(campaign) if favourable else None, recruiter)
            key = f"campaign-results:{dossier.id}:{'recruteur' if recruiter else 'partenaire'}"
            if address and queue_email(session, dedup_key=key, to=address, content=content, now=now):
                queued += 1
    session.flush()
    favourable_count = sum(1 for d in dossiers if d.decision == DossierDecision.FAVORABLE.value)
    record_event(session, actor_id=actor.id, entity="campaign", entity_id=campaign.id, action="results_published",
                 before=CampaignState.PUBLIEE.value, after=campaign.state,
                 details={"dossiers": len(dossiers), "favorable": favourable_count, "emails": queued},
                 ars_code=campaign.ars_code, at=now)
    return ResultsReport(len(dossiers), favourable_count, queued)


# ---------------------------------------------------------------- the export


@dataclass(frozen=True)
class CampaignExport:
    content: bytes
    file_name: str
    mime: str
    rows: int


def _export_columns(campaign: Campaign) -> list[Column]:
    headers = ["N° dossier", "Établissement (compte)", "FINESS du compte", "Priorité", "État", "Manque",
               *(spec.label for spec in f.FIELDS.values()), "Statut du candidat (libellé)",
               *(f"Pièce : {d['label']}" for d in campaign.required_documents), "Confirmé le", "Avis du jury",
               "Motivation", "Décidé le", "Projet maintenu", "Réponse le", "Prise de poste le", "Confirmée le"]
    return [Column(header) for header in headers]


def _local(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(PARIS).replace(tzinfo=None)


def _export_line(dossier: Dossier, campaign: Campaign, establishment: Establishment, kinds: set[str],
                 now: datetime) -> list[Any]:
    state = effective_state(dossier, campaign, now)
    missing = f.missing_items(dossier, campaign.required_fields, campaign.required_documents, kinds)
    maintained = {True: "Oui", False: "Non (abandonné)"}.get(dossier.project_maintained)
    return [dossier.id, establishment.name, establishment.finess, dossier.priority, STATE_LABELS[state],
            f.missing_sentence(missing) or None, *(getattr(dossier, name) for name in f.FIELDS),
            f.CANDIDATE_STATUSES.get(dossier.candidate_status or ""),
            *("Oui" if d["code"] in kinds else "Non" for d in campaign.required_documents),
            _local(dossier.confirmed_at), DECISION_LABELS.get(dossier.decision or ""), dossier.decision_reason,
            _local(dossier.decided_at), maintained, _local(dossier.project_answered_at), dossier.doctor_started_on,
            _local(dossier.start_confirmed_at)]


def export_campaign(session: so.Session, *, actor: SessionUser | None, campaign_id: int,
                    now: datetime | None = None) -> CampaignExport:
    """Every dossier of the campaign as .xlsx (« À propos », « Dossiers »: every field, the documents present,
    state, decision and follow-up) for its ARS; recorded in the audit trail."""
    now = now or utcnow()
    campaign = get_campaign(session, campaign_id)
    actor = require_regulator(actor, campaign)
    rows = session.execute(sa.select(Dossier, Establishment).join(
        Establishment, Establishment.id == Dossier.establishment_id).where(Dossier.campaign_id == campaign.id)
        .order_by(Establishment.name, Dossier.priority.is_(None), Dossier.priority, Dossier.id)).all()
    kinds = attached_kinds(session, [d.id for d, _ in rows])
    writer = XlsxWriter()
    count = writer.add_sheet("Dossiers", _export_columns(campaign),
                             (_export_line(d, campaign, e, kinds[d.id], now) for d, e in rows))
    event = record_event(session, actor_id=actor.id, entity="export", entity_id=None, action="exported",
                         details={"dataset": "appel_a_candidatures", "filters": {"campaign_id": campaign.id},
                                  "rows": count, "nominative": True, "format": "xlsx"},
                         ars_code=campaign.ars_code, at=now)
    session.flush()
    writer.add_about("À propos", [
        ("Jeu de données", f"Dossiers de l'appel à candidatures « {campaign.title} »"),
        ("Référence", campaign.legal_reference or ""),
        ("Région", f"ARS {reference.ars_names().get(campaign.ars_code, campaign.ars_code)}"),
        ("Ouverture", _local(campaign.opens_at)), ("Clôture", _local(campaign.closes_at)),
        ("Non recevable", "Dossier non confirmé à la clôture : il ne va pas au jury."),
        ("Exporté par", actor.display_name), ("Exporté le", _local(now)), ("Nombre de dossiers", count),
        ("Journal", f"Export inscrit au journal d'audit (événement n° {event.id})"),
    ], position=0)
    return CampaignExport(writer.close(), f"appel-a-candidatures-{campaign.id}-{paris_today(now):%Y-%m-%d}.xlsx",
                          XLSX_MIME, count)


@dataclass(frozen=True)
class CampaignFormChoices:
    """What « Créer un appel à candidatures » offers: fields to make mandatory by tab, the defaults."""

    fields: dict[str, dict[str, str]]
    always_required: list[str]
    default_fields: tuple[str, ...]
    default_documents: tuple[str, ...]
    default_closing_hour: time = field(default=time(23, 59))


def campaign_form_choices() -> CampaignFormChoices:
    return CampaignFormChoices(f.field_choices(), [f.REQUIRABLE[n][1] for n in f.ALWAYS_REQUIRED],
                               f.DEFAULT_REQUIRED_FIELDS, tuple(d["label"] for d in f.DEFAULT_DOCUMENTS))
