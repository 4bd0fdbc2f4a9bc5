"""Establishment: "Nouveau besoin" — one or more missions at once."""

from __future__ import annotations

import streamlit as st

from core.shared.clock import paris_today
from core.staffing.missions import create_missions, establishment_for
from ui.actions import read, run_action
from ui.forms import FormState
from ui.layout import establishment_or_notice
from ui.links import switch_to
from ui.markdown import md
from ui.mission_form import mission_rows
from ui.state import JUST_FILED, signed_in_user

FORM = "new_need"


def render() -> None:
    user = signed_in_user()
    st.title("Nouveau besoin")
    establishment_id = establishment_or_notice(user)
    if establishment_id is None:
        return
    establishment = read(establishment_for, establishment_id=establishment_id)
    if establishment is None:
        return
    with st.container(border=True):
        st.markdown(f"**{md(establishment.name)}**  \n{md(establishment.address)}, {md(establishment.postal_code)} "
                    f"{md(establishment.city)}  \n{'GID' if establishment.id_kind == 'gid' else 'FINESS'} "
                    f"{md(establishment.finess)}")
        st.caption("Ces informations viennent de votre compte ; pour les corriger, contactez votre ARS.")
    st.write("Décrivez chaque besoin. Les champs marqués d'un * sont obligatoires.")
    form = FormState(FORM)
    missions = mission_rows(form, paris_today(), with_contact=True)
    form.keep()
    save, cancel, _ = st.columns([2, 1, 3])
    if save.button("Enregistrer les besoins", type="primary", icon=":material/save:", width="stretch"):
        outcome = run_action(create_missions, establishment_id=establishment_id, missions=missions,
                             on_error=form.capture,
                             done=lambda ids: f"{len(ids)} besoin(s) enregistré(s) : choisissez maintenant vos "
                                              "renforts.")
        if not outcome:
            st.rerun()
        form.reset()
        st.session_state[JUST_FILED] = list(outcome.value)  # the dashboard offers to choose for them at once
        switch_to("tableau-de-bord")
    if cancel.button("Annuler", icon=":material/close:", width="stretch"):
        form.reset()
        st.rerun()
    form.summary()
