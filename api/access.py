"""Who may see what: the one place that turns an id into a row the caller may see.

A patient sees their own records. Clinicians see the patients linked to them
(the clinicians issue adds the links; until then, nothing). Anything else is
a 404, exactly as if the id did not exist.
"""

from __future__ import annotations

from flask_smorest import abort
from sqlalchemy import ColumnElement, false, select

from api.auth import PATIENT, current_user
from api.database import db
from storage.models import Course, Device, TreatmentSession, User


def visible_patient(patient_id_column) -> ColumnElement[bool]:
    """A filter: the row belongs to a patient the caller may see."""
    user = current_user()
    if user.role == PATIENT:
        return patient_id_column == user.id
    return false()


def course_or_404(course_id: int) -> Course:
    course = db().scalar(select(Course).where(Course.id == course_id,
                                              visible_patient(Course.patient_id)))
    if course is None:
        abort(404, message="No such course.")
    return course


def session_or_404(session_id: int) -> tuple[TreatmentSession, Course]:
    row = db().execute(
        select(TreatmentSession, Course)
        .join(Course, Course.id == TreatmentSession.course_id)
        .where(TreatmentSession.id == session_id, visible_patient(Course.patient_id))
    ).first()
    if row is None:
        abort(404, message="No such session.")
    return row.TreatmentSession, row.Course


def device_or_404(device_id: int) -> Device:
    device = db().scalar(select(Device).where(Device.id == device_id,
                                              Device.patient_id == current_user().id))
    if device is None:
        abort(404, message="No such device.")
    return device


def patient_of(course: Course) -> User:
    """The course's patient (the caller, unless a clinician is looking)."""
    user = current_user()
    if course.patient_id == user.id:
        return user
    return db().get(User, course.patient_id)
