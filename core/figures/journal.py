"""« Journal »: the audit trail, read-only, with its filters (who, action, object, period, region).

Events hold ids, statuses and field names, never a personal value (DESIGN §2): the journal shows them
as they are, with the acting account's name and role (the regulators' own staff). An ARS reads the
events of its region; an event of no region (national, or older than the regions on events where its
object had none) is shown to the national roles only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.figures.exports import write_xlsx
from core.places import reference
from core.shared.actor import OPERATOR_ROLE, SessionUser
from core.shared.audit import COMMAND_LINE_LABEL, NATIONAL, record_event
from core.shared.clock import paris_midnight, utcnow
from core.shared.errors import PermissionDenied, ValidationError
from core.shared.labels import STATUS_WORDS
from core.shared.permissions import own_region, require_role
from core.shared.validation import search_text, validate_date_range
from db.models import Event, User

JOURNAL_READERS = ("admin", "ccs", "ars", OPERATOR_ROLE)
PAGE_SIZE = 50
EXPORT_LIMIT = 100_000  # one .xlsx of the journal: narrow the filters beyond this

ENTITY_LABELS = {
    "mission": "Mission", "proposal": "Proposition", "professional": "Professionnel", "user": "Compte",
    "establishment": "Établissement", "crisis_mode": "Mode crise", "outbox": "Courriel", "export": "Export",
    "database": "Base de données", "establishment_import": "Import d'établissements",
    "replica_check": "Contrôle de la réplique de lecture",
    "territorial_pool": "Plateforme territoriale", "pool_member": "Membre de plateforme territoriale",
    "pool_roster": "Vivier de plateforme territoriale",
    "campaign": "Appel à candidatures", "campaign_dossier": "Dossier de candidature",
    "dossier_attachment": "Pièce d'un dossier de candidature",
    "simulation": "Simulation de crise",
}
ACTION_LABELS = {
    "account_requested": "demande de compte", "account_validated": "compte validé", "account_rejected": "compte refusé",
    "activated": "activation", "password_reset": "nouveau mot de passe", "signed_out": "déconnexion",
    "login": "connexion", "locked": "verrouillage", "reset_requested": "mot de passe oublié",
    "created": "création", "updated": "modification", "closed": "clôture", "opened": "ouverture",
    "validated": "validation", "rejected": "refus", "registered": "inscription", "deleted": "suppression",
    "disabled": "désactivation", "enabled": "activation", "verified": "vérification",
    "contacted": "contact", "pushed": "proposition par l'ARS", "refused": "refus", "declined": "déclin", "interested": "intérêt du volontaire",
    "pool_pushed": "proposition par la plateforme territoriale", "roster_invited": "invitation au vivier",
    "roster_accepted": "invitation au vivier acceptée", "roster_declined": "invitation au vivier déclinée",
    "roster_registered": "inscription avec le code de la plateforme", "roster_left": "départ du vivier",
    "roster_removed": "retrait du vivier", "roster_released": "ouverture au vivier national",
    "released": "libération", "expired": "expiration", "assigned_on_behalf": "affectation par l'ARS",
    "assignment_cancelled": "affectation annulée", "assignment_ended": "affectation terminée", "ended": "fin",
    "availability_changed": "disponibilité modifiée", "availability_confirmed": "disponibilité confirmée",
    "profile_updated": "profil modifié", "data_exported": "téléchargement de ses données",
    "too_far_forgotten": "« trop loin » retiré",
    "purged": "anonymisation (inactivité)", "purge": "purge des volontaires inactifs",
    "document_replaced": "justificatif remplacé", "made_unavailable": "rendu indisponible",
    "priority_set": "priorité manuelle", "ccs_alerted": "alerte au CCS", "pools_opened": "viviers nationaux ouverts",
    "alert_closed": "alerte close", "status_refreshed": "statut recalculé", "requeued": "courriel remis en file",
    "marked_sent": "courriel marqué envoyé",
    "archived": "archivage", "restored": "désarchivage", "exported": "export de données", "journal": "export du journal",
    "document_downloaded": "justificatif téléchargé", "imported": "import d'établissements",
    "account_created": "compte créé", "account_disabled": "compte désactivé", "account_enabled": "compte réactivé",
    "account_unlocked": "compte déverrouillé", "link_sent": "lien envoyé",
    "establishment_attached": "établissement rattaché", "establishment_detached": "établissement détaché",
    "seed": "jeu de données", "assigned_staff": "export des affectés",
    "affecte": "affectation", "refuse": "refus", "libere": "libération", "annule": "annulation",
    "decline": "déclin", "contacte": "contact", "en_cours": "proposition", "termine": "terminée",
    "project_updated": "suivi du projet modifié", "member_added": "établissement ajouté à la plateforme",
    "member_removed": "établissement retiré de la plateforme", "join_requested": "demande d'adhésion",
    "join_accepted": "adhésion acceptée", "join_refused": "adhésion refusée",
    "finess_category_declared": "catégorie FINESS déclarée", "finess_category_corrected": "catégorie FINESS corrigée",
    "published": "publication", "results_published": "publication des résultats",
    "dossiers_ranked": "dossiers classés par priorité", "tab_saved": "onglet du dossier enregistré",
    "attachment_added": "pièce déposée", "attachment_replaced": "pièce remplacée", "attachment_deleted": "pièce supprimée",
    "attachment_downloaded": "pièce téléchargée", "confirmed": "dossier confirmé", "decided": "décision du jury",
    "non_recevable": "dossier non recevable à la clôture", "project_confirmed": "maintien du projet confirmé",
    "start_confirmed": "prise de poste confirmée", "reminded": "rappel de suivi",
    "dossiers_purged": "purge des dossiers de candidature",
    # python -m ops.replica_check, on the throwaway primary it builds: the writes it times, the one it must refuse.
    "write": "écriture de contrôle", "forbidden": "écriture refusée (réplique)",
    "simulation_started": "simulation de crise lancée",
}
COLUMNS = ("Date", "Acteur", "Rôle", "Action", "Objet", "N°", "Avant", "Après", "Région", "Détails")


@dataclass(frozen=True)
class JournalFilters:
    who: str = ""  # part of the acting account's e-mail or name
    action: str = ""
    entity: str = ""
    start: date | None = None
    end: date | None = None
    ars_code: str = ""


@dataclass(frozen=True)
class JournalPage:
    rows: list[dict[str, Any]]
    total: int


def _scope(actor: SessionUser, filters: JournalFilters) -> list[sa.ColumnElement]:
    """Who sees which events, then the filters (the region filter cannot widen an ARS's view)."""
    conditions: list[sa.ColumnElement] = []
    region = own_region(actor)
    if region is not None:
        if filters.ars_code and filters.ars_code != region:
            raise PermissionDenied("Le journal d'une autre région relève de son ARS.")
        conditions.append(Event.ars_code == region)
    elif filters.ars_code == NATIONAL:
        conditions.append(Event.ars_code.is_(None))
    elif filters.ars_code:
        conditions.append(Event.ars_code == filters.ars_code)
    if filters.action:
        conditions.append(Event.action == filters.action)
    if filters.entity:
        conditions.append(Event.entity == filters.entity)
    if filters.start is not None or filters.end is not None:
        start, end = validate_date_range(filters.start, filters.end, start_field="journal_from",
                                         end_field="journal_to")
        conditions.append(Event.at >= paris_midnight(start))
        conditions.append(Event.at < paris_midnight(end + timedelta(days=1)))
    who = search_text(filters.who)
    if who:
        pattern = f"%{who.lower()}%"
        conditions.append(Event.actor_user_id.in_(sa.select(User.id).where(sa.or_(
            sa.func.lower(User.email).like(pattern), sa.func.lower(User.last_name).like(pattern)))))
    return conditions


def _actor_name(user: User | None, details: dict[str, Any]) -> str:
    if user is not None:
        return f"{user.first_name} {user.last_name}"
    return COMMAND_LINE_LABEL if details.get("acteur") == COMMAND_LINE_LABEL else "Système"


def _row(event: Event, user: User | None, regions: dict[str, str]) -> dict[str, Any]:
    details = dict(event.details or {})
    actor = _actor_name(user, details)
    details.pop("acteur", None)
    return {"id": event.id, "at": event.at, "actor": actor, "role": user.role if user else "",
            "action": event.action, "action_label": ACTION_LABELS.get(event.action, event.action),
            "entity": event.entity, "entity_label": ENTITY_LABELS.get(event.entity, event.entity),
            "entity_id": event.entity_id, "before": STATUS_WORDS.get(event.before or "", event.before),
            "after": STATUS_WORDS.get(event.after or "", event.after),
            "region": regions.get(event.ars_code or "", "National"),
            "details": json.dumps(details, ensure_ascii=False, sort_keys=True, default=str) if details else ""}


def _query(actor: SessionUser, filters: JournalFilters) -> sa.Select:
    return (sa.select(Event, User).outerjoin(User, User.id == Event.actor_user_id)
            .where(*_scope(actor, filters)).order_by(Event.at.desc(), Event.id.desc()))


def journal(session: so.Session, *, actor: SessionUser | None, filters: JournalFilters = JournalFilters(),
            offset: int = 0, limit: int = PAGE_SIZE) -> JournalPage:
    """One page of events, the most recent first, and how many match."""
    actor = require_role(actor, *JOURNAL_READERS)
    total = session.scalar(sa.select(sa.func.count(Event.id)).where(*_scope(actor, filters))) or 0
    regions = reference.ars_names()
    rows = [_row(event, user, regions)
            for event, user in session.execute(_query(actor, filters).offset(max(0, offset)).limit(limit))]
    return JournalPage(rows, total)


def journal_choices() -> dict[str, dict[str, str]]:
    """The values the action and object filters offer, with their French labels."""
    return {"actions": dict(sorted(ACTION_LABELS.items(), key=lambda item: item[1])), "entities": ENTITY_LABELS}


def export_journal(session: so.Session, *, actor: SessionUser | None, filters: JournalFilters,
                   now: datetime | None = None) -> bytes:
    """Every matching event as an .xlsx (at most EXPORT_LIMIT rows); the export is an event too."""
    actor = require_role(actor, *JOURNAL_READERS)
    total = session.scalar(sa.select(sa.func.count(Event.id)).where(*_scope(actor, filters))) or 0
    if total > EXPORT_LIMIT:
        raise ValidationError("journal_from", f"{total:,} événements correspondent : resserrez la période ou les "
                                              f"filtres ({EXPORT_LIMIT:,} au plus par export).".replace(",", " "))
    regions = reference.ars_names()
    rows = []
    for event, user in session.execute(_query(actor, filters)):
        row = _row(event, user, regions)
        rows.append((row["at"], row["actor"], row["role"], row["action_label"], row["entity_label"], row["entity_id"],
                     row["before"], row["after"], row["region"], row["details"]))
    record_event(session, actor_id=actor.id, entity="export", entity_id=None, action="journal",
                 details={"rows": len(rows), "filters": _filter_names(filters)},
                 ars_code=own_region(actor) or filters.ars_code or NATIONAL, at=now or utcnow())
    return write_xlsx("Journal", COLUMNS, rows)


def _filter_names(filters: JournalFilters) -> dict[str, Any]:
    """The filters of an export as the event keeps them: values, except who was searched (a name)."""
    return {"qui": bool(filters.who.strip()), "action": filters.action, "objet": filters.entity,
            "du": filters.start.isoformat() if filters.start else None,
            "au": filters.end.isoformat() if filters.end else None, "region": filters.ars_code}
