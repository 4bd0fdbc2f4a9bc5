"""One dossier of an application campaign, in tabs (issue 15): the five tabs of fields, each a form saved on its own
(« Enregistrer l'onglet »), the PDFs, the confirmation, the jury's decision and the follow-up, and the deletion.

Nothing typed is lost: each tab of each dossier keeps its draft in a ui.forms.FormState (session state), so that it
survives a switch of tab, of dossier or of page; a tab whose draft differs from the saved dossier says so, the
dossier lists its tabs with unsaved changes above the tabs, and the browser asks before leaving the site while any
draft is unsaved (the source tool silently lost them). What the reader may do comes from core with the dossier
(`actions`): a closed campaign gives no action, and the dossier is shown read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import streamlit as st

from core.campaigns import fields as f
from core.campaigns.dossiers import (
    SavedTab,
    attachment_file,
    confirm_dossier,
    create_dossier,
    delete_attachment,
    delete_dossier,
    dossier_detail,
    new_identification,
    save_tab,
    upload_attachment,
)
from core.campaigns.followup import confirm_project, confirm_start
from core.shared.actions import Action
from core.shared.clock import paris_datetime, paris_today
from core.shared.errors import DomainError, FormErrors, ValidationError
from core.shared.validation import NeedsConfirmation
from ui.actions import read, run_action, show_refusal
from ui.downloads import prepared_download
from ui.field_checks import FieldCheck
from ui.format import fr_date, fr_size
from ui.forms import REQUIRED, FormState, label
from ui.markdown import md
from ui.state import signed_in_user

NEW = -1  # « Nouveau dossier » in the page's choice of dossier
UNSAVED = "_dossier_unsaved"  # {"<campaign id>:<dossier id or new>": [labels of the tabs with unsaved changes]}
LAST_TAB = "_dossier_last_tab"  # {dossier id: the tab last shown}, to come back to it after a page switch
UPLOADS = "_dossier_upload_generation"  # {"<dossier id>:<code>": n}: a fresh uploader after each saved PDF
UPLOAD_ERRORS = "_dossier_upload_errors"  # {"<dossier id>:<code>": the refusal of the last upload}
CONFIRMATION, DECISION = "Confirmation", "Décision"
NEEDS_CONFIRMATION = "_needs_rpps_confirmation"
LEFT, RIGHT = "hospital_", "partner_"  # the Identification tab: the recruiting establishment, then its partner
HELP = {"candidate_rpps": "11 chiffres (carte CPS). À défaut, indiquez la date prévue d'inscription à l'Ordre.",
        "hospital_finess": "9 chiffres, clé de contrôle comprise.", "partner_finess": "9 chiffres, clé de contrôle comprise.",
        "hospital_siret": "14 chiffres (SIRET) ou 9 chiffres (SIREN).",
        "partner_siret": "14 chiffres (SIRET) ou 9 chiffres (SIREN)."}
# The uploaders of the dossiers take PDFs only: their drop zone says so (the app's style says « PDF, JPEG ou PNG »).
UPLOAD_STYLE = """<style>
  [class*="st-key-dossier_upload"] [data-testid="stFileUploaderDropzoneInstructions"] span::after
    { content: "PDF uniquement — %s au plus"; }
  /* The chosen file's size in English units (« 0.7KB »): said in French under the field. */
  [class*="st-key-dossier_upload"] [data-testid="stFileChipName"] + div { display: none; }
</style>"""
PROJECT_CHOICES = {"maintenu": "Oui, le projet de recrutement est maintenu",
                   "abandonne": "Non, le projet de recrutement est abandonné"}


# ---------------------------------------------------------------- drafts


def form_name(dossier_id: int | str, tab: str) -> str:
    return f"dossier:{dossier_id}:{tab}"


def new_form_name(campaign_id: int) -> str:
    return f"dossier_new:{campaign_id}"


def _unsaved() -> dict[str, list[str]]:
    return st.session_state.setdefault(UNSAVED, {})


def draft_key(campaign_id: int, dossier_id: int) -> str:
    return f"{campaign_id}:{'new' if dossier_id == NEW else dossier_id}"


def unsaved_tabs(campaign_id: int, dossier_id: int) -> list[str]:
    """The tabs of a dossier (or of the new dossier) whose draft was not saved, as last drawn."""
    return list(_unsaved().get(draft_key(campaign_id, dossier_id), []))


def forget_dossier(campaign_id: int, dossier_id: int) -> None:
    """Drop every draft of a dossier (after its deletion)."""
    _unsaved().pop(draft_key(campaign_id, dossier_id), None)
    prefix = f"_form:{form_name(dossier_id, '')}"
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]


def prune_drafts(campaign_id: int, dossier_ids: set[int]) -> None:
    """Forget the unsaved marks of this campaign's dossiers that no longer exist (deleted from another tab)."""
    for key in [k for k in _unsaved() if k.startswith(f"{campaign_id}:")]:
        tail = key.split(":", 1)[1]
        if tail != "new" and int(tail) not in dossier_ids:
            del _unsaved()[key]


def _normal(value: Any) -> Any:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value


def changed_fields(form: FormState, saved: Any, names: list[str]) -> list[str]:
    """The labels of the fields whose draft differs from the saved value (blanks and outer spaces aside)."""
    return [f.FIELDS[name].label for name in names
            if _normal(form.value(name, getattr(saved, name))) != _normal(getattr(saved, name))]


# A constant script, never any user text: while a draft is unsaved the browser asks before the page is left
# (reloaded, closed, another site). A switch between the app's pages keeps the drafts in the session.
_GUARD = """<span class="renfort-unsaved-guard"></span>
<style>.stElementContainer:has(.renfort-unsaved-guard) { display: none; }</style>
<script>
(() => {
  window.renfortUnsaved = %s;
  if (window.renfortUnsavedGuard) return;
  window.renfortUnsavedGuard = true;
  window.addEventListener("beforeunload", (event) => {
    if (!window.renfortUnsaved) return;
    event.preventDefault();
    event.returnValue = "";
  });
})();
</script>"""
GUARD_ON, GUARD_OFF = _GUARD % "true", _GUARD % "false"


def unsaved_guard() -> None:
    """The browser's « leave the page? » warning, on while any dossier has an unsaved draft."""
    pending = any(_unsaved().values())
    st.html(GUARD_ON if pending else GUARD_OFF, unsafe_allow_javascript=True)


# ---------------------------------------------------------------- the fields


def required_fields(campaign: dict[str, Any]) -> set[str]:
    """The campaign's mandatory fields (its choice and those always mandatory), by field name."""
    names = set(campaign["required_fields"]) | set(f.ALWAYS_REQUIRED)
    if f.REGISTRATION in names:
        names |= {"candidate_rpps", "candidate_registration_on"}
    return names


def _field_check(tab: str, name: str) -> FieldCheck:
    """A field checked again by core's own rules once it changes after a refused save (ui.forms)."""
    cls = f.TAB_INPUTS[tab]

    def check(value: Any, sibling: Callable[[str], Any], field: str) -> None:
        values = {name: value}
        if tab == f.CANDIDATE:
            values["rpps_confirmed"] = bool(sibling("rpps_confirmed"))
            if name == "candidate_registration_on":
                values["candidate_rpps"] = sibling("candidate_rpps") or ""
        try:
            f.clean_tab(cls(**values))
        except FormErrors as error:
            message = error.by_field().get(name)
            if message:
                raise ValidationError(field, message) from error

    watches = {"candidate_rpps": ("rpps_confirmed",), "candidate_registration_on": ("candidate_rpps",)}
    return FieldCheck(check, watches.get(name, ()))


def _checks(tab: str) -> dict[str, FieldCheck]:
    return {name: _field_check(tab, name) for name in f.tab_columns(tab)}


def _field(form: FormState, name: str, saved: Any, required: set[str]) -> None:
    spec = f.FIELDS[name]
    text = label(spec.label, name in required)
    default = getattr(saved, name)
    if spec.kind == f.LONG_TEXT:
        st.text_area(text, key=form.key(name, default or ""), max_chars=spec.max_length, height=140)
    elif spec.kind == f.PERCENT:
        key = form.key(name, default)
        st.number_input(text, key=key, min_value=0, max_value=100, step=1, placeholder="de 0 à 100",
                        **({} if key in st.session_state else {"value": None}))
    elif spec.kind == f.STATUS:
        key = form.key(name, default or None)
        st.selectbox(text, list(f.CANDIDATE_STATUSES), format_func=f.CANDIDATE_STATUSES.get, key=key,
                     placeholder="Choisissez dans la liste", **({} if key in st.session_state else {"index": None}))
    elif spec.kind == f.DATE:
        key = form.key(name, default)
        st.date_input(text, key=key, format="DD/MM/YYYY", min_value=date(2000, 1, 1), max_value=date(2100, 12, 31),
                      help="Laissez vide si le candidat a déjà un n° RPPS.",
                      **({} if key in st.session_state else {"value": None}))
    else:
        st.text_input(text, key=form.key(name, default or ""), max_chars=spec.max_length, help=HELP.get(name))
    form.error(name)


def _shown(name: str, value: Any) -> str:
    if value is None or value == "":
        return "–"
    kind = f.FIELDS[name].kind
    if kind == f.STATUS:
        return f.CANDIDATE_STATUSES.get(value, value)
    if kind == f.DATE:
        return fr_date(value)
    if kind == f.PERCENT:
        return f"{value} %"
    return md(str(value))


def _read_only(saved: Any, names: list[str], required: set[str]) -> None:
    star = " \\*"  # the mark of a mandatory field, escaped for Markdown
    st.markdown("  \n".join(f"**{f.FIELDS[name].label}**{star if name in required else ''} : "
                            f"{_shown(name, getattr(saved, name))}" for name in names))


def _tab_values(form: FormState, tab: str) -> Any:
    """The tab's input (core.campaigns.fields) from its draft."""
    values = {}
    for name in f.tab_columns(tab):
        value = form.value(name)
        values[name] = "" if value is None and f.FIELDS[name].kind not in (f.PERCENT, f.DATE) else value
    if tab == f.CANDIDATE:
        values["rpps_confirmed"] = bool(form.value("rpps_confirmed"))
    return f.TAB_INPUTS[tab](**values)


def _capture(form: FormState) -> Callable[[DomainError], None]:
    """A refused save: each error under its field; an RPPS whose key does not match offers « Je confirme »."""
    def on_error(error: DomainError) -> None:
        form.capture(error)
        if isinstance(error, FormErrors) and any(isinstance(e, NeedsConfirmation) for e in error.errors):
            form.set_value(NEEDS_CONFIRMATION, True)
    return on_error


def _fields(form: FormState, tab: str, saved: Any, required: set[str]) -> None:
    names = f.tab_columns(tab)
    if tab == f.IDENTIFICATION:
        left, right = st.columns(2)
        with left:
            st.markdown("**Établissement recruteur**")
            for name in (n for n in names if n.startswith(LEFT)):
                _field(form, name, saved, required)
        with right:
            st.markdown("**Structure de soins partenaire**")
            for name in (n for n in names if n.startswith(RIGHT)):
                _field(form, name, saved, required)
        return
    for name in names:
        _field(form, name, saved, required)
        if name == "candidate_rpps" and form.value(NEEDS_CONFIRMATION):
            st.checkbox("Je confirme ce numéro", key=form.key("rpps_confirmed", False),
                        help="La clé du numéro ne correspond pas : cochez si le numéro est exact.")


def _saved_message(tab_label: str, saved: SavedTab, was_confirmed: bool) -> str:
    if not saved.changed:
        return f"Onglet « {tab_label} » : aucune modification à enregistrer."
    text = (f"Onglet « {tab_label} » enregistré. Modifié(s) : {md(', '.join(saved.changed))}. État du dossier : "
            f"**{saved.state_label}**.")
    if was_confirmed:
        text += " Le dossier n'est plus confirmé : confirmez-le de nouveau dans l'onglet « Confirmation »."
    return text


def _missing_in(tab_label: str, missing: dict[str, list[str]]) -> None:
    found = missing.get(tab_label)
    if found:
        st.warning(f"Il manque dans cet onglet : {md(', '.join(found))}.", icon=":material/pending:")
    else:
        st.caption("Rien ne manque dans cet onglet.")


CONFIRMED_CAPTION = ("Ce dossier est confirmé : enregistrer une modification le remet à l'état Incomplet ou Complet, "
                     "et il faudra le confirmer de nouveau.")


def _field_tab(detail: dict[str, Any], campaign: dict[str, Any], tab: str, editable: bool) -> list[str]:
    """One tab of fields; returns the labels of its unsaved fields."""
    saved, tab_label, names = detail["tabs"][tab], f.TABS[tab], f.tab_columns(tab)
    required = required_fields(campaign)
    notice = st.empty()
    _missing_in(tab_label, detail["missing"])
    if not editable:
        _read_only(saved, names, required)
        return []
    if detail["confirmed_at"]:
        st.caption(CONFIRMED_CAPTION)
    form = FormState(form_name(detail["id"], tab), checks=_checks(tab))
    _fields(form, tab, saved, required)
    form.keep()
    changed = changed_fields(form, saved, names)
    if changed:
        notice.warning(f"Modifications non enregistrées dans cet onglet : {md(', '.join(changed))}.",
                       icon=":material/edit_note:")
    if st.button("Enregistrer l'onglet", key=f"dossier_save:{detail['id']}:{tab}", type="primary",
                 icon=":material/save:"):
        was_confirmed = detail["confirmed_at"] is not None
        outcome = run_action(save_tab, dossier_id=detail["id"], tab=_tab_values(form, tab), on_error=_capture(form),
                             done=lambda result: _saved_message(tab_label, result, was_confirmed))
        if outcome:
            form.reset()
        st.rerun()
    form.summary()
    return changed


# ---------------------------------------------------------------- the PDFs


def _upload_key(dossier_id: int, code: str) -> str:
    generation = st.session_state.setdefault(UPLOADS, {}).get(f"{dossier_id}:{code}", 0)
    return f"dossier_upload:{dossier_id}:{code}:{generation}"


def _uploaded(dossier_id: int, code: str) -> None:
    generations = st.session_state.setdefault(UPLOADS, {})
    generations[f"{dossier_id}:{code}"] = generations.get(f"{dossier_id}:{code}", 0) + 1


def _attachment(detail: dict[str, Any], document: dict[str, Any]) -> None:
    attachment = document["attachment"]
    if attachment is None:
        st.caption("Aucun fichier déposé.")
        return
    st.markdown(f":material/picture_as_pdf: {md(attachment['filename'])} — {fr_size(attachment['size'])} — déposé "
                f"le {paris_datetime(attachment['uploaded_at'])}")

    def build() -> bytes | None:
        found = run_action(attachment_file, attachment_id=attachment["id"], on_error=show_refusal)
        return found.value.content if found else None

    prepared_download(key=f"dossier_pdf_{attachment['id']}_{int(attachment['uploaded_at'].timestamp())}",
                      label="Télécharger le PDF", file_name=attachment["filename"], mime="application/pdf",
                      build=build, prepare_label="Préparer le téléchargement")


def _upload(form: FormState, detail: dict[str, Any], document: dict[str, Any]) -> bool:
    """Add or replace the PDF of one document; returns whether a chosen file waits to be saved."""
    dossier_id, code = detail["id"], document["code"]
    key = _upload_key(dossier_id, code)
    drawn = key in st.session_state
    text = "Remplacer par un autre fichier" if document["attachment"] else "Déposer le fichier"
    uploaded = st.file_uploader(f"{text} (PDF uniquement, {fr_size(detail['max_bytes'])} au plus)", type=["pdf"],
                                key=key)
    if uploaded is None and drawn:
        form.drop_file(code)  # removed from the field
    kept = form.file(code, uploaded)
    if kept is not None:
        st.caption(f"Fichier choisi, pas encore enregistré : « {md(kept[0])} » ({fr_size(len(kept[1]))}).")
    errors = st.session_state.setdefault(UPLOAD_ERRORS, {})
    if errors.get(f"{dossier_id}:{code}"):
        st.error(md(errors[f"{dossier_id}:{code}"]), icon=":material/error:")  # may quote the file's name
    if st.button("Enregistrer la pièce", key=f"dossier_upload_save:{dossier_id}:{code}", icon=":material/upload:"):
        if kept is None:
            errors[f"{dossier_id}:{code}"] = "Choisissez d'abord le fichier PDF à enregistrer."
            st.rerun()
        outcome = run_action(upload_attachment, dossier_id=dossier_id, kind=code, filename=kept[0], content=kept[1],
                             on_error=lambda error: errors.__setitem__(f"{dossier_id}:{code}", error.message),
                             done=lambda saved: f"Pièce « {md(document['label'])} » enregistrée : « {md(kept[0])} ». "
                                                f"État du dossier : **{saved.state_label}**.")
        if outcome:
            errors.pop(f"{dossier_id}:{code}", None)
            form.drop_file(code)
            _uploaded(dossier_id, code)
        st.rerun()
    return kept is not None


def _delete_attachment(detail: dict[str, Any], document: dict[str, Any]) -> None:
    attachment = document["attachment"]
    with st.popover("Supprimer la pièce…", icon=":material/delete:"):
        st.warning(f"Le fichier « {md(attachment['filename'])} » sera supprimé : le dossier redeviendra incomplet "
                   "jusqu'au dépôt d'un autre fichier.")
        if st.button("Supprimer définitivement", key=f"dossier_pdf_delete:{attachment['id']}", type="primary"):
            run_action(delete_attachment, attachment_id=attachment["id"],
                       done=lambda saved: f"Pièce « {md(document['label'])} » supprimée. État du dossier : "
                                          f"**{saved.state_label}**.")
            st.rerun()


def _documents_tab(detail: dict[str, Any]) -> bool:
    """The campaign's documents, each with its PDF; returns whether a chosen file waits to be saved."""
    notice = st.empty()
    _missing_in(f.DOCUMENTS_TAB, detail["missing"])
    st.caption(f"Une pièce par document demandé, au format PDF uniquement ({fr_size(detail['max_bytes'])} au plus) : "
               "le contenu du fichier est vérifié. Un nouveau fichier remplace le précédent.")
    form = FormState(form_name(detail["id"], "pieces"))
    st.html(UPLOAD_STYLE % fr_size(detail["max_bytes"]))  # a size we format, no user text
    pending = []
    for document in detail["documents"]:
        with st.container(border=True):
            st.markdown(f"**{md(document['label'])}**{REQUIRED}")
            _attachment(detail, document)
            if Action.UPLOAD in document["actions"] and _upload(form, detail, document):
                pending.append(document["label"])
            if Action.DELETE in document["actions"]:
                _delete_attachment(detail, document)
    if pending:
        notice.warning(f"Fichier(s) choisi(s) mais pas encore enregistré(s) : {md(', '.join(pending))}.",
                       icon=":material/edit_note:")
    return bool(pending)


# ---------------------------------------------------------------- confirmation, decision, follow-up


def _acknowledged_to(detail: dict[str, Any]) -> str:
    user = signed_in_user()
    addresses = [detail["tabs"][f.IDENTIFICATION].hospital_email, user.email if user else ""]
    return ", ".join(md(a) for a in dict.fromkeys(a.lower() for a in addresses if a))


def _confirmation_tab(detail: dict[str, Any], editable: bool) -> None:
    commitments = detail["commitments"]
    if detail["confirmed_at"]:
        st.info(f"Dossier confirmé le {paris_datetime(detail['confirmed_at'])}.", icon=":material/task_alt:")
        st.markdown("**Engagements pris**  \n" + "  \n".join(f"✔ {md(text)}" for text in commitments.values()))
        if editable:
            st.caption(CONFIRMED_CAPTION)
        return
    confirmable = Action.CONFIRM in detail["actions"]
    if detail["missing"]:
        lines = "  \n".join(f"**{md(tab)}** : {md(', '.join(items))}" for tab, items in detail["missing"].items())
        st.warning("Le dossier est incomplet : il ne peut pas être confirmé. Il manque :  \n" + lines,
                   icon=":material/pending:")
    elif not editable:
        st.info("Ce dossier n'a pas été confirmé avant la clôture de l'appel : il est non recevable.")
    if not editable:
        return
    form = FormState(form_name(detail["id"], "confirmation"))
    st.markdown("**Engagements** — cochez chacun d'eux pour confirmer le dossier.")
    for code, text in commitments.items():
        st.checkbox(text, key=form.key(code, False), disabled=not confirmable)
    form.keep()
    if not confirmable:
        return
    st.caption("Un accusé de réception est envoyé par courriel au bureau des affaires médicales à la confirmation. "
               "Jusqu'à la clôture, le dossier reste modifiable : il faudra alors le confirmer de nouveau.")
    if st.button("Confirmer le dossier", key=f"dossier_confirm:{detail['id']}", type="primary",
                 icon=":material/task_alt:"):
        ticked = [code for code in commitments if form.value(code)]
        to = _acknowledged_to(detail)
        outcome = run_action(confirm_dossier, dossier_id=detail["id"], commitments=ticked, on_error=form.capture,
                             done=lambda at: f"Dossier confirmé le {paris_datetime(at)} : un accusé de réception a été "
                                             f"envoyé par courriel à {to}.")
        if outcome:
            form.reset()
        st.rerun()
    form.error("commitments")
    form.error("_form")


def _follow_up(detail: dict[str, Any]) -> None:
    follow = detail["follow_up"]
    form = FormState(form_name(detail["id"], "suivi"))
    st.subheader("Suivi du projet retenu")
    st.markdown(f"**1. Maintien du projet de recrutement** — à confirmer au plus tard le "
                f"{fr_date(follow['project_due'])}")
    if follow["project_maintained"] is not None:
        answer = "projet maintenu" if follow["project_maintained"] else "projet abandonné"
        st.markdown(f"Réponse enregistrée le {paris_datetime(follow['project_answered_at'])} : **{answer}**.")
    if follow["start_confirmed_at"] is None:
        key = form.key("maintained", None if follow["project_maintained"] is None
                       else "maintenu" if follow["project_maintained"] else "abandonne")
        st.radio("Le projet de recrutement est-il maintenu ?", list(PROJECT_CHOICES), format_func=PROJECT_CHOICES.get,
                 key=key, **({} if key in st.session_state else {"index": None}))
        form.error("maintained")
        if st.button("Enregistrer la réponse", key=f"dossier_project:{detail['id']}", icon=":material/save:"):
            choice = form.value("maintained")
            if choice is None:
                form.set_errors({"maintained": "Indiquez si le projet de recrutement est maintenu."})
            else:
                outcome = run_action(confirm_project, dossier_id=detail["id"], maintained=choice == "maintenu",
                                     on_error=form.capture,
                                     done=lambda shown: f"Maintien du projet de recrutement : {shown.lower()}.")
                if outcome:
                    form.reset()
            st.rerun()
        form.error("_form")
    st.markdown(f"**2. Prise de poste du médecin** — à confirmer au plus tard le {fr_date(follow['start_due'])}")
    if follow["start_confirmed_at"] is not None:
        st.markdown(f"Médecin en poste depuis le **{fr_date(follow['doctor_started_on'])}** (confirmé le "
                    f"{paris_datetime(follow['start_confirmed_at'])}).")
    elif follow["project_maintained"] is True:
        key = form.key("started_on")
        st.date_input(label("Date de prise de poste", True), key=key, format="DD/MM/YYYY",
                      max_value=paris_today(), **({} if key in st.session_state else {"value": None}))
        form.error("started_on")
        if st.button("Confirmer la prise de poste", key=f"dossier_start:{detail['id']}", type="primary",
                     icon=":material/how_to_reg:"):
            started = form.value("started_on")
            if started is None:
                form.set_errors({"started_on": "Indiquez la date à laquelle le médecin a pris son poste."})
            else:
                outcome = run_action(confirm_start, dossier_id=detail["id"], started_on=started,
                                     on_error=form.capture,
                                     done=lambda day: f"Prise de poste du médecin confirmée au {fr_date(day)}.")
                if outcome:
                    form.reset()
            st.rerun()
    elif follow["project_maintained"] is False:
        st.caption("Sans objet : le projet de recrutement est abandonné.")
    else:
        st.caption("À confirmer une fois le maintien du projet enregistré.")
    form.keep()


def _decision_tab(detail: dict[str, Any]) -> None:
    if detail["decision_label"]:
        when = f" le {paris_datetime(detail['decided_at'])}" if detail["decided_at"] else ""
        st.info(f"Décision du jury{when} : **{detail['decision_label']}**", icon=":material/gavel:")
        st.markdown(f"**Motivation** : {md(detail['decision_reason'] or '–')}")
    elif detail["confirmed_at"] is None:
        st.info("Ce dossier n'était pas confirmé à la clôture de l'appel : non recevable, il n'a pas été transmis au "
                "jury.", icon=":material/block:")
    else:
        st.info("Aucune décision n'est enregistrée pour ce dossier.")
    if detail["follow_up"] is not None and Action.FOLLOW_UP in detail["actions"]:
        _follow_up(detail)


# ---------------------------------------------------------------- the dossier


def _delete(campaign_id: int, detail: dict[str, Any], on_deleted: Callable[[], None]) -> None:
    with st.popover("Supprimer ce dossier…", icon=":material/delete_forever:"):
        st.warning(f"Le dossier de {md(detail['candidate'])} et ses pièces seront supprimés définitivement ; vos autres "
                   "dossiers gardent leur ordre de priorité.")
        if st.button("Supprimer définitivement le dossier", key=f"dossier_delete:{detail['id']}", type="primary"):
            outcome = run_action(delete_dossier, dossier_id=detail["id"],
                                 done=lambda name: f"Dossier de {md(name)} supprimé.")
            if outcome:
                forget_dossier(campaign_id, detail["id"])
                on_deleted()
            st.rerun()


def _tabs(detail: dict[str, Any], labels: list[str], default: str) -> list:
    """The tabs, the one shown kept across reruns and page switches."""
    key = f"dossier_tabs:{detail['id']}"
    last = st.session_state.setdefault(LAST_TAB, {})
    if st.session_state.get(key) not in labels:
        st.session_state[key] = last.get(detail["id"]) if last.get(detail["id"]) in labels else default
    tabs = st.tabs(labels, key=key, on_change="rerun")
    last[detail["id"]] = st.session_state[key]
    return tabs


def dossier_view(campaign: dict[str, Any], dossier_id: int, on_deleted: Callable[[], None]) -> None:
    """One dossier of the establishment, in tabs."""
    detail = read(dossier_detail, dossier_id=dossier_id)
    if detail is None:
        return
    actions = detail["actions"]
    editable = Action.EDIT in actions
    # the dossier's number is the one the ARS sees (its reference on the phone); the priority is the office's rank
    st.subheader(f"Dossier n° {detail['id']} — {md(detail['candidate'])}")
    attached = sum(1 for document in detail["documents"] if document["attachment"])
    st.markdown(f"État : **{detail['state_label']}** — priorité {detail['priority'] or '–'} — structure partenaire : "
                f"{md(detail['partner'] or '–')} — pièces : {attached}/{detail['documents_required']}")
    summary = st.empty()
    labels = [*f.TABS.values(), f.DOCUMENTS_TAB, CONFIRMATION, *([DECISION] if campaign["results_published"] else [])]
    tabs = dict(zip(labels, _tabs(detail, labels, DECISION if campaign["results_published"] else labels[0]),
                    strict=True))
    unsaved = []
    for tab, tab_label in f.TABS.items():
        with tabs[tab_label]:
            if _field_tab(detail, campaign, tab, editable):
                unsaved.append(tab_label)
    with tabs[f.DOCUMENTS_TAB]:
        if _documents_tab(detail):
            unsaved.append(f.DOCUMENTS_TAB)
    with tabs[CONFIRMATION]:
        _confirmation_tab(detail, editable)
    if DECISION in tabs:
        with tabs[DECISION]:
            _decision_tab(detail)
    _unsaved()[draft_key(campaign["id"], dossier_id)] = unsaved
    if unsaved:
        summary.warning(f"Modifications non enregistrées : {', '.join(unsaved)}. Enregistrez chaque onglet : vos "
                        "saisies sont gardées le temps de votre session, pas au-delà.", icon=":material/edit_note:")
    if Action.DELETE in actions:
        _delete(campaign["id"], detail, on_deleted)


def new_dossier_view(campaign: dict[str, Any], establishment_id: int, on_created: Callable[[int], None]) -> None:
    """A new dossier: its Identification tab (prefilled with the establishment) creates it."""
    prefill = read(new_identification, establishment_id=establishment_id)
    if prefill is None:
        return
    st.subheader("Nouveau dossier")
    st.caption("Commencez par l'onglet Identification : son enregistrement crée le dossier (état Incomplet). Les "
               "autres onglets et les pièces se remplissent ensuite, dans l'ordre de votre choix. Les champs marqués "
               "d'un * sont obligatoires.")
    notice = st.empty()
    form = FormState(new_form_name(campaign["id"]), checks=_checks(f.IDENTIFICATION))
    _fields(form, f.IDENTIFICATION, prefill, required_fields(campaign))
    form.keep()
    changed = changed_fields(form, prefill, f.tab_columns(f.IDENTIFICATION))
    _unsaved()[draft_key(campaign["id"], NEW)] = ["Identification"] if changed else []
    if changed:
        notice.warning("Modifications non enregistrées : Identification. Enregistrez l'onglet pour créer le dossier.",
                       icon=":material/edit_note:")
    if st.button("Enregistrer l'onglet et créer le dossier", key=f"dossier_create:{campaign['id']}", type="primary",
                 icon=":material/save:"):
        outcome = run_action(create_dossier, campaign_id=campaign["id"], establishment_id=establishment_id,
                             identification=_tab_values(form, f.IDENTIFICATION), on_error=form.capture,
                             done="Dossier créé (état **Incomplet**) : remplissez maintenant ses autres onglets et "
                                  "déposez ses pièces.")
        if outcome:
            form.reset()
            _unsaved().pop(draft_key(campaign["id"], NEW), None)
            on_created(outcome.value)
        st.rerun()
    form.summary()
