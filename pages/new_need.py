"""Establishment: "Nouveau besoin" — one or more missions at once."""

from __future__ import annotations

import streamlit as st

from core.shared.clock import paris_today
from core.shared.errors import DomainError
from core.staffing.missions import create_missions, establishment_for
from db.session import session_scope
from ui.forms import FormState
from ui.layout import establishment_or_notice, flash, signed_in_user
from ui.links import switch_to
from ui.mission_form import mission_rows

FORM = "new_need"


def render() -> None:
    user = signed_in_user()
    st.title("Nouveau besoin")
    establishment_id = establishment_or_notice(user)
    if establishment_id is None:
        return
    with session_scope(read_only=True) as session:
        establishment = establishment_for(session, user, establishment_id)
    with st.container(border=True):
        st.markdown(f"**{establishment.name}**  \n{establishment.address}, {establishment.postal_code} "
                    f"{establishment.city}  \n{'GID' if establishment.id_kind == 'gid' else 'FINESS'} "
                    f"{establishment.finess}")
        st.caption("Ces informations viennent de votre compte ; pour les corriger, contactez votre ARS.")
    st.write("Décrivez chaque besoin. Les champs marqués d'un * sont obligatoires.")
    form = FormState(FORM)
    missions = mission_rows(form, paris_today(), with_contact=True)
    form.keep()
    save, cancel, _ = st.columns([2, 1, 3])
    if save.button("Enregistrer les besoins", type="primary", icon=":material/save:", width="stretch"):
        try:
            with session_scope() as session:
                ids = create_missions(session, user, establishment_id, missions)
        except DomainError as error:
            form.capture(error)
            st.rerun()
        form.reset()
        flash("success", f"{len(ids)} besoin(s) enregistré(s) : choisissez maintenant vos renforts.")
        switch_to("tableau-de-bord")
    if cancel.button("Annuler", icon=":material/close:", width="stretch"):
        form.reset()
        st.rerun()
    form.summary()
