"""Audit trail: one Event per state change, written in the action's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy.orm as so

from core.shared.clock import utcnow
from db.models import Event


def record_event(
    session: so.Session,
    *,
    actor_id: int | None,
    entity: str,
    entity_id: Any,
    action: str,
    before: str | None = None,
    after: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Event:
    """Ids, statuses and field names only: never a personal value (see DESIGN §2 on Event)."""
    event = Event(
        at=at or utcnow(),
        actor_user_id=actor_id,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        action=action,
        before=before,
        after=after,
        details=details,
    )
    session.add(event)
    return event
