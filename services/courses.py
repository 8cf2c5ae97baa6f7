"""Use cases of courses: start one (with screening), change its status, clear a hold, its status.

Routes call these; these call `domain/` for every rule and `storage/` for
every query, add and flush, and leave the commit to the route (or to the
idempotency layer for creating requests).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from domain import course as course_rules
from domain import screening
from domain.devices import wear_status
from domain.errors import Conflict, NotAllowed
from domain.flags import Reason
from domain.photos import current_milestone
from domain.regimen import DEFAULT_PHASE_SIZE, HOME, INTENSIVE, Regimen
from domain.roles import CLINICIAN
from domain.status import (
    CourseFacts,
    CourseStatus,
    DoneSession,
    OpenFlag,
    course_status,
)
from services.iso8601 import iso_or_none
from storage import photo_records, records
from storage.models import Course, TreatmentSession, User, utcnow


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
    reasons = screening.course_hold_reasons(
        data["screening"], screening.carried_over(records.earlier_courses(session, patient.id)))
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


def change_status(course: Course, target: str, by: User, note: str | None = None) -> None:
    """A status a person asks for; a linked clinician may also put the course on hold (v2)."""
    if target == course_rules.ON_HOLD:
        if by.role != CLINICIAN:
            raise NotAllowed("Only a linked clinician puts a course on hold.")
        course_rules.check_clinical_hold(course.status)
        course.status = course_rules.ON_HOLD
        # Only an active or paused course is held: any reason it was on hold for before has
        # been cleared, so this hold is the clinician's alone (an earlier, cleared reason kept
        # here would be carried over to the next course as if it had never been cleared).
        course.hold_reasons = [screening.CLINICIAN_HOLD]
        course.hold_note, course.held_at, course.held_by_id = note, utcnow(), by.id
        return
    if screening.CLINICIAN_HOLD in course.hold_reasons and not course.hold_cleared \
            and by.role != CLINICIAN:
        course_rules.check_change_under_clinical_hold(course.status, target)
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
                      "first_used_on": iso_or_none(latest.first_used_on),
                      "first_performed_at": iso_or_none(usage.first_performed_at)}
    check_ins = records.latest_check_ins(session, course.id)
    numbers = {row.id: number for number, row in enumerate(rows, start=1)}
    return {
        "sessions": [[row.performed_at.isoformat(), row.device_id, row.duration_minutes]
                     for row in rows],
        "device": device,
        "open_flags": [{"id": flag.id, "session_id": flag.session_id,
                        "session_number": numbers.get(flag.session_id),
                        "raised_at": flag.raised_at.isoformat(), "reasons": flag.reasons}
                       for flag in records.open_flags(session, course.id)],
        "last_session_id": rows[-1].id if rows else None,
        "last_checked_in": bool(rows) and rows[-1].id in check_ins,
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


def status_of(session: Session, course: Course, zone: ZoneInfo) -> CourseStatus:
    """The course status now, in the patient's zone, computed from the course's stored facts
    (no query at all), or from the records when none are stored yet."""
    now = datetime.now(zone)
    stored = course.status_facts if course.status_facts is not None else collect_facts(session, course)
    sessions = [(datetime.fromisoformat(at), device_id, duration)
                for at, device_id, duration in stored["sessions"]]
    device = None
    if stored["device"] is not None:
        kept = stored["device"]
        device = (kept["id"], wear_status(kept["kind"], kept["uses"], _first_use(kept, zone),
                                          now.date(), home=course.setting == HOME))
    facts = CourseFacts(
        course_id=course.id,
        regimen=regimen_of(course),
        status=course.status,
        start_date=course.start_date,
        hold_reasons=tuple(course.hold_reasons),
        sessions=tuple(DoneSession(number, at, device_id, duration)
                       for number, (at, device_id, duration) in enumerate(sessions, start=1)),
        device=device,
        open_flags=tuple(
            OpenFlag(flag["id"], flag["session_id"], flag["session_number"],
                     datetime.fromisoformat(flag["raised_at"]).astimezone(zone),
                     tuple(Reason(reason["source"], reason["code"]) for reason in flag["reasons"]))
            for flag in stored["open_flags"]),
        last_session_id=stored["last_session_id"],
        last_checked_in=stored["last_checked_in"],
        photo_areas=tuple(stored["photo_areas"]),
        observations=tuple((kind, area, datetime.fromisoformat(at), number)
                           for kind, area, at, number in stored["observations"]),
    )
    return course_status(facts, now)
