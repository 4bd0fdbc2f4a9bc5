"""national scale indexes

Composite indexes for the hot paths measured by `python -m core bench` (docs/performance.md):
matching (profession + region or local box), solicitations in the last 30 days, a mission's live
proposals, the worker's reminders and expiries, an establishment's dashboard.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_professional_matching_region', 'professional', ['profession_code', 'ars_code', 'status']),
    ('ix_professional_matching_box', 'professional', ['profession_code', 'lat', 'lon']),
    ('ix_proposal_professional_recent', 'proposal', ['professional_id', 'created_at']),
    ('ix_proposal_mission_state', 'proposal', ['mission_id', 'state']),
    ('ix_proposal_state_created', 'proposal', ['state', 'created_at']),
    ('ix_mission_establishment_status', 'mission', ['establishment_id', 'status']),
    ('ix_mission_status_end', 'mission', ['status', 'end_date']),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
