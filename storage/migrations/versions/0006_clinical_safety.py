"""A clinician's hold on a course (note, time, clinician); a device remembers when it was
retired; a session keeps its pre-session check and whether its device was sterilized;
a session has at most one check-in (corrected in place from now on).

Sessions with several check-ins keep their latest, the one that counted for the flag. The
courses' stored status facts are dropped: their flags are now counted session by session and
their sessions carry a duration, so they are computed afresh (`flask digests refresh` after
the upgrade brings the triage digests along).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 08:40:00
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD and DROP COLUMNs, never a batch "move and copy": on SQLite, copying a table
    # that others refer to with ON DELETE CASCADE would empty them when the old copy is
    # dropped. (So `held_by_id` has no foreign key: SQLite cannot drop such a column in place.)
    op.add_column('courses', sa.Column('hold_note', sa.Text(), nullable=True))
    op.add_column('courses', sa.Column('held_at', storage.models.UTCDateTime(timezone=True),
                                       nullable=True))
    op.add_column('courses', sa.Column('held_by_id', sa.Integer(), nullable=True))
    op.add_column('devices', sa.Column('retired_at', storage.models.UTCDateTime(timezone=True),
                                       nullable=True))
    op.add_column('sessions', sa.Column('device_sterilized', sa.Boolean(), nullable=True))
    op.add_column('sessions', sa.Column('pre_check', sa.JSON(), nullable=True))
    op.execute("DELETE FROM check_ins WHERE id NOT IN "
               "(SELECT latest FROM (SELECT MAX(id) AS latest FROM check_ins "
               "GROUP BY session_id) AS kept)")
    op.drop_index('ix_check_ins_session_id', table_name='check_ins')
    op.create_index('ix_check_ins_session_id', 'check_ins', ['session_id'], unique=True)
    op.execute("UPDATE courses SET status_facts = NULL")


def downgrade() -> None:
    op.drop_index('ix_check_ins_session_id', table_name='check_ins')
    op.create_index('ix_check_ins_session_id', 'check_ins', ['session_id'], unique=False)
    for table, column in (('sessions', 'pre_check'), ('sessions', 'device_sterilized'),
                          ('devices', 'retired_at'), ('courses', 'held_by_id'),
                          ('courses', 'held_at'), ('courses', 'hold_note')):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
