"""Use cases of done sessions: log, correct or undo one, the schedule, the 24 h check-in.

Routes call these; these call `domain/` for every rule and `storage/` for
every query, add and flush, and leave the commit to the route (or to the
idempotency layer for creating requests).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from domain import course as course_rules
from domain.aftercare import session_end
from domain.clock import in_the_future
from domain.devices import validate_needle_length, wear_status
from domain.errors import Conflict, NotAllowed, NotFound, RuleViolation
from domain.flags import CONSULT_DOCTOR
from domain.readiness import Blocker, contraindications_today, readiness
from domain.regimen import HOME
from domain.schedule import (
    NextSession,
    SessionWindow,
    interval_warning,
    projected_sessions,
    session_timing,
    window_for,
)
from domain.sessions import (
    SessionFacts,
    check_in_window,
    session_warnings,
    validate_check_in_time,
)
from services.courses import regimen_of, status_of
from services.flags import session_reasons, settle_flag
from storage import records
from storage.models import CheckIn, Course, Flag, TreatmentSession, User, utcnow

DONE, PROJECTED = "done", "projected"


@dataclass
class SessionRecord:
    """A done session with what is derived from the records around it."""

    row: TreatmentSession
    number: int
    phase: str
    window: SessionWindow
    timing: str
    # When it was performed, in the patient's zone.
    performed_at: datetime
    warnings: list[str] = field(default_factory=list)
    check_in: CheckIn | None = None
    # The flags this session raised, open and lowered, oldest first.
    flags: list[Flag] = field(default_factory=list)

    @property
    def earliest(self) -> date:
        return self.window.earliest

    @property
    def due(self) -> date:
        return self.window.due

    @property
    def latest(self) -> date:
        return self.window.latest


def session_records(session: Session, course: Course, zone: ZoneInfo) -> list[SessionRecord]:
    """Every done session of the course, numbered, with its timing and warnings."""
    rows = records.course_sessions(session, course.id)
    return _derive(session, course, rows, zone)


def _derive(session: Session, course: Course, rows: Sequence[TreatmentSession],
            zone: ZoneInfo) -> list[SessionRecord]:
    regimen = regimen_of(course)
    check_ins = records.latest_check_ins(session, course.id)
    flags: dict[int, list[Flag]] = {}
    for flag in records.course_flags(session, course.id):
        flags.setdefault(flag.session_id, []).append(flag)
    device_ids = {row.device_id for row in rows if row.device_id is not None}
    devices = records.devices_by_id(session, course.patient_id, device_ids)
    used_at = records.device_session_times(session, device_ids)
    derived = []
    previous_on: date | None = None
    for number, row in enumerate(rows, start=1):
        performed_at = row.performed_at.astimezone(zone)
        done_on = performed_at.date()
        window = window_for(regimen, number, course.start_date, previous_on)
        wear = None
        device = devices.get(row.device_id)
        if device is not None:
            times = used_at[device.id]
            first_use = device.first_used_on or times[0].astimezone(zone).date()
            # Uses so far: every session with this device up to this one, any course.
            wear = wear_status(device.kind, bisect_right(times, row.performed_at), first_use,
                               done_on, home=course.setting == HOME)
        facts = SessionFacts(
            setting=course.setting,
            needle_length_mm=row.needle_length_mm,
            duration_minutes=row.duration_minutes,
            pain_score=row.pain_score,
            device_disinfected=row.device_disinfected,
            new_cartridge=row.new_cartridge,
            device=wear,
            device_kind=device.kind if device else None,
            interval_warning=(interval_warning(regimen, number, previous_on, done_on)
                              if previous_on else None),
            device_retired=(device is not None and device.retired_at is not None
                            and row.performed_at >= device.retired_at),
            cocktail=row.cocktail,
            device_sterilized=row.device_sterilized,
            contraindications=tuple(contraindications_today(row.pre_check or {})),
        )
        derived.append(SessionRecord(row, number, regimen.phase_of(number), window,
                                     session_timing(window, done_on), performed_at,
                                     session_warnings(facts), check_ins.get(row.id),
                                     flags.get(row.id, [])))
        previous_on = done_on
    return derived


def projected(course: Course, done: list[SessionRecord], zone: ZoneInfo) -> list[SessionWindow]:
    """The sessions still to come, with their windows; none once the course is over."""
    if course.status in (course_rules.COMPLETED, course_rules.ENDED, course_rules.CANCELLED):
        return []
    done_on = [record.performed_at.date() for record in done]
    return projected_sessions(regimen_of(course), course.start_date, done_on)


def schedule(session: Session, course: Course, zone: ZoneInfo,
             after: int = 0) -> list[SessionRecord | SessionWindow]:
    """Done sessions, then the projected ones, in session order, from number `after` + 1."""
    done = session_records(session, course, zone)
    items: list[SessionRecord | SessionWindow] = [*done, *projected(course, done, zone)]
    return [item for item in items if item.number > after]


def session_record(session: Session, course: Course, row: TreatmentSession,
                   zone: ZoneInfo) -> SessionRecord | None:
    """One done session as `session_records` derives it (None: undone meanwhile)."""
    return next((record for record in session_records(session, course, zone)
                 if record.row is row), None)


def _check_session_input(session: Session, course: Course, data: dict, zone: ZoneInfo) -> None:
    performed_at = data.get("performed_at")
    if performed_at is not None and in_the_future(performed_at, datetime.now(zone)):
        raise RuleViolation("A session cannot be logged in the future.", "performed_at")
    if performed_at is not None:
        course_rules.validate_performed_on(performed_at.astimezone(zone).date(),
                                           course.start_date)
    if data.get("device_id") is not None:
        if not records.devices_by_id(session, course.patient_id, [data["device_id"]]):
            raise RuleViolation("No such device among the patient's devices.", "device_id")
    if "needle_length_mm" in data:
        validate_needle_length(data["needle_length_mm"])


def log_session(session: Session, course: Course, data: dict, by: User,
                zone: ZoneInfo) -> SessionRecord:
    """Record a done session on an active course; return it with its warnings."""
    if course.status != course_rules.ACTIVE:
        raise Conflict(f"Sessions can be logged on an active course; this one is {course.status}.")
    _check_session_input(session, course, data, zone)
    values = dict(data)
    if "needle_length_mm" not in values:
        device = records.devices_by_id(session, course.patient_id, [values.get("device_id")])
        if not device:
            raise RuleViolation("Give the needle length, or a device to take it from.",
                                "needle_length_mm")
        values["needle_length_mm"] = next(iter(device.values())).needle_length_mm
    row = TreatmentSession(course_id=course.id, logged_by_id=by.id, **values)
    session.add(row)
    session.flush()
    settle_flag(session, course, row, (), None)
    return _settle(session, course, zone, row)


def correct_session(session: Session, course: Course, row: TreatmentSession, data: dict,
                    zone: ZoneInfo) -> SessionRecord:
    _check_session_input(session, course, data, zone)
    answered = records.latest_check_ins(session, course.id).get(row.id)
    before = session_reasons(row, answered)
    for name, value in data.items():
        setattr(row, name, value)
    session.flush()
    settle_flag(session, course, row, before, answered)
    return _settle(session, course, zone, row)


def undo_session(session: Session, course: Course, row: TreatmentSession, zone: ZoneInfo) -> None:
    session.delete(row)
    session.flush()
    _settle(session, course, zone, None)


def _settle(session: Session, course: Course, zone: ZoneInfo,
            row: TreatmentSession | None) -> SessionRecord | None:
    """Re-derive the course after a change: numbering, warnings, completion."""
    done = session_records(session, course, zone)
    status = course_rules.status_after_sessions(regimen_of(course), course.status, len(done))
    if status in course_rules.OPEN_STATUSES and course.status not in course_rules.OPEN_STATUSES:
        other = records.open_course(session, course.patient_id)
        if other is not None:
            raise Conflict(f"This would reopen course {course.id}, but course {other.id} is "
                           f"{other.status}; end or cancel that one first.")
    course.status = status
    return next((record for record in done if record.row is row), None)


def check_in(session: Session, row: TreatmentSession, course: Course, by: User,
             data: dict) -> CheckIn:
    """The patient's follow-up about a day after a session: one per session, within its window."""
    if course.patient_id != by.id:
        raise NotAllowed("Only the patient checks in after a session.")
    if records.latest_check_ins(session, course.id).get(row.id) is not None:
        raise Conflict("This session has its check-in; correct it (PATCH) within 7 days of "
                       "the session.")
    validate_check_in_time(session_end(row.performed_at, row.duration_minutes), utcnow())
    entry = CheckIn(session_id=row.id, **data)
    session.add(entry)
    session.flush()
    settle_flag(session, course, row, session_reasons(row, None), entry)
    return entry


def correct_check_in(session: Session, row: TreatmentSession, course: Course, by: User,
                     data: dict) -> CheckIn:
    """Change the answers of a session's check-in, until its window closes."""
    if course.patient_id != by.id:
        raise NotAllowed("Only the patient checks in after a session.")
    entry = records.latest_check_ins(session, course.id).get(row.id)
    if entry is None:
        raise Conflict("This session has no check-in yet to correct.")
    _, closes_at = check_in_window(session_end(row.performed_at, row.duration_minutes))
    if utcnow() > closes_at:
        raise RuleViolation(f"The check-in of this session closed at {closes_at.isoformat()}.",
                            "_schema")
    before = session_reasons(row, entry)
    for name, value in data.items():
        setattr(entry, name, value)
    session.flush()
    settle_flag(session, course, row, before, entry)
    return entry


@dataclass(frozen=True)
class ReadinessReport:
    """The answer to "may I do a session today?", with the next session's window."""

    go: bool
    blockers: list[Blocker]
    cautions: list[str]
    next_session: NextSession | None


def check_readiness(session: Session, course: Course, data: dict,
                    zone: ZoneInfo) -> ReadinessReport:
    """Whether the patient may do a session today: the rules a session logged now would be
    warned by, asked beforehand. Stores nothing."""
    done = session_records(session, course, zone)
    today = datetime.now(zone).date()
    regimen = regimen_of(course)
    interval = (interval_warning(regimen, len(done) + 1, done[-1].performed_at.date(), today)
                if done else None)
    device, wear = None, None
    if data.get("device_id") is not None:
        found = records.devices_by_id(session, course.patient_id, [data["device_id"]])
        if not found:
            raise NotFound("No such device among the patient's devices.", "device_id")
        device = found[data["device_id"]]
        usage = records.device_usage(session, [device.id])[device.id]
        first_use = device.first_used_on or (
            usage.first_performed_at.astimezone(zone).date() if usage.first_performed_at
            else today)
        # As the session would count it: one use more.
        wear = wear_status(device.kind, usage.uses + 1, first_use, today,
                           home=course.setting == HOME)
    needle = data.get("needle_length_mm", device.needle_length_mm if device else None)
    facts = SessionFacts(
        setting=course.setting, needle_length_mm=needle, duration_minutes=None,
        pain_score=None, device_disinfected=None, new_cartridge=None, device=wear,
        device_kind=device.kind if device else None, interval_warning=interval,
        device_retired=device is not None and device.retired)
    status = status_of(session, course, zone)
    answer = readiness(course.status, course.status == course_rules.ACTIVE, interval,
                       data["pre_check"], CONSULT_DOCTOR in status.flags,
                       session_warnings(facts))
    return ReadinessReport(answer.go, answer.blockers, answer.cautions, status.next_session)
