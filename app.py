"""Renfort RH — entry point: page frame, who is signed in, the pages of their role."""

from __future__ import annotations

import navigation
from ui import auth, late_commit, layout, state

late_commit.note_run()  # first: a Streamlit call may already be where the run is interrupted
layout.setup_page()
with layout.outage_notice():
    user = auth.current_user()
    state.remember_user(user)
    page = navigation.build_navigation(user)
    late_commit.follow_the_click(page)
    layout.sidebar(user)
    state.show_flash()
    page.run()
