"""Test factories: each test states only what matters to it (`make_x(session, **overrides)`)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import sqlalchemy.orm as so

from core.places import geo
from core.shared.clock import paris_today
from core.shared.security import hash_password
from db import models as m

_sequence = itertools.count(1)
PASSWORD = "Mot-de-passe-2026!"
_PASSWORD_HASH = hash_password(PASSWORD)


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
