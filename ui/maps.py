"""The candidate map, readable offline: department outlines first, then the points. Drawn in SVG (plotly's geo)
by default; on a pydeck (WebGL) map over a base map of roads and towns when a deployment with internet access
configures RENFORT_MAP_TILES."""

from __future__ import annotations

import html
import json
import math
import urllib.parse
from functools import lru_cache
from typing import Any

import plotly.graph_objects as go
import pydeck as pdk

from core.shared.config import ASSETS, Settings, get_settings
from core.shared.distance import distance_km

ESTABLISHMENT_COLOUR = [24, 117, 60]  # green
ESTABLISHMENT_LABEL = "L'établissement"
CANDIDATE_COLOUR = [0, 0, 145]  # blue France
OUTLINE_COLOUR = [150, 150, 170]
# A candidate's colour tells where they stand with this mission (the legend under the map says the same).
STATE_COLOURS = {
    None: ("Disponible", CANDIDATE_COLOUR, "blue"),
    "contacte": ("Contacté", [230, 126, 34], "orange"),
    "en_cours": ("En cours (proposé à l'établissement)", [142, 68, 173], "violet"),
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


@lru_cache(maxsize=16)
def departments_outlines_clockwise(codes: frozenset[str]) -> dict[str, Any]:
    """The outlines for plotly's SVG maps (geo), simplified to about a pixel of the drawn map (the mainland's 16,500
    points become about 5,000: the page builds, copies and sends them at every run, the browser draws them).

    d3 reads an outer ring turning anticlockwise — as GeoJSON writes it (RFC 7946) — as the whole globe but that
    shape, and draws nothing usable: they are turned clockwise."""
    subset = departments_subset(codes)
    tolerance = _extent_degrees(subset) / SIMPLIFIED_PIXELS
    return {"type": "FeatureCollection",
            "features": [{**feature, "geometry": _rewound(_simplified(feature["geometry"], tolerance))}
                         for feature in subset["features"]]}


# A map of departments is drawn some 500 to 650 pixels wide or high: a tolerance of its extent over this many.
SIMPLIFIED_PIXELS = 600


def _extent_degrees(collection: dict[str, Any]) -> float:
    points = [point for feature in collection["features"] for ring in _rings(feature["geometry"]) for point in ring]
    if not points:
        return 0.0
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return max(max(lons) - min(lons), max(lats) - min(lats))


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return geometry["coordinates"]
    return [ring for polygon in geometry["coordinates"] for ring in polygon] if geometry["type"] == "MultiPolygon" \
        else []


def _simplified(geometry: dict[str, Any], tolerance: float) -> dict[str, Any]:
    def polygon(rings: list[list[list[float]]]) -> list[list[list[float]]]:
        return [_simplified_ring(ring, tolerance) for ring in rings]

    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": polygon(geometry["coordinates"])}
    if geometry["type"] == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [polygon(p) for p in geometry["coordinates"]]}
    return geometry


def _simplified_ring(ring: list[list[float]], tolerance: float) -> list[list[float]]:
    """Douglas–Peucker: keeps the points farther than `tolerance` from the line their neighbours kept draw. A ring
    that would fall under four points (a closed triangle) is kept whole."""
    keep = [False] * len(ring)
    keep[0] = keep[-1] = True
    spans = [(0, len(ring) - 1)]
    while spans:
        first, last = spans.pop()
        farthest, distance = None, tolerance
        for index in range(first + 1, last):
            gap = _distance_to_line(ring[index], ring[first], ring[last])
            if gap > distance:
                farthest, distance = index, gap
        if farthest is not None:
            keep[farthest] = True
            spans += [(first, farthest), (farthest, last)]
    simplified = [point for point, kept in zip(ring, keep) if kept]
    return simplified if len(simplified) >= 4 else ring


def _distance_to_line(point: list[float], start: list[float], end: list[float]) -> float:
    (x, y), (x1, y1), (x2, y2) = point[:2], start[:2], end[:2]
    dx, dy = x2 - x1, y2 - y1
    length = (dx * dx + dy * dy) ** 0.5
    if length == 0:  # a closed ring's two ends: the distance to that point
        return ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
    return abs(dy * x - dx * y + x2 * y1 - y2 * x1) / length


def _rewound(geometry: dict[str, Any]) -> dict[str, Any]:
    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": _rewound_polygon(geometry["coordinates"])}
    if geometry["type"] == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [_rewound_polygon(p) for p in geometry["coordinates"]]}
    return geometry


def _rewound_polygon(rings: list[list[list[float]]]) -> list[list[list[float]]]:
    """Outer ring clockwise, holes anticlockwise (d3-geo's convention)."""
    return [ring if (_signed_area(ring) < 0) == (index == 0) else ring[::-1] for index, ring in enumerate(rings)]


def _signed_area(ring: list[list[float]]) -> float:
    """Shoelace formula on longitude/latitude: negative when the ring turns clockwise."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:])) / 2


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


@lru_cache(maxsize=1)
def _outlines_with_boxes() -> tuple[tuple[dict[str, Any], tuple[float, float, float, float]], ...]:
    """Each department's outline with coordinates to 4 decimals (about 10 m: the outlines themselves are drawn at
    about 1 km), and its bounding box (lon min, lat min, lon max, lat max)."""
    def rounded(value: Any) -> Any:
        return round(value, 4) if isinstance(value, float) else [rounded(item) for item in value]

    def points(geometry: dict[str, Any]) -> list[list[float]]:
        rings = geometry["coordinates"] if geometry["type"] == "Polygon" else \
            [ring for polygon in geometry["coordinates"] for ring in polygon]
        return [point for ring in rings for point in ring]

    outlines = []
    for feature in departments_geojson()["features"]:
        geometry = feature["geometry"]
        lons, lats = zip(*((point[0], point[1]) for point in points(geometry)))
        outline = {**feature, "geometry": {"type": geometry["type"], "coordinates": rounded(geometry["coordinates"])}}
        outlines.append((outline, (min(lons), min(lats), max(lons), max(lats))))
    return tuple(outlines)


def departments_near(places: list[dict[str, Any]], margin_degrees: float) -> dict[str, Any]:
    """The outlines of the departments around the places only: the whole of France (650 KB) was sent with every
    run of « Choisir » and cut into triangles by the browser for a map framed on one area (docs/performance.md)."""
    lon_min = min(p["lon"] for p in places) - margin_degrees
    lon_max = max(p["lon"] for p in places) + margin_degrees
    lat_min = min(p["lat"] for p in places) - margin_degrees
    lat_max = max(p["lat"] for p in places) + margin_degrees
    features = [outline for outline, (west, south, east, north) in _outlines_with_boxes()
                if west <= lon_max and east >= lon_min and south <= lat_max and north >= lat_min]
    return {"type": "FeatureCollection", "features": features}


def backdrop_layer(outlines: dict[str, Any], filled: bool = True) -> pdk.Layer:
    """The department outlines; unfilled over a base map, whose roads and towns must show through."""
    return pdk.Layer("GeoJsonLayer", id="departements", data=outlines, stroked=True, filled=filled,
                     get_fill_color=[245, 245, 254], get_line_color=OUTLINE_COLOUR, line_width_min_pixels=1)


TILES_SOURCE = "fond-de-carte"


def tile_style(template: str, attribution: str) -> dict[str, Any]:
    """A MapLibre style of one raster source: the tiles of `template`, with the provider's attribution, which
    MapLibre shows in the map's corner as the licence requires."""
    return {"version": 8,
            "sources": {TILES_SOURCE: {"type": "raster", "tiles": [template], "tileSize": 256, "maxzoom": 19,
                                       "attribution": attribution}},
            "layers": [{"id": TILES_SOURCE, "type": "raster", "source": TILES_SOURCE}]}


def _base_map(settings: Settings) -> dict[str, Any]:
    """The Deck's base-map arguments. Offline (no template): none at all, not even a remote style. With tiles: the
    style goes inline as a data: URL, because Streamlit only takes a style by URL, and a deck.gl TileLayer cannot
    draw images from pydeck (its renderSubLayers is a JavaScript function) — checked in Chromium."""
    if not settings.map_tiles:
        return {"map_provider": None}
    style = json.dumps(tile_style(settings.map_tiles, settings.map_tiles_attribution), ensure_ascii=False)
    return {"map_provider": "carto",  # any provider but mapbox: Streamlit then draws the style with MapLibre
            "map_style": "data:application/json;charset=utf-8," + urllib.parse.quote(style, safe="")}


def style_of(deck: pdk.Deck) -> dict[str, Any] | None:
    """The MapLibre style a deck carries inline (None offline): what tests and checks read back."""
    style = getattr(deck, "map_style", None)
    prefix = "data:application/json;charset=utf-8,"
    if not isinstance(style, str) or not style.startswith(prefix):
        return None
    return json.loads(urllib.parse.unquote(style[len(prefix):]))


def candidate_deck(establishment: dict[str, Any], points: list[dict[str, Any]],
                   settings: Settings | None = None) -> pdk.Deck:
    """The establishment as a green ring, the filtered candidates coloured by where they stand (`state`), with
    name, status, profession, distance and town on hover; framed on the establishment and every point. Under them,
    the department outlines, on a base map of roads and towns when RENFORT_MAP_TILES is set."""
    settings = settings or get_settings()
    coloured = [{**point, "colour": STATE_COLOURS.get(point.get("state"), STATE_COLOURS[None])[1]} for point in points]
    latitude, longitude, extent_km = _frame([establishment, *points])
    # The view shows about twice the framed extent (and at least 20 km around): a margin of as much again.
    margin_degrees = max(extent_km, 20) * 2 / 111
    layers = [
        backdrop_layer(departments_near([establishment, *points], margin_degrees), filled=not settings.map_tiles),
        # A ring beneath the candidates: a volunteer living next door (0 km) stays visible and clickable in it.
        pdk.Layer("ScatterplotLayer", id="etablissement", data=[establishment], get_position=["lon", "lat"],
                  filled=False, stroked=True, get_line_color=ESTABLISHMENT_COLOUR, line_width_min_pixels=4,
                  get_radius=1500, radius_min_pixels=14, pickable=True),
        pdk.Layer("ScatterplotLayer", id="candidats", data=coloured, get_position=["lon", "lat"],
                  get_fill_color="colour", get_line_color=[255, 255, 255], stroked=True, line_width_min_pixels=1,
                  get_radius=500, radius_min_pixels=5, pickable=True, opacity=0.85),
    ]
    view = pdk.ViewState(latitude=latitude, longitude=longitude, zoom=_zoom(max(extent_km, 20)))
    return pdk.Deck(layers=layers, initial_view_state=view, **_base_map(settings),
                    tooltip={"html": "<b>{name}</b><br/>{detail}", "style": {"fontSize": "13px"}})


def _text(value: str) -> str:
    """A name as plain text in a plotly hover, which reads a subset of HTML (<a href>, <b>, <br>…): a volunteer
    named « <a href=…> » would otherwise show a link (docs/securite.md)."""
    return html.escape(value, quote=False)


def _css(colour: list[int]) -> str:
    return "rgb({}, {}, {})".format(*colour)


MAP_ASPECT = 2.4  # width over height of the candidate map in the page's main column


def candidate_figure(establishment: dict[str, Any], points: list[dict[str, Any]]) -> go.Figure:
    """The map of « Choisir » and « Proposer » without tiles: the same marks as `candidate_deck`, with a legend of
    the colours, in SVG. A deck.gl map is drawn by WebGL: without a graphics card (a hospital's virtual desktop,
    this server's Chromium) each new one took 2 to 3 s to appear when the page was opened again from the menu,
    against 0.7 s for the rest of the page (docs/performance.md).

    A click on a candidate selects their point (`customdata[0]`: their id); the establishment's ring carries none."""
    latitude, longitude, extent_km = _frame([establishment, *points])
    # The view: every place with a margin (and at least 25 km around), as wide as the page's column is — about
    # twice its height — so that the map fills it; the departments it crosses are drawn, no other.
    half_lat = max(extent_km, 20) * 1.25 / 111
    half_lon = MAP_ASPECT * half_lat / max(0.2, math.cos(math.radians(latitude)))
    corners = [{"lat": latitude + dy, "lon": longitude + dx} for dy in (-half_lat, half_lat) for dx in (-half_lon, half_lon)]
    near = departments_near(corners, 0)
    outlines = departments_outlines_clockwise(frozenset(f["properties"]["code"] for f in near["features"]))
    codes = [feature["properties"]["code"] for feature in outlines["features"]]
    figure = go.Figure(go.Choropleth(
        geojson=outlines, locations=codes, featureidkey="properties.code", z=[0] * len(codes), showscale=False,
        colorscale=[[0, "#F5F5FE"], [1, "#F5F5FE"]], marker_line_color=_css(OUTLINE_COLOUR), marker_line_width=0.8,
        hoverinfo="skip", showlegend=False))
    # A ring beneath the candidates: a volunteer living next door (0 km) stays visible and clickable in it.
    figure.add_trace(go.Scattergeo(
        lat=[establishment["lat"]], lon=[establishment["lon"]], mode="markers", name=ESTABLISHMENT_LABEL,
        marker={"symbol": "circle-open", "size": 26, "line": {"width": 4}, "color": _css(ESTABLISHMENT_COLOUR)},
        customdata=[[None, _text(establishment["name"]), _text(establishment["detail"])]]))
    for state, (label, colour, _) in STATE_COLOURS.items():
        shown = [p for p in points if p.get("state") == state]
        if shown or state is None:
            figure.add_trace(go.Scattergeo(
                lat=[p["lat"] for p in shown], lon=[p["lon"] for p in shown], mode="markers", name=label,
                marker={"size": 10, "color": _css(colour), "opacity": 0.9, "line": {"width": 1, "color": "white"}},
                customdata=[[p["id"], _text(p["name"]), _text(p["detail"])] for p in shown]))
    figure.update_traces(selector={"type": "scattergeo"},
                         hovertemplate="<b>%{customdata[1]}</b><br>%{customdata[2]}<extra></extra>",
                         # A click selects one point: the others keep their colour (plotly would fade them).
                         unselected={"marker": {"opacity": 0.9}})
    figure.update_geos(visible=False, projection_type="mercator", bgcolor="rgba(0,0,0,0)",
                       lataxis_range=[latitude - half_lat, latitude + half_lat],
                       lonaxis_range=[longitude - half_lon, longitude + half_lon])
    figure.update_layout(height=420, margin={"l": 0, "r": 0, "t": 0, "b": 0}, separators=", ",
                         legend={"orientation": "h", "y": 0, "x": 0, "bgcolor": "rgba(255,255,255,0.8)"},
                         font={"family": "Arial, sans-serif", "size": 13}, dragmode="pan")
    return figure
