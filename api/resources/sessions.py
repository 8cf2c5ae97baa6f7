"""Sessions: log a done one, correct or undo it, the schedule, the 24 h check-in."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask.views import MethodView
from flask_smorest import abort

from api.blueprint import Blueprint

from services import courses as tracking
from api.access import course_or_404, patient_of, session_or_404
from api.auth import current_user, login_required
from api.database import db
from api.idempotency import idempotent_create
from schemas.common import PageArgsSchema
from schemas.sessions import (
    CheckInCreateSchema,
    CheckInSchema,
    SchedulePageSchema,
    SessionCreateSchema,
    SessionLoggedSchema,
    SessionSchema,
    SessionUpdateSchema,
)

blp = Blueprint("sessions", __name__, url_prefix="/api/v1",
                description="Done sessions with their warnings, the projected schedule, check-ins.")


def session_body(record: tracking.SessionRecord) -> dict:
    row = record.row
    return {
        **{name: getattr(row, name) for name in _STORED_FIELDS},
        "number": record.number,
        "phase": record.phase,
        "earliest": record.window.earliest,
        "due": record.window.due,
        "latest": record.window.latest,
        "timing": record.timing,
        "warnings": record.warnings,
    }


_STORED_FIELDS = ("id", "course_id", "performed_at", "device_id", "needle_length_mm",
                  "duration_minutes", "pain_score", "cocktail", "areas", "side_effects",
                  "device_disinfected", "new_cartridge", "notes")


def _zone(course) -> ZoneInfo:
    return ZoneInfo(patient_of(course).timezone)


def _in_zone(body: dict, zone: ZoneInfo) -> dict:
    body["performed_at"] = body["performed_at"].astimezone(zone)
    return body


@blp.route("/courses/<int:course_id>/sessions")
class CourseSessionViews(MethodView):
    @login_required()
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, SchedulePageSchema)
    def get(self, args, course_id):
        """Done sessions, then the projected ones, in session order"""
        course = course_or_404(course_id, reading="sessions")
        zone = _zone(course)
        done = tracking.session_records(db(), course, zone)
        items = [{**_in_zone(session_body(record), zone), "state": "done"} for record in done]
        items += [{"state": "projected", "number": window.number, "phase": window.phase,
                   "earliest": window.earliest, "due": window.due, "latest": window.latest}
                  for window in tracking.projected(course, done, zone)]
        after = args["cursor"][0] if args.get("cursor") else 0
        remaining = [item for item in items if item["number"] > after]
        page = remaining[: args["limit"]]
        more = len(remaining) > args["limit"]
        return {"items": page, "next_cursor": [page[-1]["number"]] if more else None}

    @login_required()
    @idempotent_create
    @blp.arguments(SessionCreateSchema)
    @blp.response(201, SessionLoggedSchema)
    def post(self, data, course_id):
        """Log a done session; the answer lists its warnings (409 unless the course is active)"""
        course = course_or_404(course_id)
        zone = _zone(course)
        record = tracking.log_session(db(), course, data, current_user(), zone)
        return {"session": _in_zone(session_body(record), zone), "warnings": record.warnings}


@blp.route("/sessions/<int:session_id>")
class SessionByIdViews(MethodView):
    @login_required()
    @blp.etag
    @blp.response(200, SessionSchema)
    def get(self, session_id):
        """One done session with its number, phase, timing and warnings"""
        row, course = session_or_404(session_id)
        zone = _zone(course)
        record = next((r for r in tracking.session_records(db(), course, zone) if r.row is row),
                      None)
        if record is None:  # undone by another request since the lookup
            abort(404, message="No such session.")
        return _in_zone(session_body(record), zone)

    @login_required()
    @blp.arguments(SessionUpdateSchema)
    @blp.response(200, SessionSchema)
    def patch(self, data, session_id):
        """Correct a logged session; numbering and warnings follow"""
        row, course = session_or_404(session_id)
        zone = _zone(course)
        record = tracking.correct_session(db(), course, row, data, zone)
        db().commit()
        return _in_zone(session_body(record), zone)

    @login_required()
    @blp.response(204)
    def delete(self, session_id):
        """Undo a logged session; the schedule recomputes from the rest"""
        row, course = session_or_404(session_id)
        tracking.undo_session(db(), course, row, _zone(course))
        db().commit()


@blp.route("/sessions/<int:session_id>/check-in")
class CheckInViews(MethodView):
    @login_required()
    @idempotent_create
    @blp.arguments(CheckInCreateSchema)
    @blp.response(201, CheckInSchema)
    def post(self, data, session_id):
        """The 24 h follow-up; persisting redness or swelling, or infection signs, flag consult_doctor"""
        row, course = session_or_404(session_id)
        if course.patient_id != current_user().id:
            abort(403, message="Only the patient checks in after a session.")
        return tracking.check_in(db(), row, data)
