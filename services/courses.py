"""Use cases of the course engine: one function each, domain rules over stored records.

Routes call these; these call `domain/` for every rule and `storage/` for
every query, add and flush, and leave the commit to the route (or to the
idempotency layer for creating requests).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from api.auth import CLINICIAN
from domain import course as course_rules
from domain import screening
from domain.devices import WearStatus, validate_needle_length, wear_status
from domain.errors import Conflict, RuleViolation
from domain.photos import current_milestone
from domain.regimen import DEFAULT_PHASE_SIZE, INTENSIVE, Regimen
from domain.schedule import (
    SessionWindow,
    interval_warning,
    projected_sessions,
    session_timing,
    window_for,
)
from domain.sessions import CHECK_IN_AFTER, SessionFacts, needs_doctor, session_warnings
from domain.status import CourseFacts, CourseStatus, DoneSession, course_status
from storage import photo_records, records
from storage.models import CheckIn, Course, Device, TreatmentSession, User, utcnow

# A phone clock a little ahead of the server's is not a session "in the future".
CLOCK_SKEW = timedelta(minutes=5)


def regimen_of(course: Course) -> Regimen:
    return Regimen(course.regimen, course.setting,
                   course.weekly_sessions or DEFAULT_PHASE_SIZE,
                   course.biweekly_sessions or DEFAULT_PHASE_SIZE)


def create_course(session: Session, patient: User, data: dict) -> Course:
    zone = ZoneInfo(patient.timezone)
    course_rules.validate_start_date(data["start_date"], datetime.now(zone).date())
    intensive = data["regimen"] == INTENSIVE
    regimen = Regimen(data["regimen"], data["setting"],
                      data.get("weekly_sessions", DEFAULT_PHASE_SIZE),
                      data.get("biweekly_sessions", DEFAULT_PHASE_SIZE))
    reasons = screening.hold_reasons(data["screening"])
    existing = records.open_course(session, patient.id)
    if existing is not None:
        raise Conflict(f"Course {existing.id} is still {existing.status}; end, cancel or "
                       "complete it before starting another.")
    course = Course(
        patient_id=patient.id,
        regimen=regimen.kind,
        setting=regimen.setting,
        weekly_sessions=regimen.weekly_sessions if intensive else None,
        biweekly_sessions=regimen.biweekly_sessions if intensive else None,
        start_date=data["start_date"],
        status=course_rules.ON_HOLD if reasons else course_rules.ACTIVE,
        screening={key: value for key, value in data["screening"].items()},
        hold_reasons=reasons,
        concurrent_therapies=list(dict.fromkeys(t.strip() for t in data["concurrent_therapies"])),
    )
    session.add(course)
    session.flush()
    return course


def change_status(course: Course, target: str) -> None:
    course_rules.check_transition(course.status, target)
    course.status = target


def clear_hold(course: Course, by: User, note: str) -> None:
    """Clear an on-hold course: relative reasons by the patient's attestation."""
    if course.status != course_rules.ON_HOLD:
        raise Conflict(f"The course is {course.status}, not on hold.")
    # Only a linked clinician gets this far as a clinician: access control ran first.
    screening.check_clearance(course.hold_reasons, by_linked_clinician=by.role == CLINICIAN)
    course.status = course_rules.ACTIVE
    course.clearance_note = note
    course.cleared_at = utcnow()
    course.cleared_by_id = by.id


@dataclass
class SessionRecord:
    """A done session with what is derived from the records around it."""

    row: TreatmentSession
    number: int
    phase: str
    window: SessionWindow
    timing: str
    warnings: list[str] = field(default_factory=list)


def session_records(session: Session, course: Course, zone: ZoneInfo) -> list[SessionRecord]:
    """Every done session of the course, numbered, with its timing and warnings."""
    rows = records.course_sessions(session, course.id)
    return _derive(session, course, rows, zone)


def _derive(session: Session, course: Course, rows: Sequence[TreatmentSession],
            zone: ZoneInfo) -> list[SessionRecord]:
    regimen = regimen_of(course)
    device_ids = {row.device_id for row in rows if row.device_id is not None}
    devices = records.devices_by_id(session, course.patient_id, device_ids)
    used_at = records.device_session_times(session, device_ids)
    derived = []
    previous_on: date | None = None
    for number, row in enumerate(rows, start=1):
        done_on = row.performed_at.astimezone(zone).date()
        window = window_for(regimen, number, course.start_date, previous_on)
        wear = None
        device = devices.get(row.device_id)
        if device is not None:
            times = used_at[device.id]
            first_use = device.first_used_on or times[0].astimezone(zone).date()
            # Uses so far: every session with this device up to this one, any course.
            wear = wear_status(device.kind, bisect_right(times, row.performed_at), first_use, done_on)
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
        )
        derived.append(SessionRecord(row, number, regimen.phase_of(number), window,
                                     session_timing(window, done_on), session_warnings(facts)))
        previous_on = done_on
    return derived


def projected(course: Course, done: list[SessionRecord], zone: ZoneInfo) -> list[SessionWindow]:
    if course.status in (course_rules.COMPLETED, course_rules.ENDED, course_rules.CANCELLED):
        return []
    done_on = [record.row.performed_at.astimezone(zone).date() for record in done]
    return projected_sessions(regimen_of(course), course.start_date, done_on)


def _check_session_input(session: Session, course: Course, data: dict, zone: ZoneInfo) -> None:
    performed_at = data.get("performed_at")
    if performed_at is not None and performed_at > datetime.now(zone) + CLOCK_SKEW:
        raise RuleViolation("A session cannot be logged in the future.", "performed_at")
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
    return _settle(session, course, zone, row)


def correct_session(session: Session, course: Course, row: TreatmentSession, data: dict,
                    zone: ZoneInfo) -> SessionRecord:
    _check_session_input(session, course, data, zone)
    for name, value in data.items():
        setattr(row, name, value)
    session.flush()
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


def check_in(session: Session, row: TreatmentSession, data: dict) -> CheckIn:
    entry = CheckIn(session_id=row.id, **data)
    session.add(entry)
    session.flush()
    return entry


def consult_doctor(entry: CheckIn | None) -> bool:
    return entry is not None and needs_doctor(
        entry.redness_persists, entry.swelling_persists, entry.infection_signs
    )


def device_wear(session: Session, devices: Sequence[Device], on: date,
                zone: ZoneInfo) -> dict[int, WearStatus]:
    """Wear of each device today, from the sessions that used it."""
    usage = records.device_usage(session, [device.id for device in devices])
    wear = {}
    for device in devices:
        used = usage[device.id]
        first_use = device.first_used_on or (
            used.first_performed_at.astimezone(zone).date() if used.first_performed_at else None
        )
        wear[device.id] = wear_status(device.kind, used.uses, first_use, on)
    return wear


def milestone_photo_areas(session: Session, course: Course,
                          rows: Sequence[TreatmentSession]) -> set[str]:
    """The areas photographed for the course's current milestone (DOMAIN.md section 6):
    the baseline is what was taken before session 1 (everything, before any session);
    the milestone after session N is what was taken from session N on."""
    after = current_milestone(regimen_of(course), len(rows)).after_session
    if after == 0:
        return photo_records.areas_photographed(
            session, course.id, None, rows[0].performed_at if rows else None)
    return photo_records.areas_photographed(session, course.id, rows[after - 1].performed_at, None)


def collect_facts(session: Session, course: Course) -> dict:
    """What the course status is computed from, read from the records, ready to store as JSON.

    Only records go in (times in UTC, counts, flags): nothing that depends on
    the day it is read or on the patient's zone, so a stored copy is as good
    as a fresh one until the records change (`services.status_digests` keeps it current).
    """
    rows = records.course_sessions(session, course.id)
    device = None
    if rows and rows[-1].device_id is not None:
        found = records.devices_by_id(session, course.patient_id, [rows[-1].device_id])
        if found:
            latest = found[rows[-1].device_id]
            usage = records.device_usage(session, [latest.id])[latest.id]
            device = {"id": latest.id, "kind": latest.kind, "uses": usage.uses,
                      "first_used_on": _iso(latest.first_used_on),
                      "first_performed_at": _iso(usage.first_performed_at)}
    entry = records.latest_check_in(session, course.id)
    return {
        "sessions": [[row.performed_at.isoformat(), row.device_id] for row in rows],
        "device": device,
        "consult_doctor": consult_doctor(entry),
        "last_checked_in": bool(rows) and entry is not None and entry.session_id == rows[-1].id,
        "photo_areas": sorted(milestone_photo_areas(session, course, rows)),
        "observations": [[kind, area, observed_at.isoformat(), number]
                         for kind, area, observed_at, number
                         in records.course_measures(session, course.id)],
    }


def _first_use(device: dict, zone: ZoneInfo) -> date | None:
    """The recorded first use, else the day of the device's first session."""
    if device["first_used_on"]:
        return date.fromisoformat(device["first_used_on"])
    if device["first_performed_at"]:
        return datetime.fromisoformat(device["first_performed_at"]).astimezone(zone).date()
    return None


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def status_of(session: Session, course: Course, zone: ZoneInfo) -> CourseStatus:
    """The course status now, in the patient's zone, computed from the course's stored facts
    (no query at all), or from the records when none are stored yet."""
    now = datetime.now(zone)
    stored = course.status_facts if course.status_facts is not None else collect_facts(session, course)
    sessions = [(datetime.fromisoformat(at), device_id) for at, device_id in stored["sessions"]]
    device = None
    if stored["device"] is not None:
        kept = stored["device"]
        device = (kept["id"], wear_status(kept["kind"], kept["uses"], _first_use(kept, zone),
                                          now.date()))
    check_in_due = None
    if sessions and not stored["last_checked_in"]:
        check_in_due = sessions[-1][0].astimezone(zone) + CHECK_IN_AFTER
    facts = CourseFacts(
        course_id=course.id,
        regimen=regimen_of(course),
        status=course.status,
        start_date=course.start_date,
        hold_reasons=tuple(course.hold_reasons),
        sessions=tuple(DoneSession(number, at, device_id)
                       for number, (at, device_id) in enumerate(sessions, start=1)),
        device=device,
        consult_doctor=stored["consult_doctor"],
        check_in_due=check_in_due,
        photo_areas=tuple(stored["photo_areas"]),
        observations=tuple((kind, area, datetime.fromisoformat(at), number)
                           for kind, area, at, number in stored["observations"]),
    )
    return course_status(facts, now)
