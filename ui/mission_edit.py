"""The "Modifier" dialog of a mission (same fields and checks as "Nouveau besoin")."""

from __future__ import annotations

import streamlit as st

from core.shared.clock import paris_today
from core.shared.errors import DomainError
from core.staffing.missions import mission_input as load_mission_input
from core.staffing.missions import update_mission
from db.session import session_scope
from ui.forms import FormState
from ui.layout import flash, signed_in_user
from ui.mission_form import mission_fields, mission_input, prime_row


@st.dialog("Modifier la mission", width="large")
def edit_mission_dialog(mission_id: int) -> None:
    form = FormState(f"edit_mission_{mission_id}")
    if not form.value("_loaded"):
        with session_scope(read_only=True) as session:
            prime_row(form, 1, load_mission_input(session, signed_in_user(), mission_id))
        form.set_value("_loaded", True)
    mission_fields(form, 1, 0, paris_today(), with_contact=True, removable=False)
    form.keep()
    save, cancel = st.columns(2)
    if save.button("Enregistrer les modifications", type="primary", width="stretch"):
        try:
            with session_scope() as session:
                changed = update_mission(session, signed_in_user(), mission_id, mission_input(form, 1))
        except DomainError as error:
            form.capture(error)
            st.rerun(scope="fragment")
        else:
            form.reset()
            flash("success", f"Mission modifiée ({len(changed)} champ(s)).")
            st.rerun()
    if cancel.button("Annuler", width="stretch"):
        form.reset()
        st.rerun()
    form.summary()
