"""Alembic environment: the URL comes from core.shared.config (or from the caller's connection)."""

from __future__ import annotations

import warnings

from alembic import context

from core.shared.config import get_settings
from db.models import Base
from db.session import create_engine_for

target_metadata = Base.metadata


# Batch migrations reflect SQLite tables; the lower(email) expression indexes cannot be reflected
# (they are recreated by the migrations themselves and checked by tests/services/test_migrations.py).
warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")


def run_migrations(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = create_engine_for(url)
    with engine.connect() as connection:
        run_migrations(connection)
    engine.dispose()


main()
