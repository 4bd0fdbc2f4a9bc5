"""Outbox: e-mails are rows written in the transaction of their cause, sent later by the worker.

An SMTP outage loses nothing (rows stay pending and are retried with back-off) and a restart never
sends twice: before talking to SMTP a worker claims the row (pending → sending) with a conditional
UPDATE committed on its own, then marks it sent, or puts it back to pending on an SMTP error. A crash
between the claim and that last write (the server may have accepted the message) leaves the row in
'sending': it is never resent automatically; the admin page shows it « envoi interrompu — à vérifier »,
and once the admin has asked the recipient, `requeue_interrupted` sends it again or
`mark_interrupted_as_sent` records that it arrived. The claim also keeps two workers from sending the same row.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import sqlalchemy as sa
import sqlalchemy.orm as so
import yagmail

from core.mail.emails import EmailContent
from core.shared.actor import SessionUser
from core.shared.audit import record_event
from core.shared.clock import utcnow
from core.shared.config import Settings, get_settings
from core.shared.errors import Conflict, NotFound
from core.shared.permissions import require_role
from core.shared.validation import search_text
from db.models import Outbox, OutboxStatus
from db.session import session_scope

BACKOFF_MINUTES = (1, 5, 15, 60, 240, 720)  # then every 24 hours, never dropped
SENDER_NAME = "Renfort RH"
# A claim older than this is an interrupted send (SMTP operations time out after 15 s): before, it may
# still be in progress and must not be requeued.
INTERRUPTED_AFTER = timedelta(minutes=5)
INTERRUPTED_LABEL = "envoi interrompu — à vérifier"
PENDING = OutboxStatus.PENDING.value
SENDING = OutboxStatus.SENDING.value
SENT = OutboxStatus.SENT.value


def queue_email(session: so.Session, *, dedup_key: str, to: str, content: EmailContent,
                now: datetime | None = None) -> Outbox | None:
    """Add an e-mail to the outbox unless one with the same dedup key already exists."""
    if session.scalar(sa.select(Outbox.id).where(Outbox.dedup_key == dedup_key)) is not None:
        return None
    row = Outbox(**_outbox_values(dedup_key, to, content, now or utcnow()))
    session.add(row)
    session.flush()
    return row


def queue_emails(session: so.Session, *, messages: list[tuple[str, str, EmailContent]],
                 now: datetime | None = None) -> int:
    """Many e-mails (dedup key, recipient, content) in a few statements, for a bulk import; those whose dedup
    key exists already are left out. Returns how many were queued."""
    now = now or utcnow()
    keys = [key for key, _, _ in messages]
    known: set[str] = set()
    for start in range(0, len(keys), 900):  # IN lists of a size every SQLite accepts
        known.update(session.scalars(sa.select(Outbox.dedup_key).where(Outbox.dedup_key.in_(keys[start:start + 900]))))
    rows = []
    for key, to, content in messages:
        if key not in known:
            known.add(key)
            rows.append(_outbox_values(key, to, content, now))
    if rows:
        session.execute(sa.insert(Outbox), rows)
    return len(rows)


def _outbox_values(dedup_key: str, to: str, content: EmailContent, now: datetime) -> dict:
    return {"dedup_key": dedup_key, "to": to, "subject": content.subject, "body_text": content.text,
            "body_html": content.html, "created_at": now, "next_attempt_at": now, "attempts": 0}


def forget_recipient(session: so.Session, *, email: str, anonymous: str) -> None:
    """GDPR erasure: unsent messages to this address are dropped, sent ones keep only their subject."""
    address = sa.func.lower(Outbox.to) == email.lower()
    session.execute(sa.delete(Outbox).where(address, Outbox.status != SENT))
    session.execute(sa.update(Outbox).where(address).values(
        to=anonymous, body_text="[contenu supprimé à la demande du destinataire]",
        body_html="<p>[contenu supprimé à la demande du destinataire]</p>"))


def next_attempt(attempts: int, now: datetime) -> datetime:
    minutes = BACKOFF_MINUTES[attempts - 1] if attempts <= len(BACKOFF_MINUTES) else 24 * 60
    return now + timedelta(minutes=minutes)


def build_message(row: Outbox, mail_from: str, at: datetime | None = None) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = row.subject
    message["From"] = formataddr((SENDER_NAME, mail_from))
    message["To"] = row.to
    # RFC 5322 requires a Date field; yagmail adds one to its own messages, not to ours.
    message["Date"] = format_datetime(at or row.sent_at or utcnow())
    domain = mail_from.rsplit("@", 1)[-1]
    # A stable Message-ID: should a message ever be sent twice, mail clients show it once.
    # The dedup key's hash makes it unique even if ids are reused (database reset, staging and production).
    digest = hashlib.sha1(row.dedup_key.encode("utf-8")).hexdigest()[:12]
    message["Message-ID"] = f"<outbox-{row.id}-{digest}@{domain}>"
    message.set_content(row.body_text)
    message.add_alternative(row.body_html, subtype="html")
    return message


class SmtpMailer:
    """yagmail opens the connection (STARTTLS, login or not); we send our own MIME message so that
    the plain-text part stays plain text and every SMTP error reaches the retry logic."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.client = yagmail.SMTP(
            user=settings.smtp_user or settings.mail_from,
            password=settings.smtp_password,
            host=settings.smtp_host,
            port=settings.smtp_port,
            smtp_starttls=settings.smtp_starttls,
            smtp_ssl=False,
            smtp_skip_login=not settings.smtp_user,
            soft_email_validation=False,
            timeout=15,
        )

    def __enter__(self) -> SmtpMailer:
        self.client.login()
        return self

    def send(self, message: EmailMessage) -> None:
        refused = self.client.smtp.send_message(message)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            self.client.close()


@dataclass(frozen=True)
class SendReport:
    sent: int
    failed: int
    waiting: int
    note: str = ""
    interrupted: int = 0  # left in 'sending' by a crash: never resent automatically

    def __str__(self) -> str:
        text = f"Courriels envoyés : {self.sent}, en échec : {self.failed}, en attente : {self.waiting}."
        if self.interrupted:
            text += (f" Envois interrompus à vérifier : {self.interrupted} (page « Courriels » : à remettre en"
                     " file ou à marquer comme envoyés à la main).")
        return f"{text} {self.note}".strip()


def _due_ids(url: str | None, now: datetime, limit: int) -> list[int]:
    with session_scope(url, read_only=True) as session:
        return list(session.scalars(
            sa.select(Outbox.id)
            .where(Outbox.status == PENDING, Outbox.next_attempt_at <= now)
            .order_by(Outbox.next_attempt_at, Outbox.id)
            .limit(limit)
        ))


def _counts(url: str | None, now: datetime) -> tuple[int, int]:
    """Rows waiting to be sent, and rows whose send was interrupted."""
    with session_scope(url, read_only=True) as session:
        waiting = session.scalar(sa.select(sa.func.count()).where(Outbox.status == PENDING)) or 0
        interrupted = session.scalar(sa.select(sa.func.count()).where(
            Outbox.status == SENDING, Outbox.claimed_at <= now - INTERRUPTED_AFTER)) or 0
    return waiting, interrupted


def _report(url: str | None, now: datetime, sent: int, failed: int, note: str = "") -> SendReport:
    waiting, interrupted = _counts(url, now)
    return SendReport(sent, failed, waiting, note, interrupted)


def _record_failure(url: str | None, ids: list[int], error: str, now: datetime) -> None:
    """No connection to the server: the rows (not claimed) wait for the next attempt."""
    with session_scope(url) as session:
        for row in session.scalars(sa.select(Outbox).where(Outbox.id.in_(ids), Outbox.status == PENDING)):
            row.attempts += 1
            row.last_error = error[:500]
            row.next_attempt_at = next_attempt(row.attempts, now)


def claim(url: str | None, outbox_id: int, mail_from: str, now: datetime) -> EmailMessage | None:
    """Take a due row for sending (committed before any SMTP exchange); None if another worker has it,
    it was sent, or it is no longer due."""
    with session_scope(url) as session:
        taken = session.execute(
            sa.update(Outbox)
            .where(Outbox.id == outbox_id, Outbox.status == PENDING, Outbox.next_attempt_at <= now)
            .values(status=SENDING, claimed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            return None
        return build_message(session.get(Outbox, outbox_id), mail_from, at=now)


def _mark_sent(url: str | None, outbox_id: int, now: datetime) -> None:
    with session_scope(url) as session:
        session.execute(
            sa.update(Outbox).where(Outbox.id == outbox_id, Outbox.status == SENDING)
            .values(status=SENT, sent_at=now, attempts=Outbox.attempts + 1, last_error=None)
            .execution_options(synchronize_session=False)
        )


def _release(url: str | None, outbox_id: int, error: str, now: datetime) -> None:
    """The server refused or failed: back to pending, retried after the back-off."""
    with session_scope(url) as session:
        row = session.get(Outbox, outbox_id, with_for_update=True)
        if row is None or row.status != SENDING:
            return
        row.status = PENDING
        row.claimed_at = None
        row.attempts += 1
        row.last_error = error[:500]
        row.next_attempt_at = next_attempt(row.attempts, now)


def _send_one(url: str | None, mailer: SmtpMailer, outbox_id: int, mail_from: str, now: datetime) -> bool | None:
    """True if sent, False if the server failed, None if the row was not ours to send.

    No write lock is held while the SMTP server answers (on SQLite a slow server would otherwise block
    every action of the app): the claim and the outcome are two short transactions."""
    message = claim(url, outbox_id, mail_from, now)
    if message is None:
        return None
    try:
        mailer.send(message)
    except (OSError, smtplib.SMTPException) as error:
        _release(url, outbox_id, f"{type(error).__name__}: {error}", now)
        return False
    _mark_sent(url, outbox_id, now)
    return True


def send_pending(url: str | None = None, *, now: datetime | None = None,
                 mailer_factory: Callable[[], SmtpMailer] | None = None, limit: int = 200) -> SendReport:
    """Send the due e-mails once; without SMTP settings nothing leaves the outbox."""
    settings = get_settings()
    now = now or utcnow()
    if mailer_factory is None:
        if not settings.smtp_configured:
            return _report(url, now, 0, 0, "SMTP non configuré : les courriels restent dans la page « Courriels ».")
        mailer_factory = lambda: SmtpMailer(settings)  # noqa: E731
    ids = _due_ids(url, now, limit)
    if not ids:
        return _report(url, now, 0, 0)
    try:
        mailer = mailer_factory().__enter__()
    except (OSError, smtplib.SMTPException) as error:
        _record_failure(url, ids, f"Connexion SMTP impossible — {type(error).__name__}: {error}", now)
        return _report(url, now, 0, len(ids), "Serveur SMTP injoignable : nouvel essai plus tard.")
    outcomes = []
    try:
        for outbox_id in ids:
            outcomes.append(_send_one(url, mailer, outbox_id, settings.mail_from, now))
    finally:
        mailer.__exit__(None, None, None)
    return _report(url, now, outcomes.count(True), outcomes.count(False))


def is_interrupted(row: Outbox, now: datetime | None = None) -> bool:
    """Claimed by a worker that never reported back: the recipient may or may not have it."""
    return row.status == SENDING and row.claimed_at is not None and row.claimed_at <= (now or utcnow()) - INTERRUPTED_AFTER


def outbox_status(row: Outbox, now: datetime | None = None) -> str:
    if row.status == SENT:
        return "envoyé"
    if row.status == SENDING:
        return INTERRUPTED_LABEL if is_interrupted(row, now) else "envoi en cours"
    return "en échec, nouvel essai prévu" if row.attempts else "en attente"


@dataclass(frozen=True)
class OutboxPage:
    rows: list[dict]
    total: int


def list_outbox(session: so.Session, *, actor: SessionUser | None, search: str = "",
                offset: int = 0, limit: int = 50, now: datetime | None = None) -> OutboxPage:
    """The admin's view of the outbox, newest first, filtered on recipient or subject."""
    require_role(actor, "admin")
    now = now or utcnow()
    query = sa.select(Outbox.id, Outbox.to, Outbox.subject, Outbox.created_at, Outbox.sent_at,
                      Outbox.attempts, Outbox.last_error, Outbox.status, Outbox.claimed_at)
    search = search_text(search)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(sa.or_(sa.func.lower(Outbox.to).like(pattern), sa.func.lower(Outbox.subject).like(pattern)))
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = []
    for row in session.execute(query.order_by(Outbox.id.desc()).offset(offset).limit(limit)):
        rows.append({
            "id": row.id, "to": row.to, "subject": row.subject, "created_at": row.created_at,
            "sent_at": row.sent_at, "attempts": row.attempts, "last_error": row.last_error,
            "status": outbox_status(row, now), "interrupted": is_interrupted(row, now),
        })
    return OutboxPage(rows=rows, total=total)


def get_outbox_message(session: so.Session, *, actor: SessionUser | None, outbox_id: int) -> Outbox:
    require_role(actor, "admin")
    row = session.get(Outbox, outbox_id)
    if row is None:
        raise NotFound("Ce courriel n'existe pas.")
    return row


def _interrupted_row(session: so.Session, outbox_id: int, now: datetime, what: str) -> Outbox:
    """The row of an interrupted send, locked; `what` the admin wants to do with it, for the refusals."""
    row = session.get(Outbox, outbox_id, with_for_update=True)
    if row is None:
        raise NotFound("Ce courriel n'existe pas.")
    if row.status != SENDING:
        raise Conflict(f"Ce courriel n'a pas d'envoi interrompu : il n'y a rien à {what}.")
    if not is_interrupted(row, now):
        # The worker may still be talking to the server: it will record the outcome itself.
        raise Conflict(f"Ce courriel est en cours d'envoi : attendez quelques minutes avant de le {what}.")
    return row


def requeue_interrupted(session: so.Session, *, actor: SessionUser | None, outbox_id: int,
                        now: datetime | None = None) -> Outbox:
    """Admin: send again a message whose send was interrupted, once it is checked that the recipient
    did not get it (mail clients merge a duplicate anyway: the Message-ID is unchanged)."""
    actor = require_role(actor, "admin")
    now = now or utcnow()
    row = _interrupted_row(session, outbox_id, now, "remettre en file")
    row.status = PENDING
    row.claimed_at = None
    row.next_attempt_at = now
    row.last_error = "Envoi interrompu, remis en file par un administrateur."
    record_event(session, actor_id=actor.id, entity="outbox", entity_id=row.id, action="requeued",
                 before=SENDING, after=PENDING, at=now)
    session.flush()
    return row


def mark_interrupted_as_sent(session: so.Session, *, actor: SessionUser | None, outbox_id: int,
                             now: datetime | None = None) -> Outbox:
    """Admin: the recipient confirmed they got a message whose send was interrupted: it is sent (never
    resent, no longer « à vérifier »). Sent when the worker handed it to the server, i.e. at its claim."""
    actor = require_role(actor, "admin")
    now = now or utcnow()
    row = _interrupted_row(session, outbox_id, now, "marquer comme envoyé")
    row.status = SENT
    row.sent_at = row.claimed_at
    row.attempts += 1  # the interrupted attempt, as _mark_sent counts it
    row.last_error = "Envoi interrompu ; reçu d'après le destinataire, marqué envoyé par un administrateur."
    record_event(session, actor_id=actor.id, entity="outbox", entity_id=row.id, action="marked_sent",
                 before=SENDING, after=SENT, at=now)
    session.flush()
    return row


@dataclass(frozen=True)
class OutboxMessage:
    """One message as the « Courriels » page shows it, with its links made clickable."""

    id: int
    subject: str
    to: str
    status: str
    interrupted: bool  # the admin may requeue it or mark it sent, after checking with the recipient
    body: str
    links: list[str]  # the platform's links in the body


def outbox_message(session: so.Session, *, actor: SessionUser | None, outbox_id: int,
                   now: datetime | None = None) -> OutboxMessage:
    row = get_outbox_message(session, actor=actor, outbox_id=outbox_id)
    # Only the platform's own links become buttons: a message also quotes what users typed (an alert, a
    # refusal's reason, a name), and an address typed there must not be offered to the admin as a link.
    own = get_settings().base_url + "/"
    return OutboxMessage(id=row.id, subject=row.subject, to=row.to, status=outbox_status(row, now),
                         interrupted=is_interrupted(row, now), body=row.body_text,
                         links=[link for link in links_in(row.body_text) if link.startswith(own)])


def links_in(text: str) -> list[str]:
    """The links of a message, so that the admin page can show them clickable."""
    return re.findall(r"https?://\S+", text)
