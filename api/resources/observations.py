"""Measurements of a course (DOMAIN.md section 6): clinicians record them, patients their shedding."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from api.access import course_or_404
from api.auth import CLINICIAN, current_user, login_required
from api.blueprint import Blueprint
from api.database import db
from api.idempotency import idempotent_create
from api.paging import id_page
from domain.outcomes import measurement
from schemas.common import PageArgsSchema
from schemas.observations import ObservationCreateSchema, ObservationPageSchema, ObservationSchema
from storage.models import Observation, User, utcnow

blp = Blueprint("observations", __name__, url_prefix="/api/v1",
                description="Measurements: hair count, thickness, shedding, stages, global assessment.")


def observation_body(observation: Observation, recorder: User | None) -> dict:
    return {
        "id": observation.id, "course_id": observation.course_id, "kind": observation.kind,
        "value": observation.stage if observation.stage is not None else observation.number,
        "area": observation.area, "observed_at": observation.observed_at,
        "recorded_by": {"id": recorder.id, "display_name": recorder.display_name}
        if recorder else None,
    }


@blp.route("/courses/<int:course_id>/observations")
class ObservationViews(MethodView):
    @login_required()
    @idempotent_create
    @blp.arguments(ObservationCreateSchema)
    @blp.response(201, ObservationSchema)
    def post(self, data, course_id):
        """Record a measurement (a patient: shedding_count only, else 403)"""
        course = course_or_404(course_id)
        user = current_user()
        measured = measurement(data["kind"], data["value"], data.get("area"),
                               by_clinician=user.role == CLINICIAN)
        observation = Observation(
            course_id=course.id, patient_id=course.patient_id, kind=measured.kind,
            number=measured.number, stage=measured.stage, area=measured.area,
            observed_at=data.get("observed_at") or utcnow(), recorded_by_id=user.id)
        db().add(observation)
        db().flush()
        return observation_body(observation, user)

    @login_required()
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, ObservationPageSchema)
    def get(self, args, course_id):
        """The course's measurements, newest first"""
        course = course_or_404(course_id, reading="observations")
        rows, next_cursor = id_page(
            select(Observation, User).outerjoin(User, User.id == Observation.recorded_by_id)
            .where(Observation.course_id == course.id), Observation.id, args)
        return {"items": [observation_body(row, user) for row, user in rows],
                "next_cursor": next_cursor}
