"""pydeck maps that read offline: department outlines first, then the points."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import pydeck as pdk

from core.shared.config import ASSETS

ESTABLISHMENT_COLOUR = [24, 117, 60]  # green
CANDIDATE_COLOUR = [0, 0, 145]  # blue France
OUTLINE_COLOUR = [150, 150, 170]


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


def backdrop_layer() -> pdk.Layer:
    return pdk.Layer("GeoJsonLayer", id="departements", data=departments_geojson(), stroked=True, filled=True,
                     get_fill_color=[245, 245, 254], get_line_color=OUTLINE_COLOUR, line_width_min_pixels=1)


def candidate_deck(establishment: dict[str, Any], points: list[dict[str, Any]]) -> pdk.Deck:
    """The establishment in green, the filtered candidates in blue, with name, profession and distance."""
    farthest = max((p["distance_km"] for p in points), default=20)
    layers = [
        backdrop_layer(),
        pdk.Layer("ScatterplotLayer", id="candidats", data=points, get_position=["lon", "lat"],
                  get_fill_color=CANDIDATE_COLOUR, get_radius=500, radius_min_pixels=5, pickable=True,
                  opacity=0.8),
        # Drawn last so that it stays visible above nearby candidates.
        pdk.Layer("ScatterplotLayer", id="etablissement", data=[establishment], get_position=["lon", "lat"],
                  get_fill_color=ESTABLISHMENT_COLOUR, get_line_color=[255, 255, 255], stroked=True,
                  line_width_min_pixels=2, get_radius=1200, radius_min_pixels=10, pickable=True),
    ]
    view = pdk.ViewState(latitude=establishment["lat"], longitude=establishment["lon"], zoom=_zoom(farthest))
    return pdk.Deck(layers=layers, initial_view_state=view, map_provider=None,
                    tooltip={"html": "<b>{name}</b><br/>{detail}", "style": {"fontSize": "13px"}})
