"""What a run produced, read back from the database the services wrote: the day's figures, the final ones
(fill, time-to-fill, fairness of solicitations, long waits) per region too, and the invariants that no rule may
break whatever the behaviour (no double reservation, no over-filled mission, one Event per transition)."""

from __future__ import annotations

import statistics
from array import array
from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.figures.indicators import ASSIGNED
from core.places import reference
from core.staffing.matching import candidate_query, load_mission_context
from core.staffing.transitions import WAITING
from db.models import CrisisMode, Establishment, Event, Mission, Professional, Proposal, ProposalState
from ops.simulation.fairness import Need, fairest_loads

LIVE = (*WAITING, ProposalState.AFFECTE.value)
LONG_WAIT_DAYS = 7
LORENZ_POINTS = 101


def rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


@dataclass
class Eligibility:
    """Volunteers eligible for at least one need of the wave (when it was filed), overall and per region."""

    everyone: set[int] = field(default_factory=set)
    by_region: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    by_mission: dict[int, array] = field(default_factory=dict)  # 4 bytes a volunteer: national sets are large

    def add_mission(self, session: so.Session, mission_id: int, now: datetime) -> None:
        """Matching's own query, as the region's ARS sees it before crisis mode, volunteers reserved elsewhere
        included: whoever the rules could have asked."""
        context = load_mission_context(session, mission_id=mission_id)
        query = candidate_query(context, "regulator", False, now, with_reserved=True)
        ids = set(session.scalars(sa.select(query.base.subquery().c.id)))
        self.everyone |= ids
        self.by_region[context.ars_code] |= ids
        self.by_mission[mission_id] = array("i", sorted(ids))


def gini_floor(session: so.Session, start: datetime, eligibility: Eligibility) -> float | None:
    """The lowest Gini the wave's requests could have had: each need asking as many of its eligible volunteers as
    it did, spread as equally as possible (requests outside a need's eligible set stay where they went)."""
    asked_by_mission: dict[int, set[int]] = defaultdict(set)
    fixed: Counter[int] = Counter()
    for mission_id, professional_id in session.execute(
            sa.select(Proposal.mission_id, Proposal.professional_id).join(Mission, Mission.id == Proposal.mission_id)
            .where(_wave(start))):
        eligible = eligibility.by_mission.get(mission_id)
        if (eligible is not None and _holds(eligible, professional_id)
                and professional_id not in asked_by_mission[mission_id]):
            asked_by_mission[mission_id].add(professional_id)
        elif professional_id in eligibility.everyone:  # so that both Ginis count the same requests
            fixed[professional_id] += 1
    needs = [Need(asked=len(asked_by_mission[mission_id]), eligible=eligible)
             for mission_id, eligible in sorted(eligibility.by_mission.items())]
    loads = fairest_loads(needs, fixed)
    return gini([loads.get(pid, 0) for pid in sorted(eligibility.everyone)])


def _holds(ordered: array, value: int) -> bool:
    position = bisect_left(ordered, value)
    return position < len(ordered) and ordered[position] == value


def _wave(start: datetime) -> sa.ColumnElement[bool]:
    return Mission.created_at >= start


def waits(session: so.Session, start: datetime, now: datetime) -> tuple[int, float]:
    """Requests of the wave waiting for more than LONG_WAIT_DAYS (as the worker's jobs measure a wait: from the
    contact, else from the push) and the longest wait in days."""
    since = sa.func.coalesce(Proposal.decided_at, Proposal.created_at)
    rows = session.scalars(sa.select(since).join(Mission, Mission.id == Proposal.mission_id)
                           .where(_wave(start), Proposal.state.in_(WAITING))).all()
    ages = [(now - moment).total_seconds() / 86400 for moment in rows]
    return sum(1 for age in ages if age > LONG_WAIT_DAYS), max(ages, default=0.0)


def _count(session: so.Session, query: sa.Select) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)


def day_figures(session: so.Session, start: datetime, day: int, today: date, waiting_over_7_days: int) -> dict[str, Any]:
    missions = session.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Mission.count), 0))
                               .where(_wave(start))).one()
    by_state = dict(session.execute(
        sa.select(Proposal.state, sa.func.count()).join(Mission, Mission.id == Proposal.mission_id)
        .where(_wave(start)).group_by(Proposal.state)).all())
    return {
        "day": day, "date": today.isoformat(), "missions": int(missions[0]), "posts_requested": int(missions[1]),
        "posts_filled": sum(by_state.get(state, 0) for state in ASSIGNED),
        "waiting": sum(by_state.get(state, 0) for state in WAITING),
        "waiting_over_7_days": waiting_over_7_days,
        "solicitations": sum(by_state.values()),
        "declined": by_state.get(ProposalState.DECLINE.value, 0),
        "expired": _count(session, sa.select(Event.id).where(Event.action == "expired", Event.at >= start)),
        "crisis_regions": _count(session, sa.select(CrisisMode.ars_code).where(CrisisMode.disabled_at.is_(None))
                                 .distinct()),
        "pools_opened": _count(session, sa.select(Mission.id).where(_wave(start), Mission.pools_opened_at.is_not(None))),
    }


# ---------------------------------------------------------------- final figures


def gini(values: list[int]) -> float | None:
    """0 when everyone was asked as often, towards 1 when a few were asked for everything."""
    if not values or sum(values) == 0:
        return None if not values else 0.0
    ordered = sorted(values)
    n, total = len(ordered), sum(ordered)
    weighted = sum((index + 1) * value for index, value in enumerate(ordered))
    return (2 * weighted) / (n * total) - (n + 1) / n


def lorenz(values: list[int]) -> list[list[float]]:
    """LORENZ_POINTS points (share of volunteers, least asked first; share of the solicitations they got)."""
    ordered, total = sorted(values), sum(values)
    if not ordered or total == 0:
        return [[0.0, 0.0], [1.0, 1.0]]
    cumulative = [0]
    for value in ordered:
        cumulative.append(cumulative[-1] + value)
    points = []
    for step in range(LORENZ_POINTS):
        share = step / (LORENZ_POINTS - 1)
        points.append([rounded(share), rounded(cumulative[round(share * len(ordered))] / total)])
    return points


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1] if 0 < q < 1 else values[0]


class Fill(NamedTuple):
    """A filled post of the wave: its region, its need, hours from the need's filing to the validation."""

    ars: str
    mission_id: int
    hours: float


def _fills(session: so.Session, start: datetime) -> list[Fill]:
    rows = session.execute(
        sa.select(Establishment.ars_code, Mission.id, Mission.created_at, Proposal.decided_at)
        .join(Mission, Mission.id == Proposal.mission_id).join(Establishment, Establishment.id == Mission.establishment_id)
        .where(_wave(start), Proposal.state.in_(ASSIGNED)).order_by(Proposal.id)
    ).all()
    return [Fill(ars, mission_id, (decided - created).total_seconds() / 3600)
            for ars, mission_id, created, decided in rows]


def hours_by_mission(fills: list[Fill]) -> dict[str, list[float]]:
    """Each need's filled posts, fastest first: the waves of both rules have the same needs under the same ids, so
    that a comparison can set the same posts side by side (JSON keys are text)."""
    by_mission: dict[str, list[float]] = defaultdict(list)
    for fill in fills:
        by_mission[str(fill.mission_id)].append(rounded(fill.hours))
    return {mission: sorted(hours) for mission, hours in sorted(by_mission.items(), key=lambda item: int(item[0]))}


def _solicitations(session: so.Session, start: datetime) -> Counter[int]:
    return Counter(dict(session.execute(
        sa.select(Proposal.professional_id, sa.func.count()).join(Mission, Mission.id == Proposal.mission_id)
        .where(_wave(start)).group_by(Proposal.professional_id)).all()))


def _posts_by_region(session: so.Session, start: datetime) -> dict[str, int]:
    return {ars: int(posts) for ars, posts in session.execute(
        sa.select(Establishment.ars_code, sa.func.sum(Mission.count))
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .where(_wave(start)).group_by(Establishment.ars_code)).all()}


def ttf_summary(hours: list[float]) -> dict[str, Any]:
    ordered = sorted(hours)
    return {"count": len(ordered), "median": rounded(statistics.median(ordered)) if ordered else None,
            "p25": rounded(quantile(ordered, 0.25)), "p75": rounded(quantile(ordered, 0.75)),
            "p90": rounded(quantile(ordered, 0.9))}


def final_figures(session: so.Session, start: datetime, eligibility: Eligibility, days: list[dict[str, Any]],
                  crisis_days: dict[str, int], longest_wait_days: float) -> dict[str, Any]:
    fills = _fills(session, start)
    hours = sorted(fill.hours for fill in fills)
    asked = _solicitations(session, start)
    counts = [asked.get(pid, 0) for pid in sorted(eligibility.everyone)]
    requested = sum(_posts_by_region(session, start).values())
    events = _count(session, sa.select(Event.id).where(Event.at >= start))
    final = {
        "posts_requested": requested, "posts_filled": len(fills),
        "fill_rate": rounded(len(fills) / requested if requested else 0.0),
        "time_to_fill_hours": ttf_summary(hours),
        "eligible_volunteers": len(counts), "solicited_volunteers": sum(1 for c in counts if c),
        "never_contacted": sum(1 for c in counts if not c),
        "never_contacted_share": rounded(sum(1 for c in counts if not c) / len(counts) if counts else 0.0),
        "gini": rounded(gini(counts)), "gini_floor": rounded(gini_floor(session, start, eligibility)),
        "max_solicitations": max(counts, default=0),
        "lorenz": lorenz(counts),
        "waiting_over_7_days_max": max((d["waiting_over_7_days"] for d in days), default=0),
        "longest_wait_days": rounded(longest_wait_days),
        "crisis_switches": _count(session, sa.select(Event.id).where(Event.entity == "crisis_mode",
                                                                     Event.action == "enabled", Event.at >= start)),
        "pools_opened": _count(session, sa.select(Mission.id).where(_wave(start), Mission.pools_opened_at.is_not(None))),
        "events": events,
    }
    histogram = Counter(counts)
    return {"final": final, "time_to_fill_hours": [rounded(h) for h in hours],
            "time_to_fill_by_mission": hours_by_mission(fills),
            "solicitations_histogram": [[k, histogram.get(k, 0)] for k in range(max(histogram, default=0) + 1)],
            "regions": region_figures(session, start, fills, asked, eligibility, crisis_days)}


def region_figures(session: so.Session, start: datetime, fills: list[Fill], asked: Counter[int],
                   eligibility: Eligibility, crisis_days: dict[str, int]) -> list[dict[str, Any]]:
    names = reference.ars_names()
    posts = _posts_by_region(session, start)
    hours: dict[str, list[float]] = defaultdict(list)
    for fill in fills:
        hours[fill.ars].append(fill.hours)
    rows = []
    for ars in sorted(posts):
        counts = [asked.get(pid, 0) for pid in sorted(eligibility.by_region.get(ars, ()))]
        filled = len(hours[ars])
        rows.append({"ars_code": ars, "region": names.get(ars, ars), "posts_requested": posts[ars],
                     "posts_filled": filled, "fill_rate": rounded(filled / posts[ars] if posts[ars] else 0.0),
                     "median_time_to_fill_hours": rounded(statistics.median(hours[ars])) if hours[ars] else None,
                     "gini": rounded(gini(counts)), "eligible_volunteers": len(counts),
                     "never_contacted": sum(1 for c in counts if not c), "crisis_day": crisis_days.get(ars)})
    return rows


# ---------------------------------------------------------------- invariants


def invariants(session: so.Session, start: datetime) -> dict[str, int]:
    """Counts of what must never happen; all zero after any run."""
    double = _count(session, sa.select(Proposal.professional_id).where(Proposal.state.in_(LIVE))
                    .group_by(Proposal.professional_id).having(sa.func.count() > 1))
    assigned = (sa.select(Proposal.mission_id, sa.func.count().label("n")).where(Proposal.state.in_(ASSIGNED))
                .group_by(Proposal.mission_id).subquery())
    overfilled = _count(session, sa.select(Mission.id).join(assigned, assigned.c.mission_id == Mission.id)
                        .where(assigned.c.n > Mission.count))
    mismatched = _count(session, sa.select(Proposal.id).join(Professional, Professional.id == Proposal.professional_id)
                        .where(Proposal.state.in_(LIVE), Professional.status != _status_for(Proposal.state)))
    return {"double_reservations": double, "overfilled_missions": overfilled,
            "status_mismatches": mismatched, "broken_event_chains": broken_chains(session, start)}


def _status_for(state: Any) -> sa.ColumnElement[str]:
    """The volunteer's status a live proposal implies (DESIGN §3): contacted, pushed (en cours) or assigned."""
    return sa.case((state == ProposalState.CONTACTE.value, "contacte"),
                   (state == ProposalState.EN_COURS.value, "en_cours"), else_="affecte")


def broken_chains(session: so.Session, start: datetime) -> int:
    """Proposals of the wave whose Events do not tell every transition: the first leaves « disponible », each
    next one starts where the previous ended, the last ends in the proposal's state."""
    proposals = dict(session.execute(sa.select(Proposal.id, Proposal.state).join(Mission, Mission.id == Proposal.mission_id)
                                     .where(_wave(start))).all())
    chains: dict[int, list[tuple[str | None, str | None]]] = defaultdict(list)
    for entity_id, before, after in session.execute(
            sa.select(Event.entity_id, Event.before, Event.after)
            .where(Event.entity == "proposal", Event.at >= start, Event.after.is_not(None)).order_by(Event.id)):
        chains[int(entity_id)].append((before, after))
    broken = 0
    for proposal_id, state in proposals.items():
        chain = chains.get(proposal_id, [])
        steps_follow = all(chain[i][0] == chain[i - 1][1] for i in range(1, len(chain)))
        if not chain or chain[0][0] != "disponible" or not steps_follow or chain[-1][1] != state:
            broken += 1
    return broken
