"""How low the solicitation Gini could have gone: the fairest spread of the very requests a run made.

Each need of the wave asked some of the volunteers eligible for it. Keep, for every need, how many it asked, and let
any of its eligible volunteers take those requests (at most one each): the spread that asks everyone as equally as
possible bounds, from below, the Gini any ranking could reach with these requests. The issue's target (≤ 0.3) is
read against that floor: where the floor is above it, no list order could have met it.

The loads a set of needs can give its volunteers form an M-convex set (the sink side of a flow network with fixed
supplies), so the most equal spread exists, minimises every Schur-convex measure of inequality — the Gini among them
(Frank & Murota, « Discrete decreasing minimization », 2022) — and is reached when no request can move, along a path
of exchanges between needs, from a volunteer with load L to one with load L − 2 or less.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Need:
    """One need of the wave: how many of its eligible volunteers it asked."""

    asked: int
    eligible: Sequence[int]


def fairest_loads(needs: Sequence[Need], fixed: Mapping[int, int] | None = None) -> dict[int, int]:
    """Requests per volunteer in the most equal spread: every need asks `asked` distinct volunteers among its
    eligible ones; `fixed` are requests that cannot move (made outside the needs' eligible sets)."""
    spread = _Spread(needs, fixed or {})
    spread.start_greedily()
    spread.even_out_everywhere()
    return spread.loads


class _Spread:
    def __init__(self, needs: Sequence[Need], fixed: Mapping[int, int]):
        self.needs = needs
        self.loads: dict[int, int] = dict(fixed)
        for need in needs:
            if need.asked > len(set(need.eligible)):
                raise ValueError("A need cannot ask more volunteers than it has eligible ones.")
            for volunteer in need.eligible:
                self.loads.setdefault(volunteer, 0)
        self.asked: list[set[int]] = [set() for _ in needs]
        self.serving: dict[int, set[int]] = {volunteer: set() for volunteer in self.loads}

    def start_greedily(self) -> None:
        """Needs with the fewest eligible volunteers first, each to its least asked ones: most of the work."""
        for index in sorted(range(len(self.needs)), key=lambda i: (len(self.needs[i].eligible), i)):
            need = self.needs[index]
            for volunteer in sorted(set(need.eligible), key=lambda v: (self.loads[v], v))[: need.asked]:
                self._give(index, volunteer)

    def even_out_everywhere(self) -> None:
        moved = True
        while moved:  # a move at one level may open a path at another: until a whole pass moves nothing
            moved = False
            for level in range(max(self.loads.values(), default=0), 1, -1):
                moved = self.even_out(level) or moved

    def even_out(self, level: int) -> bool:
        """Moves requests away from the volunteers asked `level` times while a path of exchanges leads to one asked
        `level` − 2 times or fewer; true when something moved (a lower level may then move again)."""
        moved = False
        while self._move_one(level):
            moved = True
        return moved

    def _move_one(self, level: int) -> bool:
        sources = [volunteer for volunteer, load in self.loads.items() if load == level]
        came_from: dict[int, tuple[int, int] | None] = dict.fromkeys(sources)
        needs_seen: set[int] = set()
        queue = deque(sources)
        while queue:
            volunteer = queue.popleft()
            for index in self.serving[volunteer]:
                if index in needs_seen:
                    continue
                needs_seen.add(index)
                for other in self.needs[index].eligible:
                    if other in came_from or other in self.asked[index]:
                        continue
                    came_from[other] = (index, volunteer)
                    if self.loads[other] <= level - 2:
                        self._shift_along(other, came_from)
                        return True
                    queue.append(other)
        return False

    def _shift_along(self, target: int, came_from: dict[int, tuple[int, int] | None]) -> None:
        """Each need on the path hands its request from the previous volunteer to the next: only the two ends'
        loads change (the source −1, the target +1)."""
        step = came_from[target]
        volunteer = target
        while step is not None:
            index, previous = step
            self._take(index, previous)
            self._give(index, volunteer)
            volunteer, step = previous, came_from[previous]

    def _give(self, index: int, volunteer: int) -> None:
        self.asked[index].add(volunteer)
        self.serving[volunteer].add(index)
        self.loads[volunteer] += 1

    def _take(self, index: int, volunteer: int) -> None:
        self.asked[index].discard(volunteer)
        self.serving[volunteer].discard(index)
        self.loads[volunteer] -= 1
