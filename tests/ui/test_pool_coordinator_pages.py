"""The territorial pool coordinator's pages, and the volunteer's side of a pool, through the whole app (AppTest on
app.py): « File des besoins », « Proposer des membres du vivier », « Vivier », « Indicateurs de la plateforme »,
the invitations in « Mon profil » and the pool's code in « Proposer mon aide ».

The pool is built in the seeded demo by the test factories (Loire-Atlantique): a member EHPAD of Nantes and an EHPAD
of Saint-Nazaire outside it, a roster member, a pool-only member and an invitation waiting; expected values come
from the services on the same database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.pools.coordination import pool_indicators, pool_queue
from db import models as m
from db.session import session_scope
from tests.factories import make_actor, make_available_nurse, make_pool_setting, make_roster_entry
from tests.readers import count_at, row_at, user_at
from tests.ui.conftest import open_page, signed_in, tick
from tests.ui.readers import blocks, button, charts, error_under, metrics, plotly_array, table, texts
from tests.ui.test_volunteer_pages import SIGNUP, _fill_valid_form, _open_signup, _send


@dataclass(frozen=True)
class Pool:
    id: int
    name: str
    code: str
    coordinator: str  # e-mail
    member_mission: int
    outsider_mission: int
    member_hr: str
    nurse: int  # on the roster (accepted an invitation)
    pooled: int  # registered with the pool's code
    invited: int  # invited, no answer yet
    guest: int  # a volunteer of the region, on no roster


def _pool(url: str) -> Pool:
    with session_scope(url) as session:
        setting = make_pool_setting(session)
        nurse = make_available_nurse(session, first_name="Inès", last_name="Garnier")
        pooled = make_available_nurse(session, first_name="Hugo", last_name="Poulain")
        invited = make_available_nurse(session, first_name="Lina", last_name="Fabre")
        guest = make_available_nurse(session, first_name="Zoé", last_name="Quéméner")
        make_roster_entry(session, setting.pool, nurse)
        make_roster_entry(session, setting.pool, pooled, origin="inscription")
        make_roster_entry(session, setting.pool, invited, state="invite")
        return Pool(setting.pool.id, setting.pool.name, setting.pool.code, setting.coordinator.email,
                    setting.member_mission.id, setting.outsider_mission.id, setting.member_hr.email, nurse.id,
                    pooled.id, invited.id, guest.id)


def _coordinator(app: AppTest, pool: Pool, page: str) -> AppTest:
    signed_in(app, pool.coordinator, "pool")
    open_page(app, page)
    assert not app.exception
    return app


def _entry(url: str, pool: Pool, professional_id: int) -> m.PoolRosterEntry:
    with session_scope(url, read_only=True) as session:
        entry = session.scalar(sa.select(m.PoolRosterEntry).where(
            m.PoolRosterEntry.pool_id == pool.id, m.PoolRosterEntry.professional_id == professional_id)
            .order_by(m.PoolRosterEntry.id.desc()))
        session.expunge(entry)
        return entry


def _success(app: AppTest) -> list[str]:
    return [s.value for s in app.success]


# ---------------------------------------------------------------- the menu


def test_the_coordinator_has_its_four_pages_and_nothing_else(app, demo_url) -> None:
    pool = _pool(demo_url)
    signed_in(app, pool.coordinator, "pool")
    paths = {info["url_pathname"] for info in app._registered_pages.values()}
    assert {"file-des-besoins", "proposer-vivier", "vivier", "indicateurs-plateforme"} <= paths
    assert not paths & {"missions-region", "proposer", "choisir", "comptes"}


# ---------------------------------------------------------------- « File des besoins » → « Proposer »


def test_the_queue_opens_the_roster_candidates_of_a_mission_and_the_push_is_confirmed(app, demo_url) -> None:
    pool = _pool(demo_url)
    _coordinator(app, pool, "file-des-besoins")
    with session_scope(demo_url, read_only=True) as session:
        expected = pool_queue(session, actor=user_at(demo_url, pool.coordinator)).rows
    shown = table(app)
    assert list(shown["id"]) == [row["id"] for row in expected] == [pool.member_mission]
    assert list(shown["Vivier disponible"]) == [2]  # the nurse and the pool-only member
    assert pool.code in " ".join(c.value for c in app.caption)
    tick(app, 0)
    button(app, "Proposer des membres du vivier").click()
    app.run()
    assert not app.exception
    assert app.title[0].value == "Proposer des membres du vivier"
    assert app.session_state["pool_proposed_mission"] == pool.member_mission
    candidates = table(app)
    assert set(candidates["id"]) == {pool.nurse, pool.pooled}  # the roster only: the demo's other nurses are not
    # all of the roster: no « Vivier » column nor « en tête » to tell them apart from anyone
    assert "Vivier" not in candidates.columns
    assert not any(reason.startswith("Vivier de votre plateforme") for reason in candidates["Pourquoi ce rang"])
    tick(app, list(candidates["id"]).index(pool.nurse))
    button(app, "Proposer (1)").click()
    app.run()
    assert _success(app) == ["1 membre(s) du vivier proposé(s) : statut EN COURS. L'établissement et les "
                             "professionnels sont prévenus par courriel ; l'établissement va les contacter, puis "
                             "valider."]
    with session_scope(demo_url, read_only=True) as session:
        proposal = session.scalar(sa.select(m.Proposal).where(m.Proposal.professional_id == pool.nurse))
        assert (proposal.mission_id, proposal.state, proposal.origin) == (pool.member_mission, "en_cours", "pool")
    row = table(app).set_index("id").loc[pool.nurse]
    assert row["Statut"] == "EN COURS (PROPOSÉ PAR LA PLATEFORME)"


def test_the_member_establishment_sees_the_roster_first_marked_in_choisir(app, demo_url) -> None:
    pool = _pool(demo_url)
    signed_in(app, pool.member_hr, "etablissement")
    open_page(app, "choisir")
    assert not app.exception
    frame = table(app)
    assert list(frame["Vivier"][:2]) == ["Vivier territorial"] * 2
    assert set(frame["id"][:2]) == {pool.nurse, pool.pooled}
    assert set(frame["Vivier"][2:]) <= {""}
    tick(app, 0)
    assert any(t.startswith("Pourquoi ce rang") and "Vivier de votre plateforme : en tête" in t
               for t in (c.value for c in app.caption))


# ---------------------------------------------------------------- « Vivier »


def test_the_roster_marks_pool_only_members_and_releases_one_after_confirmation(app, demo_url) -> None:
    pool = _pool(demo_url)
    _coordinator(app, pool, "vivier")
    roster = app.dataframe[0].value.set_index("Nom")
    assert list(roster.index) == ["Garnier", "Poulain", "Fabre"]  # members first, then the invitation
    assert list(roster["Vivier"]) == ["Membre", "Membre", "Invitation en attente"]
    assert list(roster["Visibilité"]) == ["Vivier national", "Plateforme seulement", ""]
    assert roster.loc["Fabre", "Courriel"] == ""  # no contact before the volunteer agreed
    app.session_state[app.dataframe[0].key] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    app.run()
    [popover] = [p for p in blocks(app._tree, "popover") if p.proto.popover.label == "Ouvrir au vivier national…"]
    assert any("s'est inscrit(e) pour la plateforme seulement" in t for t in texts(popover))
    button(app, "Confirmer l'ouverture au vivier national").click()
    app.run()
    assert _success(app) == ["Hugo Poulain est ouvert(e) au vivier national ; un courriel l'en informe."]
    assert _entry(demo_url, pool, pool.pooled).released_at is not None
    assert list(app.dataframe[0].value["Visibilité"]) == ["Vivier national", "Vivier national", ""]


def test_the_coordinator_finds_and_invites_a_volunteer_of_the_region(app, demo_url) -> None:
    pool = _pool(demo_url)
    _coordinator(app, pool, "vivier")
    app.text_input(key="pool_search_text").input("quéméner")
    app.run()
    found = app.dataframe[1].value
    assert list(found["id"]) == [pool.guest]
    app.session_state[app.dataframe[1].key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    app.run()
    button(app, "Inviter Zoé Quéméner").click()
    app.run()
    assert _success(app) == ["Invitation envoyée à Zoé Quéméner : il (elle) répondra depuis « Mon profil »."]
    assert _entry(demo_url, pool, pool.guest).state == "invite"
    assert "Fabre" in set(app.dataframe[0].value["Nom"]) and "Quéméner" in set(app.dataframe[0].value["Nom"])


def test_removing_a_member_needs_a_confirmation(app, demo_url) -> None:
    pool = _pool(demo_url)
    _coordinator(app, pool, "vivier")
    app.session_state[app.dataframe[0].key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    app.run()
    assert _entry(demo_url, pool, pool.nurse).state == "membre"  # ticked, nothing done yet
    button(app, "Confirmer le retrait").click()
    app.run()
    assert _success(app) == ["Inès Garnier est retiré(e) du vivier ; un courriel l'en informe."]
    assert _entry(demo_url, pool, pool.nurse).state == "retire"


def test_the_coordinator_accepts_an_establishments_join_request_from_the_roster_page(app, demo_url) -> None:
    """An EHPAD of the department outside the pool asked to join: its coordinator decides on « Vivier »."""
    pool = _pool(demo_url)
    with session_scope(demo_url) as session:
        outsider = session.get(m.Establishment, session.get(m.Mission, pool.outsider_mission).establishment_id)
        name = outsider.name
        session.expunge(outsider)
        request = m.PoolMember(pool_id=pool.id, establishment_id=outsider.id, state="demande")
        session.add(request)
        session.flush()
        request_id = request.id
    _coordinator(app, pool, "vivier")
    assert any(t.startswith(f"**{name}** — FINESS {outsider.finess}") for t in texts(app.main))
    button(app, "Accepter").click()
    app.run()
    assert _success(app) == [f"« {name} » est membre de la plateforme ; ses comptes sont prévenus par courriel."]
    with session_scope(demo_url, read_only=True) as session:
        assert session.get(m.PoolMember, request_id).state == "membre"
    assert any(t == "Aucune demande d'adhésion en attente." for t in texts(app.main))


# ---------------------------------------------------------------- « Indicateurs de la plateforme »


def test_the_indicators_show_the_pools_figures_and_a_chart_per_establishment_and_profession(app, demo_url) -> None:
    pool = _pool(demo_url)
    with session_scope(demo_url) as session:
        nurse = session.get(m.Professional, pool.nurse)
        nurse.status = "affecte"
        session.add(m.Proposal(mission_id=pool.member_mission, professional_id=pool.nurse, state="affecte",
                               origin="pool"))
    _coordinator(app, pool, "indicateurs-plateforme")
    with session_scope(demo_url, read_only=True) as session:
        figures = pool_indicators(session, actor=user_at(demo_url, pool.coordinator))
    assert figures.totals == {"needs": 1, "filled": 1, "by_pool": 1, "days": 14}
    assert metrics(app) == {"Postes demandés": "1", "Postes pourvus": "1", "Dont proposés par la plateforme": "1",
                            "Jours d'absentéisme couverts": "14"}
    drawn = charts(app)
    assert set(drawn) == {"pool_chart_establishment", "pool_chart_profession"}
    bars = {trace["name"]: plotly_array(trace["x"]) for trace in drawn["pool_chart_profession"]["data"]}
    assert bars == {"Postes demandés": [1], "Postes pourvus": [1]}
    assert list(app.dataframe[1].value["Jours d'absentéisme couverts"]) == [14]
    # A period: three days of the mission, then a fortnight after its end.
    mission = row_at(demo_url, m.Mission, pool.member_mission)
    first, last = mission.start_date + timedelta(days=1), mission.start_date + timedelta(days=3)
    app.date_input(key="pool_indicators_period").set_value((first, last)).run()
    assert not app.exception
    assert metrics(app)["Jours d'absentéisme couverts"] == "3" and metrics(app)["Postes pourvus"] == "1"
    assert any(f"du {first:%d/%m/%Y} au {last:%d/%m/%Y}" in c.value for c in app.caption)
    after = mission.end_date + timedelta(days=1)
    app.date_input(key="pool_indicators_period").set_value((after, after + timedelta(days=14))).run()
    assert [i.value for i in app.info] == [
        f"Aucune mission des établissements membres du {after:%d/%m/%Y} au {after + timedelta(days=14):%d/%m/%Y}."]
    assert not metrics(app)


# ---------------------------------------------------------------- the volunteer's side


def test_a_volunteer_accepts_an_invitation_then_leaves_the_pool_from_my_profile(app, demo_url) -> None:
    pool = _pool(demo_url)
    with session_scope(demo_url) as session:
        email = make_actor(session, "professionnel", professional_id=pool.invited).email
    signed_in(app, email, "professionnel")
    open_page(app, "mon-profil")
    assert not app.exception
    assert "Invitations des plateformes territoriales" in [h.value for h in app.subheader]
    button(app, "Accepter l'invitation").click()
    app.run()
    assert _success(app) == [f"Vous avez rejoint le vivier de la plateforme territoriale « {pool.name} »."]
    assert _entry(demo_url, pool, pool.invited).state == "membre"
    assert "Mes plateformes territoriales" in [h.value for h in app.subheader]
    button(app, "Confirmer").click()
    app.run()
    assert _success(app) == ["Vous avez quitté la plateforme territoriale. Vous restez dans le vivier national."]
    assert _entry(demo_url, pool, pool.invited).state == "retire"


def test_an_unknown_pool_code_is_an_error_under_its_field_and_a_known_one_joins_the_pool(app, demo_url) -> None:
    pool = _pool(demo_url)
    _open_signup(app)
    _fill_valid_form(app)
    app.text_input(key=SIGNUP + "pool_code").input("PT44-NOPE")
    _send(app)
    assert error_under(app, app.text_input(key=SIGNUP + "pool_code")) == (
        "Aucune plateforme territoriale ne porte ce code : vérifiez-le auprès de son coordinateur, ou laissez ce "
        "champ vide pour rejoindre le vivier national.")
    assert count_at(demo_url, m.Professional, m.Professional.last_name == "Durand") == 0
    app.text_input(key=SIGNUP + "pool_code").input(pool.code)
    _send(app)
    assert not app.exception
    assert _success(app) == [f"Merci ! Votre inscription est enregistrée dans le vivier de la plateforme territoriale "
                             f"« {pool.name} » : ses établissements membres peuvent désormais vous solliciter."]
    with session_scope(demo_url, read_only=True) as session:
        professional_id = session.scalar(sa.select(m.Professional.id).where(m.Professional.last_name == "Durand"))
    entry = _entry(demo_url, pool, professional_id)
    assert (entry.state, entry.origin, entry.pool_only) == ("membre", "inscription", True)
