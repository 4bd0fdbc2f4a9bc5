"""declined proposals

- proposal.state gains 'decline': a volunteer's « Décliner » is no longer stored as a release ('libere' with a
  text reason), so that the candidate lists never offer that volunteer again for that mission (issue 13);
  earlier declines are moved over.
- proposal.reason_code: why the volunteer declined (déjà engagé(e), trop loin, dates, autre).
- proposal.interested_at: « Je suis intéressé(e) », the volunteer's answer shown to the establishment.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

LIVE = "state IN ('en_cours', 'contacte', 'affecte')"
NEW_STATES = "state IN ('en_cours', 'contacte', 'affecte', 'refuse', 'libere', 'annule', 'termine', 'decline')"
OLD_STATES = "state IN ('en_cours', 'contacte', 'affecte', 'refuse', 'libere', 'annule', 'termine')"
DECLINED_REASON = 'décliné par le volontaire'  # how 0001–0007 recorded a decline


def _replace_state_check(condition: str) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite cannot alter a CHECK: the table is copied (see 0003), its partial unique index recreated.
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
    op.add_column('proposal', sa.Column('reason_code', sa.String(length=20), nullable=True))
    op.add_column('proposal', sa.Column('interested_at', sa.DateTime(), nullable=True))
    _replace_state_check(NEW_STATES)
    op.execute(sa.text("UPDATE proposal SET state = 'decline' WHERE state = 'libere' AND reason = :reason")
               .bindparams(reason=DECLINED_REASON))


def downgrade() -> None:
    op.execute(sa.text("UPDATE proposal SET state = 'libere', reason = :reason WHERE state = 'decline'")
               .bindparams(reason=DECLINED_REASON))
    _replace_state_check(OLD_STATES)
    op.drop_column('proposal', 'interested_at')
    op.drop_column('proposal', 'reason_code')
