"""The multi-process load test (`python -m core bench --load`) on a tiny data set, think time shrunk: several OS
processes really take part, every persona's operations are timed through the core services, the invariants hold
— and the invariant checks do catch a broken database. Its speed is measured by the command, never here."""

from __future__ import annotations

import os

import sqlalchemy as sa

from db import models as m
from db.session import session_scope
from ops import bench
from ops.load import OPERATIONS, invariants, run_load

TINY = {"volunteers": 1500, "establishments": 60, "missions": 200, "proposals": 400}


def test_people_in_several_processes_keep_every_invariant_and_a_broken_database_is_caught(db_url: str) -> None:
    said: list[str] = []
    report = run_load(db_url, users=10, processes=2, think=(0.02, 0.06), seconds=3, scale="national", sizes=TINY,
                      export_every=3, say=said.append)  # an empty database: builds the (tiny) set first
    assert bench.dataset_sizes(db_url)["establishments"] == TINY["establishments"]
    # Two OS processes, neither of them this one, each timed actions of its own people.
    assert len(report.pids) == 2 and os.getpid() not in report.pids and all(report.pids.values())
    assert report.people == {"etablissement": 7, "ars": 2, "national": 1}
    # Every persona's path was walked and timed (the national one reads either page at random).
    walked = {"dashboard", "candidates", "contact", "region_missions", "ars_candidates", "push", "export"}
    assert walked <= set(report.durations), sorted(set(OPERATIONS) - set(report.durations))
    assert {"national_overview", "national_missions"} & set(report.durations)
    assert report.invariants == dict.fromkeys(report.invariants, True) and len(report.invariants) == 5
    assert not report.errors and report.invariants_ok
    data = report.as_dict()
    assert data["throughput_per_second"] > data["transitions_per_second"] > 0
    for op in data["operations"].values():
        assert 0 < op["p50_ms"] <= op["p95_ms"] <= op["max_ms"]
    table = report.table()
    assert "réparties sur 2 processus" in table and "Proposer (ARS)" in table and "KO" not in table

    # The checks are not vacuous: break three invariants by hand, each is reported.
    with session_scope(db_url) as session:
        mission_id, assigned = session.execute(sa.select(m.Proposal.mission_id, sa.func.count()).where(
            m.Proposal.state == "affecte").group_by(m.Proposal.mission_id).limit(1)).one()
        session.get(m.Mission, mission_id).count = assigned - 1  # over-filled
        contacted = session.scalar(sa.select(m.Proposal).where(m.Proposal.state == "contacte").limit(1))
        session.get(m.Professional, contacted.professional_id).status = "disponible"  # status without its proposal
        session.add(m.Event(entity="proposal", action="refused", at=report.since))  # an Event without a transition
    assert invariants(db_url, report.since, report) == {
        "one_live_proposal_per_volunteer": True, "no_mission_over_filled": False,
        "status_mirrors_live_proposal": False, "every_transition_has_its_event": False,
        "every_export_has_its_event": True}

    bench.prepare(db_url, "national", said.append, sizes=TINY)  # a second run reuses the set in place
    assert said[-1].startswith("Jeu de données réutilisé")
