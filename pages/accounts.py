"""« Comptes » (admins; the CCS for the national accounts; an ARS for its region): find an account, act on it,
open a new one. Who may manage whom, and so every row shown and every button, comes from core."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.access.administration import (
    AccountFilters,
    AccountPage,
    AdminScope,
    NewAccount,
    admin_scope,
    assignable_pools,
    attach_establishment,
    create_account,
    detach_establishment,
    disable_account,
    enable_account,
    list_accounts,
    search_establishments,
    send_account_link,
    unlock_account,
)
from core.places import reference
from core.shared.actions import Action
from core.shared.clock import paris_datetime
from core.shared.validation import format_phone
from ui.actions import read, run_action
from ui.field_checks import OPTIONAL_PHONE
from ui.forms import FormState, label
from ui.labels import ROLE_LABELS
from ui.markdown import md
from ui.privacy import privacy_notice
from ui.regions import region_name

PAGE_SIZE = 50
FORM = "account_create"
SELECTED = "accounts_selected"  # the account whose panel is open, kept across an action that redraws the table
VERSION = "accounts_version"  # changes after each action: a fresh table, whose row positions may have moved
CHOICES = "accounts_establishment_choices"  # id → label of the establishments picked or found in the form
STATES = {"pending": "En attente", "active": "Actif", "locked": "Verrouillé", "disabled": "Désactivé"}
SITUATIONS = {"awaiting_validation": "En attente de validation", "awaiting_activation": "En attente d'activation",
              **STATES}


def _state_label(row: dict[str, Any]) -> str:
    return SITUATIONS[row["situation"]]


def _establishment_label(establishment: dict[str, Any]) -> str:
    """Plain text (a selectbox option); md() it where Markdown renders it."""
    return f"{establishment['name']} — FINESS {establishment['finess']} ({establishment['city']})"


# ---------------------------------------------------------------- filters and table


def _filters(scope: AdminScope) -> AccountFilters:
    left, middle, right = st.columns(3)
    text = left.text_input("Rechercher (nom ou courriel)", key="accounts_search")
    role = middle.selectbox("Rôle", [None, *scope.listed_roles], key="accounts_role",
                            format_func=lambda r: "Tous les rôles" if r is None else ROLE_LABELS[r], placeholder="Choisissez dans la liste")
    state = right.selectbox("État", [None, *STATES], key="accounts_state",
                            format_func=lambda s: "Tous les états" if s is None else STATES[s], placeholder="Choisissez dans la liste")
    region, establishment = None, ""
    left, right = st.columns(2)
    if scope.picks_region:
        names = reference.ars_names()
        region = left.selectbox("Région", [None, *sorted(names, key=names.get)], key="accounts_region",
                                format_func=lambda c: "Toutes les régions" if c is None else f"ARS {names[c]}", placeholder="Choisissez dans la liste")
    else:
        left.caption(f"Comptes de l'ARS {region_name(scope.own_region)}")
    if scope.manages_establishment_users:
        establishment = right.text_input("Établissement (FINESS ou nom)", key="accounts_establishment")
    return AccountFilters(text=text, role=role, ars_code=region, establishment=establishment, state=state)


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([
        {"N°": r["id"], "Nom": r["last_name"], "Prénom": r["first_name"], "Courriel": r["email"],
         "Rôle": ROLE_LABELS[r["role"]], "Région": ", ".join(region_name(c) for c in r["regions"]),
         "Établissements": "; ".join(e["name"] for e in r["establishments"]), "État": _state_label(r),
         "Créé le": paris_datetime(r["created_at"])}
        for r in rows
    ], columns=["N°", "Nom", "Prénom", "Courriel", "Rôle", "Région", "Établissements", "État", "Créé le"])


def _selected_row(result: AccountPage, table_key: str) -> dict[str, Any] | None:
    """The ticked row; right after an action (a new table, nothing ticked yet) the account acted upon."""
    fresh = table_key not in st.session_state
    frame = _frame(result.rows)
    event = st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                         key=table_key)
    st.caption("Cochez la case à gauche d'une ligne pour agir sur ce compte.")
    ticked = event.selection.rows if event else []
    if ticked:
        st.session_state[SELECTED] = int(frame.iloc[ticked[0]]["N°"])
    elif not fresh:
        st.session_state[SELECTED] = None
    return next((row for row in result.rows if row["id"] == st.session_state.get(SELECTED)), None)


def _after_change(user_id: int) -> None:
    st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1
    st.session_state[SELECTED] = user_id


def _act(service: Any, user_id: int, done: Any, **arguments: Any) -> None:
    if run_action(service, user_id=user_id, done=done, **arguments):
        _after_change(user_id)


# ---------------------------------------------------------------- one account


def _confirmed(action: str, text: str, row: dict[str, Any], service: Any, done: str, icon: str) -> None:
    with st.popover(f"{action}…", icon=icon):
        st.caption(text)
        st.button(f"Oui, {action.lower()}", type="primary", key=f"{service.__name__}_{row['id']}", on_click=_act,
                  args=(service, row["id"], done))


def _buttons(row: dict[str, Any]) -> None:
    actions, email = row["actions"], md(row["email"])  # in Markdown flashes
    columns = iter(st.columns(3))  # at most three: (dés|ré)activer, déverrouiller, lien
    if Action.DISABLE in actions:
        with next(columns):
            _confirmed("Désactiver", "Le compte ne pourra plus se connecter (il n'est pas supprimé : vous pourrez le "
                                     "réactiver).", row, disable_account, f"Compte {email} désactivé.",
                       ":material/block:")
    if Action.ENABLE in actions:
        with next(columns):
            _confirmed("Réactiver", "Le compte pourra de nouveau se connecter avec son mot de passe.", row,
                       enable_account, f"Compte {email} réactivé.", ":material/check_circle:")
    if Action.UNLOCK in actions:
        next(columns).button("Déverrouiller", icon=":material/lock_open:", key=f"unlock_{row['id']}", on_click=_act,
                             args=(unlock_account, row["id"], f"Compte {email} déverrouillé."))
    if Action.SEND_LINK in actions:
        what = "de réinitialisation" if row["has_password"] else "d'activation"
        next(columns).button(f"Envoyer un lien {what}", icon=":material/forward_to_inbox:", key=f"link_{row['id']}",
                             on_click=_act, args=(send_account_link, row["id"],
                                                  f"Un nouveau lien {what} a été envoyé à {email} ; les liens "
                                                  "précédents ne fonctionnent plus."))


def _establishments(row: dict[str, Any]) -> None:
    st.markdown("**Établissements gérés**")
    only_one = len(row["establishments"]) == 1
    for establishment in row["establishments"]:
        text, remove = st.columns([4, 1])
        text.markdown(md(_establishment_label(establishment)))
        remove.button("Retirer", key=f"detach_{row['id']}_{establishment['id']}", disabled=only_one,
                      help="Le compte garde au moins un établissement : désactivez-le plutôt." if only_one else None,
                      on_click=_act, args=(detach_establishment, row["id"],
                                           f"« {md(establishment['name'])} » retiré du compte {md(row['email'])}."),
                      kwargs={"establishment_id": establishment["id"]})
    search = st.text_input("Rattacher un autre établissement : FINESS ou nom", key=f"attach_search_{row['id']}")
    found = read(search_establishments, text=search) if search.strip() else []
    mine = {e["id"] for e in row["establishments"]}
    found = [e for e in found or [] if e["id"] not in mine]
    if search.strip() and not found:
        st.caption("Aucun établissement validé ne correspond.")
    if found:
        labels = {e["id"]: _establishment_label(e) for e in found}
        chosen = st.selectbox("Établissement à rattacher", list(labels), format_func=labels.get,
                              key=f"attach_choice_{row['id']}", placeholder="Choisissez dans la liste")
        st.button("Rattacher", icon=":material/add_link:", key=f"attach_{row['id']}", on_click=_act,
                  args=(attach_establishment, row["id"],
                        f"« {md(labels[chosen])} » rattaché au compte {md(row['email'])}."),
                  kwargs={"establishment_id": chosen})


def _panel(row: dict[str, Any]) -> None:
    with st.container(border=True):
        regions = ", ".join(f"ARS {region_name(c)}" for c in row["regions"])
        st.markdown(f"#### {md(row['first_name'])} {md(row['last_name'])}")
        st.markdown(md(row["email"]) + (f" — {md(format_phone(row['phone']))}" if row["phone"] else "") + "  \n"
                    f"{ROLE_LABELS[row['role']]}" + (f" — {regions}" if regions else "")
                    + (f" — plateforme « {md(row['pool'])} »" if row.get("pool") else "")
                    + f" — **{_state_label(row)}**")
        if row["locked_until"]:
            st.caption(f"Verrouillé après 5 essais infructueux, jusqu'au {paris_datetime(row['locked_until'])}.")
        if row["awaiting_validation"]:
            st.info("Cette demande de compte se traite dans « Validation des comptes ».", icon=":material/info:")
        elif not row["actions"]:
            st.caption("Ce compte ne relève pas de vous : vous pouvez le consulter, pas le modifier.")
        _buttons(row)
        if Action.MANAGE_ESTABLISHMENTS in row["actions"]:
            _establishments(row)


# ---------------------------------------------------------------- a new account


def _establishment_picker(form: FormState) -> list[int]:
    """Search validated establishments, and keep the picked ones whatever the next search finds."""
    choices: dict[int, str] = st.session_state.setdefault(CHOICES, {})
    search = st.text_input("Chercher un établissement (FINESS ou nom)", key=form.key("establishment_search"))
    if search.strip():
        for establishment in read(search_establishments, text=search) or []:
            choices[establishment["id"]] = _establishment_label(establishment)
    picked = [i for i in form.value("establishment_ids") or [] if i in choices]
    options = list(dict.fromkeys([*picked, *choices]))
    st.multiselect(label("Établissements gérés", True), options, key=form.key("establishment_ids"),
                   format_func=choices.get, placeholder="Cherchez puis choisissez un ou plusieurs établissements")
    form.error("establishment_ids")
    return list(form.value("establishment_ids") or [])


def _region_field(form: FormState, scope: AdminScope) -> str | None:
    if not scope.picks_region:
        st.caption(f"Région du compte : ARS {region_name(scope.own_region)}")
        return None
    names = reference.ars_names()
    form.selectbox(label("Région (ARS)", True), sorted(names, key=names.get), "ars_code",
                   format_func=lambda c: f"ARS {names[c]}", placeholder="Choisir…")
    form.error("ars_code")
    return form.value("ars_code")


def _pool_field(form: FormState, scope: AdminScope, region: str | None) -> int | None:
    """The open pools of the account's region (an ARS's own; the chosen one for national actors)."""
    pools = read(assignable_pools, ars_code=region) or {}
    if scope.picks_region and region is None:
        st.caption("Choisissez d'abord la région : ses plateformes territoriales ouvertes s'afficheront.")
    elif not pools:
        st.info("Aucune plateforme territoriale ouverte dans cette région : créez-la d'abord dans « Plateformes "
                "territoriales ».", icon=":material/info:")
    form.selectbox(label("Plateforme territoriale coordonnée", True), list(pools), "pool_id", format_func=pools.get,
                   placeholder="Choisir…")
    form.error("pool_id")
    chosen = form.value("pool_id")
    return chosen if chosen in pools else None


def _create(form: FormState, account: NewAccount) -> None:
    outcome = run_action(create_account, account=account, on_error=form.capture,
                         done=lambda created: f"Compte créé : un lien d'activation a été envoyé à {md(created.email)}.")
    if outcome:
        form.reset()
        st.session_state.pop(CHOICES, None)
        _after_change(outcome.value.user_id)


def _create_form(scope: AdminScope) -> None:
    form = FormState(FORM, checks={"phone": OPTIONAL_PHONE})  # the phone may stay empty here
    with st.expander("Créer un compte", icon=":material/person_add:", expanded=bool(form.errors())):
        role = form.selectbox(label("Rôle", True), list(scope.creatable_roles), "role", format_func=ROLE_LABELS.get,
                              placeholder="Choisir…")
        form.error("role")
        left, right = st.columns(2)
        for column, field, text, required in ((left, "last_name", "Nom", True), (right, "first_name", "Prénom", True),
                                              (left, "email", "Courriel", True),
                                              (right, "phone", "Téléphone (facultatif)", False)):
            with column:
                st.text_input(label(text, required), key=form.key(field))
                form.error(field)
        region = _region_field(form, scope) if role in scope.region_roles else None
        pool = _pool_field(form, scope, region) if role in scope.pool_roles else None
        establishments = _establishment_picker(form) if role in scope.establishment_roles else []
        form.keep()
        privacy_notice("account")
        if st.button("Créer le compte", type="primary", icon=":material/person_add:", key="account_create_submit"):
            _create(form, NewAccount(
                role=role or "", email=form.value("email") or "", first_name=form.value("first_name") or "",
                last_name=form.value("last_name") or "", phone=form.value("phone") or "", ars_code=region,
                establishment_ids=tuple(establishments), pool_id=pool))
            st.rerun()
        form.summary()


def render() -> None:
    st.title("Comptes")
    scope = read(admin_scope)
    if scope is None:
        return
    filters = _filters(scope)
    page = st.number_input("Page", min_value=1, value=1, step=1, key="accounts_page")
    result = read(list_accounts, filters=filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    if result is not None:
        if not result.rows:
            st.info("Aucun compte ne correspond à ces critères." if not result.total else "Cette page est vide.")
        else:
            first = (page - 1) * PAGE_SIZE + 1
            st.caption(f"Affichage {first} - {first + len(result.rows) - 1} de {result.total}")
            table_key = f"accounts_table:{filters}:{page}:{st.session_state.get(VERSION, 0)}"
            row = _selected_row(result, table_key)
            if row is not None:
                _panel(row)
    _create_form(scope)
