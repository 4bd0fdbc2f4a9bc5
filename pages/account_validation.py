"""ARS (its region) and CCS (all): the queue "Validation des comptes"."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access.accounts import PendingRequest, pending_requests, reject_account, validate_account
from core.places import reference
from core.shared.clock import paris_datetime
from core.shared.permissions import own_region
from core.shared.validation import format_phone
from ui.actions import read, run_action
from ui.format import check_line, fr_date
from ui.labels import yes_no
from ui.markdown import md
from ui.state import signed_in_user


def _validate(user_id: int) -> None:
    run_action(validate_account, user_id=user_id,
               done=lambda email: f"Compte validé : un lien d'activation a été envoyé à {md(email)}.")


def _reject(user_id: int) -> None:
    # Read at click time: arguments bound when the page was drawn could predate the typed reason.
    run_action(reject_account, user_id=user_id, reason=st.session_state.get(f"reason_{user_id}", ""),
               done=lambda email: f"Compte refusé ; le motif a été envoyé à {md(email)}.")


def _missions_table(request: PendingRequest) -> None:
    if not request.missions:
        st.caption("Aucune mission en attente.")
        return
    frame = pd.DataFrame([
        # st.table renders each cell as Markdown: the specialty was typed by the requester.
        {"Profession": m["profession"], "Spécialité": md(m["specialty"]), "Nombre": m["count"],
         "Début": fr_date(m["start_date"]), "Fin": fr_date(m["end_date"]), "Véhicule": yes_no(m["needs_vehicle"]),
         "Week-end": yes_no(m["needs_weekend"]), "EHPAD": yes_no(m["exp_ehpad"]),
         "Réanimation": yes_no(m["exp_reanimation"]), "Vaccination": yes_no(m["vaccination"])}
        for m in request.missions
    ])
    st.table(frame.set_index("Profession"))


def _request_card(request: PendingRequest) -> None:
    identifier = "GID" if request.id_kind == "gid" else "FINESS"
    with st.container(border=True):
        # Everything below was typed by the requester, who has no account yet: shown as typed (ui.markdown).
        st.markdown(f"#### {md(request.establishment_name)}")
        st.caption(f"Demande du {paris_datetime(request.requested_at)} — {request.category}"
                   + f" — catégorie FINESS : {request.finess_category or 'non renseignée'}"
                   + (" — établissement déjà connu, second compte" if request.establishment_status == "active" else ""))
        left, right = st.columns(2)
        with left:
            st.markdown(f"**Demandeur** : {md(request.first_name)} {md(request.last_name)}  \n"
                        f"{md(request.email)} — {md(format_phone(request.phone))}")
            st.markdown(f"**Adresse** : {md(request.address)}, {md(request.postal_code)} {md(request.city)}")
        with right:
            st.markdown(check_line(f"{identifier} {md(request.identifier)}", request.identifier_check))
            st.markdown(check_line(f"Code postal {md(request.postal_code)}", request.postal_code_check))
            st.markdown(check_line(f"ARS {reference.ars_names()[request.ars_code]}", request.ars_check))
            if request.department_warning:
                st.warning(md(request.department_warning), icon=":material/warning:")
        _missions_table(request)
        validate_col, reject_col = st.columns([1, 3])
        validate_col.button("Valider", key=f"validate_{request.user_id}", type="primary", icon=":material/check:",
                            on_click=_validate, args=(request.user_id,), width="stretch")
        with reject_col, st.popover("Refuser…", icon=":material/close:"):
            st.text_area("Motif du refus (envoyé au demandeur) *", key=f"reason_{request.user_id}")
            st.button("Confirmer le refus", key=f"reject_{request.user_id}", on_click=_reject,
                      args=(request.user_id,))


def render() -> None:
    st.title("Validation des comptes")
    requests = read(pending_requests)
    if requests is None:
        return
    scope = "de votre région" if own_region(signed_in_user()) else "de toutes les régions"
    if not requests:
        st.info(f"Aucune demande de compte en attente {scope}.", icon=":material/inbox:")
        return
    st.write(f"{len(requests)} demande{'s' if len(requests) > 1 else ''} en attente {scope}, la plus ancienne "
             "d'abord. Les contrôles automatiques sont indiqués à droite de chaque demande.")
    for request in requests:
        _request_card(request)
