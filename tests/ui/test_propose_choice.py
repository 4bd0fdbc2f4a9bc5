"""« Proposer » opens the mission chosen elsewhere, even beyond the missions the page loads.

The pages list only the most urgent missions of the region (`MISSION_CHOICES`, 500 and 200 at national
scale); here the limit is made small so that the demo's missions lie beyond it. A mission chosen in
« Missions de la région » or in a CCS alert is read by id (ARS: its region only) and put first; only a mission
that truly is filled or closed gets « maintenant pourvue ou clôturée ».
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

import pages.propose
import pages.region_professionals
from core.shared.errors import PermissionDenied
from core.staffing.matching import find_candidates
from core.staffing.regulation import (
    MissionFilters,
    ProfessionalFilters,
    alert_ccs,
    assign_on_behalf,
    region_mission,
    region_missions,
    region_professionals,
)
from db import models as m
from db.session import session_scope
from tests.readers import user_at
from tests.ui.conftest import open_page, signed_in, tick
from tests.ui.readers import button, table
from tests.ui.test_regulation_pages import ARS_USER, CCS_USER, REGION, _free, _ids, _open, _queue, _successes

LIMIT = 3  # missions the pages load in these tests
FILLED = ("La mission choisie précédemment est maintenant pourvue ou clôturée : la plus prioritaire de la file est "
          "affichée à la place.")
OTHER_REGION = "11"


@pytest.fixture(autouse=True)
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages.propose, "MISSION_CHOICES", LIMIT)
    monkeypatch.setattr(pages.region_professionals, "MISSION_CHOICES", LIMIT)


def _label(row: dict) -> str:
    """The option text of the Proposer selectbox (typed by the browser tests: unchanged)."""
    return (f"{row['establishment']} — {row['profession']} — {row['start_date']:%d/%m/%Y} au "
            f"{row['end_date']:%d/%m/%Y} — POURVUE {row['assigned']}/{row['count']}")


def _infos(app: AppTest) -> list[str]:
    return [i.value for i in app.info]


def _propose_from_table(app: AppTest, position: int) -> AppTest:
    """« Missions de la région »: tick the row, then « Proposer des candidats »."""
    signed_in(app, ARS_USER, "ars")
    tick(app, position)
    button(app, "Proposer des candidats").click().run()
    assert not app.exception
    assert app.title[0].value == "Proposer des candidats"
    return app


def _deep_mission_with_free_candidates(url: str, missing: int = 1) -> tuple[int, dict, list[dict]]:
    """A mission ranked beyond LIMIT with at least `missing` more free candidates than unfilled posts."""
    user = user_at(url, ARS_USER)
    queue = _queue(url)
    for position, row in enumerate(queue[LIMIT:], start=LIMIT):
        with session_scope(url, read_only=True) as session:
            free = _free(find_candidates(session, actor=user, mission_id=row["id"]).rows)
        if len(free) >= row["count"] - row["assigned"] + missing - 1:
            return position, row, free
    raise AssertionError("la démo n'a aucune mission au-delà de la limite avec assez de candidats libres")


def test_the_demo_region_has_missions_beyond_the_limit(demo_url) -> None:
    assert len(_queue(demo_url)) > LIMIT + 2


def test_a_mission_beyond_the_loaded_limit_opens_in_proposer_from_the_region_table(app, demo_url) -> None:
    queue = _queue(demo_url)
    position = len(queue) - 1  # the least urgent: far beyond the LIMIT missions Proposer loads
    row = queue[position]
    _propose_from_table(app, position)
    box = app.selectbox(key="proposed_mission")
    assert box.value == row["id"]
    assert box.options == [_label(r) for r in [row, *queue[:LIMIT]]]  # the chosen mission first, then the queue
    assert FILLED not in _infos(app)  # it is open: no false « pourvue ou clôturée »
    assert app.caption[0].value.startswith(f"{row['establishment']} ({row['postal_code']} {row['city']}) — "
                                           f"{row['count']} poste(s), {row['assigned']} pourvu(s)")
    with session_scope(demo_url, read_only=True) as session:
        page = find_candidates(session, actor=user_at(demo_url, ARS_USER), mission_id=row["id"])
    assert page.rows or page.message
    if page.message:
        assert page.message in _infos(app)
    else:
        assert table(app)["id"].tolist() == [r["id"] for r in page.rows]  # the candidates of that mission
    assert f"sur {len(queue)} sont listées" in box.help

    # The next run (any widget) keeps it; choosing a listed mission then works as before.
    app.run()
    assert app.selectbox(key="proposed_mission").value == row["id"]
    app.selectbox(key="proposed_mission").select(queue[1]["id"]).run()
    assert not app.exception
    assert app.selectbox(key="proposed_mission").value == queue[1]["id"]
    assert app.selectbox(key="proposed_mission").options == [_label(r) for r in queue[:LIMIT]]
    assert FILLED not in _infos(app)


def test_a_mission_within_the_limit_keeps_the_queue_order(app, demo_url) -> None:
    queue = _queue(demo_url)
    _propose_from_table(app, 1)
    box = app.selectbox(key="proposed_mission")
    assert box.value == queue[1]["id"]
    assert box.options == [_label(r) for r in queue[:LIMIT]]


def test_a_ccs_alert_beyond_the_limit_opens_its_mission(app, demo_url) -> None:
    queue = _queue(demo_url)
    row = queue[-1]  # the least urgent (the `_alert` helper flags the first one)
    with session_scope(demo_url) as session:
        alert_ccs(session, actor=user_at(demo_url, ARS_USER), mission_id=row["id"], message="Aucun candidat malgré nos appels.")
    ranked = _ids(_queue(demo_url, email=CCS_USER))
    assert ranked.index(row["id"]) >= LIMIT  # still beyond the limit with its alert points
    _open(app, "alertes", CCS_USER)
    button(app, "Proposer des candidats").click().run()
    assert not app.exception
    assert app.title[0].value == "Proposer des candidats"
    assert app.selectbox(key="chosen_region").value == REGION
    assert app.selectbox(key="proposed_mission").value == row["id"]
    assert FILLED not in _infos(app)


def test_a_mission_filled_meanwhile_still_gets_the_honest_message(app, demo_url) -> None:
    position, row, free = _deep_mission_with_free_candidates(demo_url)
    user = user_at(demo_url, ARS_USER)
    missing = row["count"] - row["assigned"]
    with session_scope(demo_url) as session:  # all posts but one filled by the ARS elsewhere
        for volunteer in free[:missing - 1]:
            assign_on_behalf(session, actor=user, mission_id=row["id"], professional_id=volunteer["id"])
    _propose_from_table(app, position)
    assert app.selectbox(key="proposed_mission").value == row["id"]
    assert FILLED not in _infos(app)

    last = free[missing - 1]
    tick(app, table(app)["id"].tolist().index(last["id"]))
    button(app, "Confirmer l'affectation").click().run()  # the last post
    assert not app.exception
    assert _successes(app) == [
        "Affectation enregistrée pour le compte de l'établissement ; le professionnel est prévenu par courriel."]
    assert _infos(app)[0] == FILLED
    queue = _queue(demo_url)
    assert row["id"] not in _ids(queue)
    box = app.selectbox(key="proposed_mission")
    assert box.value == queue[0]["id"]
    assert box.options == [_label(r) for r in queue[:LIMIT]]
    app.run()
    assert FILLED not in _infos(app)  # said once


def test_a_closed_mission_chosen_earlier_gets_the_message(app, demo_url) -> None:
    queue = _queue(demo_url)
    row = queue[-1]
    _propose_from_table(app, len(queue) - 1)
    with session_scope(demo_url) as session:
        session.execute(sa.update(m.Mission).where(m.Mission.id == row["id"]).values(status="closed"))
    app.run()
    assert _infos(app)[0] == FILLED
    assert app.selectbox(key="proposed_mission").value == queue[0]["id"]


def test_an_ars_cannot_open_a_mission_of_another_region(app, demo_url) -> None:
    with session_scope(demo_url, read_only=True) as session:
        foreign = region_missions(session, actor=user_at(demo_url, CCS_USER), ars_code=OTHER_REGION,
                                  filters=MissionFilters(unfilled_only=True), limit=1).rows[0]
    signed_in(app, ARS_USER, "ars")
    app.session_state["proposed_mission"] = foreign["id"]
    open_page(app, "proposer")
    assert not app.exception
    queue = _queue(demo_url)
    box = app.selectbox(key="proposed_mission")
    assert box.value == queue[0]["id"]
    assert box.options == [_label(r) for r in queue[:LIMIT]]  # nothing of the other region shown
    assert FILLED not in _infos(app)  # nothing said about a mission the ARS may not see


def test_region_mission_reads_one_mission_with_the_permission_checks(demo_url) -> None:
    queue = _queue(demo_url)
    ars, ccs = user_at(demo_url, ARS_USER), user_at(demo_url, CCS_USER)
    with session_scope(demo_url) as session:
        session.execute(sa.update(m.Mission).where(m.Mission.id == queue[-1]["id"]).values(status="filled"))
    with session_scope(demo_url, read_only=True) as session:
        assert region_mission(session, actor=ars, ars_code=REGION, mission_id=queue[0]["id"]) == queue[0]
        assert region_mission(session, actor=ccs, ars_code=REGION, mission_id=queue[-1]["id"])["status"] == "filled"  # whatever its status
        assert region_mission(session, actor=ccs, ars_code=OTHER_REGION, mission_id=queue[0]["id"]) is None  # not a mission of that region
        assert region_mission(session, actor=ars, ars_code=REGION, mission_id=10**9) is None
        with pytest.raises(PermissionDenied):
            region_mission(session, actor=ars, ars_code=OTHER_REGION, mission_id=queue[0]["id"])
        with pytest.raises(PermissionDenied):
            region_mission(session, actor=None, ars_code=REGION, mission_id=queue[0]["id"])


# ---------------------------------------------------------------- « Professionnels de la région »


def test_a_mission_chosen_for_an_assignment_stays_when_it_falls_beyond_the_limit(app, demo_url, monkeypatch) -> None:
    """The ARS picks a mission in « Affecter à une mission… »; before it saves, the list shrinks (here: the
    limit) and the mission is no longer among the loaded ones: it stays chosen and the assignment is saved."""
    user = user_at(demo_url, ARS_USER)
    with session_scope(demo_url, read_only=True) as session:
        rows = region_professionals(session, actor=user, ars_code=REGION, filters=ProfessionalFilters())[0]
        position, volunteer, missions = next(
            (i, r, ms) for i, r in enumerate(rows) if r["status"] == "disponible"
            for ms in [region_missions(session, actor=user, ars_code=REGION, filters=MissionFilters(
                profession_code=r["profession_code"], unfilled_only=True), limit=50).rows] if len(ms) >= 2)
    target = missions[1]
    _open(app, "professionnels")
    tick(app, position)
    key = f"pro_mission_{volunteer['id']}"
    app.selectbox(key=key).select(target["id"]).run()
    assert app.selectbox(key=key).value == target["id"]

    monkeypatch.setattr(pages.region_professionals, "MISSION_CHOICES", 1)
    app.run()
    assert not app.exception
    box = app.selectbox(key=key)
    assert box.value == target["id"]
    assert box.options[0].startswith(f"{target['establishment']} — {target['start_date']:%d/%m/%Y} au ")
    assert len(box.options) == 2
    next(b for b in app.button if b.key == f"pro_assign_{volunteer['id']}").click().run()
    assert not app.exception
    assert _successes(app) == [f"{volunteer['first_name']} {volunteer['last_name']} est affecté(e) ; un courriel de "
                               "confirmation lui est envoyé."]
    with session_scope(demo_url, read_only=True) as session:
        assert session.scalar(sa.select(m.Proposal.mission_id).where(
            m.Proposal.professional_id == volunteer["id"], m.Proposal.state == "affecte")) == target["id"]


def test_a_mission_picked_for_an_assignment_then_closed_is_reported_and_unpicked(app, demo_url) -> None:
    user = user_at(demo_url, ARS_USER)
    with session_scope(demo_url, read_only=True) as session:
        rows = region_professionals(session, actor=user, ars_code=REGION, filters=ProfessionalFilters())[0]
        position, volunteer, target = next(
            (i, r, ms[0]) for i, r in enumerate(rows) if r["status"] == "disponible"
            for ms in [region_missions(session, actor=user, ars_code=REGION, filters=MissionFilters(
                profession_code=r["profession_code"], unfilled_only=True), limit=1).rows] if ms)
    _open(app, "professionnels")
    tick(app, position)
    key = f"pro_mission_{volunteer['id']}"
    app.selectbox(key=key).select(target["id"]).run()
    with session_scope(demo_url) as session:
        session.execute(sa.update(m.Mission).where(m.Mission.id == target["id"]).values(status="closed"))
    app.run()
    assert not app.exception
    assert _infos(app) == ["La mission choisie précédemment est maintenant pourvue ou clôturée : choisissez-en une "
                           "autre."]
    assert app.selectbox(key=key).value is None
