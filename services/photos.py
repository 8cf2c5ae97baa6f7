"""Use cases of progress photos: add one, correct, delete, line them up over time.

Routes call these; these call `storage/` for queries and files and leave the
commit to the route or the idempotency layer, except where files must wait
for a commit (deleting).

Rows and files stay consistent whatever fails: a photo's files are published
(fsynced, renamed, directory fsynced) before its row is flushed, so a
committed row always has its files; a failure before the commit leaves files
no row refers to, which nobody can see and `flask storage check --repair`
removes once they are an hour old (the hour spares uploads still in flight).
Files are removed only after the commit that drops their last row.

An upload is answered once its original is stored and its quality hints are
known; the preview and thumbnail are made by a job sent when the upload
commits (`services.derivatives`).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.clock import in_the_future
from domain.errors import RuleViolation
from domain.photos import capture_time, photo_timeline
from services import derivatives
from services.images import ingest as intake
from services.images import pipeline as images
from storage import photo_records, records
from storage.blobs import BlobStore
from storage.models import Photo, User, utcnow
from storage.photo_records import PhotoFilter


def add_photo(session: Session, store: BlobStore, patient: User, data: bytes, fields: dict,
              max_pixels: int) -> tuple[Photo, bool]:
    """The patient's photo of these bytes: a new one (True) or the one uploaded before (False)."""
    sha256 = hashlib.sha256(data).hexdigest()
    existing = photo_records.photo_by_upload(session, patient.id, sha256)
    if existing is not None:
        return existing, False
    course_id, session_id = place(session, patient.id, fields.get("course_id"),
                                  fields.get("session_id"), default_to_open_course=True)
    now = utcnow()
    client_time = fields.get("taken_at")
    if client_time is not None and in_the_future(client_time, now):
        raise RuleViolation("A photo cannot be taken in the future.", "taken_at")
    images.set_pixel_limit(max_pixels)
    ingested = intake.ingest(store, data)
    taken_at, source = capture_time(ingested.captured_at, client_time,
                                    ZoneInfo(patient.timezone), now)
    photo = Photo(
        patient_id=patient.id, course_id=course_id, session_id=session_id, area=fields["area"],
        taken_at=taken_at, taken_at_offset_minutes=int(taken_at.utcoffset() // timedelta(minutes=1)),
        taken_at_source=source, upload_sha256=sha256, original_key=ingested.original_key,
        preview_key=ingested.preview_key, thumbnail_key=ingested.thumbnail_key,
        media_type=ingested.media_type, width=ingested.width, height=ingested.height,
        byte_size=ingested.byte_size, note=fields.get("note"),
        quality_warnings=list(ingested.quality_warnings),
    )
    session.add(photo)
    try:
        session.flush()
    except IntegrityError:
        # A retry of the same upload, running alongside, committed it first.
        session.rollback()
        existing = photo_records.photo_by_upload(session, patient.id, sha256)
        if existing is None:
            raise
        return existing, False
    derivatives.request(session, photo)
    return photo, True


def place(session: Session, patient_id: int, course_id: int | None, session_id: int | None,
          default_to_open_course: bool) -> tuple[int | None, int | None]:
    """The course and session a photo goes with: the patient's own, the session in that course."""
    if course_id is not None:
        if photo_records.own_course(session, patient_id, course_id) is None:
            raise RuleViolation("No such course.", "course_id")
    elif default_to_open_course:
        course = records.open_course(session, patient_id)
        course_id = course.id if course is not None else None
    if session_id is not None and (
            course_id is None or not photo_records.session_in_course(session, course_id, session_id)):
        raise RuleViolation("No such session in the photo's course.", "session_id")
    return course_id, session_id


def correct_photo(session: Session, photo: Photo, data: dict) -> None:
    """Change the area, the note, or what course and session the photo goes with."""
    if "area" in data:
        photo.area = data["area"]
    if "note" in data:
        photo.note = data["note"]
    if "course_id" in data or "session_id" in data:
        course_id = data.get("course_id", photo.course_id)
        kept_session = photo.session_id if course_id == photo.course_id else None
        photo.course_id, photo.session_id = place(
            session, photo.patient_id, course_id, data.get("session_id", kept_session),
            default_to_open_course=False)
    session.flush()


def delete_photo(session: Session, store: BlobStore, photo: Photo) -> None:
    """Drop the row, commit, then remove every file no other photo still uses."""
    keys = {photo.original_key, photo.preview_key, photo.thumbnail_key} - {None}
    session.delete(photo)
    session.commit()
    for key in keys - photo_records.keys_in_use(session, keys):
        store.delete(key)


def timeline(session: Session, visible: ColumnElement[bool], narrowed: PhotoFilter,
             bucket: str) -> list[dict]:
    """How many photos per week or month and area, newest period first."""
    return photo_timeline(photo_records.capture_times(session, visible, narrowed), bucket)


def check_uploads(session: Session, patient: User, hashes: list[str]) -> dict:
    """Which of these SHA-256 hashes of files the patient has uploaded already, and which not."""
    hashes = list(dict.fromkeys(value.lower() for value in hashes))
    known = photo_records.photo_ids_by_upload(session, patient.id, hashes)
    return {"known": [{"sha256": value, "photo_id": known[value]}
                      for value in hashes if value in known],
            "missing": [value for value in hashes if value not in known]}
