"""Forms that never lose what was typed, and show each error beside its field (DESIGN §5).

Streamlit forgets the value of a widget that is not drawn in a run (after a page switch). A
FormState keeps a copy of every value of its form in session state and gives it back to the widget
when the page is drawn again; it also holds the last submit's errors, keyed by field name.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.shared.errors import DomainError, FormErrors, ValidationError
from ui.markdown import md

REQUIRED = " *"


class FormState:
    def __init__(self, name: str):
        self.name = name
        self._store: dict[str, Any] = st.session_state.setdefault(
            f"_form:{name}", {"values": {}, "errors": {}, "files": {}, "generation": 0}
        )

    @property
    def generation(self) -> int:
        """Changes on reset(): widgets keyed outside key() (file uploaders) use it to start blank."""
        return self._store["generation"]

    # -- values
    def key(self, field: str, default: Any = None) -> str:
        """The widget key of a field, primed with the kept value (or the default) when the widget is new."""
        widget_key = f"{self.name}:{self._store['generation']}:{field}"
        if widget_key not in st.session_state:
            if field in self._store["values"]:
                st.session_state[widget_key] = self._store["values"][field]
            elif default is not None:
                st.session_state[widget_key] = default
        return widget_key

    def value(self, field: str, default: Any = None) -> Any:
        widget_key = f"{self.name}:{self._store['generation']}:{field}"
        if widget_key in st.session_state:
            return st.session_state[widget_key]
        return self._store["values"].get(field, default)

    def set_value(self, field: str, value: Any) -> None:
        self._store["values"][field] = value
        st.session_state[f"{self.name}:{self._store['generation']}:{field}"] = value

    def keep(self) -> None:
        """Copy every drawn widget of this form into the store (call at the end of render)."""
        prefix = f"{self.name}:{self._store['generation']}:"
        for key in list(st.session_state.keys()):
            if isinstance(key, str) and key.startswith(prefix):
                self._store["values"][key[len(prefix):]] = st.session_state[key]

    def forget(self, field_prefix: str) -> None:
        """Drop the kept values of removed rows (e.g. a deleted mission)."""
        for field in [f for f in self._store["values"] if f.startswith(field_prefix)]:
            del self._store["values"][field]
        prefix = f"{self.name}:{self._store['generation']}:{field_prefix}"
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
        self._store["errors"] = dict(errors)

    def errors(self) -> dict[str, str]:
        return self._store["errors"]

    def error(self, *fields: str) -> None:
        """The error of these fields, drawn right under the widget."""
        for field in fields:
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
