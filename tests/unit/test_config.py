from __future__ import annotations

import pytest

from core.shared.config import DEV_COOKIE_KEY, load_settings


def test_development_defaults_to_the_embedded_sqlite_database() -> None:
    settings = load_settings({})
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("data/renfort.db")
    assert settings.cookie_key == DEV_COOKIE_KEY
    assert not settings.smtp_configured


def test_production_refuses_the_placeholder_cookie_key() -> None:
    with pytest.raises(RuntimeError, match="RENFORT_COOKIE_KEY"):
        load_settings({"RENFORT_ENV": "production"})
    assert load_settings({"RENFORT_ENV": "production", "RENFORT_COOKIE_KEY": "x" * 40}).env == "production"


def test_a_non_numeric_port_fails_fast_with_its_name() -> None:
    with pytest.raises(RuntimeError, match="RENFORT_SMTP_PORT"):
        load_settings({"RENFORT_SMTP_PORT": "vingt-cinq"})
