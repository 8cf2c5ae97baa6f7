"""Flags become rows with a lifecycle; measurements can be corrected and withdrawn.

Existing data: every session whose facts call for a doctor today gets an open
`consult_doctor` flag, raised when those facts were recorded. Its check-in
decides when it has one (persisting redness or swelling, or signs of
infection), else the session's own side effects (`infection_signs`,
`scarring`) and the "yes" answers of its pre-session check. So a course whose
session's check-in flagged keeps its flag, now named with that session, and an
all-clear check-in of another session no longer hides it.

Absolute hold reasons need no copying: a new course reads them from the
patient's earlier courses (`domain.screening.carried_over`), so courses held
before this migration already hold their patient's later courses.

The courses' stored status facts are dropped (they are computed afresh from the
flags); `flask digests refresh` brings the triage digests along.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 11:00:00
"""

import json

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The rule as it stood when this migration was written (domain/flags.py), kept here so a
# later change of the rule does not change what this migration did.
FLAGGING_SIDE_EFFECTS = ("infection_signs", "scarring")
PRE_CHECK_CONDITIONS = ("acute_infection", "scalp_damage", "scalp_inflammation",
                        "chronic_disease_flare")
CHECK_IN_ANSWERS = ("redness_persists", "swelling_persists", "infection_signs")


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _reasons(session_row, check_in_row) -> list[dict]:
    if check_in_row is not None:
        return [{"source": "check_in", "code": answer} for answer in CHECK_IN_ANSWERS
                if check_in_row._mapping[answer]]
    pre_check = _json(session_row.pre_check) or {}
    side_effects = _json(session_row.side_effects) or []
    return ([{"source": "pre_check", "code": condition} for condition in PRE_CHECK_CONDITIONS
             if pre_check.get(condition)]
            + [{"source": "side_effect", "code": effect} for effect in FLAGGING_SIDE_EFFECTS
               if effect in side_effects])


def upgrade() -> None:
    flags = op.create_table(
        'flags',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('raised_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('resolution', sa.String(length=32), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('updated_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['users.id'],
                                name=op.f('fk_flags_patient_id_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'],
                                name=op.f('fk_flags_course_id_courses'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'],
                                name=op.f('fk_flags_session_id_sessions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'],
                                name=op.f('fk_flags_resolved_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_flags')),
    )
    op.create_index('ix_flags_patient_open', 'flags', ['patient_id', 'resolved_at'])
    op.create_index(op.f('ix_flags_course_id'), 'flags', ['course_id'])
    op.create_index(op.f('ix_flags_session_id'), 'flags', ['session_id'])

    # Plain ADD COLUMNs (never a batch copy of a table others refer to; see 0006), so the
    # withdrawing clinician's id has no foreign key, like `courses.held_by_id`.
    op.add_column('observations', sa.Column(
        'updated_at', storage.models.UTCDateTime(timezone=True), nullable=True))
    op.add_column('observations', sa.Column(
        'withdrawn_at', storage.models.UTCDateTime(timezone=True), nullable=True))
    op.add_column('observations', sa.Column('withdrawn_by_id', sa.Integer(), nullable=True))
    op.add_column('observations', sa.Column('withdrawal_reason', sa.Text(), nullable=True))
    op.execute("UPDATE observations SET updated_at = created_at")

    connection = op.get_bind()
    sessions = sa.table('sessions', sa.column('id'), sa.column('course_id'),
                        sa.column('side_effects', sa.JSON()), sa.column('pre_check', sa.JSON()),
                        sa.column('created_at', storage.models.UTCDateTime(timezone=True)))
    courses = sa.table('courses', sa.column('id'), sa.column('patient_id'))
    check_ins = sa.table('check_ins', sa.column('session_id'), sa.column('redness_persists'),
                         sa.column('swelling_persists'), sa.column('infection_signs'),
                         sa.column('created_at', storage.models.UTCDateTime(timezone=True)))
    answers = {row.session_id: row for row in connection.execute(sa.select(check_ins))}
    rows = connection.execute(
        sa.select(sessions.c.id, sessions.c.course_id, sessions.c.side_effects,
                  sessions.c.pre_check, sessions.c.created_at, courses.c.patient_id)
        .join(courses, courses.c.id == sessions.c.course_id)
        .order_by(sessions.c.id))
    raised = []
    for row in rows:
        check_in = answers.get(row.id)
        reasons = _reasons(row, check_in)
        if reasons:
            at = check_in.created_at if check_in is not None else row.created_at
            raised.append({"patient_id": row.patient_id, "course_id": row.course_id,
                           "session_id": row.id, "code": "consult_doctor", "reasons": reasons,
                           "raised_at": at, "updated_at": at})
    if raised:
        connection.execute(flags.insert(), raised)

    # The triage digests name each open flag; filled here for the flags just raised, so the
    # list is right before anyone runs `flask digests refresh`.
    op.add_column('triage_digests', sa.Column('open_flags', sa.JSON(), nullable=False,
                                              server_default='[]'))
    digests = sa.table('triage_digests', sa.column('patient_id'), sa.column('course_id'),
                       sa.column('open_flags', sa.JSON()))
    performed = sa.table('sessions', sa.column('id'), sa.column('course_id'),
                         sa.column('performed_at'))
    numbers = {}
    for course_id in {flag["course_id"] for flag in raised}:
        ordered = connection.execute(sa.select(performed.c.id)
                                     .where(performed.c.course_id == course_id)
                                     .order_by(performed.c.performed_at, performed.c.id))
        numbers.update({session_id: number
                        for number, (session_id,) in enumerate(ordered, start=1)})
    by_course = {}
    for flag in connection.execute(sa.select(flags).order_by(flags.c.raised_at, flags.c.id)):
        by_course.setdefault(flag.course_id, []).append({
            "id": flag.id, "session_id": flag.session_id,
            "session_number": numbers.get(flag.session_id),
            "raised_at": flag.raised_at.isoformat(), "reasons": _json(flag.reasons)})
    for course_id, named in by_course.items():
        connection.execute(digests.update().where(digests.c.course_id == course_id)
                           .values(open_flags=named))
    op.execute("UPDATE courses SET status_facts = NULL")


def downgrade() -> None:
    op.drop_index(op.f('ix_flags_session_id'), table_name='flags')
    op.drop_index(op.f('ix_flags_course_id'), table_name='flags')
    op.drop_index('ix_flags_patient_open', table_name='flags')
    op.drop_table('flags')
    op.execute("ALTER TABLE triage_digests DROP COLUMN open_flags")
    for column in ('withdrawal_reason', 'withdrawn_by_id', 'withdrawn_at', 'updated_at'):
        op.execute(f"ALTER TABLE observations DROP COLUMN {column}")
    op.execute("UPDATE courses SET status_facts = NULL")
