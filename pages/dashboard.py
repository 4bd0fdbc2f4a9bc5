"""Establishment: "Tableau de bord" — processing of the establishment's reinforcement needs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.places import reference
from core.shared.actions import Action
from core.staffing.missions import dashboard, dashboard_figures, duplicate_mission
from core.staffing.workflow import close_mission
from ui.actions import read, run_action
from ui.candidates import CHOOSE
from ui.format import fr_date, fr_int
from ui.labels import MISSION_STATUS, yes_no
from ui.layout import establishment_data
from ui.links import page_link
from ui.markdown import md
from ui.mission_edit import edit_mission_dialog
from ui.selection import rows_key, selection_rows
from ui.state import JUST_FILED, signed_in_user

GENERATION = "dashboard_generation"  # bumped after an action: the table starts with nothing ticked
SORTS = {"start": "Date de début", "created": "Dernières créées", "profession": "Profession"}
STATUS_FILTER = {"open": "Ouverte", "filled": "Pourvue", "pending": "En attente de validation",
                 "closed": "Clôturée"}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([
        {"id": r["id"], "Nombre": r["count"], "Profession": r["profession"], "Spécialité": r["specialty"] or "",
         "Début": fr_date(r["start_date"]), "Fin": fr_date(r["end_date"]),
         "Pourvue": f"POURVUE {r['assigned']}/{r['count']}", "Statut": MISSION_STATUS.get(r["status"], r["status"]),
         "Contactés": r["contacted"] + r["pushed"], "EHPAD": yes_no(r["exp_ehpad"]),
         "Réanimation": yes_no(r["exp_reanimation"]), "Véhicule": yes_no(r["needs_vehicle"]),
         "Week-end": yes_no(r["needs_weekend"]), "Vaccination": yes_no(r["vaccination"])}
        for r in rows
    ], columns=["id", "Nombre", "Profession", "Spécialité", "Début", "Fin", "Pourvue", "Statut", "Contactés", "EHPAD",
                "Réanimation", "Véhicule", "Week-end", "Vaccination"])


def _figures(rows: list[dict]) -> None:
    figures = dashboard_figures(rows)
    columns = st.columns(4)
    columns[0].metric("Missions ouvertes", fr_int(figures.open_missions), border=True)
    columns[1].metric("Postes à pourvoir", fr_int(figures.posts_to_fill), border=True)
    columns[2].metric("Professionnels contactés", fr_int(figures.waiting), border=True,
                      help="Réservés pour vous en attente de votre décision : validez ou refusez-les vite.")
    columns[3].metric("Professionnels affectés", fr_int(figures.assigned), border=True)


def _filters() -> dict:
    left, middle, right, sort = st.columns([4, 3, 2, 2])
    statuses = left.multiselect("Statut", list(STATUS_FILTER), format_func=STATUS_FILTER.get,
                                default=["open", "filled", "pending"], key="dash_status", placeholder="Tous")
    labels = reference.profession_labels()
    profession = middle.selectbox("Profession", [None, *labels], format_func=lambda c: "Toutes" if c is None else labels[c],
                                  key="dash_profession", placeholder="Toutes")
    right.write("")
    unfilled = right.checkbox("Non pourvues", key="dash_unfilled", help="Seulement les missions pas encore pourvues.")
    order = sort.selectbox("Trier par", list(SORTS), format_func=SORTS.get, key="dash_sort", placeholder="Choisissez dans la liste")
    return {"statuses": tuple(statuses), "profession": profession, "unfilled_only": unfilled, "sort": order}


def _duplicate(mission_id: int) -> None:
    if run_action(duplicate_mission, mission_id=mission_id,
                  done="Mission dupliquée : la copie est ouverte, vous pouvez la modifier."):
        _reset_selection()


def _reset_selection() -> None:
    """A selection holds a row *position*: once a mission is added or closed, it would tick another one."""
    st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1


@st.dialog("Clôturer la mission")
def _close_dialog(row: dict) -> None:
    st.write(f"Clôturer la mission **{row['profession']}** du {fr_date(row['start_date'])} au "
             f"{fr_date(row['end_date'])} ?")
    st.caption("Les professionnels contactés ou proposés sont libérés pour d'autres établissements ; les "
               "professionnels affectés restent affectés jusqu'à la fin de la mission. Une mission clôturée "
               "n'est jamais supprimée : vous pourrez la dupliquer.")
    confirm, cancel = st.columns(2)
    if cancel.button("Annuler", width="stretch"):
        st.rerun()
    if confirm.button("Oui, clôturer", type="primary", width="stretch"):
        if run_action(close_mission, mission_id=row["id"],
                      done=lambda released: f"Mission clôturée ; {released} professionnel(s) libéré(s)."):
            _reset_selection()
        st.rerun()


def _actions(row: dict) -> None:
    st.markdown(f"**Mission sélectionnée : {row['profession']}** — {fr_date(row['start_date'])} au "
                f"{fr_date(row['end_date'])} — POURVUE {row['assigned']}/{row['count']}")
    actions, why_not = row["actions"], row["why_not"]
    columns = st.columns(4)
    if Action.CHOOSE in actions:
        columns[0].button("Choisir", type="primary", icon=":material/person_search:", on_click=CHOOSE.open,
                          args=(row["id"],), width="stretch")
    else:  # a filled mission has nobody left to choose: no button, but say why
        columns[0].caption(why_not[Action.CHOOSE])
    if columns[1].button("Modifier", icon=":material/edit:", disabled=Action.EDIT not in actions, width="stretch",
                         help=why_not.get(Action.EDIT)):
        edit_mission_dialog(row["id"])
    columns[2].button("Dupliquer", icon=":material/content_copy:", on_click=_duplicate, args=(row["id"],),
                      width="stretch", disabled=Action.DUPLICATE not in actions)
    if columns[3].button("Clôturer", icon=":material/task_alt:", disabled=Action.CLOSE not in actions,
                         width="stretch", help=why_not.get(Action.CLOSE)):
        _close_dialog(row)


def _choose_just_filed(rows: list[dict]) -> None:
    """Right after « Nouveau besoin »: one button per need just filed that is open to candidates."""
    filed = set(st.session_state.pop(JUST_FILED, []))
    for row in rows:
        if row["id"] in filed and Action.CHOOSE in row["actions"]:
            st.button(f"Choisir des renforts : {row['profession']} du {fr_date(row['start_date'])} au "
                      f"{fr_date(row['end_date'])}", type="primary", icon=":material/person_search:",
                      on_click=CHOOSE.open, args=(row["id"],), key=f"choose_filed_{row['id']}")


def render() -> None:
    user = signed_in_user()
    st.title("Tableau de bord")
    loaded = establishment_data(user, dashboard)
    if loaded is None:
        return
    establishment, everything = loaded
    st.caption(f"Traitement des besoins en renfort pour mon établissement — {md(establishment.name)}, "
               f"{md(establishment.postal_code)} {md(establishment.city)}")
    _figures(everything)
    options = _filters()
    rows = read(dashboard, establishment_id=establishment.id, **options)
    if rows is None:
        return
    _choose_just_filed(rows)
    links = st.columns([1, 2, 2])
    with links[0]:
        page_link("nouveau-besoin", "Nouveau besoin", icon=":material/add_circle:")
    with links[1]:
        page_link("affectations", "Voir affectation professionnels", icon=":material/badge:")
    if not rows:
        st.info("Aucune mission ne correspond à ces filtres." if everything else
                "Aucune mission pour l'instant : déclarez votre premier besoin avec « Nouveau besoin ».")
        return
    frame = _frame(rows)
    event = st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                         key=rows_key(f"dashboard_table_{st.session_state.get(GENERATION, 0)}", (r["id"] for r in rows)),
                         column_config={"id": None})
    st.caption("Cochez la case à gauche d'une mission pour la choisir, la modifier, la dupliquer ou la clôturer.")
    selected = selection_rows(event)
    if selected and selected[0] < len(rows):
        _actions(rows[selected[0]])
