"""Establishment: "Voir affectation professionnels" — assigned staff, cancellation, Excel export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.figures.exports import export_assigned_staff, export_filename
from core.shared.actions import Action
from core.shared.clock import paris_today
from core.shared.validation import format_phone
from core.staffing.missions import assigned_staff
from core.staffing.workflow import cancel_assignment
from ui.actions import run_action, show_refusal
from ui.downloads import content_key, prepared_download
from ui.format import fr_date
from ui.layout import establishment_data
from ui.markdown import md
from ui.selection import rows_key, selection_rows
from ui.sheet import show_sheet
from ui.state import signed_in_user


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([
        {"Nom": r["last_name"], "Prénom": r["first_name"], "Profession": r["profession"],
         "Téléphone": format_phone(r["phone"]), "Courriel": r["email"], "Mission": r["mission"],
         "Début": fr_date(r["start_date"]), "Fin": fr_date(r["end_date"])}
        for r in rows
    ])


def _cancel(row: dict) -> None:
    run_action(cancel_assignment, mission_id=row["mission_id"], professional_id=row["professional_id"],
               reason=st.session_state.get(f"cancel_reason_{row['proposal_id']}", ""),
               done=f"Affectation de {md(row['first_name'])} {md(row['last_name'])} annulée ; la mission est rouverte et le "
                    "professionnel prévenu par courriel.")


def _actions(row: dict) -> None:
    st.markdown(f"**{md(row['first_name'])} {md(row['last_name'])}** — {row['mission']} du {fr_date(row['start_date'])} "
                f"au {fr_date(row['end_date'])}")
    left, right, _ = st.columns([1, 1, 2])
    if Action.SHEET in row["actions"] and left.button("Voir la fiche", icon=":material/badge:", width="stretch"):
        show_sheet(row["professional_id"])
    if Action.CANCEL not in row["actions"]:
        return
    with right.popover("Annuler l'affectation…", icon=":material/event_busy:", width="stretch"):
        st.caption("Absence, changement de programme : la mission est rouverte et le professionnel prévenu.")
        st.text_area("Motif de l'annulation *", key=f"cancel_reason_{row['proposal_id']}")
        st.button("Confirmer l'annulation", type="primary", on_click=_cancel, args=(row,),
                  key=f"cancel_{row['proposal_id']}")


def _export(establishment_id: int, establishment_name: str, rows: list[dict]) -> None:
    """« Préparer la liste » builds the .xlsx now (a write: the export is recorded), then « Télécharger »."""
    def build() -> bytes | None:
        outcome = run_action(export_assigned_staff, establishment_id=establishment_id, on_error=show_refusal)
        return outcome.value if outcome else None

    shown = [{k: v for k, v in row.items() if k != "actions"} for row in rows]  # a new assignment, a new file
    prepared_download(key=content_key(f"assigned_staff_{establishment_id}", shown),
                      label="Télécharger la liste (.xlsx)", prepare_label="Préparer la liste (.xlsx)",
                      file_name=export_filename("affectations", establishment_name, paris_today()),
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", build=build,
                      help="Construit le fichier Excel des professionnels affectés ; l'export est inscrit au journal.")


def render() -> None:
    user = signed_in_user()
    st.title("Professionnels affectés")
    loaded = establishment_data(user, assigned_staff)
    if loaded is None:
        return
    establishment, rows = loaded
    st.caption(f"{md(establishment.name)} — tous les renforts affectés à vos missions.")
    if not rows:
        st.info("Aucun professionnel affecté pour l'instant.")
        return
    _export(establishment.id, establishment.name, rows)
    event = st.dataframe(_frame(rows), hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row",
                         key=rows_key("assignments_table", (r["proposal_id"] for r in rows)))
    st.caption("Cochez la case à gauche d'un professionnel pour voir sa fiche ou annuler son affectation.")
    selected = selection_rows(event)
    if selected and selected[0] < len(rows):
        _actions(rows[selected[0]])
