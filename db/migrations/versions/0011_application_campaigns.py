"""application campaigns

Issue 15 (DESIGN §9): an ARS's calls for applications for funded posts (« 400 postes de médecins généralistes
dans les territoires prioritaires »).
- campaign: the call (region, title, legal reference, dates, follow-up dates, mandatory documents and fields,
  state brouillon → publiee → resultats).
- campaign_dossier: an establishment's application for one candidate, in the five tabs of the source tool, with
  its confirmation, the jury's decision and the follow-up of a favourable one.
- dossier_attachment: the dossier's PDFs, in a table of their own (volunteers' documents stay in `document`),
  deleted with their dossier.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _text(name: str, length: int | None = None) -> sa.Column:
    return sa.Column(name, sa.String(length=length) if length else sa.Text(), nullable=True)


def _create_campaign() -> None:
    op.create_table(
        'campaign',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ars_code', sa.String(length=3), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        _text('legal_reference', 300),
        _text('description'),
        sa.Column('opens_at', sa.DateTime(), nullable=False),
        sa.Column('closes_at', sa.DateTime(), nullable=False),
        sa.Column('project_confirmation_due', sa.Date(), nullable=False),
        sa.Column('start_confirmation_due', sa.Date(), nullable=False),
        sa.Column('required_documents', sa.JSON(), nullable=False),
        sa.Column('required_fields', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=False),
        sa.Column('published_at', sa.DateTime(), nullable=True),
        sa.Column('results_published_at', sa.DateTime(), nullable=True),
        sa.Column('results_published_by', sa.Integer(), nullable=True),
        sa.CheckConstraint("state IN ('brouillon', 'publiee', 'resultats')", name=op.f('ck_campaign_state')),
        sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_campaign_dates_ordered')),
        sa.CheckConstraint('start_confirmation_due >= project_confirmation_due',
                           name=op.f('ck_campaign_follow_up_ordered')),
        sa.ForeignKeyConstraint(['ars_code'], ['ars.code'], name=op.f('fk_campaign_ars_code_ars')),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_campaign_created_by_users')),
        sa.ForeignKeyConstraint(['results_published_by'], ['users.id'],
                                name=op.f('fk_campaign_results_published_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign')),
    )
    for column in ('ars_code', 'created_by', 'results_published_by'):
        op.create_index(op.f(f'ix_campaign_{column}'), 'campaign', [column])


DOSSIER_TEXTS = (
    ('hospital_name', 200), ('hospital_type', 120), ('hospital_address', 300), ('hospital_postal_code', 5),
    ('hospital_city', 80), ('hospital_finess', 9), ('hospital_siret', 14), ('hospital_director', 200),
    ('hospital_email', 254), ('partner_name', 200), ('partner_type', 120), ('partner_address', 300),
    ('partner_postal_code', 5), ('partner_city', 80), ('partner_finess', 9), ('partner_siret', 14),
    ('partner_director', 200), ('partner_email', 254), ('partnership_nature', None), ('priority_territory', 200),
    ('hospital_service', 200), ('hospital_activity', None),
)
CANDIDATE_TEXTS = (('candidate_last_name', 100), ('candidate_first_name', 100), ('candidate_email', 254),
                   ('candidate_status', 30), ('candidate_rpps', 11))
USER_COLUMNS = ('created_by', 'confirmed_by', 'decided_by')


def _create_dossier() -> None:
    op.create_table(
        'campaign_dossier',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('establishment_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=15), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        *(_text(name, length) for name, length in DOSSIER_TEXTS),
        sa.Column('hospital_time_share', sa.Integer(), nullable=True),
        _text('care_activity'),
        sa.Column('care_time_share', sa.Integer(), nullable=True),
        *(_text(name, length) for name, length in CANDIDATE_TEXTS),
        sa.Column('candidate_registration_on', sa.Date(), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('confirmed_by', sa.Integer(), nullable=True),
        _text('decision', 12),
        _text('decision_reason'),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('project_maintained', sa.Boolean(), nullable=True),
        sa.Column('project_answered_at', sa.DateTime(), nullable=True),
        sa.Column('doctor_started_on', sa.Date(), nullable=True),
        sa.Column('start_confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('project_reminded_at', sa.DateTime(), nullable=True),
        sa.Column('start_reminded_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("state IN ('incomplet', 'complet', 'confirme', 'non_recevable')",
                           name=op.f('ck_campaign_dossier_state')),
        sa.CheckConstraint("decision IN ('favorable', 'defavorable')", name=op.f('ck_campaign_dossier_decision')),
        sa.CheckConstraint('priority IS NULL OR priority >= 1', name=op.f('ck_campaign_dossier_priority_positive')),
        sa.CheckConstraint('hospital_time_share IS NULL OR hospital_time_share BETWEEN 0 AND 100',
                           name=op.f('ck_campaign_dossier_hospital_share_percent')),
        sa.CheckConstraint('care_time_share IS NULL OR care_time_share BETWEEN 0 AND 100',
                           name=op.f('ck_campaign_dossier_care_share_percent')),
        sa.CheckConstraint('(decision IS NULL) = (decided_at IS NULL)', name=op.f('ck_campaign_dossier_decision_dated')),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_dossier_campaign_id_campaign')),
        sa.ForeignKeyConstraint(['establishment_id'], ['establishment.id'],
                                name=op.f('fk_campaign_dossier_establishment_id_establishment')),
        *(sa.ForeignKeyConstraint([column], ['users.id'], name=op.f(f'fk_campaign_dossier_{column}_users'))
          for column in USER_COLUMNS),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_dossier')),
    )
    for column in ('campaign_id', 'establishment_id', *USER_COLUMNS):
        op.create_index(op.f(f'ix_campaign_dossier_{column}'), 'campaign_dossier', [column])
    op.create_index('ix_campaign_dossier_campaign_establishment', 'campaign_dossier',
                    ['campaign_id', 'establishment_id'])


def _create_attachment() -> None:
    op.create_table(
        'dossier_attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('mime', sa.String(length=60), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('uploaded_by', sa.Integer(), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('size >= 0', name=op.f('ck_dossier_attachment_size_positive')),
        sa.ForeignKeyConstraint(['dossier_id'], ['campaign_dossier.id'], ondelete='CASCADE',
                                name=op.f('fk_dossier_attachment_dossier_id_campaign_dossier')),
        sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_dossier_attachment_uploaded_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_attachment')),
        sa.UniqueConstraint('dossier_id', 'kind', name=op.f('uq_dossier_attachment_kind')),
    )
    for column in ('dossier_id', 'uploaded_by'):
        op.create_index(op.f(f'ix_dossier_attachment_{column}'), 'dossier_attachment', [column])


def upgrade() -> None:
    _create_campaign()
    _create_dossier()
    _create_attachment()


def downgrade() -> None:
    op.drop_table('dossier_attachment')
    op.drop_table('campaign_dossier')
    op.drop_table('campaign')
