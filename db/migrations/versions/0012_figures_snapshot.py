"""figures snapshot

- figures_snapshot: figures the worker computes for every reader (issue 16: the national overview of the whole
  workforce as the « Vue nationale » opens), with when and how long it took.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'figures_snapshot',
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('computed_at', sa.DateTime(), nullable=False),
        sa.Column('seconds', sa.Double(), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_figures_snapshot')),
    )


def downgrade() -> None:
    op.drop_table('figures_snapshot')
