"""Public page reached from the e-mailed link (?jeton=…): choose a password, once."""

from __future__ import annotations

import streamlit as st

from core.accounts import activate, check_password_link
from core.errors import DomainError, ValidationError
from core.tokens import InvalidLink
from core.validation import password_checks
from db.session import session_scope
from ui.links import page_link
from ui.password_reset import reset_form

DONE = "_activation_done_for"


def _rules(password: str | None) -> None:
    """The password rules beside the field; after a submit each one is ticked or not."""
    st.markdown("**Votre mot de passe doit contenir :**")
    for text, ok in password_checks(password or ""):
        if password is None:
            st.markdown(f"- {text}")
        else:
            st.markdown(f"- {':green[✔]' if ok else ':red[✘]'} {text}")


def _password_form(token: str, first_name: str) -> None:
    st.write(f"Bonjour {first_name}, choisissez votre mot de passe.")
    left, right = st.columns([3, 2])
    submitted_password = st.session_state.get("_activation_tried")
    with left, st.form("activation_form"):
        password = st.text_input("Nouveau mot de passe *", type="password", autocomplete="new-password")
        confirmation = st.text_input("Confirmation du mot de passe *", type="password", autocomplete="new-password")
        submitted = st.form_submit_button("Enregistrer mon mot de passe", type="primary")
    with right:
        _rules(submitted_password)
    if not submitted:
        return
    st.session_state["_activation_tried"] = password
    if password != confirmation:
        st.session_state["_activation_error"] = "Les deux mots de passe ne sont pas identiques."
        st.rerun()
    try:
        with session_scope() as session:
            email = activate(session, None, token, password)
    except (ValidationError, InvalidLink, DomainError) as error:
        st.session_state["_activation_error"] = error.message
        st.rerun()
    st.session_state[DONE] = email
    st.session_state.pop("_activation_error", None)
    st.rerun()


def render() -> None:
    st.title("Activer mon compte")
    _, middle, _ = st.columns([1, 3, 1])
    with middle:
        if st.session_state.get(DONE):
            st.success(f"Votre mot de passe est enregistré. Connectez-vous avec « {st.session_state[DONE]} ».",
                       icon=":material/check_circle:")
            page_link("connexion", "Se connecter", icon=":material/login:")
            return
        token = st.query_params.get("jeton", "")
        try:
            with session_scope(read_only=True) as session:
                first_name = check_password_link(session, token)
        except InvalidLink as error:
            st.error(error.message, icon=":material/link_off:")
            if error.can_renew:
                reset_form("activation_renew")
            return
        if st.session_state.get("_activation_error"):
            st.error(st.session_state["_activation_error"], icon=":material/error:")
        _password_form(token, first_name)
