"""Use cases of resumable uploads: one photo sent in chunks (tus 1.0 core semantics).

A chunk's bytes are on disk before the offset that counts them is committed,
so a client resuming from the offset the server gives never skips a byte. The
chunk that completes the file makes the photo through the same pipeline as a
direct upload (`services.photos.add_photo`). An upload not finished in time
is dropped with its bytes by the retention purge (`services.retention`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from domain.clock import in_the_future
from domain.errors import Conflict, RuleViolation, TooLarge
from services.images.pipeline import UnreadableImage, UnsupportedImage
from services.photos import add_photo, place
from storage.blobs import BlobStore
from storage.models import Photo, Upload, User, utcnow


@dataclass(frozen=True)
class UploadLimits:
    """The operator's limits on uploads (from the configuration)."""

    max_length: int
    max_pixels: int
    ttl: timedelta


def start_upload(session: Session, store: BlobStore, patient: User, data: dict,
                 limits: UploadLimits) -> Upload:
    """A new resumable upload of `data["length"]` bytes, its photo fields checked up front."""
    if data["length"] > limits.max_length:
        raise TooLarge(f"A photo may be at most {limits.max_length} bytes long.")
    place(session, patient.id, data.get("course_id"), data.get("session_id"),
          default_to_open_course=True)
    now = utcnow()
    if data.get("taken_at") is not None and in_the_future(data["taken_at"], now):
        raise RuleViolation("A photo cannot be taken in the future.", "taken_at")
    fields = {name: data[name] for name in ("area", "course_id", "session_id", "note")
              if data.get(name) is not None}
    if data.get("taken_at") is not None:
        fields["taken_at"] = data["taken_at"].isoformat()
    upload = Upload(patient_id=patient.id, length=data["length"], received=0,
                    part_name=secrets.token_hex(16),
                    photo_fields=fields, created_at=now,
                    expires_at=now + limits.ttl)
    store.create_part(upload.part_name)
    session.add(upload)
    session.flush()
    return upload


def receive_chunk(session: Session, store: BlobStore, patient: User, upload: Upload, offset: int,
                  chunk: bytes, limits: UploadLimits) -> Photo | None:
    """Write a chunk at `offset`; once every byte is in, make the photo and return it."""
    if upload.photo_id is not None or offset != upload.received:
        raise Conflict(f"The upload is at offset {upload.received}, not {offset}.")
    if offset + len(chunk) > upload.length:
        raise TooLarge(f"The upload is {upload.length} bytes long; this chunk goes past its end.")
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
    return _finish(session, store, patient, upload, limits)


def _finish(session: Session, store: BlobStore, patient: User, upload: Upload,
            limits: UploadLimits) -> Photo:
    """Every byte is in: the photo, through the same pipeline as a direct upload."""
    fields = dict(upload.photo_fields)
    if "taken_at" in fields:
        fields["taken_at"] = datetime.fromisoformat(fields["taken_at"])
    try:
        photo, _ = add_photo(session, store, patient, store.read_part(upload.part_name), fields,
                             limits.max_pixels)
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
