"""A real SMTP server on loopback (aiosmtpd) for the e-mail tests, and the `smtp_server` fixture.

The server stores every message it accepts, parsed with the modern e-mail policy. It can be stopped
(to simulate an outage: connections are then refused) and started again on the same port.
A message is stored before the server answers "250" to DATA, so once the client has returned the
message is already in `.messages`: no waiting or polling is needed.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from core.shared.config import get_settings

HOST = "127.0.0.1"
MAIL_FROM = "ne-pas-repondre@renfort-rh.example.org"
BASE_URL = "http://renfort.test"


@dataclass(frozen=True)
class Envelope:
    """What the SMTP dialogue said, beside the message itself."""

    mail_from: str
    rcpt_tos: tuple[str, ...]


class _StoringHandler:
    """Accepts every message and keeps it; recipients listed in `refused` are answered with a 550."""

    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.server.refused:
            return "550 5.1.1 Destinataire inconnu"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        # SMTP carries CRLF line ends; parse with LF ones so that text parts read as Python strings.
        message = message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=default_policy)
        with self.server.lock:
            self.server.raw.append(raw)
            self.server.messages.append(message)
            self.server.envelopes.append(Envelope(envelope.mail_from, tuple(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class SmtpServer:
    """An aiosmtpd server on `host:port` that can be stopped and restarted on the same port."""

    def __init__(self, host: str = HOST, port: int | None = None):
        self.host = host
        self.port = port or free_port(host)
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # the DATA exactly as received
        self.envelopes: list[Envelope] = []
        self.refused: set[str] = set()  # recipients answered "550" (lower case)
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> SmtpServer:
        if self._controller is None:
            # A Controller closes its event loop when stopped: a restart needs a new one.
            # SMTPUTF8 on, like Postfix and the big providers: addresses such as léa@… are valid.
            controller = Controller(_StoringHandler(self), hostname=self.host, port=self.port,
                                    ready_timeout=5, enable_SMTPUTF8=True)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening: from now on connections to the port are refused."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.raw.clear()
            self.envelopes.clear()

    def message_ids(self) -> list[str]:
        return [str(message["Message-ID"]) for message in self.messages]

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.messages]

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A running SMTP server on loopback, with the application settings pointed at it."""
    server = SmtpServer().start()
    monkeypatch.setenv("RENFORT_SMTP_HOST", server.host)
    monkeypatch.setenv("RENFORT_SMTP_PORT", str(server.port))
    monkeypatch.setenv("RENFORT_SMTP_STARTTLS", "false")
    monkeypatch.delenv("RENFORT_SMTP_USER", raising=False)
    monkeypatch.delenv("RENFORT_SMTP_PASSWORD", raising=False)
    monkeypatch.setenv("RENFORT_MAIL_FROM", MAIL_FROM)
    monkeypatch.setenv("RENFORT_BASE_URL", BASE_URL)
    get_settings.cache_clear()
    try:
        yield server
    finally:
        server.stop()
        get_settings.cache_clear()
