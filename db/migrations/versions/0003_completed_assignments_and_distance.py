"""completed assignments and distance function

- proposal.state gains 'termine': an assignment that went to the end of its mission leaves the live
  states (so the volunteer can be solicited again) without being confused with a cancellation.
- PostgreSQL gets haversine_km(lat1, lon1, lat2, lon2) and distance_dm(…) (the distance in tenths of a
  kilometre, rounded half up), the functions SQLite connections register in Python (db/session.py),
  so that matching SQL — and its ranking — is the same on both engines.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

LIVE = "state IN ('en_cours', 'contacte', 'affecte')"
NEW_STATES = "state IN ('en_cours', 'contacte', 'affecte', 'refuse', 'libere', 'annule', 'termine')"
OLD_STATES = "state IN ('en_cours', 'contacte', 'affecte', 'refuse', 'libere', 'annule')"
HAVERSINE = """
CREATE OR REPLACE FUNCTION haversine_km(lat1 double precision, lon1 double precision,
                                        lat2 double precision, lon2 double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $$
  SELECT 2 * 6371.0088 * asin(least(1.0, sqrt(
    power(sin(radians(lat2 - lat1) / 2), 2)
    + cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lon2 - lon1) / 2), 2))))
$$;
CREATE OR REPLACE FUNCTION distance_dm(lat1 double precision, lon1 double precision,
                                       lat2 double precision, lon2 double precision)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $$
  SELECT floor(haversine_km(lat1, lon1, lat2, lon2) * 10 + 0.5)::integer
$$
"""


def _replace_state_check(condition: str) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite cannot alter a CHECK: the table is copied. The partial unique index is recreated
        # explicitly afterwards, so that the copy can never lose it.
        with op.batch_alter_table('proposal', recreate='always') as batch:
            batch.drop_constraint(op.f('ck_proposal_state'), type_='check')
            batch.create_check_constraint(op.f('ck_proposal_state'), sa.text(condition))
        op.execute('DROP INDEX IF EXISTS uq_proposal_one_live_per_professional')
        op.create_index('uq_proposal_one_live_per_professional', 'proposal', ['professional_id'], unique=True,
                        sqlite_where=sa.text(LIVE))
    else:
        op.drop_constraint(op.f('ck_proposal_state'), 'proposal', type_='check')
        op.create_check_constraint(op.f('ck_proposal_state'), 'proposal', sa.text(condition))


def upgrade() -> None:
    _replace_state_check(NEW_STATES)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(HAVERSINE)


def downgrade() -> None:
    op.execute("UPDATE proposal SET state = 'libere' WHERE state = 'termine'")
    _replace_state_check(OLD_STATES)
    if op.get_bind().dialect.name == 'postgresql':
        for function in ('distance_dm', 'haversine_km'):
            op.execute(f'DROP FUNCTION IF EXISTS {function}(double precision, double precision, '
                       'double precision, double precision)')
