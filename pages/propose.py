"""ARS and CCS: "Proposer des candidats" — the candidate search of a mission from the regulator's point
of view (same map and table), pushing volunteers or recording an assignment for the establishment."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.shared.actions import Action, common
from core.staffing.matching import CandidatePage
from core.staffing.regulation import (
    MissionFilters,
    MissionQueue,
    assign_on_behalf,
    closed_message,
    push,
    region_mission,
    region_missions,
)
from ui.actions import read, run_action
from ui.candidates import PROPOSE as VIEW
from ui.format import fr_date, fr_int
from ui.markdown import md
from ui.regions import region_choice, region_name
from ui.selection import ids_from_rows
from ui.sheet import show_sheet
from ui.state import signed_in_user

PROPOSED_MISSION = VIEW.mission_key
MISSION_CHOICES = 500  # the most urgent open missions listed; a mission chosen elsewhere is read by id and added


def _queue_and_chosen(ars_code: str, chosen: int | None) -> tuple[MissionQueue, dict[str, Any] | None] | None:
    """The region's queue of missions to staff and, when it lies beyond it, the mission chosen on another page."""
    def both(session, *, actor) -> tuple[MissionQueue, dict[str, Any] | None]:  # noqa: ANN001 - a service's
        queue = region_missions(session, actor=actor, ars_code=ars_code, filters=MissionFilters(unfilled_only=True),
                                limit=MISSION_CHOICES)
        listed = {r["id"] for r in queue.rows}
        # Chosen in the region table or an alert, it may rank beyond the loaded rows: read it by id.
        extra = (region_mission(session, actor=actor, ars_code=ars_code, mission_id=chosen)
                 if chosen is not None and chosen not in listed else None)
        return queue, extra

    return read(both)


def _mission_choice(ars_code: str) -> dict | None:
    chosen = st.session_state.get(PROPOSED_MISSION)
    loaded = _queue_and_chosen(ars_code, chosen)
    if loaded is None:
        return None
    queue, extra = loaded
    by_id = {r["id"]: r for r in queue.rows}
    if extra is not None and Action.PROPOSE in extra["actions"]:
        by_id = {extra["id"]: extra, **by_id}
    elif chosen is not None and chosen not in by_id:
        if extra is not None:  # a mission of another region (the CCS changed region) just gives way
            st.info(f"{closed_message(extra)} : la plus prioritaire de la file est affichée à la place.",
                    icon=":material/task_alt:")
        st.session_state.pop(PROPOSED_MISSION, None)
    if not by_id:
        st.info(f"Aucune mission ouverte à pourvoir dans la région {region_name(ars_code)}.")
        return None
    # Written again on every run, even unchanged: the browser then shows this run's label — its POURVUE x/n after an
    # assignment — instead of the stale one, which it would send back and which would match no option (pages/choose.py).
    shown = st.session_state.get(PROPOSED_MISSION)
    st.session_state[PROPOSED_MISSION] = shown if shown in by_id else next(iter(by_id))
    more = (f"Les {fr_int(len(queue.rows))} missions les plus prioritaires sur {fr_int(queue.total)} sont listées ; "
            "pour une autre, cochez-la dans « Missions de la région » puis « Proposer des candidats »."
            if queue.total > len(queue.rows) else None)
    st.selectbox("Mission (par ordre de priorité)", list(by_id), key=PROPOSED_MISSION, on_change=VIEW.first_page,
                 help=more,
                 format_func=lambda i: (f"{by_id[i]['establishment']} — {by_id[i]['profession']} — "
                                        f"{fr_date(by_id[i]['start_date'])} au {fr_date(by_id[i]['end_date'])} — "
                                        f"POURVUE {by_id[i]['assigned']}/{by_id[i]['count']}"), placeholder="Choisissez dans la liste")
    return by_id[st.session_state[PROPOSED_MISSION]]


def _act(service: Any, done: Any, **arguments: Any) -> None:
    run_action(service, done=done, **arguments)
    VIEW.reset_selection()


def _pushed(count: int) -> str:
    return (f"{count} professionnel(s) proposé(s) : statut EN COURS. L'établissement et les professionnels sont "
            "prévenus par courriel ; l'établissement va les contacter.")


def _buttons(page: CandidatePage, frame: pd.DataFrame, selected: list[int]) -> None:
    chosen = [page.rows[i] for i in selected if i < len(page.rows)]
    allowed = common(chosen)
    ids = ids_from_rows(frame, selected)
    mission_id = page.mission.mission_id
    columns = st.columns(3)
    columns[0].button(f"Proposer ({len(ids)})" if ids else "Proposer", type="primary", icon=":material/send:",
                      disabled=Action.PUSH not in allowed, width="stretch", on_click=_act, args=(push, _pushed),
                      kwargs={"mission_id": mission_id, "professional_ids": ids},
                      help="Propose les professionnels cochés à l'établissement (statut EN COURS).")
    one = len(chosen) == 1 and Action.ASSIGN in allowed
    with columns[1].popover("Affecter pour l'établissement…", icon=":material/how_to_reg:", disabled=not one,
                            width="stretch", help="Enregistre directement l'affectation (un professionnel à la fois)."):
        if one:
            st.write(f"Affecter **{md(chosen[0]['first_name'])} {md(chosen[0]['last_name'])}** à cette mission pour le "
                     "compte de l'établissement ? Le professionnel recevra un courriel de confirmation.")
            st.button("Confirmer l'affectation", type="primary", on_click=_act, key="propose_assign_confirm",
                      args=(assign_on_behalf, "Affectation enregistrée pour le compte de l'établissement ; le "
                                              "professionnel est prévenu par courriel."),
                      kwargs={"mission_id": mission_id, "professional_id": ids[0]})
    if columns[2].button("Voir la fiche", icon=":material/badge:", width="stretch",
                         disabled=Action.SHEET not in allowed or len(ids) != 1):
        show_sheet(ids[0])


def render() -> None:
    user = signed_in_user()
    st.title("Proposer des candidats")
    ars_code = region_choice(user)
    mission = _mission_choice(ars_code)
    if mission is None:
        return
    shown = VIEW.for_a_regulator(mission)
    if shown is not None:
        _buttons(*shown)
