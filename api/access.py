"""Who may see what: the one place that turns an id into a row the caller may see.

A patient sees their own records. A clinician sees the patients linked to
them through a share that has not been revoked, checked on every request
(nothing is cached, so a revocation holds from the very next request).
Anything else is a 404, exactly as if the id did not exist.

Every lookup here made for a GET by a clinician is also noted for the
patient's access log (`api.access_log`). A lookup made for a write locks the
rows it returns until the commit (PostgreSQL; SQLite has one writer at a
time anyway), so two requests changing the same course take turns instead of
one of them writing over what it never saw.
"""

from __future__ import annotations

from flask import g, request
from flask_smorest import abort
from sqlalchemy import ColumnElement, Select, bindparam, select

from api.access_log import note_read
from api.auth import current_user
from api.database import db
from domain.roles import PATIENT
from storage.models import (
    Course,
    Device,
    Flag,
    Observation,
    Photo,
    Share,
    TreatmentSession,
    Upload,
    User,
    utcnow,
)


def _found(patient_id: int, object_type: str, object_id: int | None) -> None:
    """Every lookup ends here: this request acts on (and a clinician's GET reads) the
    records of `patient_id`. The idempotency layer files a stored response under it."""
    g.patient_id = patient_id
    note_read(patient_id, object_type, object_id)


def acted_on_patient() -> int | None:
    """The patient whose records this request looked up, if any."""
    return g.get("patient_id")


def for_request(statement: Select) -> Select:
    """The lookup as this request needs it: locked unless it only reads.

    `FOR NO KEY UPDATE`, the lock an UPDATE takes itself: writers of a row take turns,
    while inserts that merely refer to it (a photo's course) never wait on it.
    """
    if request.method in ("GET", "HEAD"):
        return statement
    return statement.with_for_update(key_share=True)


def linked_patient_ids(clinician_id: int) -> Select:
    """The patients who share their records with this clinician right now."""
    return select(Share.patient_id).where(
        Share.clinician_id == clinician_id, Share.revoked_at.is_(None)
    )


def visible_patient(patient_id_column) -> ColumnElement[bool]:
    """A filter: the row belongs to a patient the caller may see."""
    user = current_user()
    if user.role == PATIENT:
        return patient_id_column == user.id
    return patient_id_column.in_(linked_patient_ids(user.id))


def patient_or_404(patient_id: int) -> User:
    """A linked patient, for a clinician."""
    patient = db().scalar(select(User).where(User.id == patient_id, User.role == PATIENT,
                                             visible_patient(User.id)))
    if patient is None:
        abort(404, message="No such patient.")
    _found(patient.id, "patient", patient.id)
    return patient


# The most frequent lookup (every course route, the status above all): built once.
_OWN_COURSE = select(Course).where(Course.id == bindparam("course_id"),
                                   Course.patient_id == bindparam("user_id"))
_LINKED_COURSE = select(Course).where(
    Course.id == bindparam("course_id"),
    Course.patient_id.in_(select(Share.patient_id).where(
        Share.clinician_id == bindparam("user_id"), Share.revoked_at.is_(None))))


def course_or_404(course_id: int, reading: str = "course") -> Course:
    user = current_user()
    query = _OWN_COURSE if user.role == PATIENT else _LINKED_COURSE
    course = db().scalar(for_request(query), {"course_id": course_id, "user_id": user.id})
    if course is None:
        abort(404, message="No such course.")
    _found(course.patient_id, reading, course.id)
    return course


def session_or_404(session_id: int) -> tuple[TreatmentSession, Course]:
    row = db().execute(for_request(
        select(TreatmentSession, Course)
        .join(Course, Course.id == TreatmentSession.course_id)
        .where(TreatmentSession.id == session_id, visible_patient(Course.patient_id))
    )).first()
    if row is None:
        abort(404, message="No such session.")
    _found(row.Course.patient_id, "session", row.TreatmentSession.id)
    return row.TreatmentSession, row.Course


def _visible_or_404(model, row_id: int, name: str, object_type: str):
    """A row of `model` (with a `patient_id`) that the caller may see, else a 404."""
    row = db().scalar(for_request(select(model).where(
        model.id == row_id, visible_patient(model.patient_id))))
    if row is None:
        abort(404, message=f"No such {name}.")
    _found(row.patient_id, object_type, row.id)
    return row


def flag_or_404(flag_id: int) -> Flag:
    return _visible_or_404(Flag, flag_id, "flag", "flag")


def observation_or_404(observation_id: int) -> Observation:
    return _visible_or_404(Observation, observation_id, "measurement", "observation")


def device_or_404(device_id: int) -> Device:
    device = db().scalar(for_request(select(Device).where(
        Device.id == device_id, Device.patient_id == current_user().id)))
    if device is None:
        abort(404, message="No such device.")
    return device


def photo_or_404(photo_id: int) -> Photo:
    return _visible_or_404(Photo, photo_id, "photo", "photo")


def upload_or_404(upload_id: int) -> Upload:
    """The caller's own upload, while it has not expired."""
    upload = db().scalar(select(Upload).where(Upload.id == upload_id,
                                              Upload.patient_id == current_user().id,
                                              Upload.expires_at > utcnow()))
    if upload is None:
        abort(404, message="No such upload (or it expired).")
    return upload


def patient_of(course: Course) -> User:
    """The course's patient (the caller, unless a clinician is looking)."""
    user = current_user()
    if course.patient_id == user.id:
        return user
    return db().get(User, course.patient_id)
