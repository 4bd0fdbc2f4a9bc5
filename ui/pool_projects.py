"""Territorial pools as the ARS sees them (« Plateformes territoriales »): the table's frame and the map of the pools by
department, drawn from what core.pools.projects returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.pools.members import decide_join
from core.shared.actions import Action
from ui.actions import run_action
from ui.charts import french
from ui.format import fr_date, fr_int
from ui.maps import departments_outlines_clockwise
from ui.markdown import md

# One colour per state of a department (core.pools.projects.MAP_STATES), from calm to the clawback warning.
STATE_COLOURS = {"aucune": "#ECECF2", "operationnelle": "#18753C", "en_montage": "#6A6AF4", "alerte": "#E1000F"}
NARROW_NBSP = "\u202f"


def euros(amount: int | None) -> str:
    return "–" if amount is None else f"{fr_int(amount)}{NARROW_NBSP}€"


def pools_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The table of pools, one row each: what the ARS follows at a glance."""
    columns = ["id", "Plateforme", "Département", "Lettre d'engagement", "Convention", "Opérationnelle", "Alerte",
               "Membres", "Demandes", "Vivier", "Crédits engagés", "Crédits versés", "Coordination",
               "Établissement support", "Fermée le"]
    return pd.DataFrame([
        {"id": r["id"], "Plateforme": r["name"], "Département": f"{r['department_code']} — {r['department']}",
         "Lettre d'engagement": r["engagement"].label, "Convention": r["convention"].label,
         "Opérationnelle": "Oui" if r["operational"] else "Non",
         "Alerte": "Crédits récupérables" if r["warnings"] else "",
         "Membres": r["members"], "Demandes": r["join_requests"], "Vivier": r["roster"],
         "Crédits engagés": euros(r["committed"]), "Crédits versés": euros(r["paid"]),
         "Coordination": ", ".join(r["coordinators"]) if r["coordinators"] is not None
         else f"{r['coordinator_count']} désigné(s)",
         "Établissement support": r["support"], "Fermée le": fr_date(r["closed_at"].date()) if r["closed_at"] else ""}
        for r in rows
    ], columns=columns)


def pools_map_figure(rows: list[dict[str, Any]], height: int = 460) -> go.Figure:
    """The departments coloured by the state of their pools (the worst when several), framed on those shown; the
    hover names the pools, their members and roster. SVG (plotly geo), like « Vue nationale »: no tiles, no WebGL."""
    frame = pd.DataFrame(rows)
    geojson = departments_outlines_clockwise(frozenset(frame["code"]))
    figure = go.Figure()
    for state, colour in STATE_COLOURS.items():
        part = frame[frame["state"] == state]
        if part.empty:
            continue
        details = [[row["names"] or "aucune plateforme", fr_int(row["members"]), fr_int(row["roster"])]
                   for row in part.to_dict("records")]
        figure.add_trace(go.Choropleth(
            geojson=geojson, locations=part["code"], featureidkey="properties.code", z=[1] * len(part),
            colorscale=[[0, colour], [1, colour]], showscale=False, name=part["state_label"].iloc[0],
            showlegend=True, hovertext=[f"{row['name']} ({row['code']})" for row in part.to_dict("records")],
            customdata=details, marker_line_width=0.6, marker_line_color="#666", marker_opacity=0.95,
            hovertemplate="<b>%{hovertext}</b><br>%{customdata[0]}<br>Établissements membres : %{customdata[1]}"
                          "<br>Vivier : %{customdata[2]} volontaire(s)<extra></extra>"))
    figure.update_geos(fitbounds="locations", visible=False, projection_type="mercator", bgcolor="rgba(0,0,0,0)")
    figure.update_layout(dragmode=False, legend={"orientation": "h", "y": -0.02})
    return french(figure, height=height)


def join_requests_section(requests: list[dict[str, Any]], on_change: Callable[[], None]) -> None:
    """A pool's join requests (core.pools.members.join_requests), with « Accepter » / « Refuser… » for who decides:
    the pool's ARS on « Plateformes territoriales », its coordinator on « Vivier »."""
    if not requests:
        st.caption("Aucune demande d'adhésion en attente.")
        return
    for request in requests:
        with st.container(border=True):
            st.markdown(f"**{md(request['name'])}** — FINESS {request['finess']}, {md(request['city'])}"
                        + (f" ({request['category']})" if request["category"] else "")
                        + f"  \nDemande du {fr_date(request['requested_at'].date())}")
            if Action.VALIDATE not in request["actions"]:
                continue
            left, right = st.columns(2)
            if left.button("Accepter", type="primary", icon=":material/check:", key=f"join_accept_{request['id']}"):
                if run_action(decide_join, member_id=request["id"], accept=True,
                              done=lambda name: f"« {md(name)} » est membre de la plateforme ; ses comptes sont "
                                                "prévenus par courriel."):
                    on_change()
                st.rerun()
            with right.popover("Refuser…", icon=":material/close:"):
                reason = st.text_area("Motif (transmis à l'établissement)", key=f"join_reason_{request['id']}")
                if st.button("Confirmer le refus", key=f"join_refuse_{request['id']}"):
                    if run_action(decide_join, member_id=request["id"], accept=False, reason=reason,
                                  done=lambda name: f"Demande de « {md(name)} » refusée ; l'établissement est "
                                                    "prévenu par courriel."):
                        on_change()
                    st.rerun()
