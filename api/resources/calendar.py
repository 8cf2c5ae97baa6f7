"""The calendar feed: a secret URL a phone calendar subscribes to, with the sessions coming up.

Phone calendars cannot send an Authorization header, so the feed's URL is
the credential: `POST /me/calendar-token` makes a new one (the old one stops
at once), `GET /calendar/{token}.ics` needs nothing else.
"""

from __future__ import annotations

from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import abort

from api.auth import current_user
from api.blueprint import Blueprint
from api.database import db
from domain.roles import PATIENT
from schemas.calendar import CalendarTokenSchema
from schemas.common import EmptyBodySchema
from schemas.photos import BINARY
from services.calendar import feed_owner, issue_calendar_token, scheduled_courses
from services.exports.ical import session_calendar
from storage.models import utcnow

blp = Blueprint("calendar", __name__, url_prefix="/api/v1",
                description="A calendar feed of the sessions due, for phone calendars.")

CALENDAR = "text/calendar"


@blp.route("/me/calendar-token")
class CalendarTokenViews(MethodView):
    @blp.login_required(PATIENT)
    @blp.idempotent_create
    @blp.arguments(EmptyBodySchema, required=False)
    @blp.response(201, CalendarTokenSchema)
    def post(self, _body):
        """A new secret feed URL for my calendar; the previous URL stops working at once"""
        token = issue_calendar_token(db(), current_user())
        return {"url": url_for("calendar.CalendarFeedViews", token=token, _external=True),
                "created_at": utcnow()}


@blp.route("/calendar/<token>.ics")
class CalendarFeedViews(MethodView):
    @blp.doc(security=[])
    @blp.response(200, BINARY, content_type=CALENDAR, description=(
        "iCalendar (RFC 5545): an all-day event per projected session of the active courses, "
        "on its due date, with the on-time window and a reminder the evening before"))
    def get(self, token):
        """The sessions coming up, as a calendar feed (the URL is the secret: no Authorization)"""
        patient = feed_owner(db(), token)
        if patient is None:
            abort(404, message="No such calendar feed (a newer URL may have replaced it).")
        feed = session_calendar(scheduled_courses(db(), patient), utcnow())
        response = Response(feed, mimetype=CALENDAR)
        response.headers["Cache-Control"] = "private, no-store"
        return response
