"""The rows of needs ("missions") in a form, with Ajouter / Supprimer: shared by the account request
and the establishment's "Nouveau besoin"."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from core.places import reference
from core.staffing.missions import MissionInput
from ui.forms import FormState, label

ROWS = "mission_rows"
CRITERIA = (
    ("needs_vehicle", "Véhicule personnel"),
    ("needs_weekend", "Disponible le week-end"),
    ("exp_ehpad", "Expérience en EHPAD"),
    ("exp_reanimation", "Expérience en réanimation"),
    ("vaccination", "Aide à la vaccination"),
)


def _rows(form: FormState) -> list[int]:
    if form.value(ROWS) is None:
        form.set_value(ROWS, [1])
    return list(form.value(ROWS))


def _add_row(form: FormState) -> None:
    rows = _rows(form)
    form.set_value(ROWS, rows + [max(rows, default=0) + 1])


def _remove_row(form: FormState, row: int) -> None:
    form.set_value(ROWS, [r for r in _rows(form) if r != row])
    form.forget(f"m{row}.")


def _profession_select(form: FormState, row: int) -> None:
    codes = [p["code"] for p in reference.professions()]
    form.selectbox(label("Profession", True), codes, f"m{row}.profession_code",
                   format_func=lambda code: reference.profession_labels()[code], placeholder="Choisir…")


def mission_fields(form: FormState, row: int, position: int, today: date, with_contact: bool,
                   removable: bool = True) -> None:
    """The fields of one mission; errors are read under missions.<position>.<field>, and checked again against the
    row's widgets (m<row>.<field>) when they change."""
    prefix, widgets = f"missions.{position}.", f"m{row}."
    with st.container(border=True):
        if removable:
            head, remove = st.columns([6, 1])
            head.markdown(f"**Mission {position + 1}**")
            remove.button("Supprimer", key=f"{form.name}:remove:{row}", icon=":material/delete:",
                          on_click=_remove_row, args=(form, row), width="stretch")
        first, second, third = st.columns([3, 3, 1])
        with first:
            _profession_select(form, row)
            form.error(prefix + "profession_code", widgets=widgets)
        with second:
            st.text_input("Spécialité", key=form.key(f"m{row}.specialty"), placeholder="ex. gériatrie, urgences")
            form.error(prefix + "specialty", widgets=widgets)
        with third:
            st.number_input(label("Nombre", True), min_value=1, max_value=500, step=1,
                            key=form.key(f"m{row}.count", 1))
            form.error(prefix + "count", widgets=widgets)
        start, end = st.columns(2)
        with start:
            st.date_input(label("Date de début", True), key=form.key(f"m{row}.start_date", today),
                          format="DD/MM/YYYY")
            form.error(prefix + "start_date", widgets=widgets)
        with end:
            st.date_input(label("Date de fin", True), key=form.key(f"m{row}.end_date", today + timedelta(days=14)),
                          format="DD/MM/YYYY")
            form.error(prefix + "end_date", widgets=widgets)
        boxes = st.columns(len(CRITERIA))
        for column, (name, text) in zip(boxes, CRITERIA):
            column.checkbox(text, key=form.key(f"m{row}.{name}", False))
        form.error(prefix + "vaccination", widgets=widgets)
        if with_contact:
            name_col, phone_col = st.columns(2)
            name_col.text_input("Personne à contacter pour cette mission", key=form.key(f"m{row}.contact_name"))
            phone_col.text_input("Téléphone de cette personne", key=form.key(f"m{row}.contact_phone"))
            form.error(prefix + "contact_name", prefix + "contact_phone", widgets=widgets)


def mission_rows(form: FormState, today: date, *, with_contact: bool = False) -> list[MissionInput]:
    """Draw the rows and return what they hold, in display order (errors come back as missions.N.field)."""
    rows = _rows(form)
    for position, row in enumerate(rows):
        mission_fields(form, row, position, today, with_contact)
    st.button("Ajouter une mission", key=f"{form.name}:add", icon=":material/add:", on_click=_add_row, args=(form,))
    return [mission_input(form, row) for row in rows]


def prime_row(form: FormState, row: int, data: MissionInput) -> None:
    """Fill a row from an existing mission (to edit it)."""
    for name in MissionInput.__dataclass_fields__:
        value = getattr(data, name)
        form.set_value(f"m{row}.{name}", value if value is not None else "")


def mission_input(form: FormState, row: int) -> MissionInput:
    value = lambda name, default=None: form.value(f"m{row}.{name}", default)  # noqa: E731
    return MissionInput(
        profession_code=value("profession_code") or "", specialty=value("specialty", ""),
        count=value("count", 1), start_date=value("start_date"), end_date=value("end_date"),
        contact_name=value("contact_name", ""), contact_phone=value("contact_phone", ""),
        **{name: bool(value(name, False)) for name, _ in CRITERIA},
    )
