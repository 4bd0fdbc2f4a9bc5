"""The tables and the chart of « Appels à candidatures » (the ARS, the national readers): campaigns with their
dossiers counted by state, a campaign's dossiers, the follow-up of its favourable dossiers. Drawn from what
core.campaigns returns; nothing is decided here."""

from __future__ import annotations

import html
import math
import textwrap
from collections import Counter
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.campaigns.scope import STATE_LABELS
from ui.charts import BLUE, GREY, RED, french
from ui.format import fr_date, fr_day

STATE_COLOURS = dict(zip(STATE_LABELS.values(), (GREY, "#FD8D3C", BLUE, RED), strict=True))
LATE_BACKGROUND = "background-color: #FDE2E1"


def campaigns_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One line per campaign: its step (draft, open, closed awaiting the jury, results published), dates and dossiers
    (`id` kept for the selection); the region only when the list spans several. The dossiers by state are in the
    chart above and in the campaign's header: as columns they squeezed the titles, which differ by their last words."""
    columns = ["id", "Appel à candidatures", "Région", "Étape", "Ouverture", "Clôture", "Dossiers"]
    frame = pd.DataFrame([
        {"id": r["id"], "Appel à candidatures": r["title"], "Région": r["region"], "Étape": r["phase"],
         "Ouverture": fr_day(r["opens_at"]), "Clôture": fr_day(r["closes_at"]), "Dossiers": r["dossiers"]}
        for r in rows
    ], columns=columns)
    return frame if frame["Région"].nunique() > 1 else frame.drop(columns=["Région"])


def _plain(text: str) -> str:
    """A title as plain text in plotly, which reads a subset of HTML in its labels and hovers (ui.maps)."""
    return html.escape(text, quote=False)


def _axis_label(title: str) -> str:
    """The whole title, wrapped: the calls of a measure often differ by their last words only (« vague 2027 »)."""
    return "<br>".join(textwrap.wrap(_plain(title), width=48, break_long_words=False)) or " "


def dossiers_chart(rows: list[dict[str, Any]]) -> go.Figure | None:
    """The dossiers of each campaign by state, stacked (None when no campaign has a dossier yet)."""
    shown = [r for r in rows if r["dossiers"]]
    titles = Counter(r["title"] for r in shown)
    long = pd.DataFrame([{"Appel": _axis_label(r["title"] if titles[r["title"]] == 1 else f"{r['title']} (n° {r['id']})"),
                          "Titre": _plain(r["title"]), "État": label, "Dossiers": r["counts"].get(state, 0)}
                         for r in shown for state, label in STATE_LABELS.items()])
    if long.empty:
        return None
    figure = px.bar(long, x="Dossiers", y="Appel", color="État", orientation="h", barmode="stack",
                    title="Dossiers par état", color_discrete_map=STATE_COLOURS, hover_name="Titre",
                    category_orders={"État": list(STATE_LABELS.values())})
    figure.update_layout(xaxis_title=None, yaxis_title=None, legend_title_text="")
    figure.update_yaxes(autorange="reversed")  # the newest campaign first, as in the table
    most = max(r["dossiers"] for r in shown)
    figure.update_xaxes(dtick=max(1, math.ceil(most / 8)), rangemode="tozero")  # whole dossiers only
    lines = sum(label.count("<br>") + 1 for label in long["Appel"].unique())
    return french(figure, height=max(220, 110 + 22 * lines + 24 * long["Appel"].nunique()))


def dossiers_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A campaign's dossiers for its ARS: who, priority, state, what is missing, documents, the jury's decision."""
    return pd.DataFrame([
        {"id": r["id"], "N°": r["id"], "Établissement": r["establishment"], "Structure partenaire": r["partner"] or "",
         "Candidat": r["candidate"], "Priorité": "–" if r["priority"] is None else str(r["priority"]),
         "État": r["state_label"], "Manque": r["missing_count"],
         "Pièces": f"{r['documents']}/{r['documents_required']}", "Avis du jury": r["decision_label"] or ""}
        for r in rows
    ], columns=["id", "N°", "Établissement", "Structure partenaire", "Candidat", "Priorité", "État", "Manque",
                "Pièces", "Avis du jury"])


def _moment(value: Any) -> str:
    return "" if value is None else fr_day(value)


def follow_up_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The favourable dossiers' follow-up: project maintained, doctor's start, who is late (the partner is in the
    dossiers' table: nine columns did not fit the page)."""
    return pd.DataFrame([
        {"Établissement": r["establishment"], "Candidat": r["candidate"], "Maintien du projet": r["project_label"],
         "Répondu le": _moment(r["project_answered_at"]),
         "Prise de poste": r["start_label"], "Médecin en poste le": fr_date(r["doctor_started_on"])
         if r["doctor_started_on"] else "",
         "Relancé le": ", ".join(fr_day(d) for d in r["reminded"]), "En retard": "Oui" if r["late"] else ""}
        for r in rows
    ], columns=["Établissement", "Candidat", "Maintien du projet", "Répondu le",
                "Prise de poste", "Médecin en poste le", "Relancé le", "En retard"])


def late_rows_highlighted(frame: pd.DataFrame) -> Any:
    """The late dossiers' lines tinted red (a pandas Styler st.dataframe draws)."""
    return frame.style.apply(lambda line: [LATE_BACKGROUND if line["En retard"] else ""] * len(line), axis=1)
