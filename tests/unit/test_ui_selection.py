"""Pure helpers between Streamlit selections and service ids (ui/selection.py), and the offline map deck."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from ui.maps import candidate_deck, candidate_figure, state_legend
from ui.selection import candidate_from_map, ids_from_rows, rows_key, selection_rows

FRAME = pd.DataFrame({"id": [12, 7, 31], "Nom": ["Martin", "Besson", "Voisin"]})

# ---------------------------------------------------------------- ids_from_rows


def test_row_positions_are_turned_into_the_ids_of_those_rows_in_the_given_order() -> None:
    assert ids_from_rows(FRAME, [2, 0]) == [31, 12]


def test_positions_outside_the_frame_are_ignored() -> None:
    assert ids_from_rows(FRAME, [1, 3, -1]) == [7]


def test_ids_can_be_read_from_another_column_and_are_plain_ints() -> None:
    frame = FRAME.assign(professional_id=[101, 102, 103])
    ids = ids_from_rows(frame, [1], column="professional_id")
    assert ids == [102]
    assert type(ids[0]) is int


def test_no_positions_give_no_ids() -> None:
    assert ids_from_rows(FRAME, []) == []


# ---------------------------------------------------------------- rows_key


def test_a_table_keeps_its_key_while_it_shows_the_same_rows() -> None:
    assert rows_key("dashboard_table", [4, 1, 6]) == rows_key("dashboard_table", iter((4, 1, 6)))
    assert rows_key("dashboard_table", FRAME["id"]) == rows_key("dashboard_table", [12, 7, 31])
    assert rows_key("dashboard_table", [4, 1, 6]).startswith("dashboard_table_")


@pytest.mark.parametrize("other", [[4, 1], [4, 1, 6, 9], [1, 4, 6], [41, 6], []])
def test_a_table_gets_a_new_key_when_its_rows_change_so_old_ticks_are_dropped(other) -> None:  # noqa: ANN001
    assert rows_key("dashboard_table", other) != rows_key("dashboard_table", [4, 1, 6])


# ---------------------------------------------------------------- selection_rows


def test_selected_rows_are_read_from_the_widget_return_value() -> None:
    event = SimpleNamespace(selection=SimpleNamespace(rows=[0, 2], columns=[], cells=[]))
    assert selection_rows(event) == [0, 2]


def test_selected_rows_are_read_from_the_session_state_dict() -> None:
    assert selection_rows({"selection": {"rows": [1], "columns": [], "cells": []}}) == [1]


def test_selected_rows_are_read_from_an_object_holding_a_dict() -> None:
    """Streamlit's AttributeDictionary: attribute access outside, a plain dict inside."""
    assert selection_rows(SimpleNamespace(selection={"rows": [3]})) == [3]


@pytest.mark.parametrize("event", [None, {}, {"selection": {"rows": [], "columns": [], "cells": []}},
                                   {"selection": {"rows": None}}])
def test_nothing_selected_gives_no_rows(event) -> None:  # noqa: ANN001
    assert selection_rows(event) == []


# ---------------------------------------------------------------- candidate_from_map


def test_the_clicked_volunteer_is_read_from_the_map_state_dict() -> None:
    event = {"selection": {"indices": {"candidats": [0]},
                           "objects": {"candidats": [{"id": 12, "name": "Léa Martin", "lat": 47.2, "lon": -1.55}]}}}
    assert candidate_from_map(event) == 12


def test_the_clicked_volunteer_is_read_from_the_widget_return_value() -> None:
    event = SimpleNamespace(selection=SimpleNamespace(objects={"candidats": [{"id": "44"}]}))
    assert candidate_from_map(event) == 44


def test_a_click_on_the_establishment_opens_no_sheet() -> None:
    event = {"selection": {"objects": {"etablissement": [{"id": None, "name": "CHU"}]}}}
    assert candidate_from_map(event) is None


def test_another_layer_can_be_asked_for() -> None:
    event = {"selection": {"objects": {"etablissement": [{"id": 3}]}}}
    assert candidate_from_map(event, layer="etablissement") == 3


@pytest.mark.parametrize("event", [None, {}, {"selection": {"objects": {}}}, {"selection": {"objects": None}},
                                   {"selection": {"objects": {"candidats": []}}},
                                   SimpleNamespace(selection=SimpleNamespace(objects=None))])
def test_nothing_clicked_on_the_map_gives_no_volunteer(event) -> None:  # noqa: ANN001
    assert candidate_from_map(event) is None


# ---------------------------------------------------------------- candidate_deck

ESTABLISHMENT = {"lat": 47.21, "lon": -1.55, "name": "CHU de Nantes", "detail": "Votre établissement"}
POINTS = [
    {"id": 12, "lat": 47.3, "lon": -1.5, "name": "Léa Martin", "distance_km": 12.5, "detail": "Infirmier",
     "state": None},
    {"id": 7, "lat": 47.9, "lon": -1.0, "name": "Paul Besson", "distance_km": 66.5, "detail": "Infirmier",
     "state": "contacte"},
]


def _spec(deck) -> dict:  # noqa: ANN001
    return json.loads(deck.to_json())


def test_the_deck_draws_the_departments_then_the_establishment_as_a_ring_then_the_candidates_above_it() -> None:
    """Issue 13: the establishment's marker never hides a candidate at 0 km (a hollow ring beneath them)."""
    layers = _spec(candidate_deck(ESTABLISHMENT, POINTS))["layers"]
    assert [layer["id"] for layer in layers] == ["departements", "etablissement", "candidats"]
    assert [layer["@@type"] for layer in layers] == ["GeoJsonLayer", "ScatterplotLayer", "ScatterplotLayer"]
    assert (layers[1]["filled"], layers[1]["stroked"]) == (False, True)


def test_each_candidate_is_coloured_by_where_they_stand_with_the_mission() -> None:
    candidates = _spec(candidate_deck(ESTABLISHMENT, POINTS))["layers"][2]
    assert candidates["getFillColor"] == "@@=colour"
    assert [p["colour"] for p in candidates["data"]] == [[0, 0, 145], [230, 126, 34]]  # available, contacted
    assert state_legend().startswith(":blue[●] Disponible · :orange[●] Contacté · :violet[●] En cours")


def test_the_deck_needs_no_base_map_from_the_internet() -> None:
    deck = candidate_deck(ESTABLISHMENT, POINTS)
    assert deck.map_provider is None
    spec = _spec(deck)
    assert spec.get("mapProvider") is None
    assert "mapStyle" not in spec or not str(spec["mapStyle"]).startswith("http")


def test_the_candidates_are_clickable_with_their_ids_and_the_view_is_centred_on_the_establishment() -> None:
    spec = _spec(candidate_deck(ESTABLISHMENT, POINTS))
    candidates = spec["layers"][2]
    assert candidates["pickable"] is True
    assert [p["id"] for p in candidates["data"]] == [12, 7]
    assert spec["layers"][1]["data"] == [ESTABLISHMENT]
    view = spec["initialViewState"]  # the middle of the establishment and every candidate
    assert (round(view["latitude"], 3), round(view["longitude"], 3)) == (47.555, -1.275)


def test_the_zoom_frames_the_farthest_candidate() -> None:
    near = _spec(candidate_deck(ESTABLISHMENT, POINTS[:1]))["initialViewState"]["zoom"]
    far = _spec(candidate_deck(ESTABLISHMENT, POINTS))["initialViewState"]["zoom"]
    empty = _spec(candidate_deck(ESTABLISHMENT, []))["initialViewState"]["zoom"]
    assert (near, far) == (9, 8)  # framed from the middle: ~20 km, then ~50 km to the farthest corner
    assert empty == 9  # no candidate: framed as if one were 20 km away


def test_only_the_departments_around_the_framed_places_are_sent_to_the_browser() -> None:
    """The whole of France (650 KB) went with every run of « Choisir »: now the departments the view can show."""
    def codes(points: list[dict]) -> set[str]:
        return {f["properties"]["code"] for f in _spec(candidate_deck(ESTABLISHMENT, points))["layers"][0]["data"]
                ["features"]}

    around_nantes = codes(POINTS)
    assert {"44", "49", "85", "35"} <= around_nantes  # Nantes and its neighbours
    assert not {"13", "67", "2A", "971"} & around_nantes  # Marseille, Strasbourg, Corsica, Guadeloupe
    far_candidate = {**POINTS[0], "lat": 43.3, "lon": 5.4}  # a candidate in Marseille widens the frame
    assert "13" in codes([far_candidate])


# ---------------------------------------------------------------- candidate_figure (the map without tiles, in SVG)


def _traces(figure) -> dict[str, dict]:  # noqa: ANN001
    return {trace["name"]: trace for trace in figure.to_plotly_json()["data"] if trace["type"] == "scattergeo"}


def test_the_svg_map_draws_the_departments_then_the_establishment_as_a_ring_then_the_candidates_by_state() -> None:
    """Issue 13: colours by status with a legend, the establishment's ring beneath the candidates (a volunteer at 0 km
    stays visible and clickable), the department outlines under everything."""
    figure = candidate_figure(ESTABLISHMENT, POINTS)
    kinds = [trace.type for trace in figure.data]
    assert kinds == ["choropleth", "scattergeo", "scattergeo", "scattergeo"]
    traces = _traces(figure)
    assert list(traces) == ["L'établissement", "Disponible", "Contacté"]  # the legend, in the deck's colours
    ring = traces["L'établissement"]["marker"]
    assert (ring["symbol"], ring["color"]) == ("circle-open", "rgb(24, 117, 60)")
    assert traces["Disponible"]["marker"]["color"] == "rgb(0, 0, 145)"
    assert traces["Contacté"]["marker"]["color"] == "rgb(230, 126, 34)"


def test_a_click_on_a_point_of_the_svg_map_gives_the_volunteer_and_the_ring_gives_nobody() -> None:
    traces = _traces(candidate_figure(ESTABLISHMENT, POINTS))
    assert [row[0] for row in traces["Disponible"]["customdata"]] == [12]
    assert [row[0] for row in traces["Contacté"]["customdata"]] == [7]
    assert traces["L'établissement"]["customdata"][0][0] is None
    hover = traces["Contacté"]["hovertemplate"]
    assert "%{customdata[1]}" in hover and "%{customdata[2]}" in hover  # name, then status · profession · km · town
    assert candidate_from_map({"selection": {"points": [{"customdata": [7, "Paul Besson", "…"]}]}}) == 7
    assert candidate_from_map({"selection": {"points": [{"customdata": [None, "CHU de Nantes", "…"]}]}}) is None
    assert candidate_from_map({"selection": {"points": []}}) is None


def test_the_svg_map_frames_every_point_and_draws_only_the_departments_around_them() -> None:
    figure = candidate_figure(ESTABLISHMENT, POINTS)
    geo = figure.layout.geo
    (south, north), (west, east) = geo.lataxis.range, geo.lonaxis.range
    for place in [ESTABLISHMENT, *POINTS]:
        assert south < place["lat"] < north and west < place["lon"] < east
    assert east - west > north - south  # as wide as the page's column, not a square in the middle of it
    codes = set(figure.data[0].locations)
    assert {"44", "49", "85", "35"} <= codes
    assert not {"13", "67", "2A", "971"} & codes
    assert geo.visible is False  # no world from cdn.plot.ly: the departments' outlines only


def test_a_name_written_in_html_stays_text_in_the_svg_map_hover() -> None:
    """plotly reads <a href>, <b>, <br> in hovers: a volunteer's name is escaped (docs/securite.md)."""
    name = '<a href="https://evil.example/tl">lien</a> & <b>gras</b>'
    point = {**POINTS[0], "name": name, "detail": "Disponible · <br>"}
    [row] = _traces(candidate_figure({**ESTABLISHMENT, "name": "<b>CHU</b>"}, [point]))["Disponible"]["customdata"]
    assert row[1] == '&lt;a href="https://evil.example/tl"&gt;lien&lt;/a&gt; &amp; &lt;b&gt;gras&lt;/b&gt;'
    assert row[2] == "Disponible · &lt;br&gt;"
    assert _traces(candidate_figure({**ESTABLISHMENT, "name": "<b>CHU</b>"}, []))["L'établissement"]["customdata"][0][1] \
        == "&lt;b&gt;CHU&lt;/b&gt;"
