"""Measurements of a course: clinicians record them, patients their shedding."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from api.access import course_or_404
from api.auth import current_user
from api.blueprint import Blueprint
from api.database import db
from api.paging import id_page
from schemas.common import PageArgsSchema
from schemas.observations import (
    ObservationCreateSchema,
    ObservationPageSchema,
    ObservationSchema,
)
from services.observations import record_observation
from storage.models import Observation

blp = Blueprint("observations", __name__, url_prefix="/api/v1",
                description="Measurements: hair count, thickness, shedding, stages, global assessment.")


@blp.route("/courses/<int:course_id>/observations")
class ObservationViews(MethodView):
    @blp.login_required()
    @blp.idempotent_create
    @blp.arguments(ObservationCreateSchema)
    @blp.response(201, ObservationSchema)
    @blp.alt_response(403, "FORBIDDEN", description="A patient records shedding counts only")
    def post(self, data, course_id):
        """Record a measurement (a patient: shedding_count only, else 403)"""
        return record_observation(db(), course_or_404(course_id), current_user(), data)

    @blp.login_required()
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, ObservationPageSchema)
    def get(self, args, course_id):
        """The course's measurements, newest first"""
        course = course_or_404(course_id, reading="observations")
        return id_page(select(Observation).options(joinedload(Observation.recorded_by))
                       .where(Observation.course_id == course.id), Observation.id, args)
