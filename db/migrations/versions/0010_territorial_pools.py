"""territorial pools

Issue 14 (DESIGN §9): the « plateformes territoriales solidaires » of the ARS call for projects.
- finess_category: the finer FINESS categories (EHPAD, SSIAD, SPASAD, SAAD, …); establishment.finess_category_code
  (None for earlier establishments: never guessed from their type; no foreign key, see db.models).
- territorial_pool: a department's shared replacement pool and the follow-up of its funded project (engagement
  letter, credits, convention, deadlines); one open pool per department except Gironde and Pyrénées-Atlantiques.
- pool_member: member establishments (request → member); one live pool per establishment.
- pool_roster: volunteers on a pool's roster, by consent (invited → member, or registered with the pool's code).
- proposal.origin gains 'pool': a coordinator's push to a member establishment's mission.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

ONE_POOL = "closed_at IS NULL AND department_code NOT IN ('33', '64')"
LIVE_MEMBER = "state IN ('demande', 'membre')"
LIVE_ROSTER = "state IN ('invite', 'membre')"
LIVE_PROPOSAL = "state IN ('en_cours', 'contacte', 'affecte')"
NEW_ORIGINS = "origin IN ('direct', 'push', 'pool')"
OLD_ORIGINS = "origin IN ('direct', 'push')"


def _when(condition: str) -> dict[str, sa.TextClause]:
    return {'sqlite_where': sa.text(condition), 'postgresql_where': sa.text(condition)}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def _replace_origin_check(condition: str) -> None:
    if _sqlite():
        # SQLite cannot alter a CHECK: the table is copied (see 0008), its partial unique index recreated.
        with op.batch_alter_table('proposal', recreate='always') as batch:
            batch.drop_constraint(op.f('ck_proposal_origin'), type_='check')
            batch.create_check_constraint(op.f('ck_proposal_origin'), sa.text(condition))
        op.execute('DROP INDEX IF EXISTS uq_proposal_one_live_per_professional')
        op.create_index('uq_proposal_one_live_per_professional', 'proposal', ['professional_id'], unique=True,
                        sqlite_where=sa.text(LIVE_PROPOSAL))
    else:
        op.drop_constraint(op.f('ck_proposal_origin'), 'proposal', type_='check')
        op.create_check_constraint(op.f('ck_proposal_origin'), 'proposal', sa.text(condition))


def _amount(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=True)


def _positive(column: str, name: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f'{column} IS NULL OR {column} >= 0', name=op.f(f'ck_territorial_pool_{name}'))


def _create_pool_table() -> None:
    op.create_table(
        'territorial_pool',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=12), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('ars_code', sa.String(length=3), nullable=False),
        sa.Column('department_code', sa.String(length=3), nullable=False),
        sa.Column('support_establishment_id', sa.Integer(), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('engagement_due', sa.Date(), nullable=False),
        sa.Column('convention_due', sa.Date(), nullable=False),
        sa.Column('engagement_received_on', sa.Date(), nullable=True),
        sa.Column('engagement_summary', sa.Text(), nullable=True),
        _amount('total_budget'),
        _amount('funding_acquired'),
        _amount('funding_expected'),
        _amount('first_credit_amount'),
        sa.Column('first_credit_on', sa.Date(), nullable=True),
        sa.Column('convention_received_on', sa.Date(), nullable=True),
        sa.Column('convention_signatories', sa.Text(), nullable=True),
        sa.Column('progress_report', sa.Text(), nullable=True),
        _amount('second_credit_amount'),
        sa.Column('second_credit_on', sa.Date(), nullable=True),
        sa.CheckConstraint('convention_due >= engagement_due', name=op.f('ck_territorial_pool_deadlines_ordered')),
        sa.CheckConstraint('convention_received_on IS NULL OR engagement_received_on IS NULL '
                           'OR convention_received_on >= engagement_received_on',
                           name=op.f('ck_territorial_pool_convention_after_letter')),
        _positive('first_credit_amount', 'first_credit_positive'),
        _positive('funding_acquired', 'acquired_positive'),
        _positive('funding_expected', 'expected_positive'),
        _positive('second_credit_amount', 'second_credit_positive'),
        _positive('total_budget', 'budget_positive'),
        sa.ForeignKeyConstraint(['ars_code'], ['ars.code'], name=op.f('fk_territorial_pool_ars_code_ars')),
        sa.ForeignKeyConstraint(['department_code'], ['departement.code'],
                                name=op.f('fk_territorial_pool_department_code_departement')),
        sa.ForeignKeyConstraint(['support_establishment_id'], ['establishment.id'],
                                name=op.f('fk_territorial_pool_support_establishment_id_establishment')),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_territorial_pool_created_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_territorial_pool')),
        sa.UniqueConstraint('code', name=op.f('uq_territorial_pool_code')),
    )
    for column in ('ars_code', 'department_code', 'support_establishment_id', 'created_by'):
        op.create_index(op.f(f'ix_territorial_pool_{column}'), 'territorial_pool', [column])
    op.create_index('uq_territorial_pool_department_open', 'territorial_pool', ['department_code'], unique=True,
                    **_when(ONE_POOL))


def _create_member_table() -> None:
    op.create_table(
        'pool_member',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pool_id', sa.Integer(), nullable=False),
        sa.Column('establishment_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.CheckConstraint("state IN ('demande', 'membre', 'refuse', 'retire')", name=op.f('ck_pool_member_state')),
        sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_pool_member_decided_by_users')),
        sa.ForeignKeyConstraint(['establishment_id'], ['establishment.id'],
                                name=op.f('fk_pool_member_establishment_id_establishment')),
        sa.ForeignKeyConstraint(['pool_id'], ['territorial_pool.id'],
                                name=op.f('fk_pool_member_pool_id_territorial_pool')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_member')),
    )
    for column in ('decided_by', 'establishment_id', 'pool_id'):
        op.create_index(op.f(f'ix_pool_member_{column}'), 'pool_member', [column])
    op.create_index('ix_pool_member_pool_state', 'pool_member', ['pool_id', 'state'])
    op.create_index('uq_pool_member_one_live', 'pool_member', ['establishment_id'], unique=True, **_when(LIVE_MEMBER))


def _create_roster_table() -> None:
    op.create_table(
        'pool_roster',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pool_id', sa.Integer(), nullable=False),
        sa.Column('professional_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('origin', sa.String(length=12), nullable=False),
        sa.Column('pool_only', sa.Boolean(), nullable=False),
        sa.Column('invited_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.Column('released_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("origin IN ('invitation', 'inscription')", name=op.f('ck_pool_roster_origin')),
        sa.CheckConstraint("state IN ('invite', 'membre', 'decline', 'retire')", name=op.f('ck_pool_roster_state')),
        sa.ForeignKeyConstraint(['invited_by'], ['users.id'], name=op.f('fk_pool_roster_invited_by_users')),
        sa.ForeignKeyConstraint(['pool_id'], ['territorial_pool.id'],
                                name=op.f('fk_pool_roster_pool_id_territorial_pool')),
        sa.ForeignKeyConstraint(['professional_id'], ['professional.id'],
                                name=op.f('fk_pool_roster_professional_id_professional')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_roster')),
    )
    for column in ('invited_by', 'pool_id', 'professional_id'):
        op.create_index(op.f(f'ix_pool_roster_{column}'), 'pool_roster', [column])
    op.create_index('ix_pool_roster_pool_state', 'pool_roster', ['pool_id', 'state'])
    op.create_index('uq_pool_roster_one_live', 'pool_roster', ['pool_id', 'professional_id'], unique=True,
                    **_when(LIVE_ROSTER))


def upgrade() -> None:
    op.create_table(
        'finess_category',
        sa.Column('code', sa.String(length=4), nullable=False),
        sa.Column('short_label', sa.String(length=40), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('pool_eligible', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_finess_category')),
    )
    _create_pool_table()
    _create_member_table()
    _create_roster_table()
    # No foreign key (see db.models.Establishment): SQLite adds one only by copying the table.
    op.add_column('establishment', sa.Column('finess_category_code', sa.String(length=4), nullable=True))
    op.create_index(op.f('ix_establishment_finess_category_code'), 'establishment', ['finess_category_code'])
    _replace_origin_check(NEW_ORIGINS)


def downgrade() -> None:
    # A coordinator's pushes become ARS pushes: the proposals stay, their history readable.
    op.execute("UPDATE proposal SET origin = 'push' WHERE origin = 'pool'")
    _replace_origin_check(OLD_ORIGINS)
    op.drop_index(op.f('ix_establishment_finess_category_code'), 'establishment')
    op.drop_column('establishment', 'finess_category_code')
    op.execute("UPDATE users SET pool_id = NULL")
    op.drop_table('pool_roster')
    op.drop_table('pool_member')
    op.drop_table('territorial_pool')
    op.drop_table('finess_category')
