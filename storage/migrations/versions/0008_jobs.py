"""Jobs: work done beside the requests (derivatives, exports); previews made by a job.

A photo's preview and thumbnail are now made after the upload is answered, so
their keys are empty until the job has stored them (`derivatives: pending`).
Existing photos have both: nothing to do for them.

SQLite cannot drop a NOT NULL in place, and rebuilding `photos` would run the
uploads' ON DELETE SET NULL when the old table is dropped; so on SQLite each
key column is renamed aside, added again without NOT NULL, filled and the old
one dropped (all in place). PostgreSQL drops the constraint.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 18:00:00
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

KEYS = ("preview_key", "thumbnail_key")


def upgrade() -> None:
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('result_key', sa.String(length=128), nullable=True),
    sa.Column('lease_until', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                       name=op.f('ck_jobs_status')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                            name=op.f('fk_jobs_requested_by_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    op.create_index('ix_jobs_status_updated', 'jobs', ['status', 'updated_at'])
    op.create_index('ix_jobs_kind_subject', 'jobs', ['kind', 'subject_id'])
    op.create_index(op.f('ix_jobs_requested_by_id'), 'jobs', ['requested_by_id'])
    if op.get_bind().dialect.name == "sqlite":
        for column in KEYS:
            op.execute(f"ALTER TABLE photos RENAME COLUMN {column} TO {column}_before_0008")
            op.execute(f"ALTER TABLE photos ADD COLUMN {column} VARCHAR(128)")
            op.execute(f"UPDATE photos SET {column} = {column}_before_0008")
            op.execute(f"ALTER TABLE photos DROP COLUMN {column}_before_0008")
    else:
        for column in KEYS:
            op.execute(f"ALTER TABLE photos ALTER COLUMN {column} DROP NOT NULL")


def downgrade() -> None:
    # Photos whose derivatives were never made cannot keep a NOT NULL key: they go.
    op.execute("DELETE FROM photos WHERE preview_key IS NULL OR thumbnail_key IS NULL")
    if op.get_bind().dialect.name == "sqlite":
        for column in KEYS:
            op.execute(f"ALTER TABLE photos RENAME COLUMN {column} TO {column}_before_0008")
            op.execute(f"ALTER TABLE photos ADD COLUMN {column} VARCHAR(128) NOT NULL DEFAULT ''")
            op.execute(f"UPDATE photos SET {column} = {column}_before_0008")
            op.execute(f"ALTER TABLE photos DROP COLUMN {column}_before_0008")
    else:
        for column in KEYS:
            op.execute(f"ALTER TABLE photos ALTER COLUMN {column} SET NOT NULL")
    op.drop_index(op.f('ix_jobs_requested_by_id'), table_name='jobs')
    op.drop_index('ix_jobs_kind_subject', table_name='jobs')
    op.drop_index('ix_jobs_status_updated', table_name='jobs')
    op.drop_table('jobs')
