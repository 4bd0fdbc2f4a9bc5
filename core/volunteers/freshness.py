"""Fresh volunteer data: « Toujours disponible ? » (DESIGN §2 availability_confirmed_at, §4 stale profiles).

Every `availability_confirm_days` (RENFORT_AVAILABILITY_CONFIRM_DAYS, 14 by default) without a
confirmation, the worker e-mails each available volunteer a link. The link is a random single-use
token (only its hash is stored, as for password links), valid AVAILABILITY_LINK_LIFETIME, and the
answer needs no sign-in: the token is the proof that the e-mail reached its owner. The page shows two
buttons — an e-mail scanner that merely opens the link changes nothing. « Toujours disponible »
confirms; « Mettre en pause » makes the volunteer unavailable, through the same rule as « Mon profil ».
A profile still unconfirmed after matching's STALE_AFTER_DAYS is flagged and ranked lower.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.access.tokens import issue_tokens, usable_token
from core.mail import emails
from core.mail.outbox import queue_email
from core.shared.actor import SessionUser, to_session_user
from core.shared.audit import record_event
from core.shared.clock import utcnow
from core.shared.config import get_settings
from core.shared.errors import NotFound
from core.volunteers.professionals import BUSY_STATUSES, set_available
from db.models import AccountStatus, Professional, ProfessionalStatus, Role, Token, TokenPurpose, User

AVAILABILITY_LINK_LIFETIME = timedelta(days=7)
PURPOSE = (TokenPurpose.AVAILABILITY.value,)
BATCH = 500  # volunteers e-mailed per worker pass: a national pool is worked through over a few passes


def _due(now: datetime, days: int) -> sa.Select:
    """Available volunteers unconfirmed for `days`, with an account, not asked during the last `days`."""
    since = now - timedelta(days=days)
    asked_lately = (sa.select(Token.id).where(Token.user_id == User.id, Token.purpose == PURPOSE[0],
                                              Token.created_at >= since).exists())
    return (sa.select(User.id, Professional.first_name, Professional.email)
            .join(Professional, Professional.id == User.professional_id)
            .where(User.role == Role.PROFESSIONNEL.value, User.status != AccountStatus.DISABLED.value,
                   Professional.status == ProfessionalStatus.DISPONIBLE.value,
                   Professional.availability_confirmed_at < since, ~asked_lately)
            .order_by(Professional.availability_confirmed_at, User.id).limit(BATCH))


def send_availability_checks(session: so.Session, *, now: datetime | None = None) -> int:
    """The worker's job: one « Toujours disponible ? » e-mail per due volunteer; how many were sent."""
    now = now or utcnow()
    days = get_settings().availability_confirm_days
    due = session.execute(_due(now, days)).all()
    raws = issue_tokens(session, user_ids=[row.id for row in due], purpose=PURPOSE[0], now=now,
                        lifetime=AVAILABILITY_LINK_LIFETIME)
    for row, raw in zip(due, raws, strict=True):
        link = emails.link_to(emails.AVAILABILITY_PATH, jeton=raw)
        queue_email(session, dedup_key=f"availability-check:{row.id}:{now:%Y-%m-%d}", to=row.email, now=now,
                    content=emails.availability_check(row.first_name, days, link,
                                                      AVAILABILITY_LINK_LIFETIME.days))
    return len(due)


@dataclass(frozen=True)
class AvailabilityQuestion:
    """What the link's page shows: whose link it is and where they stand."""

    first_name: str
    status: str
    confirmed_at: datetime


def _owner(session: so.Session, token: Token) -> tuple[User, Professional]:
    user = session.get(User, token.user_id)
    professional = session.get(Professional, user.professional_id) if user else None
    if professional is None or professional.status == ProfessionalStatus.SUPPRIME.value:
        raise NotFound("Cette inscription n'existe plus.")
    return user, professional


def availability_question(session: so.Session, *, actor: SessionUser | None, token: str,
                          now: datetime | None = None) -> AvailabilityQuestion:
    """The link opened: still usable? (InvalidLink says why not.) Whoever holds the link may answer."""
    _, professional = _owner(session, usable_token(session, raw=token, purposes=PURPOSE, now=now))
    return AvailabilityQuestion(professional.first_name, professional.status, professional.availability_confirmed_at)


def answer_availability_check(session: so.Session, *, actor: SessionUser | None, token: str, available: bool,
                              now: datetime | None = None) -> str:
    """« Toujours disponible » or « Mettre en pause », once per link; the new status. A volunteer reserved or
    assigned since the e-mail confirms all the same, but cannot pause (the profile's rule says why)."""
    now = now or utcnow()
    link = usable_token(session, raw=token, purposes=PURPOSE, now=now)
    user, professional = _owner(session, link)
    link.used_at = now
    before = professional.status
    if available and before in BUSY_STATUSES:
        # Reserved or assigned since the e-mail left: « Toujours disponible » still confirms, nothing to resume.
        professional.availability_confirmed_at = now
        status = before
    else:
        status = set_available(session, actor=to_session_user(session, user=user), available=available, now=now)
    if status == before:  # set_available records a change of status; a plain confirmation is recorded here
        record_event(session, actor_id=user.id, entity="professional", entity_id=professional.id,
                     action="availability_confirmed", details={"par": "lien"}, at=now)
    return status
