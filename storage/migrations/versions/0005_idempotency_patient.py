"""Idempotency records of a clinician's request name the patient their response is about.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('patient_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_idempotency_records_patient_id'), ['patient_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_idempotency_records_patient_id_users'), 'users', ['patient_id'], ['id'], ondelete='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_idempotency_records_patient_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_idempotency_records_patient_id'))
        batch_op.drop_column('patient_id')
