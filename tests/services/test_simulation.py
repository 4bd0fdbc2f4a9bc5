"""The crisis simulator on a tiny data set: same seed ⇒ same report, the invariants hold under both rule sets,
the rules differ where they should, the command writes its files and never touches an existing database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.actor import SessionUser, to_session_user
from core.shared.clock import utcnow
from core.staffing.workflow import contact, express_interest
from db.models import Event, Mission, Outbox, Proposal
from db.session import copy_sqlite, create_engine_for
from ops.cli import main
from ops.simulation import metrics
from ops.simulation.agents import World, establishments_act
from ops.simulation.behaviour import RULES, Behaviour, Dice
from ops.simulation.run import (
    Plan,
    both_filled_medians,
    instant,
    prepare_population,
    run_plan,
    simulate_one,
    sqlite_url,
)
from ops.simulation.wave import draw_wave
from tests.factories import (
    END,
    NOW,
    START,
    make_actor,
    make_available_nurse,
    make_establishment,
    make_mission,
    make_user,
)

DAYS, WAVE = 3, 12
LATER = NOW + timedelta(hours=6)


@dataclass(frozen=True)
class Runs:
    renfort: dict
    again: dict
    old: dict
    renfort_db: Path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """One tiny population; the same wave run twice under our rules (seed 1) and once under the 2020 rules."""
    folder = tmp_path_factory.mktemp("simulation")
    prepare_population("mini", folder / "population.db")

    def run(rules: str, name: str) -> dict:
        copy_sqlite(folder / "population.db", folder / f"{name}.db")
        ticks: list[int] = []
        report = simulate_one(sqlite_url(folder / f"{name}.db"), Plan(days=DAYS, scale="mini", wave=WAVE), rules, 1,
                              ticks.append)
        assert ticks == list(range(1, 2 * DAYS + 1))
        return report

    return Runs(run("renfort", "a"), run("renfort", "b"), run("2020", "old"), folder / "a.db")


def test_the_same_seed_gives_the_same_report(runs: Runs) -> None:
    assert json.dumps(runs.renfort, sort_keys=True) == json.dumps(runs.again, sort_keys=True)
    assert runs.renfort["final"]["posts_requested"] > 0 and runs.renfort["actions"]["filed"] == WAVE


def test_another_seed_draws_another_wave(runs: Runs) -> None:
    engine = create_engine_for(sqlite_url(runs.renfort_db))
    with sa.orm.Session(engine) as session:
        first, again, other = (draw_wave(session, Dice(seed), WAVE, DAYS, date(2027, 1, 4)) for seed in (1, 1, 2))
    engine.dispose()
    assert first == again and first != other and len(other) == WAVE


@pytest.mark.parametrize("rules", ["2020", "renfort"])
def test_invariants_hold_and_figures_add_up(runs: Runs, rules: str) -> None:
    report = runs.old if rules == "2020" else runs.renfort
    assert report["invariants"] == {"double_reservations": 0, "overfilled_missions": 0, "status_mismatches": 0,
                                    "broken_event_chains": 0}
    days, final = report["days"], report["final"]
    assert [d["day"] for d in days] == list(range(1, DAYS + 1))
    for before, after in zip(days, days[1:]):
        assert after["posts_requested"] >= before["posts_requested"]
        assert after["posts_filled"] >= before["posts_filled"]
    assert all(d["posts_filled"] <= d["posts_requested"] for d in days)
    assert final["posts_filled"] == days[-1]["posts_filled"] == len(report["time_to_fill_hours"])
    assert final["posts_requested"] == days[-1]["posts_requested"] == sum(r["posts_requested"] for r in report["regions"])
    assert sum(v for _, v in report["solicitations_histogram"]) == final["eligible_volunteers"]
    assert final["never_contacted"] == report["solicitations_histogram"][0][1]
    by_mission = report["time_to_fill_by_mission"]
    assert sorted(h for hours in by_mission.values() for h in hours) == report["time_to_fill_hours"]
    assert all(hours == sorted(hours) for hours in by_mission.values())
    # The same requests spread as equally as the needs' eligible sets allow: never less equal than the run's.
    assert 0 <= final["gini_floor"] <= final["gini"]
    assert report["parameters"]["rules"] == rules


def test_the_2020_rules_never_open_the_national_pools_on_the_same_wave(runs: Runs) -> None:
    assert "pools_opened" not in runs.old["actions"] and "alerted" not in runs.old["actions"]
    assert runs.old["final"]["pools_opened"] == 0
    assert [d["posts_requested"] for d in runs.old["days"]] == [d["posts_requested"] for d in runs.renfort["days"]]


def test_active_volunteers_answer_the_availability_checks_and_inactive_ones_never(runs: Runs) -> None:
    """Our rules run the worker's « Toujours disponible ? » e-mails; the simulated volunteers click the link the
    e-mail holds (the service records who), unless they are among those who never read the platform."""
    assert runs.renfort["actions"]["availability_confirmed"] > 0 and "availability_confirmed" not in runs.old["actions"]
    engine = create_engine_for(sqlite_url(runs.renfort_db))
    with sa.orm.Session(engine) as session:
        confirmed = set(session.scalars(sa.select(Event.entity_id).where(Event.action == "availability_confirmed",
                                                                         Event.at >= instant(0))))
        behaviour = runs.renfort["parameters"]["behaviour"]
        dice = Dice(runs.renfort["parameters"]["seed"])
        assert len(confirmed) == runs.renfort["actions"]["availability_confirmed"]
        assert not [pid for pid in confirmed if dice.chance(behaviour["inactive_share"], "inactive", int(pid))]
    engine.dispose()


def test_the_clock_is_real_again_after_a_run(runs: Runs) -> None:
    assert abs((utcnow() - datetime.now(timezone.utc)).total_seconds()) < 5


def test_a_broken_audit_trail_or_an_over_filled_mission_is_caught(runs: Runs, tmp_path: Path) -> None:
    assert runs.renfort["final"]["posts_filled"] > 0
    copy_sqlite(runs.renfort_db, tmp_path / "tampered.db")
    engine = create_engine_for(sqlite_url(tmp_path / "tampered.db"))
    start = instant(0)
    with engine.begin() as connection:
        first = connection.scalar(sa.select(sa.func.min(Event.id)).where(Event.entity == "proposal",
                                                                          Event.at >= start))
        connection.execute(sa.delete(Event).where(Event.id == first))
        filled = connection.scalars(sa.select(Proposal.mission_id).join(Mission, Mission.id == Proposal.mission_id)
                                    .where(Proposal.state.in_(metrics.ASSIGNED), Mission.created_at >= start)
                                    .distinct()).all()
        connection.execute(sa.update(Mission).where(Mission.id == filled[0]).values(count=0))
    with sa.orm.Session(engine) as session:
        broken = metrics.invariants(session, start)
    engine.dispose()
    assert broken["broken_event_chains"] == 1 and broken["overfilled_missions"] == 1


def test_the_command_writes_each_run_and_the_comparison(tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = run_plan(Plan(days=1, seeds=(1,), rules=("2020", "renfort"), scale="mini", wave=6), out)
    assert {run["rules"] for run in summary["runs"]} == {"2020", "renfort"}
    assert "Aucune réservation de plus de 7 jours" in {t["label"] for t in summary["targets"]}
    for folder in ("2020-graine-1", "renfort-graine-1"):
        report = json.loads((out / folder / "report.json").read_text(encoding="utf-8"))
        assert report["parameters"]["days"] == 1 and (out / folder / "report.html").stat().st_size > 10_000
    assert json.loads((out / "comparaison.json").read_text(encoding="utf-8"))["median"].keys() == {"2020", "renfort"}
    table = (out / "comparaison.md").read_text(encoding="utf-8")
    assert "| 2020 | 1 |" in table and "| renfort | 1 |" in table and "| Aucune réservation de plus de 7 jours |" in table
    gini = next(t["value"] for t in summary["targets"] if t["label"].startswith("Indice de Gini"))
    floors = [_comma(summary["median"][rules]["gini_floor"]) for rules in ("renfort", "2020")]
    assert gini.endswith(f"le plus bas possible avec les mêmes demandes : {floors[0]} (règles de 2020 : {floors[1]})")
    progress = json.loads((out / "progress.json").read_text(encoding="utf-8"))
    assert progress["phase"] == "termine" and progress["done"] == progress["total"] == 4


def test_the_same_posts_are_set_side_by_side_whatever_each_rule_filled_besides() -> None:
    def report(rules: str, seed: int, by_mission: dict[str, list[float]]) -> tuple[dict, float]:
        return {"parameters": {"rules": rules, "seed": seed}, "time_to_fill_by_mission": by_mission}, 1.0

    results = [
        # Need 1: two posts filled under 2020, one under ours; need 2 under ours only; need 3: one against two.
        report("2020", 1, {"1": [48.0, 96.0], "3": [6.0]}),
        report("renfort", 1, {"1": [24.0], "2": [30.0], "3": [6.0, 18.0]}),
        report("2020", 2, {"1": [42.0]}),
        report("renfort", 2, {"1": [18.0]}),
        report("renfort", 3, {"1": [6.0]}),  # no 2020 run for this seed: left out
    ]
    assert both_filled_medians(results) == {"2020": [27.0, 42.0], "renfort": [15.0, 18.0]}
    assert both_filled_medians([report("2020", 1, {"1": [6.0]}), report("renfort", 1, {"2": [6.0]})]) == {}


def _comma(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def test_the_command_refuses_an_existing_database(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["simulate", "--db", f"sqlite:///{tmp_path / 'real.db'}", "--out", str(tmp_path / "out")])
    assert "propre base temporaire" in str(refused.value)
    assert not (tmp_path / "real.db").exists() and not (tmp_path / "out").exists()


# ---------------------------------------------------------------- when an establishment opens the platform


@dataclass
class Desk:
    """One establishment's open mission, a nurse it may contact, and the simulated world around them."""

    world: World
    establishment_id: int
    mission_id: int
    nurse_id: int
    hr: SessionUser
    nurse: SessionUser


def _desk(url: str, rules: str) -> Desk:
    sessions = so.sessionmaker(bind=create_engine_for(url), expire_on_commit=False)
    with sessions() as session:
        establishment = make_establishment(session, postal_code="44000")
        hr_user = make_user(session, establishment=establishment)
        mission = make_mission(session, establishment, hr_user, start_date=START, end_date=END)
        professional = make_available_nurse(session)
        nurse = make_actor(session, "professionnel", professional_id=professional.id, email=professional.email)
        hr = to_session_user(session, user=hr_user)
        desk_ids = (establishment.id, mission.id, professional.id)
        session.commit()
    world = World(sessions=sessions, rules=RULES[rules], behaviour=Behaviour(), dice=Dice(1),
                  start=NOW - timedelta(days=30), regions=[])
    return Desk(world, *desk_ids, hr=hr, nurse=nurse)


def _half_day(desk: Desk, *, comes: bool, comes_on_e_mail: bool) -> int:
    """A half-day on which the establishment's own draw says whether it comes, and its e-mail draw what it says."""
    dice, rate = desk.world.dice, desk.world.behaviour.act_rate
    return next(h for h in range(1000) if dice.chance(rate, "act", desk.establishment_id, h) is comes
                and dice.chance(rate, "act-mail", desk.establishment_id, h) is comes_on_e_mail)


def _state(desk: Desk) -> str | None:
    with desk.world.sessions() as session:
        return session.scalar(sa.select(Proposal.state).where(Proposal.mission_id == desk.mission_id,
                                                             Proposal.professional_id == desk.nurse_id))


@pytest.mark.parametrize(("rules", "state"), [("renfort", "affecte"), ("2020", "contacte")])
def test_the_interest_e_mail_brings_the_establishment_to_validate_under_our_rules_only(sqlite_url, rules: str,
                                                                                       state: str) -> None:
    """A volunteer says « intéressé(e) »: under our rules the establishment is e-mailed, which gives it a second
    chance to come within the half-day; the 2020 tool sent nothing, and it waits for its next visit."""
    desk = _desk(sqlite_url, rules)
    with desk.world.sessions() as session:
        proposal = contact(session, actor=desk.hr, mission_id=desk.mission_id, professional_id=desk.nurse_id, now=NOW)
        session.commit()
        desk.world.mail_read = session.scalar(sa.select(sa.func.max(Outbox.id))) or 0
        express_interest(session, actor=desk.nurse, proposal_id=proposal.id, now=LATER)
        session.commit()
    establishments_act(desk.world, _half_day(desk, comes=False, comes_on_e_mail=True), LATER)
    assert _state(desk) == state
    establishments_act(desk.world, _half_day(desk, comes=False, comes_on_e_mail=True), LATER)
    assert _state(desk) == state  # an e-mail calls once: read, it brings nobody the next half-day


@pytest.mark.parametrize(("filed", "state"), [(True, "contacte"), (False, None)])
def test_an_establishment_that_just_filed_a_need_chooses_at_once(sqlite_url, filed: bool, state: str | None) -> None:
    desk = _desk(sqlite_url, "2020")
    if filed:
        desk.world.present.add(desk.establishment_id)
    establishments_act(desk.world, _half_day(desk, comes=False, comes_on_e_mail=True), LATER)
    assert _state(desk) == state
    assert not desk.world.present  # present for this half-day only
