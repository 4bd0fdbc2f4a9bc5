"""The benchmark's correctness on a tiny national-shaped data set (its speed is measured by
`python -m core bench`, never by a timed test)."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

import ops.bench_pages  # noqa: F401 - registers the page measurements, as the CLI does
from core.shared.actor import to_session_user
from core.staffing.matching import find_candidates
from db import models as m
from db.session import session_scope
from ops import bench
from ops.seed_national import seed_national

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
TINY = {"volunteers": 1500, "establishments": 60, "missions": 200, "proposals": 400}


@pytest.fixture
def tiny_url(db_url: str) -> str:
    seed_national(db_url, seed=3, now=NOW, sizes=TINY)
    return db_url


def test_the_national_seed_is_consistent_on_both_engines(tiny_url: str) -> None:
    with session_scope(tiny_url, read_only=True) as session:
        count = lambda model: session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
        assert (count(m.Professional), count(m.Establishment), count(m.Mission), count(m.Proposal)) == (
            1500, 60, 200, 400)
        states = set(session.scalars(sa.select(m.Proposal.state).distinct()))
        assert states == {"affecte", "contacte", "en_cours", "refuse", "libere", "decline", "annule", "termine"}
        for state in ("contacte", "affecte", "en_cours"):
            people = set(session.scalars(sa.select(m.Professional.id).where(m.Professional.status == state)))
            live = set(session.scalars(sa.select(m.Proposal.professional_id).where(m.Proposal.state == state)))
            assert people == live, state
        over = session.execute(
            sa.select(m.Mission.id).join(m.Proposal, m.Proposal.mission_id == m.Mission.id)
            .where(m.Proposal.state.in_(["affecte", "termine"])).group_by(m.Mission.id, m.Mission.count)
            .having(sa.func.count() > m.Mission.count)).all()
        assert over == []
        # Sequences follow the copied ids (PostgreSQL): a new row gets a fresh id.
        session.add(m.Event(entity="test", action="probe", at=NOW))
        session.flush()


def _open_missions(url: str) -> list[tuple[int, int]]:
    with session_scope(url, read_only=True) as session:
        return [tuple(r) for r in session.execute(
            sa.select(m.Mission.id, m.Mission.created_by).where(m.Mission.status == "open", m.Mission.count > 0)
            .order_by(m.Mission.id))]


def test_naive_and_sql_matching_return_the_same_candidates_in_the_same_order(tiny_url: str) -> None:
    with session_scope(tiny_url) as session:  # a third said « trop loin » of some distance: both must weigh it
        session.execute(sa.update(m.Professional).where(m.Professional.id % 3 == 0)
                        .values(too_far_dm=200 + m.Professional.id % 700))
    compared = 0
    for mission_id, user_id in random.Random(5).sample(_open_missions(tiny_url), 25):
        with session_scope(tiny_url, read_only=True) as session:
            actor = to_session_user(session, user=session.get(m.User, user_id))
            page = find_candidates(session, actor=actor, mission_id=mission_id, limit=100_000, now=NOW)
        naive = bench.naive_candidates(tiny_url, mission_id, NOW)
        assert [row["id"] for row in page.rows] == naive, mission_id
        compared += bool(naive)
    assert compared >= 10  # the comparison is not between empty lists


def test_the_benchmark_measures_every_operation_and_writes_its_json(sqlite_url: str, tmp_path) -> None:
    seed_national(sqlite_url, seed=3, now=NOW, sizes=TINY)
    report = bench.run_bench(sqlite_url, scale="current", runs=3, say=lambda text: None)
    assert set(report["operations"]) == {op.key for op in bench.REGISTRY}
    assert {"candidates", "contact", "refuse", "dashboard", "assigned_staff", "apptest_choose", "apptest_dashboard",
            "register_professional", "account_request", "naive_candidates"} <= set(report["operations"])
    for op in report["operations"].values():
        assert op["runs"] == 3 and 0 < op["p50_ms"] <= op["p95_ms"] <= op["max_ms"]
    assert report["engine"] == "sqlite" and report["cpu_count"] >= 1
    assert report["dataset"]["volunteers"] >= 1500 and report["naive_speedup"]["ratio"] > 0
    path = tmp_path / "bench.json"
    bench.write_json(report, str(path))
    assert json.loads(path.read_text(encoding="utf-8"))["operations"].keys() == report["operations"].keys()
    table = bench.format_table(report)
    assert "Candidats d'une mission" in table and "Gain SQL / naïf" in table and "Mémoire maximale" in table


def test_the_bench_creates_its_postgresql_database_when_missing() -> None:
    from tests.conftest import PG_ADMIN_URL, _pg_admin, _pg_url, require

    require(bool(PG_ADMIN_URL), "PostgreSQL non configuré (RENFORT_TEST_PG_URL absent)")
    name = f"renfort_bench_{uuid.uuid4().hex[:8]}"
    said: list[str] = []
    try:
        bench.ensure_database(_pg_url(name), said.append)
        bench.ensure_database(_pg_url(name), said.append)  # there now: nothing to do
        engine = sa.create_engine(_pg_url(name))
        with engine.connect() as connection:
            assert connection.scalar(sa.text("SELECT current_database()")) == name
        engine.dispose()
        assert said == [f"Création de la base PostgreSQL « {name} »…"]
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_bench_leaves_sqlite_urls_to_sqlite(tmp_path) -> None:
    said: list[str] = []
    bench.ensure_database(f"sqlite:///{tmp_path / 'bench.db'}", said.append)
    assert said == [] and not (tmp_path / "bench.db").exists()
