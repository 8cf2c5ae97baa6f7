"""Measurements of a course: clinicians record them, patients their shedding."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from api.access import course_or_404, observation_or_404
from api.auth import current_user
from api.blueprint import Blueprint
from api.database import db
from api.paging import id_page
from schemas.common import PageArgsSchema
from schemas.observations import (
    ObservationCreateSchema,
    ObservationPageSchema,
    ObservationSchema,
    ObservationUpdateSchema,
    ObservationWithdrawalSchema,
)
from services.observations import (
    correct_observation,
    record_observation,
    withdraw_observation,
)
from storage.models import Course, Observation

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
        """The course's measurements, newest first (withdrawn ones too, marked)"""
        course = course_or_404(course_id, reading="observations")
        return id_page(select(Observation).options(joinedload(Observation.recorded_by))
                       .where(Observation.course_id == course.id), Observation.id, args)


@blp.route("/observations/<int:observation_id>")
class ObservationByIdViews(MethodView):
    @blp.login_required()
    @blp.arguments(ObservationUpdateSchema)
    @blp.response(200, ObservationSchema)
    @blp.alt_response(403, "FORBIDDEN", description="A patient changes their own shedding "
                                                    "counts only")
    @blp.alt_response(409, "CONFLICT", description="The measurement was withdrawn")
    def patch(self, data, observation_id):
        """Correct a measurement I recorded (value, area or date)"""
        observation = observation_or_404(observation_id)
        course = db().get(Course, observation.course_id)
        correct_observation(db(), course, observation, current_user(), data)
        db().commit()
        return _with_recorder(observation)

    @blp.login_required()
    @blp.arguments(ObservationWithdrawalSchema)
    @blp.response(200, ObservationSchema)
    @blp.alt_response(403, "FORBIDDEN", description="A patient withdraws their own shedding "
                                                    "counts only")
    def delete(self, data, observation_id):
        """Withdraw a measurement I recorded, saying why: it stays in the record, marked, and leaves progress and triage"""
        observation = withdraw_observation(db(), observation_or_404(observation_id),
                                           current_user(), data["reason"])
        db().commit()
        return _with_recorder(observation)


def _with_recorder(observation: Observation) -> Observation:
    """The row again with its recorder, as the list shows it."""
    return db().scalar(select(Observation).options(joinedload(Observation.recorded_by))
                       .where(Observation.id == observation.id)
                       .execution_options(populate_existing=True))
