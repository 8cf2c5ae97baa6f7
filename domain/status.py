"""The course status of the mobile home screen, computed from facts the caller loaded."""

from dataclasses import dataclass
from datetime import date, datetime

from domain.aftercare import AftercareItem, pending_aftercare, session_end
from domain.course import ACTIVE, COMPLETED, OPEN_STATUSES
from domain.devices import WearStatus
from domain.outcomes import Progress, progress
from domain.photos import current_milestone, photos_due
from domain.regimen import FIRST_CHANGES_SESSION, Regimen
from domain.schedule import Adherence, NextSession, adherence, next_session
from domain.sessions import CONSULT_DOCTOR


@dataclass(frozen=True)
class DoneSession:
    """A logged session as the status needs it; `performed_at` is timezone-aware."""

    number: int
    performed_at: datetime
    device_id: int | None
    duration_minutes: int | None = None


@dataclass(frozen=True)
class CourseFacts:
    """What the status depends on; `sessions` in session order, `device` that of the latest."""

    course_id: int
    regimen: Regimen
    status: str
    start_date: date
    hold_reasons: tuple[str, ...]
    sessions: tuple[DoneSession, ...]
    device: tuple[int, WearStatus] | None
    consult_doctor: bool
    check_in_due: datetime | None
    photo_areas: tuple[str, ...]
    # (kind, area, observed_at, number) of the course's measurements, any order.
    observations: tuple[tuple[str, str | None, datetime, float | None], ...] = ()


@dataclass(frozen=True)
class CourseStatus:
    """Where a course stands: what is next, what to avoid now, what is missing."""

    course_id: int
    regimen: str
    status: str
    phase: str
    sessions_done: int
    sessions_planned: int
    next_session: NextSession | None
    aftercare: list[AftercareItem]
    results_expected: bool
    photos_due: tuple[str, list[str]] | None
    device: tuple[int, WearStatus] | None
    adherence: Adherence
    hold_reasons: list[str]
    flags: list[str]
    check_in_due: datetime | None
    progress: list[Progress]


def course_status(facts: CourseFacts, now: datetime) -> CourseStatus:
    """The status at `now`, an aware time in the patient's zone, which also sets the dates."""
    regimen = facts.regimen
    sessions_done = len(facts.sessions)
    performed = [session.performed_at.astimezone(now.tzinfo) for session in facts.sessions]
    done_on = [moment.date() for moment in performed]
    upcoming = None
    if facts.status == ACTIVE:
        upcoming = next_session(regimen, facts.start_date, done_on, now.date())
    if upcoming is not None:
        phase = upcoming.phase
    else:
        phase = regimen.phase_of(max(sessions_done, 1))
    due_photos = None
    # Photos are still asked for at the end of a completed course (the session 10 set).
    if facts.status in (*OPEN_STATUSES, COMPLETED):
        due_photos = photos_due(current_milestone(regimen, sessions_done), facts.photo_areas)
    return CourseStatus(
        course_id=facts.course_id,
        regimen=regimen.kind,
        status=facts.status,
        phase=phase,
        sessions_done=sessions_done,
        sessions_planned=regimen.sessions_planned,
        next_session=upcoming,
        aftercare=(pending_aftercare(session_end(performed[-1], facts.sessions[-1].duration_minutes),
                                     now) if performed else []),
        results_expected=sessions_done >= FIRST_CHANGES_SESSION,
        photos_due=due_photos,
        device=facts.device,
        adherence=adherence(regimen, facts.start_date, done_on),
        hold_reasons=list(facts.hold_reasons),
        flags=[CONSULT_DOCTOR] if facts.consult_doctor else [],
        check_in_due=facts.check_in_due,
        progress=progress(facts.observations),
    )
