"""The wave of needs: how many missions arrive each half-day (a curve that rises to a peak at a third of the
period, then ebbs), where, and of what kind — more intensive-care and EHPAD needs near the peak. Drawn once
from the seed, before the first half-day: both rule sets face the very same needs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.staffing.missions import MissionInput
from db.models import Establishment, Membership, User
from ops.simulation.behaviour import Dice

HOSPITALS = ("loi_hospitaliere", "autres_soins_prevention")
NURSING_HOMES = ("sociaux_hebergement",)
# Who is asked for, by kind of need (the 2020 guides: nurses and care assistants above all).
PROFESSIONS = {
    "reanimation": {"infirmier_de": 60, "infirmier_anesthesiste": 20, "medecin_specialiste": 10, "aide_soignant": 10},
    "ehpad": {"aide_soignant": 50, "infirmier_de": 35, "agent_service_hospitalier": 15},
    "general": {"infirmier_de": 40, "aide_soignant": 30, "medecin_generaliste": 10, "agent_service_hospitalier": 10,
                "masseur_kinesitherapeute": 5, "etudiant_soins_infirmiers": 5},
}
POSTS = {"1": 50, "2": 30, "3": 15, "4": 5}


@dataclass(frozen=True)
class Need:
    index: int
    half_day: int
    kind: str
    establishment_id: int
    account_id: int  # the establishment's account that files it
    form: MissionInput


@dataclass(frozen=True)
class Filer:
    establishment_id: int
    account_id: int
    category: str


def intensity(half_day: int, days: int) -> float:
    """A gamma-shaped curve (shape 3) peaking at a third of the period."""
    t = (half_day + 0.5) / 2
    scale = days / 6
    return t * t * math.exp(-t / scale)


def arrivals(total: int, days: int) -> list[int]:
    """Missions filed in each half-day: `total` in all, shared by largest remainder."""
    weights = [intensity(h, days) for h in range(2 * days)]
    exact = [total * w / sum(weights) for w in weights]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda h: (counts[h] - exact[h], h))
    for h in by_remainder[: total - sum(counts)]:
        counts[h] += 1
    return counts


def peak_share(half_day: int, days: int) -> float:
    peak = max(intensity(h, days) for h in range(2 * days))
    return intensity(half_day, days) / peak


def filers(session: so.Session) -> list[Filer]:
    """Active establishments with an active account, each with its first account."""
    rows = session.execute(
        sa.select(Establishment.id, sa.func.min(User.id), Establishment.category_code)
        .join(Membership, Membership.establishment_id == Establishment.id)
        .join(User, User.id == Membership.user_id)
        .where(Establishment.status == "active", User.status == "active", User.role == "etablissement")
        .group_by(Establishment.id, Establishment.category_code).order_by(Establishment.id)
    ).all()
    return [Filer(*row) for row in rows]


def _kind(dice: Dice, index: int, phase: float) -> str:
    extra = 0.25 * phase  # near the peak, up to a quarter more of each acute kind
    return dice.pick({"reanimation": 0.15 + extra, "ehpad": 0.15 + extra, "general": 0.7 - 2 * extra}, "kind", index)


def draw_wave(session: so.Session, dice: Dice, total: int, days: int, first_day: date) -> list[Need]:
    everyone = filers(session)
    by_kind = {"reanimation": [f for f in everyone if f.category in HOSPITALS] or everyone,
               "ehpad": [f for f in everyone if f.category in NURSING_HOMES] or everyone, "general": everyone}
    needs: list[Need] = []
    for half_day, count in enumerate(arrivals(total, days)):
        for _ in range(count):
            index = len(needs)
            kind = _kind(dice, index, peak_share(half_day, days))
            pool = by_kind[kind]
            filer = pool[dice.integer(0, len(pool) - 1, "establishment", index)]
            needs.append(Need(index, half_day, kind, filer.establishment_id, filer.account_id,
                              _form(dice, index, kind, first_day + timedelta(days=half_day // 2))))
    return needs


def _form(dice: Dice, index: int, kind: str, filed_on: date) -> MissionInput:
    start = filed_on + timedelta(days=dice.integer(1, 5, "start", index))
    return MissionInput(
        profession_code=dice.pick(PROFESSIONS[kind], "profession", index),
        count=int(dice.pick(POSTS, "posts", index)),
        start_date=start, end_date=start + timedelta(days=dice.integer(7, 21, "duration", index)),
        needs_vehicle=dice.chance(0.15, "vehicle", index), needs_weekend=dice.chance(0.3, "weekend", index),
        exp_reanimation=kind == "reanimation", exp_ehpad=kind == "ehpad",
        contact_name="Cellule renfort", contact_phone="01 23 45 67 89",
    )
