"""Use cases of measurements (hair count, thickness, shedding, stages, global assessment):
record one, correct it, withdraw it.

Only whoever recorded a measurement corrects or withdraws it (a clinician their
measurements, a patient their shedding counts). A withdrawn measurement stays in
the record and the exports, marked, and leaves the progress and the triage list.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from domain.errors import Conflict, NotAllowed, NotFound
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


def _check_recorder(observation: Observation, by: User) -> None:
    """The patient sees every measurement of theirs but changes only their own (403); another
    clinician's measurement is none of a clinician's business (404, as if it did not exist)."""
    if observation.recorded_by_id == by.id:
        return
    if observation.patient_id == by.id:
        raise NotAllowed("Only whoever recorded a measurement corrects or withdraws it.")
    raise NotFound("No such measurement.")


def correct_observation(session: Session, course: Course, observation: Observation, by: User,
                        data: dict) -> Observation:
    """Change the value, area or date of a measurement; the kind stays (record a new one)."""
    _check_recorder(observation, by)
    if observation.withdrawn_at is not None:
        raise Conflict("This measurement was withdrawn; record a new one.")
    measured = measurement(observation.kind, data.get("value", observation.value),
                           data.get("area", observation.area), by_clinician=by.role == CLINICIAN)
    observed_at = data.get("observed_at", observation.observed_at)
    validate_observed_at(observed_at, utcnow(), course.start_date)
    observation.number, observation.stage, observation.area = (
        measured.number, measured.stage, measured.area)
    observation.observed_at = observed_at
    session.flush()
    return observation


def withdraw_observation(session: Session, observation: Observation, by: User,
                         reason: str) -> Observation:
    """Mark a measurement withdrawn, with why; withdrawing it again changes nothing (a retry)."""
    _check_recorder(observation, by)
    if observation.withdrawn_at is None:
        observation.withdrawn_at = utcnow()
        observation.withdrawn_by_id = by.id
        observation.withdrawal_reason = reason
        session.flush()
    return observation
