"""The course status of the mobile home screen, computed from facts the caller loaded."""

from dataclasses import dataclass
from datetime import date, datetime

from domain.aftercare import AftercareItem, pending_aftercare, session_end
from domain.course import ACTIVE, COMPLETED, ON_HOLD, OPEN_STATUSES
from domain.devices import WearStatus
from domain.flags import CONSULT_DOCTOR, Reason
from domain.outcomes import Progress, progress
from domain.photos import current_milestone, photos_due
from domain.regimen import FIRST_CHANGES_SESSION, Regimen
from domain.schedule import (
    Adherence,
    NextSession,
    adherence,
    next_session,
    projected_sessions,
)
from domain.screening import absolute_reasons
from domain.sessions import CHECK_IN_AFTER, check_in_window

# Who may clear a hold reason (API.md v2 `hold_clearance`).
CLEARED_BY_CLINICIAN = "clinician"
CLEARED_BY_PATIENT_OR_CLINICIAN = "patient_or_clinician"


@dataclass(frozen=True)
class DoneSession:
    """A logged session as the status needs it; `performed_at` is timezone-aware."""

    number: int
    performed_at: datetime
    device_id: int | None
    duration_minutes: int | None = None


@dataclass(frozen=True)
class OpenFlag:
    """An open flag as the status names it: its session and why."""

    id: int
    session_id: int
    session_number: int | None
    raised_at: datetime
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class HoldClearance:
    """A hold reason and who may clear it."""

    reason: str
    cleared_by: str


@dataclass(frozen=True)
class CheckInWindow:
    """The last session's check-in: when it may be answered, and whether it was."""

    session_id: int
    opens_at: datetime
    closes_at: datetime
    done: bool


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
    open_flags: tuple[OpenFlag, ...]
    # The last session's id and whether it has its check-in (None: no session yet).
    last_session_id: int | None
    last_checked_in: bool
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
    hold_clearance: list[HoldClearance]
    open_flags: list[OpenFlag]
    check_in: CheckInWindow | None
    projected_end: date | None


def hold_clearance(reasons: tuple[str, ...]) -> list[HoldClearance]:
    """Who may clear each hold reason: absolute ones and a clinical hold only a linked
    clinician; relative ones the patient too, attesting that a doctor cleared them."""
    absolute = set(absolute_reasons(reasons))
    return [HoldClearance(reason, CLEARED_BY_CLINICIAN if reason in absolute
                          else CLEARED_BY_PATIENT_OR_CLINICIAN) for reason in reasons]


def projected_end(regimen: Regimen, status: str, start_date: date,
                  done_on: list[date]) -> date | None:
    """The due date of the last session of the active phases (the fixed part), or the day
    it was done; None for a course that ended or was cancelled before it."""
    planned = regimen.sessions_planned
    if len(done_on) >= planned:
        return done_on[planned - 1]
    if status not in OPEN_STATUSES:
        return None
    return projected_sessions(regimen, start_date, done_on)[planned - len(done_on) - 1].due


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
    last_check_in = None
    check_in_due = None
    if facts.sessions and facts.last_session_id is not None:
        last = facts.sessions[-1]
        opens_at, closes_at = check_in_window(session_end(last.performed_at,
                                                          last.duration_minutes))
        last_check_in = CheckInWindow(facts.last_session_id, opens_at.astimezone(now.tzinfo),
                                      closes_at.astimezone(now.tzinfo), facts.last_checked_in)
        if not facts.last_checked_in:
            check_in_due = (session_end(last.performed_at, last.duration_minutes)
                            .astimezone(now.tzinfo) + CHECK_IN_AFTER)
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
        flags=[CONSULT_DOCTOR] if facts.open_flags else [],
        check_in_due=check_in_due,
        progress=progress(facts.observations),
        hold_clearance=(hold_clearance(facts.hold_reasons) if facts.status == ON_HOLD
                        else []),
        open_flags=list(facts.open_flags),
        check_in=last_check_in,
        projected_end=projected_end(regimen, facts.status, facts.start_date, done_on),
    )
