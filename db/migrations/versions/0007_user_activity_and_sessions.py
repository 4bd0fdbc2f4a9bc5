"""user activity and sessions

- users.last_login_at: the last successful sign-in, one of the activities that keep a volunteer's data
  from the purge of inactive volunteers (`python -m core purge`).
- users.sessions_valid_after: session cookies issued before it are refused (sign-out and a password
  change end every session of the user).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = ('last_login_at', 'sessions_valid_after')  # nullable: SQLite adds and drops them in place


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column('users', sa.Column(name, sa.DateTime(), nullable=True))


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column('users', name)
