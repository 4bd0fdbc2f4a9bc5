"""The establishment's pages and the volunteer's "Mes missions" through the whole app (AppTest on app.py).

Expected values are computed with the services (core.staffing.missions.dashboard, core.staffing.matching.find_candidates…)
on the same seeded demo the app reads, never hard-coded ids.
"""

from __future__ import annotations

import json
import urllib.parse
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from streamlit.testing.v1 import AppTest

from core.places import reference
from core.shared.actions import Action
from core.shared.actor import to_session_user
from core.shared.clock import paris_today, utcnow
from core.shared.config import get_settings
from core.shared.validation import format_phone
from core.staffing.matching import PAGE_SIZE, CandidateFilters, find_candidates
from core.staffing.missions import MissionInput, assigned_staff, create_missions, dashboard, mission_input
from core.staffing.workflow import contact, express_interest, validate, withdraw
from db import models as m
from db.session import session_scope
from ops.seed import DEMO_ESTABLISHMENT_NAME
from tests.factories import make_actor, make_mission, make_professional
from tests.readers import count_at, events_at, latest_proposal_at, proposals_at, row_at, user_at, xlsx_rows
from tests.ui.conftest import open_page, signed_in, tick
from tests.ui.readers import (
    blocks,
    button,
    candidate_map,
    dialog_titles,
    error_under,
    labels,
    prepared_files,
    served_files,
    table,
    texts,
)

MANAGER = "etablissement@example.org"
VOLUNTEER = "benevole@example.org"
ARS_USER = "ars.paysdelaloire@example.org"
NEED = "new_need:0:"
DEFAULT_STATUSES = ("open", "filled", "pending")


# ---------------------------------------------------------------- data helpers


def _chu(url: str) -> int:
    with session_scope(url, read_only=True) as session:
        return session.scalar(sa.select(m.Establishment.id).where(m.Establishment.name == DEMO_ESTABLISHMENT_NAME))


def _missions(url: str, **filters: Any) -> list[dict]:
    with session_scope(url, read_only=True) as session:
        return dashboard(session, actor=user_at(url, MANAGER), establishment_id=_chu(url), **filters)


def _mission(url: str, mission_id: int) -> dict:
    return next(r for r in _missions(url) if r["id"] == mission_id)


def _candidates(url: str, mission_id: int, filters: CandidateFilters | None = None):  # noqa: ANN202
    with session_scope(url, read_only=True) as session:
        return find_candidates(session, actor=user_at(url, MANAGER), mission_id=mission_id, filters=filters)


def _free_candidate(page) -> dict:  # noqa: ANN001
    return next(r for r in page.rows if r["proposal_state"] is None and r["status"] == "disponible")


def _open_mission_with_free_candidates(url: str, at_least: int = 1) -> int:
    """An open CHU mission whose first page lists at least that many DISPONIBLE volunteers."""
    for row in _missions(url, statuses=("open",)):
        if Action.CHOOSE not in row["actions"]:
            continue
        page = _candidates(url, row["id"])
        if sum(1 for r in page.rows if r["proposal_state"] is None and r["status"] == "disponible") >= at_least:
            return row["id"]
    raise AssertionError("la démo n'a aucune mission ouverte du CHU avec des candidats disponibles")


def _contact(url: str, mission_id: int, professional_id: int) -> int:
    with session_scope(url) as session:
        return contact(session, actor=user_at(url, MANAGER), mission_id=mission_id, professional_id=professional_id).id


def _ensure_an_assignment(url: str) -> None:
    """The demo assigns volunteers to the CHU; should it not, assign one through the services."""
    with session_scope(url, read_only=True) as session:
        if assigned_staff(session, actor=user_at(url, MANAGER), establishment_id=_chu(url)):
            return
    mission_id = _open_mission_with_free_candidates(url)
    professional_id = _free_candidate(_candidates(url, mission_id))["id"]
    _contact(url, mission_id, professional_id)
    with session_scope(url) as session:
        validate(session, actor=user_at(url, MANAGER), mission_id=mission_id, professional_ids=[professional_id])


# ---------------------------------------------------------------- page helpers


def _position(frame: pd.DataFrame, record_id: int) -> int:
    return frame["id"].tolist().index(record_id)


def _pager_caption(app: AppTest) -> str:
    return next(c.value for c in app.caption if c.value.startswith("Affichage "))


# ---------------------------------------------------------------- "Tableau de bord"


def test_the_dashboard_is_the_establishment_home_and_sums_up_its_missions(app, demo_url) -> None:
    signed_in(app, MANAGER, "etablissement")
    assert app.title[0].value == "Tableau de bord"
    everything = _missions(demo_url)
    open_rows = [r for r in everything if r["status"] == "open"]
    assert {mt.label: mt.value for mt in app.metric} == {
        "Missions ouvertes": str(len(open_rows)),
        "Postes à pourvoir": str(sum(r["count"] - r["assigned"] for r in open_rows)),
        "Professionnels contactés": str(sum(r["contacted"] + r["pushed"] for r in everything)),
        "Professionnels affectés": str(sum(r["assigned"] for r in everything)),
    }
    assert app.caption[0].value.startswith(
        f"Traitement des besoins en renfort pour mon établissement — {DEMO_ESTABLISHMENT_NAME}, ")


def test_the_table_lists_the_establishment_missions_with_their_filled_counts(app, demo_url) -> None:
    signed_in(app, MANAGER, "etablissement")
    expected = _missions(demo_url, statuses=DEFAULT_STATUSES)
    frame = table(app)
    assert frame["id"].tolist() == [r["id"] for r in expected]
    assert frame["Pourvue"].tolist() == [f"POURVUE {r['assigned']}/{r['count']}" for r in expected]
    assert any(r["assigned"] for r in expected), "la démo devrait avoir au moins une mission en partie pourvue"
    # Only this establishment's missions: not those of the other establishment the manager runs.
    with session_scope(demo_url, read_only=True) as session:
        others = set(session.scalars(sa.select(m.Mission.id).where(m.Mission.establishment_id != _chu(demo_url))))
    assert not others & set(frame["id"])


def test_the_status_profession_and_unfilled_filters_change_the_rows(app, demo_url) -> None:
    signed_in(app, MANAGER, "etablissement")
    everything = [r["id"] for r in _missions(demo_url, statuses=DEFAULT_STATUSES)]

    app.multiselect(key="dash_status").set_value(["filled"]).run()
    filled = [r["id"] for r in _missions(demo_url, statuses=("filled",))]
    assert filled and len(filled) < len(everything)
    assert table(app)["id"].tolist() == filled

    app.multiselect(key="dash_status").set_value(["closed"]).run()
    assert not app.dataframe
    assert [i.value for i in app.info] == ["Aucune mission ne correspond à ces filtres."]

    app.multiselect(key="dash_status").set_value(list(DEFAULT_STATUSES)).run()
    app.selectbox(key="dash_profession").select("infirmier_de").run()
    nurses = [r["id"] for r in _missions(demo_url, statuses=DEFAULT_STATUSES, profession="infirmier_de")]
    assert nurses and len(nurses) < len(everything)
    assert table(app)["id"].tolist() == nurses

    app.checkbox(key="dash_unfilled").check().run()
    unfilled = [r["id"] for r in _missions(demo_url, statuses=DEFAULT_STATUSES, profession="infirmier_de",
                                           unfilled_only=True)]
    assert unfilled and len(unfilled) < len(nurses)
    assert table(app)["id"].tolist() == unfilled
    assert set(table(app)["Statut"]) == {"Ouverte"}


def test_selecting_a_mission_shows_its_actions_enabled_according_to_its_state(app, demo_url) -> None:
    signed_in(app, MANAGER, "etablissement")
    frame = table(app)
    free = next(r for r in _missions(demo_url, statuses=DEFAULT_STATUSES) if r["status"] == "open" and not r["assigned"])
    filled = next(r for r in _missions(demo_url, statuses=DEFAULT_STATUSES) if r["status"] == "filled")
    assert "Choisir" not in labels(app)  # nothing selected, no action

    tick(app, _position(frame, free["id"]))
    assert any(md.value.startswith(f"**Mission sélectionnée : {free['profession']}**") and
               md.value.endswith(f"POURVUE 0/{free['count']}") for md in app.markdown)
    assert {k: v for k, v in labels(app).items() if k in ("Choisir", "Modifier", "Dupliquer", "Clôturer")} == {
        "Choisir": True, "Modifier": True, "Dupliquer": True, "Clôturer": True}

    tick(app, _position(frame, filled["id"]))
    assert {k: v for k, v in labels(app).items() if k in ("Choisir", "Modifier", "Dupliquer", "Clôturer")} == {
        "Modifier": False, "Dupliquer": True, "Clôturer": True}  # nobody left to choose: no "Choisir"
    assert "Mission pourvue : plus de renfort à choisir." in [c.value for c in app.caption]
    assert button(app, "Modifier").help == ("1 professionnel(s) sont déjà affectés à cette mission : elle ne peut plus "
                                             "être modifiée. Annulez d'abord l'affectation, ou dupliquez la mission.")


def test_duplicating_a_mission_adds_an_open_copy_and_says_so(app, demo_url) -> None:
    signed_in(app, MANAGER, "etablissement")
    source = next(r for r in _missions(demo_url, statuses=DEFAULT_STATUSES) if r["status"] == "filled")
    before = count_at(demo_url, m.Mission)
    tick(app, _position(table(app), source["id"]))
    button(app, "Dupliquer").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == ["Mission dupliquée : la copie est ouverte, vous pouvez la modifier."]
    assert count_at(demo_url, m.Mission) == before + 1
    copy = max(_missions(demo_url), key=lambda r: r["id"])
    assert (copy["profession_code"], copy["count"], copy["status"], copy["assigned"]) == (
        source["profession_code"], source["count"], "open", 0)
    assert copy["id"] in table(app)["id"].tolist()
    assert not [md.value for md in app.markdown if md.value.startswith("**Mission sélectionnée")]


def test_closing_a_mission_asks_for_confirmation_then_releases_its_contacted_volunteers(app, demo_url) -> None:
    mission_id = _open_mission_with_free_candidates(demo_url)
    with session_scope(demo_url) as session:  # a reservation waiting on the mission to close
        contact(session, actor=user_at(demo_url, MANAGER), mission_id=mission_id, professional_id=_free_candidate(_candidates(demo_url, mission_id))["id"])
    signed_in(app, MANAGER, "etablissement")
    target = next(r for r in _missions(demo_url, statuses=("open",)) if r["id"] == mission_id)
    with session_scope(demo_url, read_only=True) as session:
        contacted = list(session.scalars(sa.select(m.Proposal.professional_id).where(
            m.Proposal.mission_id == target["id"], m.Proposal.state == "contacte")))
    tick(app, _position(table(app), target["id"]))

    button(app, "Clôturer").click().run()
    assert dialog_titles(app) == ["Clôturer la mission"]
    sheet_texts = texts(blocks(app._tree, "dialog")[0])
    assert sheet_texts[0].startswith(f"Clôturer la mission **{target['profession']}** du ")
    assert "Une mission clôturée n'est jamais supprimée : vous pourrez la dupliquer." in sheet_texts[1]
    assert _mission(demo_url, target["id"])["status"] == "open"  # nothing happens before the answer

    # In the browser "Oui, clôturer" reruns the dialog alone (a fragment); AppTest reruns the whole page,
    # so the button that opened the dialog is pressed again with the answer.
    button(app, "Clôturer").click()
    button(app, "Oui, clôturer").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == [f"Mission clôturée ; {len(contacted)} professionnel(s) libéré(s)."]
    assert _mission(demo_url, target["id"])["status"] == "closed"
    for professional_id in contacted:
        assert latest_proposal_at(demo_url, target["id"], professional_id).state == "libere"
        assert row_at(demo_url, m.Professional, professional_id).status == "disponible"
    assert target["id"] not in table(app)["id"].tolist()  # closed missions are not listed by default


def test_after_closing_a_mission_the_tick_does_not_slide_onto_the_next_one(app, demo_url) -> None:
    signed_in(app, MANAGER, "etablissement")
    frame = table(app)
    first = frame["id"].iloc[0]
    assert Action.CLOSE in _mission(demo_url, first)["actions"] and len(frame) > 1
    tick(app, 0)
    button(app, "Clôturer").click().run()
    button(app, "Clôturer").click()
    button(app, "Oui, clôturer").click().run()
    assert _mission(demo_url, first)["status"] == "closed"
    assert table(app)["id"].tolist() == frame["id"].tolist()[1:]
    assert not [md.value for md in app.markdown if md.value.startswith("**Mission sélectionnée")]
    assert "Clôturer" not in labels(app)


def test_choose_opens_the_candidates_of_the_selected_mission_from_their_first_page(app, demo_url) -> None:
    mission_id = _open_mission_with_free_candidates(demo_url)
    signed_in(app, MANAGER, "etablissement")
    app.session_state["choose_page"] = PAGE_SIZE  # left on page 2 of another mission's candidates
    tick(app, _position(table(app), mission_id))
    button(app, "Choisir").click().run()
    assert not app.exception
    assert app.title[0].value == "Choisir des renforts"
    assert app.selectbox(key="chosen_mission").value == mission_id
    total = _candidates(demo_url, mission_id).total
    assert _pager_caption(app).startswith(f"Affichage 1 - {min(total, PAGE_SIZE)} de {total}")


# ---------------------------------------------------------------- "Nouveau besoin"


def _open_need(app: AppTest) -> AppTest:
    signed_in(app, MANAGER, "etablissement")
    return open_page(app, "nouveau-besoin")


def test_the_new_need_page_shows_the_establishment_identity_read_only(app, demo_url) -> None:
    _open_need(app)
    with session_scope(demo_url, read_only=True) as session:
        chu = session.get(m.Establishment, _chu(demo_url))
        identity = (f"**{chu.name}**  \n{chu.address}, {chu.postal_code} {chu.city}  \n"
                    f"{'GID' if chu.id_kind == 'gid' else 'FINESS'} {chu.finess}")
    assert identity in [md.value for md in app.markdown]
    assert "Ces informations viennent de votre compte ; pour les corriger, contactez votre ARS." in [
        c.value for c in app.caption]
    # Nothing of the identity can be typed over: every input belongs to a mission row.
    assert all(w.key.startswith(NEED + "m1.") for w in app.text_input)
    assert DEMO_ESTABLISHMENT_NAME not in [w.value for w in app.text_input]


def test_an_end_date_before_the_start_is_shown_under_the_field_and_nothing_is_saved(app, demo_url) -> None:
    _open_need(app)
    start, end = paris_today() + timedelta(days=10), paris_today() + timedelta(days=5)
    app.selectbox(key=NEED + "m1.profession_code").select("aide_soignant")
    app.date_input(key=NEED + "m1.start_date").set_value(start)
    app.date_input(key=NEED + "m1.end_date").set_value(end)
    before = count_at(demo_url, m.Mission)
    button(app, "Enregistrer les besoins").click().run()
    assert not app.exception
    assert error_under(app, app.date_input(key=NEED + "m1.end_date")) == (
        f"La date de fin ({end:%d/%m/%Y}) est antérieure à la date de début ({start:%d/%m/%Y}).")
    assert error_under(app, app.date_input(key=NEED + "m1.start_date")) is None
    assert [e.value for e in app.error][-1] == "1 champ à corriger : voir les messages en rouge ci-dessus."
    assert count_at(demo_url, m.Mission) == before
    assert app.selectbox(key=NEED + "m1.profession_code").value == "aide_soignant"  # kept for correction
    assert app.title[0].value == "Nouveau besoin"


def test_two_valid_rows_create_two_open_missions_and_lead_back_to_the_dashboard(app, demo_url) -> None:
    _open_need(app)
    button(app, "Ajouter une mission").click().run()
    assert [md.value for md in app.markdown if md.value.startswith("**Mission ")] == ["**Mission 1**", "**Mission 2**"]
    start = paris_today() + timedelta(days=3)
    app.selectbox(key=NEED + "m1.profession_code").select("aide_soignant")
    app.number_input(key=NEED + "m1.count").set_value(2)
    app.selectbox(key=NEED + "m2.profession_code").select("infirmier_de")
    app.text_input(key=NEED + "m2.specialty").input("urgences")
    app.date_input(key=NEED + "m2.start_date").set_value(start)
    app.date_input(key=NEED + "m2.end_date").set_value(start + timedelta(days=7))
    app.checkbox(key=NEED + "m2.needs_weekend").check()
    app.text_input(key=NEED + "m2.contact_name").input("Dr Anne Roux")
    app.text_input(key=NEED + "m2.contact_phone").input("02 40 00 00 00")
    before = count_at(demo_url, m.Mission)
    button(app, "Enregistrer les besoins").click().run()
    assert not app.exception
    assert [e.value for e in app.error] == []
    assert app.title[0].value == "Tableau de bord"
    assert [s.value for s in app.success] == ["2 besoin(s) enregistré(s) : choisissez maintenant vos renforts."]
    with session_scope(demo_url, read_only=True) as session:
        created = session.scalars(sa.select(m.Mission).order_by(m.Mission.id.desc()).limit(2)).all()[::-1]
        assert count_at(demo_url, m.Mission) == before + 2
        assert [(c.profession_code, c.count, c.status, c.establishment_id) for c in created] == [
            ("aide_soignant", 2, "open", _chu(demo_url)), ("infirmier_de", 1, "open", _chu(demo_url))]
        nurse = created[1]
        assert (nurse.specialty, nurse.start_date, nurse.end_date, nurse.needs_weekend, nurse.contact_name) == (
            "urgences", start, start + timedelta(days=7), True, "Dr Anne Roux")
    assert {c.id for c in created} <= set(table(app)["id"])
    # each need just filed can be chosen for at once, from the dashboard
    offers = [b for b in app.button if b.label.startswith("Choisir des renforts : ")]
    assert [b.label.split(" du ")[0] for b in offers] == ["Choisir des renforts : Aide-soignant",
                                                         "Choisir des renforts : Infirmier diplômé d'État"]
    offers[1].click().run()
    assert app.title[0].value == "Choisir des renforts"
    assert app.session_state["chosen_mission"] == created[1].id


def test_cancel_empties_the_form(app) -> None:
    _open_need(app)
    button(app, "Ajouter une mission").click().run()
    app.selectbox(key=NEED + "m1.profession_code").select("aide_soignant")
    app.text_input(key=NEED + "m1.specialty").input("gériatrie")
    app.number_input(key=NEED + "m1.count").set_value(3)
    app.run()
    button(app, "Annuler").click().run()
    assert not app.exception
    fresh = "new_need:1:"
    assert app.selectbox(key=fresh + "m1.profession_code").value is None
    assert app.text_input(key=fresh + "m1.specialty").value == ""
    assert app.number_input(key=fresh + "m1.count").value == 1
    assert [md.value for md in app.markdown if md.value.startswith("**Mission ")] == ["**Mission 1**"]
    # …and it stays empty after a visit to another page.
    open_page(app, "tableau-de-bord")
    open_page(app, "nouveau-besoin")
    assert app.text_input(key=fresh + "m1.specialty").value == ""


# ---------------------------------------------------------------- "Choisir"


def _open_choose(app: AppTest, mission_id: int) -> AppTest:
    signed_in(app, MANAGER, "etablissement")
    app.session_state["chosen_mission"] = mission_id
    open_page(app, "choisir")
    assert not app.exception
    return app


def test_the_link_of_an_interest_e_mail_opens_choose_on_its_mission_once(app, demo_url) -> None:
    choosable = [row["id"] for row in _missions(demo_url, statuses=("open",)) if Action.CHOOSE in row["actions"]]
    linked = choosable[-1]  # not the mission the page opens on by itself
    assert len(choosable) > 1
    signed_in(app, MANAGER, "etablissement")
    app.query_params["mission"] = str(linked)
    open_page(app, "choisir")
    assert not app.exception
    assert app.selectbox(key="chosen_mission").value == linked
    assert _pager_caption(app).startswith("Affichage 1 - ")
    assert "mission" not in app.query_params  # dropped: another mission picked in the list stays picked
    app.selectbox(key="chosen_mission").set_value(choosable[0]).run()
    assert app.selectbox(key="chosen_mission").value == choosable[0]


def test_the_link_to_a_mission_of_the_users_other_establishment_switches_to_it(app, demo_url) -> None:
    """The demo manager runs the CHU and an EHPAD: a link to an EHPAD mission opens the EHPAD, on that mission."""
    manager = user_at(demo_url, MANAGER)
    ehpad = next(i for i in manager.establishment_ids if i != _chu(demo_url))
    with session_scope(demo_url) as session:
        start = paris_today() + timedelta(days=6)
        [linked] = create_missions(session, actor=manager, establishment_id=ehpad, missions=[MissionInput(
            profession_code="aide_soignant", count=1, start_date=start, end_date=start + timedelta(days=6))])
    signed_in(app, MANAGER, "etablissement")
    assert app.sidebar.selectbox(key="current_establishment").value == _chu(demo_url)
    app.query_params["mission"] = str(linked)
    open_page(app, "choisir")
    assert not app.exception
    assert app.sidebar.selectbox(key="current_establishment").value == ehpad
    assert app.selectbox(key="chosen_mission").value == linked
    assert not [i.value for i in app.info if i.value.startswith("La mission du lien")]


@pytest.mark.parametrize("wrong", ["999999", "abc"])
def test_a_link_to_a_mission_that_is_not_open_here_says_so_and_opens_the_first(app, demo_url, wrong: str) -> None:
    choosable = [row["id"] for row in _missions(demo_url, statuses=("open",)) if Action.CHOOSE in row["actions"]]
    signed_in(app, MANAGER, "etablissement")
    app.session_state["chosen_mission"] = choosable[-1]
    app.query_params["mission"] = wrong
    open_page(app, "choisir")
    assert app.selectbox(key="chosen_mission").value == choosable[0]
    assert [i.value for i in app.info][:1] == [
        "La mission du lien est pourvue, clôturée ou n'est pas une mission de votre établissement : voici vos "
        "missions à pourvoir."]


def _interested(url: str, proposal_id: int, professional_id: int) -> None:
    """« Je suis intéressé(e) », said by the volunteer's own account (opened for one who has none)."""
    with session_scope(url) as session:
        user = session.scalar(sa.select(m.User).where(m.User.professional_id == professional_id))
        actor = (to_session_user(session, user=user) if user else
                 make_actor(session, "professionnel", professional_id=professional_id,
                            email=f"interesse.{professional_id}@example.org"))
        express_interest(session, actor=actor, proposal_id=proposal_id)


def test_choose_names_above_the_list_who_said_interested_and_waits_for_a_decision(app, demo_url) -> None:
    mission_id = _open_mission_with_free_candidates(demo_url)
    free = _free_candidate(_candidates(demo_url, mission_id))
    _interested(demo_url, _contact(demo_url, mission_id, free["id"]), free["id"])
    _open_choose(app, mission_id)
    [notice] = [s.value for s in app.success if s.value.startswith("**Intéressé(e)s, en attente de votre décision**")]
    assert f"- {free['first_name']} {free['last_name']}, le " in notice
    assert notice.endswith(" : cochez sa ligne puis « Valider les candidatures ».")


def _table_key_prefix(generation: int = 0) -> str:
    """The candidates' table key: a generation bumped after each action, then a digest of the rows shown."""
    return f"choose_table_{generation}_"


def test_the_candidates_page_shows_the_total_the_offline_map_and_the_ranked_table(app, demo_url) -> None:
    mission_id = _open_mission_with_free_candidates(demo_url)
    _open_choose(app, mission_id)
    page = _candidates(demo_url, mission_id)
    assert page.total > 0
    assert _pager_caption(app).startswith(f"Affichage 1 - {len(page.rows)} de {page.total}")
    shown = candidate_map(app)
    assert shown["L'établissement"] == []  # its ring, no volunteer behind it
    assert sorted(i for ids in shown.values() for i in ids) == sorted(p["id"] for p in page.map_points)
    frame = table(app)
    assert frame["id"].tolist() == [r["id"] for r in page.rows]
    assert set(frame["Statut"]) <= {"DISPONIBLE", "CONTACTÉ", "EN COURS (PROPOSÉ PAR L'ARS)", "AFFECTÉ"}
    assert not any(labels(app)[label] for label in ("Contacter", "Valider les candidatures",
                                                     "Refuser les candidatures", "Voir la fiche"))


def test_with_a_base_map_configured_the_candidates_are_drawn_over_its_tiles(app, demo_url, monkeypatch) -> None:
    """RENFORT_MAP_TILES: the WebGL map, the only one that draws tiles, with the same points as the SVG map."""
    monkeypatch.setenv("RENFORT_MAP_TILES", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    get_settings.cache_clear()
    mission_id = _open_mission_with_free_candidates(demo_url)
    _open_choose(app, mission_id)
    assert not app.get("plotly_chart")
    [deck] = app.get("deck_gl_json_chart")
    spec = json.loads(deck.proto.json)
    assert "tile.openstreetmap.org" in urllib.parse.unquote(spec["mapStyle"])
    [candidates] = [layer for layer in spec["layers"] if layer["id"] == "candidats"]
    page = _candidates(demo_url, mission_id)
    assert sorted(p["id"] for p in candidates["data"]) == sorted(p["id"] for p in page.map_points)


def _mission_with_several_pages(url: str) -> tuple[int, int]:
    """A new CHU mission with more free nurses around Nantes than one page shows."""
    with session_scope(url) as session:
        user = session.scalar(sa.select(m.User).where(m.User.email == MANAGER))
        mission = make_mission(session, session.get(m.Establishment, _chu(url)), user)
        for _ in range(PAGE_SIZE + 5):
            make_professional(session, postal_code="44000")
        mission_id = mission.id
    return mission_id, _candidates(url, mission_id).total


def test_the_pager_walks_through_the_candidates_in_score_order(app, demo_url) -> None:
    mission_id, total = _mission_with_several_pages(demo_url)
    _open_choose(app, mission_id)
    first = table(app)["id"].tolist()
    assert _pager_caption(app).startswith(f"Affichage 1 - {PAGE_SIZE} de {total}")
    assert app.button(key="choose_prev").disabled and not app.button(key="choose_next").disabled

    app.button(key="choose_next").click().run()
    second = table(app)["id"].tolist()
    with session_scope(demo_url, read_only=True) as session:
        expected = find_candidates(session, actor=user_at(demo_url, MANAGER), mission_id=mission_id, filters=None, offset=PAGE_SIZE)
    assert second == [r["id"] for r in expected.rows] and not set(first) & set(second)
    assert _pager_caption(app).startswith(f"Affichage {PAGE_SIZE + 1} - {PAGE_SIZE + len(second)} de {total}")
    assert not app.button(key="choose_prev").disabled

    app.button(key="choose_prev").click().run()
    assert table(app)["id"].tolist() == first


def test_the_distance_and_verified_filters_narrow_the_total_as_the_service_does(app, demo_url) -> None:
    mission_id = _open_mission_with_free_candidates(demo_url)
    _open_choose(app, mission_id)
    page = _candidates(demo_url, mission_id)
    distances = sorted(r["distance_km"] for r in page.rows)
    limit = int(distances[len(distances) // 2]) + 1  # about half of them
    near = _candidates(demo_url, mission_id, CandidateFilters(max_distance_km=limit)).total
    assert 0 < near < page.total

    app.number_input(key="choose_distance").set_value(limit).run()
    assert _pager_caption(app).startswith(f"Affichage 1 - {min(near, PAGE_SIZE)} de {near}")
    assert (table(app)["Distance (km)"] <= limit).all()

    app.checkbox(key="choose_verified").check().run()
    verified = _candidates(demo_url, mission_id, CandidateFilters(max_distance_km=limit, verified_only=True)).total
    assert verified != near
    if verified:
        assert _pager_caption(app).startswith(f"Affichage 1 - {min(verified, PAGE_SIZE)} de {verified}")
        assert set(table(app)["Vérifié"]) == {"VÉRIFIÉ"}
    else:
        assert [i.value for i in app.info] == [
            "Aucun professionnel ne correspond à ces filtres : élargissez-les (distance, statut, expériences…)."]


def test_contacting_then_validating_a_volunteer_assigns_them_and_emails_them(app, demo_url) -> None:
    mission_id = _open_mission_with_free_candidates(demo_url)
    _open_choose(app, mission_id)
    page = _candidates(demo_url, mission_id)
    volunteer = _free_candidate(page)
    position = [r["id"] for r in page.rows].index(volunteer["id"])
    assigned_before = _mission(demo_url, mission_id)["assigned"]

    assert app.dataframe[0].key.startswith(_table_key_prefix())
    tick(app, position)
    assert labels(app)["Contacter (1)"] is True
    assert labels(app)["Valider les candidatures"] is False
    button(app, "Contacter (1)").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == [
        "1 professionnel(s) contacté(s) : ils sont réservés pour vous. Appelez-les, puis validez ou refusez leur "
        "candidature."]
    assert latest_proposal_at(demo_url, mission_id, volunteer["id"]).state == "contacte"
    assert row_at(demo_url, m.Professional, volunteer["id"]).status == "contacte"
    frame = table(app)  # the table starts again with nothing ticked
    assert app.dataframe[0].key.startswith(_table_key_prefix(generation=1))  # nothing ticked after the action
    assert frame.loc[frame["id"] == volunteer["id"], "Statut"].tolist() == ["CONTACTÉ"]
    assert "Contacter" in labels(app) and not labels(app)["Contacter"]

    tick(app, _position(frame, volunteer["id"]))
    assert labels(app)["Valider les candidatures"] is True
    assert labels(app)["Contacter (1)"] is False
    button(app, "Valider les candidatures").click().run()
    assert not app.exception
    assert app.success[0].value.startswith(
        "1 candidature(s) validée(s) : un courriel de confirmation leur est envoyé.")
    proposal = latest_proposal_at(demo_url, mission_id, volunteer["id"])
    assert proposal.state == "affecte"
    assert _mission(demo_url, mission_id)["assigned"] == assigned_before + 1
    email = row_at(demo_url, m.Professional, volunteer["id"]).email
    assert count_at(demo_url, m.Outbox, m.Outbox.to == email, m.Outbox.dedup_key == f"assigned:{proposal.id}") == 1


def test_refusing_a_contacted_volunteer_releases_them(app, demo_url) -> None:
    mission_id = _open_mission_with_free_candidates(demo_url)
    volunteer = _free_candidate(_candidates(demo_url, mission_id))
    _contact(demo_url, mission_id, volunteer["id"])
    _open_choose(app, mission_id)
    position = _position(table(app), volunteer["id"])
    tick(app, position)
    assert labels(app)["Refuser les candidatures"] is True
    button(app, "Refuser les candidatures").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == ["1 professionnel(s) libéré(s) pour d'autres établissements."]
    assert latest_proposal_at(demo_url, mission_id, volunteer["id"]).state == "refuse"
    assert row_at(demo_url, m.Professional, volunteer["id"]).status == "disponible"


def _map_click(app: AppTest, professional_id: int, generation: int = 0) -> AppTest:
    app.session_state[f"choose_map_{generation}"] = {  # as the browser sends a click on a point of the SVG map
        "selection": {"points": [{"curve_number": 2, "point_number": 0, "point_index": 0,
                                  "customdata": [professional_id, "", ""]}],
                      "point_indices": [0], "box": [], "lasso": []}}
    return app.run()


def test_a_click_on_the_map_opens_the_sheet_with_contact_details_only_once_contacted(app, demo_url) -> None:
    mission_id = _open_mission_with_free_candidates(demo_url)
    _open_choose(app, mission_id)
    volunteer = _free_candidate(_candidates(demo_url, mission_id))
    professional = row_at(demo_url, m.Professional, volunteer["id"])
    hidden = "Coordonnées et documents visibles dès que vous contactez ce professionnel."

    _map_click(app, volunteer["id"])
    assert not app.exception
    assert dialog_titles(app) == ["Fiche du professionnel"]
    sheet = texts(blocks(app._tree, "dialog")[0])
    assert sheet[0].startswith(f"### {professional.first_name} {professional.last_name}")
    assert hidden in sheet
    assert not any(professional.email in text or "**Téléphone**" in text for text in sheet)

    # Contact through the page, then click the volunteer again on the (new) map.
    tick(app, _position(table(app), volunteer["id"]))
    button(app, "Contacter (1)").click().run()
    _map_click(app, volunteer["id"], generation=1)
    sheet = texts(blocks(app._tree, "dialog")[0])
    assert hidden not in sheet
    assert f"**Téléphone** : {format_phone(professional.phone)}  \n**Courriel** : {professional.email}" in sheet


def test_a_sheet_closed_after_a_map_click_does_not_reopen_when_a_row_is_ticked(app, demo_url) -> None:
    mission_id = _open_mission_with_free_candidates(demo_url, at_least=2)
    _open_choose(app, mission_id)
    page = _candidates(demo_url, mission_id)
    first, second = [r["id"] for r in page.rows if r["proposal_state"] is None and r["status"] == "disponible"][:2]
    _map_click(app, first)
    assert dialog_titles(app) == ["Fiche du professionnel"]
    tick(app, _position(table(app), second))
    assert dialog_titles(app) == []  # the map's selection persists, the sheet stays closed
    button(app, "Voir la fiche").click().run()
    assert not app.exception  # no second dialog opened in the same run
    professional = row_at(demo_url, m.Professional, second)
    assert texts(blocks(app._tree, "dialog")[0])[0].startswith(f"### {professional.first_name} {professional.last_name}")


def test_in_crisis_mode_the_page_shows_the_ars_message_instead_of_candidates(app, demo_url) -> None:
    # A fresh copy of a mission with free candidates: nobody is linked to it yet.
    with session_scope(demo_url) as session:
        user = user_at(demo_url, MANAGER)
        like = mission_input(session, actor=user, mission_id=_open_mission_with_free_candidates(demo_url))
        mission_id = create_missions(session, actor=user, establishment_id=_chu(demo_url), missions=[like])[0]
    assert _candidates(demo_url, mission_id).total > 0
    with session_scope(demo_url) as session:
        ars_user = session.scalar(sa.select(m.User.id).where(m.User.email == ARS_USER))
        session.add(m.CrisisMode(ars_code="52", enabled_by=ars_user, enabled_at=utcnow() - timedelta(minutes=1)))
    _open_choose(app, mission_id)
    profession = reference.profession_labels()[_mission(demo_url, mission_id)["profession_code"]]
    assert [w.value for w in app.warning] == [
        "Mode gestion de crise : l'ARS propose elle-même les candidats pour cette profession."]
    assert [i.value for i in app.info] == [
        f"L'ARS {reference.ars_names()['52']} a activé le mode gestion de crise pour la profession « {profession} » : "
        "c'est elle qui propose les candidats. Ceux qu'elle vous proposera apparaîtront ici."]
    assert not app.dataframe
    assert not app.get("plotly_chart") and not app.get("deck_gl_json_chart")


# ---------------------------------------------------------------- "Voir affectation professionnels"


def _documents_at(url: str, professional_id: int) -> dict[str, m.Document]:
    """A volunteer's documents by kind, detached with their content (a deferred column)."""
    with session_scope(url, read_only=True) as session:
        documents = session.scalars(sa.select(m.Document).options(so.undefer(m.Document.content))
                                    .where(m.Document.professional_id == professional_id)).all()
        session.expunge_all()
        return {d.kind: d for d in documents}


def _open_assignments(app: AppTest, url: str) -> list[dict]:
    _ensure_an_assignment(url)
    signed_in(app, MANAGER, "etablissement")
    open_page(app, "affectations")
    assert not app.exception
    with session_scope(url, read_only=True) as session:
        return assigned_staff(session, actor=user_at(url, MANAGER), establishment_id=_chu(url))


def test_the_assigned_volunteers_are_listed_with_an_excel_export(app, demo_url) -> None:
    staff = _open_assignments(app, demo_url)
    assert app.title[0].value == "Professionnels affectés"
    frame = table(app)
    assert list(zip(frame["Nom"], frame["Prénom"], frame["Courriel"])) == [
        (r["last_name"], r["first_name"], r["email"]) for r in staff]
    assert served_files(app) == {}  # nothing is read before it is asked for


def test_the_assigned_staff_list_is_prepared_as_an_excel_file_and_the_export_recorded(app, demo_url) -> None:
    staff = _open_assignments(app, demo_url)
    button(app, "Préparer la liste (.xlsx)").click().run()
    assert not app.exception and not app.error
    [(label, content)] = served_files(app).items()
    assert label == "Télécharger la liste (.xlsx)"
    assert "Préparer la liste (.xlsx)" not in labels(app)
    header, *rows = xlsx_rows(content)
    assert header[:5] == ("Nom", "Prénom", "Profession", "Téléphone", "Courriel")
    assert [row[:2] + row[4:5] for row in rows] == [(r["last_name"], r["first_name"], r["email"]) for r in staff]
    [event] = events_at(demo_url, "assigned_staff")
    assert (event.actor_user_id, event.entity_id, event.details) == (
        user_at(demo_url, MANAGER).id, str(_chu(demo_url)), {"rows": len(staff), "nominative": True})

    app.run()  # a later run offers the same file, without building it again
    assert served_files(app) == {"Télécharger la liste (.xlsx)": content}
    assert len(events_at(demo_url, "assigned_staff")) == 1


def test_a_file_prepared_by_one_user_is_not_offered_to_the_next_one_in_the_same_browser_tab(app, demo_url) -> None:
    _open_assignments(app, demo_url)
    button(app, "Préparer la liste (.xlsx)").click().run()
    assert len(prepared_files(app)) == 1
    signed_in(app, VOLUNTEER, "professionnel")  # signed out, then someone else signs in: the session stays
    open_page(app, "mon-profil")
    assert prepared_files(app) == {} and served_files(app) == {}
    signed_in(app, MANAGER, "etablissement")
    open_page(app, "affectations")
    assert labels(app)["Préparer la liste (.xlsx)"] and served_files(app) == {}  # prepared (and recorded) again


def test_a_volunteers_documents_are_prepared_from_the_sheet_and_each_download_recorded(app, demo_url) -> None:
    staff = _open_assignments(app, demo_url)
    row = staff[0]
    tick(app, 0)
    button(app, "Voir la fiche").click().run()
    documents = _documents_at(demo_url, row["professional_id"])
    assert documents, "les volontaires de la démo ont leurs justificatifs"
    name = f"Diplôme — {documents['diplome'].filename}"
    assert f"Préparer : {name}" in labels(app) and served_files(app) == {}
    # In the browser « Préparer » reruns the dialog alone; AppTest reruns the page: press both buttons.
    button(app, "Voir la fiche").click()
    button(app, f"Préparer : {name}").click().run()
    assert not app.exception and not app.error
    assert dialog_titles(app) == ["Fiche du professionnel"]
    assert served_files(app) == {f"Télécharger : {name}": documents["diplome"].content}
    assert prepared_files(app) == {f"document_{documents['diplome'].id}": documents["diplome"].content}
    [event] = events_at(demo_url, "document_downloaded")
    assert (event.actor_user_id, event.entity, event.entity_id, event.details) == (
        user_at(demo_url, MANAGER).id, "professional", str(row["professional_id"]),
        {"document_id": documents["diplome"].id, "kind": "diplome"})


def test_cancelling_an_assignment_needs_a_reason(app, demo_url) -> None:
    staff = _open_assignments(app, demo_url)
    row = staff[0]
    tick(app, 0)
    assert any(md.value.startswith(f"**{row['first_name']} {row['last_name']}** — {row['mission']} du ")
               for md in app.markdown)
    button(app, "Confirmer l'annulation").click().run()
    assert not app.exception
    assert [e.value for e in app.error] == ["Le champ « Motif de l'annulation » est obligatoire."]
    assert latest_proposal_at(demo_url, row["mission_id"], row["professional_id"]).state == "affecte"

    app.text_area(key=f"cancel_reason_{row['proposal_id']}").input("Absence imprévue du professionnel")
    button(app, "Confirmer l'annulation").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == [
        f"Affectation de {row['first_name']} {row['last_name']} annulée ; la mission est rouverte et le "
        "professionnel prévenu par courriel."]
    proposal = latest_proposal_at(demo_url, row["mission_id"], row["professional_id"])
    assert (proposal.state, proposal.reason) == ("annule", "Absence imprévue du professionnel")
    assert row_at(demo_url, m.Professional, row["professional_id"]).status == "disponible"
    assert _mission(demo_url, row["mission_id"])["status"] == "open"
    # Nobody else is selected in their place, with the cancellation one click away.
    assert (len(app.dataframe[0].value) if app.dataframe else 0) == len(staff) - 1
    assert "Confirmer l'annulation" not in labels(app)


# ---------------------------------------------------------------- "Mes missions" (volunteer)


def _reserve_the_demo_volunteer(url: str) -> int:
    """The demo volunteer's waiting reservation (made by the CHU if the demo made none)."""
    volunteer = user_at(url, VOLUNTEER)
    live = proposals_at(url, volunteer.professional_id, states=("contacte", "en_cours"))
    if live:
        return live[0].id
    for row in _missions(url, statuses=("open",)):
        page = _candidates(url, row["id"])
        if any(r["id"] == volunteer.professional_id and r["proposal_state"] is None for r in page.rows):
            return _contact(url, row["id"], volunteer.professional_id)
    raise AssertionError("la bénévole de démo n'est candidate à aucune mission ouverte du CHU")


@pytest.fixture
def reservation(demo_url: str) -> dict:
    proposal_id = _reserve_the_demo_volunteer(demo_url)
    with session_scope(demo_url, read_only=True) as session:
        proposal = session.get(m.Proposal, proposal_id)
        mission = session.get(m.Mission, proposal.mission_id)
        establishment = session.get(m.Establishment, mission.establishment_id)
        requester = session.get(m.User, mission.created_by)
        return {"id": proposal_id, "establishment": establishment.name, "mission_contact": mission.contact_name,
                "mission_phone": mission.contact_phone, "requester": requester.email,
                "requester_name": f"{requester.first_name} {requester.last_name}",
                "requester_phone": requester.phone}


def test_the_volunteer_lands_on_their_waiting_reservation_with_whom_to_call(app, reservation) -> None:
    signed_in(app, VOLUNTEER, "professionnel")
    assert app.title[0].value == "Mes missions"
    assert f"#### {reservation['establishment']}" in [md.value for md in app.markdown]
    if reservation["mission_contact"] or reservation["mission_phone"]:
        who = " — ".join(x for x in (reservation["mission_contact"], format_phone(reservation["mission_phone"])) if x)
    else:
        who = (f"{reservation['requester_name']} — {format_phone(reservation['requester_phone'])} — "
               f"{reservation['requester']}")
    assert any(md.value.endswith(f"**Contact** : {who}") for md in app.markdown)
    assert "Cet établissement vous a réservé(e) pour cette mission." in [i.value for i in app.info]
    assert [b.label for b in app.button if b.key == f"decline_{reservation['id']}"] == ["Confirmer : je décline"]


def test_declining_a_reservation_releases_it_and_tells_the_establishment(app, demo_url, reservation) -> None:
    signed_in(app, VOLUNTEER, "professionnel")
    button(app, "Confirmer : je décline").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == [
        "Demande déclinée : l'établissement est prévenu ; cette mission ne vous sera plus proposée."]
    with session_scope(demo_url, read_only=True) as session:
        assert session.get(m.Proposal, reservation["id"]).state == "decline"
    assert count_at(demo_url, m.Outbox, m.Outbox.to == reservation["requester"],
                  m.Outbox.dedup_key.like(f"declined:{reservation['id']}:%")) == 1
    assert row_at(demo_url, m.Professional, user_at(demo_url, VOLUNTEER).professional_id).status == "disponible"
    assert app.info[0].value.startswith("Aucune demande en cours.")
    assert "Confirmer : je décline" not in labels(app)


def test_with_nothing_live_the_volunteer_is_told_no_request_is_waiting(app, demo_url) -> None:
    volunteer = user_at(demo_url, VOLUNTEER)
    for proposal in proposals_at(demo_url, volunteer.professional_id, states=("contacte", "en_cours")):
        with session_scope(demo_url) as session:
            withdraw(session, actor=volunteer, proposal_id=proposal.id)
    signed_in(app, VOLUNTEER, "professionnel")
    assert not app.exception
    assert [i.value for i in app.info] == [
        "Aucune demande en cours. Les établissements de votre zone vous contacteront s'ils ont besoin de vous ; "
        "gardez vos disponibilités à jour dans « Mon profil »."]
    assert not [md.value for md in app.markdown if md.value.startswith("#### ")]
