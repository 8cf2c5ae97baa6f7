"""Use cases of the calendar feed: its secret URL token, and the sessions the feed shows.

A patient has at most one feed token; a new one replaces the old at once. The
token is 256 random bits, shown once; only its SHA-256 is kept. The feed holds
the projected sessions of the patient's active courses, as the course status
and the schedule compute them (rendered by `services.exports.ical`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.course import ACTIVE
from domain.schedule import SessionWindow
from services.accounts import token_digest
from services.sessions import projected, session_records
from storage.models import CalendarToken, Course, User, utcnow


@dataclass(frozen=True)
class ScheduledCourse:
    """A course whose projected sessions go into the feed."""

    course_id: int
    regimen: str
    sessions: list[SessionWindow]


def issue_calendar_token(session: Session, patient: User) -> str:
    """A new feed token for the patient, replacing any earlier one (flushed, not committed)."""
    token = secrets.token_urlsafe(32)
    row = session.get(CalendarToken, patient.id)
    if row is None:
        session.add(CalendarToken(patient_id=patient.id, token_hash=token_digest(token)))
    else:
        row.token_hash = token_digest(token)
        row.created_at = utcnow()
    session.flush()
    return token


def feed_owner(session: Session, token: str) -> User | None:
    """The patient whose current feed token this is."""
    return session.scalar(select(User).join(CalendarToken, CalendarToken.patient_id == User.id)
                          .where(CalendarToken.token_hash == token_digest(token)))


def scheduled_courses(session: Session, patient: User) -> list[ScheduledCourse]:
    """The patient's active courses with their projected sessions."""
    zone = ZoneInfo(patient.timezone)
    courses = session.scalars(select(Course).where(Course.patient_id == patient.id,
                                                   Course.status == ACTIVE)
                              .order_by(Course.id)).all()
    return [ScheduledCourse(course.id, course.regimen, projected(
        course, session_records(session, course, zone), zone)) for course in courses]
