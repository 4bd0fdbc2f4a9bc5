"""Before any page is drawn, the values a form's widgets just received are kept in the form (ui.forms)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _form_app() -> None:
    import streamlit as st

    from ui.forms import FormState, keep_new_values

    st.session_state["new_values"] = keep_new_values()
    form = FormState("essai")
    st.text_input("Nom", key=form.key("nom"))
    form.keep()


def test_a_value_that_came_with_the_run_is_kept_before_the_form_is_drawn() -> None:
    app = AppTest.from_function(_form_app, default_timeout=30).run()
    assert app.session_state["new_values"] is False
    app.text_input[0].input("Dupont").run()
    assert app.session_state["new_values"] is True
    assert app.session_state["_form:essai"]["values"]["nom"] == "Dupont"
    app.run()  # nothing new: the form already holds it
    assert app.session_state["new_values"] is False
