"""An interrupted send (left in 'sending' by a worker that never reported back) is no longer « à vérifier »
forever: once the recipient confirms they got it, the admin marks it as sent — audited, never resent.
On SQLite and PostgreSQL (the `uow` fixture)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.mail import emails
from core.mail.outbox import (
    INTERRUPTED_AFTER,
    claim,
    list_outbox,
    mark_interrupted_as_sent,
    outbox_message,
    queue_email,
    send_pending,
)
from core.shared.errors import Conflict, NotFound
from db.models import Event, Outbox
from tests.factories import make_actor

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)
LATER = NOW + INTERRUPTED_AFTER + timedelta(minutes=1)  # the claim is old enough to be an interrupted send
MAIL_FROM = "ne-pas-repondre@renfort-rh.example.org"


def _queued(uow, name: str = "Claire") -> int:
    with uow() as session:
        return queue_email(session, dedup_key=f"test-mark-sent:{name}", to=f"{name.lower()}@example.org", now=NOW,
                           content=emails.password_link(name, emails.link_to("activer-mon-compte", jeton="x"))).id


def _interrupted(uow, db_url: str, name: str = "Claire") -> int:
    """Claimed by a worker (committed), which then died before saying whether the server took it."""
    outbox_id = _queued(uow, name)
    assert claim(db_url, outbox_id, MAIL_FROM, NOW) is not None
    return outbox_id


def _row(uow, outbox_id: int) -> tuple:
    with uow() as session:
        row = session.get(Outbox, outbox_id)
        return row.status, row.claimed_at, row.sent_at, row.attempts, row.last_error


def _events(uow) -> list[tuple]:
    with uow() as session:
        return [(e.actor_user_id, e.entity, e.entity_id, e.action, e.before, e.after)
                for e in session.scalars(sa.select(Event).where(Event.entity == "outbox"))]


def _never_called():  # noqa: ANN202 - a mailer factory that fails the test if the worker wants to send
    raise AssertionError("le worker ne doit rien envoyer")


def test_the_admin_marks_an_interrupted_send_as_sent_it_is_audited_and_never_resent(uow, db_url) -> None:
    outbox_id = _interrupted(uow, db_url)
    with uow() as session:
        admin = make_actor(session, "admin")
        assert outbox_message(session, actor=admin, outbox_id=outbox_id, now=LATER).interrupted
    with uow() as session:
        mark_interrupted_as_sent(session, actor=admin, outbox_id=outbox_id, now=LATER)

    status, claimed_at, sent_at, attempts, note = _row(uow, outbox_id)
    # Sent when the worker handed it to the server (the claim), as the recipient confirmed.
    assert (status, claimed_at, sent_at, attempts) == ("sent", NOW, NOW, 1)
    assert note == "Envoi interrompu ; reçu d'après le destinataire, marqué envoyé par un administrateur."
    assert _events(uow) == [(admin.id, "outbox", str(outbox_id), "marked_sent", "sending", "sent")]
    with uow() as session:
        (row,) = list_outbox(session, actor=admin, now=LATER).rows
        assert (row["status"], row["interrupted"]) == ("envoyé", False)
        assert not outbox_message(session, actor=admin, outbox_id=outbox_id, now=LATER).interrupted
    report = send_pending(db_url, now=LATER + timedelta(days=2), mailer_factory=_never_called)
    assert (report.sent, report.failed, report.waiting, report.interrupted) == (0, 0, 0, 0)


@pytest.mark.parametrize("state", ["pending", "sent", "in progress"])
def test_only_an_interrupted_send_can_be_marked_sent_and_a_refusal_writes_nothing(uow, db_url, state: str) -> None:
    outbox_id = _queued(uow) if state == "pending" else _interrupted(uow, db_url)
    with uow() as session:
        admin = make_actor(session, "admin")
        if state == "sent":
            mark_interrupted_as_sent(session, actor=admin, outbox_id=outbox_id, now=LATER)
    before, events = _row(uow, outbox_id), _events(uow)
    message = "en cours d'envoi : attendez" if state == "in progress" else "n'a pas d'envoi interrompu"
    # Just claimed, the worker may still be talking to the server: it will say itself whether it was sent.
    at = NOW + timedelta(minutes=1) if state == "in progress" else LATER
    with pytest.raises(Conflict, match=message), uow() as session:
        mark_interrupted_as_sent(session, actor=admin, outbox_id=outbox_id, now=at)
    assert _row(uow, outbox_id) == before
    assert _events(uow) == events


def test_an_unknown_message_is_not_found(uow) -> None:
    with uow() as session:
        admin = make_actor(session, "admin")
    with pytest.raises(NotFound, match="Ce courriel n'existe pas."), uow() as session:
        mark_interrupted_as_sent(session, actor=admin, outbox_id=999_999, now=LATER)


def test_the_page_offers_the_platform_links_of_a_message_never_an_address_a_user_typed(uow) -> None:
    """A message quotes what users typed (an alert, a refusal's reason): « Ouvrir le lien du message »
    leads only to the platform's own pages."""
    own = emails.link_to("activer-mon-compte", jeton="abc")
    content = emails.EmailContent("Renfort RH — test", f"Motif : voir https://evil.example/login\nLien : {own}",
                                  "<p>…</p>")
    with uow() as session:
        admin = make_actor(session, "admin")
        outbox_id = queue_email(session, dedup_key="test-links", to="a@example.org", now=NOW, content=content).id
    with uow() as session:
        assert outbox_message(session, actor=admin, outbox_id=outbox_id, now=NOW).links == [own]
