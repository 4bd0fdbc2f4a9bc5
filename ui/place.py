"""Postal code → commune choice → ARS, as one group of widgets."""

from __future__ import annotations

import streamlit as st

from core.places import geo, reference
from core.shared.errors import ValidationError
from ui.forms import FormState, label


def postal_code_and_city(form: FormState, *, postal_field: str = "postal_code", city_field: str = "city") -> geo.Location | None:
    """A postal code input and the list of its communes; returns the located point when both are known."""
    code_col, city_col = st.columns([1, 2])
    with code_col:
        code = st.text_input(label("Code postal", True), key=form.key(postal_field), max_chars=6,
                             placeholder="ex. 44000").strip()
        form.error(postal_field)
    communes = geo.communes(code)
    with city_col:
        if communes:
            if form.value(city_field) not in communes:
                form.set_value(city_field, communes[0])
            st.selectbox(label("Ville", True), communes, key=form.key(city_field), placeholder="Choisissez dans la liste")
        else:
            st.selectbox(label("Ville", True), [], key=f"{form.name}:no-city", disabled=True,
                         placeholder="Saisissez d'abord le code postal")
        form.error(city_field)
    if not communes:
        return None
    try:
        return geo.locate(code, form.value(city_field))
    except ValidationError:
        return None


def ars_select(form: FormState, location: geo.Location | None, field: str = "ars_code") -> str | None:
    """The ARS, pre-selected from the postal code until the user picks another one."""
    names = reference.ars_names()
    codes = sorted(names, key=lambda c: names[c])
    auto = location.ars if location else None
    if auto and form.value("_ars_auto") != auto and form.value(field) in (None, form.value("_ars_auto")):
        form.set_value(field, auto)
    form.set_value("_ars_auto", auto)
    form.selectbox(label("ARS de rattachement", True), codes, field,
                   format_func=lambda c: f"ARS {names[c]}", placeholder="Déduite du code postal",
                   help="Pré-remplie d'après le code postal ; modifiez-la seulement si votre établissement "
                        "relève d'une autre ARS.")
    form.error(field)
    return form.value(field)
