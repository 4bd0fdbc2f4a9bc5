"""`python -m core seed --scale national`: 100,000 volunteers, 10,000 establishments with their
accounts, 30,000 missions and 60,000 proposals in every state, spread over the departments in
proportion to their population — bulk-inserted (COPY on PostgreSQL), consistent with every rule
(one live proposal per volunteer, status mirrors it, never more assignments than a mission's count)."""

from __future__ import annotations

import csv
import random
import time
from collections import defaultdict
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
# Share of the proposals in each state: live ones first (each on a distinct volunteer).
LIVE_SHARES = {"affecte": 0.10, "contacte": 0.075, "en_cours": 0.025}
HISTORY_SHARES = {"refuse": 0.33, "libere": 0.21, "decline": 0.06, "annule": 0.07, "termine": 0.13}


@dataclass(frozen=True)
class NationalReport:
    counts: dict[str, int]
    seconds: float

    def __str__(self) -> str:
        c = self.counts
        return (f"Jeu national chargé en {self.seconds:.0f} s : {c['establishments']} établissements, "
                f"{c['volunteers']} volontaires, {c['missions']} missions, {c['proposals']} propositions.")


def population_weights() -> dict[str, float]:
    with open(ASSETS / "departement_population.csv", encoding="utf-8") as handle:
        return {row["code"]: float(row["population_thousands"]) for row in csv.DictReader(handle)}


class NationalBuilder:
    def __init__(self, seed: int, now: datetime):
        self.rng = random.Random(seed)
        faker = Faker("fr_FR")
        faker.seed_instance(seed)
        # Drawing names from pools is 100 times faster than asking Faker for each of 100,000 people.
        self.first_names = [faker.first_name() for _ in range(400)]
        self.last_names = [faker.last_name() for _ in range(800)]
        self.streets = [faker.street_name() for _ in range(300)]
        self.now = now
        self.today = paris_today(now)
        weights = population_weights()
        self.places: dict[str, list[reference.PostalCodeRow]] = defaultdict(list)
        for place in reference.postal_codes():
            if place.department_code in weights:
                self.places[place.department_code].append(place)
        self.departments = [d for d in weights if self.places[d]]
        self.department_weights = [weights[d] for d in self.departments]

    def place(self) -> reference.PostalCodeRow:
        department = self.rng.choices(self.departments, self.department_weights)[0]
        return self.rng.choice(self.places[department])

    def _place_fields(self, place: reference.PostalCodeRow) -> dict[str, Any]:
        return {"postal_code": place.postal_code, "city": place.commune, "department_code": place.department_code,
                "ars_code": reference.departements()[place.department_code].ars_code, "lat": place.lat,
                "lon": place.lon}

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(0, days))

    def establishments(self, total: int) -> tuple[list[dict], list[dict], list[dict]]:
        rows, users, memberships = [], [], []
        password_hash = hash_password(DEMO_PASSWORD)  # activated accounts (one hash: bcrypt is slow on purpose)
        categories, weights = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
        for index in range(1, total + 1):
            place = self.place()
            category = self.rng.choices(categories, weights)[0]
            department = place.department_code
            prefix = department if len(department) == 2 else "970" + department[2]
            gid = category == "centre_vaccination"
            identifier = str(1_000_000 + index) if gid else (
                department + f"{index:07d}" if department in ("2A", "2B") else _with_luhn_key(prefix + f"{index:0{8 - len(prefix)}d}"))
            rows.append({"id": index, "finess": identifier, "id_kind": "gid" if gid else "finess",
                         "name": f"Établissement {index} – {place.commune.title()}", "category_code": category,
                         "address": f"{self.rng.randint(1, 200)} {self.rng.choice(self.streets)}", "status": "active",
                         "created_at": self.ago(120), **self._place_fields(place)})
            users.append({"id": index, "email": f"etablissement{index}@national.example.org",
                          "first_name": self.rng.choice(self.first_names), "last_name": self.rng.choice(self.last_names),
                          "phone": f"+336{index:08d}", "role": "etablissement", "status": "active", "failed_logins": 0,
                          "created_at": self.ago(120), "password_hash": password_hash})
            memberships.append({"user_id": index, "establishment_id": index, "created_at": self.now})
        return rows, users, memberships

    def volunteers(self, total: int) -> list[dict]:
        professions, weights = list(PROFESSION_WEIGHTS), list(PROFESSION_WEIGHTS.values())
        mobilities, mobility_weights = list(MOBILITY_WEIGHTS), list(MOBILITY_WEIGHTS.values())
        rows = []
        for index in range(1, total + 1):
            place = self.place()
            profession = self.rng.choices(professions, weights)[0]
            eligible = reference.is_eligible_vaccination(profession)
            start = self.today - timedelta(days=self.rng.randint(0, 60))
            confirmed = self.ago(60)
            rows.append({
                "id": index, "first_name": self.rng.choice(self.first_names), "last_name": self.rng.choice(self.last_names),
                "email": f"volontaire{index}@national.example.org", "phone": f"+337{index:08d}",
                **self._place_fields(place), "profession_code": profession, "specialty": None,
                "activity_type": "salarie", "id_type": "none", "id_number": None,
                "has_vehicle": self.rng.random() < 0.7, "available_week": True,
                "available_weekend": self.rng.random() < 0.5, "available_from": start,
                "available_to": start + timedelta(days=self.rng.randint(30, 240)) if self.rng.random() < 0.6 else None,
                "mobility": self.rng.choices(mobilities, mobility_weights)[0],
                "exp_ehpad": self.rng.random() < 0.4, "exp_reanimation": self.rng.random() < 0.15,
                "exp_vaccination": eligible and self.rng.random() < 0.3,
                "volunteer_vaccination": eligible and self.rng.random() < 0.5, "message": None,
                "verified": self.rng.random() < 0.4, "status": "indisponible" if self.rng.random() < 0.08 else "disponible",
                "status_since": confirmed, "consent_at": confirmed, "availability_confirmed_at": confirmed,
                "created_at": confirmed, "possible_duplicate_of": None,
            })
        return rows

    def missions(self, total: int, establishments: list[dict]) -> list[dict]:
        professions, weights = list(MISSION_PROFESSION_WEIGHTS), list(MISSION_PROFESSION_WEIGHTS.values())
        rows = []
        for index in range(1, total + 1):
            establishment = self.rng.choice(establishments)
            start = self.today + timedelta(days=self.rng.randint(-10, 40))
            rows.append({
                "id": index, "establishment_id": establishment["id"], "created_by": establishment["id"],
                "profession_code": self.rng.choices(professions, weights)[0], "specialty": None,
                "count": self.rng.choice([1, 1, 2, 2, 3, 4, 5]), "start_date": start,
                "end_date": start + timedelta(days=self.rng.randint(7, 60)),
                "needs_vehicle": self.rng.random() < 0.2, "needs_weekend": self.rng.random() < 0.3,
                "exp_ehpad": self.rng.random() < 0.3, "exp_reanimation": self.rng.random() < 0.1,
                "vaccination": False, "contact_name": None, "contact_phone": None, "status": "open",
                "manual_priority": None, "ccs_alert_at": None, "ccs_alert_message": None, "pools_opened_at": None,
                "created_at": self.ago(30), "filled_at": None, "closed_at": None,
            })
        return rows

    def proposals(self, total: int, missions: list[dict], volunteers: list[dict],
                  establishments: list[dict]) -> list[dict]:
        """Live proposals on distinct volunteers of the mission's profession and region, history anywhere."""
        region = {e["id"]: e["ars_code"] for e in establishments}
        pools: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for volunteer in volunteers:
            if volunteer["status"] == "disponible":
                pools[(volunteer["profession_code"], volunteer["ars_code"])].append(volunteer)
        for pool in pools.values():
            self.rng.shuffle(pool)
        rows: list[dict] = []
        assigned: dict[int, int] = defaultdict(int)
        for state, share in LIVE_SHARES.items():
            wanted = int(total * share)
            while wanted > 0:
                mission = self.rng.choice(missions)
                if state == "affecte" and assigned[mission["id"]] >= mission["count"]:
                    continue
                pool = pools.get((mission["profession_code"], region[mission["establishment_id"]]))
                if not pool:
                    continue
                volunteer = pool.pop()
                volunteer["status"], volunteer["status_since"] = state, self.ago(5)
                assigned[mission["id"]] += state == "affecte"
                rows.append(self._proposal(len(rows) + 1, mission, volunteer["id"], state, days=5))
                wanted -= 1
        for state, share in HISTORY_SHARES.items():
            for _ in range(int(total * share)):
                mission = self.rng.choice(missions)
                rows.append(self._proposal(len(rows) + 1, mission, self.rng.choice(volunteers)["id"], state, days=60))
        while len(rows) < total:  # rounding leftovers: more refusals
            mission = self.rng.choice(missions)
            rows.append(self._proposal(len(rows) + 1, mission, self.rng.choice(volunteers)["id"], "refuse", days=60))
        for mission in missions:
            if assigned[mission["id"]] >= mission["count"]:
                mission["status"], mission["filled_at"] = "filled", self.ago(3)
        return rows

    def _proposal(self, identifier: int, mission: dict, professional_id: int, state: str, days: float) -> dict:
        created = self.ago(days)
        decided = None if state in ("contacte", "en_cours") else created + timedelta(hours=self.rng.randint(1, 48))
        return {"id": identifier, "mission_id": mission["id"], "professional_id": professional_id,
                "origin": "push" if state == "en_cours" or self.rng.random() < 0.1 else "direct", "state": state,
                "by_user_id": mission["created_by"], "created_at": created, "decided_at": decided, "reason": None}


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


def seed_national(url: str | None = None, *, seed: int = 2020, now: datetime | None = None,
                  sizes: dict[str, int] | None = None, progress: Any = None) -> NationalReport:
    """Fill an empty database with the national-scale data set (migrating it first)."""
    started = time.perf_counter()
    sizes = {**NATIONAL, **(sizes or {})}
    now = now or utcnow()
    say = progress or (lambda text: None)
    migrate(url)
    engine = create_engine_for(url or get_settings().database_url)
    with engine.begin() as connection:
        if connection.execute(sa.select(sa.func.count()).select_from(m.User.__table__)).scalar():
            raise Conflict("La base contient déjà des données : le jeu national exige une base vide.")
        builder = NationalBuilder(seed, now)
        say("Établissements et comptes…")
        establishments, users, memberships = builder.establishments(sizes["establishments"])
        bulk_insert(connection, m.Establishment, establishments)
        bulk_insert(connection, m.User, users)
        bulk_insert(connection, m.Membership, memberships)
        say("Volontaires…")
        volunteers = builder.volunteers(sizes["volunteers"])
        missions = builder.missions(sizes["missions"], establishments)
        say("Propositions…")
        proposals = builder.proposals(sizes["proposals"], missions, volunteers, establishments)
        bulk_insert(connection, m.Professional, volunteers)
        bulk_insert(connection, m.Mission, missions)
        bulk_insert(connection, m.Proposal, proposals)
        _reset_sequences(connection, [m.Establishment, m.User, m.Professional, m.Mission, m.Proposal])
        connection.execute(sa.insert(m.Event.__table__).values(
            at=now, entity="database", action="seed", details={"scale": "national", **sizes, "seed": seed}))
    with engine.connect() as connection:  # fresh statistics for the planner
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    engine.dispose()
    ensure_regulators(url)
    counts = {"establishments": len(establishments), "volunteers": len(volunteers), "missions": len(missions),
              "proposals": len(proposals)}
    return NationalReport(counts, time.perf_counter() - started)
