"""plotly figures in French formats, drawn from the small frames the indicators return."""

from __future__ import annotations

import textwrap
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from ui.maps import departments_outlines_clockwise

BLUE, RED, GREY = "#000091", "#E1000F", "#A0A0B8"
# One direction only: light = calm → dark = tense (a reader compares shades, never two hues).
TENSION_SCALE = ["#FFF5EB", "#FDD0A2", "#FD8D3C", "#D94801", "#7F2704"]
NO_VOLUNTEER = "#9E9E9E"  # departments with posts to fill and nobody available: a category apart, not « the max »
NO_VOLUNTEER_LABEL = "Aucun volontaire disponible"
# Overseas departments drawn as small separate maps: at their real place they would shrink the mainland.
OVERSEAS = {"971": "Guadeloupe", "972": "Martinique", "973": "Guyane", "974": "La Réunion", "976": "Mayotte"}


def french(figure: go.Figure, height: int = 360) -> go.Figure:
    """Decimal comma, thin-space thousands, sober margins and legend."""
    figure.update_layout(separators=", ", height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         legend={"orientation": "h", "y": -0.2}, font={"family": "Arial, sans-serif", "size": 13})
    return figure


def posts_bars(frame: pd.DataFrame, category: str, title: str, horizontal: bool = False) -> go.Figure:
    """Posts requested vs filled, side by side, per category (department, region, profession)."""
    long = frame.melt(id_vars=[category], value_vars=["Postes demandés", "Postes pourvus"], var_name="Série",
                      value_name="Postes")
    figure = px.bar(long, x="Postes" if horizontal else category, y=category if horizontal else "Postes", color="Série",
                    barmode="group", orientation="h" if horizontal else "v", title=title,
                    color_discrete_map={"Postes demandés": GREY, "Postes pourvus": BLUE})
    figure.update_layout(xaxis_title=None, yaxis_title=None, legend_title_text="")
    order = frame.sort_values(["Postes demandés", "Postes pourvus"], ascending=False)[category].tolist()
    if horizontal:  # the largest first, at the top
        figure.update_yaxes(categoryorder="array", categoryarray=order, autorange="reversed")
    else:
        figure.update_xaxes(categoryorder="array", categoryarray=order)
    return french(figure, height=max(360, 28 * len(frame)) if horizontal else 360)


# Counts of people, one hue from light to dark: zero stays blank, the eye goes to the dark cells.
COUNT_SCALE = ["#E3E3FD", "#9A9AFF", "#000091"]


def short_label(text: str, width: int = 26, lines: int = 2) -> str:
    """A long category label wrapped on at most `lines` lines (plotly's <br>), the rest cut with « … »: axis labels
    then take a fixed, small part of the chart; the full label goes in the hover."""
    wrapped = textwrap.wrap(text, width=width, break_long_words=False) or [text]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1].rstrip(" ,(") + "…"
    return "<br>".join(wrapped)


def volunteers_heatmap(frame: pd.DataFrame, title: str) -> go.Figure:
    """Volunteers by profession (rows, the most numerous at the top, total in the label) and department (columns,
    by code; the name in the hover), the count written in each cell. `frame`: Profession, Département (name),
    Code, Volontaires — one row per pair with volunteers."""
    table = frame.pivot_table(index="Profession", columns="Code", values="Volontaires", aggfunc="sum", fill_value=0)
    totals = table.sum(axis=1).sort_values(ascending=False, kind="stable")
    table = table.loc[totals.index, sorted(table.columns)]
    names = frame.drop_duplicates("Code").set_index("Code")["Département"]
    rows = [f"{short_label(p)} ({totals[p]})" for p in table.index]
    counts = table.to_numpy()
    hover = [[[profession, f"{names[code]} ({code})", int(table.at[profession, code])] for code in table.columns]
             for profession in table.index]
    figure = go.Figure(go.Heatmap(
        z=[[value if value else None for value in row] for row in counts],  # 0: a blank cell, not the palest blue
        x=list(table.columns), y=rows, text=[[str(v) if v else "" for v in row] for row in counts],
        texttemplate="%{text}", textfont={"size": 12}, customdata=hover, colorscale=COUNT_SCALE, showscale=False,
        xgap=2, ygap=2, hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]} : %{customdata[2]} "
                                      "volontaire(s)<extra></extra>"))
    # The department codes on top, under the title: readable without scrolling down a long chart.
    figure.update_layout(title={"text": title, "subtitle": {"text": "En colonnes, les départements (nom au survol)"},
                                "yref": "container", "y": 1, "yanchor": "top", "pad": {"t": 12}},
                         plot_bgcolor="white")
    figure.update_xaxes(side="top", type="category", tickfont={"size": 12})
    figure.update_yaxes(autorange="reversed", type="category", tickfont={"size": 11})
    french(figure, height=max(320, 140 + 34 * len(rows)))
    figure.update_layout(margin={"t": 110})
    return figure


def line(frame: pd.DataFrame, x: str, columns: list[str], title: str) -> go.Figure:
    long = frame.sort_values(x).melt(id_vars=[x], value_vars=columns, var_name="Série", value_name="Nombre")
    figure = px.line(long, x=x, y="Nombre", color="Série", title=title, markers=True,
                     color_discrete_sequence=[BLUE, RED, GREY])
    figure.update_layout(xaxis_title=None, yaxis_title=None, legend_title_text="")
    figure.update_xaxes(tickformat="%d/%m")
    return french(figure)


# Built once per distinct frame and shared by every reader (the figures of the worker's snapshot are the same for
# all): plotly copies and validates each department's outline for every trace, most of a « Vue nationale » run.
# st.plotly_chart copies the figure it is given (to_dict), never changes it: sharing it is safe.
@st.cache_resource(max_entries=256, show_spinner=False)
def choropleth(frame: pd.DataFrame, value: str, hover: list[str], range_color: tuple[float, float],
               title: str | None = None, height: int = 520, legend: bool = True) -> go.Figure:
    """Departments coloured by `value`, framed on the departments shown. Those whose value is missing (posts to
    fill, nobody available) are drawn grey, with their own legend entry. The hover reads « Département » then
    « label : value » lines in French (`hover`: the frame's columns to show).

    Drawn in SVG (plotly's geo), not on a WebGL map (choropleth_map): without a graphics card — a hospital's
    virtual desktop, this server's Chromium — each WebGL map costs seconds to draw, and « Vue nationale » has six
    (docs/performance.md). No tiles either way: readable offline."""
    geojson = departments_outlines_clockwise(frozenset(frame["Code"]))
    shown, missing = frame[frame[value].notna()], frame[frame[value].isna()]
    low, high = range_color
    figure = go.Figure(go.Choropleth(
        geojson=geojson, locations=shown["Code"], featureidkey="properties.code", z=shown[value],
        colorscale=TENSION_SCALE, zmin=low, zmax=high, hovertext=shown["Département"],
        customdata=shown[hover].to_numpy(), showscale=legend, colorbar={"title": {"text": ""}, "thickness": 14},
        name=value))
    if not missing.empty:
        figure.add_trace(go.Choropleth(
            geojson=geojson, locations=missing["Code"], featureidkey="properties.code", z=[1] * len(missing),
            colorscale=[[0, NO_VOLUNTEER], [1, NO_VOLUNTEER]], showscale=False, name=NO_VOLUNTEER_LABEL,
            showlegend=legend, hovertext=missing["Département"], customdata=missing[hover].to_numpy()))
    lines = "".join(f"<br>{column} : %{{customdata[{i}]}}" for i, column in enumerate(hover))
    # A click selects a department: the others keep their colour (plotly would fade them).
    figure.update_traces(marker_line_width=0.6, marker_line_color="#666", marker_opacity=0.9,
                         hovertemplate=f"<b>%{{hovertext}}</b>{lines}<extra></extra>",
                         selected={"marker": {"opacity": 0.9}}, unselected={"marker": {"opacity": 0.9}})
    figure.update_geos(fitbounds="locations", visible=False, projection_type="mercator", bgcolor="rgba(0,0,0,0)")
    figure.update_layout(title=title, dragmode=False, legend={"orientation": "h", "y": -0.05})
    return french(figure, height=height)


def colour_range(values: list[Any]) -> tuple[float, float]:
    numbers = [float(v) for v in values if v is not None and pd.notna(v)]
    return (0.0, max(numbers)) if numbers and max(numbers) > 0 else (0.0, 1.0)


def all_zero(frame: pd.DataFrame, columns: list[str]) -> bool:
    """True when a chart of these columns would draw nothing (no row, or only zeros): plotly would then
    show an empty frame with a −1…1 axis, so the pages say it in a sentence instead."""
    if frame.empty:
        return True
    values = frame[columns].fillna(0)
    return bool((values == 0).all().all())


def selected_location(event: Any) -> str | None:
    """The department (location) of the point clicked on a choropleth drawn with on_select, if any.

    The event is an attribute dict in the browser and a plain dict when a test presets the state."""
    if not event:
        return None
    selection = event.get("selection", {}) if isinstance(event, dict) else getattr(event, "selection", None)
    points = (selection.get("points") if isinstance(selection, dict) else getattr(selection, "points", None)) or []
    location = points[0].get("location") if points else None
    return str(location) if location else None
