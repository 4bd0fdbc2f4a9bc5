"""« Plateforme territoriale » for an establishment (issue 14): the pool it belongs to, with its coordinator's contact
and the code its staff give volunteers; else its pending or refused request, and « Demander à rejoindre » the open
pools of its department — or why it cannot (EHPAD, SSIAD, SPASAD and SAAD only)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.access.accounts import finess_category_labels
from core.pools.members import EstablishmentPool, declare_finess_category, establishment_pool, request_join
from core.shared.actions import Action
from core.shared.validation import format_phone
from ui.actions import read, run_action
from ui.format import fr_date
from ui.layout import establishment_or_notice
from ui.markdown import md
from ui.state import signed_in_user


def _coordinators(pool: dict[str, Any]) -> None:
    if not pool["coordinators"]:
        st.caption("Pas encore de coordinateur désigné : votre ARS l'indiquera.")
        return
    st.markdown("**Coordination**\n" + "\n".join(
        f"- {md(c['first_name'])} {md(c['last_name'])} — {md(c['email'])}"
        + (f" — {format_phone(c['phone'])}" if c["phone"] else "")
        for c in pool["coordinators"]))


def _member(view: EstablishmentPool) -> None:
    pool = view.member_of
    since = f" depuis le {fr_date(pool['since'].date())}" if pool["since"] else ""
    st.success(f"« {md(view.establishment_name)} » est membre de la plateforme territoriale « {md(pool['name'])} »"
               f"{since}.", icon=":material/hub:")
    st.markdown(f"Établissement support : {md(pool['support'])}.  \nVos missions apparaissent dans la file de son "
                "coordinateur, qui peut vous proposer des professionnels de son vivier ; dans « Choisir des renforts », "
                "ils sont marqués « Vivier territorial ». Vous restez libre de choisir tout autre renfort.")
    _coordinators(pool)
    st.markdown(f"**Code de la plateforme** : `{pool['code']}` — un professionnel qui veut rejoindre son vivier le "
                "saisit dans « Proposer mon aide ».")


def _ask(view: EstablishmentPool, pool: dict[str, Any]) -> None:
    with st.container(border=True):
        st.markdown(f"**{md(pool['name'])}** — établissement support : {md(pool['support'])}")
        _coordinators(pool)
        if Action.REQUEST_JOIN in pool["actions"] and st.button(
                "Demander à rejoindre", type="primary", icon=":material/group_add:",
                key=f"join_{view.establishment_id}_{pool['id']}"):
            run_action(request_join, establishment_id=view.establishment_id, pool_id=pool["id"],
                       done=lambda name: f"Demande envoyée à la plateforme « {md(name)} » : son coordinateur ou votre "
                                         "ARS y répondra, vous serez prévenu(e) par courriel.")
            st.rerun()


def _declare_category(view: EstablishmentPool) -> None:
    """An establishment registered before the FINESS category was asked tells it here, once."""
    labels = finess_category_labels()
    with st.container(border=True):
        code = st.selectbox("Catégorie FINESS de votre établissement", list(labels), format_func=labels.get,
                            index=None, key=f"declare_category_{view.establishment_id}", placeholder="Choisir…",
                            help="La catégorie de votre FINESS géographique. Une fois enregistrée, seule votre ARS "
                                 "peut la corriger.")
        if st.button("Enregistrer la catégorie", icon=":material/save:", disabled=code is None,
                     key=f"declare_category_save_{view.establishment_id}"):
            run_action(declare_finess_category, establishment_id=view.establishment_id, code=code,
                       done=lambda label: f"Catégorie FINESS enregistrée : {label}.")
            st.rerun()


def render() -> None:
    st.title("Plateforme territoriale")
    user = signed_in_user()
    establishment_id = establishment_or_notice(user) if user else None
    if establishment_id is None:
        return
    view = read(establishment_pool, establishment_id=establishment_id)
    if view is None:
        return
    st.caption(f"{md(view.establishment_name)} — catégorie FINESS : {view.category or 'non renseignée'}")
    if view.member_of:
        _member(view)
        return
    if view.pending:
        st.info(f"Votre demande d'adhésion à la plateforme « {md(view.pending['name'])} » du "
                f"{fr_date(view.pending['requested_at'].date())} attend la décision de son coordinateur ou de l'ARS.",
                icon=":material/hourglass_top:")
        return
    if view.refused:
        st.warning(f"Votre demande d'adhésion à la plateforme « {md(view.refused['name'])} » a été refusée le "
                   f"{fr_date(view.refused['decided_at'].date())} (le motif vous a été envoyé par courriel). Vous "
                   "pouvez présenter une nouvelle demande.", icon=":material/info:")
    if view.notice:
        st.info(view.notice, icon=":material/info:")
    if Action.EDIT in view.actions:
        _declare_category(view)
    if view.open_pools:
        st.markdown("Les plateformes territoriales mutualisent un vivier de remplaçants entre les EHPAD, SSIAD, SPASAD "
                    "et SAAD d'un département. Plateformes ouvertes dans votre département :")
        for pool in view.open_pools:
            _ask(view, pool)
