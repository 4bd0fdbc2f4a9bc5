"""Where things are: postal code → commune point, department and ARS (distances: core.shared.distance)."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from core.places import reference
from core.shared.errors import ValidationError
from core.shared.validation import compact, refuse_invisible


@dataclass(frozen=True)
class Location:
    postal_code: str
    commune: str
    lat: float
    lon: float
    department: str
    ars: str


def normalize_commune(name: str) -> str:
    """Commune names as La Poste writes them: upper case, no accents, no hyphens or apostrophes."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    text = re.sub(r"[-'’`.,]", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^STE\b", "SAINTE", text)
    text = re.sub(r"^ST\b", "SAINT", text)
    return text


@lru_cache(maxsize=1)
def _index() -> dict[str, list[reference.PostalCodeRow]]:
    by_code: dict[str, list[reference.PostalCodeRow]] = defaultdict(list)
    for row in reference.postal_codes():
        by_code[row.postal_code].append(row)
    return dict(by_code)


def postal_code_rows(postal_code: str) -> list[reference.PostalCodeRow]:
    return _index().get(postal_code, [])


def communes(postal_code: str) -> list[str]:
    """The communes served by a postal code, in the reference order (empty if unknown)."""
    seen: dict[str, None] = {}
    for row in postal_code_rows((postal_code or "").strip()):
        seen.setdefault(row.commune, None)
    return list(seen)


def validate_postal_code(value: Any, field: str = "postal_code") -> str:
    """A French postal code that exists in the reference data and depends on an ARS."""
    code = compact(refuse_invisible(value, field, "Code postal"))
    if not code:
        raise ValidationError(field, "Le code postal est obligatoire.")
    if re.fullmatch(r"\d{4}", code) and postal_code_rows("0" + code):
        raise ValidationError(
            field,
            f"Le code postal « {code} » n'a que 4 chiffres : il a sans doute perdu son zéro initial "
            f"(0{code} ?).",
            suggestion="0" + code,
        )
    if not re.fullmatch(r"\d{5}", code):
        raise ValidationError(field, f"Le code postal « {code} » doit compter 5 chiffres.")
    rows = postal_code_rows(code)
    if not rows:
        raise ValidationError(field, f"Le code postal {code} n'existe pas dans la base de La Poste.")
    if any(row.department_code in reference.NO_ARS_DEPARTMENTS for row in rows):
        raise ValidationError(
            field,
            "Saint-Pierre-et-Miquelon ne relève d'aucune ARS (son administration de santé est "
            "territoriale) : la plateforme ne peut pas traiter ce code postal.",
        )
    return code


def _to_location(row: reference.PostalCodeRow) -> Location:
    departement = reference.departements()[row.department_code]
    return Location(
        postal_code=row.postal_code,
        commune=row.commune,
        lat=row.lat,
        lon=row.lon,
        department=row.department_code,
        ars=departement.ars_code or "",
    )


def locate(postal_code: str, city: str | None = None) -> Location:
    """The commune's point when the city is given, else the postal code's first commune."""
    code = validate_postal_code(postal_code)
    rows = postal_code_rows(code)
    city = refuse_invisible(city, "city", "Ville") if city else city
    if city and city.strip():
        wanted = normalize_commune(city)
        matches = [row for row in rows if row.commune == wanted]
        if not matches:
            choices = ", ".join(communes(code))
            raise ValidationError(
                "city",
                f"La ville « {city.strip()} » ne correspond pas au code postal {code}. "
                f"Communes de ce code postal : {choices}.",
            )
        return _to_location(matches[0])
    regions = {reference.departements()[row.department_code].ars_code for row in rows}
    if len(regions) > 1:
        # A handful of postal codes straddle two regions: only the commune tells which ARS.
        raise ValidationError(
            "city",
            f"Le code postal {code} couvre des communes de deux ARS : précisez la ville.",
        )
    return _to_location(rows[0])
