"""ops.apptest, the AppTest driver of the UI tests and of the bench, against the Streamlit it was checked with.

It reaches two private attributes of AppTest because the public switch_page() only knows file pages: these
tests fail loudly when a Streamlit upgrade changes either, or makes the driver unnecessary.
"""

from __future__ import annotations

import pytest
import streamlit

from ops.apptest import open_page, page_hash
from tests.ui.conftest import signed_in

MANAGER = "etablissement@example.org"


def test_the_driver_was_checked_against_this_streamlit() -> None:
    """A new Streamlit: check ops/apptest.py against it (see its docstring), then update this version."""
    assert streamlit.__version__ == "1.67.0"


def test_apptest_still_registers_our_function_pages_by_url_path(app) -> None:
    signed_in(app, MANAGER, "etablissement")
    paths = {info.get("url_pathname") for info in app._registered_pages.values()}
    assert {"tableau-de-bord", "choisir", "nouveau-besoin", "affectations"} <= paths
    assert isinstance(app._page_hash, str)
    assert page_hash(app, "choisir") in app._registered_pages


def test_the_public_switch_page_still_cannot_open_a_function_page(app) -> None:
    """The day this passes through, AppTest.switch_page can replace ops.apptest.open_page."""
    signed_in(app, MANAGER, "etablissement")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/choose.py")


def test_an_unknown_page_is_named_in_the_failure(app) -> None:
    signed_in(app, MANAGER, "etablissement")
    with pytest.raises(AssertionError, match="page 'nulle-part' absente de la navigation"):
        open_page(app, "nulle-part")


def test_a_page_opened_by_url_lets_the_app_switch_to_another_page_and_stay_there(app) -> None:
    signed_in(app, MANAGER, "etablissement")
    open_page(app, "tableau-de-bord")
    assert app.title[0].value == "Tableau de bord"
    table = app.dataframe[0]
    for position in range(len(table.value)):  # the first mission that still has someone to choose
        app.session_state[table.key] = {"selection": {"rows": [position], "columns": [], "cells": []}}
        app.run()
        choose = [b for b in app.button if b.label == "Choisir"]
        if choose:
            break
    choose[0].click().run()  # the button's callback calls st.switch_page("choisir")
    assert app.title[0].value == "Choisir des renforts"
    app.run()  # a rerun (any widget) stays where the app went, not on the page forced by open_page
    assert app.title[0].value == "Choisir des renforts"
