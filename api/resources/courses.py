"""Courses: start one (with screening), list them, change status, clear a hold, read the status."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask.views import MethodView
from api.blueprint import Blueprint
from sqlalchemy import select

from services import courses as tracking
from api.access import course_or_404, patient_of, visible_patient
from api.access_log import note_read
from api.auth import PATIENT, current_user, login_required
from api.database import db
from api.idempotency import idempotent_create
from api.paging import id_page
from schemas.common import PageArgsSchema
from schemas.courses import (
    ClearanceRequestSchema,
    CourseCreateSchema,
    CoursePageSchema,
    CourseSchema,
    CourseStatusSchema,
    CourseUpdateSchema,
)
from storage.models import Course

blp = Blueprint("courses", __name__, url_prefix="/api/v1",
                description="Microneedling courses: regimen, screening, lifecycle and status.")


@blp.route("/courses")
class CourseViews(MethodView):
    @login_required()
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, CoursePageSchema)
    def get(self, args):
        """Courses of the caller (a clinician: of linked patients), newest first"""
        rows, next_cursor = id_page(
            select(Course).where(visible_patient(Course.patient_id)), Course.id, args)
        courses = [course for course, in rows]
        for course in courses:
            note_read(course.patient_id, "course", course.id)
        return {"items": courses, "next_cursor": next_cursor}

    @login_required(PATIENT)
    @idempotent_create
    @blp.arguments(CourseCreateSchema)
    @blp.response(201, CourseSchema)
    def post(self, data):
        """Start a course; any screening 'yes' puts it on hold"""
        return tracking.create_course(db(), current_user(), data)


@blp.route("/courses/<int:course_id>")
class CourseByIdViews(MethodView):
    @login_required()
    @blp.etag
    @blp.response(200, CourseSchema)
    def get(self, course_id):
        """One course"""
        return course_or_404(course_id)

    @login_required()
    @blp.arguments(CourseUpdateSchema)
    @blp.response(200, CourseSchema)
    def patch(self, data, course_id):
        """Pause, resume, end or cancel a course (illegal transitions: 409)"""
        course = course_or_404(course_id)
        tracking.change_status(course, data["status"])
        db().commit()
        return course


@blp.route("/courses/<int:course_id>/clearance")
class ClearanceViews(MethodView):
    @login_required()
    @idempotent_create
    @blp.arguments(ClearanceRequestSchema)
    @blp.response(200, CourseSchema)
    def post(self, data, course_id):
        """Clear an on-hold course (a patient may clear relative reasons only: else 403)"""
        course = course_or_404(course_id)
        tracking.clear_hold(course, current_user(), data["note"])
        return course


@blp.route("/courses/<int:course_id>/status")
class CourseStatusViews(MethodView):
    @login_required()
    @blp.etag
    @blp.response(200, CourseStatusSchema)
    def get(self, course_id):
        """The mobile home screen: next session, aftercare, photos due, device, adherence"""
        course = course_or_404(course_id, reading="status")
        zone = ZoneInfo(patient_of(course).timezone)
        return status_body(tracking.status_of(db(), course, zone))


def status_body(status) -> dict:
    device = None
    if status.device is not None:
        device_id, wear = status.device
        device = {"id": device_id, "uses": wear.uses, "max_uses": wear.max_uses,
                  "expires_on": wear.expires_on, "warnings": list(wear.warnings)}
    photos_due = None
    if status.photos_due is not None:
        milestone, areas = status.photos_due
        photos_due = {"milestone": milestone, "areas": areas}
    return {
        "course_id": status.course_id,
        "regimen": status.regimen,
        "status": status.status,
        "phase": status.phase,
        "sessions_done": status.sessions_done,
        "sessions_planned": status.sessions_planned,
        "next_session": status.next_session,
        "aftercare": status.aftercare,
        "results_expected": status.results_expected,
        "photos_due": photos_due,
        "device": device,
        "adherence": status.adherence,
        "hold_reasons": status.hold_reasons,
        "flags": status.flags,
        "check_in_due": status.check_in_due,
        "progress": status.progress,
    }
