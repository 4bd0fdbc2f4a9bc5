"""Personal-data lifecycle (GDPR): a volunteer downloads all their data; inactive volunteers are purged.

Purge: `python -m core purge --before DATE [--dry-run]` anonymises the volunteers with no activity since
DATE — activity is the last sign-in, the last solicitation (created or decided), the last profile change
or confirmation of availability, the registration — and never anyone with a live proposal. The erasure
is the volunteer's own « Supprimer mes données » (core.volunteers.professionals.erase_professional):
names, contact, documents gone; department, profession, statistics and the audit trail kept.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.places import reference
from core.shared.actor import OPERATOR_ROLE, SessionUser
from core.shared.audit import record_event
from core.shared.clock import paris_midnight, paris_today, utcnow
from core.shared.errors import PermissionDenied, ValidationError
from core.shared.labels import PROPOSAL_STATE
from core.shared.permissions import require_role
from core.shared.sqlfunc import greatest
from core.shared.validation import parse_date
from core.volunteers.professionals import erase_professional
from db.models import (
    Document,
    Establishment,
    Mission,
    PoolRosterEntry,
    Professional,
    ProfessionalStatus,
    Proposal,
    ProposalState,
    TerritorialPool,
    User,
)

PURGERS = ("admin", OPERATOR_ROLE)
LIVE_STATES = (ProposalState.EN_COURS.value, ProposalState.CONTACTE.value, ProposalState.AFFECTE.value)
PROFILE_FIELDS = ("first_name", "last_name", "email", "phone", "postal_code", "city", "department_code",
                  "profession_code", "specialty", "activity_type", "id_type", "id_number", "has_vehicle",
                  "available_week", "available_weekend", "available_from", "available_to", "mobility", "exp_ehpad",
                  "exp_reanimation", "exp_vaccination", "volunteer_vaccination", "message", "verified", "status",
                  "consent_at", "availability_confirmed_at", "too_far_dm", "created_at")


# ---------------------------------------------------------------- « Télécharger mes données »


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _own(session: so.Session, actor: SessionUser | None) -> tuple[User, Professional]:
    actor = require_role(actor, "professionnel")
    professional = session.get(Professional, actor.professional_id) if actor.professional_id else None
    if professional is None or professional.status == ProfessionalStatus.SUPPRIME.value:
        raise PermissionDenied("Ces données ne sont plus enregistrées.")
    return session.get(User, actor.id), professional


def _solicitations(session: so.Session, professional_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.select(Proposal.created_at, Proposal.decided_at, Proposal.state, Proposal.origin, Proposal.reason,
                  Mission.profession_code, Mission.start_date, Mission.end_date,
                  Establishment.name.label("establishment"), Establishment.city)
        .join(Mission, Mission.id == Proposal.mission_id).join(Establishment, Establishment.id == Mission.establishment_id)
        .where(Proposal.professional_id == professional_id).order_by(Proposal.created_at)
    ).mappings()
    labels = reference.profession_labels()
    return [{**{key: _json_value(value) for key, value in row.items()}, "profession": labels[row["profession_code"]],
             "etat": PROPOSAL_STATE.get(row["state"], row["state"])} for row in rows]


def my_data_archive(session: so.Session, *, actor: SessionUser | None, now: datetime | None = None) -> bytes:
    """Everything the platform holds on the volunteer: mes-donnees.json and the documents, in a .zip."""
    user, professional = _own(session, actor)
    documents = session.scalars(sa.select(Document).where(Document.professional_id == professional.id)
                                .options(so.undefer(Document.content)).order_by(Document.id)).all()
    data = {
        "exporte_le": _json_value(now or utcnow()),
        "profil": {name: _json_value(getattr(professional, name)) for name in PROFILE_FIELDS},
        "compte": {"courriel": user.email, "cree_le": _json_value(user.created_at),
                   "derniere_connexion": _json_value(user.last_login_at), "statut": user.status},
        "sollicitations": _solicitations(session, professional.id),
        "plateformes_territoriales": _pools(session, professional.id),
        "justificatifs": [{"type": d.kind, "fichier": f"justificatifs/{d.id}-{d.filename}", "taille": d.size,
                           "sha256": d.sha256} for d in documents],
    }
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mes-donnees.json", json.dumps(data, ensure_ascii=False, indent=2))
        for document in documents:
            archive.writestr(f"justificatifs/{document.id}-{document.filename}", document.content)
    record_event(session, actor_id=actor.id, entity="professional", entity_id=professional.id,
                 action="data_exported", details={"documents": len(documents)}, at=now or utcnow())
    return output.getvalue()


ROSTER_STATES = {"invite": "invité(e)", "membre": "membre", "decline": "invitation déclinée", "retire": "parti(e)"}


def _pools(session: so.Session, professional_id: int) -> list[dict[str, Any]]:
    """The volunteer's places on territorial pools' rosters (issue 14), read from the pool tables (core.volunteers
    knows no pool service)."""
    rows = session.execute(
        sa.select(TerritorialPool.name, PoolRosterEntry.state, PoolRosterEntry.origin, PoolRosterEntry.pool_only,
                  PoolRosterEntry.created_at, PoolRosterEntry.answered_at, PoolRosterEntry.released_at)
        .join(TerritorialPool, TerritorialPool.id == PoolRosterEntry.pool_id)
        .where(PoolRosterEntry.professional_id == professional_id).order_by(PoolRosterEntry.id))
    return [{"plateforme": name, "etat": ROSTER_STATES[state],
             "origine": "inscription avec le code" if origin == "inscription" else "invitation",
             "plateforme_seulement": bool(pool_only and released is None), "depuis_le": _json_value(created),
             "reponse_le": _json_value(answered), "ouvert_au_vivier_national_le": _json_value(released)}
            for name, state, origin, pool_only, created, answered, released in rows]


# ---------------------------------------------------------------- purge of inactive volunteers


@dataclass(frozen=True)
class PurgeReport:
    before: date
    inactive: int  # volunteers without activity since `before`
    kept_live: int  # of those, kept because a proposal of theirs is live
    purged: int  # anonymised (0 in a dry run)
    dry_run: bool

    def __str__(self) -> str:
        verb = "seraient anonymisés" if self.dry_run else "anonymisés"
        return (f"Volontaires sans activité depuis le {self.before:%d/%m/%Y} : {self.inactive} ; gardés car une "
                f"sollicitation est en cours : {self.kept_live} ; {verb} : "
                f"{self.inactive - self.kept_live if self.dry_run else self.purged}.")


def last_activity() -> sa.ColumnElement[datetime]:
    """A volunteer's last activity: sign-in, solicitation, profile change or confirmation, registration."""
    proposals = (sa.select(sa.func.max(sa.func.coalesce(Proposal.decided_at, Proposal.created_at)))
                 .where(Proposal.professional_id == Professional.id).scalar_subquery())
    signed_in = (sa.select(sa.func.max(User.last_login_at)).where(User.professional_id == Professional.id)
                 .scalar_subquery())
    # SQLite's max() of a NULL is NULL: each part falls back on the registration.
    return greatest(Professional.created_at, Professional.availability_confirmed_at,
                    sa.func.coalesce(proposals, Professional.created_at),
                    sa.func.coalesce(signed_in, Professional.created_at))


def _live() -> sa.ColumnElement[bool]:
    return sa.or_(Professional.status.in_(LIVE_STATES),
                  sa.select(Proposal.id).where(Proposal.professional_id == Professional.id,
                                               Proposal.state.in_(LIVE_STATES)).exists())


def purge_inactive(session: so.Session, *, actor: SessionUser | None, before: Any, dry_run: bool = False,
                   now: datetime | None = None) -> PurgeReport:
    actor = require_role(actor, *PURGERS)
    now = now or utcnow()
    cutoff = parse_date(before, "before", "date limite")
    if cutoff > paris_today(now):
        raise ValidationError("before", f"La date limite ({cutoff:%d/%m/%Y}) est dans le futur.")
    inactive = [Professional.status != ProfessionalStatus.SUPPRIME.value, last_activity() < paris_midnight(cutoff)]
    total = session.scalar(sa.select(sa.func.count(Professional.id)).where(*inactive)) or 0
    kept = session.scalar(sa.select(sa.func.count(Professional.id)).where(*inactive, _live())) or 0
    if dry_run:  # counts only: nothing written, not even an event
        return PurgeReport(cutoff, total, kept, 0, dry_run)
    purged = 0
    for professional in session.scalars(sa.select(Professional).where(*inactive, ~_live())
                                        .order_by(Professional.id).with_for_update()):
        erase_professional(session, professional=professional, actor_id=actor.id, action="purged", now=now)
        purged += 1
    record_event(session, actor_id=actor.id, entity="database", entity_id=None, action="purge",
                 details={"before": cutoff.isoformat(), "inactive": total, "kept_live": kept, "purged": purged},
                 ars_code="national", at=now)
    return PurgeReport(cutoff, total, kept, purged, dry_run)
