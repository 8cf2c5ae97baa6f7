"""Clinicians: shares, observations, notes, the access log, triage digests and status facts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 12:05:51.573152
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_facts', sa.JSON(), nullable=True))

    op.create_table('access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=True),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['clinician_id'], ['users.id'], name=op.f('fk_access_log_clinician_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_access_log_patient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log'))
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index('ix_access_log_patient_at', ['patient_id', 'at'], unique=False)

    op.create_table('shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=True),
    sa.Column('linked_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['clinician_id'], ['users.id'], name=op.f('fk_shares_clinician_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_shares_patient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shares')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_shares_code_hash'))
    )
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.create_index('ix_shares_clinician_active', ['clinician_id', 'revoked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_shares_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('uq_shares_active_link', ['patient_id', 'clinician_id'], unique=True, sqlite_where=sa.text('clinician_id IS NOT NULL AND revoked_at IS NULL'), postgresql_where=sa.text('clinician_id IS NOT NULL AND revoked_at IS NULL'))

    op.create_table('notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_notes_author_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_notes_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_notes_patient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notes'))
    )
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notes_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notes_patient_id'), ['patient_id'], unique=False)

    op.create_table('observations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Float(), nullable=True),
    sa.Column('stage', sa.String(length=8), nullable=True),
    sa.Column('area', sa.String(length=32), nullable=True),
    sa.Column('observed_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_observations_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_observations_patient_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_observations_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observations'))
    )
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.create_index('ix_observations_course_kind', ['course_id', 'kind', 'observed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_patient_id'), ['patient_id'], unique=False)

    op.create_table('triage_digests',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('course_status', sa.String(length=16), nullable=True),
    sa.Column('phase', sa.String(length=16), nullable=True),
    sa.Column('sessions_done', sa.Integer(), nullable=False),
    sa.Column('sessions_planned', sa.Integer(), nullable=True),
    sa.Column('next_number', sa.Integer(), nullable=True),
    sa.Column('next_earliest', sa.Date(), nullable=True),
    sa.Column('next_due', sa.Date(), nullable=True),
    sa.Column('next_latest', sa.Date(), nullable=True),
    sa.Column('overdue_from', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('consult_doctor', sa.Boolean(), nullable=False),
    sa.Column('hold_reasons', sa.JSON(), nullable=False),
    sa.Column('device_warnings', sa.JSON(), nullable=False),
    sa.Column('device_worn', sa.Boolean(), nullable=False),
    sa.Column('device_expired_from', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('photos_due', sa.JSON(), nullable=False),
    sa.Column('photos_missing', sa.Integer(), nullable=False),
    sa.Column('last_activity_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('hair_count_change', sa.Float(), nullable=True),
    sa.Column('updated_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_triage_digests_course_id_courses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_triage_digests_patient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_triage_digests'))
    )
    with op.batch_alter_table('triage_digests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_triage_digests_overdue_from'), ['overdue_from'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_column('status_facts')

    with op.batch_alter_table('triage_digests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_triage_digests_overdue_from'))

    op.drop_table('triage_digests')
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observations_patient_id'))
        batch_op.drop_index('ix_observations_course_kind')

    op.drop_table('observations')
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notes_patient_id'))
        batch_op.drop_index(batch_op.f('ix_notes_course_id'))

    op.drop_table('notes')
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.drop_index('uq_shares_active_link', sqlite_where=sa.text('clinician_id IS NOT NULL AND revoked_at IS NULL'), postgresql_where=sa.text('clinician_id IS NOT NULL AND revoked_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_shares_patient_id'))
        batch_op.drop_index('ix_shares_clinician_active')

    op.drop_table('shares')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index('ix_access_log_patient_at')

    op.drop_table('access_log')
