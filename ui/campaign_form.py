"""« Créer un appel à candidatures » and « Modifier l'appel » (issue 15): the ARS's campaign form, drawn from
core.campaigns.campaigns.CampaignInput and campaign_form_choices(); core checks everything again on submit (closing
before opening, confirmation dates after the closing…) and its errors are shown under their fields."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import streamlit as st

from core.campaigns.campaigns import (
    DESCRIPTION_MAX,
    REFERENCE_MAX,
    TITLE_MAX,
    CampaignFormChoices,
    CampaignInput,
)
from core.shared.clock import PARIS
from core.shared.errors import ValidationError
from core.shared.permissions import own_region
from core.shared.validation import validate_text
from ui.field_checks import FieldCheck, filled
from ui.forms import FormState, label
from ui.state import signed_in_user

TEXTS = ("title", "legal_reference", "description")
DATES = ("opens_at", "closes_at", "project_confirmation_due", "start_confirmation_due")
NEW_DOCUMENT, EXTRA_DOCUMENTS, DOCUMENTS = "new_document", "document_extras", "required_documents"
CLOSING_AFTER_OPENING = "La clôture doit suivre l'ouverture de l'appel à candidatures."
PROJECT_AFTER_CLOSING = ("La confirmation du maintien du projet se fait après la clôture de l'appel et le jury.")


def may_create() -> bool:
    """An ARS account drafts campaigns for its own region (create_campaign refuses every other account, and takes
    the region from the account): the form is offered to the accounts bound to a region."""
    return own_region(signed_in_user()) is not None


# ---------------------------------------------------------------- a field's own check, after a refused submit


def _text(text: str, max_length: int, *, required: bool = False, multiline: bool = False) -> FieldCheck:
    return FieldCheck(lambda value, _, field: validate_text(value, field, text, max_length=max_length,
                                                            required=required, multiline=multiline))


def _closing(value: Any, sibling: Any, field: str) -> None:
    filled(value, sibling, field)
    opening = sibling("opens_at")
    if isinstance(opening, date) and value < opening:  # the closing day is included: same day is right
        raise ValidationError(field, CLOSING_AFTER_OPENING)


def _project(value: Any, sibling: Any, field: str) -> None:
    filled(value, sibling, field)
    closing = sibling("closes_at")
    if isinstance(closing, date) and value <= closing:
        raise ValidationError(field, PROJECT_AFTER_CLOSING)


def _start(value: Any, sibling: Any, field: str) -> None:
    filled(value, sibling, field)
    project = sibling("project_confirmation_due")
    if isinstance(project, date) and value < project:
        raise ValidationError(field, "La confirmation de la prise de poste suit celle du maintien du projet "
                                     f"({project:%d/%m/%Y}).")


PASSES = FieldCheck(lambda value, sibling, field: None)
CHECKS = {
    "title": _text("Intitulé", TITLE_MAX, required=True),
    "legal_reference": _text("Référence du texte", REFERENCE_MAX),
    "description": _text("Description", DESCRIPTION_MAX, multiline=True),
    "closes_at": FieldCheck(_closing, watches=("opens_at",)),
    "project_confirmation_due": FieldCheck(_project, watches=("closes_at",)),
    "start_confirmation_due": FieldCheck(_start, watches=("project_confirmation_due",)),
    DOCUMENTS: PASSES,
    "required_fields": PASSES,
}


def campaign_form_state(name: str) -> FormState:
    return FormState(name, checks=CHECKS)


# ---------------------------------------------------------------- values


def paris_day(value: datetime | date | str | None) -> date | None:
    """The day of an instant in Paris (a campaign opens at 00:00 and closes at 23:59:59 that day)."""
    if isinstance(value, datetime):
        return value.astimezone(PARIS).date()
    return value if isinstance(value, date) else None


def _kept_instant(day: Any, initial: Any) -> Any:
    """The day chosen; the campaign's own instant when the day has not changed (an edit then changes nothing)."""
    return initial if isinstance(initial, datetime) and paris_day(initial) == day else day


def _tab_field(position: int) -> str:
    return f"fields_{position}"


def form_input(form: FormState, initial: CampaignInput, choices: CampaignFormChoices) -> CampaignInput:
    """What the form holds, as the service's input."""
    required_fields = [name for position in range(len(choices.fields))
                       for name in form.value(_tab_field(position)) or ()]
    return CampaignInput(
        title=form.value("title") or "", legal_reference=form.value("legal_reference") or "",
        description=form.value("description") or "",
        opens_at=_kept_instant(form.value("opens_at"), initial.opens_at),
        closes_at=_kept_instant(form.value("closes_at"), initial.closes_at),
        project_confirmation_due=form.value("project_confirmation_due"),
        start_confirmation_due=form.value("start_confirmation_due"),
        required_documents=tuple(form.value(DOCUMENTS) or ()), required_fields=tuple(required_fields))


# ---------------------------------------------------------------- widgets


def _date(form: FormState, field: str, text: str, initial: Any, help: str | None = None) -> None:
    key = form.key(field, paris_day(initial))
    st.date_input(text, key=key, format="DD/MM/YYYY", help=help,
                  **({} if key in st.session_state else {"value": None}))
    form.error(field)


def _add_document(form: FormState) -> None:
    """« Ajouter la pièce »: the label typed joins the choices, ticked (a callback: before the widgets are drawn)."""
    typed = " ".join(str(form.value(NEW_DOCUMENT) or "").split())
    if not typed:
        return
    chosen = list(form.value(DOCUMENTS) or [])
    if all(typed.casefold() != item.casefold() for item in chosen):
        form.set_value(DOCUMENTS, [*chosen, typed])
    extras = list(form.value(EXTRA_DOCUMENTS) or [])
    form.set_value(EXTRA_DOCUMENTS, [*extras, typed])
    form.set_value(NEW_DOCUMENT, "")


def _documents(form: FormState, initial: CampaignInput, choices: CampaignFormChoices, fixed: bool) -> None:
    chosen_key = form.key(DOCUMENTS, list(initial.required_documents))
    options = list(dict.fromkeys([*choices.default_documents, *initial.required_documents,
                                  *(form.value(EXTRA_DOCUMENTS) or []), *(st.session_state.get(chosen_key) or [])]))
    st.multiselect(label("Pièces obligatoires (PDF)"), options, key=chosen_key, disabled=fixed,
                   placeholder="Aucune pièce obligatoire : ajoutez-en ci-dessous",
                   help="Les quatre pièces de la mesure sont proposées ; retirez-en une avec sa croix, ajoutez-en "
                        "une autre par son intitulé.")
    form.error(DOCUMENTS)
    if fixed:
        return
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.text_input("Autre pièce obligatoire", key=form.key(NEW_DOCUMENT, ""), max_chars=200,
                    placeholder="Intitulé de la pièce, par exemple « Projet de service »")
    right.button("Ajouter la pièce", icon=":material/add:", key=f"{form.name}:add_document", on_click=_add_document,
                 args=(form,), width="stretch")


def _fields(form: FormState, initial: CampaignInput, choices: CampaignFormChoices, fixed: bool) -> None:
    st.markdown("**Champs obligatoires du dossier**, par onglet (cliquez un champ pour le rendre obligatoire ou "
                "facultatif)")
    st.caption("Toujours obligatoires (les résultats sont envoyés aux deux partenaires) : "
               + ", ".join(choices.always_required) + ".")
    for position, (tab, offered) in enumerate(choices.fields.items()):
        names = list(offered)
        # Pills: every field of the tab in sight, the mandatory ones lit (a long multiselect hides its choices).
        st.pills(tab, names, selection_mode="multi", format_func=offered.get, disabled=fixed,
                 key=form.key(_tab_field(position), [n for n in names if n in initial.required_fields]))
    form.error("required_fields")


def campaign_fields(form: FormState, initial: CampaignInput, choices: CampaignFormChoices, *,
                    rules_fixed: bool = False) -> None:
    """Every field of the campaign's form, each error under its field. `rules_fixed`: the campaign is published,
    its mandatory documents and fields no longer change (shown, not editable)."""
    st.text_input(label("Intitulé", True), key=form.key("title", initial.title), max_chars=TITLE_MAX,
                  placeholder="400 postes de médecins généralistes dans les territoires prioritaires — vague …")
    form.error("title")
    st.text_input("Référence du texte", key=form.key("legal_reference", initial.legal_reference),
                  max_chars=REFERENCE_MAX, placeholder="Instruction, circulaire ou arrêté qui fonde l'appel")
    form.error("legal_reference")
    st.text_area("Description", key=form.key("description", initial.description), height=120,
                 max_chars=DESCRIPTION_MAX, placeholder="Objet de l'appel, qui dépose, ce qui rend un dossier recevable")
    form.error("description")
    first, second = st.columns(2)
    with first:
        _date(form, "opens_at", label("Ouverture", True), initial.opens_at,
              help="Les établissements déposent leurs dossiers à partir de 00:00 ce jour-là.")
    with second:
        _date(form, "closes_at", label("Clôture", True), initial.closes_at,
              help="Jusqu'à 23:59 ce jour-là ; ensuite, tout dossier non confirmé est non recevable.")
    first, second = st.columns(2)
    with first:
        _date(form, "project_confirmation_due", label("Confirmation du maintien du projet au plus tard le", True),
              initial.project_confirmation_due, help="Après la clôture et le jury : chaque dossier retenu confirme "
                                                     "que son projet de recrutement est maintenu.")
    with second:
        _date(form, "start_confirmation_due", label("Confirmation de la prise de poste au plus tard le", True),
              initial.start_confirmation_due, help="Chaque dossier retenu indique la date de prise de poste du "
                                                   "médecin.")
    if rules_fixed:
        st.caption("L'appel est publié : ses pièces et champs obligatoires ne changent plus (les établissements "
                   "déposent leurs dossiers selon ces règles).")
    _documents(form, initial, choices, rules_fixed)
    _fields(form, initial, choices, rules_fixed)
