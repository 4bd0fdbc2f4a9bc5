"""Distances on the globe: haversine in km, tenths of a km (the unit matching ranks on), bounding boxes.

Pure arithmetic, shared by the domain and by the SQLite engine (db.session registers these functions)."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_KM / 180


@dataclass(frozen=True)
class BoundingBox:
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


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
