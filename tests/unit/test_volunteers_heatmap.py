"""« Indicateurs »: the volunteers by profession and department as a heatmap (issue 13) — short labels on the axis,
the most numerous profession at the top, one column per department by code, the full names in the hover."""

from __future__ import annotations

import json

import pandas as pd

from ui.charts import short_label, volunteers_heatmap

LONG = "Étudiant en soins infirmiers (après validation de la 1re année)"
FRAME = pd.DataFrame([
    {"Profession": "Aide-soignant", "Département": "Sarthe", "Code": "72", "Volontaires": 3},
    {"Profession": LONG, "Département": "Loire-Atlantique", "Code": "44", "Volontaires": 1},
    {"Profession": "Infirmier diplômé d'État", "Département": "Loire-Atlantique", "Code": "44", "Volontaires": 5},
    {"Profession": "Infirmier diplômé d'État", "Département": "Sarthe", "Code": "72", "Volontaires": 2},
])


def _trace() -> dict:
    return json.loads(volunteers_heatmap(FRAME, "Volontaires").to_json())["data"][0]


def test_a_long_label_is_wrapped_on_two_short_lines_and_cut() -> None:
    assert short_label(LONG) == "Étudiant en soins<br>infirmiers (après…"
    assert all(len(line) <= 26 for line in short_label(LONG).split("<br>"))
    assert short_label("Aide-soignant") == "Aide-soignant"


def test_rows_are_professions_by_total_with_the_total_in_the_label_and_columns_the_departments() -> None:
    trace = _trace()
    assert trace["type"] == "heatmap"
    assert trace["y"] == ["Infirmier diplômé d'État (7)", "Aide-soignant (3)", "Étudiant en soins<br>infirmiers (après… (1)"]
    assert trace["x"] == ["44", "72"]
    assert trace["text"] == [["5", "2"], ["", "3"], ["1", ""]]  # the count in each cell, nothing where none


def test_an_empty_cell_is_blank_not_the_palest_colour_and_the_hover_names_everything_in_full() -> None:
    trace = _trace()
    assert trace["z"][1][0] is None and trace["z"][0] == [5, 2]
    assert trace["customdata"][2][0] == [LONG, "Loire-Atlantique (44)", 1]
    assert trace["hovertemplate"] == ("<b>%{customdata[0]}</b><br>%{customdata[1]} : %{customdata[2]} volontaire(s)"
                                      "<extra></extra>")
