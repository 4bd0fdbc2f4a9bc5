"""A click on a menu link right after typing in a field, without Enter, opens the page and keeps the text.

Streamlit sends a text field's value when the field loses focus, but later than the click that took the focus
away: the server runs the page the link asks for (B), then the late value arrives with a rerun of the page it was
typed on (A), which wins — the click seemed lost (seen in Chromium on « Nouveau besoin »: four clicks out of four).

Each run notes which page the browser asked for, first thing, before any Streamlit call can interrupt it. When a
run of A comes right after a run of B that itself followed A, and brings new values for A's form fields, those
values are kept in their forms (ui.forms) and the run goes on to B. A user who goes to B and quickly back to A
brings no new value (A's fields are drawn again from the forms' kept values): they stay on A.
"""

from __future__ import annotations

import time

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.forms import keep_new_values
from ui.links import PAGES_KEY

_RUNS = "_renfort_runs"
# The late value follows the click by a few milliseconds; later, the return is the user's own click.
LATE_SECONDS = 1.5


def note_run() -> None:
    """Which page this run was asked for, and when: call before any other Streamlit call of the run."""
    context = get_script_run_ctx()
    runs = st.session_state.setdefault(_RUNS, [])
    runs.append((context.page_script_hash if context else "", time.monotonic()))
    del runs[:-3]


def follow_the_click(page: st.Page) -> None:
    """Go on to the page the user clicked when this run only brings the late values of the page left. `page`: the
    page st.navigation chose for this run — a run asked for "the app" (a reload, st.rerun) is noted as that page."""
    if get_script_run_ctx() is None:
        return  # app.py run as a plain script (a spawned process re-runs its parent's main module): no browser
    runs = st.session_state.get(_RUNS, [])
    if runs:
        runs[-1] = (_script_hash(page), runs[-1][1])
    clicked = page_left_for(runs)
    if clicked is None or not keep_new_values():
        return
    target = next((p for p in st.session_state.get(PAGES_KEY, {}).values() if _script_hash(p) == clicked), None)
    if target is not None:
        st.switch_page(target)


def page_left_for(runs: list[tuple[str, float]]) -> str | None:
    """The page clicked when the last of these runs (page, start) returned, right away, to the page left."""
    if len(runs) < 3:
        return None
    (before, _), (clicked, clicked_at), (now, started_at) = runs[-3:]
    if before == now != clicked and started_at - clicked_at < LATE_SECONDS:
        return clicked
    return None


def _script_hash(page: st.Page) -> str:
    # The hash Streamlit gives a page and sends back with each run of it (no public name for it).
    return page._script_hash
