"""The calendar feed: its secret URL token, and the iCalendar (RFC 5545, made with `icalendar`).

A patient has at most one feed token; a new one replaces the old at once. The
token is 256 random bits, shown once; only its SHA-256 is kept.

The feed holds the projected sessions of the patient's active courses, as the
course status and the schedule compute them. Each is an all-day event on its
due date, with the on-time window in its description and a reminder the
evening before. An event keeps its UID (course and session number) when the
schedule moves, so a subscribed calendar moves the event instead of adding
another.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, vDuration
from sqlalchemy import select
from sqlalchemy.orm import Session

from services import courses as tracking
from api.auth import token_digest
from domain.course import ACTIVE
from domain.schedule import SessionWindow
from storage.models import CalendarToken, Course, User, utcnow

PRODUCT_ID = "-//Scalpcourse//Session calendar//EN"
CALENDAR_NAME = "Microneedling sessions"
# How often a subscribed calendar should fetch the feed again.
REFRESH_INTERVAL = timedelta(hours=6)
# All-day events start at midnight: 6 h before is 18:00 the evening before.
REMINDER_BEFORE = timedelta(hours=6)
UID_DOMAIN = "scalpcourse"


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
    return [ScheduledCourse(course.id, course.regimen, tracking.projected(
        course, tracking.session_records(session, course, zone), zone)) for course in courses]


def session_calendar(courses: list[ScheduledCourse], now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", CALENDAR_NAME)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    for course in courses:
        for window in course.sessions:
            calendar.add_component(_event(course, window, now))
    return calendar.to_ical()


def _event(course: ScheduledCourse, window: SessionWindow, now: datetime) -> Event:
    event = Event()
    event.add("uid", f"course-{course.course_id}-session-{window.number}@{UID_DOMAIN}")
    event.add("dtstamp", now)
    event.add("dtstart", window.due)
    event.add("dtend", window.due + timedelta(days=1))
    event.add("summary", f"Microneedling session {window.number}")
    event.add("description", (
        f"Session {window.number} of your {course.regimen} course "
        f"({window.phase.replace('_', ' ')} phase) is due on {window.due.isoformat()}. "
        f"On time from {window.earliest.isoformat()} to {window.latest.isoformat()}."))
    event.add("transp", "TRANSPARENT")
    event.add("categories", ["Microneedling"])
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"Microneedling session {window.number} is due tomorrow")
    alarm.add("trigger", -REMINDER_BEFORE)
    event.add_component(alarm)
    return event
