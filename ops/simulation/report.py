"""The crisis simulator's HTML reports (issue 17): one file that opens anywhere, offline.

`write_report_html` writes a run's report.html from its report.json; `write_comparison_html` writes
comparaison.html from comparaison.json, with the curves of each rules' first-seed run (read from the run folders
beside it) overlaid. The figures are those of the CCS page « Simulation » (ui.simulation_charts); plotly.js is
embedded once, with the first figure, so that the file needs no network. Every text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from core.figures.simulation import REPORT_HTML, first_seed_reports
from ui import simulation_charts as charts

STYLE = """
body { font-family: Arial, sans-serif; color: #161616; margin: 0 auto; max-width: 1180px; padding: 24px; }
h1 { color: #000091; font-size: 1.7rem; margin-bottom: 0.2rem; }
h2 { color: #000091; font-size: 1.3rem; margin-top: 2rem; border-bottom: 2px solid #E3E3FD; padding-bottom: 4px; }
p.lead { color: #3A3A3A; max-width: 60rem; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.92rem; }
th, td { border: 1px solid #DDD; padding: 5px 10px; text-align: left; vertical-align: top; }
th { background: #F5F5FE; }
td.num { text-align: right; white-space: nowrap; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid #E3E3FD; border-radius: 6px; padding: 10px 14px; width: 250px; }
.card .label { color: #555; font-size: 0.85rem; }
.card .value { font-size: 1.5rem; font-weight: bold; color: #000091; margin: 4px 0; }
.card .help { color: #666; font-size: 0.78rem; }
.met { color: #18753C; font-weight: bold; }
.missed { color: #CE0500; font-weight: bold; }
.figure { margin: 1rem 0 1.6rem; }
footer { color: #666; font-size: 0.8rem; margin-top: 2.5rem; }
"""
INTRO = ("Une vague de besoins en renforts arrive, région par région, sur une base de données temporaire propre à "
         "la simulation (jamais la base réelle) ; établissements, volontaires, ARS et CCS y agissent deux fois par "
         "jour simulé au travers des vrais services de la plateforme. Hypothèses de comportement et sources : "
         "docs/simulation.md.")
FOOTER = "Renfort RH — simulateur de crise (python -m core simulate). Chiffres arrondis, fichier autonome."


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + f"\n<footer>{_e(FOOTER)}</footer>\n</body>\n</html>\n")


class _Figures:
    """Each figure as an HTML fragment; plotly.js goes with the first one only."""

    def __init__(self) -> None:
        self.first = True

    def __call__(self, key: str, figure: go.Figure) -> str:
        fragment = figure.to_html(full_html=False, include_plotlyjs=self.first, div_id=f"figure-{key}",
                                  config={"displayModeBar": False, "responsive": True})
        self.first = False
        return f'<div class="figure">{fragment}</div>'


def _table(frame: pd.DataFrame, numeric: tuple[str, ...] = (), links: Mapping[int, str] | None = None,
           verdict: str | None = None) -> str:
    """A frame as an HTML table (every cell escaped). `links`: row → href put on its first cell; `verdict`: the
    column of « oui » / « non » drawn as met / missed."""
    head = "".join(f"<th>{_e(column)}</th>" for column in frame.columns)
    rows = []
    for position, record in enumerate(frame.to_dict("records")):
        cells = []
        for index, (column, value) in enumerate(record.items()):
            text = _e(value)
            if index == 0 and links and position in links:
                text = f'<a href="{_e(links[position])}">{text}</a>'
            if column == verdict:
                text = f'<span class="{"met" if value == "oui" else "missed"}">{"✔ atteint" if value == "oui" else "✘ manqué"}</span>'
            css = ' class="num"' if column in numeric else ""
            cells.append(f"<td{css}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _parameters(lines: list[tuple[str, str]]) -> str:
    return _table(pd.DataFrame(lines, columns=["Paramètre", "Valeur"]))


def _cards(report: Mapping[str, Any]) -> str:
    cards = "".join(f'<div class="card"><div class="label">{_e(f.label)}</div><div class="value">{_e(f.value)}</div>'
                    f'<div class="help">{_e(f.help)}</div></div>' for f in charts.key_figures(report))
    return f'<div class="cards">{cards}</div>'


def report_html(report: Mapping[str, Any]) -> str:
    parameters = report["parameters"]
    title = f"Simulation d'une vague de crise — {parameters.get('rules_label') or charts.rules_label(parameters['rules'])}"
    figure = _Figures()
    body = [f"<h1>{_e(title)}</h1>", f'<p class="lead">{_e(INTRO)}</p>',
            "<h2>Paramètres</h2>", _parameters(charts.parameter_lines(parameters)),
            "<h2>Chiffres clés</h2>", _cards(report), "<h2>Graphiques</h2>"]
    body += [figure(key, fig) for key, fig in charts.report_figures(report)]
    region_numbers = tuple(c for c in charts.REGION_COLUMNS if c not in ("Région", "Passage en mode crise"))
    body += ["<h2>Par région</h2>", _table(charts.regions_table(report), numeric=region_numbers)]
    return _page(title, body)


def write_report_html(report: dict, path: Path) -> None:
    """report.html of one run, beside its report.json."""
    Path(path).write_text(report_html(report), encoding="utf-8")


def comparison_html(comparison: Mapping[str, Any], directory: Path) -> str:
    title = "Simulation d'une vague de crise — comparaison des règles"
    reports = first_seed_reports(dict(comparison), directory)
    figure = _Figures()
    body = [f"<h1>{_e(title)}</h1>", f'<p class="lead">{_e(charts.comparison_summary(comparison))} {_e(INTRO)}</p>']
    targets = charts.targets_table(comparison)
    if not targets.empty:
        body += ["<h2>Objectifs</h2>", _table(targets, verdict="Atteint")]
    medians = charts.medians_table(comparison)
    body += ["<h2>Médianes des graines</h2>", _table(medians, numeric=tuple(medians.columns[1:]))]
    if reports:
        seed = (comparison.get("seeds") or ["?"])[0]
        body.append(f"<h2>Les courbes des règles sur la même vague (graine {_e(seed)})</h2>")
        body += [figure(key, fig) for key, fig in charts.comparison_figures(reports)]
    runs = comparison.get("runs") or []
    links = {position: f"{run['directory']}/{REPORT_HTML}" for position, run in enumerate(runs)
             if (Path(directory) / str(run.get("directory", "")) / REPORT_HTML).is_file()}
    runs_frame = charts.runs_table(comparison)
    body += ["<h2>Chaque simulation</h2>",
             "<p>Le rapport complet de chaque simulation (par région notamment) s'ouvre depuis son nom.</p>",
             _table(runs_frame, numeric=tuple(runs_frame.columns[2:]), links=links)]
    return _page(title, body)


def write_comparison_html(comparison: dict, path: Path) -> None:
    """comparaison.html, in the folder that holds the runs' sub-folders (their report.json are read)."""
    path = Path(path)
    path.write_text(comparison_html(comparison, path.parent), encoding="utf-8")
