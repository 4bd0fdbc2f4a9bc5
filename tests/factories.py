"""Test factories: each test states only what matters to it (`make_x(session, **overrides)`)."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy.orm as so
from openpyxl import load_workbook

from core.access.establishment_import import COLUMNS, import_template
from core.places import geo
from core.shared.actor import SessionUser, to_session_user
from core.shared.clock import paris_today
from core.shared.security import hash_password
from core.shared.validation import luhn_ok
from db import models as m

_sequence = itertools.count(1)
PASSWORD = "Mot-de-passe-2026!"
_PASSWORD_HASH = hash_password(PASSWORD)

# The services' tests live in one fixed week: a Monday, 10:00 in Paris; missions run 14 days from Wednesday.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 23)
START = date(2026, 11, 25)
END = date(2026, 12, 8)


def _place(postal_code: str, city: str | None = None) -> dict[str, Any]:
    location = geo.locate(postal_code, city)
    return {
        "postal_code": location.postal_code,
        "city": location.commune,
        "department_code": location.department,
        "ars_code": location.ars,
        "lat": location.lat,
        "lon": location.lon,
    }


def make_establishment(session: so.Session, postal_code: str = "44000", **overrides: Any) -> m.Establishment:
    n = next(_sequence)
    values = {
        "finess": f"{n:09d}",
        "id_kind": "finess",
        "name": f"Établissement test {n}",
        "category_code": "loi_hospitaliere",
        "address": f"{n} rue de la Santé",
        "status": "active",
        **_place(postal_code),
        **overrides,
    }
    establishment = m.Establishment(**values)
    session.add(establishment)
    session.flush()
    return establishment


def make_user(session: so.Session, role: str = "etablissement", *, establishment: m.Establishment | None = None,
              password: str | None = PASSWORD, **overrides: Any) -> m.User:
    n = next(_sequence)
    values = {
        "email": f"utilisateur{n}@example.org",
        "first_name": "Camille",
        "last_name": f"Test{n}",
        "role": role,
        "status": "active",
        "password_hash": _PASSWORD_HASH if password == PASSWORD else (hash_password(password) if password else None),
        "ars_code": "52" if role == "ars" else None,
        **overrides,
    }
    user = m.User(**values)
    session.add(user)
    session.flush()
    if establishment is not None:
        session.add(m.Membership(user_id=user.id, establishment_id=establishment.id))
        session.flush()
    return user


def make_actor(session: so.Session, role: str = "etablissement", **overrides: Any) -> SessionUser:
    """A signed-in user of this role, with an account in the database (`make_user`'s overrides)."""
    return to_session_user(session, user=make_user(session, role, **overrides))


def make_signed_in(role: str, ars_code: str | None = None) -> SessionUser:
    """A signed-in user with no account row, for readers that look only at the role and region."""
    return SessionUser(id=0, email=f"{role}@example.org", first_name="Camille", last_name="Test", role=role,
                       ars_code=ars_code, professional_id=None, establishment_ids=())


def make_mission(session: so.Session, establishment: m.Establishment, creator: m.User, **overrides: Any) -> m.Mission:
    start = overrides.pop("start_date", paris_today() + timedelta(days=2))
    values = {
        "establishment_id": establishment.id,
        "created_by": creator.id,
        "profession_code": "infirmier_de",
        "count": 1,
        "start_date": start,
        "end_date": start + timedelta(days=14),
        "status": "open",
        **overrides,
    }
    mission = m.Mission(**values)
    session.add(mission)
    session.flush()
    return mission


def make_professional(session: so.Session, postal_code: str = "44000", **overrides: Any) -> m.Professional:
    n = next(_sequence)
    values = {
        "first_name": "Alex",
        "last_name": f"Volontaire{n}",
        "email": f"volontaire{n}@example.org",
        "phone": f"06{n:08d}"[-10:],
        "profession_code": "infirmier_de",
        "mobility": "departementale",
        "available_from": date.today(),
        **_place(postal_code, overrides.pop("city", None)),
        **overrides,
    }
    professional = m.Professional(**values)
    session.add(professional)
    session.flush()
    return professional


def make_available_nurse(session: so.Session, postal_code: str = "44300", **overrides: Any) -> m.Professional:
    """A nurse available over any period, who confirmed her availability the day before NOW."""
    values: dict[str, Any] = {"available_from": None, "availability_confirmed_at": NOW - timedelta(days=1),
                              **overrides}
    return make_professional(session, postal_code=postal_code, **values)


def make_proposal(session: so.Session, mission: m.Mission, professional: m.Professional, state: str = "contacte",
                  **overrides: Any) -> m.Proposal:
    proposal = m.Proposal(mission_id=mission.id, professional_id=professional.id, state=state, **overrides)
    session.add(proposal)
    session.flush()
    return proposal


def with_luhn_key(base: str) -> str:
    """An identifier (RPPS, ADELI, FINESS…) completed with the digit that makes its Luhn check pass."""
    return next(base + str(d) for d in range(10) if luhn_ok(base + str(d)))


# ---------------------------------------------------------------- the ministry's template (establishment import)


def import_row(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """One valid row of the ministry's template, by field (core.access.establishment_import.COLUMNS): an EHPAD of
    Nantes, numbered n (its FINESS and e-mail follow n)."""
    values = {
        "ars": "ARS Pays de la Loire", "finess": with_luhn_key(f"44{n:06d}"),
        "establishment_name": f"EHPAD des Tilleuls {n}",
        "category": "Établissements et services sociaux d'accueil, hébergement, assistance, réadaptation",
        "address": f"{n} rue des Lilas", "postal_code": "44000", "city": "Nantes", "last_name": f"Durand{n}",
        "first_name": "Claire", "email": f"direction{n}@ehpad-test.fr", "phone": "02 40 12 34 56",
        "finess_category": "500 - EHPAD",
    }
    return {**values, **overrides}


def import_workbook(rows: list[dict[str, Any]]) -> Any:
    """The template the app offers (sheet 1 and its lists), filled with these rows: an openpyxl Workbook, for a
    test to spoil further (merged cells, formulas…) before `workbook_bytes`."""
    workbook = load_workbook(io.BytesIO(import_template()))
    for row in rows:
        workbook.worksheets[0].append([row.get(column.field) for column in COLUMNS])
    return workbook


def workbook_bytes(workbook: Any) -> bytes:
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


# ---------------------------------------------------------------- territorial pools (issue 14)


def make_pool(session: so.Session, support: m.Establishment | None = None, *, created_by: m.User | None = None,
              **overrides: Any) -> m.TerritorialPool:
    """An open pool of the support establishment's department (a new one of Nantes when none is given), with the
    call's deadlines; members and roster are added by `make_pool_member` and `make_roster_entry`."""
    n = next(_sequence)
    support = support or make_establishment(session, finess_category_code="500")
    creator = created_by or make_user(session, "ars", ars_code=support.ars_code)
    values = {
        "code": f"PT{n:06d}", "name": f"Plateforme territoriale test {n}", "ars_code": support.ars_code,
        "department_code": support.department_code, "support_establishment_id": support.id, "start_date": TODAY,
        "created_by": creator.id, "engagement_due": TODAY + timedelta(days=14),
        "convention_due": TODAY + timedelta(days=70), **overrides,
    }
    pool = m.TerritorialPool(**values)
    session.add(pool)
    session.flush()
    return pool


def make_pool_member(session: so.Session, pool: m.TerritorialPool, establishment: m.Establishment,
                     state: str = "membre", **overrides: Any) -> m.PoolMember:
    member = m.PoolMember(pool_id=pool.id, establishment_id=establishment.id, state=state, **overrides)
    session.add(member)
    session.flush()
    return member


def make_roster_entry(session: so.Session, pool: m.TerritorialPool, professional: m.Professional,
                      state: str = "membre", origin: str = "invitation", **overrides: Any) -> m.PoolRosterEntry:
    """A volunteer on the pool's roster (a member invited from the national pool, by default)."""
    values = {"pool_only": origin == "inscription", "answered_at": NOW if state != "invite" else None, **overrides}
    entry = m.PoolRosterEntry(pool_id=pool.id, professional_id=professional.id, state=state, origin=origin, **values)
    session.add(entry)
    session.flush()
    return entry


def make_coordinator(session: so.Session, pool: m.TerritorialPool, **overrides: Any) -> m.User:
    """The pool's coordinator account (role `pool`, the pool's region)."""
    return make_user(session, "pool", pool_id=pool.id, ars_code=pool.ars_code, **overrides)


@dataclass(frozen=True)
class PoolSetting:
    """A pool of Loire-Atlantique (ARS 52) run by its coordinator: a member EHPAD of Nantes and an EHPAD of
    Saint-Nazaire outside the pool, each with one open nurse mission (START → END) and its HR account; the ARS."""

    pool: m.TerritorialPool
    coordinator: SessionUser
    member: m.Establishment
    member_hr: SessionUser
    member_mission: m.Mission
    outsider: m.Establishment
    outsider_hr: SessionUser
    outsider_mission: m.Mission
    ars: SessionUser


def make_pool_setting(session: so.Session) -> PoolSetting:
    member = make_establishment(session, postal_code="44000", finess_category_code="500")
    outsider = make_establishment(session, postal_code="44600", finess_category_code="500")
    ars = make_user(session, "ars", ars_code="52")
    pool = make_pool(session, member, created_by=ars)
    make_pool_member(session, pool, member)
    accounts = []
    for establishment in (member, outsider):
        hr = make_user(session, establishment=establishment)
        accounts.append((hr, make_mission(session, establishment, hr, start_date=START, end_date=END,
                                          created_at=NOW - timedelta(days=1))))
    (member_hr, member_mission), (outsider_hr, outsider_mission) = accounts
    return PoolSetting(pool, to_session_user(session, user=make_coordinator(session, pool)), member,
                       to_session_user(session, user=member_hr), member_mission, outsider,
                       to_session_user(session, user=outsider_hr), outsider_mission,
                       to_session_user(session, user=ars))


# ---------------------------------------------------------------- application campaigns (issue 15)

CAMPAIGN_OPENS = NOW - timedelta(days=10)  # the campaigns of the tests are open at NOW…
CAMPAIGN_CLOSES = NOW + timedelta(days=10)  # …and close ten days later
VALID = {  # identifiers whose keys are right
    "hospital_finess": with_luhn_key("75000001"), "partner_finess": with_luhn_key("93000001"),
    "hospital_siret": with_luhn_key("2675000000001"), "partner_siret": with_luhn_key("80000000"),
    "candidate_rpps": with_luhn_key("1000000000"),
}


def campaign_pdf(title: str = "Pièce") -> bytes:
    """A small valid one-page PDF (the demo documents' maker)."""
    from ops.demo_pdf import text_pdf

    return text_pdf(title, ["Document fictif de test."])


def complete_values(n: int = 1) -> dict[str, Any]:
    """Every field of the five tabs, valid."""
    return {
        "hospital_name": f"Centre hospitalier test {n}", "hospital_type": "Centre hospitalier",
        "hospital_address": "1 rue de l'Hôpital", "hospital_postal_code": "75013", "hospital_city": "Paris",
        "hospital_finess": VALID["hospital_finess"], "hospital_siret": VALID["hospital_siret"],
        "hospital_director": "Mme Directrice", "hospital_email": f"affaires.medicales{n}@ch-test.fr",
        "partner_name": f"Maison de santé test {n}", "partner_type": "Maison de santé pluriprofessionnelle",
        "partner_address": "2 rue de la Santé", "partner_postal_code": "93200", "partner_city": "Saint-Denis",
        "partner_finess": VALID["partner_finess"], "partner_siret": VALID["partner_siret"],
        "partner_director": "Dr Responsable", "partner_email": f"contact{n}@msp-test.fr",
        "partnership_nature": "Consultations avancées et suivi partagé des patients.",
        "priority_territory": "Quartier prioritaire", "hospital_service": "Médecine polyvalente",
        "hospital_activity": "Hospitalisation de courte durée.", "hospital_time_share": 50,
        "care_activity": "Consultations de médecine générale.", "care_time_share": 50,
        "candidate_last_name": f"Candidat{n}", "candidate_first_name": "Camille",
        "candidate_email": f"candidat{n}@example.org", "candidate_status": "jeune_diplome",
        "candidate_rpps": VALID["candidate_rpps"], "candidate_registration_on": None,
    }


def make_campaign(session: so.Session, *, ars_code: str = "11", created_by: m.User | None = None,
                  **overrides: Any) -> m.Campaign:
    """A published campaign of Île-de-France (by default), open at NOW, with the default mandatory documents and
    fields."""
    from core.campaigns import fields

    creator = created_by or make_user(session, "ars", ars_code=ars_code)
    values = {
        "ars_code": ars_code, "title": "400 postes de médecins généralistes — test", "opens_at": CAMPAIGN_OPENS,
        "closes_at": CAMPAIGN_CLOSES, "project_confirmation_due": TODAY + timedelta(days=60),
        "start_confirmation_due": TODAY + timedelta(days=90),
        "required_documents": [dict(d) for d in fields.DEFAULT_DOCUMENTS],
        "required_fields": list(fields.DEFAULT_REQUIRED_FIELDS), "state": "publiee", "created_at": NOW,
        "created_by": creator.id, "published_at": NOW, **overrides,
    }
    campaign = m.Campaign(**values)
    session.add(campaign)
    session.flush()
    return campaign


def make_dossier(session: so.Session, campaign: m.Campaign, establishment: m.Establishment, *,
                 created_by: m.User | None = None, complete: bool = True, state: str | None = None,
                 **overrides: Any) -> m.Dossier:
    """A dossier of the establishment, every field filled and every document attached when `complete` (state
    « complet », or `state`); only the Identification tab otherwise (« incomplet »)."""
    n = next(_sequence)
    creator = created_by or make_user(session, establishment=establishment)
    values = complete_values(n)
    if not complete:
        values = {k: v for k, v in values.items() if k.startswith(("hospital_", "partner_")) and "share" not in k
                  and k not in ("hospital_service", "hospital_activity")}
    dossier = m.Dossier(campaign_id=campaign.id, establishment_id=establishment.id, created_by=creator.id,
                        created_at=NOW, updated_at=NOW, state=state or ("complet" if complete else "incomplet"),
                        priority=1, **{**values, **overrides})
    session.add(dossier)
    session.flush()
    if complete:
        for document in campaign.required_documents:
            content = campaign_pdf(document["label"])
            session.add(m.DossierAttachment(dossier_id=dossier.id, kind=document["code"], filename=f"{document['code']}.pdf",
                                            mime="application/pdf", size=len(content), sha256="0" * 64,
                                            content=content, uploaded_by=creator.id, uploaded_at=NOW))
        session.flush()
    return dossier
