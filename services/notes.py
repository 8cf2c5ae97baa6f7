"""Use cases of clinical notes: a linked clinician writes on a course, only the author changes one."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.models import Course, Note, User


def write_note(session: Session, course: Course, author: User, text: str) -> Note:
    note = Note(course_id=course.id, patient_id=course.patient_id, author=author, text=text)
    session.add(note)
    session.flush()
    return note
