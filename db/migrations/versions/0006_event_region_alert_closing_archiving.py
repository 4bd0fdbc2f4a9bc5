"""event region, alert closing, mission archiving

- event.ars_code: the region an audit event concerns, so that an ARS reads the « Journal » of its own
  region. Existing events get the region of their object where it has one (mission, proposal,
  establishment, volunteer, crisis mode, user); the others stay NULL and are shown to national roles
  only.
- mission.alert_closed_at / alert_closed_by / alert_close_note: the CCS closes an ARS alert with a
  note, with or without opening the national pools.
- mission.archived_at: when an admin archived a finished mission (archived, never deleted).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# event.entity_id is text: compare it with the object's id written as text (valid on both engines).
_MISSION_REGION = ("SELECT e.ars_code FROM mission m JOIN establishment e ON e.id = m.establishment_id "
                   "WHERE CAST(m.id AS VARCHAR(40)) = {id}")
REGION_OF_ENTITY = {
    'mission': _MISSION_REGION.format(id='event.entity_id'),
    'proposal': ("SELECT e.ars_code FROM proposal p JOIN mission m ON m.id = p.mission_id "
                 "JOIN establishment e ON e.id = m.establishment_id WHERE CAST(p.id AS VARCHAR(40)) = event.entity_id"),
    'establishment': "SELECT ars_code FROM establishment WHERE CAST(id AS VARCHAR(40)) = event.entity_id",
    'professional': "SELECT ars_code FROM professional WHERE CAST(id AS VARCHAR(40)) = event.entity_id",
    'crisis_mode': "SELECT ars_code FROM crisis_mode WHERE CAST(id AS VARCHAR(40)) = event.entity_id",
    'user': ("SELECT COALESCE(u.ars_code, "
             "(SELECT MIN(e.ars_code) FROM membership ms JOIN establishment e ON e.id = ms.establishment_id "
             "WHERE ms.user_id = u.id), "
             "(SELECT p.ars_code FROM professional p WHERE p.id = u.professional_id)) "
             "FROM users u WHERE CAST(u.id AS VARCHAR(40)) = event.entity_id"),
}

# Plain nullable columns: SQLite adds and (3.35+) drops them in place, no table copy.
MISSION_COLUMNS = (('archived_at', sa.DateTime), ('alert_closed_at', sa.DateTime), ('alert_closed_by', sa.Integer),
                   ('alert_close_note', sa.Text))


def upgrade() -> None:
    op.add_column('event', sa.Column('ars_code', sa.String(length=3), nullable=True))
    op.create_index('ix_event_region_at', 'event', ['ars_code', 'at'])
    for entity, region in REGION_OF_ENTITY.items():
        op.execute(f"UPDATE event SET ars_code = ({region}) WHERE entity = '{entity}'")
    for name, kind in MISSION_COLUMNS:
        op.add_column('mission', sa.Column(name, kind(), nullable=True))


def downgrade() -> None:
    for name, _kind in reversed(MISSION_COLUMNS):
        op.drop_column('mission', name)
    op.drop_index('ix_event_region_at', table_name='event')
    op.drop_column('event', 'ars_code')
