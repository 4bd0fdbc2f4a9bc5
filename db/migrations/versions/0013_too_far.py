"""too far

- professional.too_far_dm: the shortest distance of a mission the volunteer declined as « trop loin » (issue 17:
  the ranking uses the reasons volunteers give).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('professional', sa.Column('too_far_dm', sa.Integer(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite ≥ 3.35, PostgreSQL): a batch copy of the table would trip the foreign keys.
    op.drop_column('professional', 'too_far_dm')
