"""Use cases of the clinician's side: a linked patient with their courses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Course, Share, User


@dataclass(frozen=True)
class LinkedPatient:
    """A patient as a linked clinician sees them: since when, and their courses, newest first."""

    patient: User
    linked_at: datetime | None
    courses: list[Course]


def linked_patient(session: Session, clinician: User, patient: User) -> LinkedPatient:
    linked_at = session.scalar(select(Share.linked_at).where(
        Share.patient_id == patient.id, Share.clinician_id == clinician.id,
        Share.revoked_at.is_(None)))
    courses = session.scalars(select(Course).where(Course.patient_id == patient.id)
                              .order_by(Course.id.desc())).all()
    return LinkedPatient(patient, linked_at, list(courses))
