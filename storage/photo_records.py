"""Queries over photos and resumable uploads.

Each function takes the session and returns rows; none commits. Who may see
what is the caller's filter (`visible`), applied to every read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, select, tuple_
from sqlalchemy.orm import Session

from storage.models import Course, Job, Photo, TreatmentSession, Upload


@dataclass(frozen=True)
class PhotoFilter:
    """What a list of photos is narrowed to; None means any."""

    patient_id: int | None = None
    course_id: int | None = None
    session_id: int | None = None
    area: str | None = None
    taken_from: datetime | None = None
    taken_before: datetime | None = None


def photo_by_upload(session: Session, patient_id: int, sha256: str) -> Photo | None:
    """The patient's photo made from exactly these uploaded bytes, if any."""
    return session.scalars(
        select(Photo).where(Photo.patient_id == patient_id, Photo.upload_sha256 == sha256)
    ).first()


def photo_ids_by_upload(session: Session, patient_id: int, hashes: Iterable[str]) -> dict[str, int]:
    hashes = set(hashes)
    if not hashes:
        return {}
    rows = session.execute(
        select(Photo.upload_sha256, Photo.id)
        .where(Photo.patient_id == patient_id, Photo.upload_sha256.in_(hashes))
    )
    return {sha256: photo_id for sha256, photo_id in rows}


def own_course(session: Session, patient_id: int, course_id: int) -> Course | None:
    return session.scalars(
        select(Course).where(Course.id == course_id, Course.patient_id == patient_id)
    ).first()


def session_in_course(session: Session, course_id: int, session_id: int) -> bool:
    return session.scalar(
        select(TreatmentSession.id)
        .where(TreatmentSession.id == session_id, TreatmentSession.course_id == course_id)
    ) is not None


def areas_photographed(session: Session, course_id: int, since: datetime | None,
                       before: datetime | None) -> set[str]:
    """The areas with a photo of the course taken in [since, before)."""
    query = select(Photo.area).where(Photo.course_id == course_id).distinct()
    if since is not None:
        query = query.where(Photo.taken_at >= since)
    if before is not None:
        query = query.where(Photo.taken_at < before)
    return set(session.scalars(query))


def _filtered(query, visible: ColumnElement[bool], narrowed: PhotoFilter):
    query = query.where(visible)
    for column, value in ((Photo.patient_id, narrowed.patient_id),
                          (Photo.course_id, narrowed.course_id),
                          (Photo.session_id, narrowed.session_id),
                          (Photo.area, narrowed.area)):
        if value is not None:
            query = query.where(column == value)
    if narrowed.taken_from is not None:
        query = query.where(Photo.taken_at >= narrowed.taken_from)
    if narrowed.taken_before is not None:
        query = query.where(Photo.taken_at < narrowed.taken_before)
    return query


def photo_page(session: Session, visible: ColumnElement[bool], narrowed: PhotoFilter,
               after: tuple[datetime, int] | None, limit: int) -> list[Photo]:
    """Photos newest first (by when they were taken), `limit` + 1 of them to tell if more follow."""
    query = _filtered(select(Photo), visible, narrowed)
    if after is not None:
        query = query.where(tuple_(Photo.taken_at, Photo.id) < tuple_(*after))
    return list(session.scalars(
        query.order_by(Photo.taken_at.desc(), Photo.id.desc()).limit(limit + 1)))


def capture_times(session: Session, visible: ColumnElement[bool],
                  narrowed: PhotoFilter) -> list[tuple[datetime, int, str]]:
    """(taken_at, offset in minutes, area) of every photo the filter lets through."""
    query = _filtered(select(Photo.taken_at, Photo.taken_at_offset_minutes, Photo.area),
                      visible, narrowed)
    return [tuple(row) for row in session.execute(query)]


def course_area_photos(session: Session, course_id: int, area: str) -> list[Photo]:
    """The course's photos of one area, oldest first."""
    return list(session.scalars(
        select(Photo).where(Photo.course_id == course_id, Photo.area == area)
        .order_by(Photo.taken_at, Photo.id)))


def keys_in_use(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of these blob keys some photo, or the export file of some job, still refers to."""
    keys = set(keys)
    if not keys:
        return set()
    rows = session.execute(
        select(Photo.original_key, Photo.preview_key, Photo.thumbnail_key).where(or_(
            Photo.original_key.in_(keys), Photo.preview_key.in_(keys),
            Photo.thumbnail_key.in_(keys)))
    )
    exports = session.scalars(select(Job.result_key).where(Job.result_key.in_(keys)))
    return ({key for row in rows for key in row} | set(exports)) & keys


def photo_files(session: Session) -> Iterator[tuple[int, str, str | None, str | None]]:
    """(id, original, preview, thumbnail key) of every photo, streamed (a photo whose
    derivatives are pending has no preview or thumbnail key yet)."""
    yield from session.execute(
        select(Photo.id, Photo.original_key, Photo.preview_key, Photo.thumbnail_key)
        .order_by(Photo.id).execution_options(yield_per=500))


def count_photos(session: Session) -> int:
    return session.scalar(select(func.count(Photo.id)))


def expired_uploads(session: Session, now: datetime, patient_id: int | None = None
                    ) -> list[tuple[int, str]]:
    """(id, part file) of the uploads past their expiry (of one patient, when given)."""
    query = select(Upload.id, Upload.part_name).where(Upload.expires_at <= now)
    if patient_id is not None:
        query = query.where(Upload.patient_id == patient_id)
    return [(upload_id, part) for upload_id, part in session.execute(query)]


def delete_uploads(session: Session, upload_ids: list[int]) -> None:
    session.execute(delete(Upload).where(Upload.id.in_(upload_ids)))


def live_parts(session: Session, now: datetime) -> set[str]:
    """The part files of uploads still open."""
    return set(session.scalars(select(Upload.part_name).where(Upload.expires_at > now)))
