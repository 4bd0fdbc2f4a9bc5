"""Read what the services left in the database (in an open session, or by URL: rows handed back detached)
and the files they built."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from openpyxl import load_workbook

from core.shared.actor import SessionUser, to_session_user
from core.staffing.workflow import CONTACTED_MAIL
from db import models as m
from db.session import session_scope


def events(session: so.Session, action: str) -> list[m.Event]:
    return list(session.scalars(sa.select(m.Event).where(m.Event.action == action).order_by(m.Event.id)))


def outbox(session: so.Session, *, contacts: bool = True) -> list[m.Outbox]:
    """The queued e-mails in order; without the volunteers' « vous êtes réservé(e) » notices when `contacts` is
    false (a test of what follows a contact)."""
    query = sa.select(m.Outbox).order_by(m.Outbox.id)
    if not contacts:
        query = query.where(m.Outbox.dedup_key.not_like(f"{CONTACTED_MAIL}%"))
    return list(session.scalars(query))


def proposals(session: so.Session, professional_id: int, *, states: tuple[str, ...] | None = None) -> list[m.Proposal]:
    """A volunteer's proposals, oldest first (only those in `states` if given)."""
    query = sa.select(m.Proposal).where(m.Proposal.professional_id == professional_id)
    if states is not None:
        query = query.where(m.Proposal.state.in_(states))
    return list(session.scalars(query.order_by(m.Proposal.id)))


def status_of(session: so.Session, professional_id: int) -> str:
    return session.scalar(sa.select(m.Professional.status).where(m.Professional.id == professional_id))


def count(session: so.Session, model: type[m.Base], *where: Any) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def count_at(url: str, model: type[m.Base], *where: Any) -> int:
    with session_scope(url, read_only=True) as session:
        return count(session, model, *where)


def user_at(url: str, email: str) -> SessionUser:
    """The account as a service sees its actor (whatever sessions a browser test opened or ended for it)."""
    with session_scope(url, read_only=True) as session:
        user = session.scalar(sa.select(m.User).where(sa.func.lower(m.User.email) == email.lower()))
        return to_session_user(session, user=user)


def row_at(url: str, model: type[m.Base], row_id: int) -> Any:
    """One row by id, detached: its columns stay readable after the session closes."""
    with session_scope(url, read_only=True) as session:
        row = session.get(model, row_id)
        session.expunge(row)
        return row


def proposals_at(url: str, professional_id: int, *, states: tuple[str, ...] | None = None) -> list[m.Proposal]:
    with session_scope(url, read_only=True) as session:
        rows = proposals(session, professional_id, states=states)
        session.expunge_all()
        return rows


def latest_proposal_at(url: str, mission_id: int, professional_id: int) -> m.Proposal | None:
    """The latest proposal of this volunteer for this mission (older ones may have been released)."""
    with session_scope(url, read_only=True) as session:
        proposal = session.scalar(sa.select(m.Proposal).where(
            m.Proposal.mission_id == mission_id, m.Proposal.professional_id == professional_id)
            .order_by(m.Proposal.id.desc()).limit(1))
        if proposal is not None:
            session.expunge(proposal)
        return proposal


def name_of(professional: m.Professional) -> str:
    return f"{professional.first_name} {professional.last_name}"


def events_at(url: str, action: str) -> list[m.Event]:
    """The events of one action, oldest first, detached."""
    with session_scope(url, read_only=True) as session:
        rows = events(session, action)
        session.expunge_all()
        return rows


def xlsx_rows(content: bytes, sheet: str | None = None) -> list[tuple]:
    """The values of a sheet of an .xlsx file a service built (the active sheet by default), header first."""
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return [tuple(row) for row in (workbook[sheet] if sheet else workbook.active).iter_rows(values_only=True)]
