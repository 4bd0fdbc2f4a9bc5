"""RENFORT_MAP_TILES (issue 13): a base map of roads and towns under the candidate maps for deployments with internet
access, with the provider's attribution; unset, the maps stay offline (department outlines, no request)."""

from __future__ import annotations

import json

import pytest

from core.shared.config import DEFAULT_TILES_ATTRIBUTION, load_settings
from ui.maps import TILES_SOURCE, candidate_deck, style_of

OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
ESTABLISHMENT = {"lat": 47.21, "lon": -1.55, "name": "CHU de Nantes", "detail": "Votre établissement"}
POINTS = [{"id": 12, "lat": 47.3, "lon": -1.5, "name": "Léa Martin", "detail": "Infirmier", "state": None}]


def _deck(env: dict[str, str]):  # noqa: ANN202
    return candidate_deck(ESTABLISHMENT, POINTS, settings=load_settings(env))


def test_with_a_tile_template_the_map_draws_those_tiles_under_the_points_with_the_attribution() -> None:
    deck = _deck({"RENFORT_MAP_TILES": OSM})
    source = style_of(deck)["sources"][TILES_SOURCE]
    assert (source["type"], source["tiles"]) == ("raster", [OSM])
    assert source["attribution"] == DEFAULT_TILES_ATTRIBUTION == "© les contributeurs d'OpenStreetMap"
    assert style_of(deck)["layers"] == [{"id": TILES_SOURCE, "type": "raster", "source": TILES_SOURCE}]
    spec = json.loads(deck.to_json())
    assert spec["mapProvider"] != "mapbox"  # drawn by MapLibre, no token
    outlines = spec["layers"][0]
    assert (outlines["id"], outlines["filled"]) == ("departements", False)  # the roads show through


def test_the_attribution_follows_the_provider() -> None:
    deck = _deck({"RENFORT_MAP_TILES": "https://tuiles.example.org/{z}/{x}/{y}.png",
                  "RENFORT_MAP_TILES_ATTRIBUTION": "© IGN – Plan IGN"})
    assert style_of(deck)["sources"][TILES_SOURCE]["attribution"] == "© IGN – Plan IGN"


def test_without_a_template_the_map_stays_offline() -> None:
    deck = _deck({})
    assert style_of(deck) is None and deck.map_provider is None
    spec = json.loads(deck.to_json())
    assert "tile" not in json.dumps(spec.get("mapStyle"))
    assert spec["layers"][0]["filled"] is True


@pytest.mark.parametrize("template", ["tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.example.org/{z}/{x}.png"])
def test_a_template_that_could_not_draw_is_refused_at_start(template: str) -> None:
    with pytest.raises(RuntimeError, match="RENFORT_MAP_TILES"):
        load_settings({"RENFORT_MAP_TILES": template})
