"""The establishment's side of an application campaign: its region's campaigns, its dossiers in five tabs, their
PDFs, confirmation, priority, deletion; and the reading of one dossier by its owner or the campaign's ARS (rules:
the package's docstring)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from core.campaigns import fields as f
from core.campaigns.campaigns import (
    attached_kinds,
    campaign_summary,
    candidate_name,
    dossier_row,
)
from core.campaigns.scope import (
    STATE_LABELS,
    effective_state,
    get_campaign,
    get_dossier,
    is_closed,
    is_open,
    owns,
    regulates_campaign,
    require_dossier_reader,
    require_open,
    require_owner,
    results_published,
)
from core.mail import emails
from core.mail.outbox import queue_email
from core.shared.actions import NONE, Action, Actions
from core.shared.actor import SessionUser
from core.shared.audit import record_event
from core.shared.clock import paris_datetime, utcnow
from core.shared.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.volunteers.documents import MAX_DOCUMENT_BYTES, check_pdf
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

MAX_ATTACHMENT_BYTES = MAX_DOCUMENT_BYTES  # the volunteers' documents' limit (5 Mo)
ENTITY, ATTACHMENT = "campaign_dossier", "dossier_attachment"


def _establishment(session: so.Session, actor: SessionUser | None, establishment_id: int) -> Establishment:
    require_owner(actor, establishment_id)
    establishment = session.get(Establishment, establishment_id)
    if establishment is None:
        raise NotFound("Cet établissement n'existe pas ou plus.")
    return establishment


def _may_file(establishment: Establishment, campaign: Campaign) -> bool:
    """A validated establishment with a 9-digit FINESS, of the campaign's region."""
    return (establishment.ars_code == campaign.ars_code and establishment.id_kind == IdKind.FINESS.value
            and establishment.status == EstablishmentStatus.ACTIVE.value)


def _record(session: so.Session, actor: SessionUser, dossier: Dossier, campaign: Campaign, action: str, now: datetime,
            *, before: str | None = None, entity: str = ENTITY, entity_id: int | None = None, **details: Any) -> None:
    record_event(session, actor_id=actor.id, entity=entity, entity_id=entity_id or dossier.id, action=action,
                 before=before, after=dossier.state,
                 details={"campaign_id": campaign.id, "dossier_id": dossier.id, **details},
                 ars_code=campaign.ars_code, at=now)


# ---------------------------------------------------------------- the region's campaigns


def open_campaigns(session: so.Session, *, actor: SessionUser | None, establishment_id: int,
                   now: datetime | None = None) -> list[dict[str, Any]]:
    """The published campaigns of the establishment's region, newest first, each with the establishment's own
    dossiers counted (`mine`) and FILE while it is open and the establishment may file."""
    now = now or utcnow()
    establishment = _establishment(session, actor, establishment_id)
    campaigns = list(session.scalars(sa.select(Campaign).where(
        Campaign.ars_code == establishment.ars_code, Campaign.state != CampaignState.BROUILLON.value)
        .order_by(Campaign.opens_at.desc(), Campaign.id.desc())))
    mine = dict(session.execute(sa.select(Dossier.campaign_id, sa.func.count()).where(
        Dossier.establishment_id == establishment.id).group_by(Dossier.campaign_id)).all())
    rows = []
    for campaign in campaigns:
        row = campaign_summary(campaign, {}, now, actor)
        row.update(counts={}, dossiers=None, mine=mine.get(campaign.id, 0),
                   actions=frozenset({Action.FILE}) if is_open(campaign, now) and _may_file(establishment, campaign)
                   else NONE)
        rows.append(row)
    return rows


def new_identification(session: so.Session, *, actor: SessionUser | None, establishment_id: int) -> f.Identification:
    """The Identification tab of a new dossier, prefilled with the establishment's own name, address and FINESS."""
    establishment = _establishment(session, actor, establishment_id)
    return f.Identification(hospital_name=establishment.name, hospital_address=establishment.address,
                            hospital_postal_code=establishment.postal_code, hospital_city=establishment.city,
                            hospital_finess=establishment.finess if establishment.id_kind == IdKind.FINESS.value
                            else "")


# ---------------------------------------------------------------- creating and saving tabs


def _refresh_state(session: so.Session, dossier: Dossier, campaign: Campaign, now: datetime) -> str:
    """After a change: the confirmation is undone, and the dossier is Complet or Incomplet again. Returns the
    state before."""
    before = dossier.state
    kinds = attached_kinds(session, [dossier.id])[dossier.id]
    missing = f.missing_items(dossier, campaign.required_fields, campaign.required_documents, kinds)
    dossier.confirmed_at = dossier.confirmed_by = None
    dossier.state = DossierState.INCOMPLET.value if missing else DossierState.COMPLET.value
    dossier.updated_at = now
    return before


def create_dossier(session: so.Session, *, actor: SessionUser | None, campaign_id: int, establishment_id: int,
                   identification: f.Identification, now: datetime | None = None) -> int:
    """The establishment files a new dossier in an open campaign of its region, starting with its Identification tab
    (both partners' names and e-mails at least); returns the dossier's id. It starts « Incomplet »."""
    now = now or utcnow()
    establishment = _establishment(session, actor, establishment_id)
    campaign = get_campaign(session, campaign_id)
    if not _may_file(establishment, campaign):
        raise PermissionDenied("Cet appel à candidatures est ouvert aux établissements (FINESS) de la région de son "
                               "ARS.")
    require_open(campaign, now)
    values = f.clean_tab(identification)
    last = session.scalar(sa.select(sa.func.max(Dossier.priority)).where(
        Dossier.campaign_id == campaign.id, Dossier.establishment_id == establishment.id))
    dossier = Dossier(campaign_id=campaign.id, establishment_id=establishment.id, created_at=now, created_by=actor.id,
                      updated_at=now, priority=(last or 0) + 1, state=DossierState.INCOMPLET.value, **values)
    session.add(dossier)
    session.flush()
    _refresh_state(session, dossier, campaign, now)
    session.flush()
    _record(session, actor, dossier, campaign, "created", now, fields=sorted(k for k, v in values.items() if v))
    return dossier.id


def _editable(session: so.Session, actor: SessionUser | None, dossier_id: int,
              now: datetime) -> tuple[SessionUser, Dossier, Campaign]:
    """The owner's dossier, locked, in a campaign still open."""
    dossier, campaign = get_dossier(session, dossier_id)
    actor = require_owner(actor, dossier.establishment_id)
    dossier, campaign = get_dossier(session, dossier_id, for_update=True)
    require_open(campaign, now)
    return actor, dossier, campaign


@dataclass(frozen=True)
class SavedTab:
    changed: list[str]  # French labels of the fields that changed (none: nothing recorded)
    state: str
    state_label: str
    missing: dict[str, list[str]]  # what the dossier still lacks, by tab


def _saved(session: so.Session, dossier: Dossier, campaign: Campaign, changed: list[str]) -> SavedTab:
    kinds = attached_kinds(session, [dossier.id])[dossier.id]
    return SavedTab(changed, dossier.state, STATE_LABELS[dossier.state],
                    f.missing_items(dossier, campaign.required_fields, campaign.required_documents, kinds))


def save_tab(session: so.Session, *, actor: SessionUser | None, dossier_id: int, tab: f.TabInput,
             now: datetime | None = None) -> SavedTab:
    """Save one tab of the owner's dossier while the campaign is open (the tab's type says which). A change takes a
    confirmed dossier back to Incomplet/Complet until it is confirmed again; an unchanged tab records nothing."""
    now = now or utcnow()
    actor, dossier, campaign = _editable(session, actor, dossier_id, now)
    values = f.clean_tab(tab)
    shares = {"hospital_time_share": dossier.hospital_time_share, "care_time_share": dossier.care_time_share}
    shares.update({k: v for k, v in values.items() if k in shares})
    touched = next((k for k in shares if k in values), None)
    if touched:
        f.check_time_shares(shares["hospital_time_share"], shares["care_time_share"], touched)
    changed = [name for name, value in values.items() if getattr(dossier, name) != value]
    if not changed:
        return _saved(session, dossier, campaign, [])
    for name in changed:
        setattr(dossier, name, values[name])
    before = _refresh_state(session, dossier, campaign, now)
    session.flush()
    _record(session, actor, dossier, campaign, "tab_saved", now, before=before, tab=tab.TAB, fields=changed)
    return _saved(session, dossier, campaign, [f.FIELDS[name].label for name in changed])


# ---------------------------------------------------------------- attachments


def _document(campaign: Campaign, kind: str) -> dict[str, str]:
    found = next((d for d in campaign.required_documents if d["code"] == kind), None)
    if found is None:
        raise ValidationError("kind", "Choisissez une des pièces demandées par l'appel à candidatures.")
    return found


def upload_attachment(session: so.Session, *, actor: SessionUser | None, dossier_id: int, kind: str, filename: str,
                      content: bytes, now: datetime | None = None) -> SavedTab:
    """Add one of the campaign's documents to the owner's dossier, or replace the one already there: a PDF only
    (checked by its content), of 5 Mo at most, without active content."""
    now = now or utcnow()
    actor, dossier, campaign = _editable(session, actor, dossier_id, now)
    document = _document(campaign, kind)
    upload = check_pdf(kind, document["label"], filename, content, field="file")
    existing = session.scalar(sa.select(DossierAttachment).where(DossierAttachment.dossier_id == dossier.id,
                                                                 DossierAttachment.kind == kind))
    values = {"filename": upload.filename, "mime": upload.mime, "size": upload.size, "sha256": upload.sha256,
              "content": upload.content, "uploaded_by": actor.id, "uploaded_at": now}
    if existing is None:
        existing = DossierAttachment(dossier_id=dossier.id, kind=kind, **values)
        session.add(existing)
        action = "attachment_added"
    else:
        for name, value in values.items():
            setattr(existing, name, value)
        action = "attachment_replaced"
    try:
        session.flush()
    except IntegrityError as error:  # the same document sent from another tab at the same instant
        raise Conflict(f"« {document['label']} » vient d'être déposé depuis un autre onglet : rechargez la page.") \
            from error
    before = _refresh_state(session, dossier, campaign, now)
    session.flush()
    _record(session, actor, dossier, campaign, action, now, before=before, entity=ATTACHMENT, entity_id=existing.id,
            kind=kind, size=upload.size)
    return _saved(session, dossier, campaign, [document["label"]])


def _attachment(session: so.Session, attachment_id: int) -> tuple[DossierAttachment, Dossier, Campaign]:
    attachment = session.get(DossierAttachment, attachment_id)
    if attachment is None:
        raise NotFound("Cette pièce n'existe pas ou plus.")
    dossier, campaign = get_dossier(session, attachment.dossier_id)
    return attachment, dossier, campaign


def delete_attachment(session: so.Session, *, actor: SessionUser | None, attachment_id: int,
                      now: datetime | None = None) -> SavedTab:
    """Delete a PDF of the owner's dossier while the campaign is open (the dossier may become incomplete)."""
    now = now or utcnow()
    attachment, dossier, _ = _attachment(session, attachment_id)
    actor, dossier, campaign = _editable(session, actor, dossier.id, now)
    kind, label = attachment.kind, next((d["label"] for d in campaign.required_documents
                                         if d["code"] == attachment.kind), attachment.kind)
    session.delete(attachment)
    session.flush()
    before = _refresh_state(session, dossier, campaign, now)
    session.flush()
    _record(session, actor, dossier, campaign, "attachment_deleted", now, before=before, entity=ATTACHMENT,
            entity_id=attachment_id, kind=kind)
    return _saved(session, dossier, campaign, [label])


@dataclass(frozen=True)
class AttachmentFile:
    content: bytes
    file_name: str
    mime: str


def attachment_file(session: so.Session, *, actor: SessionUser | None, attachment_id: int,
                    now: datetime | None = None) -> AttachmentFile:
    """A dossier's PDF, for its owning establishment or the campaign's ARS only; each download is audited."""
    now = now or utcnow()
    attachment, dossier, campaign = _attachment(session, attachment_id)
    actor = require_dossier_reader(actor, campaign, dossier)
    content = session.scalar(sa.select(DossierAttachment.content).where(DossierAttachment.id == attachment.id))
    _record(session, actor, dossier, campaign, "attachment_downloaded", now, entity=ATTACHMENT,
            entity_id=attachment.id, kind=attachment.kind)
    return AttachmentFile(content, attachment.filename, attachment.mime)


# ---------------------------------------------------------------- confirmation, deletion, priority


def confirm_dossier(session: so.Session, *, actor: SessionUser | None, dossier_id: int, commitments: Iterable[str],
                    now: datetime | None = None) -> datetime:
    """Confirm a complete dossier, every commitment (fields.COMMITMENTS) ticked; refused while it is incomplete. The
    recruiting establishment gets an acknowledgement naming the partner structure and the candidate. Returns the
    confirmation's instant."""
    now = now or utcnow()
    actor, dossier, campaign = _editable(session, actor, dossier_id, now)
    if dossier.state == DossierState.CONFIRME.value:
        raise Conflict("Ce dossier est déjà confirmé.")
    kinds = attached_kinds(session, [dossier.id])[dossier.id]
    missing = f.missing_items(dossier, campaign.required_fields, campaign.required_documents, kinds)
    if missing:
        raise ValidationError("commitments", "Le dossier est incomplet : il ne peut pas être confirmé. Il manque — "
                                             f"{f.missing_sentence(missing)}.")
    unticked = [text for code, text in f.COMMITMENTS.items() if code not in set(commitments)]
    if unticked:
        raise ValidationError("commitments", f"Cochez chacun des engagements pour confirmer le dossier ({len(unticked)} "
                                             "non coché(s)).")
    before = dossier.state
    dossier.state, dossier.confirmed_at, dossier.confirmed_by = DossierState.CONFIRME.value, now, actor.id
    session.flush()
    _record(session, actor, dossier, campaign, "confirmed", now, before=before)
    content = emails.dossier_acknowledged(campaign.title, dossier.hospital_name or "", dossier.partner_name or "",
                                          candidate_name(dossier), paris_datetime(now),
                                          paris_datetime(campaign.closes_at))
    for address in dict.fromkeys(a.lower() for a in (dossier.hospital_email, actor.email) if a):
        queue_email(session, dedup_key=f"dossier-confirmed:{dossier.id}:{now.timestamp()}:{address}", to=address,
                    content=content, now=now)
    return now


def delete_dossier(session: so.Session, *, actor: SessionUser | None, dossier_id: int,
                   now: datetime | None = None) -> str:
    """The owner deletes its dossier and its PDFs while the campaign is open; its other dossiers keep their order.
    Returns the candidate's name."""
    now = now or utcnow()
    actor, dossier, campaign = _editable(session, actor, dossier_id, now)
    name, establishment_id = candidate_name(dossier), dossier.establishment_id
    _record(session, actor, dossier, campaign, "deleted", now, before=dossier.state)
    session.execute(sa.delete(DossierAttachment).where(DossierAttachment.dossier_id == dossier.id))
    session.delete(dossier)
    session.flush()
    _renumber(session, campaign.id, establishment_id)
    return name


def _own_dossiers(session: so.Session, campaign_id: int, establishment_id: int) -> list[Dossier]:
    return list(session.scalars(sa.select(Dossier).where(
        Dossier.campaign_id == campaign_id, Dossier.establishment_id == establishment_id)
        .order_by(Dossier.priority.is_(None), Dossier.priority, Dossier.id)))


def _renumber(session: so.Session, campaign_id: int, establishment_id: int) -> None:
    for rank, dossier in enumerate(_own_dossiers(session, campaign_id, establishment_id), start=1):
        dossier.priority = rank
    session.flush()


def rank_dossiers(session: so.Session, *, actor: SessionUser | None, campaign_id: int, establishment_id: int,
                  dossier_ids: list[int], now: datetime | None = None) -> list[int]:
    """The establishment orders all its dossiers of the campaign by priority (first: 1) while it is open; the
    order is no change of content and keeps their confirmation. Returns the ids in their new order."""
    now = now or utcnow()
    require_owner(actor, establishment_id)
    campaign = get_campaign(session, campaign_id, for_update=True)
    require_open(campaign, now)
    dossiers = {d.id: d for d in _own_dossiers(session, campaign.id, establishment_id)}
    if sorted(dossier_ids) != sorted(dossiers) or len(set(dossier_ids)) != len(dossier_ids):
        raise Conflict("La liste des dossiers a changé entre-temps : rechargez la page puis classez-les de nouveau.")
    for rank, dossier_id in enumerate(dossier_ids, start=1):
        dossiers[dossier_id].priority = rank
    session.flush()
    record_event(session, actor_id=actor.id, entity="campaign", entity_id=campaign.id, action="dossiers_ranked",
                 details={"establishment_id": establishment_id, "order": list(dossier_ids)},
                 ars_code=campaign.ars_code, at=now)
    return list(dossier_ids)


# ---------------------------------------------------------------- reading


def _owner_actions(actor: SessionUser | None, dossier: Dossier, campaign: Campaign, state: str,
                   now: datetime) -> Actions:
    if not owns(actor, dossier.establishment_id):
        return NONE
    actions: set[Action] = set()
    if is_open(campaign, now):
        actions |= {Action.EDIT, Action.UPLOAD, Action.DELETE, Action.RANK}
        if state == DossierState.COMPLET.value:
            actions.add(Action.CONFIRM)
    if results_published(campaign) and dossier.decision == DossierDecision.FAVORABLE.value:
        actions.add(Action.FOLLOW_UP)
    return frozenset(actions)


def my_dossiers(session: so.Session, *, actor: SessionUser | None, campaign_id: int, establishment_id: int,
                now: datetime | None = None) -> list[dict[str, Any]]:
    """The printable recap of the establishment's dossiers in a campaign, by priority: partner, candidate,
    priority, state, what is missing, the decision once the results are published, and the actions."""
    now = now or utcnow()
    establishment = _establishment(session, actor, establishment_id)
    campaign = get_campaign(session, campaign_id)
    if campaign.ars_code != establishment.ars_code or campaign.state == CampaignState.BROUILLON.value:
        raise PermissionDenied("Cet appel à candidatures n'est pas ouvert à votre établissement.")
    dossiers = _own_dossiers(session, campaign.id, establishment.id)
    kinds = attached_kinds(session, [d.id for d in dossiers])
    return [dossier_row(d, campaign, establishment.name, kinds[d.id], now,
                        decision_visible=results_published(campaign),
                        actions=_owner_actions(actor, d, campaign, effective_state(d, campaign, now), now))
            for d in dossiers]


def dossier_detail(session: so.Session, *, actor: SessionUser | None, dossier_id: int,
                   now: datetime | None = None) -> dict[str, Any]:
    """One dossier for its owner or the campaign's ARS: its row (state, what is missing…), each tab's saved values
    (`tabs`: tab code → its input, to prefill the forms), the campaign's documents with the PDF attached to each,
    the commitments to tick, the decision (to the establishment only once the results are published) and the
    follow-up; `actions` says what the reader may do."""
    now = now or utcnow()
    dossier, campaign = get_dossier(session, dossier_id)
    actor = require_dossier_reader(actor, campaign, dossier)
    establishment = session.get(Establishment, dossier.establishment_id)
    attachments = session.execute(sa.select(
        DossierAttachment.id, DossierAttachment.kind, DossierAttachment.filename, DossierAttachment.size,
        DossierAttachment.uploaded_at).where(DossierAttachment.dossier_id == dossier.id)).mappings().all()
    by_kind = {a["kind"]: dict(a) for a in attachments}
    state = effective_state(dossier, campaign, now)
    visible = regulates_campaign(actor, campaign) or results_published(campaign)
    actions = _owner_actions(actor, dossier, campaign, state, now)
    if regulates_campaign(actor, campaign):
        actions = frozenset({Action.DECIDE}) if (is_closed(campaign, now) and not results_published(campaign)
                                                 and state == DossierState.CONFIRME.value) else NONE
    row = dossier_row(dossier, campaign, establishment.name, set(by_kind), now, decision_visible=visible,
                      actions=actions)
    can_edit = Action.EDIT in actions
    documents = [{**d, "attachment": by_kind.get(d["code"]),
                  "actions": frozenset({Action.UPLOAD} | ({Action.DELETE} if d["code"] in by_kind else set()))
                  if can_edit else NONE} for d in campaign.required_documents]
    return {
        **row, "campaign": campaign.title, "campaign_closes_at": campaign.closes_at,
        "tabs": {tab: f.tab_input(dossier, tab) for tab in f.TABS}, "tab_labels": dict(f.TABS),
        "documents": documents, "max_bytes": MAX_ATTACHMENT_BYTES,
        "commitments": dict(f.COMMITMENTS), "confirmed_at": dossier.confirmed_at,
        "decided_at": dossier.decided_at if visible else None,
        "follow_up": _follow_up(dossier, campaign) if results_published(campaign) else None,
    }


def _follow_up(dossier: Dossier, campaign: Campaign) -> dict[str, Any] | None:
    if dossier.decision != DossierDecision.FAVORABLE.value:
        return None
    return {"project_due": campaign.project_confirmation_due, "start_due": campaign.start_confirmation_due,
            "project_maintained": dossier.project_maintained, "project_answered_at": dossier.project_answered_at,
            "doctor_started_on": dossier.doctor_started_on, "start_confirmed_at": dossier.start_confirmed_at}
