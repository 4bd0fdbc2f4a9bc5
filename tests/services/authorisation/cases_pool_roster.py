"""Rows of the authorisation table for core/pools/roster.py and core/pools/coordination.py: the coordinator's side of a
territorial pool (issue 14).

The roster is kept by the pool's own coordinator alone (search, invite, release, remove) — not the ARS, which
follows the project, nor another pool's coordinator; an invitation is answered and a pool left by the volunteer
alone, from « Mon profil »; anyone may register with a pool's code (the public questionnaire). The queue of the
member establishments' missions, the pushes to them and the pool's heading belong to the coordinator; the pool's
indicators are read by its coordinator, the ARS of its region and the national roles.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.pools import coordination, roster
from db import models as m
from tests.factories import NOW, make_available_nurse, make_roster_entry
from tests.services.authorisation.cases_volunteers import _registration
from tests.services.authorisation.world import EVERYONE, NATIONAL, Service, World, last_action, professional

COORDINATOR = frozenset({"coordinateur"})
VOLUNTEER = frozenset({"professionnel"})
POOL_READERS = COORDINATOR | {"ars", "ccs"} | NATIONAL


def _pool(session: so.Session, world: World) -> m.TerritorialPool:
    return session.get(m.TerritorialPool, world.pool_id)


def _nurse_entry(session: so.Session, world: World, state: str | None = None) -> int:
    """The world's nurse's entry on the roster (in `state`, when given, flushed): its id."""
    entry = session.scalar(sa.select(m.PoolRosterEntry).where(m.PoolRosterEntry.pool_id == world.pool_id,
                                                              m.PoolRosterEntry.professional_id == world.professional_id))
    if state is not None:
        entry.state = state
        session.flush()
    return entry.id


def _pool_only(session: so.Session, world: World) -> int:
    """A volunteer of Nantes registered with the pool's code (flushed): the entry's id."""
    return make_roster_entry(session, _pool(session, world), make_available_nurse(session), origin="inscription").id


def _entry(session: so.Session, entry_id: int) -> m.PoolRosterEntry:
    return session.get(m.PoolRosterEntry, entry_id, populate_existing=True)


def _invited(session: so.Session, world: World, entry: m.PoolRosterEntry) -> bool:
    mailed = session.scalar(sa.select(sa.func.count()).select_from(m.Outbox)
                            .where(m.Outbox.dedup_key == f"pool-invitation:{entry.id}"))
    return entry.state == "invite" and entry.pool_id == world.pool_id and mailed == 1


def _registered(session: so.Session, world: World, result: roster.PoolRegistration) -> bool:
    entry = session.scalar(sa.select(m.PoolRosterEntry).where(
        m.PoolRosterEntry.professional_id == result.professional_id))
    return (result.pool_name == _pool(session, world).name and entry.pool_id == world.pool_id
            and (entry.state, entry.origin, entry.pool_only) == ("membre", "inscription", True))


CASES: dict[str, Service] = {
    # ---- core/pools/roster.py
    "roster.search_volunteers": Service(
        lambda s, w, a: roster.search_volunteers(s, actor=a), COORDINATOR,
        lambda s, w, r: [(row["id"], row["roster_state"]) for row in r[0]] == [(w.professional_id, "membre")],
        "les volontaires de la région de la plateforme, pour son coordinateur seul"),
    "roster.invite": Service(
        lambda s, w, a: roster.invite(s, actor=a, professional_id=make_available_nurse(s).id, now=NOW), COORDINATOR,
        _invited, "le coordinateur de la plateforme ; l'ARS suit le projet, elle ne tient pas le vivier"),
    "roster.roster": Service(
        lambda s, w, a: roster.roster(s, actor=a), COORDINATOR,
        lambda s, w, r: [row["professional_id"] for row in r] == [w.professional_id]),
    "roster.release_member": Service(
        lambda s, w, a: (entry_id := _pool_only(s, w), roster.release_member(s, actor=a, entry_id=entry_id, now=NOW)),
        COORDINATOR,
        lambda s, w, r: _entry(s, r[0]).released_at is not None and last_action(s, "pool_roster") == "roster_released"),
    "roster.remove_member": Service(
        lambda s, w, a: roster.remove_member(s, actor=a, entry_id=_nurse_entry(s, w), now=NOW), COORDINATOR,
        lambda s, w, r: r is False and _entry(s, _nurse_entry(s, w)).state == "retire"),
    "roster.my_pools": Service(
        lambda s, w, a: roster.my_pools(s, actor=a), VOLUNTEER,
        lambda s, w, r: [row["pool"] for row in r.memberships] == [_pool(s, w).name] and r.invitations == [],
        "le volontaire lui-même (« Mon profil »)"),
    "roster.answer_invitation": Service(
        lambda s, w, a: roster.answer_invitation(s, actor=a, entry_id=_nurse_entry(s, w, "invite"), accept=True,
                                                 now=NOW), VOLUNTEER,
        lambda s, w, r: _entry(s, _nurse_entry(s, w)).state == "membre", "le volontaire invité, lui seul"),
    "roster.leave_pool": Service(
        lambda s, w, a: roster.leave_pool(s, actor=a, entry_id=_nurse_entry(s, w), now=NOW), VOLUNTEER,
        lambda s, w, r: _entry(s, _nurse_entry(s, w)).state == "retire" and professional(s, w).status == "disponible",
        "le volontaire lui-même"),
    "roster.register_with_pool_code": Service(
        lambda s, w, a: roster.register_with_pool_code(s, actor=a, form=_registration(),
                                                       pool_code=_pool(s, w).code, now=NOW), EVERYONE,
        _registered, "questionnaire public « Proposer mon aide » avec le code de la plateforme"),
    # ---- core/pools/coordination.py
    "coordination.pool_queue": Service(
        lambda s, w, a: coordination.pool_queue(s, actor=a, now=NOW), COORDINATOR,
        lambda s, w, r: [(row["id"], row["roster_candidates"]) for row in r.rows] == [(w.mission_id, 1)],
        "les missions des établissements membres, pour le coordinateur"),
    "coordination.push_roster_members": Service(
        lambda s, w, a: coordination.push_roster_members(s, actor=a, mission_id=w.mission_id,
                                                         professional_ids=[w.professional_id], now=NOW), COORDINATOR,
        lambda s, w, r: r == 1 and professional(s, w).status == "en_cours"
        and s.scalar(sa.select(m.Proposal.origin).where(m.Proposal.professional_id == w.professional_id)) == "pool",
        "membres du vivier vers les missions des établissements membres ; l'ARS et le CCS poussent par « Proposer »"),
    "coordination.pool_indicators": Service(
        lambda s, w, a: coordination.pool_indicators(s, actor=a, pool_id=w.pool_id), POOL_READERS,
        lambda s, w, r: r.pool_name == _pool(s, w).name and r.totals["needs"] == 1,
        "son coordinateur, l'ARS de sa région, les rôles nationaux"),
    "coordination.pool_heading": Service(
        lambda s, w, a: coordination.pool_heading(s, actor=a), COORDINATOR,
        lambda s, w, r: (r["code"], r["members"], r["roster"]) == (_pool(s, w).code, 1, 1)),
}
