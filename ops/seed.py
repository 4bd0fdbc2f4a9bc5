"""`python -m core seed --demo`: a deterministic demonstration data set, bulk-inserted."""

from __future__ import annotations

import hashlib
import random
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from faker import Faker

from core.figures.tension_history import snapshot_tension
from core.places import reference
from core.shared.audit import record_event
from core.shared.clock import paris_today, utcnow
from core.shared.errors import Conflict
from core.shared.security import hash_password
from core.shared.validation import luhn_ok
from db import models as m
from db.session import session_scope
from ops.demo_pdf import text_pdf
from ops.migrate import migrate
from ops.seed_campaigns import seed_campaigns
from ops.seed_play import play_demo_history
from ops.seed_pools import seed_pools

DEMO_PASSWORD = "Renfort-Demo-2026!"
DEMO_ESTABLISHMENT_NAME = "CHU de Nantes (démo)"
DEMO_SECOND_ESTABLISHMENT = "EHPAD Les Glycines (démo)"  # also managed by etablissement@example.org


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    first_name: str
    last_name: str
    what: str
    ars_code: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount("etablissement", "etablissement@example.org", "Claire", "Moreau",
                f"{DEMO_ESTABLISHMENT_NAME}, direction des ressources humaines"),
    DemoAccount("etablissement", "etablissement2@example.org", "Julien", "Lefèvre",
                f"{DEMO_ESTABLISHMENT_NAME}, second compte du même FINESS"),
    DemoAccount("ars", "ars.paysdelaloire@example.org", "Sophie", "Garnier",
                "ARS Pays de la Loire", ars_code="52"),
    DemoAccount("ccs", "ccs@example.org", "Marc", "Dubois", "Centre de crise sanitaire (national)"),
    DemoAccount("ministere", "ministere@example.org", "Anne", "Petit", "Ministère (lecture seule)"),
    DemoAccount("admin", "admin@example.org", "Paul", "Bernard", "Administrateur"),
    DemoAccount("professionnel", "benevole@example.org", "Léa", "Martin",
                "Infirmière volontaire à Nantes"),
)

# Rough shape of the 2020 pools: mostly nurses and care assistants, then doctors and students.
PROFESSION_WEIGHTS = {
    "infirmier_de": 30, "aide_soignant": 20, "etudiant_soins_infirmiers": 8, "medecin_generaliste": 6,
    "medecin_specialiste": 4, "infirmier_anesthesiste": 3, "infirmier_bloc": 2, "puericultrice": 2,
    "masseur_kinesitherapeute": 3, "sage_femme": 2, "pharmacien": 2, "etudiant_medecine": 4,
    "agent_service_hospitalier": 5, "auxiliaire_vie": 3, "psychologue": 2, "manipulateur_erm": 1,
    "technicien_laboratoire": 1, "secretaire_medicale": 1, "ambulancier": 1,
}
MOBILITY_WEIGHTS = {"locale": 35, "departementale": 35, "regionale": 20, "nationale": 10}
MEDICAL_RPPS = {"medecin_generaliste", "medecin_specialiste", "sage_femme", "pharmacien",
                "chirurgien_dentiste", "infirmier_de", "masseur_kinesitherapeute"}
KIND_BY_CATEGORY = {
    "loi_hospitaliere": ["Centre hospitalier", "CHU", "Hôpital local"],
    "autres_soins_prevention": ["Clinique", "Centre de soins", "Polyclinique"],
    "autres_sanitaire": ["Centre de dialyse", "Laboratoire"],
    "sociaux_hebergement": ["EHPAD", "Résidence autonomie", "SSIAD", "Foyer d'accueil médicalisé"],
    "sociaux_famille": ["Centre maternel"],
    "formation": ["IFSI"],
    "centre_vaccination": ["Centre de vaccination"],
}
# The finer FINESS category each kind of demo establishment is (issue 14); the two named demo establishments too.
FINESS_BY_KIND = {"Centre hospitalier": "355", "CHU": "101", "Hôpital local": "106", "Clinique": "365",
                  "Polyclinique": "365", "Centre de soins": "124", "EHPAD": "500", "Résidence autonomie": "202",
                  "SSIAD": "354", "Foyer d'accueil médicalisé": "437"}
CATEGORY_WEIGHTS = {"loi_hospitaliere": 25, "autres_soins_prevention": 12, "autres_sanitaire": 5,
                    "sociaux_hebergement": 45, "sociaux_famille": 3, "formation": 2,
                    "centre_vaccination": 8}
MISSION_PROFESSION_WEIGHTS = {"infirmier_de": 35, "aide_soignant": 30, "medecin_generaliste": 6,
                              "medecin_specialiste": 4, "infirmier_anesthesiste": 5,
                              "agent_service_hospitalier": 8, "masseur_kinesitherapeute": 3,
                              "puericultrice": 2, "sage_femme": 2, "psychologue": 2,
                              "auxiliaire_vie": 3}
SPECIALTIES = {"medecin_specialiste": ["Anesthésie-réanimation", "Gériatrie", "Pneumologie",
                                       "Médecine interne", "Urgences"],
               "infirmier_de": [None, None, None, "Réanimation", "Gériatrie", "Urgences"]}


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if c.isalnum() and ord(c) < 128).lower()


def _with_luhn_key(base: str) -> str:
    return next(base + str(d) for d in range(10) if luhn_ok(base + str(d)))


def _finess(rng: random.Random, department: str, used: set[str]) -> str:
    while True:
        if department in ("2A", "2B"):
            number = department + "".join(rng.choices("0123456789", k=7))
        else:
            prefix = department if len(department) == 2 else "97" + "0" + department[2]
            body = "".join(rng.choices("0123456789", k=8 - len(prefix)))
            number = _with_luhn_key(prefix + body)
        if number not in used:
            used.add(number)
            return number


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class DemoBuilder:
    """Builds rows in memory, then inserts each table in one statement."""

    def __init__(self, session: so.Session, seed: int, now: datetime):
        self.session = session
        self.rng = random.Random(seed)
        self.fake = Faker("fr_FR")
        self.fake.seed_instance(seed)
        self.now = now
        self.today = paris_today(now)
        self.password_hash = hash_password(DEMO_PASSWORD)
        self.places = [p for p in reference.postal_codes() if p.department_code not in reference.NO_ARS_DEPARTMENTS]
        self.places_by_ars: dict[str, list[reference.PostalCodeRow]] = {}
        for place in self.places:
            ars = reference.departements()[place.department_code].ars_code
            self.places_by_ars.setdefault(ars, []).append(place)
        self.used_finess: set[str] = set()
        self.counter = 0

    # -- helpers
    def _insert(self, model: type[m.Base], rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        statement = sa.insert(model).returning(model.id, sort_by_parameter_order=True)
        return list(self.session.scalars(statement, rows))

    def _ago(self, max_days: int) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(0, max_days))

    def _unique_email(self, first: str, last: str) -> str:
        self.counter += 1
        return f"{_ascii(first)}.{_ascii(last)}.{self.counter}@example.org"

    def _phone(self) -> str:
        """A mobile number in the stored form (E.164), as validate_phone returns it."""
        return "+33" + self.rng.choice("67") + "".join(self.rng.choices("0123456789", k=8))

    def _place_fields(self, place: reference.PostalCodeRow) -> dict[str, Any]:
        return {
            "postal_code": place.postal_code,
            "city": place.commune,
            "department_code": place.department_code,
            "ars_code": reference.departements()[place.department_code].ars_code,
            "lat": place.lat,
            "lon": place.lon,
        }

    def _place_in(self, postal_code: str) -> reference.PostalCodeRow:
        return next(p for p in self.places if p.postal_code == postal_code)

    # -- establishments and their accounts
    def _establishment_row(self, place: reference.PostalCodeRow, category: str, name: str | None = None) -> dict:
        kind = self.rng.choice(KIND_BY_CATEGORY[category])
        is_gid = category == "centre_vaccination"
        town = place.commune.title()
        return {
            "finess": str(self.rng.randint(100000, 9999999)) if is_gid
            else _finess(self.rng, place.department_code, self.used_finess),
            "id_kind": "gid" if is_gid else "finess",
            "name": name or f"{kind} {self.fake.last_name()} – {town}",
            "category_code": category,
            "finess_category_code": FINESS_BY_KIND.get(kind),
            "address": self.fake.street_address(),
            "status": "active",
            "created_at": self._ago(90),
            **self._place_fields(place),
        }

    def build_establishments(self, total: int) -> list[dict]:
        rows = [self._establishment_row(self._place_in("44000"), "loi_hospitaliere", DEMO_ESTABLISHMENT_NAME),
                self._establishment_row(self._place_in("44300"), "sociaux_hebergement", DEMO_SECOND_ESTABLISHMENT)]
        rows[0]["finess_category_code"], rows[1]["finess_category_code"] = "101", "500"  # a CHU, an EHPAD
        ars_codes = sorted(self.places_by_ars)
        for index in range(total - len(rows)):
            # Round-robin over the 18 ARS first so that every region has establishments.
            ars = ars_codes[index % len(ars_codes)] if index < 3 * len(ars_codes) else None
            place = self.rng.choice(self.places_by_ars[ars] if ars else self.places)
            rows.append(self._establishment_row(place, _weighted(self.rng, CATEGORY_WEIGHTS)))
        ids = self._insert(m.Establishment, rows)
        for row, identifier in zip(rows, ids):
            row["id"] = identifier
        return rows

    def _user_row(self, email: str, first: str, last: str, role: str, **extra: Any) -> dict:
        return {
            "email": email, "first_name": first, "last_name": last, "phone": self._phone(),
            "role": role, "status": "active", "failed_logins": 0, "created_at": self._ago(90),
            "password_hash": None, **extra,
        }

    def build_establishment_accounts(self, establishments: list[dict]) -> dict[int, int]:
        """One account per establishment; the demo CHU has the two demo accounts, the first of which
        also manages the demo EHPAD (a hospital group's office switching between its establishments)."""
        demo = [a for a in DEMO_ACCOUNTS if a.role == "etablissement"]
        rows, owners = [], []
        for account in demo:
            rows.append(self._user_row(account.email, account.first_name, account.last_name,
                                       account.role, password_hash=self.password_hash))
            owners.append(establishments[0]["id"])
        for establishment in establishments[1:]:
            first, last = self.fake.first_name(), self.fake.last_name()
            rows.append(self._user_row(self._unique_email(first, last), first, last, "etablissement"))
            owners.append(establishment["id"])
        user_ids = self._insert(m.User, rows)
        memberships = list(zip(user_ids, owners)) + [(user_ids[0], establishments[1]["id"])]
        self.session.execute(
            sa.insert(m.Membership),
            [{"user_id": u, "establishment_id": e, "created_at": self.now} for u, e in memberships],
        )
        creator_by_establishment: dict[int, int] = {}
        for user_id, establishment_id in zip(user_ids, owners):
            creator_by_establishment.setdefault(establishment_id, user_id)
        return creator_by_establishment

    def build_staff_accounts(self) -> None:
        rows = [
            self._user_row(a.email, a.first_name, a.last_name, a.role,
                           password_hash=self.password_hash, ars_code=a.ars_code)
            for a in DEMO_ACCOUNTS
            if a.role in ("ars", "ccs", "ministere", "admin")
        ]
        self._insert(m.User, rows)

    # -- volunteers
    def _volunteer_row(self, place: reference.PostalCodeRow, first: str, last: str, email: str) -> dict:
        profession = _weighted(self.rng, PROFESSION_WEIGHTS)
        eligible = reference.is_eligible_vaccination(profession)
        id_type = "rpps" if profession in MEDICAL_RPPS else ("adeli" if self.rng.random() < 0.3 else "none")
        id_number = None
        if id_type == "rpps":
            id_number = _with_luhn_key("1" + "".join(self.rng.choices("0123456789", k=9)))
        elif id_type == "adeli":
            id_number = place.department_code[:2] + "".join(self.rng.choices("0123456789", k=7))
        start = self.today - timedelta(days=self.rng.randint(0, 30))
        confirmed = self._ago(60)  # about half are stale (unconfirmed for 30 days)
        return {
            "first_name": first, "last_name": last, "email": email, "phone": self._phone(),
            **self._place_fields(place),
            "profession_code": profession,
            "specialty": self.rng.choice(SPECIALTIES.get(profession, [None])),
            "activity_type": self.rng.choice(["salarie", "salarie", "liberal", "retraite", "etudiant"]),
            "id_type": id_type, "id_number": id_number,
            "has_vehicle": self.rng.random() < 0.7,
            "available_week": self.rng.random() < 0.85,
            "available_weekend": self.rng.random() < 0.5,
            "available_from": start,
            "available_to": start + timedelta(days=self.rng.randint(30, 180)) if self.rng.random() < 0.6 else None,
            "mobility": _weighted(self.rng, MOBILITY_WEIGHTS),
            "exp_ehpad": self.rng.random() < 0.4,
            "exp_reanimation": self.rng.random() < 0.15,
            "exp_vaccination": eligible and self.rng.random() < 0.3,
            "volunteer_vaccination": eligible and self.rng.random() < 0.5,
            "message": None,
            "verified": self.rng.random() < 0.4,
            "status": "indisponible" if self.rng.random() < 0.08 else "disponible",
            "status_since": confirmed,
            "consent_at": confirmed,
            "availability_confirmed_at": confirmed,
            "created_at": confirmed,
        }

    def build_volunteers(self, total: int) -> list[dict]:
        nantes_area = [p for p in self.places if p.department_code in ("44", "49", "85")]
        rows = []
        demo = next(a for a in DEMO_ACCOUNTS if a.role == "professionnel")
        demo_row = self._volunteer_row(self._place_in("44000"), demo.first_name, demo.last_name, demo.email)
        demo_row.update(profession_code="infirmier_de", status="disponible", mobility="departementale",
                        availability_confirmed_at=self.now, verified=True)
        rows.append(demo_row)
        for index in range(total - 1):
            # One volunteer in ten lives around Nantes so the demo establishment has candidates.
            place = self.rng.choice(nantes_area if index % 10 == 0 else self.places)
            first, last = self.fake.first_name(), self.fake.last_name()
            rows.append(self._volunteer_row(place, first, last, self._unique_email(first, last)))
        ids = self._insert(m.Professional, rows)
        users = []
        for row, identifier in zip(rows, ids):
            row["id"] = identifier
            users.append(self._user_row(
                row["email"], row["first_name"], row["last_name"], "professionnel",
                professional_id=identifier,
                password_hash=self.password_hash if row["email"] == demo.email else None,
            ))
        self._insert(m.User, users)
        self._insert(m.Document, [doc for row in rows for doc in self._documents(row)])
        return rows

    def _documents(self, row: dict) -> list[dict]:
        """Both documents of a registration, as small readable PDFs that say they are fictitious."""
        name = f"{row['first_name']} {row['last_name']}"
        profession = reference.profession_labels()[row["profession_code"]]
        files = (
            ("identite", "piece-identite-demo.pdf", "Pièce d'identité", [name, "Date de naissance : (fictive)"]),
            ("diplome", "diplome-demo.pdf", f"Diplôme — {profession}", [name, f"Titulaire du diplôme de {profession}"]),
        )
        documents = []
        for kind, filename, title, lines in files:
            content = text_pdf(title, [*lines, "", "Document fictif : données de démonstration de Renfort RH."])
            documents.append({"professional_id": row["id"], "kind": kind, "filename": filename,
                              "mime": "application/pdf", "size": len(content),
                              "sha256": hashlib.sha256(content).hexdigest(), "content": content,
                              "created_at": row["created_at"]})
        return documents

    # -- missions and assignments
    def _mission_row(self, establishment: dict, creator: int) -> dict:
        vaccination = establishment["category_code"] == "centre_vaccination"
        if vaccination:
            profession = self.rng.choice(["infirmier_de", "medecin_generaliste", "pharmacien", "aide_soignant"])
        else:
            profession = _weighted(self.rng, MISSION_PROFESSION_WEIGHTS)
        start = self.today + timedelta(days=self.rng.randint(-5, 30))
        ehpad = establishment["category_code"] == "sociaux_hebergement"
        return {
            "establishment_id": establishment["id"], "created_by": creator,
            "profession_code": profession,
            "specialty": self.rng.choice(SPECIALTIES.get(profession, [None])),
            "count": self.rng.choice([1, 1, 1, 2, 2, 3, 4, 5]),
            "start_date": start, "end_date": start + timedelta(days=self.rng.randint(7, 60)),
            "needs_vehicle": self.rng.random() < 0.2, "needs_weekend": self.rng.random() < 0.3,
            "exp_ehpad": ehpad and self.rng.random() < 0.6,
            "exp_reanimation": not ehpad and self.rng.random() < 0.15,
            "vaccination": vaccination,
            "status": "open", "created_at": self._ago(20),
        }

    def build_missions(self, establishments: list[dict], creators: dict[int, int], total: int) -> list[dict]:
        rows = [self._mission_row(establishments[0], creators[establishments[0]["id"]]) for _ in range(6)]
        rows += [self._mission_row(establishments[1], creators[establishments[1]["id"]]) for _ in range(3)]
        while len(rows) < total:
            establishment = self.rng.choice(establishments[2:])
            rows.append(self._mission_row(establishment, creators[establishment["id"]]))
        ids = self._insert(m.Mission, rows)
        for row, identifier in zip(rows, ids):
            row["id"] = identifier
        return rows


def database_is_empty(session: so.Session) -> bool:
    return session.scalar(sa.select(sa.func.count()).select_from(m.User)) == 0


def seed_demo(
    url: str | None = None,
    *,
    seed: int = 2020,
    only_if_empty: bool = False,
    now: datetime | None = None,
    establishments: int = 300,
    volunteers: int = 3000,
    missions: int = 600,
) -> str:
    """Fill an empty database with demonstration data (migrating it first); returns a French report."""
    migrate(url)
    now = now or utcnow()
    with session_scope(url) as session:
        if not database_is_empty(session):
            if only_if_empty:
                return "La base contient déjà des données : jeu de démonstration non chargé."
            raise Conflict("La base contient déjà des données : le jeu de démonstration exige une base vide.")
        builder = DemoBuilder(session, seed, now)
        establishment_rows = builder.build_establishments(establishments)
        creators = builder.build_establishment_accounts(establishment_rows)
        builder.build_staff_accounts()
        volunteer_rows = builder.build_volunteers(volunteers)
        mission_rows = builder.build_missions(establishment_rows, creators, missions)
        counts = {"establishments": len(establishment_rows), "volunteers": len(volunteer_rows),
                  "missions": len(mission_rows), "seed": seed}
        record_event(session, actor_id=None, entity="database", entity_id=None, action="seed",
                     details=counts, at=now)
        played = play_demo_history(session, builder.rng, now,
                                   demo_volunteer_email=next(a.email for a in DEMO_ACCOUNTS if a.role == "professionnel"),
                                   demo_establishment_id=establishment_rows[0]["id"])
        pools = seed_pools(builder)  # after the history: its draws and rows stay as they were
        calls = seed_campaigns(builder)  # last, for the same reason
        # The dashboards' tension over time: today's snapshot and the past days rebuilt, as the worker would.
        history = snapshot_tension(session, now=now)
    return (
        f"Jeu de démonstration chargé : {counts['establishments']} établissements, "
        f"{counts['volunteers']} volontaires, {counts['missions']} missions (graine {seed}) ; "
        f"{played.transitions} transitions jouées par les services : {played.contacts} contacts, "
        f"{played.validations} validations, {played.refusals} refus, {played.cancellations} annulation(s), "
        f"{played.expired} réservation(s) expirée(s), {played.pushes} proposition(s) de l'ARS, "
        f"{played.closures} mission(s) clôturée(s). {pools.sentence()} {calls.sentence()} {history}"
    )

