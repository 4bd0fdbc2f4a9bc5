"""Establishment: "Choisir" — candidates of a mission on a map and in a ranked table; contact,
validate or refuse them."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.shared.actions import Action, common
from core.staffing.matching import CandidatePage
from core.staffing.missions import dashboard
from core.staffing.workflow import contact_many, refuse, validate
from ui.actions import read, run_action
from ui.candidates import CHOOSE as VIEW
from ui.candidates import mission_criteria
from ui.format import fr_date
from ui.layout import establishment_or_notice
from ui.links import LINKED_MISSION, linked_mission
from ui.markdown import md
from ui.selection import ids_from_rows
from ui.sheet import show_sheet
from ui.state import signed_in_user

CHOSEN_MISSION = VIEW.mission_key


def _mission_choice(establishment_id: int) -> dict | None:
    rows = read(dashboard, establishment_id=establishment_id, statuses=("open",))
    if rows is None:
        return None
    rows = [r for r in rows if Action.CHOOSE in r["actions"]]
    if not rows:
        st.info("Aucune mission ouverte : toutes sont pourvues ou clôturées. Déclarez un « Nouveau besoin ».")
        return None
    by_id = {r["id"]: r for r in rows}
    _mission_from_link(by_id)
    chosen = st.session_state.get(CHOSEN_MISSION)
    if chosen not in by_id:
        if chosen is not None:
            st.info("La mission choisie précédemment est maintenant pourvue ou clôturée : elle ne figure plus "
                    "dans la liste.", icon=":material/task_alt:")
        chosen = rows[0]["id"]
    # Written again on every run, even unchanged: Streamlit then sends the browser this run's label of the mission,
    # with its new POURVUE x/n after a validation. Otherwise the browser keeps the label it was picked with and
    # sends it back at the next run, where it matches no option any more: the page fell back to the first mission.
    st.session_state[CHOSEN_MISSION] = chosen
    st.selectbox("Mission", list(by_id), key=CHOSEN_MISSION, format_func=lambda i: (
        f"{by_id[i]['profession']} — {fr_date(by_id[i]['start_date'])} au {fr_date(by_id[i]['end_date'])} — "
        f"POURVUE {by_id[i]['assigned']}/{by_id[i]['count']}"), on_change=VIEW.first_page, placeholder="Choisissez dans la liste")
    return by_id[st.session_state[CHOSEN_MISSION]]


def _mission_from_link(by_id: dict[int, dict]) -> None:
    """An e-mail's link (« X est intéressé(e) ») names its mission: the page opens on it, once; the address then
    drops it, so that picking another mission in the list is not undone by the next run."""
    if LINKED_MISSION not in st.query_params:
        return
    linked = linked_mission()
    del st.query_params[LINKED_MISSION]
    if linked in by_id:
        st.session_state[CHOSEN_MISSION] = linked
        VIEW.first_page()
    else:  # wrong number, another establishment's, or filled since: the user is told, on their first mission
        st.session_state.pop(CHOSEN_MISSION, None)
        st.info("La mission du lien est pourvue, clôturée ou n'est pas une mission de votre établissement : voici "
                "vos missions à pourvoir.", icon=":material/info:")


def _contacted(outcome: Any) -> str:
    # A failure is core's sentence naming the volunteer: escaped (the flash is Markdown).
    failed = f" Échec pour {len(outcome.failures)} : {md(outcome.failures[0])}" if outcome.failures else ""
    return (f"{outcome.contacted} professionnel(s) contacté(s) : ils sont réservés pour vous. Appelez-les, puis "
            "validez ou refusez leur candidature." + failed)


def _act(service: Any, done: Any, **arguments: Any) -> None:
    """A button's action on the ticked volunteers; the table and the map start afresh afterwards."""
    run_action(service, done=done, **arguments)
    VIEW.reset_selection()


def _buttons(page: CandidatePage, frame: pd.DataFrame, selected: list[int]) -> None:
    chosen = [page.rows[i] for i in selected if i < len(page.rows)]
    allowed = common(chosen)
    ids = ids_from_rows(frame, selected)
    count = len(ids)
    mission = {"mission_id": page.mission.mission_id, "professional_ids": ids}
    columns = st.columns(4)
    columns[0].button(f"Contacter ({count})" if count else "Contacter", type="primary", icon=":material/call:",
                      disabled=Action.CONTACT not in allowed, width="stretch",
                      on_click=_act, args=(contact_many, _contacted), kwargs=mission,
                      help="Réserve les professionnels cochés pour cette mission.")
    columns[1].button("Valider les candidatures", icon=":material/how_to_reg:",
                      disabled=Action.VALIDATE not in allowed, width="stretch", on_click=_act,
                      args=(validate, f"{count} candidature(s) validée(s) : un courriel de confirmation leur est "
                                      "envoyé."), kwargs=mission,
                      help="Pour les professionnels CONTACTÉS retenus.")
    columns[2].button("Refuser les candidatures", icon=":material/person_remove:",
                      disabled=Action.REFUSE not in allowed, width="stretch", on_click=_act,
                      args=(refuse, f"{count} professionnel(s) libéré(s) pour d'autres établissements."),
                      kwargs=mission, help="Rend les professionnels contactés de nouveau disponibles pour tous.")
    if columns[3].button("Voir la fiche", icon=":material/badge:", width="stretch",
                         disabled=Action.SHEET not in allowed or count != 1):
        show_sheet(ids[0])


def render() -> None:
    user = signed_in_user()
    st.title("Choisir des renforts")
    establishment_id = establishment_or_notice(user)
    if establishment_id is None:
        return
    mission = _mission_choice(establishment_id)
    if mission is None:
        return
    st.caption(mission_criteria(mission))
    page = VIEW.search(mission["id"])
    if page is None:
        return
    if page.crisis:
        st.warning("Mode gestion de crise : l'ARS propose elle-même les candidats pour cette profession.",
                   icon=":material/emergency:")
    if page.interested:
        st.success("**Intéressé(e)s, en attente de votre décision** (validez, ou refusez pour les libérer) :\n"
                   + "\n".join(f"- {md(row['sentence'])}." for row in page.interested), icon=":material/how_to_reg:")
    if page.message:
        st.info(md(page.message), icon=":material/info:")
        return
    VIEW.show_map(page)
    frame, selected = VIEW.table(page)
    _buttons(page, frame, selected)
