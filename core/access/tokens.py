"""Single-use links (activation, password reset): 72 hours, only a hash stored."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.clock import utcnow
from core.shared.errors import DomainError
from core.shared.security import new_token, token_hash
from db.models import Token, TokenPurpose, User

TOKEN_LIFETIME = timedelta(hours=72)
PASSWORD_PURPOSES = (TokenPurpose.ACTIVATION.value, TokenPurpose.RESET.value)


class InvalidLink(DomainError):
    """The link cannot be used; `can_renew` tells the page to offer a fresh one."""

    def __init__(self, message: str, *, can_renew: bool = True):
        super().__init__(message)
        self.can_renew = can_renew


def issue_token(session: so.Session, *, user: User, purpose: str, now: datetime | None = None,
                lifetime: timedelta = TOKEN_LIFETIME) -> str:
    """A new link for this user; the user's earlier links of the same kind stop working."""
    return issue_tokens(session, user_ids=[user.id], purpose=purpose, now=now, lifetime=lifetime)[0]


def issue_tokens(session: so.Session, *, user_ids: list[int], purpose: str, now: datetime | None = None,
                 lifetime: timedelta = TOKEN_LIFETIME) -> list[str]:
    """A new link for each of these users, in two statements whatever their number (a bulk import creates
    thousands); their earlier links of the same kind (both password kinds count as one) stop working."""
    now = now or utcnow()
    purposes = PASSWORD_PURPOSES if purpose in PASSWORD_PURPOSES else (purpose,)
    session.execute(
        sa.update(Token)
        .where(Token.user_id.in_(user_ids), Token.purpose.in_(purposes),
               Token.used_at.is_(None), Token.cancelled_at.is_(None))
        .values(cancelled_at=now)
    )
    raws = [new_token() for _ in user_ids]
    if raws:
        session.execute(sa.insert(Token), [
            {"user_id": user_id, "purpose": purpose, "token_hash": token_hash(raw), "created_at": now,
             "expires_at": now + lifetime}
            for user_id, raw in zip(user_ids, raws, strict=True)
        ])
    return raws


def usable_token(session: so.Session, *, raw: str, purposes: tuple[str, ...],
                 now: datetime | None = None) -> Token:
    """The token behind a link if it can still be used; InvalidLink says why not."""
    now = now or utcnow()
    token = session.scalar(
        sa.select(Token).where(Token.token_hash == token_hash((raw or "").strip())).with_for_update()
    )
    if token is None or token.purpose not in purposes:
        raise InvalidLink("Ce lien n'est pas valable. Vérifiez que vous avez copié l'adresse en entier.")
    if token.used_at is not None:
        if token.purpose not in PASSWORD_PURPOSES:
            raise InvalidLink("Ce lien a déjà été utilisé : votre réponse est enregistrée.", can_renew=False)
        raise InvalidLink("Ce lien a déjà été utilisé. Si vous n'avez pas encore choisi votre mot de passe, demandez-en un nouveau.")
    if token.cancelled_at is not None:
        raise InvalidLink("Ce lien a été remplacé par un lien plus récent : utilisez le dernier courriel reçu.")
    if token.expires_at <= now:
        lifetime = token.expires_at - token.created_at
        valid_for = f"{lifetime.days} jours" if lifetime >= timedelta(days=7) else \
            f"{round(lifetime.total_seconds() / 3600)} heures"
        raise InvalidLink(f"Ce lien a expiré (il est valable {valid_for}). Demandez-en un nouveau ci-dessous.")
    return token


def consume_token(session: so.Session, *, raw: str, purposes: tuple[str, ...],
                  now: datetime | None = None) -> User:
    """The user behind a valid link, which is marked used (single use)."""
    now = now or utcnow()
    token = usable_token(session, raw=raw, purposes=purposes, now=now)
    token.used_at = now
    return session.get(User, token.user_id)
