"""Territorial pool coordinator: « Proposer des membres du vivier » — for a mission of a member establishment, the
roster members matching would list (map, ranked table), pushed to it in the ARS's EN COURS flow."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.pools.coordination import pool_queue, push_roster_members
from core.shared.actions import Action, common
from core.staffing.matching import CandidatePage
from ui.actions import read, run_action
from ui.candidates import POOL as VIEW
from ui.format import fr_date
from ui.pool_heading import pool_caption
from ui.selection import ids_from_rows
from ui.sheet import show_sheet

CHOSEN = VIEW.mission_key


def _mission_choice() -> dict | None:
    queue = read(pool_queue)
    if queue is None:
        return None
    by_id = {r["id"]: r for r in queue.rows if Action.PROPOSE in r["actions"]}
    chosen = st.session_state.get(CHOSEN)
    if not by_id:
        st.info("Aucune mission à pourvoir chez les établissements membres de la plateforme.",
                icon=":material/task_alt:")
        return None
    if chosen not in by_id:
        if chosen is not None:
            st.info("La mission choisie précédemment est maintenant pourvue ou clôturée : la plus urgente de la file "
                    "est affichée à la place.", icon=":material/task_alt:")
        chosen = next(iter(by_id))
    # Written again on every run (see pages/choose.py): the browser gets this run's label, POURVUE x/n included.
    st.session_state[CHOSEN] = chosen
    st.selectbox("Mission (par ordre d'urgence)", list(by_id), key=CHOSEN, on_change=VIEW.first_page,
                 placeholder="Choisissez dans la liste",
                 format_func=lambda i: (f"{by_id[i]['establishment']} — {by_id[i]['profession']} — "
                                        f"{fr_date(by_id[i]['start_date'])} au {fr_date(by_id[i]['end_date'])} — "
                                        f"POURVUE {by_id[i]['assigned']}/{by_id[i]['count']}"))
    return by_id[st.session_state[CHOSEN]]


def _pushed(count: int) -> str:
    return (f"{count} membre(s) du vivier proposé(s) : statut EN COURS. L'établissement et les professionnels sont "
            "prévenus par courriel ; l'établissement va les contacter, puis valider.")


def _push(**arguments: Any) -> None:
    run_action(push_roster_members, done=_pushed, **arguments)
    VIEW.reset_selection()


def _buttons(page: CandidatePage, frame: pd.DataFrame, selected: list[int]) -> None:
    chosen = [page.rows[i] for i in selected if i < len(page.rows)]
    allowed = common(chosen)
    ids = ids_from_rows(frame, selected)
    columns = st.columns(2)
    columns[0].button(f"Proposer ({len(ids)})" if ids else "Proposer", type="primary", icon=":material/send:",
                      disabled=Action.PUSH not in allowed, width="stretch", on_click=_push,
                      kwargs={"mission_id": page.mission.mission_id, "professional_ids": ids},
                      help="Propose les membres cochés à l'établissement (statut EN COURS).")
    if columns[1].button("Voir la fiche", icon=":material/badge:", width="stretch",
                         disabled=Action.SHEET not in allowed or len(ids) != 1):
        show_sheet(ids[0])


def render() -> None:
    st.title("Proposer des membres du vivier")
    pool_caption()
    mission = _mission_choice()
    if mission is None:
        return
    shown = VIEW.for_a_regulator(mission)
    if shown is not None:
        _buttons(*shown)
