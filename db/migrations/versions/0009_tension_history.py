"""tension history

- tension_day: one row per day of the tension history, taken by the worker ('releve') or rebuilt from the
  missions and proposals ('reconstitue', without the volunteers: past availability is not stored).
- tension_snapshot: posts requested, filled and unfilled and available volunteers per department and
  profession on that day (issue 13: tension over time on « Vue nationale » and « Indicateurs »).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'tension_day',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('source', sa.String(length=12), nullable=False),
        sa.Column('taken_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("source IN ('releve', 'reconstitue')", name=op.f('ck_tension_day_source')),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_tension_day')),
    )
    op.create_table(
        'tension_snapshot',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('department_code', sa.String(length=3), nullable=False),
        sa.Column('profession_code', sa.String(length=40), nullable=False),
        sa.Column('posts_requested', sa.Integer(), nullable=False),
        sa.Column('posts_filled', sa.Integer(), nullable=False),
        sa.Column('posts_unfilled', sa.Integer(), nullable=False),
        sa.Column('available_volunteers', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['day'], ['tension_day.day'], name=op.f('fk_tension_snapshot_day_tension_day'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['department_code'], ['departement.code'],
                                name=op.f('fk_tension_snapshot_department_code_departement')),
        sa.ForeignKeyConstraint(['profession_code'], ['profession.code'],
                                name=op.f('fk_tension_snapshot_profession_code_profession')),
        sa.PrimaryKeyConstraint('day', 'department_code', 'profession_code', name=op.f('pk_tension_snapshot')),
    )
    op.create_index(op.f('ix_tension_snapshot_department_code'), 'tension_snapshot', ['department_code'])
    op.create_index(op.f('ix_tension_snapshot_profession_code'), 'tension_snapshot', ['profession_code'])


def downgrade() -> None:
    op.drop_table('tension_snapshot')
    op.drop_table('tension_day')
