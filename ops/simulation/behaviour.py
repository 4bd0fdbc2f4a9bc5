"""The behavioural parameters of the simulated people, fixed before the rules were compared (docs/simulation.md
gives the source or the assumption of each), the two rule sets, and the simulator's dice.

Every draw is keyed by what it decides (a volunteer, a proposal, a half-day), not taken from one shared stream:
the same volunteer facing the same request at the same moment decides alike under both rule sets (common random
numbers), and a run is the same whatever order its queries return rows in."""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, fields, replace

from core.figures.simulation import RULE_LABELS


@dataclass(frozen=True)
class Behaviour:
    # Volunteers
    inactive_share: float = 0.25  # registered in the first days' rush, never answer a request
    answer_rate: float = 0.5  # chance that an active volunteer answers a waiting request within a half-day
    accept_base: float = 0.85  # chance of « Je suis intéressé(e) » for a request next door, never asked before
    distance_scale_km: float = 60.0  # acceptance falls as exp(-distance / scale)
    fatigue: float = 0.85  # acceptance multiplied by this per request already received during the wave
    pause_after: float = 5.0  # from this many requests received, a volunteer who declines also pauses
    # Establishments
    act_rate: float = 0.8  # chance that the establishment's staff open the platform in a half-day
    over_contact: float = 1.5  # contacts per missing post when it opens « Choisir »
    patience_days: float = 2.0  # unanswered contacts refused after this delay…
    forgetful_share: float = 0.3  # …except by these establishments, which never refuse an unanswered contact
    reminder_effect: float = 0.5  # chance that a forgetful establishment refuses once it got the reminder e-mail
    # Regulators
    crisis_threshold: float = 1.0  # region's tension (unfilled posts per available volunteer) that triggers crisis mode
    ars_missions_per_half_day: float = 15.0  # missions an ARS works on per half-day in crisis mode

    def as_dict(self) -> dict[str, float]:
        return {name: float(value) for name, value in asdict(self).items()}

    def scaled(self, name: str, factor: float) -> Behaviour:
        """This behaviour with one parameter multiplied (the sensitivity table): shares stay within 0..1."""
        value = getattr(self, name) * factor
        if name in SHARES:
            value = min(value, 1.0)
        return replace(self, **{name: value})


SHARES = {"inactive_share", "answer_rate", "accept_base", "fatigue", "act_rate", "forgetful_share", "reminder_effect"}
PARAMETERS = tuple(field.name for field in fields(Behaviour))


def with_overrides(overrides: dict[str, float]) -> Behaviour:
    unknown = sorted(set(overrides) - set(PARAMETERS))
    if unknown:
        raise ValueError(f"Paramètre(s) inconnu(s) : {', '.join(unknown)}. Connus : {', '.join(PARAMETERS)}.")
    return replace(Behaviour(), **{name: float(value) for name, value in overrides.items()})


@dataclass(frozen=True)
class Rules:
    name: str
    label: str
    ranked: bool  # the candidate list is ranked (score, fairness, pools); else registration order
    expiry: bool  # reminders at 3 days and release at 7 days (the worker's jobs)
    priority_queue: bool  # the ARS works its missions by urgency; else in filing order
    national_pools: bool  # the ARS alerts the CCS, which opens the national pools
    availability_checks: bool  # the worker's « Toujours disponible ? » e-mails (stale profiles ranked last)
    interest_emails: bool  # the establishment is e-mailed when a volunteer says « intéressé(e) »


RULES = {
    "2020": Rules("2020", RULE_LABELS["2020"], ranked=False, expiry=False, priority_queue=False, national_pools=False,
                  availability_checks=False, interest_emails=False),
    "renfort": Rules("renfort", RULE_LABELS["renfort"], ranked=True, expiry=True, priority_queue=True, national_pools=True,
                     availability_checks=True, interest_emails=True),
}


class Dice:
    """Uniform draws in [0, 1) from the run's seed and the keys of what is being decided."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def uniform(self, *keys: object) -> float:
        text = ":".join([str(self.seed), *map(str, keys)]).encode()
        return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") / 2**64

    def chance(self, probability: float, *keys: object) -> bool:
        return self.uniform(*keys) < probability

    def pick(self, weights: dict[str, float], *keys: object) -> str:
        point, total = self.uniform(*keys) * sum(weights.values()), 0.0
        for name, weight in weights.items():
            total += weight
            if point < total:
                return name
        return next(reversed(weights))

    def integer(self, low: int, high: int, *keys: object) -> int:
        return low + min(int(self.uniform(*keys) * (high - low + 1)), high - low)


def acceptance(behaviour: Behaviour, distance_km: float, received_before: int) -> float:
    """The chance that a volunteer says yes to a request: falls with distance and with fatigue."""
    return (behaviour.accept_base * math.exp(-distance_km / behaviour.distance_scale_km)
            * behaviour.fatigue ** received_before)
