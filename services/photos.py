"""Use cases of progress photos: add one (whole or in chunks), correct, delete, line up, compare.

Routes call these; these call `storage/` for queries and files and leave the
commit to the route or the idempotency layer, except where files must wait
for a commit (deleting) or bytes must be on disk before the offset says so
(a chunk).

Rows and files stay consistent whatever fails: a photo's files are published
(fsynced, renamed, directory fsynced) before its row is flushed, so a
committed row always has its files; a failure before the commit leaves files
no row refers to, which nobody can see and `flask storage check --repair`
removes once they are an hour old (the hour spares uploads still in flight).
Files are removed only after the commit that drops their last row.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from services.courses import CLOCK_SKEW
from domain.errors import Conflict, RuleViolation
from domain.photos import BASELINE, STANDARD_AREAS
from schemas.photos import CLIENT, EXIF, SERVER, WEEK
from services.images import ingest as intake, pipeline as images
from storage import photo_records, records
from storage.blobs import BlobStore, LocalBlobStore
from services.images.pipeline import UnreadableImage, UnsupportedImage
from storage.models import Course, Photo, Upload, User, utcnow

# An EXIF capture time before this comes from a camera whose clock was never set.
EARLIEST_CAPTURE = datetime(2000, 1, 1, tzinfo=timezone.utc)
COMPARE_HEIGHT = 960


def blob_store() -> LocalBlobStore:
    return LocalBlobStore(current_app.config["PHOTO_DIR"])


def add_photo(session: Session, store: BlobStore, patient: User, data: bytes,
              fields: dict) -> tuple[Photo, bool]:
    """The patient's photo of these bytes: a new one (True) or the one uploaded before (False)."""
    sha256 = hashlib.sha256(data).hexdigest()
    existing = photo_records.photo_by_upload(session, patient.id, sha256)
    if existing is not None:
        return existing, False
    course_id, session_id = place(session, patient.id, fields.get("course_id"),
                                  fields.get("session_id"), default_to_open_course=True)
    now = utcnow()
    client_time = fields.get("taken_at")
    if client_time is not None and client_time > now + CLOCK_SKEW:
        raise RuleViolation("A photo cannot be taken in the future.", "taken_at")
    images.set_pixel_limit(current_app.config["MAX_IMAGE_PIXELS"])
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


def capture_time(exif_time: datetime | None, client_time: datetime | None, zone: ZoneInfo,
                 now: datetime) -> tuple[datetime, str]:
    """When the photo was taken, and who says so.

    The camera's EXIF time with its offset; else the app's `taken_at`; else an
    EXIF time without offset, read in the patient's zone; else the upload time.
    An EXIF time before 2000 or in the future is a clock never set: ignored.
    """
    def plausible(moment: datetime) -> bool:
        return EARLIEST_CAPTURE <= moment <= now + CLOCK_SKEW

    if exif_time is not None and exif_time.tzinfo is not None and plausible(exif_time):
        return exif_time, EXIF
    if client_time is not None:
        return client_time, CLIENT
    if exif_time is not None and exif_time.tzinfo is None:
        local = exif_time.replace(tzinfo=zone)
        if plausible(local):
            return local, EXIF
    return now.astimezone(zone), SERVER


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
    keys = {photo.original_key, photo.preview_key, photo.thumbnail_key}
    session.delete(photo)
    session.commit()
    for key in keys - photo_records.keys_in_use(session, keys):
        store.delete(key)


def timeline(rows: list[tuple[datetime, int, str]], bucket: str) -> list[dict]:
    """Photos counted per week (from Monday) or month and area, newest period first.

    A photo falls on the day it was taken where it was taken (its own offset).
    """
    counts: Counter = Counter()
    for taken_at, offset_minutes, area in rows:
        day = taken_at.astimezone(timezone(timedelta(minutes=offset_minutes))).date()
        start = day - timedelta(days=day.weekday()) if bucket == WEEK else day.replace(day=1)
        counts[start, area] += 1
    order = {area: index for index, area in enumerate(STANDARD_AREAS)}
    return [{"period": period, "area": area, "count": count}
            for (period, area), count in sorted(
                counts.items(), key=lambda item: (-item[0][0].toordinal(), order[item[0][1]]))]


@dataclass(frozen=True)
class Comparison:
    """Two photos of an area to show side by side, their captions, and an ETag for the picture."""

    before: Photo
    after: Photo
    captions: tuple[str, str]
    tag: str


def comparison(session: Session, course: Course, area: str, before_id: int | None,
               after_id: int | None) -> Comparison:
    """By default the area's first photo in the course (the baseline) and its latest."""
    photos = photo_records.course_area_photos(session, course.id, area)
    by_id = {photo.id: photo for photo in photos}
    for name, photo_id in (("before", before_id), ("after", after_id)):
        if photo_id is not None and photo_id not in by_id:
            raise RuleViolation(f"No photo {photo_id} of this area in this course.", name)
    before = by_id[before_id] if before_id is not None else photos[0] if photos else None
    after = by_id[after_id] if after_id is not None else photos[-1] if photos else None
    if before is None or after is None or before.id == after.id:
        raise RuleViolation("Comparing needs two photos of this area in the course.", "area")
    done = records.course_sessions(session, course.id)
    performed = [row.performed_at for row in done]
    numbers = {row.id: number for number, row in enumerate(done, start=1)}
    captions = (_caption(before, performed, numbers), _caption(after, performed, numbers))
    tag = hashlib.sha256(repr((before.preview_key, after.preview_key, captions)).encode())
    return Comparison(before, after, captions, tag.hexdigest())


def render(store: BlobStore, shown: Comparison) -> bytes:
    """The comparison as one JPEG, made from the two previews."""
    with store.open(shown.before.preview_key) as left, store.open(shown.after.preview_key) as right:
        return images.side_by_side(left.read(), right.read(), shown.captions, COMPARE_HEIGHT)


def _caption(photo: Photo, performed: list[datetime], numbers: dict[int, int]) -> str:
    """"2026-11-02, baseline", "2026-12-20, session 5" or "2027-01-03, after session 6"."""
    day = photo.taken_at.astimezone(timezone(timedelta(minutes=photo.taken_at_offset_minutes)))
    if photo.session_id in numbers:
        return f"{day.date().isoformat()}, session {numbers[photo.session_id]}"
    done = sum(1 for moment in performed if moment <= photo.taken_at)
    return f"{day.date().isoformat()}, {BASELINE if done == 0 else f'after session {done}'}"


# -- resumable uploads (tus 1.0 core) -----------------------------------------------------------

def start_upload(session: Session, store: BlobStore, patient: User, data: dict) -> Upload:
    """A new resumable upload of `data["length"]` bytes, its photo fields checked up front."""
    purge_expired_uploads(session, store)
    place(session, patient.id, data.get("course_id"), data.get("session_id"),
          default_to_open_course=True)
    now = utcnow()
    if data.get("taken_at") is not None and data["taken_at"] > now + CLOCK_SKEW:
        raise RuleViolation("A photo cannot be taken in the future.", "taken_at")
    fields = {name: data[name] for name in ("area", "course_id", "session_id", "note")
              if data.get(name) is not None}
    if data.get("taken_at") is not None:
        fields["taken_at"] = data["taken_at"].isoformat()
    upload = Upload(patient_id=patient.id, length=data["length"], received=0,
                    part_name=secrets.token_hex(16),
                    photo_fields=fields, created_at=now,
                    expires_at=now + timedelta(hours=current_app.config["UPLOAD_TTL_HOURS"]))
    store.create_part(upload.part_name)
    session.add(upload)
    session.flush()
    return upload


def receive_chunk(session: Session, store: BlobStore, patient: User, upload: Upload, offset: int,
                  chunk: bytes) -> Photo | None:
    """Write a chunk at `offset`; once every byte is in, make the photo and return it."""
    if upload.photo_id is not None or offset != upload.received:
        raise Conflict(f"The upload is at offset {upload.received}, not {offset}.")
    if offset + len(chunk) > upload.length:
        raise RequestEntityTooLarge(
            f"The upload is {upload.length} bytes long; this chunk goes past its end.")
    # Claim the range first: of two chunks sent at one offset, only one moves it.
    moved = session.execute(
        update(Upload).where(Upload.id == upload.id, Upload.received == offset)
        .values(received=offset + len(chunk))
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        session.rollback()
        raise Conflict("Another chunk was written at this offset meanwhile.")
    store.write_part(upload.part_name, offset, chunk)
    session.commit()
    session.refresh(upload)
    if upload.received < upload.length:
        return None
    return _finish(session, store, patient, upload)


def _finish(session: Session, store: BlobStore, patient: User, upload: Upload) -> Photo:
    """Every byte is in: the photo, through the same pipeline as a direct upload."""
    fields = dict(upload.photo_fields)
    if "taken_at" in fields:
        fields["taken_at"] = datetime.fromisoformat(fields["taken_at"])
    try:
        photo, _ = add_photo(session, store, patient, store.read_part(upload.part_name), fields)
    except (UnsupportedImage, UnreadableImage, RuleViolation):
        # These bytes will never make a photo: the upload is over.
        session.rollback()
        session.execute(delete(Upload).where(Upload.id == upload.id))
        session.commit()
        store.delete_part(upload.part_name)
        raise
    upload.photo_id = photo.id
    session.commit()
    store.delete_part(upload.part_name)
    return photo


def purge_expired_uploads(session: Session, store: BlobStore) -> int:
    """Drop uploads past their 24 h with their bytes; returns how many."""
    expired = photo_records.expired_uploads(session, utcnow())
    for upload in expired:
        session.delete(upload)
    session.commit()
    for upload in expired:
        store.delete_part(upload.part_name)
    return len(expired)

