"""The demonstration data set: deterministic, complete for every role, and loaded only once."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from core.access.accounts import authenticate
from core.pools.projects import CLAWBACK_WARNING, list_pools
from core.shared.errors import Conflict
from core.volunteers.documents import check_document
from db import models as m
from ops.seed import DEMO_ACCOUNTS, DEMO_ESTABLISHMENT_NAME, DEMO_PASSWORD, seed_demo
from ops.seed_campaigns import CAMPAIGN_ARS, DEMO_OFFICE, OPEN_TITLE, PAST_TITLE, hospital_names
from ops.seed_campaigns import demo_accounts as campaign_accounts
from ops.seed_pools import POOL_ARS, POOLS, VOLUNTEERS_PER_POOL, demo_accounts, sites

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
SMALL = {"establishments": 60, "volunteers": 400, "missions": 80}


def _fingerprint(uow) -> list[tuple]:
    with uow() as session:
        people = session.execute(
            sa.select(m.Professional.last_name, m.Professional.postal_code, m.Professional.profession_code)
            .order_by(m.Professional.id)
        ).all()
        missions = session.execute(
            sa.select(m.Mission.profession_code, m.Mission.count, m.Mission.start_date).order_by(m.Mission.id)
        ).all()
    return [tuple(r) for r in people + missions]


def test_the_demo_seed_fills_every_role_and_region(db_url, uow) -> None:
    report = seed_demo(db_url, seed=7, now=NOW, **SMALL)
    assert "60 établissements" in report
    with uow() as session:
        count = lambda model: session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
        # the asked numbers, and the territorial pools' own establishments, volunteers and needs besides
        pool_sites = [site.name for site in sites()]
        assert count(m.Establishment) == 60 + len(pool_sites) + len(hospital_names())
        assert count(m.Professional) == 400 + VOLUNTEERS_PER_POOL * len(POOLS)
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Mission).join(m.Establishment).where(
            m.Establishment.name.not_in(pool_sites))) == 80
        regions = set(session.scalars(sa.select(m.Establishment.ars_code).distinct()))
        assert len(regions) == 18
        roles = set(session.scalars(sa.select(m.User.role).where(m.User.password_hash.is_not(None))))
        assert roles == {"etablissement", "ars", "ccs", "ministere", "admin", "professionnel", "pool"}
        chu = session.scalar(sa.select(m.Establishment).where(m.Establishment.name == DEMO_ESTABLISHMENT_NAME))
        members = session.scalar(
            sa.select(sa.func.count()).select_from(m.Membership).where(m.Membership.establishment_id == chu.id)
        )
        assert members == 2
        assert session.scalars(sa.select(m.Event.action).order_by(m.Event.id)).first() == "seed"
        # The history was played through the services: every state is there, each with its Event.
        states = set(session.scalars(sa.select(m.Proposal.state).distinct()))
        assert {"contacte", "affecte", "refuse", "libere", "annule", "en_cours"} <= states
        assert set(session.scalars(sa.select(m.Mission.status).distinct())) == {"open", "filled", "closed"}
        transitions = session.scalar(sa.select(sa.func.count()).select_from(m.Event).where(m.Event.entity == "proposal"))
        assert transitions >= session.scalar(sa.select(sa.func.count()).select_from(m.Proposal))
        assert count(m.Outbox) > 0  # assignment confirmations, cancellation, expiry notices
        # Every volunteer's status mirrors their live proposal (DESIGN §3), and no mission is over-filled.
        for status in ("contacte", "affecte"):
            people = set(session.scalars(sa.select(m.Professional.id).where(m.Professional.status == status)))
            live = set(session.scalars(sa.select(m.Proposal.professional_id).where(m.Proposal.state == status)))
            assert people == live and people, status
        demo = session.scalar(sa.select(m.Professional).where(m.Professional.email == "benevole@example.org"))
        assert demo.status == "contacte"  # a reservation waits in the demo volunteer's "Mes missions"
        overfilled = session.execute(
            sa.select(m.Mission.id)
            .join(m.Proposal, m.Proposal.mission_id == m.Mission.id)
            .where(m.Proposal.state == "affecte")
            .group_by(m.Mission.id, m.Mission.count)
            .having(sa.func.count() > m.Mission.count)
        ).all()
        assert overfilled == []
        # Every volunteer registered with both documents, as the registration form requires.
        kinds = session.execute(sa.select(m.Document.kind, sa.func.count()).group_by(m.Document.kind)).all()
        volunteers = 400 + VOLUNTEERS_PER_POOL * len(POOLS)
        assert dict(kinds) == {"identite": volunteers, "diplome": volunteers}
        diploma = session.scalars(sa.select(m.Document).where(m.Document.professional_id == demo.id,
                                                              m.Document.kind == "diplome")).one()
        assert check_document("diplome", diploma.filename, diploma.content).sha256 == diploma.sha256
        assert "Document fictif" in diploma.content.decode("cp1252")


def test_every_demo_account_can_sign_in_with_the_documented_password(db_url, uow) -> None:
    seed_demo(db_url, seed=7, now=NOW, **SMALL)
    with uow() as session:
        for account in DEMO_ACCOUNTS:
            outcome = authenticate(session, email=account.email, password=DEMO_PASSWORD, now=NOW)
            assert outcome.user is not None, account.email
            assert outcome.user.role == account.role
        for role, email, _ in demo_accounts() + campaign_accounts():  # the pools' and the campaigns' accounts
            outcome = authenticate(session, email=email, password=DEMO_PASSWORD, now=NOW)
            assert outcome.user is not None and outcome.user.role == role, email


def test_the_demo_has_territorial_pools_in_nouvelle_aquitaine_at_their_stages(db_url, uow) -> None:
    report = seed_demo(db_url, seed=7, now=NOW, **SMALL)
    assert "Plateformes territoriales : 5 en Nouvelle-Aquitaine, 17 établissements membres, 2 demande(s)" in report
    with uow() as session:
        ars = authenticate(session, email=POOL_ARS[0], password=DEMO_PASSWORD, now=NOW).user
        rows = {row["name"]: row for row in list_pools(session, actor=ars, now=NOW).rows}
        assert sorted((row["department_code"], name) for name, row in rows.items()) == [
            ("24", "Plateforme Dordogne solidaire"), ("33", "Plateforme Bordeaux Métropole"),
            ("33", "Plateforme du Libournais"), ("64", "Plateforme Béarn"), ("87", "Plateforme Haute-Vienne")]
        running, late = rows["Plateforme du Libournais"], rows["Plateforme Dordogne solidaire"]
        assert (running["operational"], running["committed"], running["paid"], running["roster"]) == (
            True, 90_000, 90_000, 4)
        assert (late["warnings"], late["convention"].label, late["paid"]) == ([CLAWBACK_WARNING], "en retard", 50_000)
        assert rows["Plateforme Béarn"]["engagement"].label == "à venir"
        assert (rows["Plateforme Haute-Vienne"]["committed"], rows["Plateforme Haute-Vienne"]["paid"]) == (50_000, 0)
        assert sum(row["join_requests"] for row in rows.values()) == 2
        assert all(row["coordinators"] for row in rows.values())
        roster = dict(session.execute(sa.select(m.PoolRosterEntry.origin, sa.func.count())
                                      .where(m.PoolRosterEntry.pool_only.is_(True))
                                      .group_by(m.PoolRosterEntry.origin)).all())
        assert roster == {"inscription": 4}  # one volunteer registered with the code in each running pool
        # every demo establishment of a known kind has its FINESS category, the demo CHU and EHPAD included
        chu = session.scalar(sa.select(m.Establishment).where(m.Establishment.name == DEMO_ESTABLISHMENT_NAME))
        assert chu.finess_category_code == "101"
        categories = set(session.scalars(sa.select(m.Establishment.finess_category_code)
                                         .where(m.Establishment.ars_code == "75", m.Establishment.name.in_(
                                             [site.name for site in sites()]))))
        assert categories == {"500", "354", "209", "460", "355"}


def test_the_demo_has_an_open_campaign_and_one_with_its_results_in_ile_de_france(db_url, uow) -> None:
    from core.campaigns.campaigns import campaign_dossiers, list_campaigns
    from core.campaigns.dossiers import attachment_file, dossier_detail, open_campaigns
    from core.shared.actor import to_session_user

    report = seed_demo(db_url, seed=7, now=NOW, **SMALL)
    assert "Appels à candidatures : 2 de l'ARS Île-de-France, 8 dossiers d'établissements." in report
    with uow() as session:
        ars = to_session_user(session, user=authenticate(session, email=CAMPAIGN_ARS[0], password=DEMO_PASSWORD,
                                                          now=NOW).user)
        rows = {row["title"]: row for row in list_campaigns(session, actor=ars, now=NOW)}
        assert (rows[OPEN_TITLE]["phase"], rows[PAST_TITLE]["phase"]) == ("Ouvert", "Résultats publiés")
        open_states = [r["state_label"] for r in campaign_dossiers(session, actor=ars, campaign_id=rows[OPEN_TITLE]["id"],
                                                                   now=NOW)]
        assert sorted(open_states) == ["Complet (à confirmer)", "Confirmé", "Confirmé", "Incomplet"]
        past = campaign_dossiers(session, actor=ars, campaign_id=rows[PAST_TITLE]["id"], now=NOW)
        assert sorted((r["state_label"], r["decision_label"] or "") for r in past) == [
            ("Confirmé", "Défavorable"), ("Confirmé", "Favorable"), ("Confirmé", "Favorable"), ("Non recevable", "")]
        office = to_session_user(session, user=authenticate(session, email=DEMO_OFFICE, password=DEMO_PASSWORD,
                                                             now=NOW).user)
        [hospital_id] = office.establishment_ids
        assert [c["title"] for c in open_campaigns(session, actor=office, establishment_id=hospital_id, now=NOW)] == [
            OPEN_TITLE, PAST_TITLE]
        kept = next(r for r in past if r["decision_label"] == "Favorable" and r["establishment_id"] == hospital_id)
        detail = dossier_detail(session, actor=office, dossier_id=kept["id"], now=NOW)
        assert detail["decision_label"] == "Favorable" and detail["follow_up"]["project_maintained"] is True
        pdf = attachment_file(session, actor=office, attachment_id=detail["documents"][0]["attachment"]["id"], now=NOW)
        assert check_document("diplome", pdf.file_name, pdf.content).mime == "application/pdf"


def test_the_same_seed_gives_the_same_data(tmp_path, sqlite_template) -> None:
    from functools import partial

    from db.session import session_scope
    from tests.conftest import clone_sqlite

    fingerprints = []
    for name in ("a.db", "b.db"):
        url = clone_sqlite(sqlite_template, tmp_path / name)
        seed_demo(url, seed=11, now=NOW, **SMALL)
        fingerprints.append(_fingerprint(partial(session_scope, url)))
    assert fingerprints[0] == fingerprints[1]


def test_seeding_twice_is_refused_or_skipped(sqlite_url) -> None:
    seed_demo(sqlite_url, seed=7, now=NOW, **SMALL)
    assert "déjà des données" in seed_demo(sqlite_url, only_if_empty=True, **SMALL)
    with pytest.raises(Conflict, match="base vide"):
        seed_demo(sqlite_url, **SMALL)
