"""Public page "Demande de compte": requester, establishment and first needs, in one submission."""

from __future__ import annotations

import streamlit as st

from core.access.accounts import (
    VACCINATION_CENTRE,
    AccountRequest,
    RequestReceipt,
    finess_category_labels,
    request_establishment_account,
)
from core.places import reference
from core.shared.clock import paris_today
from ui.actions import run_action
from ui.forms import FormState, label
from ui.links import page_link
from ui.markdown import md
from ui.mission_form import mission_rows
from ui.place import ars_select, postal_code_and_city
from ui.privacy import privacy_notice

FORM = "account_request"
RECEIPT = "_account_request_receipt"
OTHER_CATEGORY = "Autre / je ne sais pas"


def _requester(form: FormState) -> None:
    st.subheader("Vous")
    left, right = st.columns(2)
    with left:
        st.text_input(label("Nom", True), key=form.key("last_name"))
        form.error("last_name")
        st.text_input(label("Courriel", True), key=form.key("email"), placeholder="prenom.nom@etablissement.fr")
        form.error("email")
    with right:
        st.text_input(label("Prénom", True), key=form.key("first_name"))
        form.error("first_name")
        st.text_input(label("Téléphone", True), key=form.key("phone"), placeholder="06 12 34 56 78")
        form.error("phone")


def _establishment(form: FormState) -> None:
    st.subheader("Votre établissement")
    labels = reference.category_labels()
    form.selectbox(label("Catégorie", True), list(labels), "category_code", format_func=labels.get,
                   placeholder="Choisir…")
    form.error("category_code")
    finess_labels = {"": OTHER_CATEGORY, **finess_category_labels()}
    form.selectbox("Catégorie FINESS (EHPAD, SSIAD, SPASAD, SAAD…)", list(finess_labels), "finess_category_code",
                   format_func=finess_labels.get, placeholder=OTHER_CATEGORY,
                   help="La catégorie de votre FINESS géographique : elle permet à un EHPAD, un SSIAD, un SPASAD ou un "
                        "SAAD de rejoindre la plateforme territoriale de son département.")
    form.error("finess_category_code")
    is_centre = form.value("category_code") == VACCINATION_CENTRE
    left, right = st.columns([1, 2])
    with left:
        st.text_input(label("GID du centre de vaccination" if is_centre else "FINESS géographique", True),
                      key=form.key("identifier"), max_chars=12,
                      help="Numéro du centre dans le registre national des centres de vaccination (chiffres)."
                      if is_centre else "9 caractères, clé de contrôle comprise (2A/2B pour la Corse).")
        form.error("identifier")
    with right:
        st.text_input(label("Nom de l'établissement", True), key=form.key("establishment_name"))
        form.error("establishment_name")
    st.text_input(label("Adresse", True), key=form.key("address"))
    form.error("address")
    location = postal_code_and_city(form)
    ars_select(form, location)


def _submit(form: FormState, missions: list) -> None:
    value = lambda field: form.value(field) or ""  # noqa: E731
    request = AccountRequest(
        last_name=value("last_name"), first_name=value("first_name"), email=value("email"),
        phone=value("phone"), category_code=value("category_code"),
        finess_category_code=value("finess_category_code") or None, identifier=value("identifier"),
        establishment_name=value("establishment_name"), address=value("address"),
        postal_code=value("postal_code"), city=value("city"), ars_code=value("ars_code"), missions=missions,
    )
    outcome = run_action(request_establishment_account, request=request, on_error=form.capture)
    if outcome:
        form.reset()
        st.session_state[RECEIPT] = outcome.value


def _confirmation(receipt: RequestReceipt) -> None:
    needs = f"{receipt.missions} besoin{'s' if receipt.missions > 1 else ''}"
    st.success(
        f"Votre demande de compte pour « {md(receipt.establishment_name)} » et {needs} sont enregistrés.",
        icon=":material/check_circle:",
    )
    st.markdown(
        f"- L'**ARS {receipt.ars_name}** va vérifier votre demande.\n"
        "- Un courriel de confirmation vient de vous être envoyé.\n"
        "- Après validation, vous recevrez un lien pour choisir votre mot de passe (valable 72 heures)."
        + ("\n- Votre établissement a déjà un compte : vous verrez ses missions dès la validation."
           if receipt.joined_existing else "")
    )
    if st.button("Déposer une autre demande", icon=":material/add:"):
        st.session_state.pop(RECEIPT, None)
        st.rerun()


def render() -> None:
    st.title("Demande de compte établissement")
    receipt = st.session_state.get(RECEIPT)
    if receipt is not None:
        _confirmation(receipt)
        return
    st.write(
        "Décrivez votre établissement et votre premier besoin en renfort. Votre ARS vérifie la demande "
        "puis vous envoie un lien d'activation. Les champs marqués d'un * sont obligatoires."
    )
    form = FormState(FORM)
    _requester(form)
    _establishment(form)
    st.subheader("Vos besoins")
    st.caption("Pas de besoin immédiat ? Supprimez toutes les missions : une mission « Autre » de 0 personne "
               "sera enregistrée pour ouvrir votre compte.")
    missions = mission_rows(form, paris_today())
    form.keep()
    privacy_notice("establishment")
    if st.button("Valider la demande", type="primary", icon=":material/send:"):
        _submit(form, missions)
        st.rerun()
    form.summary()
    page_link("connexion", "Vous avez déjà un compte ? Se connecter", icon=":material/login:")
