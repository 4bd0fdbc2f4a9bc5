"""The outbox against a real SMTP server on loopback (aiosmtpd): delivery, outage, retries, CLI, admin view."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from core.access.accounts import (
    AccountRequest,
    activate,
    authenticate,
    request_establishment_account,
    validate_account,
)
from core.access.tokens import InvalidLink
from core.mail import emails
from core.mail.outbox import (
    INTERRUPTED_LABEL,
    SmtpMailer,
    claim,
    get_outbox_message,
    links_in,
    list_outbox,
    outbox_status,
    queue_email,
    requeue_interrupted,
    send_pending,
)
from core.shared.clock import utcnow
from core.shared.config import get_settings
from core.shared.errors import Conflict, NotFound, PermissionDenied
from core.staffing.missions import MissionInput
from db.models import Event, Outbox
from ops.cli import main
from ops.worker import run_once
from tests.factories import make_actor
from tests.smtp import BASE_URL, MAIL_FROM

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)
HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")


def _message_id(row) -> str:
    digest = hashlib.sha1(row.dedup_key.encode("utf-8")).hexdigest()[:12]
    return f"<outbox-{row.id}-{digest}@renfort-rh.example.org>"


def _activation_link(token: str) -> str:
    return emails.link_to(emails.ACTIVATION_PATH, jeton=token)


def _queue_password_links(uow, names: list[str], *, now: datetime = NOW) -> dict[str, str]:
    """One password e-mail per name, to `<name>@example.org`; returns the link of each recipient."""
    links = {}
    with uow() as session:
        for name in names:
            to = f"{name.lower()}@example.org"
            links[to] = _activation_link(f"jeton-{name.lower()}")
            queue_email(session, dedup_key=f"test-reset:{name}", to=to, now=now,
                        content=emails.password_link(name, links[to]))
    return links


def _rows(uow) -> list[Outbox]:
    with uow() as session:
        return list(session.scalars(sa.select(Outbox).order_by(Outbox.id)))


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_three_queued_emails_reach_the_server_as_french_text_and_html_messages_then_are_marked_sent(
        uow, db_url, smtp_server) -> None:
    links = _queue_password_links(uow, ["Claire", "Karim", "Léa"])

    report = send_pending(db_url, now=NOW)

    assert (report.sent, report.failed, report.waiting) == (3, 0, 0)
    assert str(report) == "Courriels envoyés : 3, en échec : 0, en attente : 0."
    assert len(smtp_server.messages) == 3
    subject = emails.password_link("x", "y").subject
    for message, envelope in zip(smtp_server.messages, smtp_server.envelopes):
        to = str(message["To"])
        link = links[to]
        assert link.startswith(f"{BASE_URL}/activer-mon-compte?jeton=")
        assert envelope.rcpt_tos == (to,)
        assert envelope.mail_from == MAIL_FROM
        assert message.get_content_type() == "multipart/alternative"
        assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
        assert message["Subject"] == subject == "Renfort RH — choisir votre mot de passe"
        sender = message["From"].addresses[0]
        assert (sender.display_name, sender.addr_spec) == ("Renfort RH", MAIL_FROM)
        assert message["Message-ID"].endswith("@renfort-rh.example.org>")
        assert parsedate_to_datetime(message["Date"]) == NOW  # RFC 5322: the Date field is mandatory
        text, html = _parts(message)
        assert "<br" not in text and not HTML_TAG.search(text), text
        assert "Bonjour" in text and "valable 72 heures" in text and "\n\n" in text
        assert f"Choisir mon mot de passe : {link}" in text
        assert "<p>" in html and f"href='{link}'" in html
        assert links_in(text) == [link]
    assert sorted(str(m["To"]) for m in smtp_server.messages) == sorted(links)

    rows = _rows(uow)
    assert [(row.status, row.claimed_at, row.sent_at, row.attempts, row.last_error) for row in rows] == [
        ("sent", NOW, NOW, 1, None)] * 3
    assert sorted(smtp_server.message_ids()) == sorted(_message_id(row) for row in rows)

    again = send_pending(db_url, now=NOW + timedelta(days=1))
    assert (again.sent, again.failed, again.waiting) == (0, 0, 0)
    assert len(smtp_server.messages) == 3


def test_queueing_twice_with_the_same_dedup_key_adds_one_row_only(uow, db_url, smtp_server) -> None:
    content = emails.password_link("Claire", _activation_link("abc"))
    with uow() as session:
        first = queue_email(session, dedup_key="reset:claire", to="claire@example.org", content=content, now=NOW)
        assert first is not None
    with uow() as session:
        second = queue_email(session, dedup_key="reset:claire", to="claire@example.org", content=content,
                             now=NOW + timedelta(minutes=5))
        assert second is None

    assert len(_rows(uow)) == 1
    assert send_pending(db_url, now=NOW).sent == 1
    assert len(smtp_server.messages) == 1


def test_an_smtp_outage_loses_nothing_and_every_email_arrives_exactly_once_after_the_back_off(
        uow, db_url, smtp_server) -> None:
    _queue_password_links(uow, ["Claire", "Karim", "Léa"])
    smtp_server.stop()

    down = send_pending(db_url, now=NOW)

    assert (down.sent, down.failed, down.waiting) == (0, 3, 3)
    assert "Serveur SMTP injoignable" in str(down)
    rows = _rows(uow)
    assert len(rows) == 3
    for row in rows:
        assert row.sent_at is None
        assert row.attempts == 1
        assert "Connexion SMTP impossible" in row.last_error
        assert "ConnectionRefusedError" in row.last_error
        assert row.next_attempt_at > NOW  # back-off: not retried at once
    assert smtp_server.messages == []

    smtp_server.start()
    too_early = send_pending(db_url, now=NOW)
    assert (too_early.sent, too_early.failed, too_early.waiting) == (0, 0, 3)
    assert smtp_server.messages == []

    later = send_pending(db_url, now=NOW + timedelta(minutes=2))
    assert (later.sent, later.failed, later.waiting) == (3, 0, 0)
    expected_ids = {_message_id(row) for row in rows}
    assert Counter(smtp_server.message_ids()) == Counter({message_id: 1 for message_id in expected_ids})
    assert Counter(smtp_server.subjects()) == Counter({"Renfort RH — choisir votre mot de passe": 3})
    assert sorted(str(m["To"]) for m in smtp_server.messages) == sorted(row.to for row in rows)
    assert [(row.sent_at, row.attempts, row.last_error) for row in _rows(uow)] == [
        (NOW + timedelta(minutes=2), 2, None)] * 3

    third = send_pending(db_url, now=NOW + timedelta(days=2))
    assert (third.sent, third.failed, third.waiting) == (0, 0, 0)
    assert len(smtp_server.messages) == 3


def test_the_back_off_grows_with_each_failed_attempt(uow, db_url, smtp_server) -> None:
    _queue_password_links(uow, ["Claire"])
    smtp_server.stop()
    now, delays = NOW, []
    for _ in range(3):
        send_pending(db_url, now=now)
        (row,) = _rows(uow)
        delays.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert delays == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15)]
    assert row.attempts == 3 and row.sent_at is None

    smtp_server.start()
    assert send_pending(db_url, now=now).sent == 1
    assert len(smtp_server.messages) == 1


def test_a_recipient_refused_by_the_server_is_retried_later_without_holding_back_the_others(
        uow, db_url, smtp_server) -> None:
    _queue_password_links(uow, ["Claire", "Karim", "Léa"])
    smtp_server.refused.add("karim@example.org")

    report = send_pending(db_url, now=NOW)

    assert (report.sent, report.failed, report.waiting) == (2, 1, 1)
    assert sorted(str(m["To"]) for m in smtp_server.messages) == ["claire@example.org", "léa@example.org"]
    refused = next(row for row in _rows(uow) if row.to == "karim@example.org")
    assert (refused.status, refused.claimed_at, refused.sent_at, refused.attempts) == ("pending", None, None, 1)
    assert "SMTPRecipientsRefused" in refused.last_error and "550" in refused.last_error
    assert refused.next_attempt_at == NOW + timedelta(minutes=1)

    smtp_server.refused.clear()
    retry = send_pending(db_url, now=NOW + timedelta(minutes=1))
    assert (retry.sent, retry.failed, retry.waiting) == (1, 0, 0)
    assert Counter(str(m["To"]) for m in smtp_server.messages) == Counter(
        {"claire@example.org": 1, "karim@example.org": 1, "léa@example.org": 1})


def test_without_smtp_settings_nothing_is_sent_and_the_emails_stay_pending(
        uow, db_url, smtp_server, monkeypatch: pytest.MonkeyPatch) -> None:
    _queue_password_links(uow, ["Claire", "Karim"])
    monkeypatch.delenv("RENFORT_SMTP_HOST")
    get_settings.cache_clear()
    assert not get_settings().smtp_configured

    report = send_pending(db_url, now=NOW + timedelta(hours=1))

    assert (report.sent, report.failed, report.waiting) == (0, 0, 2)
    assert "SMTP non configuré" in str(report)
    assert smtp_server.messages == []
    assert [(row.sent_at, row.attempts, row.last_error) for row in _rows(uow)] == [(None, 0, None)] * 2


def test_the_worker_command_once_delivers_the_pending_emails_and_exits_with_zero(
        uow, db_url, smtp_server, capsys: pytest.CaptureFixture[str]) -> None:
    # The command uses the real clock: queue the e-mails a minute ago so that they are due.
    _queue_password_links(uow, ["Claire", "Karim"], now=utcnow() - timedelta(minutes=1))

    assert main(["--db", db_url, "worker", "--once"]) == 0

    assert "Courriels envoyés : 2, en échec : 0, en attente : 0." in capsys.readouterr().out
    assert sorted(str(m["To"]) for m in smtp_server.messages) == ["claire@example.org", "karim@example.org"]
    assert all(row.sent_at is not None for row in _rows(uow))

    assert main(["--db", db_url, "worker", "--once"]) == 0
    assert len(smtp_server.messages) == 2


def test_the_outbox_is_shown_to_admins_only_with_its_status_search_and_links(uow, db_url, smtp_server) -> None:
    with uow() as session:
        admin = make_actor(session, "admin")
        ars = make_actor(session, "ars")
        sent_link = _activation_link("envoye")
        queue_email(session, dedup_key="validated:1", to="claire@example.org", now=NOW,
                    content=emails.account_validated("Claire", "CHU de Nantes", sent_link))
    send_pending(db_url, now=NOW)
    smtp_server.stop()
    with uow() as session:
        queue_email(session, dedup_key="reset:2", to="karim@example.org", now=NOW,
                    content=emails.password_link("Karim", _activation_link("en-echec")))
    send_pending(db_url, now=NOW)
    with uow() as session:
        queue_email(session, dedup_key="rejected:3", to="lea@example.org", now=NOW,
                    content=emails.account_rejected("Léa", "EHPAD test", "FINESS inconnu"))

    with uow() as session:
        with pytest.raises(PermissionDenied):
            list_outbox(session, actor=ars)
        with pytest.raises(PermissionDenied):
            list_outbox(session, actor=None)
        page = list_outbox(session, actor=admin)
        assert page.total == 3
        assert [(row["to"], row["status"]) for row in page.rows] == [  # newest first
            ("lea@example.org", "en attente"),
            ("karim@example.org", "en échec, nouvel essai prévu"),
            ("claire@example.org", "envoyé"),
        ]
        failed = page.rows[1]
        assert failed["attempts"] == 1 and "Connexion SMTP impossible" in failed["last_error"]

        by_recipient = list_outbox(session, actor=admin, search="  KARIM@example ")
        assert [row["to"] for row in by_recipient.rows] == ["karim@example.org"] and by_recipient.total == 1
        by_subject = list_outbox(session, actor=admin, search="compte est validé")
        assert [row["to"] for row in by_subject.rows] == ["claire@example.org"]
        assert list_outbox(session, actor=admin, search="n'a pas été retenue").total == 1
        assert list_outbox(session, actor=admin, search="personne").rows == []
        assert [row["to"] for row in list_outbox(session, actor=admin, offset=1, limit=1).rows] == ["karim@example.org"]

        claire_id = page.rows[2]["id"]
        with pytest.raises(PermissionDenied):
            get_outbox_message(session, actor=ars, outbox_id=claire_id)
        message = get_outbox_message(session, actor=admin, outbox_id=claire_id)
        assert message.subject == "Renfort RH — votre compte est validé"
        assert links_in(message.body_text) == [sent_link]
        assert sent_link == f"{BASE_URL}/activer-mon-compte?jeton=envoye"
        with pytest.raises(NotFound):
            get_outbox_message(session, actor=admin, outbox_id=claire_id + 1000)
    assert links_in("Pas de lien ici.") == []


# ---------------------------------------------------------------- at most once: the claim


class _Crash(BaseException):
    """The worker process dies (kill -9, power cut): nothing after this point runs."""


class _CrashAfterAcceptance(SmtpMailer):
    """The SMTP server accepts the message, then the worker dies before recording it."""

    def send(self, message: EmailMessage) -> None:
        super().send(message)
        raise _Crash


def test_a_row_is_claimed_by_one_worker_only_and_only_when_due(uow, db_url, smtp_server) -> None:
    _queue_password_links(uow, ["Claire"])
    (row,) = _rows(uow)

    assert claim(db_url, row.id, MAIL_FROM, NOW - timedelta(seconds=1)) is None  # not due yet
    message = claim(db_url, row.id, MAIL_FROM, NOW)
    assert message is not None and message["Message-ID"] == _message_id(row)
    assert claim(db_url, row.id, MAIL_FROM, NOW) is None  # already taken
    (row,) = _rows(uow)
    assert (row.status, row.claimed_at, row.sent_at, row.attempts) == ("sending", NOW, None, 0)
    assert send_pending(db_url, now=NOW + timedelta(days=1)).sent == 0
    assert smtp_server.messages == []


def test_two_workers_running_at_once_send_every_message_exactly_once(uow, db_url, smtp_server) -> None:
    names = [f"Volontaire{n:02d}" for n in range(20)]
    _queue_password_links(uow, names)
    settings = get_settings()
    # Both workers have listed the same 20 due rows before either starts sending.
    both_listed = threading.Barrier(2, timeout=30)

    def mailer() -> SmtpMailer:
        both_listed.wait()
        return SmtpMailer(settings)

    reports, errors = [], []

    def worker() -> None:
        try:
            reports.append(send_pending(db_url, now=NOW, mailer_factory=mailer))
        except Exception as error:  # noqa: BLE001 — reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == [] and len(reports) == 2
    assert sum(report.sent for report in reports) == 20
    assert [report.failed for report in reports] == [0, 0]  # a row taken by the other worker is no failure
    rows = _rows(uow)
    assert Counter(smtp_server.message_ids()) == Counter({_message_id(row): 1 for row in rows})
    assert [(row.status, row.attempts) for row in rows] == [("sent", 1)] * 20


def test_a_crash_after_the_server_accepted_a_message_never_sends_it_again_until_an_admin_requeues_it(
        uow, db_url, smtp_server) -> None:
    _queue_password_links(uow, ["Claire", "Karim"])
    with uow() as session:
        admin = make_actor(session, "admin")
        ars = make_actor(session, "ars")
    claire, karim = _rows(uow)

    with pytest.raises(_Crash):
        send_pending(db_url, now=NOW, mailer_factory=lambda: _CrashAfterAcceptance(get_settings()))
    assert smtp_server.message_ids() == [_message_id(claire)]
    claire = _rows(uow)[0]
    assert (claire.status, claire.claimed_at, claire.sent_at, claire.attempts) == ("sending", NOW, None, 0)

    # The worker restarts: the other e-mail goes, the interrupted one does not, now or ever.
    restarted = send_pending(db_url, now=NOW + timedelta(minutes=1))
    assert (restarted.sent, restarted.failed, restarted.waiting, restarted.interrupted) == (1, 0, 0, 0)
    later = send_pending(db_url, now=NOW + timedelta(days=3))
    assert (later.sent, later.failed, later.waiting, later.interrupted) == (0, 0, 0, 1)
    assert "Envois interrompus à vérifier : 1" in str(later)
    assert Counter(smtp_server.message_ids()) == Counter({_message_id(claire): 1, _message_id(karim): 1})

    with uow() as session:
        # Just claimed, the send may still be in progress: shown so, and not requeued.
        assert [row["status"] for row in list_outbox(session, actor=admin, now=NOW + timedelta(minutes=1)).rows] == [
            "envoyé", "envoi en cours"]
        with pytest.raises(Conflict, match="en cours d'envoi"):
            requeue_interrupted(session, actor=admin, outbox_id=claire.id, now=NOW + timedelta(minutes=1))
        page = list_outbox(session, actor=admin, now=NOW + timedelta(minutes=10))
        assert [(row["to"], row["status"], row["interrupted"]) for row in page.rows] == [
            ("karim@example.org", "envoyé", False),
            ("claire@example.org", INTERRUPTED_LABEL, True),
        ]
        assert INTERRUPTED_LABEL == "envoi interrompu — à vérifier"
        assert outbox_status(session.get(Outbox, claire.id), NOW + timedelta(minutes=10)) == INTERRUPTED_LABEL
    for actor in (ars, None):
        with pytest.raises(PermissionDenied), uow() as session:
            requeue_interrupted(session, actor=actor, outbox_id=claire.id, now=NOW + timedelta(minutes=10))
    with pytest.raises(Conflict, match="rien à remettre en file"), uow() as session:
        requeue_interrupted(session, actor=admin, outbox_id=karim.id, now=NOW + timedelta(minutes=10))
    with pytest.raises(NotFound), uow() as session:
        requeue_interrupted(session, actor=admin, outbox_id=karim.id + 1000, now=NOW + timedelta(minutes=10))

    with uow() as session:
        requeue_interrupted(session, actor=admin, outbox_id=claire.id, now=NOW + timedelta(minutes=10))
    with uow() as session:
        row = session.get(Outbox, claire.id)
        assert (row.status, row.claimed_at, row.next_attempt_at) == ("pending", None, NOW + timedelta(minutes=10))
        assert "remis en file par un administrateur" in row.last_error
        event = session.scalars(sa.select(Event).where(Event.entity == "outbox")).one()
        assert (event.actor_user_id, event.entity_id, event.action, event.before, event.after) == (
            admin.id, str(claire.id), "requeued", "sending", "pending")

    again = send_pending(db_url, now=NOW + timedelta(minutes=10))
    assert (again.sent, again.failed, again.waiting, again.interrupted) == (1, 0, 0, 0)
    # Sent again by the admin's decision, with the same Message-ID (mail clients merge the two).
    assert Counter(smtp_server.message_ids()) == Counter({_message_id(claire): 2, _message_id(karim): 1})
    assert [(row.status, row.attempts) for row in _rows(uow)] == [("sent", 1), ("sent", 1)]


# ---------------------------------------------------------------- a real token, end to end

REQUESTER = "claire.moreau@chu-test.fr"
PASSWORD = "Nouveau-Mot-2026!"


def test_an_activation_link_received_over_smtp_activates_the_account_and_signs_in(uow, db_url, smtp_server) -> None:
    request = AccountRequest(
        last_name="Moreau", first_name="Claire", email=REQUESTER, phone="06 12 34 56 78",
        category_code="loi_hospitaliere", identifier="750100125", establishment_name="Hôpital de test",
        address="1 place de l'Hôpital", postal_code="44000", city="Nantes", ars_code="52",
        missions=[MissionInput(profession_code="infirmier_de", count=2, start_date=date(2026, 11, 24),
                               end_date=date(2026, 12, 8))],
    )
    with uow() as session:
        receipt = request_establishment_account(session, actor=None, request=request, now=NOW)
        ars = make_actor(session, "ars", ars_code="52")
    with uow() as session:
        validate_account(session, actor=ars, user_id=receipt.user_id, now=NOW + timedelta(minutes=5))

    log = run_once(db_url, now=NOW + timedelta(minutes=6))  # the worker's pass: periodic jobs, then e-mails

    assert "Courriels envoyés : 2, en échec : 0, en attente : 0." in log
    assert [str(m["To"]) for m in smtp_server.messages] == [REQUESTER, REQUESTER]
    validated = next(m for m in smtp_server.messages if m["Subject"] == "Renfort RH — votre compte est validé")
    text, html = _parts(validated)
    (link,) = links_in(text)
    assert link.startswith(f"{BASE_URL}/activer-mon-compte?jeton=") and f"href='{link}'" in html
    (token,) = parse_qs(urlsplit(link).query)["jeton"]

    with uow() as session:
        assert authenticate(session, email=REQUESTER, password=PASSWORD, now=NOW + timedelta(hours=1)).user is None
    with uow() as session:
        assert activate(session, actor=None, token=token, password=PASSWORD, now=NOW + timedelta(hours=1)) == REQUESTER
    with uow() as session:
        outcome = authenticate(session, email=REQUESTER.upper(), password=PASSWORD, now=NOW + timedelta(hours=2))
    assert outcome.error is None and outcome.user is not None
    assert (outcome.user.email, outcome.user.role, outcome.user.establishment_ids) == (
        REQUESTER, "etablissement", (receipt.establishment_id,))
    with pytest.raises(InvalidLink), uow() as session:  # the link is single-use
        activate(session, actor=None, token=token, password="Autre-Mot-2026!!", now=NOW + timedelta(hours=3))
