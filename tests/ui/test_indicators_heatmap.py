"""« Indicateurs » (issue 13): the volunteers by profession and department drawn as a readable heatmap — what the page
shows adds up to its « Volontaires disponibles » figure, and its labels are short."""

from __future__ import annotations

from tests.ui.conftest import open_page, signed_in
from tests.ui.readers import charts, metrics, plotly_array

ARS_USER = "ars.paysdelaloire@example.org"


def test_the_region_volunteers_are_a_heatmap_with_short_labels_that_adds_up_to_the_headline(app) -> None:
    signed_in(app, ARS_USER, "ars")
    open_page(app, "indicateurs")
    assert not app.exception
    trace = charts(app)["indicators_available"]["data"][0]
    assert trace["type"] == "heatmap"
    counts = [int(row[2]) for cells in trace["customdata"] for row in cells]
    assert f"{sum(counts)}" == metrics(app)["Volontaires disponibles"].replace("\u202f", "")
    assert set(plotly_array(trace["x"])) <= {"44", "49", "53", "72", "85"}  # the region's departments, by code
    totals = [int(label.rsplit("(", 1)[1].rstrip(")")) for label in trace["y"]]
    assert totals == sorted(totals, reverse=True)  # the most numerous profession first
    for label in trace["y"]:
        lines = label.rsplit(" (", 1)[0].split("<br>")
        assert len(lines) <= 2 and all(len(line) <= 26 for line in lines), label
