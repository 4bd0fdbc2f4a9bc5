"""Reference data: read once from assets/ (the single source), loaded into the database by `migrate`."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.config import ASSETS
from db import models

NO_ARS_DEPARTMENTS = {"975"}  # Saint-Pierre-et-Miquelon: its health administration is not an ARS


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(ASSETS / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class ArsRow:
    code: str
    name: str


@dataclass(frozen=True)
class DepartementRow:
    code: str
    name: str
    ars_code: str | None
    lat: float
    lon: float


@dataclass(frozen=True)
class PostalCodeRow:
    postal_code: str
    commune: str
    insee_code: str
    department_code: str
    lat: float
    lon: float


@lru_cache(maxsize=1)
def ars_list() -> tuple[ArsRow, ...]:
    return tuple(ArsRow(code=r["code"], name=r["name"]) for r in _read_csv("ars.csv"))


@lru_cache(maxsize=1)
def ars_names() -> dict[str, str]:
    return {row.code: row.name for row in ars_list()}


@lru_cache(maxsize=1)
def departements() -> dict[str, DepartementRow]:
    """All departments of the asset, 975 included (with ars_code None)."""
    code_by_name = {row.name: row.code for row in ars_list()}
    rows = {}
    for r in _read_csv("departements.csv"):
        rows[r["code"]] = DepartementRow(
            code=r["code"],
            name=r["name"],
            ars_code=code_by_name.get(r["ars_name"]) if r["ars_name"] else None,
            lat=float(r["centroid_latitude"]),
            lon=float(r["centroid_longitude"]),
        )
    return rows


@lru_cache(maxsize=1)
def postal_codes() -> tuple[PostalCodeRow, ...]:
    return tuple(
        PostalCodeRow(
            postal_code=r["postal_code"],
            commune=r["commune"],
            insee_code=r["insee_code"],
            department_code=r["department_code"],
            lat=float(r["latitude"]),
            lon=float(r["longitude"]),
        )
        for r in _read_csv("postal_codes.csv")
    )


@lru_cache(maxsize=1)
def professions() -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "code": r["code"],
            "label": r["label"],
            "family": r["family"],
            "eligible_vaccination": r["eligible_vaccination"].strip().lower() == "true",
        }
        for r in _read_csv("professions.csv")
    )


@lru_cache(maxsize=1)
def profession_labels() -> dict[str, str]:
    return {p["code"]: p["label"] for p in professions()}


def is_eligible_vaccination(profession_code: str) -> bool:
    """May this profession vaccinate (décrets 2021-253 and 2021-575)?"""
    return any(p["code"] == profession_code and p["eligible_vaccination"] for p in professions())


@lru_cache(maxsize=1)
def establishment_categories() -> tuple[dict[str, str], ...]:
    return tuple({"code": r["code"], "label": r["label"]} for r in _read_csv("establishment_categories.csv"))


@lru_cache(maxsize=1)
def category_labels() -> dict[str, str]:
    return {c["code"]: c["label"] for c in establishment_categories()}


@lru_cache(maxsize=1)
def finess_categories() -> tuple[dict[str, Any], ...]:
    """The finer FINESS categories (EHPAD, SSIAD, …); `pool_eligible`: may join a territorial pool."""
    return tuple({"code": r["code"], "short_label": r["short_label"], "label": r["label"],
                  "pool_eligible": r["pool_eligible"] == "1"} for r in _read_csv("finess_categories.csv"))


# ---------------------------------------------------------------- loading into the database


def _reference_rows() -> list[tuple[type[models.Base], list[dict[str, Any]]]]:
    """Rows per table, parents first (foreign keys)."""
    return [
        (models.Ars, [{"code": a.code, "name": a.name} for a in ars_list()]),
        (
            models.Departement,
            [
                {"code": d.code, "name": d.name, "ars_code": d.ars_code, "lat": d.lat, "lon": d.lon}
                for d in departements().values()
                if d.ars_code is not None
            ],
        ),
        (models.Profession, list(professions())),
        (models.EstablishmentCategory, list(establishment_categories())),
        (models.FinessCategory, list(finess_categories())),
        (
            models.PostalCode,
            [
                {
                    "postal_code": p.postal_code,
                    "insee_code": p.insee_code,
                    "commune": p.commune,
                    "department_code": p.department_code,
                    "lat": p.lat,
                    "lon": p.lon,
                }
                for p in postal_codes()
            ],
        ),
    ]


def _upsert(session: so.Session, model: type[models.Base], rows: Iterable[dict[str, Any]]) -> int:
    """Insert missing rows and update changed ones; returns how many rows were written."""
    table = model.__table__
    pk_names = [c.name for c in table.primary_key.columns]
    columns = [c.name for c in table.columns]
    existing = {
        tuple(row[:len(pk_names)]): tuple(row[len(pk_names):])
        for row in session.execute(
            sa.select(*[table.c[n] for n in pk_names], *[table.c[n] for n in columns if n not in pk_names])
        )
    }
    to_insert, to_update = [], []
    for row in rows:
        key = tuple(row[n] for n in pk_names)
        values = tuple(row[n] for n in columns if n not in pk_names)
        if key not in existing:
            to_insert.append(row)
        elif existing[key] != values:
            to_update.append(row)
    if to_insert:
        session.execute(sa.insert(table), to_insert)
    for row in to_update:
        condition = sa.and_(*[table.c[n] == row[n] for n in pk_names])
        session.execute(sa.update(table).where(condition).values(**row))
    return len(to_insert) + len(to_update)


def load_reference_data(session: so.Session) -> dict[str, int]:
    """Idempotent load of ARS, departments, professions, categories and postal codes."""
    return {model.__tablename__: _upsert(session, model, rows) for model, rows in _reference_rows()}
