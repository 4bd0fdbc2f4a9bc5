"""Public questionnaire "Je souhaite proposer mon aide" (volunteer registration with documents)."""

from __future__ import annotations

import streamlit as st

from core.places import reference
from core.pools.roster import CODE_FIELD, PoolRegistration, register_with_pool_code
from core.shared.clock import paris_today
from core.shared.errors import DomainError, FormErrors
from core.shared.validation import NeedsConfirmation
from core.volunteers.professionals import RegistrationInput
from ui.actions import run_action
from ui.field_checks import FieldCheck
from ui.forms import FormState, label
from ui.labels import ACTIVITY, MOBILITY
from ui.links import page_link
from ui.markdown import md
from ui.place import postal_code_and_city
from ui.privacy import privacy_notice

FORM = "volunteer_signup"
RECEIPT = "_volunteer_receipt"
ID_TYPES = {"rpps": "RPPS", "adeli": "ADELI", "none": "Je n'en ai pas (étudiant, aide-soignant…)"}


def _identity(form: FormState) -> None:
    st.subheader("Vous")
    left, right = st.columns(2)
    for column, fields in ((left, (("last_name", "Nom"), ("email", "Courriel"))),
                           (right, (("first_name", "Prénom"), ("phone", "Téléphone")))):
        with column:
            for field, text in fields:
                st.text_input(label(text, True), key=form.key(field))
                form.error(field)
    postal_code_and_city(form)


def _profession(form: FormState) -> None:
    st.subheader("Votre profession")
    left, right = st.columns(2)
    with left:
        labels = reference.profession_labels()
        form.selectbox(label("Profession", True), list(labels), "profession_code", format_func=labels.get,
                       placeholder="Choisir…")
        form.error("profession_code")
        st.text_input("Spécialité", key=form.key("specialty"), placeholder="ex. réanimation, gériatrie")
    with right:
        st.selectbox(label("Type d'activité", True), list(ACTIVITY), format_func=ACTIVITY.get,
                     key=form.key("activity_type", "salarie"), placeholder="Choisissez dans la liste")
        form.error("activity_type")
        st.radio("Identifiant professionnel", list(ID_TYPES), format_func=ID_TYPES.get, horizontal=True,
                 key=form.key("id_type", "rpps"))
        if form.value("id_type") != "none":
            st.text_input(label(f"Numéro {ID_TYPES[form.value('id_type')]}", True), key=form.key("id_number"),
                          help="RPPS : 11 chiffres (carte CPS). ADELI : 9 caractères.")
        form.error("id_number")
        if form.value("_needs_rpps_confirmation") and form.value("id_type") == "rpps":
            st.checkbox("Je confirme ce numéro RPPS", key=form.key("rpps_confirmed", False))


def _availability(form: FormState) -> None:
    st.subheader("Vos disponibilités")
    left, right = st.columns(2)
    with left:
        st.checkbox("Disponible en semaine", key=form.key("available_week", True))
        st.checkbox("Disponible le week-end", key=form.key("available_weekend", False))
        form.error("available_week")
        st.checkbox("Je dispose d'un véhicule personnel", key=form.key("has_vehicle", False))
    with right:
        st.date_input(label("Disponible à partir du", True), key=form.key("available_from", paris_today()),
                      format="DD/MM/YYYY")
        form.error("available_from")
        to_key = form.key("available_to")
        st.date_input("Jusqu'au (facultatif)", key=to_key, format="DD/MM/YYYY",
                      **({} if to_key in st.session_state else {"value": None}))
        form.error("available_to")
    st.radio(label("Jusqu'où pouvez-vous vous déplacer ?", True), list(MOBILITY), format_func=MOBILITY.get,
             horizontal=True, key=form.key("mobility", "departementale"))
    form.error("mobility")


def _experience(form: FormState) -> None:
    st.subheader("Votre expérience")
    columns = st.columns(4)
    for column, (field, text) in zip(columns, (
        ("exp_ehpad", "Expérience en EHPAD"), ("exp_reanimation", "Expérience en réanimation"),
        ("exp_vaccination", "Expérience en vaccination"), ("volunteer_vaccination", "Volontaire pour vacciner"),
    )):
        column.checkbox(text, key=form.key(field, False))
    form.error("volunteer_vaccination")
    st.text_area("Message aux établissements et à l'ARS (facultatif)", key=form.key("message"), max_chars=2000)
    form.error("message")


def _pool_code(form: FormState) -> None:
    st.subheader("Plateforme territoriale (facultatif)")
    st.text_input("Code de plateforme territoriale", key=form.key(CODE_FIELD), max_chars=12,
                  placeholder="ex. PT33-ABCDE",
                  help="Si une plateforme territoriale de remplacement (EHPAD, services à domicile) vous a donné son "
                       "code : vous rejoignez son vivier, vu de ses seuls établissements membres et de l'ARS, jusqu'à "
                       "ce qu'elle vous ouvre au vivier national. Sans code, vous rejoignez le vivier national.")
    form.error(CODE_FIELD)


def _documents(form: FormState) -> dict[str, tuple[str, bytes]]:
    st.subheader("Vos justificatifs")
    st.caption("PDF, JPEG ou PNG, 5 Mo au plus par fichier. L'ARS les vérifie pour vous attribuer le badge « VÉRIFIÉ ».")
    files = {}
    for kind, text in (("identite", "Pièce d'identité"), ("diplome", "Diplôme")):
        field = f"document_{kind}"
        uploaded = st.file_uploader(label(text, True), type=["pdf", "jpg", "jpeg", "png"],
                                    key=f"{FORM}-upload:{kind}:{form.generation}")
        kept = form.file(field, uploaded)
        if kept and uploaded is None:
            st.caption(f"Fichier conservé : {md(kept[0])}")
        form.error(field)
        if kept:
            files[kind] = kept
    return files


def _submit(form: FormState, documents: dict[str, tuple[str, bytes]]) -> None:
    fields = RegistrationInput.__dataclass_fields__
    values = {name: form.value(name) for name in fields if name != "documents" and form.value(name) is not None}
    data = RegistrationInput(**values, documents=documents)
    if data.id_type == "none":
        data.id_number = ""
    def refused(error: DomainError) -> None:
        needs_confirmation = isinstance(error, FormErrors) and any(isinstance(e, NeedsConfirmation) for e in error.errors)
        form.set_value("_needs_rpps_confirmation", needs_confirmation or bool(form.value("_needs_rpps_confirmation")))
        form.capture(error)

    outcome = run_action(register_with_pool_code, form=data, pool_code=form.value(CODE_FIELD) or "", on_error=refused)
    if outcome:
        form.reset()
        st.session_state[RECEIPT] = outcome.value


def _confirmation(registration: PoolRegistration) -> None:
    if registration.pool_name:
        st.success(f"Merci ! Votre inscription est enregistrée dans le vivier de la plateforme territoriale "
                   f"« {md(registration.pool_name)} » : ses établissements membres peuvent désormais vous solliciter.",
                   icon=":material/check_circle:")
    else:
        st.success("Merci ! Votre inscription est enregistrée : les établissements de votre zone peuvent "
                   "désormais vous solliciter.", icon=":material/check_circle:")
    st.markdown(f"Un courriel vient d'être envoyé à **{md(registration.email)}** avec un lien pour activer votre "
                "compte (valable 72 heures). Votre compte vous permet de mettre à jour vos disponibilités, "
                "de suivre vos missions et de supprimer vos données.")
    page_link("accueil", "Retour à l'accueil", icon=":material/home:")


def render() -> None:
    st.title("Je souhaite proposer mon aide")
    registration = st.session_state.get(RECEIPT)
    if registration is not None:
        _confirmation(registration)
        return
    st.write("Professionnels de santé, étudiants, retraités : inscrivez-vous dans le vivier national de "
             "renforts. Les champs marqués d'un * sont obligatoires.")
    # The pool's code is checked against the pools on submit only: once changed, its error waits for that.
    form = FormState(FORM, checks={CODE_FIELD: FieldCheck(lambda *_: None)})
    _identity(form)
    _profession(form)
    _availability(form)
    _experience(form)
    _pool_code(form)
    documents = _documents(form)
    privacy_notice("volunteer")
    st.checkbox(label("J'ai lu la notice « Données personnelles » ci-dessus et j'accepte que mes données soient "
                      "traitées pour organiser les renforts", True), key=form.key("consent", False))
    form.error("consent")
    form.keep()
    if st.button("Envoyer mon inscription", type="primary", icon=":material/send:"):
        _submit(form, documents)
        st.rerun()
    form.summary()
