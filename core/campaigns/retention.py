"""GDPR retention of application dossiers: `python -m core purge --before DATE` deletes them with their PDFs.

The date that counts is the campaign's last one, its `start_confirmation_due` (the doctor's start confirmed): a
dossier serves until its campaign's follow-up ends, whatever its state. The campaign itself stays (no personal
data), and so does the audit trail (ids and states only). Called by the purge command beside the volunteers' purge
(core.volunteers.privacy.purge_inactive).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.actor import OPERATOR_ROLE, SessionUser
from core.shared.audit import record_event
from core.shared.clock import paris_today, utcnow
from core.shared.errors import ValidationError
from core.shared.permissions import require_role
from core.shared.validation import parse_date
from db.models import Campaign, Dossier, DossierAttachment

PURGERS = ("admin", OPERATOR_ROLE)


@dataclass(frozen=True)
class DossierPurgeReport:
    before: date
    dossiers: int
    attachments: int
    dry_run: bool

    def __str__(self) -> str:
        verb = "seraient supprimés" if self.dry_run else "supprimés"
        return (f"Dossiers d'appels à candidatures dont le suivi a pris fin avant le {self.before:%d/%m/%Y} : "
                f"{self.dossiers} {verb}, avec {self.attachments} pièce(s) jointe(s).")


def purge_dossiers(session: so.Session, *, actor: SessionUser | None, before: Any, dry_run: bool = False,
                   now: datetime | None = None) -> DossierPurgeReport:
    """Delete the dossiers (and their PDFs) of the campaigns whose start confirmation date is before `before`."""
    actor = require_role(actor, *PURGERS)
    now = now or utcnow()
    cutoff = parse_date(before, "before", "date limite")
    if cutoff > paris_today(now):
        raise ValidationError("before", f"La date limite ({cutoff:%d/%m/%Y}) est dans le futur.")
    ended = sa.select(Campaign.id).where(Campaign.start_confirmation_due < cutoff)
    ids = list(session.scalars(sa.select(Dossier.id).where(Dossier.campaign_id.in_(ended)).order_by(Dossier.id)))
    attachments = session.scalar(sa.select(sa.func.count(DossierAttachment.id))
                                 .where(DossierAttachment.dossier_id.in_(ids))) if ids else 0
    if dry_run or not ids:
        return DossierPurgeReport(cutoff, len(ids), attachments or 0, dry_run)
    for start in range(0, len(ids), 900):  # IN lists of a size every SQLite accepts
        chunk = ids[start:start + 900]
        session.execute(sa.delete(DossierAttachment).where(DossierAttachment.dossier_id.in_(chunk)))
        session.execute(sa.delete(Dossier).where(Dossier.id.in_(chunk)))
    record_event(session, actor_id=actor.id, entity="database", entity_id=None, action="dossiers_purged",
                 details={"before": cutoff.isoformat(), "dossiers": len(ids), "attachments": attachments},
                 ars_code="national", at=now)
    return DossierPurgeReport(cutoff, len(ids), attachments or 0, dry_run)
