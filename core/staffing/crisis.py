"""Crisis-management mode: while on for a region (all professions or chosen ones), the ARS
proposes the candidates and establishments no longer pick them themselves (DESIGN §3, §6)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.clock import utcnow
from db.models import CrisisMode


def crisis_active(session: so.Session, *, ars_code: str, profession_code: str,
                  now: datetime | None = None) -> bool:
    """Is crisis mode on for this region and this profession (or for every profession)?"""
    now = now or utcnow()
    return bool(session.scalar(
        sa.select(sa.func.count()).select_from(CrisisMode).where(
            CrisisMode.ars_code == ars_code,
            CrisisMode.enabled_at <= now,
            CrisisMode.disabled_at.is_(None),
            sa.or_(CrisisMode.profession_code.is_(None), CrisisMode.profession_code == profession_code),
        )
    ))
