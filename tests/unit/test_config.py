from __future__ import annotations

import pytest

from core.shared.config import DEV_COOKIE_KEY, DEV_PSEUDONYM_KEY, load_settings


def test_development_defaults_to_the_embedded_sqlite_database() -> None:
    settings = load_settings({})
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("data/renfort.db")
    assert settings.cookie_key == DEV_COOKIE_KEY
    assert not settings.smtp_configured


def test_production_refuses_the_placeholder_cookie_key() -> None:
    with pytest.raises(RuntimeError, match="RENFORT_COOKIE_KEY"):
        load_settings({"RENFORT_ENV": "production"})
    assert load_settings({"RENFORT_ENV": "production", "RENFORT_COOKIE_KEY": "x" * 40,
                          "RENFORT_PSEUDONYM_KEY": "y" * 40}).env == "production"


def test_production_refuses_the_placeholder_pseudonym_key() -> None:
    """A published key would let anyone holding a volunteer's id recompute their pseudonym."""
    assert load_settings({}).pseudonym_key == DEV_PSEUDONYM_KEY
    with pytest.raises(RuntimeError, match="RENFORT_PSEUDONYM_KEY"):
        load_settings({"RENFORT_ENV": "production", "RENFORT_COOKIE_KEY": "x" * 40})
    settings = load_settings({"RENFORT_ENV": "production", "RENFORT_COOKIE_KEY": "x" * 40,
                              "RENFORT_PSEUDONYM_KEY": " une-cle-secrete "})
    assert settings.pseudonym_key == "une-cle-secrete"


def test_a_non_numeric_port_fails_fast_with_its_name() -> None:
    with pytest.raises(RuntimeError, match="RENFORT_SMTP_PORT"):
        load_settings({"RENFORT_SMTP_PORT": "vingt-cinq"})


def test_the_availability_question_comes_after_fourteen_days_unless_configured() -> None:
    assert load_settings({}).availability_confirm_days == 14
    assert load_settings({"RENFORT_AVAILABILITY_CONFIRM_DAYS": " 21 "}).availability_confirm_days == 21
    with pytest.raises(RuntimeError, match="RENFORT_AVAILABILITY_CONFIRM_DAYS"):
        load_settings({"RENFORT_AVAILABILITY_CONFIRM_DAYS": "deux semaines"})
