"""Use cases of measurements (hair count, thickness, shedding, stages, global assessment)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from domain.outcomes import measurement, validate_observed_at
from domain.roles import CLINICIAN
from storage.models import Course, Observation, User, utcnow


def record_observation(session: Session, course: Course, by: User, data: dict) -> Observation:
    """Record a measurement of the course (a patient: shedding counts only)."""
    measured = measurement(data["kind"], data["value"], data.get("area"),
                           by_clinician=by.role == CLINICIAN)
    now = utcnow()
    observed_at = data.get("observed_at") or now
    validate_observed_at(observed_at, now, course.start_date)
    observation = Observation(
        course_id=course.id, patient_id=course.patient_id, kind=measured.kind,
        number=measured.number, stage=measured.stage, area=measured.area,
        observed_at=observed_at, recorded_by=by)
    session.add(observation)
    session.flush()
    return observation
