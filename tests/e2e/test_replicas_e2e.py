"""Two app servers behind nginx (deploy/nginx-renfort.conf) and two workers on one PostgreSQL database
(ops.replicas): the server a browser works on is killed, the browser goes on through the survivor.

Chromium signs in as a demo establishment through the proxy and contacts a candidate; the route cookie names the
server that answered; that server is killed (SIGKILL, a crash). The page reconnects by itself through nginx to the
other server — still signed in (the cookie, signed with the shared RENFORT_COOKIE_KEY), the contact still there
(committed), and the validation that follows works there. Both workers send to a real SMTP server meanwhile:
every e-mail of the run is received exactly once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from core.shared.clock import paris_today
from db import models as m
from db.session import session_scope
from ops.replicas import NGINX, ROUTE_COOKIE, Stack, own_database, start
from ops.seed import DEMO_PASSWORD
from tests.conftest import PG_ADMIN_URL, require
from tests.e2e.conftest import (
    RUNS,
    choose,
    grid_cells,
    open_page,
    screenshot,
    sign_in,
    tick_row,
    wait_idle,
)
from tests.factories import make_mission
from tests.smtp import MAIL_FROM, SmtpServer

pytestmark = pytest.mark.e2e
ESTABLISHMENT = "etablissement2@example.org"  # one establishment (CHU de Nantes, démo): no switch to make
PROFESSION = "Infirmier diplômé d'État"
FAILOVER_LIMIT_S = 60  # measured 0.7–0.9 s here; generous for a loaded machine


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def replicas(smtp: SmtpServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require(bool(PG_ADMIN_URL), "PostgreSQL non configuré (RENFORT_TEST_PG_URL absent) : deux serveurs et deux "
                                "workers partagent une base PostgreSQL")
    require(Path(NGINX).exists(), f"nginx absent ({NGINX}) : `make test` l'installe avec apt-get")
    env = {**os.environ, "RENFORT_SMTP_HOST": smtp.host, "RENFORT_SMTP_PORT": str(smtp.port),
           "RENFORT_SMTP_STARTTLS": "false", "RENFORT_MAIL_FROM": MAIL_FROM}
    for unset in ("RENFORT_SMTP_USER", "RENFORT_SMTP_PASSWORD", "STREAMLIT_SERVER_COOKIE_SECRET", "RENFORT_COOKIE_KEY"):
        env.pop(unset, None)  # the secrets: drawn by ops.replicas, shared by both servers
    with own_database(PG_ADMIN_URL, small=True) as url:
        stack = start(url, apps=2, workers=2, log_dir=tmp_path_factory.mktemp("replicas"), env=env,
                      worker_interval=2)  # a pass costs ~0.3 s of CPU here: not every second
        try:
            yield stack
        finally:
            stack.stop()


def _new_mission(url: str) -> str:
    """A need of two nurses of the establishment, its label in « Choisir des renforts »' selector."""
    start_date = paris_today() + timedelta(days=3)
    end_date = start_date + timedelta(days=10)
    with session_scope(url) as session:
        user = session.scalars(sa.select(m.User).where(m.User.email == ESTABLISHMENT)).one()
        establishment = session.get(m.Establishment, session.scalars(
            sa.select(m.Membership.establishment_id).where(m.Membership.user_id == user.id)).one())
        make_mission(session, establishment, user, start_date=start_date, end_date=end_date, count=2)
    return f"{PROFESSION} — {start_date:%d/%m/%Y} au {end_date:%d/%m/%Y} — POURVUE 0/2"


def _route(page) -> str | None:
    return next((c["value"] for c in page.context.cookies() if c["name"] == ROUTE_COOKIE), None)


def _contacted(url: str) -> int:
    with session_scope(url, read_only=True) as session:
        return session.scalar(sa.select(sa.func.count()).select_from(m.Proposal).join(m.Mission).join(
            m.User, m.User.id == m.Mission.created_by).where(m.User.email == ESTABLISHMENT,
                                                            m.Proposal.state == "contacte",
                                                            m.Mission.count == 2))


def _wait_for_reconnection(page, survivor: str) -> None:
    """Until the page has reconnected by itself through nginx to the survivor: its reconnection's health check
    re-pinned the route cookie there, and the « Connecting » status is gone. (Streamlit 1.67 redraws nothing then:
    the page stays as it was until the next action, which runs on a new session of the survivor.) Polls the cookie
    jar — a condition, not a delay."""
    deadline = time.monotonic() + FAILOVER_LIMIT_S
    while _route(page) != survivor:
        if time.monotonic() > deadline:
            screenshot(page, "echec-bascule-replique")
            raise AssertionError(f"pas de bascule vers {survivor} en {FAILOVER_LIMIT_S} s (cookie : {_route(page)})")
        page.wait_for_timeout(100)
    wait_idle(page)


def _all_sent(url: str, timeout: float = 60) -> list:
    """The outbox once the workers have sent everything: (to, subject) of each row."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(url, read_only=True) as session:
            rows = session.execute(sa.select(m.Outbox.status, m.Outbox.to, m.Outbox.subject)).all()
        if all(row.status == "sent" for row in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)  # the workers pass every second: poll the outbox


def test_the_browser_goes_on_through_the_survivor_when_its_server_is_killed(replicas, smtp, page) -> None:
    label = _new_mission(replicas.db_url)
    sign_in(page, replicas.proxy_url, ESTABLISHMENT, DEMO_PASSWORD)
    open_page(page, "Choisir des renforts")
    choose(page, "Mission", label)
    tick_row(page, 0)
    page.get_by_role("button", name="Contacter (1)").click()
    expect(page.get_by_text("1 professionnel(s) contacté(s)")).to_be_visible()
    wait_idle(page)
    assert _contacted(replicas.db_url) == 1

    served_by = _route(page)
    assert served_by in ("s1", "s2"), served_by
    survivor = "s2" if served_by == "s1" else "s1"
    since = RUNS[page].now()
    killed_at = time.monotonic()
    replicas.app_of_route(served_by).kill()

    _wait_for_reconnection(page, survivor)
    reconnected = time.monotonic() - killed_at
    open_page(page, "Nouveau besoin")  # the next action: the survivor runs it on a new session
    assert RUNS[page].finished > since  # a whole run after the kill: on the survivor, the other one is dead
    served_again = time.monotonic() - killed_at
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()  # still signed in: the cookie
    screenshot(page, "64-replique-survivante")
    print(f"\nBascule vue dans le navigateur : reconnecté au survivant {reconnected:.1f} s après l'arrêt brutal, "
          f"action suivante servie par lui à {served_again:.1f} s")

    open_page(page, "Choisir des renforts")
    choose(page, "Mission", label)  # a new session: what was picked is picked again
    choose(page, "Statut", "Contacté")
    expect(grid_cells(page, "CONTACTÉ")).to_have_count(1)  # committed before the crash, read on the survivor
    tick_row(page, 0)
    page.get_by_role("button", name="Valider les candidatures").click()
    expect(page.get_by_text("1 candidature(s) validée(s)")).to_be_visible()
    wait_idle(page)
    assert _route(page) == survivor and _contacted(replicas.db_url) == 0

    outbox = _all_sent(replicas.db_url)
    assert {row.status for row in outbox} == {"sent"}, "courriels restés en attente"
    assert any("affectation est confirmée" in row.subject for row in outbox)  # the validation's, after the kill
    received = sorted((str(message["To"]), str(message["Subject"])) for message in smtp.messages)
    assert received == sorted((row.to, row.subject) for row in outbox)  # each e-mail once, none lost
    assert len(set(smtp.message_ids())) == len(smtp.messages)
    assert all(worker.running for worker in replicas.workers)
