"""`python -m core seed --scale national|workforce`: the national data set (100,000 volunteers, 10,000
establishments with their accounts, 30,000 missions, 60,000 proposals) or the whole health workforce
(1,500,000 volunteers, 100,000 establishments, 300,000 missions, 600,000 proposals), spread over the
departments in proportion to their population — bulk-inserted (COPY on PostgreSQL), consistent with every rule
(one live proposal per volunteer, status mirrors it, never more assignments than a mission's count).

Built in two passes so that memory stays bounded whatever the scale: a first pass draws, for every volunteer and
mission, only what the proposals depend on (profession, region, availability, places: a few bytes each); the
proposals are drawn and written; a second pass, with its own random stream, draws every other column and writes
the rows chunk by chunk, the live proposals' states applied on the way."""

from __future__ import annotations

import csv
import random
import time
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from faker import Faker

from core.places import reference
from core.shared.clock import paris_today, utcnow
from core.shared.config import ASSETS, get_settings
from core.shared.errors import Conflict
from core.shared.security import hash_password
from db import models as m
from db.session import create_engine_for
from ops.migrate import migrate
from ops.seed import (
    CATEGORY_WEIGHTS,
    DEMO_PASSWORD,
    MISSION_PROFESSION_WEIGHTS,
    MOBILITY_WEIGHTS,
    PROFESSION_WEIGHTS,
    _with_luhn_key,
)

NATIONAL = {"volunteers": 100_000, "establishments": 10_000, "missions": 30_000, "proposals": 60_000}
WORKFORCE = {"volunteers": 1_500_000, "establishments": 100_000, "missions": 300_000, "proposals": 600_000}
SCALES = {"national": NATIONAL, "workforce": WORKFORCE}
# Share of the proposals in each state: live ones first (each on a distinct volunteer).
LIVE_SHARES = {"affecte": 0.10, "contacte": 0.075, "en_cours": 0.025}
HISTORY_SHARES = {"refuse": 0.33, "libere": 0.21, "decline": 0.06, "annule": 0.07, "termine": 0.13}
MATCHING_ORDER = "ix_professional_matching_region"  # (profession_code, ars_code, status)
CHUNK = 20_000  # rows generated and copied at a time: bounds the memory at any scale
UNAVAILABLE_SHARE = 0.08


@dataclass(frozen=True)
class NationalReport:
    counts: dict[str, int]
    seconds: float
    peak_mb: float = 0.0

    def __str__(self) -> str:
        c = self.counts
        return (f"Jeu chargé en {self.seconds:.0f} s : {c['establishments']} établissements, "
                f"{c['volunteers']} volontaires, {c['missions']} missions, {c['proposals']} propositions"
                + (f" (mémoire maximale {self.peak_mb:.0f} Mo)." if self.peak_mb else "."))


def population_weights() -> dict[str, float]:
    with open(ASSETS / "departement_population.csv", encoding="utf-8") as handle:
        return {row["code"]: float(row["population_thousands"]) for row in csv.DictReader(handle)}


class Progress:
    """A text progress bar on one line per step (the seed of the whole workforce takes minutes)."""

    def __init__(self, say: Callable[[str], None] | None, total_rows: int):
        self.say, self.total, self.done, self.shown = say, max(total_rows, 1), 0, -1

    def step(self, label: str, rows: int) -> None:
        self.done += rows
        share = min(100, self.done * 100 // self.total)
        if self.say is not None and share != self.shown:
            self.shown = share
            bar = "#" * (share // 5) + "." * (20 - share // 5)
            self.say(f"[{bar}] {share:3d} % — {label}")


class NationalBuilder:
    def __init__(self, seed: int, now: datetime):
        self.seed = seed
        self.rng = random.Random(seed)
        faker = Faker("fr_FR")
        faker.seed_instance(seed)
        # Drawing names from pools is 100 times faster than asking Faker for each person.
        self.first_names = [faker.first_name() for _ in range(400)]
        self.last_names = [faker.last_name() for _ in range(800)]
        self.streets = [faker.street_name() for _ in range(300)]
        self.now = now
        self.today = paris_today(now)
        weights = population_weights()
        by_department: dict[str, list[reference.PostalCodeRow]] = defaultdict(list)
        for place in reference.postal_codes():
            if place.department_code in weights:
                by_department[place.department_code].append(place)
        departments = reference.departements()
        # Places flattened once: a volunteer keeps only the index of its place (4 bytes), not the row.
        self.places: list[reference.PostalCodeRow] = [p for code in weights for p in by_department.get(code, [])]
        self.place_ars = [departments[p.department_code].ars_code for p in self.places]
        starts, index = {}, 0
        for code in weights:
            starts[code] = (index, len(by_department.get(code, [])))
            index += len(by_department.get(code, []))
        self.department_ranges = [starts[code] for code in weights if starts[code][1]]
        self.department_weights = [weights[code] for code in weights if starts[code][1]]

    def place_index(self, rng: random.Random | None = None) -> int:
        rng = rng or self.rng
        first, count = rng.choices(self.department_ranges, self.department_weights)[0]
        return first + rng.randrange(count)

    def place_fields(self, index: int) -> dict[str, Any]:
        place = self.places[index]
        return {"postal_code": place.postal_code, "city": place.commune, "department_code": place.department_code,
                "ars_code": self.place_ars[index], "lat": place.lat, "lon": place.lon}

    def ago(self, days: float, rng: random.Random | None = None) -> datetime:
        return self.now - timedelta(days=(rng or self.rng).uniform(0, days))

    # ------------------------------------------------------------ establishments (small enough at any scale)

    def establishments(self, total: int) -> Iterator[tuple[dict, dict, dict]]:
        password_hash = hash_password(DEMO_PASSWORD)  # activated accounts (one hash: bcrypt is slow on purpose)
        categories, weights = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
        per_prefix: dict[str, int] = defaultdict(int)  # FINESS numbers counted per department: 9 characters always
        for index in range(1, total + 1):
            place = self.place_index()
            fields = self.place_fields(place)
            category = self.rng.choices(categories, weights)[0]
            department = fields["department_code"]
            prefix = department if len(department) == 2 else "970" + department[2]
            per_prefix[prefix] += 1
            number = per_prefix[prefix]
            gid = category == "centre_vaccination"
            identifier = str(1_000_000 + index) if gid else (
                department + f"{number:07d}" if department in ("2A", "2B")
                else _with_luhn_key(prefix + f"{number:0{8 - len(prefix)}d}"))
            yield ({"id": index, "finess": identifier, "id_kind": "gid" if gid else "finess",
                    "name": f"Établissement {index} – {fields['city'].title()}", "category_code": category,
                    "address": f"{self.rng.randint(1, 200)} {self.rng.choice(self.streets)}", "status": "active",
                    "created_at": self.ago(120), **fields},
                   {"id": index, "email": f"etablissement{index}@national.example.org",
                    "first_name": self.rng.choice(self.first_names), "last_name": self.rng.choice(self.last_names),
                    "phone": f"+336{index:08d}", "role": "etablissement", "status": "active", "failed_logins": 0,
                    "created_at": self.ago(120), "password_hash": password_hash},
                   {"user_id": index, "establishment_id": index, "created_at": self.now})


@dataclass
class Outline:
    """What the proposals depend on, a few bytes per volunteer and mission (first pass)."""

    professions: list[str]
    volunteer_place: array  # place index per volunteer (position = id - 1)
    volunteer_profession: array  # index into professions
    volunteer_available: bytearray  # 1 = disponible
    mission_establishment: array
    mission_profession: array
    mission_count: array


def draw_outline(builder: NationalBuilder, sizes: dict[str, int]) -> Outline:
    rng = builder.rng
    professions = list(dict.fromkeys([*PROFESSION_WEIGHTS, *MISSION_PROFESSION_WEIGHTS]))
    position = {code: i for i, code in enumerate(professions)}
    volunteer_codes, volunteer_weights = list(PROFESSION_WEIGHTS), list(PROFESSION_WEIGHTS.values())
    mission_codes, mission_weights = list(MISSION_PROFESSION_WEIGHTS), list(MISSION_PROFESSION_WEIGHTS.values())
    outline = Outline(professions, array("i"), array("b"), bytearray(), array("i"), array("b"), array("b"))
    for _ in range(sizes["volunteers"]):
        outline.volunteer_place.append(builder.place_index())
        outline.volunteer_profession.append(position[rng.choices(volunteer_codes, volunteer_weights)[0]])
        outline.volunteer_available.append(rng.random() >= UNAVAILABLE_SHARE)
    for _ in range(sizes["missions"]):
        outline.mission_establishment.append(rng.randint(1, sizes["establishments"]))
        outline.mission_profession.append(position[rng.choices(mission_codes, mission_weights)[0]])
        outline.mission_count.append(rng.choice([1, 1, 2, 2, 3, 4, 5]))
    return outline


STATES = [*LIVE_SHARES, *HISTORY_SHARES]


@dataclass
class ProposalDraw:
    """The proposals, compact (mission, volunteer, state per proposal), and what they imply for the rows."""

    mission: array
    volunteer: array
    state: array  # index into STATES
    live: dict[int, tuple[str, datetime]]  # volunteer id → (live state, since)
    filled: dict[int, datetime]  # mission id → filled_at

    def add(self, mission: int, volunteer: int, state: str) -> None:
        self.mission.append(mission)
        self.volunteer.append(volunteer)
        self.state.append(STATES.index(state))


def draw_proposals(builder: NationalBuilder, outline: Outline, sizes: dict[str, int],
                   establishment_ars: list[str]) -> ProposalDraw:
    """Live proposals on distinct available volunteers of the mission's profession and region, history anywhere."""
    rng = builder.rng
    pools: dict[tuple[int, str], list[int]] = defaultdict(list)
    for offset, place in enumerate(outline.volunteer_place):
        if outline.volunteer_available[offset]:
            pools[(outline.volunteer_profession[offset], builder.place_ars[place])].append(offset + 1)
    for pool in pools.values():
        rng.shuffle(pool)
    total, missions, volunteers = sizes["proposals"], sizes["missions"], sizes["volunteers"]
    draw = ProposalDraw(array("i"), array("i"), array("b"), {}, {})
    assigned: dict[int, int] = defaultdict(int)
    for state, share in LIVE_SHARES.items():
        wanted, attempts = int(total * share), 0
        while wanted > 0 and attempts < 50 * total:
            attempts += 1
            mission = rng.randint(1, missions)
            if state == "affecte" and assigned[mission] >= outline.mission_count[mission - 1]:
                continue
            establishment = outline.mission_establishment[mission - 1]
            pool = pools.get((outline.mission_profession[mission - 1], establishment_ars[establishment - 1]))
            if not pool:
                continue
            volunteer = pool.pop()
            draw.live[volunteer] = (state, builder.ago(5))
            assigned[mission] += state == "affecte"
            draw.add(mission, volunteer, state)
            wanted -= 1
    for state, share in HISTORY_SHARES.items():
        for _ in range(int(total * share)):
            mission = rng.randint(1, missions)
            if state == "termine":  # a completed assignment took one of the mission's places too
                mission = _with_room(rng, outline, assigned, missions)
                if mission is None:
                    continue  # every mission drawn was full: the leftovers below are refusals
                assigned[mission] += 1
            draw.add(mission, rng.randint(1, volunteers), state)
    while len(draw.mission) < total:  # rounding leftovers: more refusals
        draw.add(rng.randint(1, missions), rng.randint(1, volunteers), "refuse")
    for mission, people in assigned.items():
        if people >= outline.mission_count[mission - 1]:
            draw.filled[mission] = builder.ago(3)
    return draw


def _with_room(rng: random.Random, outline: Outline, assigned: dict[int, int], missions: int,
               attempts: int = 50) -> int | None:
    """A mission drawn at random that still has a place (None if `attempts` draws found none)."""
    for _ in range(attempts):
        mission = rng.randint(1, missions)
        if assigned[mission] < outline.mission_count[mission - 1]:
            return mission
    return None


def proposal_rows(builder: NationalBuilder, outline: Outline, draw: ProposalDraw) -> Iterator[dict]:
    rng = random.Random(builder.seed * 7919 + 3)
    for offset, mission in enumerate(draw.mission):
        state = STATES[draw.state[offset]]
        created = builder.ago(5 if state in LIVE_SHARES else 60, rng)
        decided = None if state in ("contacte", "en_cours") else created + timedelta(hours=rng.randint(1, 48))
        # Each establishment's account has the establishment's id (see NationalBuilder.establishments).
        yield {"id": offset + 1, "mission_id": mission, "professional_id": draw.volunteer[offset],
               "origin": "push" if state == "en_cours" or rng.random() < 0.1 else "direct", "state": state,
               "by_user_id": outline.mission_establishment[mission - 1], "created_at": created,
               "decided_at": decided, "reason": None}


def volunteer_rows(builder: NationalBuilder, outline: Outline, draw: ProposalDraw) -> Iterator[dict]:
    """Second pass: every column of each volunteer, from its own random stream."""
    rng = random.Random(builder.seed * 7919 + 1)
    mobilities, mobility_weights = list(MOBILITY_WEIGHTS), list(MOBILITY_WEIGHTS.values())
    eligible = {code: reference.is_eligible_vaccination(code) for code in outline.professions}
    for offset, place in enumerate(outline.volunteer_place):
        identifier = offset + 1
        profession = outline.professions[outline.volunteer_profession[offset]]
        start = builder.today - timedelta(days=rng.randint(0, 60))
        confirmed = builder.ago(60, rng)
        status, since = draw.live.get(identifier) or (
            ("disponible" if outline.volunteer_available[offset] else "indisponible"), confirmed)
        can_vaccinate = eligible[profession]
        yield {
            "id": identifier, "first_name": rng.choice(builder.first_names), "last_name": rng.choice(builder.last_names),
            "email": f"volontaire{identifier}@national.example.org", "phone": f"+337{identifier:08d}",
            **builder.place_fields(place), "profession_code": profession, "specialty": None,
            "activity_type": "salarie", "id_type": "none", "id_number": None,
            "has_vehicle": rng.random() < 0.7, "available_week": True,
            "available_weekend": rng.random() < 0.5, "available_from": start,
            "available_to": start + timedelta(days=rng.randint(30, 240)) if rng.random() < 0.6 else None,
            "mobility": rng.choices(mobilities, mobility_weights)[0],
            "exp_ehpad": rng.random() < 0.4, "exp_reanimation": rng.random() < 0.15,
            "exp_vaccination": can_vaccinate and rng.random() < 0.3,
            "volunteer_vaccination": can_vaccinate and rng.random() < 0.5, "message": None,
            "verified": rng.random() < 0.4, "status": status, "status_since": since, "consent_at": confirmed,
            "availability_confirmed_at": confirmed, "created_at": confirmed, "possible_duplicate_of": None,
        }


def mission_rows(builder: NationalBuilder, outline: Outline, draw: ProposalDraw) -> Iterator[dict]:
    rng = random.Random(builder.seed * 7919 + 2)
    for offset, establishment in enumerate(outline.mission_establishment):
        identifier = offset + 1
        start = builder.today + timedelta(days=rng.randint(-10, 40))
        filled_at = draw.filled.get(identifier)
        yield {
            "id": identifier, "establishment_id": establishment, "created_by": establishment,
            "profession_code": outline.professions[outline.mission_profession[offset]], "specialty": None,
            "count": outline.mission_count[offset], "start_date": start,
            "end_date": start + timedelta(days=rng.randint(7, 60)),
            "needs_vehicle": rng.random() < 0.2, "needs_weekend": rng.random() < 0.3,
            "exp_ehpad": rng.random() < 0.3, "exp_reanimation": rng.random() < 0.1,
            "vaccination": False, "contact_name": None, "contact_phone": None,
            "status": "filled" if filled_at else "open",
            "manual_priority": None, "ccs_alert_at": None, "ccs_alert_message": None, "pools_opened_at": None,
            "created_at": builder.ago(30, rng), "filled_at": filled_at, "closed_at": None,
        }


def chunks(rows: Iterator[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _naive_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def bulk_insert(connection: sa.Connection, model: type[m.Base], rows: list[dict]) -> None:
    """COPY on PostgreSQL; executemany elsewhere (SQLite inserts ~100,000 rows a second)."""
    if not rows:
        return
    table = model.__table__
    columns = [c.name for c in table.columns if c.name in rows[0] or c.key in rows[0]]
    keys = [next(c.key for c in table.columns if c.name == name) for name in columns]
    if connection.dialect.name == "postgresql":
        quoted = ", ".join(f'"{name}"' for name in columns)
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([_naive_utc(row[key]) for key in keys])
        return
    connection.execute(sa.insert(table), rows)


def _reset_sequences(connection: sa.Connection, models: list[type[m.Base]]) -> None:
    if connection.dialect.name != "postgresql":
        return
    for model in models:
        table = model.__table__.name
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))")


def ensure_regulators(url: str | None) -> int:
    """One CCS account and one account per ARS (password of the demo), for the pages measured by the
    benchmark; idempotent. Returns how many accounts were added."""
    from db.session import session_scope

    with session_scope(url) as session:
        existing = set(session.scalars(sa.select(m.User.email).where(m.User.email.like("%@regulation.example.org"))))
        password = hash_password(DEMO_PASSWORD)
        wanted = [("ccs@regulation.example.org", "ccs", None)] + [
            (f"ars{code}@regulation.example.org", "ars", code) for code in reference.ars_names()]
        added = 0
        for email, role, ars_code in wanted:
            if email not in existing:
                session.add(m.User(email=email, first_name="Régulation", last_name=(ars_code or "CCS"), role=role,
                                   ars_code=ars_code, status="active", password_hash=password))
                added += 1
        return added


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed_national(url: str | None = None, *, seed: int = 2020, now: datetime | None = None,
                  sizes: dict[str, int] | None = None, progress: Any = None, scale: str = "national") -> NationalReport:
    """Fill an empty database with the national (or workforce) data set, migrating it first."""
    started = time.perf_counter()
    sizes = {**SCALES[scale], **(sizes or {})}
    now = now or utcnow()
    bar = Progress(progress, sum(sizes.values()) * 2)  # each row is drawn, then written
    migrate(url)
    engine = create_engine_for(url or get_settings().database_url)
    with engine.begin() as connection:
        if connection.execute(sa.select(sa.func.count()).select_from(m.User.__table__)).scalar():
            raise Conflict("La base contient déjà des données : le jeu national exige une base vide.")
        builder = NationalBuilder(seed, now)
        establishment_ars = _write_establishments(connection, builder, sizes["establishments"], bar)
        outline = draw_outline(builder, sizes)
        draw = draw_proposals(builder, outline, sizes, establishment_ars)
        bar.step("profils et propositions tirés", sizes["volunteers"] + sizes["missions"] + sizes["proposals"])
        for label, model, rows in (("volontaires", m.Professional, volunteer_rows(builder, outline, draw)),
                                   ("missions", m.Mission, mission_rows(builder, outline, draw)),
                                   ("propositions", m.Proposal, proposal_rows(builder, outline, draw))):
            for chunk in chunks(rows):
                bulk_insert(connection, model, chunk)
                bar.step(label, len(chunk))
        _reset_sequences(connection, [m.Establishment, m.User, m.Professional, m.Mission, m.Proposal])
        connection.execute(sa.insert(m.Event.__table__).values(
            at=now, entity="database", action="seed", details={"scale": scale, **sizes, "seed": seed}))
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Volunteers stored by profession and region, the order matching reads them in: a region's nurses sit
            # on a few thousand pages instead of one page each (docs/deploiement.md: kept by a weekly CLUSTER).
            if progress:
                progress("Volontaires rangés par profession et région (CLUSTER)…")
            connection.exec_driver_sql(f"CLUSTER professional USING {MATCHING_ORDER}")
        if progress:
            progress("Statistiques du planificateur (ANALYZE)…")
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    engine.dispose()
    ensure_regulators(url)
    return NationalReport(dict(sizes), time.perf_counter() - started, _peak_mb())


def _write_establishments(connection: sa.Connection, builder: NationalBuilder, total: int, bar: Progress) -> list[str]:
    """Establishments, their accounts and memberships; returns each establishment's region (position = id - 1)."""
    regions: list[str] = []
    for chunk in chunks(builder.establishments(total)):
        for model, position in ((m.Establishment, 0), (m.User, 1), (m.Membership, 2)):
            bulk_insert(connection, model, [rows[position] for rows in chunk])
        regions += [rows[0]["ars_code"] for rows in chunk]
        bar.step("établissements et comptes", 2 * len(chunk))
    return regions
