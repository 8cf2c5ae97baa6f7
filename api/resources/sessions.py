"""Sessions: log a done one, correct or undo it, the schedule, the 24 h check-in."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask.views import MethodView
from flask_smorest import abort

from api.access import course_or_404, patient_of, session_or_404
from api.auth import current_user
from api.blueprint import Blueprint
from api.database import db
from api.paging import page_of
from schemas.common import PageArgsSchema
from schemas.sessions import (
    CheckInCreateSchema,
    CheckInSchema,
    CheckInUpdateSchema,
    ReadinessAnswerSchema,
    ReadinessCheckSchema,
    SchedulePageSchema,
    SessionCreateSchema,
    SessionLoggedSchema,
    SessionSchema,
    SessionUpdateSchema,
)
from services import sessions

blp = Blueprint("sessions", __name__, url_prefix="/api/v1",
                description="Done sessions with their warnings, the projected schedule, check-ins.")


def _zone(course) -> ZoneInfo:
    return ZoneInfo(patient_of(course).timezone)


@blp.route("/courses/<int:course_id>/sessions")
class CourseSessionViews(MethodView):
    @blp.login_required()
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, SchedulePageSchema)
    def get(self, args, course_id):
        """Done sessions, then the projected ones, in session order"""
        course = course_or_404(course_id, reading="sessions")
        after = args["cursor"][0] if args.get("cursor") else 0
        items = sessions.schedule(db(), course, _zone(course), after)
        return page_of(items, args["limit"], lambda item: [item.number])

    @blp.login_required()
    @blp.idempotent_create
    @blp.arguments(SessionCreateSchema)
    @blp.response(201, SessionLoggedSchema)
    @blp.alt_response(409, "CONFLICT", description="The course is not active")
    def post(self, data, course_id):
        """Log a done session; the answer lists its warnings (409 unless the course is active)"""
        course = course_or_404(course_id)
        return sessions.log_session(db(), course, data, current_user(), _zone(course))


@blp.route("/courses/<int:course_id>/readiness")
class ReadinessViews(MethodView):
    @blp.login_required()
    @blp.arguments(ReadinessCheckSchema)
    @blp.response(200, ReadinessAnswerSchema)
    def post(self, data, course_id):
        """May I do a session today? Go or no-go with the reasons, asked before every session (stores nothing)"""
        course = course_or_404(course_id)
        return sessions.check_readiness(db(), course, data, _zone(course))


@blp.route("/sessions/<int:session_id>")
class SessionByIdViews(MethodView):
    @blp.login_required()
    @blp.etag
    @blp.response(200, SessionSchema)
    def get(self, session_id):
        """One done session with its number, phase, timing and warnings"""
        row, course = session_or_404(session_id)
        record = sessions.session_record(db(), course, row, _zone(course))
        if record is None:  # undone by another request since the lookup
            abort(404, message="No such session.")
        return record

    @blp.login_required()
    @blp.arguments(SessionUpdateSchema)
    @blp.response(200, SessionSchema)
    @blp.alt_response(409, "CONFLICT", description="The change would reopen a course while "
                                                   "another is open")
    def patch(self, data, session_id):
        """Correct a logged session; numbering and warnings follow"""
        row, course = session_or_404(session_id)
        record = sessions.correct_session(db(), course, row, data, _zone(course))
        db().commit()
        return record

    @blp.login_required()
    @blp.response(204)
    @blp.alt_response(409, "CONFLICT", description="Undoing would reopen a course while "
                                                   "another is open")
    def delete(self, session_id):
        """Undo a logged session; the schedule recomputes from the rest"""
        row, course = session_or_404(session_id)
        sessions.undo_session(db(), course, row, _zone(course))
        db().commit()


@blp.route("/sessions/<int:session_id>/check-in")
class CheckInViews(MethodView):
    @blp.login_required()
    @blp.idempotent_create
    @blp.arguments(CheckInCreateSchema)
    @blp.response(201, CheckInSchema)
    @blp.alt_response(403, "FORBIDDEN", description="Only the patient checks in")
    @blp.alt_response(409, "CONFLICT", description="The session has its check-in")
    def post(self, data, session_id):
        """The follow-up a day after; persisting redness or swelling, or infection signs, flag consult_doctor (20 h - 7 d after the session)"""
        row, course = session_or_404(session_id)
        return sessions.check_in(db(), row, course, current_user(), data)

    @blp.login_required()
    @blp.arguments(CheckInUpdateSchema)
    @blp.response(200, CheckInSchema)
    @blp.alt_response(403, "FORBIDDEN", description="Only the patient checks in")
    @blp.alt_response(409, "CONFLICT", description="The session has no check-in yet")
    def patch(self, data, session_id):
        """Correct the check-in, within 7 days of the session"""
        row, course = session_or_404(session_id)
        entry = sessions.correct_check_in(db(), row, course, current_user(), data)
        db().commit()
        return entry
