"""The acting user as services and pages see it."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from db.models import Membership, User


@dataclass(frozen=True)
class SessionUser:
    """What the interface needs of the signed-in user, re-read from the database on every run."""

    id: int
    email: str
    first_name: str
    last_name: str
    role: str
    ars_code: str | None
    professional_id: int | None
    establishment_ids: tuple[int, ...]
    pool_id: int | None = None  # a territorial pool's coordinator (role `pool`): the pool it runs

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


OPERATOR_ROLE = "operateur"
# Whoever runs `python -m core …` on the server: the platform's operator. Not a user row (id 0 is never
# a database id); its Events are stored with no user and « ligne de commande » as the actor.
COMMAND_LINE = SessionUser(id=0, email="", first_name="Ligne de commande", last_name="", role=OPERATOR_ROLE,
                           ars_code=None, professional_id=None, establishment_ids=())


def to_session_user(session: so.Session, *, user: User) -> SessionUser:
    establishment_ids = tuple(
        session.scalars(
            sa.select(Membership.establishment_id)
            .where(Membership.user_id == user.id)
            .order_by(Membership.establishment_id)
        )
    )
    return SessionUser(
        id=user.id,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        role=user.role,
        ars_code=user.ars_code,
        professional_id=user.professional_id,
        establishment_ids=establishment_ids,
        pool_id=user.pool_id,
    )
