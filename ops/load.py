"""`python -m core bench --load`: simulated establishments working at the same time, then the invariants
that must survive any concurrency — nobody reserved twice, no mission over-filled, every transition
has its Event. Like the bench, it reuses the data set in place and builds the national one in an empty
database (ops.bench.prepare)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.shared.actor import to_session_user
from core.shared.clock import utcnow
from core.shared.errors import Conflict, DomainError
from core.staffing.matching import LIVE, find_candidates
from core.staffing.workflow import contact, refuse, validate
from db import models as m
from db.session import session_scope
from ops import bench

ACTIONS = {"contact": "contacted", "validate": "validated", "refuse": "refused"}
MATCHING = "matching"  # timed in each cycle, not a transition: left out of the throughput


@dataclass
class LoadReport:
    workers: int
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    successes: Counter = field(default_factory=Counter)
    conflicts: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    invariants: dict[str, bool] = field(default_factory=dict)
    out_of_work: int = 0  # workers whose missions were all filled or without free candidates before the end

    @property
    def invariants_ok(self) -> bool:
        return all(self.invariants.values()) and not self.errors

    def _percentile(self, values: list[float], share: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] * 1000 if ordered else 0.0

    def as_dict(self) -> dict[str, Any]:
        total = sum(self.successes[name] for name in ACTIONS)
        return {
            "workers": self.workers, "seconds": self.seconds,
            "throughput_per_second": round(total / self.seconds, 1) if self.seconds else 0,
            "operations": {
                name: {"done": self.successes[name], "conflicts": self.conflicts[name],
                       "p50_ms": round(self._percentile(values, 0.5), 1),
                       "p95_ms": round(self._percentile(values, 0.95), 1),
                       "max_ms": round(max(values, default=0) * 1000, 1)}
                for name in (MATCHING, *ACTIONS) if (values := self.latencies.get(name)) is not None
            },
            "workers_out_of_work": self.out_of_work, "errors": self.errors[:20], "invariants": self.invariants,
        }

    def table(self) -> str:
        data = self.as_dict()
        lines = [f"Test de charge : {self.workers} établissements simultanés pendant {self.seconds:.0f} s — "
                 f"{data['throughput_per_second']} transitions/s", ""]
        lines.append(f"{'Opération':14} {'réussies':>9} {'conflits':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for name, op in data["operations"].items():
            lines.append(f"{name:14} {op['done']:>9} {op['conflicts']:>9} {op['p50_ms']:>8.1f} {op['p95_ms']:>8.1f} "
                         f"{op['max_ms']:>8.1f}")
        if self.out_of_work:
            lines.append(f"{self.out_of_work} établissement(s) sans plus rien à pourvoir avant la fin")
        lines.append("")
        labels = {"one_live_proposal_per_volunteer": "Aucun professionnel réservé deux fois",
                  "no_mission_over_filled": "Aucune mission sur-pourvue",
                  "status_mirrors_live_proposal": "Statut des professionnels conforme à leur proposition",
                  "every_transition_has_its_event": "Chaque transition a son événement d'audit"}
        for key, ok in self.invariants.items():
            lines.append(f"{'OK' if ok else 'KO'}  {labels.get(key, key)}")
        if self.errors:
            lines.append(f"KO  {len(self.errors)} erreur(s) inattendue(s), dont : {self.errors[0]}")
        return "\n".join(lines)


class Worker(threading.Thread):
    """One establishment: matching → contact → validate or refuse, in a loop. A mission that is no longer
    open, or whose first page holds no free candidate, is left aside (an establishment would not reload
    it); the worker stops when none is left."""

    def __init__(self, url: str, user_id: int, missions: list[int], deadline: float, report: LoadReport,
                 lock: threading.Lock, seed: int):
        super().__init__(daemon=True)
        self.url, self.user_id, self.missions = url, user_id, missions
        self.deadline, self.report, self.lock = deadline, report, lock
        self.rng = random.Random(seed)

    def _timed(self, name: str, function: Any) -> tuple[bool, Any]:
        started = time.perf_counter()
        try:
            result = function()
        except DomainError:  # lost a race or the mission just filled: expected under load
            with self.lock:
                self.report.conflicts[name] += 1
            return False, None
        except Exception as error:  # noqa: BLE001 - anything else breaks the run's promise
            with self.lock:
                self.report.errors.append(f"{name}: {type(error).__name__}: {error}"[:300])
            return False, None
        with self.lock:
            self.report.latencies.setdefault(name, []).append(time.perf_counter() - started)
            self.report.successes[name] += 1
        return True, result

    def run(self) -> None:
        with session_scope(self.url, read_only=True) as session:
            actor = to_session_user(session, user=session.get(m.User, self.user_id))
        while time.monotonic() < self.deadline:
            if not self.missions:
                with self.lock:
                    self.report.out_of_work += 1
                return
            mission_id = self.rng.choice(self.missions)

            def matching(mission: int = mission_id) -> Any:
                with session_scope(self.url, read_only=True) as session:
                    return find_candidates(session, actor=actor, mission_id=mission, limit=10)

            found, page = self._timed(MATCHING, matching)
            if not found:
                continue
            free = [row["id"] for row in page.rows if row["proposal_state"] is None]
            if not free or page.mission.status != "open":
                self.missions.remove(mission_id)
                continue
            professional_id = self.rng.choice(free[:3])  # several workers aim at the same top candidates

            def do(action: Any, mission: int = mission_id, **arguments: Any) -> Any:
                def call() -> None:
                    with session_scope(self.url) as session:
                        action(session, actor=actor, mission_id=mission, now=utcnow(), **arguments)
                return call

            if not self._timed("contact", do(contact, professional_id=professional_id))[0]:
                continue
            if self.rng.random() < 0.3:
                self._timed("validate", do(validate, professional_ids=[professional_id]))
            else:
                self._timed("refuse", do(refuse, professional_ids=[professional_id]))


def _invariants(url: str, since: datetime, report: LoadReport) -> dict[str, bool]:
    with session_scope(url, read_only=True) as session:
        twice = session.scalar(sa.select(sa.func.count()).select_from(
            sa.select(m.Proposal.professional_id).where(m.Proposal.state.in_(LIVE))
            .group_by(m.Proposal.professional_id).having(sa.func.count() > 1).subquery()))
        over = session.scalar(sa.select(sa.func.count()).select_from(
            sa.select(m.Mission.id).join(m.Proposal, m.Proposal.mission_id == m.Mission.id)
            .where(m.Proposal.state == "affecte").group_by(m.Mission.id, m.Mission.count)
            .having(sa.func.count() > m.Mission.count).subquery()))
        mismatched = session.scalar(sa.select(sa.func.count()).select_from(m.Proposal)
                                    .join(m.Professional, m.Professional.id == m.Proposal.professional_id)
                                    .where(m.Proposal.state.in_(["contacte", "affecte"]),
                                           m.Professional.status != m.Proposal.state))
        events = Counter(dict(session.execute(
            sa.select(m.Event.action, sa.func.count()).where(m.Event.at >= since, m.Event.entity == "proposal")
            .group_by(m.Event.action)).all()))
    audited = all(events[action] >= report.successes[name] for name, action in ACTIONS.items())
    return {"one_live_proposal_per_volunteer": twice == 0, "no_mission_over_filled": over == 0,
            "status_mirrors_live_proposal": mismatched == 0, "every_transition_has_its_event": audited}


def run_load(url: str, *, workers: int = 20, seconds: float = 30, seed: int = 11, scale: str = "current",
             sizes: dict[str, int] | None = None, say: Any = print) -> LoadReport:
    """Run `workers` establishments for `seconds`, then check the invariants. The data set in place is
    reused; an empty database first gets the national set (`sizes` shrinks it: tests only)."""
    bench.prepare(url, scale, say, sizes=sizes)
    with session_scope(url, read_only=True) as session:
        rows = session.execute(
            sa.select(m.Mission.id, m.Mission.created_by, m.Mission.count, m.Establishment.ars_code)
            .join(m.Establishment, m.Establishment.id == m.Mission.establishment_id)
            .where(m.Mission.status == "open", m.Mission.count > 0)).all()
    if not rows:
        raise Conflict("Aucune mission ouverte dans la base : le test de charge n'a rien à pourvoir.")
    # Concentrate the workers in one region so that they compete for the same volunteers, and take the
    # establishments with the most open posts there so that they still have work at the end of the run.
    region = Counter(row.ars_code for row in rows).most_common(1)[0][0]
    by_user: dict[int, list[int]] = {}
    posts: Counter = Counter()
    for row in rows:
        if row.ars_code == region:
            by_user.setdefault(row.created_by, []).append(row.id)
            posts[row.created_by] += row.count
    chosen = sorted(by_user, key=lambda user: (-posts[user], user))[:workers]
    report = LoadReport(workers=len(chosen), seconds=seconds)
    lock, since = threading.Lock(), utcnow()
    deadline = time.monotonic() + seconds
    threads = [Worker(url, user, by_user[user], deadline, report, lock, seed + i) for i, user in enumerate(chosen)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    report.invariants = _invariants(url, since, report)
    return report
