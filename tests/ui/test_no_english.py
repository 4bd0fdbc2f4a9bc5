"""No English left in a French browser (issue 13): every page of every role — and the public pages of a visitor —
is opened with AppTest on the demo data, and what it shows is scanned for English words: texts, button labels,
field labels and placeholders (Streamlit's own default placeholder is « Choose an option »), table headers and
cells (« None » where a value is missing), help texts."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from navigation import PUBLIC_PAGES, ROLE_PAGES
from ops.seed import DEMO_ACCOUNTS
from tests.ui.conftest import open_page, sign_in_as

# Whole words only, case-sensitive where French shares the spelling (« Close » never, « close » in an URL…).
ENGLISH = ("None", "nan", "NaT", "Choose an option", "Choose", "Select", "Upload", "Download", "Browse files",
           "Close", "Search", "Submit", "Loading", "Cancel", "Delete", "Save", "Clear", "Drag and drop", "Limit",
           "per file", "True", "False", "No results", "No options", "Press Enter", "Deploy")
PATTERN = re.compile(r"(?<![\w/.-])(" + "|".join(re.escape(word) for word in ENGLISH) + r")(?![\w/.-])")
ACCOUNTS = {account.role: account.email for account in DEMO_ACCOUNTS}


def _texts(app: AppTest) -> Iterator[tuple[str, str]]:
    """(where, text) of everything the page shows a reader."""
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success",
                 "text"):
        for element in getattr(app, kind):
            yield kind, str(element.value)
    for element in app.button:
        yield "bouton", element.label
        if element.help:
            yield "aide", element.help
    for kind in ("selectbox", "multiselect", "text_input", "text_area", "number_input", "date_input", "radio",
                 "checkbox", "toggle"):
        for element in getattr(app, kind):
            yield kind, element.label
            for attribute in ("placeholder", "help"):
                value = getattr(element.proto, attribute, "")
                if value:
                    yield f"{kind}.{attribute}", value
            if kind in ("selectbox", "multiselect") and not element.proto.placeholder:
                yield f"{kind}.placeholder", "Choose an option"  # what the browser shows when none is given
            for option in getattr(element, "options", []) or []:
                yield f"{kind}.option", str(option)
    for element in app.dataframe:
        frame = element.value
        for column in frame.columns:
            yield "colonne", str(column)
        for value in frame.astype(str).to_numpy().ravel():
            yield "cellule", value
    for element in app.metric:
        yield "indicateur", f"{element.label} {element.value}"
    for element in app.expander:
        yield "dépliant", element.label
    for element in app.tabs:
        yield "onglet", element.label


def _english(app: AppTest) -> list[str]:
    found = ((where, str(text)) for where, text in _texts(app))
    return sorted({f"{where}: {text[:120]!r}" for where, text in found if PATTERN.search(text)})


def _cases() -> list:
    cases = [pytest.param(None, spec.url_path, id=f"visiteur-{spec.url_path}")
             for section in PUBLIC_PAGES.values() for spec in section]
    for role, sections in ROLE_PAGES.items():
        if role not in ACCOUNTS:
            continue
        cases += [pytest.param(role, spec.url_path, id=f"{role}-{spec.url_path}")
                  for section in sections.values() for spec in section]
    return cases


@pytest.mark.parametrize(("role", "url_path"), _cases())
def test_a_page_shows_no_english_word(app: AppTest, role: str | None, url_path: str) -> None:
    if role is not None:
        sign_in_as(app, ACCOUNTS[role], role)
    app.run()
    open_page(app, url_path)
    assert not app.exception
    assert _english(app) == []


def test_the_scan_finds_what_it_looks_for(app: AppTest) -> None:
    """The scan itself: Streamlit's default placeholder and a missing value, shown on purpose, are found."""
    probe = AppTest.from_string('import streamlit as st\nimport pandas as pd\nst.selectbox("Région", ["a"], index=None)\n'
                                'st.dataframe(pd.DataFrame({"Priorité": [None]}))\nst.button("Close")')
    probe.run()
    assert _english(probe) == ["bouton: 'Close'", "cellule: 'nan'", "selectbox.placeholder: 'Choose an option'"]
