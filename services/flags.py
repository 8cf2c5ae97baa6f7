"""Use cases of flags: keep a session's flag in step with its facts, resolve one, list them.

`settle_flag` runs after every change of the facts a flag depends on (a
session logged or corrected, its check-in answered or corrected); the domain
rule (`domain.flags.flag_change`) says whether that raises, updates or lowers
the session's flag. Resolving is a linked clinician's act, with a note.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from domain.errors import Conflict, NotAllowed
from domain.flags import (
    CHECK_IN_ANSWERS,
    CONSULT_DOCTOR,
    LOWER,
    LOWERED_BY_CLINICIAN,
    RAISE,
    UPDATE,
    Reason,
    flag_change,
    flag_reasons,
    lowered_by,
)
from domain.roles import CLINICIAN
from storage import records
from storage.models import CheckIn, Course, Flag, TreatmentSession, User, utcnow


def reasons_of(flag: Flag) -> tuple[Reason, ...]:
    return tuple(Reason(reason["source"], reason["code"]) for reason in flag.reasons)


def _stored(reasons: Sequence[Reason]) -> list[dict[str, str]]:
    return [{"source": reason.source, "code": reason.code} for reason in reasons]


def session_reasons(row: TreatmentSession, check_in: CheckIn | None) -> tuple[Reason, ...]:
    """The session's reasons to see a doctor now, from its records."""
    answers = None if check_in is None else {
        answer: getattr(check_in, answer) for answer in CHECK_IN_ANSWERS}
    return flag_reasons(row.side_effects, row.pre_check, answers)


def settle_flag(session: Session, course: Course, row: TreatmentSession,
                before: tuple[Reason, ...], check_in: CheckIn | None) -> Flag | None:
    """Raise, update or lower the session's flag after its facts changed (`before`: its
    reasons before the change); returns the session's open flag, if any."""
    after = session_reasons(row, check_in)
    flag = records.open_flag(session, row.id)
    change = flag_change(before, after, flag is not None)
    now = utcnow()
    if change == RAISE:
        flag = Flag(patient_id=course.patient_id, course_id=course.id, session_id=row.id,
                    code=CONSULT_DOCTOR, reasons=_stored(after), raised_at=now)
        session.add(flag)
    elif change == UPDATE:
        flag.reasons = _stored(after)
    elif change == LOWER:
        flag.resolved_at = now
        flag.resolution = lowered_by(check_in is not None)
        flag = None
    session.flush()
    return flag


def resolve_flag(session: Session, flag: Flag, by: User, note: str) -> Flag:
    """A linked clinician lowers an open flag with a note (kept with the time and clinician)."""
    if by.role != CLINICIAN:
        raise NotAllowed("Only a linked clinician resolves a flag; see your clinician.")
    if not flag.is_open:
        raise Conflict(f"This flag was already lowered at {flag.resolved_at.isoformat()}.")
    flag.resolved_at = utcnow()
    flag.resolution = LOWERED_BY_CLINICIAN
    flag.resolved_by_id = by.id
    flag.note = note
    session.flush()
    return flag
