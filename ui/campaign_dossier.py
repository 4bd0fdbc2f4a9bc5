"""One dossier of a campaign, as its ARS reads it (issue 15): each tab's values read-only, what is missing, the PDFs
to download (each download audited by core.campaigns.dossiers.attachment_file), and the jury's form when core gives
the row DECIDE (Favorable / Défavorable with a motivation, changeable until the results are published)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import date
from typing import Any

import streamlit as st

from core.campaigns.campaigns import DECISION_LABELS, decide
from core.campaigns.dossiers import attachment_file, dossier_detail
from core.campaigns.fields import (
    CANDIDATE_STATUSES,
    DOCUMENTS_TAB,
    FIELDS,
    LONG_TEXT,
    PERCENT,
    REGISTRATION_LABEL,
)
from core.shared.actions import Action
from core.shared.clock import paris_datetime
from ui.actions import read, run_action, show_refusal
from ui.downloads import prepared_download
from ui.format import fr_date, fr_size
from ui.forms import FormState, label
from ui.markdown import md

MISSING = ":red[à renseigner]"


def _shown(name: str, value: Any) -> str:
    if value is None or value == "":
        return "–"
    kind = FIELDS[name].kind
    if name == "candidate_status":
        return md(CANDIDATE_STATUSES.get(value, value))
    if isinstance(value, date):
        return fr_date(value)
    if kind == PERCENT:
        return f"{value}\u202f%"
    if kind == LONG_TEXT:
        return "  \n" + md(value)
    return md(value)


def _tab_values(tab_input: Any, missing: list[str]) -> str:
    lines = []
    for item in fields(tab_input):
        if item.name not in FIELDS:
            continue
        spec, value = FIELDS[item.name], getattr(tab_input, item.name)
        empty = value is None or value == ""
        wanted = spec.label in missing or (item.name in ("candidate_rpps", "candidate_registration_on")
                                           and REGISTRATION_LABEL in missing)
        lines.append(f"- **{md(spec.label)}** : {MISSING if empty and wanted else _shown(item.name, value)}")
    return "\n".join(lines)


def _pdf(session, *, actor, attachment_id: int) -> bytes:  # noqa: ANN001 - called like a service
    # The bytes, read inside the transaction that records the download.
    return attachment_file(session, actor=actor, attachment_id=attachment_id).content


def _documents(detail: dict[str, Any]) -> None:
    missing = detail["missing"].get(DOCUMENTS_TAB, [])
    for document in detail["documents"]:
        attachment = document["attachment"]
        if attachment is None:
            st.markdown(f"- **{md(document['label'])}** : {MISSING if document['label'] in missing else '–'}")
            continue
        st.markdown(f"- **{md(document['label'])}** : {md(attachment['filename'])} "
                    f"({fr_size(attachment['size'])}, déposé le "
                    f"{paris_datetime(attachment['uploaded_at'])})")
        prepared_download(
            key=f"campaign_attachment_{attachment['id']}", label=f"Télécharger : {md(attachment['filename'])}",
            prepare_label=f"Préparer : {md(document['label'])}", file_name=attachment["filename"],
            mime="application/pdf", help="Chaque téléchargement d'une pièce est inscrit au journal.",
            build=lambda attachment_id=attachment["id"]: _read_pdf(attachment_id))


def _read_pdf(attachment_id: int) -> bytes | None:
    outcome = run_action(_pdf, attachment_id=attachment_id, on_error=show_refusal)
    return outcome.value if outcome else None


def _decision(detail: dict[str, Any]) -> None:
    if detail["decision_label"]:
        when = f" (le {paris_datetime(detail['decided_at'])})" if detail["decided_at"] else ""
        st.markdown(f"**Avis du jury** : {detail['decision_label']}{when}  \n**Motivation** : "
                    f"{md(detail['decision_reason'])}")
    elif Action.DECIDE not in detail["actions"]:
        st.caption("Pas d'avis du jury : le jury statue après la clôture, sur les dossiers confirmés à temps.")


def _jury_form(detail: dict[str, Any], on_change: Callable[[], None]) -> None:
    dossier_id = detail["id"]
    form = FormState(f"campaign_jury:{dossier_id}")
    key = form.key("decision", detail["decision"])
    st.radio(label("Avis du jury", True), list(DECISION_LABELS), format_func=DECISION_LABELS.get, horizontal=True,
             key=key, **({} if key in st.session_state else {"index": None}))
    form.error("decision")
    st.text_area(label("Motivation", True), key=form.key("decision_reason", detail["decision_reason"] or ""),
                 height=100, max_chars=4000,
                 placeholder="Motifs de l'avis, envoyés aux deux partenaires avec les résultats")
    form.error("decision_reason")
    form.keep()
    text = "Modifier la décision" if detail["decision"] else "Enregistrer la décision"
    if st.button(text, type="primary", icon=":material/gavel:", key=f"campaign_decide_{dossier_id}"):
        def done(decided: str) -> str:
            return (f"Avis « {decided} » enregistré pour le dossier de {md(detail['candidate'])} : il reste "
                    "modifiable jusqu'à la publication des résultats.")

        if run_action(decide, dossier_id=dossier_id, decision=form.value("decision") or "",
                      reason=form.value("decision_reason") or "", on_error=form.capture, done=done):
            form.reset()
            on_change()
        st.rerun()
    form.summary()


def dossier_panel(dossier_id: int, on_change: Callable[[], None]) -> None:
    """The dossier read-only in its tabs, its PDFs, and the jury's decision (its form when the row has DECIDE)."""
    detail = read(dossier_detail, dossier_id=dossier_id)
    if detail is None:
        return
    with st.container(border=True):
        st.markdown(f"#### Dossier n° {detail['id']} — {md(detail['candidate'])}")
        confirmed = f" · confirmé le {paris_datetime(detail['confirmed_at'])}" if detail["confirmed_at"] else ""
        priority = "–" if detail["priority"] is None else detail["priority"]
        attached = sum(1 for document in detail["documents"] if document["attachment"])
        st.caption(f"{md(detail['establishment'])} avec {md(detail['partner'] or '–')} · {detail['state_label']} · "
                   f"priorité {priority} de l'établissement · pièces {attached}/{len(detail['documents'])}{confirmed}")
        missing = detail["missing"]
        if missing:
            st.warning("Il manque :\n" + "\n".join(f"- **{md(tab)}** : {md(', '.join(items))}"
                                                    for tab, items in missing.items()), icon=":material/rule:")
        tabs = st.tabs([*detail["tab_labels"].values(), DOCUMENTS_TAB])
        for tab, (code, tab_label) in zip(tabs, detail["tab_labels"].items(), strict=False):
            with tab:
                st.markdown(_tab_values(detail["tabs"][code], missing.get(tab_label, [])))
        with tabs[-1]:
            _documents(detail)
        _decision(detail)
        if Action.DECIDE in detail["actions"]:
            _jury_form(detail, on_change)
