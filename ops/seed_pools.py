"""The demo's territorial pools (issue 14): five « plateformes territoriales » of Nouvelle-Aquitaine — two
infra-departmental ones in Gironde, then Dordogne, Pyrénées-Atlantiques and Haute-Vienne — at different stages of
their project, with their member establishments (EHPAD, SSIAD, SPASAD, SAAD), a few open missions, a coordinator
account each and a roster of consenting volunteers.

The rows an ARS would type (establishments, accounts, volunteers, missions) are bulk-inserted like the rest of the
demo; the pools themselves, their project follow-up and the join requests go through the real services
(core.pools), so that every rule holds and each step has its audit Event. Roster entries are inserted as the
coordinator's invitations and the volunteers' answers would have left them.

| pool | department | stage on the seed's day |
|---|---|---|
| Libournais | 33 | running: letter, convention and both credits paid — operational |
| Bordeaux Métropole | 33 | running: convention received, second credit committed; a SSIAD asks to join |
| Dordogne | 24 | late: letter and first credit, no convention 30 days after its deadline — the clawback warning |
| Béarn | 64 | starting: engagement letter due in 9 days |
| Haute-Vienne | 87 | letter received, first credit committed but not paid yet; a SAAD asks to join |
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.places import reference
from core.pools.members import request_join
from core.pools.projects import (
    CODE_ALPHABET,
    CODE_LENGTH,
    NewPool,
    ProjectFollowUp,
    create_pool,
    default_deadlines,
    update_project,
)
from core.shared.actor import SessionUser, to_session_user
from core.shared.clock import PARIS, paris_today
from db import models as m

REGION = "75"  # Nouvelle-Aquitaine
POOL_ARS = ("ars.nouvelleaquitaine@example.org", "Hélène", "Castaing")
POOL_EHPAD_ACCOUNT = ("ehpad.libourne@example.org", "Nadia", "Fabre")  # HR of the Libournais support EHPAD
DEMO_COORDINATOR = "coordination.libournais@example.org"  # the one the README names
EHPAD, SSIAD, SPASAD, SAAD, CH = "500", "354", "209", "460", "355"
POOL_PROFESSIONS = ("aide_soignant", "infirmier_de", "agent_service_hospitalier", "auxiliaire_vie")
VOLUNTEERS_PER_POOL = 5


@dataclass(frozen=True)
class Site:
    postal_code: str
    commune: str
    finess_category: str
    name: str


@dataclass(frozen=True)
class DemoPool:
    key: str
    name: str
    department: str
    started_days_ago: int
    stage: str  # running, running_committed, late, starting, letter
    support: Site
    members: tuple[Site, ...]
    asking: Site | None  # an eligible establishment of the department that asks to join
    outside: tuple[Site, ...]  # establishments of the department outside the pool (eligible or not)
    coordinator: tuple[str, str, str]  # e-mail, first name, last name


POOLS = (
    DemoPool("libournais", "Plateforme du Libournais", "33", 160, "running",
             Site("33500", "LIBOURNE", EHPAD, "EHPAD Les Charmilles – Libourne"),
             (Site("33230", "COUTRAS", EHPAD, "EHPAD Le Clos du Moulin – Coutras"),
              Site("33500", "LIBOURNE", SSIAD, "SSIAD du Libournais"),
              Site("33230", "COUTRAS", SAAD, "SAAD Dronne et Isle")),
             None, (),
             ("coordination.libournais@example.org", "Julie", "Lacoste")),
    DemoPool("bordeaux", "Plateforme Bordeaux Métropole", "33", 110, "running_committed",
             Site("33000", "BORDEAUX", EHPAD, "EHPAD Saint-Seurin – Bordeaux"),
             (Site("33700", "MERIGNAC", EHPAD, "EHPAD Les Pins – Mérignac"),
              Site("33600", "PESSAC", SPASAD, "SPASAD Pessac Domicile"),
              Site("33300", "BORDEAUX", SAAD, "SAAD Garonne Services")),
             Site("33210", "LANGON", SSIAD, "SSIAD du Sud-Gironde – Langon"),
             (Site("33000", "BORDEAUX", CH, "Centre hospitalier Saint-André – Bordeaux"),),
             ("coordination.bordeaux@example.org", "Karim", "Benali")),
    DemoPool("dordogne", "Plateforme Dordogne solidaire", "24", 135, "late",
             Site("24000", "PERIGUEUX", EHPAD, "EHPAD Les Jardins de Vésone – Périgueux"),
             (Site("24100", "BERGERAC", EHPAD, "EHPAD La Madeleine – Bergerac"),
              Site("24200", "SARLAT LA CANEDA", SSIAD, "SSIAD du Sarladais")),
             None,
             (Site("24300", "NONTRON", EHPAD, "EHPAD du Périgord vert – Nontron"),),
             ("coordination.dordogne@example.org", "Sophie", "Delmas")),
    DemoPool("bearn", "Plateforme Béarn", "64", 9, "starting",
             Site("64000", "PAU", EHPAD, "EHPAD Les Pyrénées – Pau"),
             (Site("64300", "ORTHEZ", SSIAD, "SSIAD d'Orthez"),
              Site("64400", "OLORON STE MARIE", SAAD, "SAAD Haut-Béarn")),
             None,
             (Site("64200", "BIARRITZ", EHPAD, "EHPAD Côte basque – Biarritz"),),
             ("coordination.bearn@example.org", "Iñaki", "Etcheverry")),
    DemoPool("haute_vienne", "Plateforme Haute-Vienne", "87", 45, "letter",
             Site("87000", "LIMOGES", EHPAD, "EHPAD Le Mas Rome – Limoges"),
             (Site("87200", "SAINT JUNIEN", EHPAD, "EHPAD Les Tanneries – Saint-Junien"),
              Site("87000", "LIMOGES", SPASAD, "SPASAD Limoges Métropole")),
             Site("87500", "SAINT YRIEIX LA PERCHE", SAAD, "SAAD Pays de Saint-Yrieix"),
             (),
             ("coordination.hautevienne@example.org", "Marc", "Peyrat")),
)


def sites() -> list[Site]:
    """Every establishment the pool seed creates (supports, members, applicants, outsiders), in creation order."""
    return [site for pool in POOLS for site in (pool.support, *pool.members, *([pool.asking] if pool.asking else []),
                                                *pool.outside)]


def demo_accounts() -> list[tuple[str, str, str]]:
    """Role, e-mail, what it is — the pool seed's accounts that sign in with the demo password."""
    return ([("ars", POOL_ARS[0], "ARS Nouvelle-Aquitaine (plateformes territoriales)"),
             ("etablissement", POOL_EHPAD_ACCOUNT[0], "EHPAD support de la plateforme du Libournais")]
            + [("pool", pool.coordinator[0], f"coordinateur de la « {pool.name} »") for pool in POOLS])


@dataclass
class PoolSeedReport:
    pools: int = 0
    members: int = 0
    requests: int = 0
    roster: int = 0
    establishments: int = 0
    volunteers: int = 0
    missions: int = 0

    def sentence(self) -> str:
        return (f"Plateformes territoriales : {self.pools} en Nouvelle-Aquitaine, {self.members} établissements "
                f"membres, {self.requests} demande(s) d'adhésion, {self.roster} inscription(s) au vivier.")


class PoolSeeder:
    """Uses the demo builder's row makers (ops.seed.DemoBuilder: places, FINESS, volunteers, documents, missions)."""

    def __init__(self, builder: Any):
        self.builder = builder
        self.session: so.Session = builder.session
        self.rng: random.Random = builder.rng
        self.now: datetime = builder.now
        self.today: date = paris_today(builder.now)
        self.report = PoolSeedReport()
        self.establishments: dict[str, dict[str, Any]] = {}  # site name → row
        self.hr: dict[int, int] = {}  # establishment id → its first account's user id

    # -- helpers
    def _place(self, postal_code: str, commune: str) -> reference.PostalCodeRow:
        return next(p for p in reference.postal_codes() if p.postal_code == postal_code and p.commune == commune)

    def _at(self, day: date, hour: int = 10) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=PARIS)

    def _actor(self, user_id: int) -> SessionUser:
        return to_session_user(self.session, user=self.session.get(m.User, user_id))

    # -- rows
    def build_establishments(self) -> None:
        rows = []
        for site in sites():
            category = "loi_hospitaliere" if site.finess_category == CH else "sociaux_hebergement"
            row = self.builder._establishment_row(self._place(site.postal_code, site.commune), category, site.name)
            row.update(finess_category_code=site.finess_category, created_at=self.now - timedelta(days=200))
            rows.append(row)
        for row, identifier in zip(rows, self.builder._insert(m.Establishment, rows), strict=True):
            row["id"] = identifier
            self.establishments[row["name"]] = row
        hr_rows, owners = [], []
        for row in rows:
            if row["name"] == POOLS[0].support.name:
                email, first, last = POOL_EHPAD_ACCOUNT
                password = self.builder.password_hash
            else:
                first, last = self.builder.fake.first_name(), self.builder.fake.last_name()
                email, password = self.builder._unique_email(first, last), None
            hr_rows.append(self.builder._user_row(email, first, last, "etablissement", password_hash=password))
            owners.append(row["id"])
        user_ids = self.builder._insert(m.User, hr_rows)
        self.session.execute(sa.insert(m.Membership), [{"user_id": u, "establishment_id": e, "created_at": self.now}
                                                       for u, e in zip(user_ids, owners, strict=True)])
        self.hr = dict(zip(owners, user_ids, strict=True))
        self.report.establishments = len(rows)

    def build_missions(self) -> None:
        """One or two open needs per member establishment: the coordinators' queues have work."""
        rows = []
        for pool in POOLS:
            for site in (pool.support, *pool.members):
                establishment = self.establishments[site.name]
                for _ in range(self.rng.choice([1, 2])):
                    row = self.builder._mission_row(establishment, self.hr[establishment["id"]])
                    start = self.today + timedelta(days=self.rng.randint(2, 20))
                    row.update(profession_code=self.rng.choice(POOL_PROFESSIONS), specialty=None,
                               count=self.rng.choice([1, 1, 2]), start_date=start,
                               end_date=start + timedelta(days=self.rng.randint(7, 30)), exp_reanimation=False,
                               vaccination=False, status="open", created_at=self.now - timedelta(days=2))
                    rows.append(row)
        self.builder._insert(m.Mission, rows)
        self.report.missions = len(rows)

    def build_staff(self) -> int:
        """The ARS Nouvelle-Aquitaine's demo account; the coordinators come once their pool exists."""
        email, first, last = POOL_ARS
        [ars] = self.builder._insert(m.User, [self.builder._user_row(
            email, first, last, "ars", password_hash=self.builder.password_hash, ars_code=REGION)])
        return ars

    def build_volunteers(self) -> dict[str, list[int]]:
        """Five volunteers per pool, living in its department, available and recently confirmed."""
        rows, keys = [], []
        for pool in POOLS:
            places = [p for p in reference.postal_codes() if p.department_code == pool.department]
            for _ in range(VOLUNTEERS_PER_POOL):
                first, last = self.builder.fake.first_name(), self.builder.fake.last_name()
                row = self.builder._volunteer_row(self.rng.choice(places), first, last,
                                                  self.builder._unique_email(first, last))
                confirmed = self.now - timedelta(days=self.rng.randint(1, 10))
                row.update(profession_code=self.rng.choice(POOL_PROFESSIONS), specialty=None, status="disponible",
                           mobility="departementale", available_week=True, available_from=self.today,
                           available_to=None, id_type="none", id_number=None, exp_ehpad=True,
                           availability_confirmed_at=confirmed, status_since=confirmed, consent_at=confirmed,
                           created_at=confirmed)
                rows.append(row)
                keys.append(pool.key)
        ids = self.builder._insert(m.Professional, rows)
        users, by_pool = [], {}
        for row, identifier, key in zip(rows, ids, keys, strict=True):
            row["id"] = identifier
            by_pool.setdefault(key, []).append(identifier)
            users.append(self.builder._user_row(row["email"], row["first_name"], row["last_name"], "professionnel",
                                                professional_id=identifier))
        self.builder._insert(m.User, users)
        self.builder._insert(m.Document, [doc for row in rows for doc in self.builder._documents(row)])
        self.report.volunteers = len(rows)
        return by_pool

    # -- through the services
    def _follow_up(self, pool: DemoPool, start: date) -> ProjectFollowUp | None:
        day = lambda days: start + timedelta(days=days)  # noqa: E731
        letter = {"engagement_received_on": day(12), "total_budget": 180_000, "funding_acquired": 90_000,
                  "funding_expected": 60_000,
                  "engagement_summary": f"{len(pool.members) + 1} établissements s'engagent à partager un chargé de "
                                        "mission RH et un pool de remplacement (aides-soignants, infirmiers, agents "
                                        "de service) ; objectif : couvrir les absences de courte durée sous 48 h."}
        convention = {"convention_received_on": day(80),
                      "convention_signatories": ", ".join(site.name for site in (pool.support, *pool.members)),
                      "progress_report": "Pool constitué, premières missions de remplacement assurées ; recrutement "
                                         "de deux aides-soignants mutualisés en cours."}
        if pool.stage == "running":
            return ProjectFollowUp(**letter, first_credit_on=day(20), **convention, second_credit_amount=40_000,
                                   second_credit_on=day(100), **self._deadlines(start))
        if pool.stage == "running_committed":
            return ProjectFollowUp(**letter, first_credit_on=day(18), **convention, second_credit_amount=30_000,
                                   **self._deadlines(start))
        if pool.stage == "late":
            return ProjectFollowUp(**{**letter, "engagement_received_on": day(15)}, first_credit_on=day(25),
                                   **self._deadlines(start))
        if pool.stage == "letter":
            return ProjectFollowUp(**{**letter, "engagement_received_on": day(16)}, first_credit_amount=50_000,
                                   **self._deadlines(start))
        return None

    def _deadlines(self, start: date) -> dict[str, date]:
        engagement, convention = default_deadlines(start)
        return {"engagement_due": engagement, "convention_due": convention}

    def create_pools(self, ars_id: int, volunteers: dict[str, list[int]]) -> None:
        ars = self._actor(ars_id)
        coordinators = []
        for pool in POOLS:
            start = self.today - timedelta(days=pool.started_days_ago)
            members = tuple(self.establishments[site.name]["id"] for site in pool.members)
            created = create_pool(self.session, actor=ars, now=self._at(start), pool=NewPool(
                name=pool.name, department_code=pool.department, start_date=start, member_ids=members,
                support_finess=self.establishments[pool.support.name]["finess"]))
            row = self.session.get(m.TerritorialPool, created.id)
            # Deterministic codes (the service draws them from the system's randomness): same demo, same codes.
            row.code = f"PT{pool.department}-" + "".join(self.rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            follow_up = self._follow_up(pool, start)
            if follow_up is not None:
                update_project(self.session, actor=ars, pool_id=created.id, follow_up=follow_up, now=self.now)
            if pool.asking is not None:
                asking = self.establishments[pool.asking.name]["id"]
                request_join(self.session, actor=self._actor(self.hr[asking]), establishment_id=asking,
                             pool_id=created.id, now=self.now - timedelta(days=3))
                self.report.requests += 1
            email, first, last = pool.coordinator
            coordinators.append(self.builder._user_row(email, first, last, "pool", ars_code=REGION,
                                                       pool_id=created.id,
                                                       password_hash=self.builder.password_hash))
            self._roster(pool, created.id, volunteers[pool.key], start)
            self.report.pools += 1
            self.report.members += created.members
        self.builder._insert(m.User, coordinators)

    def _roster(self, pool: DemoPool, pool_id: int, volunteers: list[int], start: date) -> None:
        """Three members invited from the national pool, one invitation pending, one registered with the code
        (pool-only); a pool just starting has only its two first invitations out."""
        states = (["invite", "invite"] if pool.stage == "starting"
                  else ["membre", "membre", "membre", "invite", "inscription"])
        rows = []
        for professional_id, state in zip(volunteers, states, strict=False):
            invited = self._at(max(start, self.today - timedelta(days=20)))
            if state == "inscription":
                rows.append({"pool_id": pool_id, "professional_id": professional_id, "state": "membre",
                             "origin": "inscription", "pool_only": True, "created_at": invited,
                             "answered_at": invited})
            else:
                rows.append({"pool_id": pool_id, "professional_id": professional_id, "state": state,
                             "origin": "invitation", "pool_only": False, "created_at": invited,
                             "answered_at": invited + timedelta(days=1) if state == "membre" else None})
        self.builder._insert(m.PoolRosterEntry, rows)
        self.report.roster += len(rows)


def seed_pools(builder: Any) -> PoolSeedReport:
    """Add the demo's territorial pools to a demo being built (after its history: the demo's other rows and the
    random draws they took stay as they were)."""
    seeder = PoolSeeder(builder)
    seeder.build_establishments()
    seeder.build_missions()
    ars_id = seeder.build_staff()
    volunteers = seeder.build_volunteers()
    seeder.create_pools(ars_id, volunteers)
    return seeder.report
