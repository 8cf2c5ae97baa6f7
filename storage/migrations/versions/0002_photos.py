"""Photos: progress photos with their stored files, and resumable uploads.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 12:10:18.400804
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('area', sa.String(length=16), nullable=False),
    sa.Column('taken_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('taken_at_offset_minutes', sa.Integer(), nullable=False),
    sa.Column('taken_at_source', sa.String(length=8), nullable=False),
    sa.Column('upload_sha256', sa.String(length=64), nullable=False),
    sa.Column('original_key', sa.String(length=128), nullable=False),
    sa.Column('preview_key', sa.String(length=128), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=128), nullable=False),
    sa.Column('media_type', sa.String(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('quality_warnings', sa.JSON(), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("area IN ('frontal', 'mid_scalp', 'vertex', 'left_temple', 'right_temple', 'occipital', 'part_line')", name=op.f('ck_photos_area')),
    sa.CheckConstraint("taken_at_source IN ('exif', 'client', 'server')", name=op.f('ck_photos_taken_at_source')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_photos_course_id_courses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_photos_patient_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_photos_session_id_sessions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos')),
    sa.UniqueConstraint('patient_id', 'upload_sha256', name='uq_photos_patient_upload')
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index('ix_photos_course_area_taken', ['course_id', 'area', 'taken_at'], unique=False)
        batch_op.create_index('ix_photos_patient_taken', ['patient_id', 'taken_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_session_id'), ['session_id'], unique=False)

    op.create_table('uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('part_name', sa.String(length=64), nullable=False),
    sa.Column('photo_fields', sa.JSON(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_uploads_patient_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_uploads_photo_id_photos'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads')),
    sa.UniqueConstraint('part_name', name=op.f('uq_uploads_part_name'))
    )
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_uploads_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_uploads_patient_id'), ['patient_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uploads_patient_id'))
        batch_op.drop_index(batch_op.f('ix_uploads_expires_at'))

    op.drop_table('uploads')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_session_id'))
        batch_op.drop_index('ix_photos_patient_taken')
        batch_op.drop_index('ix_photos_course_area_taken')

    op.drop_table('photos')
