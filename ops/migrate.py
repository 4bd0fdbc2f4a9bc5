"""`python -m core migrate`: Alembic upgrade to head, then the reference data. Idempotent."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from core.places.reference import load_reference_data
from core.shared.config import ROOT, get_settings
from db.session import create_engine_for, session_scope


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_schema(url: str) -> None:
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def migrate(url: str | None = None) -> dict[str, int]:
    """Bring the database to the latest schema and reference data; returns rows written per table."""
    url = url or get_settings().database_url
    upgrade_schema(url)
    with session_scope(url) as session:
        return load_reference_data(session)
