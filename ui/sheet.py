""""Fiche du professionnel" as a dialog, from the candidates' table, the map or the assignments."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.places import reference
from core.shared.clock import paris_datetime
from core.shared.validation import format_phone
from core.volunteers.documents import KIND_LABELS
from core.volunteers.professionals import document_for_download, professional_sheet
from ui.actions import read, run_action, show_refusal
from ui.downloads import prepared_download
from ui.format import fr_date
from ui.labels import ACTIVITY, MOBILITY, PROPOSAL_STATE, yes_no
from ui.markdown import md


def _content(session, *, actor, document_id: int) -> bytes:  # noqa: ANN001 - called like a service
    # The bytes, read inside the transaction: the Document row is detached once it is committed.
    return document_for_download(session, actor=actor, document_id=document_id).content


def _read_document(document_id: int) -> bytes | None:
    """A write: the service records who downloaded the document. A refusal is shown in place (in a dialog)."""
    outcome = run_action(_content, document_id=document_id, on_error=show_refusal)
    return outcome.value if outcome else None


def document_download(document: dict, name: str, *, help: str | None = None) -> None:
    """« Préparer : <name> » reads the document now, while the user is known; then « Télécharger : <name> ».
    `name` is plain text (it holds the file's name as uploaded): escaped here for the buttons' labels."""
    prepared_download(key=f"document_{document['id']}", label=f"Télécharger : {md(name)}",
                      prepare_label=f"Préparer : {md(name)}", file_name=document["filename"], mime=document["mime"],
                      build=lambda: _read_document(document["id"]), help=help)


@st.dialog("Fiche du professionnel", width="large")
def show_sheet(professional_id: int) -> None:
    sheet = read(professional_sheet, professional_id=professional_id)
    if sheet is None:
        return
    p = sheet.professional
    badge = " :blue-badge[VÉRIFIÉ]" if p["verified"] else ""
    # Everything the volunteer typed goes through md(): the sheet is read by establishments and the ARS.
    st.markdown(f"### {md(p['first_name'])} {md(p['last_name'])}{badge}")
    st.caption(f"{reference.profession_labels()[p['profession_code']]}"
               + (f" — {md(p['specialty'])}" if p["specialty"] else "") + f" — {ACTIVITY.get(p['activity_type'], '')}")
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Commune** : {md(p['postal_code'])} {md(p['city'])}  \n"
                    f"**Mobilité** : {MOBILITY[p['mobility']]}  \n"
                    f"**Disponible** : du {fr_date(p['available_from'])}"
                    + (f" au {fr_date(p['available_to'])}" if p["available_to"] else "") + "  \n"
                    f"**Semaine / week-end** : {yes_no(p['available_week'])} / {yes_no(p['available_weekend'])}  \n"
                    f"**Véhicule** : {yes_no(p['has_vehicle'])}")
    with right:
        # Core says which parts this reader sees (professional_sheet): the identifier and the message come with
        # the volunteer's file, the phone and e-mail with their contact details.
        identifier = (f"**Identifiant** : {md(p['id_type'].upper() + ' ' + p['id_number']) if p['id_number'] else '—'}"
                      "  \n") if sheet.file_visible else ""
        st.markdown(f"**EHPAD** : {yes_no(p['exp_ehpad'])} · **Réanimation** : {yes_no(p['exp_reanimation'])} · "
                    f"**Vaccination** : {yes_no(p['exp_vaccination'])}  \n" + identifier +
                    f"**Disponibilités confirmées le** : {paris_datetime(p['availability_confirmed_at'])}")
        if sheet.contact_visible:
            st.markdown(f"**Téléphone** : {md(format_phone(p['phone']))}  \n**Courriel** : {md(p['email'])}")
        if sheet.notice:
            st.info(sheet.notice, icon=":material/lock:")
    if sheet.file_visible and p["message"]:
        st.markdown("**Message du professionnel**")
        st.markdown(md(p["message"]))
    if sheet.documents:
        st.markdown("**Justificatifs**")
    for document in sheet.documents:
        document_download(document, f"{KIND_LABELS.get(document['kind'], 'Document')} — {document['filename']}",
                          help="Chaque téléchargement d'un justificatif est inscrit au journal (qui, quel document).")
    if sheet.history:
        st.markdown("**Historique des sollicitations**")
        st.table(pd.DataFrame([
            {"Date": paris_datetime(h["created_at"]), "Établissement": md(h["establishment"]),  # cells are Markdown
             "Mission": reference.profession_labels().get(h["profession_code"], ""),
             "Période": f"{fr_date(h['start_date'])} – {fr_date(h['end_date'])}",
             "État": PROPOSAL_STATE.get(h["state"], h["state"])}
            for h in sheet.history
        ]).set_index("Date"))
