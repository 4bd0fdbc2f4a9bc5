"""Volunteer: "Mon profil" — availability, pause, documents, deletion of personal data."""

from __future__ import annotations

import streamlit as st

from core.places import reference
from core.pools.roster import MyPools, answer_invitation, leave_pool, my_pools
from core.shared.actions import Action
from core.shared.validation import format_phone
from core.volunteers.documents import KIND_LABELS
from core.volunteers.privacy import my_data_archive
from core.volunteers.professionals import (
    MAX_MESSAGE,
    REQUIRED_DOCUMENTS,
    AvailabilityInput,
    ProfileView,
    delete_professional,
    forget_too_far,
    my_profile,
    replace_document,
    set_available,
    update_professional,
)
from ui.actions import read, run_action, show_refusal
from ui.auth import sign_out_callback
from ui.downloads import prepared_download
from ui.forms import FormState, label
from ui.labels import MOBILITY, PROFESSIONAL_STATUS
from ui.markdown import md
from ui.place import postal_code_and_city
from ui.privacy import privacy_notice
from ui.sheet import document_download
from ui.state import flash

FORM = "my_profile"
UPLOAD_GENERATION = "_my_profile_upload_generation"  # a new key empties the uploader
UPLOAD_ERROR = "_my_profile_upload_error"
SAVED = {"identite": "Pièce d'identité enregistrée", "diplome": "Diplôme enregistré"}
EDITABLE = ("postal_code", "city", "specialty", "has_vehicle", "available_week", "available_weekend",
            "available_from", "available_to", "mobility", "exp_ehpad", "exp_reanimation", "exp_vaccination",
            "volunteer_vaccination", "message")


def _status(profile: ProfileView) -> None:
    p = profile.professional
    badge = " · :blue-badge[VÉRIFIÉ]" if p["verified"] else ""
    st.markdown(f"**Statut : {PROFESSIONAL_STATUS[p['status']]}**{badge}")
    if profile.stale:
        st.warning("Vous n'avez pas confirmé vos disponibilités depuis plus de 30 jours : vérifiez-les et "
                   "enregistrez, vous serez mieux placé(e) dans les recherches.", icon=":material/schedule:")
    if profile.too_far:
        _too_far(profile.too_far)
    if not profile.actions & {Action.PAUSE, Action.RESUME}:
        return  # a live proposal holds the volunteer: « Mes missions » says how to decline it
    available = Action.RESUME in profile.actions
    text = "Me rendre de nouveau disponible" if available else "Me rendre indisponible"
    if st.button(text, type="primary" if available else "secondary",
                 icon=":material/play_circle:" if available else ":material/pause_circle:"):
        run_action(set_available, available=available,
                   done="Vous êtes de nouveau disponible." if available else
                   "Vous êtes indisponible : aucun établissement ne vous verra.")
        st.rerun()


def _too_far(distance: str) -> None:
    st.info(f"Vous avez décliné une mission à {distance} de chez vous comme « trop loin » : les missions au moins "
            "aussi lointaines vous sont proposées après les autres candidats. Un changement d'adresse ou de "
            "mobilité l'annule.", icon=":material/near_me:")
    st.button("Me proposer de nouveau les missions lointaines", icon=":material/undo:", on_click=run_action,
              args=(forget_too_far,), kwargs={"done": "C'est noté : les missions lointaines vous sont de nouveau "
                                              "proposées comme les autres."})


DATES = ("available_from", "available_to")  # None: available from any date (volunteers of before the form's rule)


def _prime(form: FormState, profile: ProfileView) -> None:
    """First display: the form starts from the saved profile."""
    if form.value("_loaded"):
        return
    for field in EDITABLE + ("phone",):
        value = profile.professional[field]
        if field == "phone":
            value = format_phone(value)
        elif value is None and field not in DATES:  # a date widget wants None for « no date », text wants ""
            value = ""
        form.set_value(field, value)
    form.set_value("_loaded", True)


def _edit(form: FormState) -> None:
    st.subheader("Mes coordonnées et disponibilités")
    st.text_input(label("Téléphone", True), key=form.key("phone"))
    form.error("phone")
    postal_code_and_city(form)
    left, right = st.columns(2)
    with left:
        st.checkbox("Disponible en semaine", key=form.key("available_week"))
        st.checkbox("Disponible le week-end", key=form.key("available_weekend"))
        form.error("available_week")
        st.checkbox("Je dispose d'un véhicule personnel", key=form.key("has_vehicle"))
    with right:
        st.date_input(label("Disponible à partir du", True), key=form.key("available_from"), format="DD/MM/YYYY")
        st.date_input("Jusqu'au (facultatif)", key=form.key("available_to"), format="DD/MM/YYYY")
        form.error("available_from", "available_to")
    st.radio(label("Mobilité", True), list(MOBILITY), format_func=MOBILITY.get, horizontal=True,
             key=form.key("mobility"))
    st.text_input("Spécialité", key=form.key("specialty"))
    columns = st.columns(4)
    for column, (field, text) in zip(columns, (
        ("exp_ehpad", "Expérience en EHPAD"), ("exp_reanimation", "Expérience en réanimation"),
        ("exp_vaccination", "Expérience en vaccination"), ("volunteer_vaccination", "Volontaire pour vacciner"),
    )):
        column.checkbox(text, key=form.key(field))
    form.error("volunteer_vaccination")
    st.text_area("Message aux établissements et à l'ARS", key=form.key("message"), max_chars=MAX_MESSAGE)
    form.keep()
    if st.button("Enregistrer et confirmer mes disponibilités", type="primary", icon=":material/save:"):
        values = {name: form.value(name) for name in AvailabilityInput.__dataclass_fields__}
        if run_action(update_professional, data=AvailabilityInput(**values), on_error=form.capture,
                      done=lambda changed: "Profil enregistré et disponibilités confirmées"
                      + (f" ({len(changed)} champ(s) modifié(s))." if changed else ".")):
            form.set_errors({})
        st.rerun()
    form.summary()




def _answered(accept: bool):  # noqa: ANN202 - the confirmation's wording from the service's answer
    def done(pool: str) -> str:
        return (f"Vous avez rejoint le vivier de la plateforme territoriale « {md(pool)} »." if accept else
                f"Invitation de la plateforme territoriale « {md(pool)} » déclinée : elle ne vous sera plus proposée.")
    return done


def _left(paused: bool) -> str:
    return "Vous avez quitté la plateforme territoriale." + (
        " Vous vous étiez inscrit(e) pour elle seulement : votre profil est mis en pause. Rendez-vous disponible "
        "ci-dessus pour rejoindre le vivier national." if paused else " Vous restez dans le vivier national.")


def _pools(pools: MyPools) -> None:
    """Invitations to answer, then the pools the volunteer belongs to (nothing at all when neither)."""
    if pools.invitations:
        st.subheader("Invitations des plateformes territoriales")
        for row in pools.invitations:
            with st.container(border=True):
                st.markdown(f"**{md(row['pool'])}** — {row['department']}"
                            + (f" — coordination : {md(row['coordinator'])}" if row["coordinator"] else ""))
                st.caption("Les établissements membres de la plateforme (EHPAD, services à domicile) vous verront en "
                           "tête de leurs candidats, et la plateforme pourra vous proposer leurs missions. Vous restez "
                           "dans le vivier national et libre de refuser chaque mission.")
                left, right = st.columns(2)
                for column, accept, text, icon in ((left, True, "Accepter l'invitation", ":material/check:"),
                                                   (right, False, "Décliner l'invitation", ":material/close:")):
                    column.button(text, key=f"pool_answer_{row['id']}_{accept}", icon=icon, width="stretch",
                                  type="primary" if accept else "secondary", on_click=run_action,
                                  args=(answer_invitation,),
                                  kwargs={"entry_id": row["id"], "accept": accept, "done": _answered(accept)})
    if pools.memberships:
        st.subheader("Mes plateformes territoriales")
        for row in pools.memberships:
            with st.container(border=True):
                st.markdown(f"**{md(row['pool'])}** — {row['department']}")
                st.caption(row["visibility"])
                with st.popover("Quitter la plateforme…", icon=":material/logout:"):
                    st.write("Vous ne ferez plus partie de son vivier ; vos missions en cours ne changent pas.")
                    st.button("Confirmer", key=f"pool_leave_{row['id']}", type="primary", on_click=run_action,
                              args=(leave_pool,), kwargs={"entry_id": row["id"], "done": _left})


def _documents(profile: ProfileView) -> None:
    st.subheader("Mes justificatifs")
    by_kind = {document["kind"]: document for document in profile.documents}
    for kind in REQUIRED_DOCUMENTS:
        document = by_kind.get(kind)
        if document is None:
            st.warning(f"{KIND_LABELS[kind]} : aucun fichier. Ajoutez-le ci-dessous, votre ARS en a besoin pour "
                       "vérifier votre profil.", icon=":material/upload_file:")
            continue
        size = f"{max(1, round(document['size'] / 1024))} Ko"
        # Read only when asked (« Préparer »): the page never loads megabytes of documents to draw.
        document_download(document, f"{KIND_LABELS[kind]} — {document['filename']} ({size})")
    _replace_document(bool(profile.professional["verified"]), expanded=len(by_kind) < len(REQUIRED_DOCUMENTS))


def _replace_document(verified: bool, *, expanded: bool) -> None:
    """Add or replace one document; the uploader is emptied after a success (a new key), kept after an error."""
    generation = st.session_state.setdefault(UPLOAD_GENERATION, 0)
    with st.expander("Ajouter ou remplacer un justificatif", expanded=expanded or UPLOAD_ERROR in st.session_state,
                     icon=":material/upload_file:"):
        kind = st.radio(label("Justificatif", True), REQUIRED_DOCUMENTS, format_func=KIND_LABELS.get, horizontal=True,
                        key="document_kind")
        uploaded = st.file_uploader(label("Fichier (PDF, JPEG ou PNG, 5 Mo au plus)", True),
                                    type=["pdf", "jpg", "jpeg", "png"], key=f"document_upload:{generation}")
        if st.session_state.get(UPLOAD_ERROR):
            st.error(md(st.session_state[UPLOAD_ERROR]), icon=":material/error:")  # may quote the file's name
        if verified:
            st.info("Votre profil porte le badge VÉRIFIÉ : votre ARS devra vérifier le nouveau fichier, le badge est "
                    "retiré en attendant.", icon=":material/verified:")
        if st.button("Enregistrer le justificatif", icon=":material/save:"):
            _save_document(kind, uploaded)


def _save_document(kind: str, uploaded) -> None:  # noqa: ANN001 - streamlit's UploadedFile or None
    if uploaded is None:
        st.session_state[UPLOAD_ERROR] = "Fichier : choisissez le fichier à enregistrer."
        st.rerun()
    outcome = run_action(replace_document, kind=kind, filename=uploaded.name, content=uploaded.getvalue(),
                         on_error=lambda error: st.session_state.__setitem__(UPLOAD_ERROR, error.message))
    if not outcome:
        st.rerun()
    unverified = outcome.value
    st.session_state.pop(UPLOAD_ERROR, None)
    st.session_state[UPLOAD_GENERATION] += 1
    flash("success", f"{SAVED[kind]} : « {md(uploaded.name.strip())} »."
          + (" Votre ARS le vérifiera : le badge VÉRIFIÉ reviendra ensuite." if unverified else ""))
    st.rerun()


def _my_data() -> None:
    st.subheader("Mes données")
    privacy_notice("volunteer")
    st.write("Téléchargez tout ce que Renfort RH conserve sur vous : votre profil, votre compte, l'historique de "
             "vos sollicitations (fichier JSON) et vos justificatifs, dans une archive .zip.")
    prepared_download(key="my_data_archive", label="Télécharger mes données (.zip)", file_name="mes-donnees.zip",
                      mime="application/zip", prepare_label="Préparer mes données",
                      build=lambda: run_action(my_data_archive, on_error=show_refusal).value)


def _delete() -> None:
    st.subheader("Supprimer mes données")
    st.write("Vos nom, coordonnées, documents et message sont effacés définitivement. Les statistiques "
             "anonymes (profession, département) sont conservées.")
    with st.popover("Supprimer mes données…", icon=":material/delete_forever:"):
        st.warning("Cette action est définitive.")
        confirm = st.checkbox("Je confirme vouloir supprimer mes données")
        if st.button("Supprimer définitivement", disabled=not confirm, type="primary"):
            if run_action(delete_professional):
                sign_out_callback()
                flash("success", "Vos données ont été supprimées. Merci pour votre engagement.")
            st.rerun()


def render() -> None:
    st.title("Mon profil")
    profile = read(my_profile)
    if profile is None:
        return
    p = profile.professional
    st.caption(f"{md(p['first_name'])} {md(p['last_name'])} — {reference.profession_labels()[p['profession_code']]} — "
               f"{md(p['email'])}")
    _status(profile)
    pools = read(my_pools)
    if pools is not None:
        _pools(pools)
    form = FormState(FORM)
    _prime(form, profile)
    _edit(form)
    _documents(profile)
    _my_data()
    _delete()
