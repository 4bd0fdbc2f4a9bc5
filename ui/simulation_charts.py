"""Figures and tables of the crisis simulator's reports (issue 17), in French, from the JSON that
`python -m core simulate` writes (`report.json` of one run, `comparaison.json` of several).

Plain plotly and pandas, no Streamlit: the CCS page « Simulation » draws them with st.plotly_chart, and
ops.simulation.report puts the same figures in the self-contained HTML report. Days are on the x axis by their
number in the wave (« Jour 3 »), the date in the hover: plotly would write dates with English month names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures.simulation import RULE_LABELS
from ui.format import fr_int, fr_percent

BLUE, RED, GREY, LIGHT = "#000091", "#E1000F", "#A0A0B8", "#CACAFB"
RULES_COLOURS = {"2020": RED, "renfort": BLUE}
SCALE_LABELS = {"mini": "mini (tests)", "demo": "démonstration", "national": "nationale"}
DASH = "–"
# The behaviour parameters of ops.simulation.behaviour (docs/simulation.md), in French; an unknown one keeps its name.
BEHAVIOUR_LABELS = {
    "inactive_share": "Part des volontaires inscrits qui ne répondent jamais",
    "answer_rate": "Chance qu'un volontaire actif réponde dans la demi-journée",
    "accept_base": "Chance d'accepter une demande proche, sans sollicitation antérieure",
    "distance_scale_km": "Échelle de distance de l'acceptation (km)",
    "fatigue": "Facteur de fatigue par demande déjà reçue",
    "pause_after": "Demandes reçues après lesquelles un refus met le volontaire en pause",
    "act_rate": "Chance qu'un établissement ouvre la plateforme dans la demi-journée",
    "over_contact": "Contacts par poste manquant à l'ouverture de « Choisir »",
    "patience_days": "Jours avant de refuser un contact sans réponse",
    "forgetful_share": "Part des établissements qui oublient de refuser",
    "reminder_effect": "Chance qu'un établissement oublieux refuse après le rappel",
    "crisis_threshold": "Seuil de tension du passage en mode crise",
    "ars_missions_per_half_day": "Missions traitées par une ARS en crise, par demi-journée",
}

Report = Mapping[str, Any]


# ---------------------------------------------------------------- French numbers


def fr_decimal(value: float | None, digits: int = 1) -> str:
    """0.4213 → « 0,42 » (digits=2); None → « – »."""
    if value is None:
        return DASH
    text = f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")
    return text


def fr_hours(hours: float | None) -> str:
    """A delay in French: under three days in hours (« 18 h », « 48 h »: the usual medians, 42 h beside 48 h, read
    in one unit), beyond in days (« 3 j », « 62,5 j »)."""
    if hours is None:
        return DASH
    if hours < 72:
        return f"{fr_decimal(hours, 0)} h"
    return f"{fr_decimal(hours / 24, 1).removesuffix(',0')} j"


def fr_days(days: float | None) -> str:
    if days is None:
        return DASH
    return f"{fr_decimal(days, 1).removesuffix(',0')} j"


def fr_seconds(seconds: float | None) -> str:
    """A run's wall time: « 48 s », « 1 min 12 s »."""
    if seconds is None:
        return DASH
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def fr_date_text(iso: str | None) -> str:
    """'2027-01-04' → '04/01/2027'."""
    if not iso:
        return DASH
    year, month, day = iso[:10].split("-")
    return f"{day}/{month}/{year}"


def rules_label(rules: str) -> str:
    return RULE_LABELS.get(rules, rules)


def _layout(figure: go.Figure, title: str, height: int = 360, subtitle: str | None = None) -> go.Figure:
    """Decimal comma, thin-space thousands (as ui.charts.french), a short title (a chart may be half the page
    wide) and what it measures in its subtitle, a legend under the chart."""
    heading: dict[str, Any] = {"text": title}
    if subtitle:
        heading["subtitle"] = {"text": subtitle}
    figure.update_layout(title=heading, separators=", ", height=height,
                         margin={"l": 10, "r": 10, "t": 80 if subtitle else 50, "b": 10}, legend={"orientation": "h", "y": -0.25},
                         font={"family": "Arial, sans-serif", "size": 13}, plot_bgcolor="white")
    figure.update_xaxes(showgrid=False, linecolor="#888")
    figure.update_yaxes(gridcolor="#E5E5E5", rangemode="tozero")
    return figure


def _days(report: Report) -> tuple[list[int], list[str]]:
    days = report.get("days") or []
    return [row["day"] for row in days], [fr_date_text(row.get("date")) for row in days]


def _series(report: Report, field: str) -> list[int]:
    return [row[field] for row in report.get("days") or []]


def _empty(figure: go.Figure, text: str) -> go.Figure:
    figure.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                          font={"size": 14, "color": "#555"})
    return figure


# ---------------------------------------------------------------- one run


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: str
    help: str


def key_figures(report: Report) -> list[KeyFigure]:
    """The run's headline, as the page's st.metric and the HTML report's cards show it."""
    final = report["final"]
    delays = final["time_to_fill_hours"]
    eligible = final["eligible_volunteers"]
    return [
        KeyFigure("Postes pourvus", f"{fr_int(final['posts_filled'])} / {fr_int(final['posts_requested'])}",
                  "Postes des besoins de la vague pourvus à la fin de la simulation, sur les postes demandés."),
        KeyFigure("Taux de pourvoi", fr_percent(final["fill_rate"]),
                  "Postes pourvus / postes demandés à la fin de la simulation."),
        KeyFigure("Délai médian pour pourvoir", fr_hours(delays["median"]),
                  f"Du dépôt du besoin à l'affectation, sur {fr_int(delays['count'])} postes pourvus "
                  f"(un quart en moins de {fr_hours(delays['p25'])}, 90 % en moins de {fr_hours(delays['p90'])})."),
        KeyFigure("Gini des sollicitations", fr_decimal(final["gini"], 2),
                  "Inégalité des sollicitations entre les volontaires éligibles à au moins un besoin de la vague : "
                  "0 si chacun est sollicité autant, 1 si un seul l'est. Objectif : 0,3 au plus." + _floor_text(final)),
        KeyFigure("Éligibles jamais contactés",
                  f"{fr_int(final['never_contacted'])} ({fr_percent(final['never_contacted_share'])})",
                  f"Volontaires jamais contactés, sur {fr_int(eligible)} volontaires éligibles à au moins un besoin "
                  f"de la vague ; le plus sollicité l'a été {fr_int(final['max_solicitations'])} fois."),
        KeyFigure("Attentes de plus de 7 jours", fr_int(final["waiting_over_7_days_max"]),
                  "Propositions restées « contacté » ou « proposé par l'ARS » plus de 7 jours, le pire jour de la "
                  f"vague ; attente la plus longue : {fr_days(final['longest_wait_days'])}."),
        KeyFigure("Passages en mode crise", fr_int(final["crisis_switches"]),
                  "Régions passées en mode gestion de crise pendant la simulation."),
        KeyFigure("Viviers nationaux ouverts", fr_int(final["pools_opened"]),
                  "Besoins dont le CCS a ouvert les viviers nationaux sur alerte de l'ARS."),
    ]


def parameter_lines(parameters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The run's parameters, labelled in French (behaviour parameters after, by their own name)."""
    lines = [
        ("Règles", parameters.get("rules_label") or rules_label(parameters.get("rules", ""))),
        ("Graine", str(parameters.get("seed", DASH))),
        ("Jours simulés", fr_int(parameters.get("days"))),
        ("Échelle du jeu de données", SCALE_LABELS.get(parameters.get("scale"), str(parameters.get("scale", DASH)))),
        ("Besoins de la vague", fr_int(parameters.get("wave"))),
        ("Premier jour", fr_date_text(parameters.get("start"))),
    ]
    for name, value in (parameters.get("behaviour") or {}).items():
        number = value if isinstance(value, int) else fr_decimal(value, 4).rstrip("0").rstrip(",")
        lines.append((f"Comportement : {BEHAVIOUR_LABELS.get(name, name)}", str(number)))
    return lines


def posts_over_time(report: Report) -> go.Figure:
    days, dates = _days(report)
    figure = go.Figure()
    for field, name, colour in (("posts_requested", "Postes demandés", GREY), ("posts_filled", "Postes pourvus", BLUE)):
        figure.add_trace(go.Scatter(x=days, y=_series(report, field), name=name, mode="lines+markers",
                                    line={"color": colour, "width": 2.5}, customdata=dates,
                                    hovertemplate=f"Jour %{{x}} (%{{customdata}})<br>{name} : %{{y}}<extra></extra>"))
    figure.update_xaxes(title_text="Jour de la vague", dtick=_tick(days))
    figure.update_yaxes(title_text="Postes (cumul)")
    return _layout(figure, "Postes demandés et pourvus", subtitle="Cumul jour après jour")


def _tick(days: list[int]) -> int:
    return 1 if len(days) <= 10 else 5


def _in_days(hours: list[float]) -> list[float]:
    return [round(h / 24, 4) for h in hours]


def _bins(delays: list[float]) -> dict[str, float]:
    """One bin width for every series of a chart (from 0), readable at the scale of the longest delay."""
    longest = max(delays, default=0.0)
    size = next((width for limit, width in ((3, 0.25), (10, 0.5), (30, 1.0)) if longest <= limit), 2.0)
    return {"start": 0.0, "size": size}


def time_to_fill_histogram(report: Report) -> go.Figure:
    """Every filled post's delay in days, the median marked by a dashed line."""
    delays = _in_days(report.get("time_to_fill_hours") or [])
    median = report["final"]["time_to_fill_hours"]["median"]
    figure = go.Figure()
    if not delays:
        _layout(figure, "Délai pour pourvoir un poste", subtitle="Du dépôt du besoin à l'affectation")
        return _empty(figure, "Aucun poste pourvu : pas de délai à montrer.")
    figure.add_trace(go.Histogram(x=delays, name="Postes pourvus", marker_color=BLUE, xbins=_bins(delays),
                                  marker_line={"color": "white", "width": 1},
                                  hovertemplate="%{x} jours : %{y} postes<extra></extra>"))
    if median is not None:
        figure.add_vline(x=median / 24, line_dash="dash", line_color=RED, line_width=2,
                         annotation_text=f"médiane : {fr_hours(median)}", annotation_position="top right",
                         annotation_font_color=RED)
    figure.update_xaxes(title_text="Délai entre le dépôt du besoin et l'affectation (jours)")
    figure.update_yaxes(title_text="Postes pourvus")
    return _layout(figure, "Délai pour pourvoir un poste",
                   subtitle=f"Du dépôt du besoin à l'affectation — médiane : {fr_hours(median)}")


def lorenz_curve(report: Report) -> go.Figure:
    final = report["final"]
    figure = go.Figure()
    _equality(figure)
    points = final.get("lorenz") or [[0.0, 0.0], [1.0, 1.0]]
    figure.add_trace(_lorenz_trace(points, "Volontaires éligibles", BLUE))
    return _lorenz_layout(figure, f"Courbe de Lorenz des sollicitations — Gini {fr_decimal(final['gini'], 2)}",
                          "Volontaires éligibles à au moins un besoin de la vague")


def _equality(figure: go.Figure) -> None:
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], name="Égalité parfaite", mode="lines",
                                line={"color": GREY, "dash": "dash"}, hoverinfo="skip"))


def _lorenz_trace(points: list[list[float]], name: str, colour: str) -> go.Scatter:
    return go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], name=name, mode="lines",
                      line={"color": colour, "width": 2.5},
                      hovertemplate="%{x:.0%} des volontaires les moins sollicités : %{y:.0%} des sollicitations"
                                    "<extra>" + name + "</extra>")


def _lorenz_layout(figure: go.Figure, title: str, subtitle: str) -> go.Figure:
    figure.update_xaxes(title_text="Part des volontaires éligibles, du moins au plus sollicité", tickformat=".0%",
                        range=[0, 1])
    figure.update_yaxes(title_text="Part des sollicitations", tickformat=".0%", range=[0, 1])
    return _layout(figure, title, height=420, subtitle=subtitle)


def waiting_bars(report: Report) -> go.Figure:
    """Proposals waiting at the end of each day, and those of them waiting for more than 7 days."""
    days, dates = _days(report)
    figure = go.Figure()
    figure.add_trace(go.Bar(x=days, y=_series(report, "waiting"), name="En attente", marker_color=LIGHT,
                            customdata=dates,
                            hovertemplate="Jour %{x} (%{customdata})<br>En attente : %{y}<extra></extra>"))
    figure.add_trace(go.Bar(x=days, y=_series(report, "waiting_over_7_days"), name="Dont depuis plus de 7 jours",
                            marker_color=RED, customdata=dates,
                            hovertemplate="Jour %{x} (%{customdata})<br>Depuis plus de 7 jours : %{y}<extra></extra>"))
    figure.update_layout(barmode="overlay")
    figure.update_xaxes(title_text="Jour de la vague", dtick=_tick(days))
    figure.update_yaxes(title_text="Propositions")
    _layout(figure, "Propositions en attente d'une réponse",
            subtitle="« contacté » ou « proposé par l'ARS », en fin de journée")
    return _none_over_7_days(figure, [report])


def _none_over_7_days(figure: go.Figure, reports: list[Report]) -> go.Figure:
    """Said in words when no proposal waited more than 7 days: an all-zero series draws nothing."""
    if not any(_series(report, "waiting_over_7_days") and max(_series(report, "waiting_over_7_days"))
               for report in reports):
        figure.add_annotation(text="Aucune proposition n'a attendu plus de 7 jours.", showarrow=False, xref="paper",
                              yref="paper", x=0.5, y=0.98, yanchor="top", font={"size": 13, "color": "#18753C"},
                              bgcolor="rgba(255,255,255,0.8)")
    return figure


def solicitations_bars(report: Report) -> go.Figure:
    """How many eligible volunteers were asked 0, 1, 2… times: a fair wave has few at 0 and none far right."""
    histogram = report.get("solicitations_histogram") or []
    figure = go.Figure(go.Bar(x=[k for k, _ in histogram], y=[n for _, n in histogram], name="Volontaires éligibles",
                              marker_color=[RED if k == 0 else BLUE for k, _ in histogram],
                              hovertemplate="Sollicités %{x} fois : %{y} volontaires<extra></extra>"))
    figure.update_xaxes(title_text="Nombre de sollicitations reçues pendant la vague", dtick=1)
    figure.update_yaxes(title_text="Volontaires éligibles")
    return _layout(figure, "Sollicitations par volontaire",
                   subtitle="Volontaires éligibles selon le nombre de demandes reçues")


REGION_COLUMNS = ("Région", "Postes demandés", "Postes pourvus", "Taux de pourvoi", "Délai médian",
                  "Gini des sollicitations", "Volontaires éligibles", "Jamais contactés", "Passage en mode crise")


def _by_posts(report: Report) -> list[Mapping[str, Any]]:
    """The regions, the most requested first."""
    return sorted(report.get("regions") or [], key=lambda r: (-r["posts_requested"], r["region"]))


def regions_table(report: Report) -> pd.DataFrame:
    """One row per region, as text in French (a missing value reads « – », never None)."""
    rows = []
    for region in _by_posts(report):
        crisis = region.get("crisis_day")
        rows.append({
            "Région": region["region"],
            "Postes demandés": fr_int(region["posts_requested"]),
            "Postes pourvus": fr_int(region["posts_filled"]),
            "Taux de pourvoi": fr_percent(region["fill_rate"]),
            "Délai médian": fr_hours(region.get("median_time_to_fill_hours")),
            "Gini des sollicitations": fr_decimal(region.get("gini"), 2),
            "Volontaires éligibles": fr_int(region["eligible_volunteers"]),
            "Jamais contactés": fr_int(region["never_contacted"]),
            "Passage en mode crise": DASH if crisis is None else f"jour {crisis}",
        })
    return pd.DataFrame(rows, columns=list(REGION_COLUMNS))


def regions_bars(report: Report) -> go.Figure:
    """Per region (the most requested at the top): fill rate, and the share of its eligible volunteers never
    contacted."""
    regions = _by_posts(report)
    names = [r["region"] for r in regions]
    never = [r["never_contacted"] / r["eligible_volunteers"] if r["eligible_volunteers"] else 0.0 for r in regions]
    figure = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                           subplot_titles=("Taux de pourvoi", "Part des éligibles jamais contactés"))
    figure.add_trace(go.Bar(y=names, x=[r["fill_rate"] for r in regions], orientation="h", name="Taux de pourvoi",
                            marker_color=BLUE, customdata=[[r["posts_filled"], r["posts_requested"]] for r in regions],
                            hovertemplate="%{y} : %{x:.0%} (%{customdata[0]} / %{customdata[1]} postes)"
                                          "<extra></extra>"), row=1, col=1)
    figure.add_trace(go.Bar(y=names, x=never, orientation="h", name="Part jamais contactée", marker_color=RED,
                            customdata=[[r["never_contacted"], r["eligible_volunteers"]] for r in regions],
                            hovertemplate="%{y} : %{x:.0%} (%{customdata[0]} sur %{customdata[1]} volontaires)"
                                          "<extra></extra>"), row=1, col=2)
    figure.update_xaxes(tickformat=".0%", range=[0, 1])
    figure.update_yaxes(autorange="reversed")
    figure = _layout(figure, "Pourvoi et volontaires jamais contactés, par région",
                     height=max(320, 140 + 26 * len(names)))
    figure.update_layout(showlegend=False)
    return figure


def report_figures(report: Report) -> list[tuple[str, go.Figure]]:
    """Every chart of one run, with a stable key (the page's widget keys, the HTML's element ids)."""
    return [("postes", posts_over_time(report)), ("delais", time_to_fill_histogram(report)),
            ("lorenz", lorenz_curve(report)), ("sollicitations", solicitations_bars(report)),
            ("attentes", waiting_bars(report)), ("regions", regions_bars(report))]


# ---------------------------------------------------------------- both rules on the same crisis


def compared_posts(reports: Mapping[str, Report]) -> go.Figure:
    """Posts filled under each rules, with the posts requested (the same wave for both, same seed)."""
    figure = go.Figure()
    first = next(iter(reports.values()))
    days, dates = _days(first)
    figure.add_trace(go.Scatter(x=days, y=_series(first, "posts_requested"), name="Postes demandés", mode="lines",
                                line={"color": GREY, "dash": "dash", "width": 2}, customdata=dates,
                                hovertemplate="Jour %{x} (%{customdata})<br>Postes demandés : %{y}<extra></extra>"))
    for rules, report in reports.items():
        days, dates = _days(report)
        name = f"Postes pourvus — {rules_label(rules)}"
        figure.add_trace(go.Scatter(x=days, y=_series(report, "posts_filled"), name=name, mode="lines+markers",
                                    line={"color": RULES_COLOURS.get(rules, BLUE), "width": 2.5}, customdata=dates,
                                    hovertemplate=f"Jour %{{x}} (%{{customdata}})<br>{name} : %{{y}}<extra></extra>"))
    figure.update_xaxes(title_text="Jour de la vague", dtick=_tick(days))
    figure.update_yaxes(title_text="Postes (cumul)")
    return _layout(figure, "Postes pourvus selon les règles", subtitle="La même vague, cumul jour après jour")


def compared_time_to_fill(reports: Mapping[str, Report]) -> go.Figure:
    figure = go.Figure()
    bins = _bins([d for report in reports.values() for d in _in_days(report.get("time_to_fill_hours") or [])])
    for rules, report in reports.items():
        delays = _in_days(report.get("time_to_fill_hours") or [])
        colour = RULES_COLOURS.get(rules, BLUE)
        figure.add_trace(go.Histogram(x=delays, name=rules_label(rules), marker_color=colour, xbins=bins,
                                      hovertemplate="%{x} jours : %{y} postes<extra>" + rules_label(rules) + "</extra>"))
        median = report["final"]["time_to_fill_hours"]["median"]
        if median is not None:
            figure.add_vline(x=median / 24, line_dash="dash", line_color=colour, line_width=2)
    medians = " ; ".join(f"{rules_label(rules)} {fr_hours(report['final']['time_to_fill_hours']['median'])}"
                         for rules, report in reports.items())
    figure.update_layout(barmode="group", bargap=0.1)  # side by side on the same bins
    figure.update_xaxes(title_text="Délai entre le dépôt du besoin et l'affectation (jours)")
    figure.update_yaxes(title_text="Postes pourvus")
    if not any(report.get("time_to_fill_hours") for report in reports.values()):
        _empty(figure, "Aucun poste pourvu : pas de délai à montrer.")
    return _layout(figure, "Délai pour pourvoir un poste", subtitle=f"Médianes : {medians}")


def compared_lorenz(reports: Mapping[str, Report]) -> go.Figure:
    figure = go.Figure()
    _equality(figure)
    for rules, report in reports.items():
        points = report["final"].get("lorenz") or [[0.0, 0.0], [1.0, 1.0]]
        figure.add_trace(_lorenz_trace(points, rules_label(rules), RULES_COLOURS.get(rules, BLUE)))
    ginis = " ; ".join(f"{rules_label(rules)} {fr_decimal(report['final']['gini'], 2)}"
                       for rules, report in reports.items())
    return _lorenz_layout(figure, "Courbe de Lorenz des sollicitations", f"Gini : {ginis}")


def compared_waiting(reports: Mapping[str, Report]) -> go.Figure:
    figure = go.Figure()
    days: list[int] = []
    for rules, report in reports.items():
        days, dates = _days(report)
        figure.add_trace(go.Bar(x=days, y=_series(report, "waiting_over_7_days"), name=rules_label(rules),
                                marker_color=RULES_COLOURS.get(rules, BLUE), customdata=dates,
                                hovertemplate="Jour %{x} (%{customdata})<br>Depuis plus de 7 jours : %{y}"
                                              "<extra>" + rules_label(rules) + "</extra>"))
    figure.update_layout(barmode="group")
    figure.update_xaxes(title_text="Jour de la vague", dtick=_tick(days))
    figure.update_yaxes(title_text="Propositions")
    _layout(figure, "Attentes de plus de 7 jours", subtitle="Propositions sans réponse depuis plus de 7 jours, "
                                                           "en fin de journée")
    return _none_over_7_days(figure, list(reports.values()))


def _floor_text(final: Report) -> str:
    floor = final.get("gini_floor")  # reports written before it was measured do not have it
    return "" if floor is None else (
        f" Le plus bas possible avec les mêmes demandes (chaque besoin sollicitant autant de ses éligibles, répartis "
        f"le plus également possible) : {fr_decimal(floor, 2)}.")


def comparison_figures(reports: Mapping[str, Report]) -> list[tuple[str, go.Figure]]:
    """The curves of both rules overlaid (`reports`: rules → the report of the first seed)."""
    if not reports:
        return []
    return [("comparaison_postes", compared_posts(reports)), ("comparaison_delais", compared_time_to_fill(reports)),
            ("comparaison_lorenz", compared_lorenz(reports)), ("comparaison_attentes", compared_waiting(reports))]


MEDIAN_ROWS = (
    ("posts_filled", "Postes pourvus", fr_int),
    ("fill_rate", "Taux de pourvoi", fr_percent),
    ("median_time_to_fill_hours", "Délai médian pour pourvoir", fr_hours),
    ("median_time_to_fill_both_filled_hours", "Délai médian sur les postes pourvus sous les deux règles", fr_hours),
    ("gini", "Gini des sollicitations", lambda v: fr_decimal(v, 2)),
    ("gini_floor", "Gini le plus bas possible avec les mêmes demandes", lambda v: fr_decimal(v, 2)),
    ("never_contacted_share", "Volontaires éligibles jamais contactés", fr_percent),
    ("waiting_over_7_days_max", "Attentes de plus de 7 jours (au plus)", fr_int),
    ("seconds", "Durée d'une simulation", fr_seconds),
)


def medians_table(comparison: Report) -> pd.DataFrame:
    """The median over the seeds of each figure, one column per rules."""
    medians = comparison.get("median") or {}
    rules = [r for r in comparison.get("rules") or medians if r in medians]
    rows = [{"Indicateur (médiane des graines)": label,
             **{rules_label(r): show(medians[r].get(field)) for r in rules}}
            for field, label, show in MEDIAN_ROWS]
    return pd.DataFrame(rows, columns=["Indicateur (médiane des graines)", *(rules_label(r) for r in rules)])


def targets_table(comparison: Report) -> pd.DataFrame:
    rows = [{"Objectif": target["label"], "Valeur": str(target["value"]),
             "Atteint": "oui" if target["met"] else "non"} for target in comparison.get("targets") or []]
    return pd.DataFrame(rows, columns=["Objectif", "Valeur", "Atteint"])


RUN_COLUMNS = ("Règles", "Graine", "Postes pourvus", "Taux de pourvoi", "Délai médian", "Gini des sollicitations",
               "Gini le plus bas possible", "Jamais contactés", "Attentes de plus de 7 jours (au plus)")


def runs_table(comparison: Report) -> pd.DataFrame:
    """Every run of the comparison, one row each."""
    rows = []
    for run in comparison.get("runs") or []:
        final = run["final"]
        rows.append({
            "Règles": rules_label(run["rules"]), "Graine": str(run["seed"]),
            "Postes pourvus": f"{fr_int(final['posts_filled'])} / {fr_int(final['posts_requested'])}",
            "Taux de pourvoi": fr_percent(final["fill_rate"]),
            "Délai médian": fr_hours(final["time_to_fill_hours"]["median"]),
            "Gini des sollicitations": fr_decimal(final["gini"], 2),
            "Gini le plus bas possible": fr_decimal(final.get("gini_floor"), 2),
            "Jamais contactés": fr_percent(final["never_contacted_share"]),
            "Attentes de plus de 7 jours (au plus)": fr_int(final["waiting_over_7_days_max"]),
        })
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def comparison_summary(comparison: Report) -> str:
    """One French sentence: what was compared, on what."""
    seeds = comparison.get("seeds") or []
    rules = " et ".join("des " + _lower_first(rules_label(r)) for r in comparison.get("rules") or [])
    seeds_text = (f"la graine {seeds[0]}" if len(seeds) == 1
                  else f"{len(seeds)} graines ({', '.join(map(str, seeds))})")
    scale = SCALE_LABELS.get(comparison.get("scale"), str(comparison.get("scale", DASH)))
    return (f"Comparaison {rules} sur la même vague de {fr_int(comparison.get('wave'))} besoins, "
            f"{fr_int(comparison.get('days'))} jours, échelle {scale}, {seeds_text}.")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
