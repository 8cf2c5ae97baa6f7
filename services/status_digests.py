"""Digests of a patient's records, kept current in the transaction that changes the records.

Two are kept: each course's *status facts* (the records its status is
computed from, so reading a status costs no query beyond the course row) and
each patient's *triage digest* (what the clinicians' list sorts on). A
session hook notes whose records a flush touched (courses, sessions,
check-ins, devices, measurements, photos, the patient's own time zone) and,
right before the commit, recomputes both for those patients. No route has to
remember to do it, and no read recomputes them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from domain.course import OPEN_STATUSES
from domain.devices import DEVICE_EXPIRED
from domain.flags import CONSULT_DOCTOR
from domain.outcomes import HAIR_COUNT
from domain.roles import PATIENT
from services import courses
from storage.models import (
    CheckIn,
    Course,
    Device,
    Flag,
    Observation,
    Photo,
    TreatmentSession,
    TriageDigest,
    User,
    utcnow,
)

_TOUCHED = "digests_touched"
# What the digests are computed from, besides sessions and check-ins.
PATIENT_RECORDS = (Course, Device, Flag, Observation, Photo)


def install(factory: sessionmaker) -> None:
    """Hook the digests' refresh into every session the factory makes."""
    event.listen(factory, "after_flush", _note_touched)
    event.listen(factory, "before_commit", _refresh_touched)


def _note_touched(session: Session, _context) -> None:
    touched = session.info.setdefault(_TOUCHED, {"patients": set(), "courses": set(),
                                                 "sessions": set()})
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, TreatmentSession):
            touched["courses"].add(row.course_id)
        elif isinstance(row, CheckIn):
            touched["sessions"].add(row.session_id)
        elif isinstance(row, PATIENT_RECORDS):
            touched["patients"].add(row.patient_id)
        elif isinstance(row, User) and row.role == PATIENT:
            touched["patients"].add(row.id)


def _refresh_touched(session: Session) -> None:
    # before_commit comes before the commit's own flush: flush now, so what
    # this transaction changed is both noted and visible to the recomputation.
    session.flush()
    touched = session.info.pop(_TOUCHED, None)
    if not touched:
        return
    patients = set(touched["patients"])
    if touched["sessions"]:
        touched["courses"] |= set(session.scalars(
            select(TreatmentSession.course_id).where(TreatmentSession.id.in_(touched["sessions"]))))
    if touched["courses"]:
        patients |= set(session.scalars(
            select(Course.patient_id).where(Course.id.in_(touched["courses"]))))
    if patients:
        # The courses are locked first (PostgreSQL; SQLite has one writer anyway): another
        # transaction refreshing the same patient, such as a photo upload beside a session
        # log, waits here until this one commits, then computes from what it committed;
        # side by side, the later commit would write facts without the other's row. The
        # courses, not the patient's row, because a write's lookup already holds its course:
        # waiting for the patient while holding a course would let two writers deadlock.
        locked = session.scalars(select(Course).where(Course.patient_id.in_(patients))
                                 .order_by(Course.id).with_for_update(key_share=True))
        for course in locked:
            course.status_facts = courses.collect_facts(session, course)
    for patient_id in sorted(patients):
        refresh_digest(session, patient_id)
    session.flush()
    session.info.pop(_TOUCHED, None)


def _midnight_after(day: date, zone: ZoneInfo) -> datetime:
    """The instant `day` ends for the patient: what was due by then is overdue after it."""
    return datetime.combine(day + timedelta(days=1), time(), zone).astimezone(timezone.utc)


def refresh_digest(session: Session, patient_id: int) -> None:
    """Recompute one patient's digest from their current course's status."""
    # A new digest must not be flushed half-filled by the queries that fill it.
    with session.no_autoflush:
        _recompute(session, patient_id)


def _recompute(session: Session, patient_id: int) -> None:
    patient = session.get(User, patient_id)
    if patient is None or patient.role != PATIENT:
        return
    digest = session.get(TriageDigest, patient_id)
    if digest is None:
        digest = TriageDigest(patient_id=patient_id)
        session.add(digest)
    course = session.scalars(
        select(Course).where(Course.patient_id == patient_id)
        .order_by(Course.status.in_(OPEN_STATUSES).desc(), Course.id.desc()).limit(1)
    ).first()
    digest.last_activity_at = utcnow()
    if course is None:
        _clear(digest)
        return
    zone = ZoneInfo(patient.timezone)
    status = courses.status_of(session, course, zone)
    upcoming = status.next_session
    wear = status.device[1] if status.device else None
    digest.course_id = course.id
    digest.course_status = status.status
    digest.phase = status.phase
    digest.sessions_done = status.sessions_done
    digest.sessions_planned = status.sessions_planned
    digest.next_number = upcoming.number if upcoming else None
    digest.next_earliest = upcoming.earliest if upcoming else None
    digest.next_due = upcoming.due if upcoming else None
    digest.next_latest = upcoming.latest if upcoming else None
    digest.overdue_from = _midnight_after(upcoming.latest, zone) if upcoming else None
    digest.consult_doctor = CONSULT_DOCTOR in status.flags
    digest.open_flags = [
        {"id": flag.id, "session_id": flag.session_id, "session_number": flag.session_number,
         "raised_at": flag.raised_at.astimezone(timezone.utc).isoformat(),
         "reasons": [{"source": reason.source, "code": reason.code} for reason in flag.reasons]}
        for flag in status.open_flags]
    digest.hold_reasons = list(status.hold_reasons)
    digest.device_warnings = [w for w in wear.warnings if w != DEVICE_EXPIRED] if wear else []
    digest.device_worn = bool(digest.device_warnings)
    digest.device_expired_from = (_midnight_after(wear.expires_on, zone)
                                  if wear and wear.expires_on else None)
    areas = status.photos_due[1] if status.photos_due else []
    digest.photos_due = list(areas)
    digest.photos_missing = len(areas)
    digest.hair_count_change = _latest_hair_count_change(session, course.id, status.progress)


def _latest_hair_count_change(session: Session, course_id: int, progress) -> float | None:
    """The change at the area whose hair count was measured last."""
    area = session.scalar(
        select(Observation.area)
        .where(Observation.course_id == course_id, Observation.kind == HAIR_COUNT,
               Observation.withdrawn_at.is_(None))
        .order_by(Observation.observed_at.desc(), Observation.id.desc()).limit(1)
    )
    return next((entry.change_percent for entry in progress
                 if entry.kind == HAIR_COUNT and entry.area == area), None)


def _clear(digest: TriageDigest) -> None:
    for name in ("course_id", "course_status", "phase", "sessions_planned", "next_number",
                 "next_earliest", "next_due", "next_latest", "overdue_from",
                 "device_expired_from", "hair_count_change"):
        setattr(digest, name, None)
    digest.sessions_done = 0
    digest.consult_doctor = digest.device_worn = False
    digest.hold_reasons, digest.device_warnings, digest.photos_due = [], [], []
    digest.open_flags = []
    digest.photos_missing = 0
