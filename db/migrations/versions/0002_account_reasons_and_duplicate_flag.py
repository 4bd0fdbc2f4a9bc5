"""account reasons and duplicate flag

users.status_reason keeps why a request was refused; professional.possible_duplicate_of flags a
registration sharing a phone or RPPS number with an earlier volunteer.

SQLite: the column is added with ALTER TABLE (its REFERENCES clause inline) rather than by batch
mode, whose table copy would drop the expression index lower(email) it cannot reflect.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:53:48.679047
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('status_reason', sa.Text(), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE professional ADD COLUMN possible_duplicate_of INTEGER '
                   'CONSTRAINT fk_professional_possible_duplicate_of_professional REFERENCES professional (id)')
    else:
        op.add_column('professional', sa.Column('possible_duplicate_of', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_professional_possible_duplicate_of_professional', 'professional',
                              'professional', ['possible_duplicate_of'], ['id'])


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('fk_professional_possible_duplicate_of_professional', 'professional', type_='foreignkey')
    op.drop_column('professional', 'possible_duplicate_of')
    op.drop_column('users', 'status_reason')
