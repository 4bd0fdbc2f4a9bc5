"""Figures computed in SQL (never by loading tables into pandas)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.actor import SessionUser
from db.models import Mission, MissionStatus, Professional, ProfessionalStatus, Proposal, ProposalState


@dataclass(frozen=True)
class NationalFigures:
    volunteers_available: int
    open_missions: int
    open_posts: int
    posts_filled: int


def national_figures(session: so.Session, *, actor: SessionUser | None = None) -> NationalFigures:
    """Public headline figures of the home page, for anyone signed in or not (placeholder missions of 0 people
    excluded)."""
    volunteers = session.scalar(
        sa.select(sa.func.count()).where(Professional.status == ProfessionalStatus.DISPONIBLE.value)
    )
    filled_by_mission = (
        sa.select(Proposal.mission_id, sa.func.count().label("filled"))
        .where(Proposal.state == ProposalState.AFFECTE.value)
        .group_by(Proposal.mission_id)
        .subquery()
    )
    open_missions, open_posts = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(
                sa.func.sum(Mission.count - sa.func.coalesce(filled_by_mission.c.filled, 0)), 0
            ),
        )
        .select_from(Mission)
        .outerjoin(filled_by_mission, filled_by_mission.c.mission_id == Mission.id)
        .where(Mission.status == MissionStatus.OPEN.value, Mission.count > 0)
    ).one()
    filled = session.scalar(
        sa.select(sa.func.count())
        .select_from(Proposal)
        .join(Mission, Mission.id == Proposal.mission_id)
        .where(Proposal.state == ProposalState.AFFECTE.value, Mission.count > 0)
    )
    return NationalFigures(
        volunteers_available=volunteers or 0,
        open_missions=open_missions or 0,
        open_posts=int(open_posts or 0),
        posts_filled=filled or 0,
    )
