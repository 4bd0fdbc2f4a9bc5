"""Renfort RH — entry point: page frame, who is signed in, the pages of their role."""

from __future__ import annotations

import navigation
from ui import auth, layout, state

layout.setup_page()
with layout.outage_notice():
    user = auth.current_user()
    state.remember_user(user)
    page = navigation.build_navigation(user)
    layout.sidebar(user)
    state.show_flash()
    page.run()
