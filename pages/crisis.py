"""ARS (and CCS): "Gestion de crise" — the region's crisis-management mode, per profession or for all."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.places import reference
from core.shared.actions import Action
from core.shared.clock import paris_datetime
from core.staffing.regulation import CrisisState, crisis_history, crisis_state, set_crisis_mode
from ui.actions import read, run_action
from ui.markdown import md
from ui.regions import region_choice, region_name
from ui.state import signed_in_user

ALL = "all"


def _switch(ars_code: str, enabled: bool, professions: list[str] | None) -> None:
    scope = "toutes les professions" if professions is None else ", ".join(
        reference.profession_labels()[p] for p in professions)
    if run_action(set_crisis_mode, ars_code=ars_code, enabled=enabled, professions=professions,
                  done=f"Mode gestion de crise {'activé' if enabled else 'désactivé'} pour {scope}."):
        for key in ("crisis_professions", "crisis_disable"):  # done: the next choice starts empty
            st.session_state.pop(key, None)


def _ask(ars_code: str, professions: list[str] | None, enabled: bool, consequence: str, answer: str) -> None:
    """The body of both confirmations: what is switched, where, what follows; « Annuler » or the answer."""
    scope = "toutes les professions" if professions is None else ", ".join(
        reference.profession_labels()[p] for p in professions)
    st.write(f"Région : **{region_name(ars_code)}** — {scope}.")
    st.caption(consequence)
    yes, no = st.columns(2)
    if no.button("Annuler", width="stretch"):
        st.rerun()
    if yes.button(answer, type="primary", width="stretch"):
        _switch(ars_code, enabled, professions)
        st.rerun()


@st.dialog("Activer le mode gestion de crise")
def _confirm(ars_code: str, professions: list[str] | None) -> None:
    _ask(ars_code, professions, True,
         "Les établissements de la région ne verront plus de candidats pour ces professions : seuls les "
         "professionnels que l'ARS leur propose apparaîtront dans « Choisir ». Les réservations en cours "
         "restent valables.", "Oui, activer")


@st.dialog("Désactiver le mode gestion de crise")
def _confirm_disable(ars_code: str, professions: list[str]) -> None:
    _ask(ars_code, professions, False,
         "Pour ces professions, les établissements de la région choisiront de nouveau eux-mêmes leurs "
         "renforts ; le mode gestion de crise reste actif pour les autres professions.", "Oui, désactiver")


def _state(ars_code: str, state: CrisisState) -> None:
    labels = reference.profession_labels()
    if not state.active:
        st.success("Mode normal : les établissements choisissent eux-mêmes leurs renforts.", icon=":material/check:")
        return
    scope = "toutes les professions" if state.all_professions else ", ".join(labels[p] for p in state.professions)
    st.error(f"Mode gestion de crise actif pour : {scope}. L'ARS propose les candidats.", icon=":material/emergency:")
    if Action.SWITCH_CRISIS in state.actions:
        with st.popover("Revenir au mode normal…", icon=":material/undo:"):
            st.write("Les établissements de la région choisiront de nouveau eux-mêmes leurs renforts, pour toutes "
                     "les professions.")
            st.button("Confirmer le retour au mode normal", type="primary", key="crisis_off_all",
                      on_click=_switch, args=(ars_code, False, None))
        if state.professions and not state.all_professions:
            ended = st.multiselect("Désactiver seulement pour", state.professions, format_func=labels.get,
                                   key="crisis_disable", placeholder="Choisir…")
            if st.button("Désactiver pour ces professions…", disabled=not ended, key="crisis_disable_some"):
                _confirm_disable(ars_code, list(ended))


def _enable_form(ars_code: str) -> None:
    st.subheader("Activer")
    labels = reference.profession_labels()
    scope = st.radio("Portée", [ALL, "some"], horizontal=True, key="crisis_scope",
                     format_func={ALL: "Toutes les professions", "some": "Professions choisies"}.get)
    chosen = None
    if scope != ALL:
        chosen = st.multiselect("Professions", list(labels), format_func=labels.get, key="crisis_professions",
                                placeholder="Choisir…")
    if st.button("Activer le mode gestion de crise…", type="primary", icon=":material/emergency:",
                 disabled=scope != ALL and not chosen):
        _confirm(ars_code, None if scope == ALL else list(chosen))


def _history(ars_code: str) -> None:
    rows = read(crisis_history, ars_code=ars_code)
    if rows is None:
        return
    st.subheader("Historique")
    if not rows:
        st.caption("Le mode gestion de crise n'a jamais été activé dans cette région.")
        return
    labels = reference.profession_labels()
    st.table(pd.DataFrame([
        {"Profession": labels.get(r["profession_code"], "Toutes les professions"),
         # st.table renders each cell as Markdown: the names are the users' own.
         "Activé le": paris_datetime(r["enabled_at"]), "par": md(r["enabled_by"]),
         "Désactivé le": paris_datetime(r["disabled_at"]) if r["disabled_at"] else "— (actif)",
         "par ": md(r["disabled_by"])}
        for r in rows
    ]).set_index("Profession"))


def render() -> None:
    user = signed_in_user()
    st.title("Gestion de crise")
    ars_code = region_choice(user)
    state = read(crisis_state, ars_code=ars_code)
    if state is None:
        return
    _state(ars_code, state)
    if Action.SWITCH_CRISIS in state.actions:
        _enable_form(ars_code)
    _history(ars_code)
