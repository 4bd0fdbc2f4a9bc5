"""The public pages with a NUL byte typed in, on SQLite and PostgreSQL (issue 12, defect 3): where PostgreSQL
showed an English error page (`DataError: PostgreSQL text fields cannot contain NUL`), the user reads French."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from db import models as m
from tests.readers import count_at
from tests.ui.conftest import open_page
from tests.ui.readers import button

ROOT = Path(__file__).resolve().parents[2]
KEY = "account_request:0:"
NUL_REFUSED = "contient un caractère de contrôle invisible (U+0000)"


@pytest.fixture
def blank_app(db_url: str, app_env) -> AppTest:  # noqa: ANN001
    """The app on an empty database (reference data only): the public pages need no one."""
    app_env(db_url)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.run()
    return app


def shown(app: AppTest) -> list[str]:
    """The page's error messages as read on screen (Markdown escapes removed)."""
    return [error.value.replace("\\", "") for error in app.error]


def test_sign_in_with_a_nul_in_the_email_gets_the_french_refusal(blank_app: AppTest) -> None:
    open_page(blank_app, "connexion")
    blank_app.text_input(key="login_email").input("claire\x00@example.org")
    blank_app.text_input(key="login_password").input("Mot-de-passe-2026!")
    next(b for b in blank_app.button if b.label == "Se connecter").click()
    blank_app.run()
    assert not blank_app.exception
    assert shown(blank_app) == ["Adresse électronique ou mot de passe incorrect."]


def test_forgotten_password_with_a_nul_names_the_field(blank_app: AppTest) -> None:
    open_page(blank_app, "mot-de-passe-oublie")
    blank_app.text_input(key="reset_request_email").input("claire\x00@example.org")
    next(b for b in blank_app.button if b.label == "Recevoir un nouveau lien").click()
    blank_app.run()
    assert not blank_app.exception
    assert any("« Adresse électronique » " + NUL_REFUSED in text for text in shown(blank_app)), shown(blank_app)
    assert not blank_app.success


def test_an_account_request_with_a_nul_in_the_name_shows_it_beside_the_field_and_saves_nothing(
    blank_app: AppTest, db_url: str
) -> None:
    open_page(blank_app, "demande-de-compte")
    for field, value in (("last_name", "Mo\x00reau"), ("first_name", "Claire"), ("email", "claire@chu-test.fr"),
                         ("phone", "06 12 34 56 78"), ("identifier", "750100125"),
                         ("establishment_name", "Hôpital\x00 de test"), ("address", "1 place de l'Hôpital"),
                         ("postal_code", "44000")):
        blank_app.text_input(key=KEY + field).input(value)
    blank_app.selectbox(key=KEY + "category_code").select("loi_hospitaliere")
    blank_app.run()
    blank_app.selectbox(key=KEY + "m1.profession_code").select("infirmier_de")
    blank_app.run()
    button(blank_app, "Valider la demande").click()
    blank_app.run()
    assert not blank_app.exception
    errors = shown(blank_app)
    assert "Le champ « Nom » " + NUL_REFUSED + ". Retapez le texte sans ce caractère (il vient souvent d'un " \
           "copier-coller)." in errors, errors
    assert any("« Nom de l'établissement » " + NUL_REFUSED in text for text in errors), errors
    assert count_at(db_url, m.User) == 0 and count_at(db_url, m.Establishment) == 0
