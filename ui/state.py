"""What a run keeps for the next one: the signed-in user app.py resolved, and the flash message to show."""

from __future__ import annotations

import streamlit as st

from core.shared.actor import SessionUser

_USER_KEY = "_renfort_current_user"
_FLASH = "_renfort_flash"
JUST_FILED = "_renfort_just_filed"  # the missions « Nouveau besoin » just saved: the dashboard offers to choose


def remember_user(user: SessionUser | None) -> None:
    st.session_state[_USER_KEY] = user


def signed_in_user() -> SessionUser | None:
    """The user app.py resolved for this run (pages never read the cookie themselves)."""
    return st.session_state.get(_USER_KEY)


def flash(kind: str, text: str) -> None:
    """A confirmation or refusal to show at the top of the next page drawn (survives st.rerun). `text` is
    Markdown: user text in it is escaped by the caller (ui.markdown.md)."""
    st.session_state[_FLASH] = (kind, text)


def show_flash() -> None:
    kind, text = st.session_state.pop(_FLASH, (None, None))
    if kind == "success":
        st.success(text, icon=":material/check_circle:")
    elif kind == "error":
        st.error(text, icon=":material/error:")
