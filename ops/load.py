"""`python -m core bench --load`: simulated people working at the same time in several OS processes, as the
server processes of a deployment would, then the invariants that must survive any concurrency.

Three personas, each a person clicking through the real core services with a think time between two actions:
- an establishment (70 %): its dashboard → the candidates of one of its open missions → « Contacter » one of the
  first three free ones → later « Valider » (30 %) or « Refuser » (70 %);
- an ARS (20 %): its region's missions → the candidates of one of the first ten that still take some → « Proposer »
  one of the first three free ones to that mission;
- the CCS or the ministry (10 %): « Vue nationale » or the national list of missions, and one action in
  EXPORT_EVERY a national export (every mission of the dashboard's period, .xlsx) — rare on purpose: one costs
  about a second and a half of processor on the national set, more than a hundred page reads.

The people are spread over P processes started with `spawn` (not threads of one process: those would measure the
GIL, not a deployment); inside a process each person is a thread that sleeps between its actions, as a server
thread waits for the next click. Establishments are taken in the regions with the most open posts, and the ARS
people in the same regions, so that they compete for the same volunteers: a lost race is a conflict (expected),
anything else an error. Each process warms its statement cache before the start (a server in service has),
times every call (session, query, commit), and sends its samples back to the parent, which checks the
invariants at the end. Like the bench, the data set in place is reused and an empty database first gets the
national one (ops.bench.prepare).
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queues
import random
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.shared.actor import SessionUser, to_session_user
from core.shared.clock import utcnow
from core.shared.errors import Conflict, ServiceUnavailable
from db import models as m
from db.session import session_scope
from ops import bench

PERSONAS = {"etablissement": 0.70, "ars": 0.20, "national": 0.10}  # the mix of the simulated people
PERSONA_LABELS = {"etablissement": "établissements", "ars": "ARS", "national": "CCS et ministère"}
NATIONAL_ROLES = ("ccs", "ministere")
EXPORT_EVERY = 20  # one national action in 20 is an export
VALIDATE_SHARE = 0.3  # an establishment validates 30 % of the volunteers it contacted, refuses the others
FIRST_FREE = 3  # a person picks among the first three free candidates: several aim at the same top ones
ARS_TOP = 10  # an ARS works on the first ten missions of its queue (the most urgent)
WARM_UP_MISSIONS = 15  # candidate lists run per process before the start (one statement per mission criteria)
READY_TIMEOUT = 600  # seconds for every process to start, load its people and warm up
GRACE = 120  # seconds after the end for the actions in flight and the samples to come back

# Each timed operation: its persona and its French label (in the order of the table).
OPERATIONS = {
    "dashboard": ("etablissement", "Tableau de bord de l'établissement"),
    "candidates": ("etablissement", "Candidats d'une mission (établissement)"),
    "contact": ("etablissement", "Contacter"),
    "validate": ("etablissement", "Valider"),
    "refuse": ("etablissement", "Refuser"),
    "region_missions": ("ars", "Missions de la région (ARS)"),
    "ars_candidates": ("ars", "Candidats à proposer (ARS)"),
    "push": ("ars", "Proposer (ARS)"),
    "national_overview": ("national", "Vue nationale"),
    "national_missions": ("national", "Missions de toutes les régions"),
    "export": ("national", "Export national des missions (.xlsx)"),
}
TRANSITIONS = {"contact": "contacted", "validate": "validated", "refuse": "refused", "push": "pushed"}  # → Event
WRITES = (*TRANSITIONS, "export")
FILES = ("export",)  # a file, not a page: left out of the 300 ms criterion of the capacity curve

LIVE_STATES = tuple(state.value for state in m.LIVE_PROPOSAL_STATES)  # at most one per volunteer
OK, CONFLICT, UNAVAILABLE, ERROR = "ok", "conflict", "unavailable", "error"
INVARIANT_LABELS = {
    "one_live_proposal_per_volunteer": "Aucun professionnel réservé deux fois",
    "no_mission_over_filled": "Aucune mission sur-pourvue",
    "status_mirrors_live_proposal": "Statut des professionnels conforme à leur proposition",
    "every_transition_has_its_event": "Chaque transition a son événement d'audit, un seul",
    "every_export_has_its_event": "Chaque export est inscrit au journal",
}


@dataclass(frozen=True)
class Person:
    """Who one simulated person is: picklable, sent to its process."""

    persona: str
    user_id: int
    seed: int
    establishment_id: int | None = None
    ars_code: str | None = None


# ---------------------------------------------------------------- one simulated person (in a child process)


class Simulated:
    """A person acting in a loop until the deadline; every call to a core service is one timed sample."""

    def __init__(self, url: str, person: Person, think: tuple[float, float], export_every: int = EXPORT_EVERY):
        self.url, self.person, self.think, self.export_every = url, person, think, export_every
        self.rng = random.Random(person.seed)
        self.samples: list[tuple[str, float, str]] = []  # (operation, seconds, outcome)
        self.errors: list[str] = []
        self.exhausted: set[int] = set()  # missions left aside: filled, or no free candidate on the first page
        self.out_of_work = False
        self.actions = self.rng.randrange(export_every)  # national people: their exports do not fall together
        self.deadline, self.warming = 0.0, False
        with session_scope(url, read_only=True) as session:
            self.actor: SessionUser = to_session_user(session, user=session.get(m.User, person.user_id))

    def run(self, deadline: float) -> None:
        self.deadline = deadline
        if not self._pause(self.rng.uniform(0, self.think[1])):  # people arrive one by one, not all at once
            return
        while time.monotonic() < self.deadline:
            self.cycle()

    def cycle(self) -> None:
        {"etablissement": self.establishment, "ars": self.ars, "national": self.national}[self.person.persona]()

    # -- the three personas: one cycle each, a think time after every action

    def establishment(self) -> None:
        from core.staffing.matching import find_candidates
        from core.staffing.missions import dashboard
        from core.staffing.workflow import contact, refuse, validate

        found, rows = self._timed("dashboard", self._read(dashboard, establishment_id=self.person.establishment_id))
        if not self._pause() or not found:
            return
        missions = [row["id"] for row in rows if row["status"] == "open" and row["assigned"] < row["count"]
                    and row["id"] not in self.exhausted]
        self.out_of_work = not missions  # it keeps looking at its dashboard, as a person waiting for news
        if not missions:
            return
        mission_id = self.rng.choice(missions)
        found, page = self._timed("candidates", self._read(find_candidates, mission_id=mission_id))
        if not self._pause() or not found:
            return
        # A volunteer the ARS proposed to this mission (« en cours ») may be contacted too.
        free = [row["id"] for row in page.rows if row["proposal_state"] in (None, "en_cours")]
        if not free or page.mission.status != "open":
            self.exhausted.add(mission_id)
            return
        chosen = self.rng.choice(free[:FIRST_FREE])
        done, _ = self._timed("contact", self._write(contact, mission_id=mission_id, professional_id=chosen))
        if not self._pause() or not done:
            return
        if self.rng.random() < VALIDATE_SHARE:
            self._timed("validate", self._write(validate, mission_id=mission_id, professional_ids=[chosen]))
        else:
            self._timed("refuse", self._write(refuse, mission_id=mission_id, professional_ids=[chosen]))
        self._pause()

    def ars(self) -> None:
        from core.staffing.matching import find_candidates
        from core.staffing.regulation import accepts_candidates, push, region_missions

        found, listed = self._timed("region_missions", self._read(region_missions, ars_code=self.person.ars_code))
        if not self._pause() or not found:
            return
        missions = [row["id"] for row in listed.rows if accepts_candidates(row) and row["id"] not in self.exhausted]
        self.out_of_work = not missions
        if not missions:
            return
        mission_id = self.rng.choice(missions[:ARS_TOP])
        found, page = self._timed("ars_candidates", self._read(find_candidates, mission_id=mission_id))
        if not self._pause() or not found:
            return
        free = [row["id"] for row in page.rows if row["proposal_state"] is None]
        if not free or page.mission.status != "open":
            self.exhausted.add(mission_id)
            return
        chosen = self.rng.choice(free[:FIRST_FREE])
        self._timed("push", self._write(push, mission_id=mission_id, professional_ids=[chosen]))
        self._pause()

    def national(self) -> None:
        from core.figures.indicators import (
            IndicatorFilters,
            activity_period,
            dashboard_period,
            national_overview,
        )
        from core.figures.national_missions import national_missions

        self.actions += 1
        if self.actions % self.export_every == 0:
            self._timed("export", self._export)
        elif self.rng.random() < 0.5:
            # The page's opening view (every profession, the dashboard's period, its days up to today), read from
            # the replica as the page reads it (the primary when none is set).
            filters = IndicatorFilters(period=dashboard_period())
            self._timed("national_overview", self._read(national_overview, replica=True, filters=filters,
                                                        series_period=activity_period(filters.period)))
        else:
            self._timed("national_missions", self._read(national_missions))
        self._pause()

    # -- the calls, as a page makes them: one unit of work each

    def _read(self, service: Callable[..., Any], *, replica: bool = False, **arguments: Any) -> Callable[[], Any]:
        def call() -> Any:
            with session_scope(self.url, read_only=True, replica=replica) as session:
                return service(session, actor=self.actor, **arguments)
        return call

    def _write(self, service: Callable[..., Any], **arguments: Any) -> Callable[[], Any]:
        def call() -> Any:
            with session_scope(self.url) as session:
                return service(session, actor=self.actor, now=utcnow(), **arguments)
        return call

    def _export(self) -> int:
        """The « Exports » page's two steps: the Event in a write transaction on the primary, then the file streamed
        from the replica once it holds that Event (the primary when no replica is set)."""
        from core.figures.datasets import ExportFilters
        from core.figures.exports import ExportRequest, build_export, prepare_export
        from core.figures.indicators import dashboard_period

        period = dashboard_period()
        request = ExportRequest("missions", ExportFilters(start=period.start, end=period.end))
        with session_scope(self.url) as session:
            receipt = prepare_export(session, actor=self.actor, request=request)
        with session_scope(self.url, read_only=True, replica=True, caught_up=True) as session:
            return build_export(session, actor=self.actor, receipt=receipt).rows

    def _timed(self, name: str, call: Callable[[], Any]) -> tuple[bool, Any]:
        if self.warming and name in WRITES:
            return False, None
        started = time.perf_counter()
        result, outcome = None, OK
        try:
            result = call()
        except Conflict:  # lost a race, or the mission just filled: what two people wanting the same volunteer get
            outcome = CONFLICT
        except ServiceUnavailable:  # a lock or a pool wait timed out: the platform is saturated
            outcome = UNAVAILABLE
        except Exception as error:  # noqa: BLE001 - anything else breaks the run's promise
            outcome = ERROR
            self.errors.append(f"{name}: {type(error).__name__}: {error}"[:300])
        self.samples.append((name, time.perf_counter() - started, outcome))
        return outcome == OK, result

    def _pause(self, seconds: float | None = None) -> bool:
        """Think, but not past the deadline; False when the run is over."""
        seconds = self.rng.uniform(*self.think) if seconds is None else seconds
        time.sleep(max(0.0, min(seconds, self.deadline - time.monotonic())))
        return time.monotonic() < self.deadline

    def warm_up(self) -> None:
        """The reads of one cycle, as a server in service has run them already: imports, connections, compiled
        statements (matching compiles one per combination of mission criteria). Writes skipped, nothing kept."""
        self.warming, self.deadline = True, time.monotonic() + 3600
        think, self.think = self.think, (0.0, 0.0)
        try:
            self.cycle()
        finally:
            self.warming, self.think = False, think
            self.samples, self.errors, self.exhausted, self.out_of_work = [], [], set(), False


def _process_main(url: str, people: list[Person], seconds: float, think: tuple[float, float], export_every: int,
                  results: Any, go: Any) -> None:
    """One OS process of the run: its people, warmed up, then all started at the parent's signal."""
    try:
        crew = [Simulated(url, person, think, export_every) for person in people]
        for simulated in crew[:WARM_UP_MISSIONS]:
            simulated.warm_up()
        results.put(("ready", os.getpid(), None))
        if not go.wait(timeout=READY_TIMEOUT):
            return
        deadline = time.monotonic() + seconds
        threads = [threading.Thread(target=simulated.run, args=(deadline,), daemon=True) for simulated in crew]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()) + GRACE / 2)
        results.put(("done", os.getpid(), {
            "samples": [sample for simulated in crew for sample in simulated.samples],
            "errors": [error for simulated in crew for error in simulated.errors][:20],
            "out_of_work": Counter(s.person.persona for s in crew if s.out_of_work),
            "people": Counter(s.person.persona for s in crew),
        }))
    except BaseException:  # noqa: BLE001 - the parent must hear of it rather than wait
        results.put(("failed", os.getpid(), traceback.format_exc()[-1500:]))


# ---------------------------------------------------------------- who takes part


def mix(users: int) -> dict[str, int]:
    """How many people of each persona (largest remainders; each persona present from 3 people on)."""
    raw = {persona: users * share for persona, share in PERSONAS.items()}
    counts = {persona: int(value) for persona, value in raw.items()}
    for persona in sorted(raw, key=lambda p: raw[p] - counts[p], reverse=True)[:users - sum(counts.values())]:
        counts[persona] += 1
    for persona in PERSONAS:
        if counts[persona] == 0 and users >= len(PERSONAS):
            counts[max(counts, key=counts.get)] -= 1
            counts[persona] = 1
    return counts


def cast(url: str, users: int, seed: int) -> list[Person]:
    """The people of the run. Establishments: those with the most open posts in the regions with the most, one
    of their members each (colleagues when there are more people than establishments); ARS people: the accounts
    of the same regions; national people: the CCS and ministry accounts."""
    counts = mix(users)
    with session_scope(url, read_only=True) as session:
        posts = session.execute(
            sa.select(m.Establishment.id, m.Establishment.ars_code, sa.func.sum(m.Mission.count).label("posts"),
                      sa.select(sa.func.min(m.Membership.user_id)).where(
                          m.Membership.establishment_id == m.Establishment.id).scalar_subquery().label("user_id"))
            .join(m.Mission, m.Mission.establishment_id == m.Establishment.id)
            .where(m.Mission.status == "open", m.Mission.count > 0)
            .group_by(m.Establishment.id, m.Establishment.ars_code)).all()
        regulators = dict(session.execute(sa.select(m.User.ars_code, sa.func.min(m.User.id))
                                          .where(m.User.role == "ars").group_by(m.User.ars_code)).all())
        national = session.scalars(sa.select(m.User.id).where(m.User.role.in_(NATIONAL_ROLES))
                                   .order_by(m.User.role, m.User.id)).all()
    posts = [row for row in posts if row.user_id is not None]
    if not posts:
        raise Conflict("Aucune mission ouverte dans la base : le test de charge n'a rien à pourvoir.")
    by_region = Counter()
    for row in posts:
        by_region[row.ars_code] += row.posts
    ordered = sorted(posts, key=lambda row: (-by_region[row.ars_code], row.ars_code, -row.posts, row.id))
    chosen = [ordered[i % len(ordered)] for i in range(counts["etablissement"])]
    regions = [code for code, _ in Counter(row.ars_code for row in chosen).most_common() if code in regulators]
    if (counts["ars"] and not regions) or (counts["national"] and not national):
        raise Conflict("Comptes de régulation absents : le test de charge a besoin d'un compte par ARS et du CCS.")
    people = [Person("etablissement", row.user_id, 0, establishment_id=row.id) for row in chosen]
    people += [Person("ars", regulators[regions[i % len(regions)]], 0, ars_code=regions[i % len(regions)])
               for i in range(counts["ars"])]
    people += [Person("national", national[i % len(national)], 0) for i in range(counts["national"])]
    return [Person(p.persona, p.user_id, seed * 100_000 + n, p.establishment_id, p.ars_code)
            for n, p in enumerate(people)]


# ---------------------------------------------------------------- the report


@dataclass
class LoadReport:
    users: int
    processes: int
    seconds: float
    think: tuple[float, float]
    people: dict[str, int] = field(default_factory=dict)  # persona → people
    durations: dict[str, list[float]] = field(default_factory=dict)  # operation → seconds of each answer
    outcomes: dict[str, Counter] = field(default_factory=dict)  # operation → ok / conflict / unavailable / error
    pids: dict[int, int] = field(default_factory=dict)  # process → actions it timed
    errors: list[str] = field(default_factory=list)
    out_of_work: Counter = field(default_factory=Counter)  # persona → people with nothing left to do at the end
    invariants: dict[str, bool] = field(default_factory=dict)
    engine: str = ""
    dataset: dict[str, int] = field(default_factory=dict)
    export_every: int = EXPORT_EVERY
    since: datetime | None = None  # the run's start: its Events are those written since

    def add(self, pid: int, payload: dict[str, Any]) -> None:
        """One process's samples."""
        self.pids[pid] = len(payload["samples"])
        for name, seconds, outcome in payload["samples"]:
            self.outcomes.setdefault(name, Counter())[outcome] += 1
            if outcome in (OK, CONFLICT):  # an answer the person read: a lost race is one too
                self.durations.setdefault(name, []).append(seconds)
        self.errors += payload["errors"]
        self.out_of_work.update(payload["out_of_work"])

    def count(self, outcome: str, names: Any = None) -> int:
        return sum(counter[outcome] for name, counter in self.outcomes.items() if names is None or name in names)

    @property
    def invariants_ok(self) -> bool:
        return all(self.invariants.values()) and not self.count(ERROR) and not self.errors

    def operation(self, name: str) -> dict[str, Any]:
        values, counter = sorted(self.durations.get(name, [])), self.outcomes.get(name, Counter())
        return {"persona": OPERATIONS[name][0], "label": OPERATIONS[name][1], "done": counter[OK],
                "conflicts": counter[CONFLICT], "unavailable": counter[UNAVAILABLE], "errors": counter[ERROR],
                "p50_ms": _percentile(values, 0.5), "p95_ms": _percentile(values, 0.95),
                "max_ms": round(values[-1] * 1000, 1) if values else 0.0}

    def as_dict(self) -> dict[str, Any]:
        seconds = self.seconds or 1
        return {
            "mode": "processes", "engine": self.engine, "dataset": self.dataset, "cpu_count": os.cpu_count(),
            "users": self.users, "processes": self.processes, "seconds": self.seconds, "think_seconds": list(self.think),
            "people": self.people, "export_every": self.export_every,
            "throughput_per_second": round(self.count(OK) / seconds, 1),
            "transitions_per_second": round(self.count(OK, TRANSITIONS) / seconds, 1),
            "operations": {name: self.operation(name) for name in OPERATIONS if name in self.outcomes},
            "conflicts": self.count(CONFLICT), "unavailable": self.count(UNAVAILABLE), "errors": self.count(ERROR),
            "error_messages": self.errors[:20], "processes_seen": {str(pid): n for pid, n in self.pids.items()},
            "out_of_work": dict(self.out_of_work), "invariants": self.invariants, "invariants_ok": self.invariants_ok,
        }

    def table(self) -> str:
        data = self.as_dict()
        mixed = ", ".join(f"{n} {PERSONA_LABELS[p]}" for p, n in self.people.items())
        low, high = (f"{value:g}".replace(".", ",") for value in self.think)
        lines = [f"Test de charge : {self.users} personnes ({mixed}) réparties sur {len(self.pids)} processus, "
                 f"{low} à {high} s de réflexion entre deux actions, {self.seconds:g} s — "
                 f"{data['throughput_per_second']} actions/s dont {data['transitions_per_second']} transitions/s",
                 "", f"{'Opération':40} {'réussies':>9} {'conflits':>9} {'saturées':>9} {'erreurs':>8} "
                     f"{'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"]
        for op in data["operations"].values():
            lines.append(f"{op['label'][:40]:40} {op['done']:>9} {op['conflicts']:>9} {op['unavailable']:>9} "
                         f"{op['errors']:>8} {op['p50_ms']:>8.1f} {op['p95_ms']:>8.1f} {op['max_ms']:>8.1f}")
        lines.append(f"Un export pour {self.export_every} actions du CCS et du ministère ; conflit : deux personnes "
                     f"voulaient le même volontaire ou la mission venait d'être pourvue ; saturée : attente d'un "
                     f"verrou ou d'une connexion trop longue (« Service momentanément indisponible »).")
        for persona, count in self.out_of_work.items():
            lines.append(f"{count} {PERSONA_LABELS[persona]} sans plus rien à pourvoir à la fin")
        lines.append("")
        lines += [f"{'OK' if ok else 'KO'}  {INVARIANT_LABELS.get(key, key)}" for key, ok in self.invariants.items()]
        if self.errors or self.count(ERROR):
            first = self.errors[0] if self.errors else ""
            lines.append(f"KO  {self.count(ERROR)} erreur(s) inattendue(s), dont : {first}")
        return "\n".join(lines)


def _percentile(ordered: list[float], share: float) -> float:
    return round(bench.nearest_rank(ordered, share) * 1000, 1)


# ---------------------------------------------------------------- the invariants


def invariants(url: str, since: datetime, report: LoadReport) -> dict[str, bool]:
    """What any concurrency must leave true; the Events of the run (written since `since`) match its successes."""
    with session_scope(url, read_only=True) as session:
        twice = session.scalar(sa.select(sa.func.count()).select_from(
            sa.select(m.Proposal.professional_id).where(m.Proposal.state.in_(LIVE_STATES))
            .group_by(m.Proposal.professional_id).having(sa.func.count() > 1).subquery()))
        over = session.scalar(sa.select(sa.func.count()).select_from(
            sa.select(m.Mission.id).join(m.Proposal, m.Proposal.mission_id == m.Mission.id)
            .where(m.Proposal.state == "affecte").group_by(m.Mission.id, m.Mission.count)
            .having(sa.func.count() > m.Mission.count).subquery()))
        # Both ways: a live proposal's volunteer has its state, a volunteer in such a state has such a proposal.
        live = sa.select(m.Proposal.id).where(m.Proposal.professional_id == m.Professional.id,
                                              m.Proposal.state == m.Professional.status)
        mismatched = session.scalar(sa.select(sa.func.count()).select_from(m.Proposal)
                                    .join(m.Professional, m.Professional.id == m.Proposal.professional_id)
                                    .where(m.Proposal.state.in_(LIVE_STATES),
                                           m.Professional.status != m.Proposal.state))
        orphans = session.scalar(sa.select(sa.func.count()).select_from(m.Professional)
                                 .where(m.Professional.status.in_(LIVE_STATES), ~live.exists()))
        events = Counter(dict(session.execute(
            sa.select(m.Event.action, sa.func.count()).where(m.Event.at >= since, m.Event.entity == "proposal")
            .group_by(m.Event.action)).all()))
        exports = session.scalar(sa.select(sa.func.count()).select_from(m.Event).where(
            m.Event.at >= since, m.Event.entity == "export"))
    done = {name: report.outcomes.get(name, Counter())[OK] for name in (*TRANSITIONS, "export")}
    return {"one_live_proposal_per_volunteer": twice == 0, "no_mission_over_filled": over == 0,
            "status_mirrors_live_proposal": mismatched == 0 and orphans == 0,
            "every_transition_has_its_event": all(events[action] == done[name] for name, action in TRANSITIONS.items()),
            "every_export_has_its_event": exports == done["export"]}


# ---------------------------------------------------------------- the run


def parse_think(text: str) -> tuple[float, float]:
    """« 1-3 » → (1.0, 3.0); « 2 » → (2.0, 2.0)."""
    low, _, high = text.replace(",", ".").partition("-")
    bounds = (float(low), float(high or low))
    if bounds[0] < 0 or bounds[1] < bounds[0]:
        raise ValueError(f"temps de réflexion invalide : « {text} » (attendu par exemple 1-3, en secondes)")
    return bounds


def run_load(url: str, *, users: int = 25, processes: int = 2, think: tuple[float, float] = (1.0, 3.0),
             seconds: float = 30, seed: int = 11, scale: str = "current", sizes: dict[str, int] | None = None,
             export_every: int = EXPORT_EVERY, say: Callable[[str], None] = print) -> LoadReport:
    """`users` people over `processes` processes for `seconds`, then the invariants. The data set in place is
    reused; an empty database first gets the national set (`sizes` shrinks it, `export_every` makes exports
    frequent: tests only)."""
    dataset = bench.prepare(url, scale, say, sizes=sizes)
    _worker_pass(url, say)
    people = cast(url, users, seed)
    groups = [group for group in (people[i::processes] for i in range(processes)) if group]
    report = LoadReport(users=len(people), processes=len(groups), seconds=seconds, think=think,
                        people=dict(Counter(p.persona for p in people)), engine=sa.make_url(url).get_backend_name(),
                        dataset=dataset, export_every=export_every)
    context = multiprocessing.get_context("spawn")  # a fresh interpreter each, as a server process is
    results, go = context.Queue(), context.Event()
    children = [context.Process(target=_process_main, args=(url, group, seconds, think, export_every, results, go), daemon=True)
                for group in groups]
    report.since = utcnow()
    for child in children:
        child.start()
    try:
        say(f"{len(children)} processus lancés, mise en chauffe…")
        ready = _gather(results, report, len(children), "ready", READY_TIMEOUT)
        go.set()
        if ready:
            say(f"Départ : {len(people)} personnes pendant {seconds:g} s")
            _gather(results, report, ready, "done", seconds + GRACE)
    finally:
        for child in children:
            child.join(timeout=GRACE / 4)
            if child.is_alive():
                child.terminate()  # one of ours that did not end: never left behind
    report.invariants = invariants(url, report.since, report)
    return report


def _worker_pass(url: str, say: Callable[[str], None]) -> None:
    """What a deployment's worker has done before anyone clicks: its periodic jobs, among them the national figures
    it precomputes for « Vue nationale » (without them every reader would compute them, which no deployment does).
    Not with an SMTP server configured: the outbox would really be sent."""
    from core.shared.config import get_settings
    from ops.worker import run_once

    if get_settings().smtp_configured:
        say("SMTP configuré : pas de passage du worker avant le test (les courriels partiraient) ; lancez-le à part.")
        return
    for line in run_once(url):
        say(f"Worker : {line}")


def _gather(results: Any, report: LoadReport, expected: int, kind: str, timeout: float) -> int:
    """Wait for `expected` messages of this kind; a failed process is an error of the run. Returns how many came."""
    received, limit = 0, time.monotonic() + timeout
    while received < expected:
        try:
            message, pid, payload = results.get(timeout=max(0.1, limit - time.monotonic()))
        except queues.Empty:
            report.errors.append(f"{expected - received} processus sans réponse après {timeout:.0f} s")
            return received
        if message == "failed":
            report.errors.append(f"processus {pid} : {payload}")
            expected -= 1
            continue
        if message == "done":
            report.add(pid, payload)
        received += 1
    return received
