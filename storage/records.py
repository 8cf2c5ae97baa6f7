"""Queries over courses, sessions, devices, check-ins and stored idempotent responses.

Each function takes the session and returns rows; none commits. The number of
statements per use case is fixed, whatever the number of sessions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from domain.course import OPEN_STATUSES
from storage.models import (
    CheckIn,
    Course,
    Device,
    Flag,
    IdempotencyRecord,
    Observation,
    TreatmentSession,
)


@dataclass(frozen=True)
class DeviceUsage:
    """A device's sessions: how many, and the first one (its first use, if not recorded)."""

    uses: int
    first_performed_at: datetime | None


def course_sessions(session: Session, course_id: int) -> Sequence[TreatmentSession]:
    """The done sessions of a course in session order."""
    return session.scalars(
        select(TreatmentSession)
        .where(TreatmentSession.course_id == course_id)
        .order_by(TreatmentSession.performed_at, TreatmentSession.id)
    ).all()


def devices_by_id(session: Session, patient_id: int, ids: Iterable[int]) -> dict[int, Device]:
    ids = set(ids)
    if not ids:
        return {}
    rows = session.scalars(
        select(Device).where(Device.patient_id == patient_id, Device.id.in_(ids))
    )
    return {device.id: device for device in rows}


def device_session_times(session: Session, device_ids: Iterable[int]) -> dict[int, list[datetime]]:
    """When each device was used, in order (every course of its owner)."""
    device_ids = set(device_ids)
    times: dict[int, list[datetime]] = {device_id: [] for device_id in device_ids}
    if not device_ids:
        return times
    rows = session.execute(
        select(TreatmentSession.device_id, TreatmentSession.performed_at)
        .where(TreatmentSession.device_id.in_(device_ids))
        .order_by(TreatmentSession.performed_at, TreatmentSession.id)
    )
    for device_id, performed_at in rows:
        times[device_id].append(performed_at)
    return times


def device_usage(session: Session, device_ids: Iterable[int]) -> dict[int, DeviceUsage]:
    """Uses and first use of each device, in one aggregate query."""
    device_ids = set(device_ids)
    usage = {device_id: DeviceUsage(0, None) for device_id in device_ids}
    if not device_ids:
        return usage
    rows = session.execute(
        select(
            TreatmentSession.device_id,
            func.count(TreatmentSession.id),
            func.min(TreatmentSession.performed_at),
        )
        .where(TreatmentSession.device_id.in_(device_ids))
        .group_by(TreatmentSession.device_id)
    )
    for device_id, uses, first in rows:
        usage[device_id] = DeviceUsage(uses, first)
    return usage


def latest_check_ins(session: Session, course_id: int) -> dict[int, CheckIn]:
    """Each session's check-in, by session id (sessions without one are absent)."""
    rows = session.scalars(
        select(CheckIn)
        .join(TreatmentSession, TreatmentSession.id == CheckIn.session_id)
        .where(TreatmentSession.course_id == course_id)
        .order_by(CheckIn.created_at, CheckIn.id)
    )
    return {entry.session_id: entry for entry in rows}


def open_flag(session: Session, session_id: int) -> Flag | None:
    """The session's open flag (a session has at most one)."""
    return session.scalars(select(Flag).where(Flag.session_id == session_id,
                                              Flag.resolved_at.is_(None))).first()


def course_flags(session: Session, course_id: int) -> Sequence[Flag]:
    """Every flag of a course, open and lowered, oldest first."""
    return session.scalars(select(Flag).where(Flag.course_id == course_id)
                           .order_by(Flag.raised_at, Flag.id)).all()


def open_flags(session: Session, course_id: int) -> Sequence[Flag]:
    """The course's open flags, oldest first."""
    return session.scalars(select(Flag).where(Flag.course_id == course_id,
                                              Flag.resolved_at.is_(None))
                           .order_by(Flag.raised_at, Flag.id)).all()


def earlier_courses(session: Session, patient_id: int) -> list[tuple[list[str], bool, bool]]:
    """(hold reasons, ever cleared, clinical hold cleared) of the patient's courses, oldest
    first (`domain.screening.carried_over`)."""
    courses = session.scalars(select(Course).where(Course.patient_id == patient_id)
                              .order_by(Course.id))
    return [(list(course.hold_reasons), course.cleared_at is not None, course.hold_cleared)
            for course in courses]


def open_course(session: Session, patient_id: int) -> Course | None:
    return session.scalars(
        select(Course).where(Course.patient_id == patient_id, Course.status.in_(OPEN_STATUSES))
    ).first()


def course_measures(session: Session, course_id: int) -> list[tuple]:
    """(kind, area, observed_at, number) of every numeric measurement of a course."""
    return [tuple(row) for row in session.execute(
        select(Observation.kind, Observation.area, Observation.observed_at, Observation.number)
        .where(Observation.course_id == course_id, Observation.number.is_not(None),
               Observation.withdrawn_at.is_(None))
    )]


def delete_idempotency_records(session: Session, created_before: datetime) -> int:
    """Drop stored idempotent responses made before `created_before`; returns how many."""
    return session.execute(delete(IdempotencyRecord)
                           .where(IdempotencyRecord.created_at < created_before)).rowcount

