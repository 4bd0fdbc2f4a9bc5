"""Where things are: postal code → commune point, department and ARS; distances; bounding boxes."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from core import reference
from core.errors import ValidationError

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_KM / 180


@dataclass(frozen=True)
class Location:
    postal_code: str
    commune: str
    lat: float
    lon: float
    department: str
    ars: str


@dataclass(frozen=True)
class BoundingBox:
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


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
    from core.validation import validate_postal_code  # validation uses geo's index

    code = validate_postal_code(postal_code)
    rows = postal_code_rows(code)
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


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine great-circle distance in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def distance_dm(lat1: float, lon1: float, lat2: float, lon2: float) -> int:
    """Distance in tenths of a kilometre, rounded half up: the unit matching ranks on, identical in
    Python, in SQLite (this function) and in PostgreSQL (its SQL twin, migration 0003)."""
    return math.floor(distance_km(lat1, lon1, lat2, lon2) * 10 + 0.5)


def bounding_box(lat: float, lon: float, radius_km: float) -> BoundingBox:
    """A box that contains every point within radius_km: a cheap SQL prefilter before haversine."""
    # A hair wider (1e-9° ≈ 0.1 mm) than the exact radius: a point right on the circle must not fall
    # out of the prefilter by a floating-point rounding.
    dlat = radius_km / KM_PER_DEGREE_LAT + 1e-9
    cos_lat = math.cos(math.radians(min(89.0, abs(lat) + dlat)))
    dlon = min(180.0, radius_km / (KM_PER_DEGREE_LAT * max(cos_lat, 1e-6)) + 1e-9)
    return BoundingBox(min_lat=lat - dlat, max_lat=lat + dlat, min_lon=lon - dlon, max_lon=lon + dlon)
