"""ARS and CCS: "Proposer des candidats" — the candidate search of a mission from the regulator's point
of view (same map and table), pushing volunteers or recording an assignment for the establishment."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.shared.errors import DomainError
from core.staffing.matching import CandidatePage
from core.staffing.regulation import (
    MissionFilters,
    accepts_candidates,
    assign_on_behalf,
    closed_message,
    push,
    region_mission,
    region_missions,
)
from db.session import session_scope
from ui.candidates import PROPOSE as VIEW
from ui.candidates import mission_criteria
from ui.format import fr_date, fr_int
from ui.layout import flash, signed_in_user
from ui.regions import region_choice, region_name
from ui.selection import ids_from_rows
from ui.sheet import show_sheet

PROPOSED_MISSION = VIEW.mission_key
MISSION_CHOICES = 500  # the most urgent open missions listed; a mission chosen elsewhere is read by id and added


def _mission_choice(user, ars_code: str) -> dict | None:  # noqa: ANN001
    chosen = st.session_state.get(PROPOSED_MISSION)
    with session_scope(read_only=True) as session:
        queue = region_missions(session, user, ars_code, MissionFilters(unfilled_only=True), limit=MISSION_CHOICES)
        by_id = {r["id"]: r for r in queue.rows}
        # Chosen in the region table or an alert, it may rank beyond the loaded rows: read it by id.
        extra = region_mission(session, user, ars_code, chosen) if chosen is not None and chosen not in by_id else None
    if extra is not None and accepts_candidates(extra):
        by_id = {extra["id"]: extra, **by_id}
    elif chosen is not None and chosen not in by_id:
        if extra is not None:  # a mission of another region (the CCS changed region) just gives way
            st.info(f"{closed_message(extra)} : la plus prioritaire de la file est affichée à la place.",
                    icon=":material/task_alt:")
        st.session_state.pop(PROPOSED_MISSION, None)
    if not by_id:
        st.info(f"Aucune mission ouverte à pourvoir dans la région {region_name(ars_code)}.")
        return None
    if st.session_state.get(PROPOSED_MISSION) not in by_id:
        st.session_state[PROPOSED_MISSION] = next(iter(by_id))
    more = (f"Les {fr_int(len(queue.rows))} missions les plus prioritaires sur {fr_int(queue.total)} sont listées ; "
            "pour une autre, cochez-la dans « Missions de la région » puis « Proposer des candidats »."
            if queue.total > len(queue.rows) else None)
    st.selectbox("Mission (par ordre de priorité)", list(by_id), key=PROPOSED_MISSION, on_change=VIEW.first_page,
                 help=more,
                 format_func=lambda i: (f"{by_id[i]['establishment']} — {by_id[i]['profession']} — "
                                        f"{fr_date(by_id[i]['start_date'])} au {fr_date(by_id[i]['end_date'])} — "
                                        f"POURVUE {by_id[i]['assigned']}/{by_id[i]['count']}"))
    return by_id[st.session_state[PROPOSED_MISSION]]


def _push(mission_id: int, ids: list[int]) -> None:
    try:
        with session_scope() as session:
            count = push(session, signed_in_user(), mission_id, ids)
    except DomainError as error:
        flash("error", error.message)
    else:
        flash("success", f"{count} professionnel(s) proposé(s) : statut EN COURS. L'établissement et les "
                         "professionnels sont prévenus par courriel ; l'établissement va les contacter.")
    VIEW.reset_selection()


def _assign(mission_id: int, professional_id: int) -> None:
    try:
        with session_scope() as session:
            assign_on_behalf(session, signed_in_user(), mission_id, professional_id)
    except DomainError as error:
        flash("error", error.message)
    else:
        flash("success", "Affectation enregistrée pour le compte de l'établissement ; le professionnel est "
                         "prévenu par courriel.")
    VIEW.reset_selection()


def _buttons(page: CandidatePage, frame: pd.DataFrame, selected: list[int], role: str) -> None:
    chosen = [page.rows[i] for i in selected if i < len(page.rows)]
    ids = ids_from_rows(frame, selected)
    free = bool(chosen) and all(r["status"] == "disponible" and r["proposal_state"] is None for r in chosen)
    columns = st.columns(3)
    columns[0].button(f"Proposer ({len(ids)})" if ids else "Proposer", type="primary", icon=":material/send:",
                      disabled=not free, width="stretch", on_click=_push, args=(page.mission.mission_id, ids),
                      help="Propose les professionnels cochés à l'établissement (statut EN COURS).")
    one = len(chosen) == 1 and chosen[0]["proposal_state"] in (None, "contacte", "en_cours") and role == "ars"
    with columns[1].popover("Affecter pour l'établissement…", icon=":material/how_to_reg:", disabled=not one,
                            width="stretch", help="Enregistre directement l'affectation (un professionnel à la fois)."):
        if one:
            st.write(f"Affecter **{chosen[0]['first_name']} {chosen[0]['last_name']}** à cette mission pour le "
                     "compte de l'établissement ? Le professionnel recevra un courriel de confirmation.")
            st.button("Confirmer l'affectation", type="primary", on_click=_assign,
                      args=(page.mission.mission_id, ids[0]), key="propose_assign_confirm")
    if columns[2].button("Voir la fiche", icon=":material/badge:", disabled=len(ids) != 1, width="stretch"):
        show_sheet(ids[0])


def render() -> None:
    user = signed_in_user()
    st.title("Proposer des candidats")
    ars_code = region_choice(user)
    mission = _mission_choice(user, ars_code)
    if mission is None:
        return
    st.caption(f"{mission['establishment']} ({mission['postal_code']} {mission['city']}) — "
               f"{mission_criteria(mission)}")
    page = VIEW.search(user, mission["id"])
    if page is None:
        return
    if page.message:
        st.info(page.message, icon=":material/info:")
        return
    VIEW.show_map(page)
    frame, selected = VIEW.table(page)
    _buttons(page, frame, selected, user.role)
