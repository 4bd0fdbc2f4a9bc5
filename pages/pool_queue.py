"""Territorial pool coordinator: « File des besoins » — the member establishments' open missions, most urgent first,
each with the roster members free to be proposed to it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.pools.coordination import pool_queue
from core.shared.actions import Action
from core.staffing.regulation import urgency_explanation
from ui.actions import read
from ui.candidates import POOL
from ui.format import fr_date, fr_int
from ui.labels import yes_no
from ui.markdown import md
from ui.pool_heading import pool_caption
from ui.selection import rows_key, selection_rows


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([
        # What the coordinator acts on first (urgency, where, what, how many of its members fit), the rest after.
        {"id": r["id"], "Urgence": r["urgency"], "Établissement": r["establishment"], "Profession": r["profession"],
         "Début": fr_date(r["start_date"]), "Fin": fr_date(r["end_date"]),
         "Pourvue": f"POURVUE {r['assigned']}/{r['count']}", "Vivier disponible": r["roster_candidates"],
         "En attente": r["waiting"], "Ville": f"{r['postal_code']} {r['city']}", "EHPAD": yes_no(r["exp_ehpad"]),
         "Véhicule": yes_no(r["needs_vehicle"]), "Week-end": yes_no(r["needs_weekend"])}
        for r in rows
    ])


def _chosen(row: dict) -> None:
    st.markdown(f"**{md(row['establishment'])}** — {row['profession']} du {fr_date(row['start_date'])} au "
                f"{fr_date(row['end_date'])} — POURVUE {row['assigned']}/{row['count']} — urgence {row['urgency']}")
    free = row["roster_candidates"]
    st.caption(f"{free} membre(s) du vivier correspondent à cette mission et sont disponibles." if free else
               "Aucun membre du vivier disponible ne correspond à cette mission : invitez des volontaires de la "
               "région depuis « Vivier ». L'établissement peut aussi choisir lui-même dans le vivier national.")
    st.button("Proposer des membres du vivier", type="primary", icon=":material/send:",
              disabled=Action.PROPOSE not in row["actions"], on_click=POOL.open, args=(row["id"],))


def render() -> None:
    st.title("File des besoins")
    pool_caption()
    st.caption("Les missions ouvertes des établissements membres, non encore pourvues, de la plus urgente à la moins "
               f"urgente. {urgency_explanation()} Les établissements restent libres de choisir tout renfort.")
    queue = read(pool_queue)
    if queue is None:
        return
    if not queue.rows:
        st.info("Aucune mission à pourvoir chez les établissements membres de la plateforme.",
                icon=":material/task_alt:")
        return
    event = st.dataframe(_frame(queue.rows), hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row",
                         column_config={"id": None, "Vivier disponible": st.column_config.NumberColumn(
                             help="Membres du vivier qui correspondent à la mission et sont disponibles")},
                         key=rows_key("pool_queue_table", (r["id"] for r in queue.rows)))
    st.caption(f"{fr_int(queue.total)} mission(s) à pourvoir · cochez la case à gauche d'une mission pour proposer "
               "des membres du vivier.")
    selected = selection_rows(event)
    if selected and selected[0] < len(queue.rows):
        _chosen(queue.rows[selected[0]])
