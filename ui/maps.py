"""pydeck maps that read offline: department outlines first, then the points."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import pydeck as pdk

from core.shared.config import ASSETS
from core.shared.distance import distance_km

ESTABLISHMENT_COLOUR = [24, 117, 60]  # green
CANDIDATE_COLOUR = [0, 0, 145]  # blue France
OUTLINE_COLOUR = [150, 150, 170]
# A candidate's colour tells where they stand with this mission (the legend under the map says the same).
STATE_COLOURS = {
    None: ("Disponible", CANDIDATE_COLOUR, "blue"),
    "contacte": ("Contacté", [230, 126, 34], "orange"),
    "en_cours": ("En cours (proposé par l'ARS)", [142, 68, 173], "violet"),
    "affecte": ("Affecté", [24, 117, 60], "green"),
}


@lru_cache(maxsize=1)
def departments_geojson() -> dict[str, Any]:
    with open(ASSETS / "departements.geojson", encoding="utf-8") as handle:
        return json.load(handle)


@lru_cache(maxsize=16)
def departments_subset(codes: frozenset[str] | None = None, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Only the outlines a figure draws: each inset would otherwise carry the whole of France to the browser."""
    features = [f for f in departments_geojson()["features"]
                if (codes is None or f["properties"]["code"] in codes) and f["properties"]["code"] not in exclude]
    return {"type": "FeatureCollection", "features": features}


def _zoom(max_distance_km: float) -> float:
    """Roughly frame the farthest candidate."""
    for radius, zoom in ((15, 10), (40, 9), (80, 8), (160, 7), (320, 6), (640, 5)):
        if max_distance_km <= radius:
            return zoom
    return 4.5


def _frame(places: list[dict[str, Any]]) -> tuple[float, float, float]:
    """The centre of the places' bounding box and the distance (km) from it to the farthest corner."""
    lats, lons = [p["lat"] for p in places], [p["lon"] for p in places]
    latitude, longitude = (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2
    extent = distance_km(latitude, longitude, max(lats), max(lons)) if len(places) > 1 else 0.0
    return latitude, longitude, extent


def state_legend() -> str:
    """The legend of the candidate map's colours (Markdown)."""
    return " · ".join(f":{name}[●] {label}" for label, _, name in STATE_COLOURS.values() if label != "Affecté") + \
        " · :green[◯] l'établissement"


def backdrop_layer() -> pdk.Layer:
    return pdk.Layer("GeoJsonLayer", id="departements", data=departments_geojson(), stroked=True, filled=True,
                     get_fill_color=[245, 245, 254], get_line_color=OUTLINE_COLOUR, line_width_min_pixels=1)


def candidate_deck(establishment: dict[str, Any], points: list[dict[str, Any]]) -> pdk.Deck:
    """The establishment as a green ring, the filtered candidates coloured by where they stand (`state`), with
    name, status, profession, distance and town on hover; framed on the establishment and every point."""
    coloured = [{**point, "colour": STATE_COLOURS.get(point.get("state"), STATE_COLOURS[None])[1]} for point in points]
    layers = [
        backdrop_layer(),
        # A ring beneath the candidates: a volunteer living next door (0 km) stays visible and clickable in it.
        pdk.Layer("ScatterplotLayer", id="etablissement", data=[establishment], get_position=["lon", "lat"],
                  filled=False, stroked=True, get_line_color=ESTABLISHMENT_COLOUR, line_width_min_pixels=4,
                  get_radius=1500, radius_min_pixels=14, pickable=True),
        pdk.Layer("ScatterplotLayer", id="candidats", data=coloured, get_position=["lon", "lat"],
                  get_fill_color="colour", get_line_color=[255, 255, 255], stroked=True, line_width_min_pixels=1,
                  get_radius=500, radius_min_pixels=5, pickable=True, opacity=0.85),
    ]
    latitude, longitude, extent_km = _frame([establishment, *points])
    view = pdk.ViewState(latitude=latitude, longitude=longitude, zoom=_zoom(max(extent_km, 20)))
    return pdk.Deck(layers=layers, initial_view_state=view, map_provider=None,
                    tooltip={"html": "<b>{name}</b><br/>{detail}", "style": {"fontSize": "13px"}})
