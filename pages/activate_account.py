"""Page reached from the e-mailed link (?jeton=…): choose a password, once (activation or reset).

It is registered, hidden from the menu, for visitors and for every role: a link opened in a browser
where someone is signed in (the admin following a message from « Courriels », a colleague's shared
computer) must not land on "Page not found". The owner of the link sets the password straight away;
anyone else signed in is told whose link it is and offered to sign out first.
"""

from __future__ import annotations

import streamlit as st

from core.access.accounts import LinkOwner, activate, password_link_owner
from core.access.tokens import InvalidLink
from core.shared.actor import SessionUser
from core.shared.errors import DomainError
from core.shared.security import token_hash
from core.shared.validation import password_checks
from ui.actions import read, run_action
from ui.auth import renew_session, sign_out_callback
from ui.links import page_link
from ui.markdown import md
from ui.password_reset import reset_form
from ui.state import signed_in_user

DONE = "_activation_done_for"  # (hash of the link used, e-mail of the account)
CHECKS = "_activation_checks"  # [(rule, met?), …] of the last submit — never the password itself
ERROR = "_activation_error"
PASSWORD = "activation_password"
CONFIRMATION = "activation_confirmation"


def _rules(checks: list[tuple[str, bool]] | None) -> None:
    """The password rules beside the field; after a submit each one is ticked or not."""
    st.markdown("**Votre mot de passe doit contenir :**")
    if checks is None:
        for text, _ in password_checks(""):
            st.markdown(f"- {text}")
        return
    for text, ok in checks:
        st.markdown(f"- {':green[✔]' if ok else ':red[✘]'} {text}")


def _submit(token: str) -> None:
    """on_click of the form: keeps only the outcome of the checks, and empties both fields."""
    password = st.session_state.get(PASSWORD) or ""
    confirmation = st.session_state.get(CONFIRMATION) or ""
    st.session_state[PASSWORD] = ""
    st.session_state[CONFIRMATION] = ""
    st.session_state[CHECKS] = password_checks(password)
    if password != confirmation:
        st.session_state[ERROR] = "Les deux mots de passe ne sont pas identiques."
        return
    outcome = run_action(activate, token=token, password=password,
                         on_error=lambda error: st.session_state.__setitem__(ERROR, error.message))
    if not outcome:
        return
    st.session_state[DONE] = (token_hash(token), outcome.value)
    user = signed_in_user()
    if user is not None and user.email.lower() == outcome.value.lower():
        renew_session()  # the new password ends the other sessions, not the one that chose it
    st.session_state.pop(ERROR, None)
    st.session_state.pop(CHECKS, None)


def _password_form(token: str, first_name: str) -> None:
    st.write(f"Bonjour {md(first_name)}, choisissez votre mot de passe.")
    if st.session_state.get(ERROR):
        st.error(md(st.session_state[ERROR]), icon=":material/error:")
    left, right = st.columns([3, 2])
    with left, st.form("activation_form"):
        st.text_input("Nouveau mot de passe *", type="password", autocomplete="new-password", key=PASSWORD)
        st.text_input("Confirmation du mot de passe *", type="password", autocomplete="new-password",
                      key=CONFIRMATION)
        st.form_submit_button("Enregistrer mon mot de passe", type="primary", on_click=_submit, args=(token,))
    with right:
        _rules(st.session_state.get(CHECKS))


def _invalid_link(error: DomainError) -> None:
    st.error(md(error.message), icon=":material/link_off:")
    if isinstance(error, InvalidLink) and error.can_renew:
        reset_form("activation_renew")


def _done(user: SessionUser | None, email: str) -> None:
    if user is not None:
        st.success("Votre nouveau mot de passe est enregistré.", icon=":material/check_circle:")
        return
    st.success(f"Votre mot de passe est enregistré. Connectez-vous avec « {md(email)} ».",
               icon=":material/check_circle:")
    page_link("connexion", "Se connecter", icon=":material/login:")


def _signed_in_as_someone_else(user: SessionUser, owner: LinkOwner) -> None:
    st.warning(
        f"Vous êtes connecté(e) avec le compte « {md(user.email)} ». Ce lien sert à choisir le mot de passe "
        f"du compte « {md(owner.email)} ». Pour l'utiliser, déconnectez-vous d'abord : ce navigateur ne sera "
        "plus connecté à votre compte, et le lien restera valable si vous ne poursuivez pas.",
        icon=":material/switch_account:",
    )
    st.button("Me déconnecter et utiliser ce lien", type="primary", icon=":material/logout:",
              on_click=sign_out_callback)


def render() -> None:
    _, middle, _ = st.columns([1, 3, 1])
    with middle:
        st.title("Activer mon compte")
        user = signed_in_user()
        token = st.query_params.get("jeton", "")
        done = st.session_state.get(DONE)
        if done and done[0] == token_hash(token):
            _done(user, done[1])
            return
        owner = read(password_link_owner, token=token, on_error=_invalid_link)
        if owner is None:
            return
        if user is not None and user.email.lower() != owner.email.lower():
            _signed_in_as_someone_else(user, owner)
            return
        _password_form(token, owner.first_name)
