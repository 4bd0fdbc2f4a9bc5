"""Forms that never lose what was typed, and show each error beside its field (DESIGN §5).

Streamlit forgets the value of a widget that is not drawn in a run (after a page switch). A
FormState keeps a copy of every value of its form in session state and gives it back to the widget
when the page is drawn again; it also holds the last submit's errors, keyed by field name.

Once a field changes after a refused submit, its error is checked again as the page is drawn (ui.field_checks): it
goes away when the field is right, and the submit still has the service validate everything. Streamlit reruns the
page on every change of a widget, so no on_change callback is needed, and the same code serves every form.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.shared.errors import DomainError, FormErrors, ValidationError
from ui.field_checks import CHECKS, FILLED, FieldCheck, recheck
from ui.markdown import md

REQUIRED = " *"
_STORE = "_form:"  # + the form's name: its kept values, errors and files


def _prefix(name: str, generation: int) -> str:
    """How the keys of a form's widgets begin (a reset starts a new generation, hence blank widgets)."""
    return f"{name}:{generation}:"


def _copy_widgets(store: dict[str, Any], prefix: str) -> bool:
    """Copy the widgets whose keys begin with `prefix` into the store's values; true if one differed."""
    changed = False
    for key in [key for key in st.session_state if isinstance(key, str) and key.startswith(prefix)]:
        field, value = key[len(prefix):], st.session_state[key]
        if store["values"].get(field) != value:
            store["values"][field] = value
            changed = True
    return changed


def keep_new_values() -> bool:
    """Copy into every form the values its widgets hold at this point of the run; true if one differs from what
    the form kept. Called before any page is drawn, it finds the value a field sent late (ui.late_commit)."""
    stores = [key for key in st.session_state if isinstance(key, str) and key.startswith(_STORE)]
    changed = False
    for store_key in stores:
        store = st.session_state[store_key]
        changed = _copy_widgets(store, _prefix(store_key[len(_STORE):], store["generation"])) or changed
    return changed


class FormState:
    def __init__(self, name: str, checks: dict[str, FieldCheck] | None = None):
        """`checks`: this form's own re-checks of some fields, over ui.field_checks.CHECKS (an optional phone…)."""
        self.name = name
        self.checks = {**CHECKS, **(checks or {})}
        self._store: dict[str, Any] = st.session_state.setdefault(
            f"{_STORE}{name}", {"values": {}, "errors": {}, "files": {}, "generation": 0}
        )

    @property
    def _widget_prefix(self) -> str:
        return _prefix(self.name, self._store["generation"])

    @property
    def generation(self) -> int:
        """Changes on reset(): widgets keyed outside key() (file uploaders) use it to start blank."""
        return self._store["generation"]

    # -- values
    def key(self, field: str, default: Any = None) -> str:
        """The widget key of a field, primed with the kept value (or the default) when the widget is new."""
        widget_key = self._widget_prefix + field
        if widget_key not in st.session_state:
            if field in self._store["values"]:
                st.session_state[widget_key] = self._store["values"][field]
            elif default is not None:
                st.session_state[widget_key] = default
        return widget_key

    def value(self, field: str, default: Any = None) -> Any:
        widget_key = self._widget_prefix + field
        if widget_key in st.session_state:
            return st.session_state[widget_key]
        return self._store["values"].get(field, default)

    def set_value(self, field: str, value: Any) -> None:
        self._store["values"][field] = value
        st.session_state[self._widget_prefix + field] = value

    def keep(self) -> None:
        """Copy every drawn widget of this form into the store (call at the end of render)."""
        _copy_widgets(self._store, self._widget_prefix)

    def forget(self, field_prefix: str) -> None:
        """Drop the kept values of removed rows (e.g. a deleted mission)."""
        for field in [f for f in self._store["values"] if f.startswith(field_prefix)]:
            del self._store["values"][field]
        prefix = self._widget_prefix + field_prefix
        for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
            del st.session_state[key]

    def reset(self) -> None:
        """Empty the form: new widget keys, so Streamlit draws blank widgets."""
        generation = self._store["generation"] + 1
        self._store.clear()
        self._store.update({"values": {}, "errors": {}, "files": {}, "generation": generation})

    def selectbox(self, text: str, options: list, field: str, **kwargs: Any) -> Any:
        """A selectbox that starts empty (placeholder) and keeps its choice; never both index and state,
        which would make Streamlit print a warning in the page."""
        key = self.key(field)
        if key not in st.session_state:
            kwargs["index"] = None
        kwargs.setdefault("placeholder", "Choisissez dans la liste")  # never Streamlit's « Choose an option »
        return st.selectbox(text, options, key=key, **kwargs)

    # -- files: an upload survives a page switch too
    def file(self, field: str, uploaded: Any) -> tuple[str, bytes] | None:
        if uploaded is not None:
            self._store["files"][field] = (uploaded.name, uploaded.getvalue())
        return self._store["files"].get(field)

    def drop_file(self, field: str) -> None:
        self._store["files"].pop(field, None)

    # -- errors
    def set_errors(self, errors: dict[str, str]) -> None:
        """The submit's errors, with what the form held then: a field that changes afterwards is checked again."""
        self._store["errors"] = dict(errors)
        self._store["submitted"] = self._snapshot()

    def _snapshot(self) -> dict[str, Any]:
        prefix = self._widget_prefix
        drawn = {key[len(prefix):]: value for key, value in st.session_state.items()
                 if isinstance(key, str) and key.startswith(prefix)}
        return {**self._store["values"], **drawn, **self._store["files"]}

    def _current(self, field: str) -> Any:
        return self._store["files"][field] if field in self._store["files"] else self.value(field)

    def _recheck(self, field: str, widgets: str | None) -> None:
        """Check a field again if it (or a field it depends on) changed since the submit: drop its error when it is
        right now, or show the new one. `widgets`: the prefix of the row's widgets when the error's name differs
        from them (a mission row's "missions.0.count" is drawn by the widget "m1.count")."""
        errors = self._store["errors"]
        if not errors.get(field):
            return
        name = field.rsplit(".", 1)[-1]
        prefix = field[: -len(name)] if widgets is None else widgets
        check = self.checks.get(name, FILLED)
        submitted = self._store.get("submitted", {})
        watched = [prefix + f for f in (name, *check.watches)]
        if all(self._current(f) == submitted.get(f) for f in watched):
            return
        message = recheck(check, name, self._current(prefix + name), lambda other: self._current(prefix + other))
        if message is None:
            del errors[field]
        else:
            errors[field] = message

    def errors(self) -> dict[str, str]:
        return self._store["errors"]

    def error(self, *fields: str, widgets: str | None = None) -> None:
        """The error of these fields, drawn right under the widget (checked again if the field changed since)."""
        for field in fields:
            self._recheck(field, widgets)
            message = self._store["errors"].get(field)
            if message:  # core's plain text, which may quote what was typed
                st.error(md(message), icon=":material/error:")

    def capture(self, error: DomainError) -> None:
        """Store a service error: field errors beside their fields, any other under the submit button."""
        if isinstance(error, FormErrors):
            self.set_errors(error.by_field())
        elif isinstance(error, ValidationError):
            self.set_errors({error.field: error.message})
        else:
            self.set_errors({"_form": error.message})

    def summary(self) -> None:
        """One line under the submit button, so that errors higher in a long page are not missed."""
        errors = self._store["errors"]
        if "_form" in errors:
            st.error(md(errors["_form"]), icon=":material/error:")
        field_errors = [f for f in errors if f != "_form"]
        if field_errors:
            count = len(field_errors)
            st.error(f"{count} champ{'s' if count > 1 else ''} à corriger : voir les messages en rouge ci-dessus.",
                     icon=":material/error:")


def label(text: str, required: bool = False) -> str:
    return text + (REQUIRED if required else "")
