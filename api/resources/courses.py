"""Courses: start one (with screening), list them, change status, clear a hold, read the status."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask.views import MethodView
from sqlalchemy import select

from api.access import course_or_404, patient_of, visible_patient
from api.access_log import note_read
from api.auth import current_user
from api.blueprint import Blueprint
from api.database import db
from api.paging import id_page
from domain.roles import PATIENT
from schemas.common import PageArgsSchema
from schemas.courses import (
    ClearanceRequestSchema,
    CourseCreateSchema,
    CoursePageSchema,
    CourseSchema,
    CourseStatusSchema,
    CourseUpdateSchema,
)
from services import courses
from storage.models import Course

blp = Blueprint("courses", __name__, url_prefix="/api/v1",
                description="Microneedling courses: regimen, screening, lifecycle and status.")


@blp.route("/courses")
class CourseViews(MethodView):
    @blp.login_required()
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, CoursePageSchema)
    def get(self, args):
        """Courses of the caller (a clinician: of linked patients), newest first"""
        page = id_page(select(Course).where(visible_patient(Course.patient_id)), Course.id, args)
        for course in page.items:
            note_read(course.patient_id, "course", course.id)
        return page

    @blp.login_required(PATIENT)
    @blp.idempotent_create
    @blp.arguments(CourseCreateSchema)
    @blp.response(201, CourseSchema)
    @blp.alt_response(409, "CONFLICT", description="The patient has a course still open")
    def post(self, data):
        """Start a course; any screening 'yes' puts it on hold"""
        return courses.create_course(db(), current_user(), data)


@blp.route("/courses/<int:course_id>")
class CourseByIdViews(MethodView):
    @blp.login_required()
    @blp.etag
    @blp.response(200, CourseSchema)
    def get(self, course_id):
        """One course"""
        return course_or_404(course_id)

    @blp.login_required()
    @blp.arguments(CourseUpdateSchema)
    @blp.response(200, CourseSchema)
    @blp.alt_response(403, "FORBIDDEN", description="A clinical hold: for linked clinicians")
    @blp.alt_response(409, "CONFLICT")
    def patch(self, data, course_id):
        """Pause, resume, end or cancel a course (illegal transitions: 409); a linked clinician may put it on hold with a note"""
        course = course_or_404(course_id)
        courses.change_status(course, data["status"], current_user(), data.get("note"))
        db().commit()
        return course


@blp.route("/courses/<int:course_id>/clearance")
class ClearanceViews(MethodView):
    @blp.login_required()
    @blp.idempotent_create
    @blp.arguments(ClearanceRequestSchema)
    @blp.response(200, CourseSchema)
    @blp.alt_response(403, "FORBIDDEN")
    @blp.alt_response(409, "CONFLICT", description="The course is not on hold")
    def post(self, data, course_id):
        """Clear an on-hold course (a patient may clear relative reasons only: else 403)"""
        course = course_or_404(course_id)
        courses.clear_hold(course, current_user(), data["note"])
        return course


@blp.route("/courses/<int:course_id>/status")
class CourseStatusViews(MethodView):
    @blp.login_required()
    @blp.etag
    @blp.response(200, CourseStatusSchema)
    def get(self, course_id):
        """The mobile home screen: next session, aftercare, photos due, device, adherence"""
        course = course_or_404(course_id, reading="status")
        return courses.status_of(db(), course, ZoneInfo(patient_of(course).timezone))
