"""outbox claim and duplicate index

- outbox.status ('pending', 'sending', 'sent') and outbox.claimed_at: a worker claims a row with a
  conditional UPDATE committed before talking to SMTP, so that a crash after the server accepted a
  message leaves it in 'sending' (shown to the admin, requeued by hand) instead of sending it again.
  Rows already sent become 'sent'. The due-rows index follows the status.
- professional.possible_duplicate_of gets the index every foreign key has.

SQLite cannot add a CHECK to an existing table: the outbox is copied in batch mode (it has no
expression index that the copy could lose). Downgrading turns a row still in 'sending' into a sent
one (its last error says so): the older code would otherwise send it again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

CHECKS = (
    ('ck_outbox_status', "status IN ('pending', 'sending', 'sent')"),
    ('ck_outbox_sent_iff_sent_at', "(status = 'sent') = (sent_at IS NOT NULL)"),
    ('ck_outbox_sending_is_claimed', "status <> 'sending' OR claimed_at IS NOT NULL"),
)
INTERRUPTED_NOTE = "Envoi interrompu avant la migration 0005 annulée : non renvoyé, à vérifier."


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade() -> None:
    op.create_index('ix_professional_possible_duplicate_of', 'professional', ['possible_duplicate_of'])

    op.add_column('outbox', sa.Column('status', sa.String(length=10), nullable=False, server_default='pending'))
    op.add_column('outbox', sa.Column('claimed_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE outbox SET status = 'sent' WHERE sent_at IS NOT NULL")
    if _sqlite():
        with op.batch_alter_table('outbox', recreate='always') as batch:
            for name, condition in CHECKS:
                batch.create_check_constraint(op.f(name), sa.text(condition))
            batch.drop_index('ix_outbox_pending')
            batch.create_index('ix_outbox_due', ['status', 'next_attempt_at'])
    else:
        for name, condition in CHECKS:
            op.create_check_constraint(op.f(name), 'outbox', sa.text(condition))
        op.drop_index('ix_outbox_pending', table_name='outbox')
        op.create_index('ix_outbox_due', 'outbox', ['status', 'next_attempt_at'])


def downgrade() -> None:
    op.execute(sa.text("UPDATE outbox SET status = 'sent', sent_at = claimed_at, last_error = :note "
                       "WHERE status = 'sending'")
               .bindparams(note=INTERRUPTED_NOTE))
    if _sqlite():
        with op.batch_alter_table('outbox', recreate='always') as batch:
            batch.drop_index('ix_outbox_due')
            for name, _ in reversed(CHECKS):
                batch.drop_constraint(op.f(name), type_='check')
            batch.drop_column('claimed_at')
            batch.drop_column('status')
            batch.create_index('ix_outbox_pending', ['sent_at', 'next_attempt_at'])
    else:
        op.drop_index('ix_outbox_due', table_name='outbox')
        for name, _ in reversed(CHECKS):
            op.drop_constraint(op.f(name), 'outbox', type_='check')
        op.drop_column('outbox', 'claimed_at')
        op.drop_column('outbox', 'status')
        op.create_index('ix_outbox_pending', 'outbox', ['sent_at', 'next_attempt_at'])

    op.drop_index('ix_professional_possible_duplicate_of', table_name='professional')
