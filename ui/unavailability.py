"""« Rendre indisponible… » on a volunteer's row: the reason asked, then « Confirmer » (DESIGN §3: the ARS of
the volunteer's region, the CCS or an admin). The row says whether the action is possible, and why not."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.shared.actions import Action
from core.staffing.regulation import REASON_MAX, set_unavailable_by_ars
from ui.actions import run_action

DONE = "Professionnel rendu indisponible : il n'est plus proposé."


def _make_unavailable(professional_id: int, key_prefix: str) -> None:
    # Read when the button fires: a reason captured at drawing time may predate the text sent with the click.
    run_action(set_unavailable_by_ars, professional_id=professional_id,
               reason=st.session_state.get(f"{key_prefix}_reason_{professional_id}", ""), done=DONE)


def unavailable_popover(container: Any, row: dict, *, key_prefix: str) -> None:
    """The popover in `container` (a column), disabled with core's reason when the volunteer is busy."""
    why_not = row["why_not"]
    with container.popover("Rendre indisponible…", icon=":material/pause_circle:", width="stretch",
                           disabled=Action.SET_UNAVAILABLE not in row["actions"],
                           help=why_not.get(Action.SET_UNAVAILABLE)):
        st.text_area("Motif *", key=f"{key_prefix}_reason_{row['id']}", max_chars=REASON_MAX,
                     help="Demandé pour que la décision soit réfléchie ; il n'est pas conservé (le journal d'audit "
                          "ne garde aucune donnée personnelle).")
        st.button("Confirmer", key=f"{key_prefix}_unavailable_{row['id']}", on_click=_make_unavailable,
                  args=(row["id"], key_prefix))
