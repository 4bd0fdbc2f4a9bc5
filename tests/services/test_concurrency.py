"""Races on the status machine (DESIGN §3): real threads, one session each, on SQLite and PostgreSQL.

Every thread opens its own `session_scope`, waits on a barrier, then calls the service at the same
instant. The database settles the race (conditional UPDATE, live-proposal index, mission row lock,
BEGIN IMMEDIATE on SQLite): exactly one winner, clean `Conflict` messages for the others, never a
"database is locked" nor a double booking.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.actor import SessionUser, to_session_user
from core.shared.errors import Conflict, ValidationError
from core.staffing import workflow
from core.volunteers.professionals import set_available
from db import models as m
from db.session import session_scope
from tests.factories import make_establishment, make_mission, make_professional, make_user
from tests.readers import proposals

REBOOKED = "Ce professionnel vient d'être réservé par un autre établissement."
FILLED = "Cette mission est déjà pourvue."
LIVE = ("en_cours", "contacte", "affecte")
NANTES_AREA = ("44000", "44100", "44200", "44300", "44400", "44700", "44800")  # Nantes, Rezé, Orvault, Saint-Herblain
THREAD_TIMEOUT_S = 30.0


# ---------------------------------------------------------------- the race harness


@dataclass(frozen=True)
class Outcome:
    name: str
    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def race(db_url: str, calls: dict[str, Callable[[so.Session], Any]]) -> dict[str, Outcome]:
    """Run each call in its own thread and its own unit of work, all released at the same instant.

    A thread still running after THREAD_TIMEOUT_S fails the test (a deadlock or a lock never released).
    """
    barrier = threading.Barrier(len(calls), timeout=THREAD_TIMEOUT_S)
    outcomes: dict[str, Outcome] = {}

    def run(name: str, call: Callable[[so.Session], Any]) -> None:
        try:
            with session_scope(db_url) as session:  # never shared: one session per thread
                barrier.wait()
                value = call(session)
            outcomes[name] = Outcome(name, value=value)
        except BaseException as error:  # every error, whatever its type, is inspected by the test
            outcomes[name] = Outcome(name, error=error)

    threads = [threading.Thread(target=run, args=item, name=f"race-{item[0]}", daemon=True)
               for item in calls.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + THREAD_TIMEOUT_S
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    hung = [thread.name for thread in threads if thread.is_alive()]
    if hung:
        pytest.fail(f"{len(hung)} thread(s) still running after {THREAD_TIMEOUT_S:.0f} s "
                    f"(deadlock or lock never released): {', '.join(hung)}")
    assert set(outcomes) == set(calls)
    return outcomes


def winners(outcomes: dict[str, Outcome]) -> list[str]:
    return sorted(name for name, outcome in outcomes.items() if outcome.ok)


def assert_conflicts(outcomes: Sequence[Outcome], *messages: str, startswith: bool = False) -> None:
    """Every outcome is exactly a Conflict (no OperationalError, no IntegrityError…) with one of these messages."""
    for outcome in outcomes:
        error = outcome.error
        assert type(error) is Conflict, f"{outcome.name}: expected Conflict, got {error!r}"
        text = str(error)
        if startswith:
            assert text.startswith(messages), f"{outcome.name}: unexpected message {text!r}"
        else:
            assert text in messages, f"{outcome.name}: unexpected message {text!r}"


# ---------------------------------------------------------------- set-up helpers


def _establishment_with_mission(session: so.Session, postal_code: str, **mission: Any) -> tuple[int, SessionUser]:
    establishment = make_establishment(session, postal_code)
    user = make_user(session, establishment=establishment)
    created = make_mission(session, establishment, user, **mission)
    return created.id, to_session_user(session, user=user)


def _volunteer(session: so.Session, *, with_account: bool = False) -> tuple[int, SessionUser | None]:
    professional = make_professional(session, "44000", mobility="regionale", status="disponible")
    if not with_account:
        return professional.id, None
    user = make_user(session, "professionnel", professional_id=professional.id)
    return professional.id, to_session_user(session, user=user)


def _events(session: so.Session, action: str, professional_id: int) -> list[m.Event]:
    events = session.scalars(sa.select(m.Event).where(m.Event.action == action, m.Event.entity == "proposal"))
    return [event for event in events if (event.details or {}).get("professional_id") == professional_id]


# ---------------------------------------------------------------- 1. twenty establishments, one volunteer


def test_twenty_establishments_contact_the_same_volunteer_exactly_one_wins(uow, db_url: str) -> None:
    threads, rounds = 20, 5
    with uow() as session:
        missions = [_establishment_with_mission(session, NANTES_AREA[i % len(NANTES_AREA)]) for i in range(threads)]
        volunteers = [_volunteer(session)[0] for _ in range(rounds)]

    won_by: set[str] = set()
    for round_number, professional_id in enumerate(volunteers, start=1):
        outcomes = race(db_url, {
            f"etab{i:02d}": (lambda session, mission_id=mission_id, actor=actor, pid=professional_id:
                             workflow.contact(session, actor=actor, mission_id=mission_id, professional_id=pid).id)
            for i, (mission_id, actor) in enumerate(missions)
        })
        won = winners(outcomes)
        assert len(won) == 1, f"round {round_number}: {len(won)} winners {won}"
        assert_conflicts([o for o in outcomes.values() if not o.ok], REBOOKED)
        won_by.update(won)

        winner_mission = missions[int(won[0].removeprefix("etab"))][0]
        with uow() as session:
            assert session.get(m.Professional, professional_id).status == "contacte"
            live = proposals(session, professional_id, states=LIVE)
            assert [(p.id, p.mission_id, p.state) for p in live] == [
                (outcomes[won[0]].value, winner_mission, "contacte")
            ]
            assert len(_events(session, "contacted", professional_id)) == 1
    assert won_by  # which establishment wins varies; only the count of winners matters


# ---------------------------------------------------------------- 2. five validations, two places left


@pytest.mark.parametrize(
    ("count", "per_thread", "expected_winners", "loser_message", "final_status"),
    [
        # count 3, 1 assigned: the first two single validations fill the mission, the others find it filled.
        pytest.param(3, 1, 2, FILLED, "filled", id="singles-fill-the-mission"),
        # count 4, 1 assigned: the first pair leaves one place, every later pair is told so.
        pytest.param(4, 2, 1, "Il ne reste que 1 poste(s) à pourvoir", "open", id="pairs-exceed-remaining"),
    ],
)
def test_simultaneous_validations_never_exceed_the_mission_count(
    uow, db_url: str, count: int, per_thread: int, expected_winners: int, loser_message: str, final_status: str,
) -> None:
    threads, rounds = 5, 3
    for round_number in range(1, rounds + 1):
        with uow() as session:
            establishment = make_establishment(session, "44000")
            users = [make_user(session, establishment=establishment) for _ in range(threads)]
            actors = [to_session_user(session, user=user) for user in users]
            mission_id = make_mission(session, establishment, users[0], count=count).id
            volunteers = [_volunteer(session)[0] for _ in range(1 + threads * per_thread)]
            for professional_id in volunteers:
                workflow.contact(session, actor=actors[0], mission_id=mission_id, professional_id=professional_id)
            workflow.validate(session, actor=actors[0], mission_id=mission_id, professional_ids=volunteers[:1])  # one already assigned
        batches = [volunteers[1 + i * per_thread: 1 + (i + 1) * per_thread] for i in range(threads)]

        outcomes = race(db_url, {
            f"user{i}": (lambda session, actor=actor, ids=ids, mission_id=mission_id:
                         workflow.validate(session, actor=actor, mission_id=mission_id, professional_ids=ids))
            for i, (actor, ids) in enumerate(zip(actors, batches))
        })
        won = winners(outcomes)
        assert len(won) == expected_winners, f"round {round_number}: winners {won}"
        assert all(outcomes[name].value == per_thread for name in won)
        assert_conflicts([o for o in outcomes.values() if not o.ok], loser_message, startswith=True)

        assigned_ids = {volunteers[0]} | {pid for name in won for pid in batches[int(name.removeprefix("user"))]}
        with uow() as session:
            mission = session.get(m.Mission, mission_id)
            assert mission.status == final_status
            assigned = session.scalars(
                sa.select(m.Proposal.professional_id)
                .where(m.Proposal.mission_id == mission_id, m.Proposal.state == "affecte")
            ).all()
            assert len(assigned) == 3 <= mission.count  # never more than the count
            assert set(assigned) == assigned_ids
            statuses = dict(session.execute(
                sa.select(m.Professional.id, m.Professional.status).where(m.Professional.id.in_(volunteers))
            ).all())
            # Once the mission is filled, validate() releases everyone still contacted for it.
            others = "disponible" if final_status == "filled" else "contacte"
            assert statuses == {pid: "affecte" if pid in assigned_ids else others for pid in volunteers}
            mails = session.scalars(sa.select(m.Outbox.dedup_key).where(m.Outbox.dedup_key.like("assigned:%"))).all()
            assert len(mails) == 3 * round_number  # one e-mail per assignment, none for the losers


# ---------------------------------------------------------------- 3. contacts racing the volunteer's own pause


def test_contacts_racing_the_volunteer_pausing_leave_a_consistent_state(uow, db_url: str) -> None:
    threads, rounds = 10, 5
    with uow() as session:
        missions = [_establishment_with_mission(session, NANTES_AREA[i % len(NANTES_AREA)]) for i in range(threads)]
        volunteers = [_volunteer(session, with_account=True) for _ in range(rounds)]

    seen: set[str] = set()
    for round_number, (professional_id, own_account) in enumerate(volunteers, start=1):
        calls: dict[str, Callable[[so.Session], Any]] = {
            f"etab{i:02d}": (lambda session, mission_id=mission_id, actor=actor, pid=professional_id:
                             workflow.contact(session, actor=actor, mission_id=mission_id, professional_id=pid).id)
            for i, (mission_id, actor) in enumerate(missions)
        }
        calls["volunteer"] = lambda session, actor=own_account: set_available(session, actor=actor, available=False)
        outcomes = race(db_url, calls)
        pause = outcomes.pop("volunteer")
        contacts_won = winners(outcomes)

        with uow() as session:
            professional = session.get(m.Professional, professional_id)
            status, paused = professional.status, f"{professional.first_name} {professional.last_name} s'est déclaré(e) indisponible."
            live = proposals(session, professional_id, states=LIVE)
        assert len(live) <= 1
        if pause.ok:
            seen.add("pause won")
            assert pause.value == "indisponible"
            assert contacts_won == [], f"round {round_number}: contacts won after the pause: {contacts_won}"
            assert_conflicts(list(outcomes.values()), REBOOKED, paused)
            assert status == "indisponible"
            assert live == []
        else:
            seen.add("contact won")
            assert type(pause.error) is Conflict, f"round {round_number}: {pause.error!r}"
            assert str(pause.error).startswith("Impossible de changer votre disponibilité : un établissement")
            assert len(contacts_won) == 1, f"round {round_number}: winners {contacts_won}"
            assert_conflicts([o for o in outcomes.values() if not o.ok], REBOOKED)
            assert status == "contacte"
            assert [p.state for p in live] == ["contacte"]
            assert live[0].id == outcomes[contacts_won[0]].value
    assert seen  # either ordering is legitimate; both are checked whenever they happen


# ---------------------------------------------------------------- « Contacter » on several ticked volunteers


def test_contacting_several_volunteers_keeps_the_ones_won_when_another_is_lost(uow) -> None:
    with uow() as session:
        (mine, me), (theirs, them) = (_establishment_with_mission(session, "44000") for _ in range(2))
        first, taken, last = (_volunteer(session)[0] for _ in range(3))
        workflow.contact(session, actor=them, mission_id=theirs, professional_id=taken)
        outcome = workflow.contact_many(session, actor=me, mission_id=mine, professional_ids=[first, taken, last, first])
        assert (outcome.contacted, outcome.failures) == (2, [REBOOKED])
        assert [p.mission_id for p in proposals(session, first, states=LIVE) + proposals(session, last, states=LIVE)] == [mine, mine]
        assert [p.mission_id for p in proposals(session, taken, states=LIVE)] == [theirs]


def test_contacting_only_volunteers_already_taken_is_refused_and_nothing_is_kept(uow) -> None:
    with uow() as session:
        (mine, me), (theirs, them) = (_establishment_with_mission(session, "44000") for _ in range(2))
        taken = _volunteer(session)[0]
        workflow.contact(session, actor=them, mission_id=theirs, professional_id=taken)
        with pytest.raises(Conflict, match=REBOOKED):
            workflow.contact_many(session, actor=me, mission_id=mine, professional_ids=[taken])
        with pytest.raises(ValidationError, match="Aucun professionnel sélectionné."):
            workflow.contact_many(session, actor=me, mission_id=mine, professional_ids=[])


def test_two_establishments_ticking_overlapping_volunteers_share_them_exactly_once(uow, db_url: str) -> None:
    for round_number in range(1, 6):
        with uow() as session:
            (one, first_hr), (two, second_hr) = (_establishment_with_mission(session, "44000") for _ in range(2))
            left, shared, right = (_volunteer(session)[0] for _ in range(3))
        ticks = {"one": (first_hr, one, [left, shared]), "two": (second_hr, two, [shared, right])}
        outcomes = race(db_url, {
            name: (lambda session, who=who, mission_id=mission_id, ids=ids:
                   workflow.contact_many(session, actor=who, mission_id=mission_id, professional_ids=ids))
            for name, (who, mission_id, ids) in ticks.items()
        })
        assert winners(outcomes) == ["one", "two"], f"round {round_number}: {outcomes}"
        results = [outcomes[name].value for name in ("one", "two")]
        assert sum(r.contacted for r in results) == 3
        assert [f for r in results for f in r.failures] == [REBOOKED]
        with uow() as session:
            owners = {pid: [p.mission_id for p in proposals(session, pid, states=LIVE)] for pid in (left, shared, right)}
            assert owners[left] == [one] and owners[right] == [two] and owners[shared] in ([one], [two])
            assert all(len(_events(session, "contacted", pid)) == 1 for pid in (left, shared, right))
