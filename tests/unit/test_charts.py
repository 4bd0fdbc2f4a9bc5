"""The national map and bars (issue 13): one-direction colour scale, a grey category for departments with posts to
fill and nobody available, a French hover, no fading after a click, bars sorted by value."""

from __future__ import annotations

import json

import pandas as pd

from tests.ui.readers import plotly_array
from ui.charts import NO_VOLUNTEER, NO_VOLUNTEER_LABEL, TENSION_SCALE, choropleth, posts_bars

HOVER = ["Région", "Postes non pourvus", "Volontaires disponibles", "Postes non pourvus par volontaire"]
FRAME = pd.DataFrame([
    {"Code": "44", "Département": "Loire-Atlantique (44)", "Région": "Pays de la Loire", "Postes non pourvus": 6,
     "Volontaires disponibles": 3, "Tension": 2.0, "Postes non pourvus par volontaire": "2,00"},
    {"Code": "49", "Département": "Maine-et-Loire (49)", "Région": "Pays de la Loire", "Postes non pourvus": 1,
     "Volontaires disponibles": 4, "Tension": 0.25, "Postes non pourvus par volontaire": "0,25"},
    {"Code": "53", "Département": "Mayenne (53)", "Région": "Pays de la Loire", "Postes non pourvus": 2,
     "Volontaires disponibles": 0, "Tension": None, "Postes non pourvus par volontaire": "aucun volontaire disponible"},
])


def _figure() -> dict:
    return json.loads(choropleth(FRAME, "Tension", HOVER, (0.0, 2.0)).to_json())


def _lightness(colour: str) -> int:
    return sum(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def test_the_colour_scale_goes_one_way_from_light_to_dark() -> None:
    shades = [_lightness(colour) for colour in TENSION_SCALE]
    assert shades == sorted(shades, reverse=True)


def test_departments_with_nobody_available_are_a_grey_category_with_its_legend_not_the_darkest_shade() -> None:
    coloured, grey = _figure()["data"]
    assert list(coloured["locations"]) == ["44", "49"]
    assert list(grey["locations"]) == ["53"]
    assert grey["name"] == NO_VOLUNTEER_LABEL and grey["showlegend"] is True
    assert grey["colorscale"] == [[0, NO_VOLUNTEER], [1, NO_VOLUNTEER]]


def test_the_hover_reads_in_french_and_a_click_fades_nothing() -> None:
    for trace in _figure()["data"]:
        assert trace["hovertemplate"] == (
            "<b>%{hovertext}</b><br>Région : %{customdata[0]}<br>Postes non pourvus : %{customdata[1]}"
            "<br>Volontaires disponibles : %{customdata[2]}<br>Postes non pourvus par volontaire : %{customdata[3]}"
            "<extra></extra>")
        assert "=" not in trace["hovertemplate"].replace("<extra></extra>", "")  # no « Région=… » raw label
        assert trace["unselected"]["marker"]["opacity"] == trace["selected"]["marker"]["opacity"] == 0.9


def test_the_map_is_drawn_in_svg_framed_on_the_departments_shown_with_the_scale_of_the_page() -> None:
    """No WebGL map (seconds each to draw without a graphics card, docs/performance.md): plotly's geo, fitted."""
    figure = _figure()
    assert {trace["type"] for trace in figure["data"]} == {"choropleth"}
    assert figure["layout"]["geo"]["fitbounds"] == "locations" and figure["layout"]["geo"]["visible"] is False
    coloured = figure["data"][0]
    assert plotly_array(coloured["z"]) == [2.0, 0.25] and (coloured["zmin"], coloured["zmax"]) == (0.0, 2.0)


def test_bars_are_sorted_by_value_the_largest_first() -> None:
    frame = pd.DataFrame({"Région": ["Bretagne", "Occitanie", "Normandie"], "Postes demandés": [3, 12, 7],
                          "Postes pourvus": [1, 2, 7]})
    figure = json.loads(posts_bars(frame, "Région", "Postes", horizontal=True).to_json())
    assert figure["layout"]["yaxis"]["categoryarray"] == ["Occitanie", "Normandie", "Bretagne"]
    vertical = json.loads(posts_bars(frame, "Région", "Postes").to_json())
    assert vertical["layout"]["xaxis"]["categoryarray"] == ["Occitanie", "Normandie", "Bretagne"]


def test_the_outlines_drawn_are_simplified_to_about_a_pixel_closed_and_turning_clockwise() -> None:
    """d3 (plotly geo) wants outer rings clockwise; the mainland's 16,500 points are more than a map can show."""
    from ui.maps import (
        _rings,
        _signed_area,
        departments_geojson,
        departments_outlines_clockwise,
        departments_subset,
    )

    mainland = frozenset(f["properties"]["code"] for f in departments_geojson()["features"]
                         if not f["properties"]["code"].startswith("97"))
    drawn, source = departments_outlines_clockwise(mainland), departments_subset(mainland)
    count = lambda collection: sum(len(ring) for f in collection["features"] for ring in _rings(f["geometry"]))  # noqa: E731
    assert count(drawn) < count(source) / 3
    assert {f["properties"]["code"] for f in drawn["features"]} == mainland
    for feature in drawn["features"]:
        polygons = [feature["geometry"]["coordinates"]] if feature["geometry"]["type"] == "Polygon" \
            else feature["geometry"]["coordinates"]
        for rings in polygons:
            assert all(len(ring) >= 4 and ring[0] == ring[-1] for ring in rings)
            assert _signed_area(rings[0]) < 0  # the outer ring, clockwise
