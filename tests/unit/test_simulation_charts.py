"""The crisis simulator's figures (ui.simulation_charts) and HTML reports (ops.simulation.report), built from a
small hand-written report in the contract's shape (issue 17): the values land in the traces, the tables and the
files, in French."""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ops.simulation.report import write_comparison_html, write_report_html
from ui import simulation_charts as charts


def sample_report(rules: str = "renfort", seed: int = 1) -> dict[str, Any]:
    """Three days of a wave of 4 missions (10 posts), two regions, as `python -m core simulate` writes it."""
    filled = [1, 4, 7] if rules == "renfort" else [0, 2, 3]
    waiting_over = [0, 0, 0] if rules == "renfort" else [0, 1, 2]
    return {
        "version": 1,
        "parameters": {"rules": rules, "rules_label": charts.rules_label(rules), "seed": seed, "days": 3,
                       "scale": "mini", "wave": 4, "start": "2027-01-04",
                       "behaviour": {"accept_base": 0.55, "distance_scale_km": 60.0, "nouveau": 3}},
        "days": [
            {"day": day, "date": f"2027-01-0{3 + day}", "missions": 2 + day, "posts_requested": requested,
             "posts_filled": filled[day - 1], "waiting": 5 - day, "waiting_over_7_days": waiting_over[day - 1],
             "solicitations": 6 * day, "declined": day, "expired": 0, "crisis_regions": 1 if day > 1 else 0,
             "pools_opened": day - 1}
            for day, requested in ((1, 6), (2, 8), (3, 10))],
        "final": {
            "posts_requested": 10, "posts_filled": filled[-1], "fill_rate": filled[-1] / 10,
            "time_to_fill_hours": ({"count": 7, "median": 18.0, "p25": 6.0, "p75": 30.0, "p90": 60.0}
                                   if rules == "renfort" else
                                   {"count": 3, "median": 72.0, "p25": 48.0, "p75": 96.0, "p90": 120.0}),
            "eligible_volunteers": 40, "solicited_volunteers": 30, "never_contacted": 10, "never_contacted_share": 0.25,
            "gini": 0.2345 if rules == "renfort" else 0.6789, "gini_floor": 0.1234 if rules == "renfort" else 0.4567,
            "max_solicitations": 4,
            "lorenz": [[0.0, 0.0], [0.25, 0.0], [0.5, 0.2], [0.75, 0.45], [1.0, 1.0]],
            "waiting_over_7_days_max": max(waiting_over), "longest_wait_days": 2.5 if rules == "renfort" else 9.25,
            "crisis_switches": 1, "pools_opened": 2, "events": 123},
        "time_to_fill_hours": ([3.0, 6.0, 12.0, 18.0, 24.0, 30.0, 60.0] if rules == "renfort"
                               else [48.0, 72.0, 120.0]),
        "solicitations_histogram": [[0, 10], [1, 15], [2, 10], [4, 5]],
        "regions": [
            {"ars_code": "52", "region": "Pays de la Loire", "posts_requested": 6, "posts_filled": 5,
             "fill_rate": 0.8333, "median_time_to_fill_hours": 12.0, "gini": 0.21, "eligible_volunteers": 25,
             "never_contacted": 4, "crisis_day": 2},
            {"ars_code": "53", "region": "Bretagne", "posts_requested": 4, "posts_filled": 2, "fill_rate": 0.5,
             "median_time_to_fill_hours": None, "gini": None, "eligible_volunteers": 15, "never_contacted": 6,
             "crisis_day": None}],
    }


def sample_comparison() -> dict[str, Any]:
    runs = []
    for rules in ("2020", "renfort"):
        final = copy.deepcopy(sample_report(rules)["final"])
        del final["lorenz"]
        runs.append({"rules": rules, "seed": 1, "directory": f"{rules}-graine-1", "final": final})
    return {
        "version": 1, "scale": "mini", "days": 3, "wave": 4, "seeds": [1], "rules": ["2020", "renfort"], "runs": runs,
        "median": {
            "2020": {"posts_filled": 3, "fill_rate": 0.3, "median_time_to_fill_hours": 72.0, "gini": 0.6789,
                     "gini_floor": 0.4567, "median_time_to_fill_both_filled_hours": 60.0, "never_contacted_share": 0.25, "waiting_over_7_days_max": 2, "seconds": 75.5},
            "renfort": {"posts_filled": 7, "fill_rate": 0.7, "median_time_to_fill_hours": 18.0, "gini": 0.2345,
                        "gini_floor": 0.1234, "never_contacted_share": 0.25, "waiting_over_7_days_max": 0, "seconds": 41.2}},
        "targets": [
            {"label": "Postes pourvus au jour 30 : au moins +15 %", "value": "+133 %", "met": True},
            {"label": "Gini des sollicitations ≤ 0,3", "value": "0,23 (2020 : 0,68)", "met": True},
            {"label": "Une simulation de démonstration en moins de 2 minutes", "value": "2 min 30 s", "met": False}],
    }


def write_comparison_directory(directory: Path) -> dict[str, Any]:
    """A comparison's directory as the command leaves it: one sub-directory per run, then comparaison.json."""
    comparison = sample_comparison()
    for run in comparison["runs"]:
        run_directory = directory / run["directory"]
        run_directory.mkdir(parents=True)
        report = sample_report(run["rules"])
        (run_directory / "report.json").write_text(json.dumps(report), encoding="utf-8")
        write_report_html(report, run_directory / "report.html")
    (directory / "comparaison.json").write_text(json.dumps(comparison), encoding="utf-8")
    return comparison


def _trace(figure, name: str) -> dict:  # noqa: ANN001
    matches = [trace for trace in figure.to_dict()["data"] if trace.get("name") == name]
    assert len(matches) == 1, [trace.get("name") for trace in figure.to_dict()["data"]]
    return matches[0]


def _title(figure) -> str:  # noqa: ANN001
    return figure.layout.title.text


# ---------------------------------------------------------------- one run


def test_the_posts_curves_hold_the_days_requested_and_filled() -> None:
    figure = charts.posts_over_time(sample_report())
    assert list(_trace(figure, "Postes demandés")["y"]) == [6, 8, 10]
    assert list(_trace(figure, "Postes pourvus")["y"]) == [1, 4, 7]
    assert list(_trace(figure, "Postes pourvus")["x"]) == [1, 2, 3]
    assert list(_trace(figure, "Postes pourvus")["customdata"]) == ["04/01/2027", "05/01/2027", "06/01/2027"]
    assert figure.layout.separators == ", "
    assert figure.layout.xaxis.title.text == "Jour de la vague"


def test_the_delay_histogram_is_in_days_with_its_median_marked() -> None:
    figure = charts.time_to_fill_histogram(sample_report())
    assert list(_trace(figure, "Postes pourvus")["x"]) == [0.125, 0.25, 0.5, 0.75, 1.0, 1.25, 2.5]
    (line,) = figure.layout.shapes
    assert line.x0 == line.x1 == 0.75
    assert [a.text for a in figure.layout.annotations] == ["médiane : 18 h"]
    assert figure.layout.title.subtitle.text == "Du dépôt du besoin à l'affectation — médiane : 18 h"


def test_a_run_that_filled_nothing_says_so_instead_of_an_empty_histogram() -> None:
    report = sample_report()
    report["time_to_fill_hours"] = []
    report["final"]["time_to_fill_hours"] = {"count": 0, "median": None, "p25": None, "p75": None, "p90": None}
    figure = charts.time_to_fill_histogram(report)
    assert not figure.data
    assert [a.text for a in figure.layout.annotations] == ["Aucun poste pourvu : pas de délai à montrer."]
    assert charts.key_figures(report)[2].value == "–"


def test_the_lorenz_curve_has_its_diagonal_and_the_gini_in_its_title() -> None:
    figure = charts.lorenz_curve(sample_report())
    assert _title(figure) == "Courbe de Lorenz des sollicitations — Gini 0,23"
    curve = _trace(figure, "Volontaires éligibles")
    assert list(curve["x"]) == [0.0, 0.25, 0.5, 0.75, 1.0] and list(curve["y"]) == [0.0, 0.0, 0.2, 0.45, 1.0]
    assert list(_trace(figure, "Égalité parfaite")["y"]) == [0, 1]


def test_the_waiting_bars_hold_the_proposals_waiting_and_those_over_7_days() -> None:
    figure = charts.waiting_bars(sample_report("2020"))
    assert list(_trace(figure, "En attente")["y"]) == [4, 3, 2]
    assert list(_trace(figure, "Dont depuis plus de 7 jours")["y"]) == [0, 1, 2]
    assert not figure.layout.annotations
    # none over 7 days: said in words, an all-zero series would draw nothing
    calm = charts.waiting_bars(sample_report("renfort"))
    assert [a.text for a in calm.layout.annotations] == ["Aucune proposition n'a attendu plus de 7 jours."]


def test_the_regions_read_in_french_with_a_dash_where_a_value_is_missing() -> None:
    table = charts.regions_table(sample_report())
    assert table.to_dict("records") == [
        {"Région": "Pays de la Loire", "Postes demandés": "6", "Postes pourvus": "5", "Taux de pourvoi": "83\u202f%",
         "Délai médian": "12 h", "Gini des sollicitations": "0,21", "Volontaires éligibles": "25",
         "Jamais contactés": "4", "Passage en mode crise": "jour 2"},
        {"Région": "Bretagne", "Postes demandés": "4", "Postes pourvus": "2", "Taux de pourvoi": "50\u202f%",
         "Délai médian": "–", "Gini des sollicitations": "–", "Volontaires éligibles": "15",
         "Jamais contactés": "6", "Passage en mode crise": "–"}]
    figure = charts.regions_bars(sample_report())
    assert list(_trace(figure, "Taux de pourvoi")["x"]) == [0.8333, 0.5]
    assert list(_trace(figure, "Part jamais contactée")["x"]) == [4 / 25, 6 / 15]
    assert list(_trace(figure, "Taux de pourvoi")["y"]) == ["Pays de la Loire", "Bretagne"]


def test_the_key_figures_are_written_in_french() -> None:
    figures = {f.label: f.value for f in charts.key_figures(sample_report("2020"))}
    assert figures == {
        "Postes pourvus": "3 / 10", "Taux de pourvoi": "30\u202f%", "Délai médian pour pourvoir": "3 j",
        "Gini des sollicitations": "0,68", "Éligibles jamais contactés": "10 (25\u202f%)",
        "Attentes de plus de 7 jours": "2", "Passages en mode crise": "1", "Viviers nationaux ouverts": "2"}
    gini = next(f for f in charts.key_figures(sample_report("2020")) if f.label == "Gini des sollicitations")
    assert gini.help.endswith("répartis le plus également possible) : 0,46.")
    written_before = sample_report("2020")
    del written_before["final"]["gini_floor"]
    gini = next(f for f in charts.key_figures(written_before) if f.label == "Gini des sollicitations")
    assert gini.help.endswith("Objectif : 0,3 au plus.")
    assert charts.fr_hours(1500.0) == "62,5 j" and charts.fr_hours(47.6) == "48 h" and charts.fr_hours(66) == "66 h"
    assert charts.fr_seconds(75.5) == "1 min 16 s" and charts.fr_seconds(41.2) == "41 s"


def test_the_parameters_are_labelled_in_french() -> None:
    lines = dict(charts.parameter_lines(sample_report()["parameters"]))
    assert lines["Règles"] == "Règles Renfort RH" and lines["Premier jour"] == "04/01/2027"
    assert lines["Échelle du jeu de données"] == "mini (tests)"
    assert lines["Comportement : Chance d'accepter une demande proche, sans sollicitation antérieure"] == "0,55"
    assert lines["Comportement : Échelle de distance de l'acceptation (km)"] == "60"
    assert lines["Comportement : nouveau"] == "3"  # a parameter added since: its own name


# ---------------------------------------------------------------- both rules


def test_the_comparison_overlays_both_rules() -> None:
    reports = {"2020": sample_report("2020"), "renfort": sample_report("renfort")}
    figures = dict(charts.comparison_figures(reports))
    posts = figures["comparaison_postes"]
    assert list(_trace(posts, "Postes pourvus — Règles de 2020")["y"]) == [0, 2, 3]
    assert list(_trace(posts, "Postes pourvus — Règles Renfort RH")["y"]) == [1, 4, 7]
    assert list(_trace(posts, "Postes demandés")["y"]) == [6, 8, 10]
    assert _title(figures["comparaison_lorenz"]) == "Courbe de Lorenz des sollicitations"
    assert figures["comparaison_lorenz"].layout.title.subtitle.text == "Gini : Règles de 2020 0,68 ; Règles Renfort RH 0,23"
    assert figures["comparaison_delais"].layout.title.subtitle.text == "Médianes : Règles de 2020 3 j ; Règles Renfort RH 18 h"
    assert list(_trace(figures["comparaison_delais"], "Règles de 2020")["x"]) == [2.0, 3.0, 5.0]
    assert [shape.x0 for shape in figures["comparaison_delais"].layout.shapes] == [3.0, 0.75]
    # both rules on the same bins, side by side (delays up to 5 days: half-day bins)
    assert {trace["xbins"]["size"] for trace in figures["comparaison_delais"].to_dict()["data"]} == {0.5}
    assert figures["comparaison_delais"].layout.barmode == "group"
    assert list(_trace(figures["comparaison_attentes"], "Règles de 2020")["y"]) == [0, 1, 2]


def test_the_comparison_tables_hold_the_medians_and_the_targets() -> None:
    comparison = sample_comparison()
    medians = charts.medians_table(comparison).set_index("Indicateur (médiane des graines)")
    assert list(medians.columns) == ["Règles de 2020", "Règles Renfort RH"]
    assert medians.loc["Postes pourvus"].tolist() == ["3", "7"]
    assert medians.loc["Délai médian pour pourvoir"].tolist() == ["3 j", "18 h"]
    assert medians.loc["Délai médian sur les postes pourvus sous les deux règles"].tolist() == ["60 h", "–"]
    assert medians.loc["Gini des sollicitations"].tolist() == ["0,68", "0,23"]
    assert medians.loc["Gini le plus bas possible avec les mêmes demandes"].tolist() == ["0,46", "0,12"]
    assert medians.loc["Durée d'une simulation"].tolist() == ["1 min 16 s", "41 s"]
    targets = charts.targets_table(comparison)
    assert targets["Atteint"].tolist() == ["oui", "oui", "non"]
    assert targets["Valeur"].tolist()[0] == "+133 %"
    runs = charts.runs_table(comparison)
    assert runs["Postes pourvus"].tolist() == ["3 / 10", "7 / 10"]
    assert runs["Gini le plus bas possible"].tolist() == ["0,46", "0,12"]
    assert charts.comparison_summary(comparison) == (
        "Comparaison des règles de 2020 et des règles Renfort RH sur la même vague de 4 besoins, 3 jours, "
        "échelle mini (tests), la graine 1.")


# ---------------------------------------------------------------- the HTML files


def _plotly_divs(text: str) -> int:
    return len(re.findall(r'<div id="[^"]+" class="plotly-graph-div"', text))


def html_figures(text: str) -> dict[str, dict]:
    """The figures of an HTML report, by element id: the JSON each Plotly.newPlot call draws."""
    decoder, figures = json.JSONDecoder(), {}
    for match in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', text):
        data, end = decoder.raw_decode(text, match.end())
        layout, _ = decoder.raw_decode(text, re.compile(r",\s*").match(text, end).end())
        figures[match.group(1)] = {"data": data, "layout": layout}
    return figures


def test_the_report_html_opens_offline_and_holds_the_figures(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    write_report_html(sample_report("2020"), path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and '<html lang="fr">' in text
    assert text.count("Plotly.newPlot") == 6 and _plotly_divs(text) == 6
    # plotly.js embedded once (no CDN): the file opens without a network
    assert not re.search(r"<script[^>]*\bsrc=", text) and text.count("* plotly.js v") == 1
    text = html.unescape(text)
    assert "Simulation d'une vague de crise — Règles de 2020" in text
    assert "3 / 10" in text and "0,68" in text and "Pays de la Loire" in text and "jour 2" in text
    figures = html_figures(text)
    assert list(figures) == ["figure-postes", "figure-delais", "figure-lorenz", "figure-sollicitations",
                             "figure-attentes", "figure-regions"]
    assert figures["figure-lorenz"]["layout"]["title"]["text"].endswith("Gini 0,68")
    assert figures["figure-delais"]["layout"]["title"]["text"] == "Délai pour pourvoir un poste"
    assert figures["figure-postes"]["data"][1]["y"] == [0, 2, 3]
    assert figures["figure-sollicitations"]["data"][0]["y"] == [10, 15, 10, 5]


def test_the_comparison_html_holds_both_rules_and_the_targets(tmp_path: Path) -> None:
    write_comparison_directory(tmp_path)
    comparison = json.loads((tmp_path / "comparaison.json").read_text(encoding="utf-8"))
    path = tmp_path / "comparaison.html"
    write_comparison_html(comparison, path)
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc=", text) and text.count("* plotly.js v") == 1
    assert _plotly_divs(text) == 4
    text = html.unescape(text)
    assert "Postes pourvus au jour 30 : au moins +15 %" in text and "+133 %" in text
    assert "Règles de 2020" in text and "Règles Renfort RH" in text and "1 min 16 s" in text
    figures = html_figures(text)
    assert [trace["name"] for trace in figures["figure-comparaison_postes"]["data"]] == [
        "Postes demandés", "Postes pourvus — Règles de 2020", "Postes pourvus — Règles Renfort RH"]
    assert "✘ manqué" in text and text.count("✔ atteint") == 2
    # each run's own report is linked beside it
    assert 'href="2020-graine-1/report.html"' in text


@pytest.mark.parametrize("rules", ["2020", "renfort"])
def test_user_text_in_the_report_is_escaped(tmp_path: Path, rules: str) -> None:
    report = sample_report(rules)
    report["regions"][0]["region"] = "<script>alert(1)</script>"
    write_report_html(report, tmp_path / "r.html")
    assert "<script>alert(1)</script>" not in (tmp_path / "r.html").read_text(encoding="utf-8")
