"""The calendar feed as iCalendar (RFC 5545, made with `icalendar`).

Each projected session is an all-day event on its due date, with the on-time
window in its description and a reminder the evening before. An event keeps
its UID (course and session number) when the schedule moves, so a subscribed
calendar moves the event instead of adding another.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event, vDuration

from domain.schedule import SessionWindow
from services.calendar import ScheduledCourse

PRODUCT_ID = "-//Scalpcourse//Session calendar//EN"
CALENDAR_NAME = "Microneedling sessions"
# How often a subscribed calendar should fetch the feed again.
REFRESH_INTERVAL = timedelta(hours=6)
# All-day events start at midnight: 6 h before is 18:00 the evening before.
REMINDER_BEFORE = timedelta(hours=6)
UID_DOMAIN = "scalpcourse"


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
