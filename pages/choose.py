"""Establishment: "Choisir" — candidates of a mission on a map and in a ranked table; contact,
validate or refuse them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.shared.errors import DomainError
from core.staffing.matching import CandidatePage
from core.staffing.missions import dashboard
from core.staffing.workflow import contact, refuse, validate
from db.session import session_scope
from ui.candidates import CHOOSE as VIEW
from ui.candidates import mission_criteria
from ui.format import fr_date
from ui.layout import establishment_or_notice, flash, signed_in_user
from ui.selection import allowed_actions, ids_from_rows
from ui.sheet import show_sheet

CHOSEN_MISSION = VIEW.mission_key


def _mission_choice(user, establishment_id: int) -> dict | None:  # noqa: ANN001
    with session_scope(read_only=True) as session:
        rows = dashboard(session, user, establishment_id, statuses=("open",))
    rows = [r for r in rows if r["can_choose"]]
    if not rows:
        st.info("Aucune mission ouverte : toutes sont pourvues ou clôturées. Déclarez un « Nouveau besoin ».")
        return None
    by_id = {r["id"]: r for r in rows}
    if st.session_state.get(CHOSEN_MISSION) not in by_id:
        if st.session_state.get(CHOSEN_MISSION) is not None:
            st.info("La mission choisie précédemment est maintenant pourvue ou clôturée : elle ne figure plus "
                    "dans la liste.", icon=":material/task_alt:")
        st.session_state[CHOSEN_MISSION] = rows[0]["id"]
    st.selectbox("Mission", list(by_id), key=CHOSEN_MISSION, format_func=lambda i: (
        f"{by_id[i]['profession']} — {fr_date(by_id[i]['start_date'])} au {fr_date(by_id[i]['end_date'])} — "
        f"POURVUE {by_id[i]['assigned']}/{by_id[i]['count']}"), on_change=VIEW.first_page)
    return by_id[st.session_state[CHOSEN_MISSION]]


def _contact_each(mission_id: int, ids: list[int]) -> None:
    """One transaction per volunteer: losing a race on one does not undo the others."""
    user, won, lost = signed_in_user(), 0, []
    for professional_id in ids:
        try:
            with session_scope() as session:
                contact(session, user, mission_id, professional_id)
            won += 1
        except DomainError as error:
            lost.append(error.message)
    if won:
        flash("success", f"{won} professionnel(s) contacté(s) : ils sont réservés pour vous. Appelez-les, puis "
                         "validez ou refusez leur candidature." + (f" Échec pour {len(lost)} : {lost[0]}" if lost else ""))
    else:
        flash("error", lost[0] if lost else "Aucun professionnel sélectionné.")
    VIEW.reset_selection()


def _decide(action, mission_id: int, ids: list[int], done: str) -> None:  # noqa: ANN001
    """Validate or refuse the ticked volunteers together: all or nothing."""
    try:
        with session_scope() as session:
            action(session, signed_in_user(), mission_id, ids)
    except DomainError as error:
        flash("error", error.message)
    else:
        flash("success", done)
    VIEW.reset_selection()


def _buttons(page: CandidatePage, frame: pd.DataFrame, selected: list[int]) -> None:
    chosen = [page.rows[i] for i in selected if i < len(page.rows)]
    allowed = allowed_actions([r["proposal_state"] for r in chosen], [r["status"] for r in chosen], True)
    ids = ids_from_rows(frame, selected)
    count = len(ids)
    columns = st.columns(4)
    columns[0].button(f"Contacter ({count})" if count else "Contacter", type="primary", icon=":material/call:",
                      disabled=not allowed["contact"], width="stretch",
                      on_click=_contact_each, args=(page.mission.mission_id, ids),
                      help="Réserve les professionnels cochés pour cette mission.")
    columns[1].button("Valider les candidatures", icon=":material/how_to_reg:", disabled=not allowed["validate"],
                      width="stretch", on_click=_decide,
                      args=(validate, page.mission.mission_id, ids,
                            f"{count} candidature(s) validée(s) : un courriel de confirmation leur est envoyé."),
                      help="Pour les professionnels CONTACTÉS retenus.")
    columns[2].button("Refuser les candidatures", icon=":material/person_remove:", disabled=not allowed["refuse"],
                      width="stretch", on_click=_decide,
                      args=(refuse, page.mission.mission_id, ids,
                            f"{count} professionnel(s) libéré(s) pour d'autres établissements."),
                      help="Rend les professionnels contactés de nouveau disponibles pour tous.")
    if columns[3].button("Voir la fiche", icon=":material/badge:", disabled=not allowed["sheet"], width="stretch"):
        show_sheet(ids[0])


def render() -> None:
    user = signed_in_user()
    st.title("Choisir des renforts")
    establishment_id = establishment_or_notice(user)
    if establishment_id is None:
        return
    mission = _mission_choice(user, establishment_id)
    if mission is None:
        return
    st.caption(mission_criteria(mission))
    page = VIEW.search(user, mission["id"])
    if page is None:
        return
    if page.crisis:
        st.warning("Mode gestion de crise : l'ARS propose elle-même les candidats pour cette profession.",
                   icon=":material/emergency:")
    if page.message:
        st.info(page.message, icon=":material/info:")
        return
    VIEW.show_map(page)
    frame, selected = VIEW.table(page)
    _buttons(page, frame, selected)
