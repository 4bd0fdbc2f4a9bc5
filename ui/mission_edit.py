"""The "Modifier" dialog of a mission (same fields and checks as "Nouveau besoin")."""

from __future__ import annotations

import streamlit as st

from core.shared.clock import paris_today
from core.staffing.missions import mission_input as load_mission_input
from core.staffing.missions import update_mission
from ui.actions import read, run_action
from ui.forms import FormState
from ui.mission_form import mission_fields, mission_input, prime_row


@st.dialog("Modifier la mission", width="large")
def edit_mission_dialog(mission_id: int) -> None:
    form = FormState(f"edit_mission_{mission_id}")
    if not form.value("_loaded"):
        saved = read(load_mission_input, mission_id=mission_id)
        if saved is None:
            return
        prime_row(form, 1, saved)
        form.set_value("_loaded", True)
    mission_fields(form, 1, 0, paris_today(), with_contact=True, removable=False)
    form.keep()
    save, cancel = st.columns(2)
    if save.button("Enregistrer les modifications", type="primary", width="stretch"):
        if not run_action(update_mission, mission_id=mission_id, data=mission_input(form, 1), on_error=form.capture,
                          done=lambda changed: f"Mission modifiée ({len(changed)} champ(s))."):
            st.rerun(scope="fragment")
        form.reset()
        st.rerun()
    if cancel.button("Annuler", width="stretch"):
        form.reset()
        st.rerun()
    form.summary()
