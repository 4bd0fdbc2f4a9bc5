"""Links between pages: only to pages of the current user's navigation."""

from __future__ import annotations

import streamlit as st

from core.mail.emails import MISSION_QUERY as LINKED_MISSION  # the e-mails' links to a mission's candidates

PAGES_KEY = "_renfort_pages"


def linked_mission() -> int | None:
    """The mission an e-mail's link names, if the address holds a well-formed one (left in place)."""
    linked = st.query_params.get(LINKED_MISSION)
    return int(linked) if linked is not None and linked.isdigit() else None


def page_link(url_path: str, label: str, icon: str | None = None) -> bool:
    """A link to one of the current user's pages; False (and nothing shown) if it has no such page."""
    page = st.session_state.get(PAGES_KEY, {}).get(url_path)
    if page is None:
        return False
    st.page_link(page, label=label, icon=icon)
    return True


def switch_to(url_path: str) -> None:
    """Go to another page of the current user's navigation (e.g. from a dashboard action)."""
    page = st.session_state.get(PAGES_KEY, {}).get(url_path)
    if page is not None:
        st.switch_page(page)
