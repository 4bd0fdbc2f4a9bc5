"""initial schema

Revision ID: 0001
Revises: 
Every table of DESIGN §2 with its constraints. Timestamps are stored as naive UTC (see
db.models.UTCDateTime). The case-insensitive e-mail indexes are expressions, which autogenerate
cannot compare: they are written here by hand.

Create Date: 2026-11-23 15:36:39.107455
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ars',
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_ars'))
    )
    op.create_table('establishment_category',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=160), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_establishment_category'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedup_key', sa.String(length=200), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_attempts_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_outbox_dedup_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_pending', ['sent_at', 'next_attempt_at'], unique=False)

    op.create_table('postal_code',
    sa.Column('postal_code', sa.String(length=5), nullable=False),
    sa.Column('insee_code', sa.String(length=5), nullable=False),
    sa.Column('commune', sa.String(length=80), nullable=False),
    sa.Column('department_code', sa.String(length=3), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('postal_code', 'insee_code', name=op.f('pk_postal_code'))
    )
    with op.batch_alter_table('postal_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_postal_code_department_code'), ['department_code'], unique=False)

    op.create_table('profession',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('family', sa.String(length=40), nullable=False),
    sa.Column('eligible_vaccination', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_profession'))
    )
    op.create_table('departement',
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('ars_code', sa.String(length=3), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['ars_code'], ['ars.code'], name=op.f('fk_departement_ars_code_ars')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_departement'))
    )
    with op.batch_alter_table('departement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_departement_ars_code'), ['ars_code'], unique=False)

    op.create_table('establishment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('finess', sa.String(length=10), nullable=False),
    sa.Column('id_kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category_code', sa.String(length=40), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('postal_code', sa.String(length=5), nullable=False),
    sa.Column('city', sa.String(length=80), nullable=False),
    sa.Column('department_code', sa.String(length=3), nullable=False),
    sa.Column('ars_code', sa.String(length=3), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("id_kind IN ('finess', 'gid')", name=op.f('ck_establishment_id_kind')),
    sa.CheckConstraint("status IN ('pending', 'active', 'rejected')", name=op.f('ck_establishment_status')),
    sa.ForeignKeyConstraint(['ars_code'], ['ars.code'], name=op.f('fk_establishment_ars_code_ars')),
    sa.ForeignKeyConstraint(['category_code'], ['establishment_category.code'], name=op.f('fk_establishment_category_code_establishment_category')),
    sa.ForeignKeyConstraint(['department_code'], ['departement.code'], name=op.f('fk_establishment_department_code_departement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_establishment'))
    )
    with op.batch_alter_table('establishment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_establishment_ars_code'), ['ars_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_establishment_category_code'), ['category_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_establishment_department_code'), ['department_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_establishment_finess'), ['finess'], unique=False)
        batch_op.create_index('uq_establishment_identifier_live', ['id_kind', 'finess'], unique=True, sqlite_where=sa.text("status <> 'rejected'"), postgresql_where=sa.text("status <> 'rejected'"))

    op.create_table('professional',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('postal_code', sa.String(length=5), nullable=False),
    sa.Column('city', sa.String(length=80), nullable=False),
    sa.Column('department_code', sa.String(length=3), nullable=False),
    sa.Column('ars_code', sa.String(length=3), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('profession_code', sa.String(length=40), nullable=False),
    sa.Column('specialty', sa.String(length=120), nullable=True),
    sa.Column('activity_type', sa.String(length=20), nullable=False),
    sa.Column('id_type', sa.String(length=10), nullable=False),
    sa.Column('id_number', sa.String(length=12), nullable=True),
    sa.Column('has_vehicle', sa.Boolean(), nullable=False),
    sa.Column('available_week', sa.Boolean(), nullable=False),
    sa.Column('available_weekend', sa.Boolean(), nullable=False),
    sa.Column('available_from', sa.Date(), nullable=True),
    sa.Column('available_to', sa.Date(), nullable=True),
    sa.Column('mobility', sa.String(length=20), nullable=False),
    sa.Column('exp_ehpad', sa.Boolean(), nullable=False),
    sa.Column('exp_reanimation', sa.Boolean(), nullable=False),
    sa.Column('exp_vaccination', sa.Boolean(), nullable=False),
    sa.Column('volunteer_vaccination', sa.Boolean(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=15), nullable=False),
    sa.Column('status_since', sa.DateTime(), nullable=False),
    sa.Column('consent_at', sa.DateTime(), nullable=False),
    sa.Column('availability_confirmed_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("activity_type IN ('salarie', 'liberal', 'mixte', 'retraite', 'etudiant', 'sans_activite')", name=op.f('ck_professional_activity_type')),
    sa.CheckConstraint("id_type IN ('rpps', 'adeli', 'none')", name=op.f('ck_professional_id_type')),
    sa.CheckConstraint("mobility IN ('locale', 'departementale', 'regionale', 'nationale')", name=op.f('ck_professional_mobility')),
    sa.CheckConstraint("status IN ('disponible', 'indisponible', 'en_cours', 'contacte', 'affecte', 'supprime')", name=op.f('ck_professional_status')),
    sa.CheckConstraint('available_to IS NULL OR available_from IS NULL OR available_to >= available_from', name=op.f('ck_professional_availability_range')),
    sa.ForeignKeyConstraint(['ars_code'], ['ars.code'], name=op.f('fk_professional_ars_code_ars')),
    sa.ForeignKeyConstraint(['department_code'], ['departement.code'], name=op.f('fk_professional_department_code_departement')),
    sa.ForeignKeyConstraint(['profession_code'], ['profession.code'], name=op.f('fk_professional_profession_code_profession')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_professional'))
    )
    with op.batch_alter_table('professional', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_professional_ars_code'), ['ars_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_professional_department_code'), ['department_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_professional_id_number'), ['id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_professional_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_professional_profession_code'), ['profession_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_professional_status'), ['status'], unique=False)
    op.create_index('uq_professional_email_lower', 'professional', [sa.text('lower(email)')], unique=True)

    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('professional_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('mime', sa.String(length=60), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('identite', 'diplome', 'autre')", name=op.f('ck_document_kind')),
    sa.CheckConstraint('size >= 0', name=op.f('ck_document_size_positive')),
    sa.ForeignKeyConstraint(['professional_id'], ['professional.id'], name=op.f('fk_document_professional_id_professional')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document'))
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_professional_id'), ['professional_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('ars_code', sa.String(length=3), nullable=True),
    sa.Column('pool_id', sa.Integer(), nullable=True),
    sa.Column('professional_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("role <> 'ars' OR ars_code IS NOT NULL", name=op.f('ck_users_ars_has_region')),
    sa.CheckConstraint("role IN ('etablissement', 'professionnel', 'ars', 'ccs', 'ministere', 'admin', 'pool')", name=op.f('ck_users_role')),
    sa.CheckConstraint("status IN ('pending', 'active', 'disabled', 'rejected')", name=op.f('ck_users_status')),
    sa.CheckConstraint('failed_logins >= 0', name=op.f('ck_users_failed_logins_positive')),
    sa.ForeignKeyConstraint(['ars_code'], ['ars.code'], name=op.f('fk_users_ars_code_ars')),
    sa.ForeignKeyConstraint(['professional_id'], ['professional.id'], name=op.f('fk_users_professional_id_professional')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_ars_code'), ['ars_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_professional_id'), ['professional_id'], unique=False)
    op.create_index('uq_users_email_lower_live', 'users', [sa.text('lower(email)')], unique=True, sqlite_where=sa.text("status <> 'rejected'"), postgresql_where=sa.text("status <> 'rejected'"))

    op.create_table('crisis_mode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ars_code', sa.String(length=3), nullable=False),
    sa.Column('profession_code', sa.String(length=40), nullable=True),
    sa.Column('enabled_at', sa.DateTime(), nullable=False),
    sa.Column('enabled_by', sa.Integer(), nullable=False),
    sa.Column('disabled_at', sa.DateTime(), nullable=True),
    sa.Column('disabled_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ars_code'], ['ars.code'], name=op.f('fk_crisis_mode_ars_code_ars')),
    sa.ForeignKeyConstraint(['disabled_by'], ['users.id'], name=op.f('fk_crisis_mode_disabled_by_users')),
    sa.ForeignKeyConstraint(['enabled_by'], ['users.id'], name=op.f('fk_crisis_mode_enabled_by_users')),
    sa.ForeignKeyConstraint(['profession_code'], ['profession.code'], name=op.f('fk_crisis_mode_profession_code_profession')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_mode'))
    )
    with op.batch_alter_table('crisis_mode', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crisis_mode_ars_code'), ['ars_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_crisis_mode_disabled_by'), ['disabled_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_crisis_mode_enabled_by'), ['enabled_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_crisis_mode_profession_code'), ['profession_code'], unique=False)

    op.create_table('event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('entity', sa.String(length=30), nullable=False),
    sa.Column('entity_id', sa.String(length=40), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('before', sa.String(length=40), nullable=True),
    sa.Column('after', sa.String(length=40), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_event_actor_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event'))
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_actor_user_id'), ['actor_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_at'), ['at'], unique=False)
        batch_op.create_index('ix_event_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('membership',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishment.id'], name=op.f('fk_membership_establishment_id_establishment')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_membership_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'establishment_id', name=op.f('pk_membership'))
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_establishment_id'), ['establishment_id'], unique=False)

    op.create_table('mission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('profession_code', sa.String(length=40), nullable=False),
    sa.Column('specialty', sa.String(length=120), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('needs_vehicle', sa.Boolean(), nullable=False),
    sa.Column('needs_weekend', sa.Boolean(), nullable=False),
    sa.Column('exp_ehpad', sa.Boolean(), nullable=False),
    sa.Column('exp_reanimation', sa.Boolean(), nullable=False),
    sa.Column('vaccination', sa.Boolean(), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('manual_priority', sa.Integer(), nullable=True),
    sa.Column('ccs_alert_at', sa.DateTime(), nullable=True),
    sa.Column('ccs_alert_message', sa.Text(), nullable=True),
    sa.Column('pools_opened_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('filled_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'open', 'filled', 'closed', 'archived')", name=op.f('ck_mission_status')),
    sa.CheckConstraint('count >= 0', name=op.f('ck_mission_count_positive')),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_mission_dates_ordered')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_mission_created_by_users')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishment.id'], name=op.f('fk_mission_establishment_id_establishment')),
    sa.ForeignKeyConstraint(['profession_code'], ['profession.code'], name=op.f('fk_mission_profession_code_profession')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mission'))
    )
    with op.batch_alter_table('mission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mission_created_by'), ['created_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_mission_establishment_id'), ['establishment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mission_profession_code'), ['profession_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_mission_status'), ['status'], unique=False)

    op.create_table('token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("purpose IN ('activation', 'reset', 'availability')", name=op.f('ck_token_purpose')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_token_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_token_token_hash'))
    )
    with op.batch_alter_table('token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_token_user_id'), ['user_id'], unique=False)

    op.create_table('proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mission_id', sa.Integer(), nullable=False),
    sa.Column('professional_id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.CheckConstraint("origin IN ('direct', 'push')", name=op.f('ck_proposal_origin')),
    sa.CheckConstraint("state IN ('en_cours', 'contacte', 'affecte', 'refuse', 'libere', 'annule')", name=op.f('ck_proposal_state')),
    sa.ForeignKeyConstraint(['by_user_id'], ['users.id'], name=op.f('fk_proposal_by_user_id_users')),
    sa.ForeignKeyConstraint(['mission_id'], ['mission.id'], name=op.f('fk_proposal_mission_id_mission')),
    sa.ForeignKeyConstraint(['professional_id'], ['professional.id'], name=op.f('fk_proposal_professional_id_professional')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal'))
    )
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_by_user_id'), ['by_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_mission_id'), ['mission_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_professional_id'), ['professional_id'], unique=False)
        batch_op.create_index('uq_proposal_one_live_per_professional', ['professional_id'], unique=True, sqlite_where=sa.text("state IN ('en_cours', 'contacte', 'affecte')"), postgresql_where=sa.text("state IN ('en_cours', 'contacte', 'affecte')"))



def downgrade() -> None:
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_index('uq_proposal_one_live_per_professional', sqlite_where=sa.text("state IN ('en_cours', 'contacte', 'affecte')"), postgresql_where=sa.text("state IN ('en_cours', 'contacte', 'affecte')"))
        batch_op.drop_index(batch_op.f('ix_proposal_professional_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_mission_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_created_at'))
        batch_op.drop_index(batch_op.f('ix_proposal_by_user_id'))

    op.drop_table('proposal')
    with op.batch_alter_table('token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_token_user_id'))

    op.drop_table('token')
    with op.batch_alter_table('mission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mission_status'))
        batch_op.drop_index(batch_op.f('ix_mission_profession_code'))
        batch_op.drop_index(batch_op.f('ix_mission_establishment_id'))
        batch_op.drop_index(batch_op.f('ix_mission_created_by'))

    op.drop_table('mission')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_establishment_id'))

    op.drop_table('membership')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_entity')
        batch_op.drop_index(batch_op.f('ix_event_at'))
        batch_op.drop_index(batch_op.f('ix_event_actor_user_id'))

    op.drop_table('event')
    with op.batch_alter_table('crisis_mode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crisis_mode_profession_code'))
        batch_op.drop_index(batch_op.f('ix_crisis_mode_enabled_by'))
        batch_op.drop_index(batch_op.f('ix_crisis_mode_disabled_by'))
        batch_op.drop_index(batch_op.f('ix_crisis_mode_ars_code'))

    op.drop_table('crisis_mode')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_professional_id'))
        batch_op.drop_index(batch_op.f('ix_users_ars_code'))

    op.drop_index('uq_users_email_lower_live', table_name='users')
    op.drop_table('users')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_professional_id'))

    op.drop_table('document')
    with op.batch_alter_table('professional', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_professional_status'))
        batch_op.drop_index(batch_op.f('ix_professional_profession_code'))
        batch_op.drop_index(batch_op.f('ix_professional_phone'))
        batch_op.drop_index(batch_op.f('ix_professional_id_number'))
        batch_op.drop_index(batch_op.f('ix_professional_department_code'))
        batch_op.drop_index(batch_op.f('ix_professional_ars_code'))

    op.drop_index('uq_professional_email_lower', table_name='professional')
    op.drop_table('professional')
    with op.batch_alter_table('establishment', schema=None) as batch_op:
        batch_op.drop_index('uq_establishment_identifier_live', sqlite_where=sa.text("status <> 'rejected'"), postgresql_where=sa.text("status <> 'rejected'"))
        batch_op.drop_index(batch_op.f('ix_establishment_finess'))
        batch_op.drop_index(batch_op.f('ix_establishment_department_code'))
        batch_op.drop_index(batch_op.f('ix_establishment_category_code'))
        batch_op.drop_index(batch_op.f('ix_establishment_ars_code'))

    op.drop_table('establishment')
    with op.batch_alter_table('departement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_departement_ars_code'))

    op.drop_table('departement')
    op.drop_table('profession')
    with op.batch_alter_table('postal_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_postal_code_department_code'))

    op.drop_table('postal_code')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')

    op.drop_table('outbox')
    op.drop_table('establishment_category')
    op.drop_table('ars')
