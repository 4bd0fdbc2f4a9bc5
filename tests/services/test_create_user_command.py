"""`python -m core create-user`: the first accounts of a fresh deployment, without SMTP — the printed link works."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.access.accounts import activate, authenticate
from core.shared.config import get_settings
from db import models as m
from db.session import session_scope
from ops.cli import main
from tests.factories import make_establishment, make_pool
from tests.readers import events

PASSWORD = "Premier-Admin-2026!"


@pytest.fixture
def no_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RENFORT_SMTP_HOST", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _printed_link(output: str) -> str:
    [link] = [line for line in output.splitlines() if "/activer-mon-compte?jeton=" in line]
    return link.strip()


def test_the_first_admin_gets_a_printed_link_that_activates_the_account(db_url, no_smtp, capsys) -> None:
    code = main(["--db", db_url, "create-user", "--role", "admin", "--email", "Paul.Bernard@Sante.gouv.fr",
                 "--first-name", "Paul", "--last-name", "Bernard"])
    output = capsys.readouterr().out
    assert code == 0
    assert "Compte créé : paul.bernard@sante.gouv.fr (rôle admin)." in output
    link = _printed_link(output)
    assert link.startswith(f"{get_settings().base_url}/activer-mon-compte?jeton=")
    with session_scope(db_url) as session:
        [mail] = session.scalars(sa.select(m.Outbox)).all()
        assert mail.to == "paul.bernard@sante.gouv.fr" and link in mail.body_text  # the usual e-mail, in the outbox
        [created] = events(session, "account_created")
        assert created.actor_user_id is None and created.details["acteur"] == "ligne de commande"
    with session_scope(db_url) as session:
        activate(session, actor=None, token=link.split("jeton=")[1], password=PASSWORD)
    with session_scope(db_url) as session:
        signed = authenticate(session, email="paul.bernard@sante.gouv.fr", password=PASSWORD).user
        assert signed is not None and signed.role == "admin"


def test_an_ars_account_takes_its_region_and_an_establishment_account_its_finess(db_url, no_smtp, capsys) -> None:
    with session_scope(db_url) as session:
        finess = make_establishment(session, postal_code="44000").finess
    assert main(["--db", db_url, "create-user", "--role", "ars", "--ars", "52", "--email", "ars@example.org",
                 "--first-name", "Sophie", "--last-name", "Garnier"]) == 0
    assert main(["--db", db_url, "create-user", "--role", "etablissement", "--finess", finess, "--email",
                 "drh@example.org", "--first-name", "Claire", "--last-name", "Moreau", "--phone", "06 12 34 56 78"]) == 0
    with session_scope(db_url) as session:
        ars = session.scalar(sa.select(m.User).where(m.User.email == "ars@example.org"))
        hr = session.scalar(sa.select(m.User).where(m.User.email == "drh@example.org"))
        memberships = session.scalars(sa.select(m.Membership.establishment_id).where(m.Membership.user_id == hr.id)).all()
        assert (ars.role, ars.ars_code) == ("ars", "52")
        assert (hr.phone, len(memberships)) == ("+33612345678", 1)


def test_a_pool_coordinator_account_runs_the_pool_of_its_code(db_url, no_smtp, capsys) -> None:
    with session_scope(db_url) as session:
        pool = make_pool(session, make_establishment(session, postal_code="33000", finess_category_code="500"))
        code, pool_id, users = pool.code, pool.id, session.scalar(sa.select(sa.func.count()).select_from(m.User))
    assert main(["--db", db_url, "create-user", "--role", "pool", "--ars", "75", "--plateforme", code.lower(),
                 "--email", "coordination@example.org", "--first-name", "Lina", "--last-name", "Roux"]) == 0
    assert main(["--db", db_url, "create-user", "--role", "pool", "--ars", "75", "--plateforme", "PT33-XXXXX",
                 "--email", "autre@example.org", "--first-name", "A", "--last-name", "B"]) == 1
    assert "--plateforme : aucune plateforme territoriale ne porte le code « PT33-XXXXX »." in capsys.readouterr().err
    with session_scope(db_url) as session:
        coordinator = session.scalar(sa.select(m.User).where(m.User.email == "coordination@example.org"))
        assert (coordinator.role, coordinator.ars_code, coordinator.pool_id) == ("pool", "75", pool_id)
        assert session.scalar(sa.select(sa.func.count()).select_from(m.User)) == users + 1


def test_bad_options_are_named_in_the_error_and_nothing_is_created(db_url, no_smtp, capsys) -> None:
    code = main(["--db", db_url, "create-user", "--role", "ars", "--email", "pas-une-adresse", "--first-name", "A",
                 "--last-name", "B"])
    error = capsys.readouterr().err
    assert code == 1
    assert "--email : L'adresse électronique « pas-une-adresse » n'est pas valide" in error
    assert "--ars : Choisissez la région (ARS) du compte." in error
    assert main(["--db", db_url, "create-user", "--role", "etablissement", "--finess", "010000024", "--email",
                 "x@example.org", "--first-name", "A", "--last-name", "B"]) == 1
    assert "--finess : Aucun établissement validé n'a le numéro FINESS ou GID « 010000024 »." in capsys.readouterr().err
    with session_scope(db_url) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.User)) == 0
