"""ARS (its region), CCS: "Professionnels de la région" — search, sheet, verification, unavailability,
assignment on behalf of an establishment."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.places import reference
from core.shared.actions import Action
from core.shared.clock import paris_datetime
from core.staffing.regulation import (
    LISTED_STATUSES,
    MissionFilters,
    ProfessionalFilters,
    assign_on_behalf,
    closed_message,
    region_mission,
    region_missions,
    region_professionals,
    set_verified,
)
from ui.actions import read, run_action
from ui.format import fr_date, fr_int
from ui.labels import PROFESSIONAL_STATUS
from ui.markdown import md
from ui.regions import region_choice, region_name
from ui.selection import rows_key, selection_rows
from ui.sheet import show_sheet
from ui.state import flash, signed_in_user
from ui.unavailability import unavailable_popover

PAGE_SIZE = 50
MISSION_CHOICES = 200  # most urgent missions listed to assign to; the one already picked is kept
PAGE = "professionals_page"


def _first_page() -> None:
    st.session_state[PAGE] = 0


def _filters() -> ProfessionalFilters:
    labels = reference.profession_labels()
    columns = st.columns([3, 3, 3, 2])
    text = columns[0].text_input("Nom, courriel ou commune", key="pros_text", on_change=_first_page)
    profession = columns[1].selectbox("Profession", [None, *labels], key="pros_profession", on_change=_first_page,
                                      format_func=lambda c: "Toutes" if c is None else labels[c], placeholder="Toutes")
    statuses = columns[2].multiselect("Statut", list(LISTED_STATUSES),
                                      format_func=PROFESSIONAL_STATUS.get, key="pros_statuses",
                                      on_change=_first_page, placeholder="Tous")
    verified = columns[3].selectbox("Documents", [None, True, False], key="pros_verified", on_change=_first_page,
                                    format_func={None: "Tous", True: "Vérifiés", False: "À vérifier"}.get, placeholder="Choisissez dans la liste")
    duplicates = st.checkbox("Doublons probables seulement", key="pros_duplicates", on_change=_first_page)
    return ProfessionalFilters(text=text, profession_code=profession, statuses=tuple(statuses), verified=verified,
                               duplicates_only=duplicates)


def _assign(row: dict) -> None:
    mission_id = st.session_state.get(f"pro_mission_{row['id']}")
    if mission_id is None:
        flash("error", "Choisissez la mission.")
        return
    run_action(assign_on_behalf, mission_id=mission_id, professional_id=row["id"],
               done=f"{md(row['first_name'])} {md(row['last_name'])} est affecté(e) ; un courriel de confirmation lui est "
                    "envoyé.")


def _missions_for(row: dict, ars_code: str, chosen: int | None) -> tuple | None:
    """The region's most urgent open missions of the volunteer's profession, and the one already picked here
    when it is no longer among them."""
    def both(session, *, actor):  # noqa: ANN001, ANN202 - called by read() like a service
        queue = region_missions(session, actor=actor, ars_code=ars_code, limit=MISSION_CHOICES,
                                filters=MissionFilters(profession_code=row["profession_code"], unfilled_only=True))
        listed = {m["id"] for m in queue.rows}
        extra = (region_mission(session, actor=actor, ars_code=ars_code, mission_id=chosen)
                 if chosen is not None and chosen not in listed else None)
        return queue, extra

    return read(both)


def _mission_choice(row: dict, ars_code: str) -> None:
    """The mission to assign to; the one already picked is kept first when the queue moved, or reported if filled."""
    key = f"pro_mission_{row['id']}"
    chosen = st.session_state.get(key)
    loaded = _missions_for(row, ars_code, chosen)
    if loaded is None:
        return
    queue, extra = loaded
    by_id = {m["id"]: m for m in queue.rows}
    if extra is not None and Action.PROPOSE in extra["actions"] and extra["profession_code"] == row["profession_code"]:
        by_id = {extra["id"]: extra, **by_id}
    elif chosen is not None and chosen not in by_id:
        if extra is not None and Action.PROPOSE not in extra["actions"]:
            st.info(f"{closed_message(extra)} : choisissez-en une autre.", icon=":material/task_alt:")
        st.session_state.pop(key)
    more = (f"Les {fr_int(len(queue.rows))} missions les plus prioritaires sur {fr_int(queue.total)} sont listées ; "
            "pour une autre, ouvrez-la depuis « Missions de la région » → « Proposer des candidats » → « Affecter "
            "pour l'établissement… »." if queue.total > len(queue.rows) else None)
    st.selectbox("Mission", list(by_id), key=key, index=None, placeholder="Choisir…", help=more,
                 format_func=lambda i: f"{by_id[i]['establishment']} — {fr_date(by_id[i]['start_date'])} au "
                                       f"{fr_date(by_id[i]['end_date'])}")


def _actions(row: dict, ars_code: str) -> None:
    name = f"{md(row['first_name'])} {md(row['last_name'])}"  # typed by the volunteer
    st.markdown(f"**{name}** — {row['profession']} — {PROFESSIONAL_STATUS[row['status']]}"
                + (" · VÉRIFIÉ" if row["verified"] else "")
                + (f" · doublon probable de la fiche n° {row['possible_duplicate_of']}" if row["possible_duplicate_of"] else ""))
    actions = row["actions"]
    columns = st.columns(4)
    if Action.SHEET in actions and columns[0].button("Voir la fiche", icon=":material/badge:", width="stretch"):
        show_sheet(row["id"])
    if Action.VERIFY not in actions:
        return
    columns[1].button("Retirer « VÉRIFIÉ »" if row["verified"] else "Marquer VÉRIFIÉ", icon=":material/verified:",
                      width="stretch", on_click=run_action, args=(set_verified,),
                      kwargs={"professional_id": row["id"], "verified": not row["verified"],
                              "done": "Badge VÉRIFIÉ retiré." if row["verified"] else
                              "Documents vérifiés : badge VÉRIFIÉ."})
    unavailable_popover(columns[2], row, key_prefix="pro")
    why_not = row["why_not"]
    if Action.ASSIGN in actions or Action.ASSIGN in why_not:
        with columns[3].popover("Affecter à une mission…", icon=":material/how_to_reg:", width="stretch",
                                disabled=Action.ASSIGN not in actions, help=why_not.get(Action.ASSIGN)):
            _mission_choice(row, ars_code)
            st.button("Enregistrer l'affectation", type="primary", key=f"pro_assign_{row['id']}", on_click=_assign,
                      args=(row,))


def render() -> None:
    user = signed_in_user()
    st.title("Professionnels de la région")
    ars_code = region_choice(user)
    st.caption(f"ARS {region_name(ars_code)} — volontaires inscrits dans la région.")
    filters = _filters()
    offset = st.session_state.get(PAGE, 0)
    loaded = read(region_professionals, ars_code=ars_code, filters=filters, offset=offset, limit=PAGE_SIZE)
    if loaded is None:
        return
    rows, total = loaded
    if not rows:
        st.info("Aucun professionnel ne correspond.")
        return
    frame = pd.DataFrame([
        {"Nom": r["last_name"], "Prénom": r["first_name"], "Commune": f"{r['postal_code']} {r['city']}",
         "Profession": r["profession"], "Statut": PROFESSIONAL_STATUS[r["status"]],
         "Vérifié": "VÉRIFIÉ" if r["verified"] else "", "Doublon ?": "oui" if r["possible_duplicate_of"] else "",
         "Disponibilités confirmées": paris_datetime(r["availability_confirmed_at"])}
        for r in rows
    ])
    event = st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                         key=rows_key("pros_table", (r["id"] for r in rows)))
    left, middle, right = st.columns([1, 4, 1])
    left.button("◀ Précédents", disabled=offset == 0, key="pros_prev",
                on_click=lambda: st.session_state.update({PAGE: max(0, offset - PAGE_SIZE)}))
    middle.caption(f"Affichage {offset + 1} - {offset + len(rows)} de {fr_int(total)} · cochez un professionnel "
                   "pour agir.")
    right.button("Suivants ▶", disabled=offset + PAGE_SIZE >= total, key="pros_next",
                 on_click=lambda: st.session_state.update({PAGE: offset + PAGE_SIZE}))
    selected = selection_rows(event)
    if selected and selected[0] < len(rows):
        _actions(rows[selected[0]], ars_code)
