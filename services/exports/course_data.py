"""What every export of a course shows, loaded once: the course, its sessions, photos, measurements.

The ZIP, the PDF, the time-lapse, the FHIR bundle and the CLI all start from
`load_course_export`. The rows are read in a fixed handful of queries before
anything is written; the session is not used afterwards, so a streamed
response can go on after the request's session is closed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from domain.photos import PhotoPlace, place_in_course
from domain.schedule import SessionWindow
from domain.status import CourseStatus
from services import derivatives
from services.courses import status_of
from services.sessions import SessionRecord, projected, session_records
from storage import records
from storage.blobs import BlobStore, sha256_of
from storage.models import Course, Device, Observation, Photo, Share, User, utcnow


@dataclass(frozen=True)
class PhotoEntry:
    """A photo of the course, placed in it: the session it goes with, the day it was taken there."""

    row: Photo
    place: PhotoPlace
    taken_at: datetime
    file_name: str

    @property
    def session_number(self) -> int:
        """The session it was linked to, else the sessions done when it was taken (0: baseline)."""
        return self.place.session_number

    @property
    def taken_on(self) -> date:
        return self.taken_at.date()

    @property
    def caption(self) -> str:
        """"2026-11-02, baseline", "2026-12-20, session 5" or "... after session 5"."""
        return self.place.caption(self.taken_on)

    @property
    def sha256(self) -> str:
        """Of the original's bytes (the blob key names it)."""
        return sha256_of(self.row.original_key)

    def preview(self, store: BlobStore, fit: tuple[int, int]) -> Image.Image:
        """The (upright) preview, decoded at about `fit` (JPEG DCT scaling) and scaled to fit it."""
        picture = Image.open(io.BytesIO(derivatives.preview_bytes(store, self.row)))
        picture.draft("RGB", fit)
        picture = picture.convert("RGB")
        picture.thumbnail(fit, Image.Resampling.LANCZOS)
        return picture


@dataclass(frozen=True)
class ClinicianLink:
    """A share a clinician redeemed: the patient's consent to let them see the records."""

    share: Share
    clinician: User


@dataclass(frozen=True)
class CourseExport:
    course: Course
    patient: User
    zone: ZoneInfo
    status: CourseStatus
    sessions: list[SessionRecord]
    projected: list[SessionWindow]
    devices: dict[int, Device]
    photos: list[PhotoEntry]
    observations: list[Observation]
    links: list[ClinicianLink]
    exported_at: datetime

    def photos_of(self, area: str) -> list[PhotoEntry]:
        return [photo for photo in self.photos if photo.row.area == area]

    @property
    def areas(self) -> list[str]:
        """The areas photographed, in the order of their first photo."""
        return list(dict.fromkeys(photo.row.area for photo in self.photos))


def load_course_export(session: Session, course: Course) -> CourseExport:
    patient = session.get(User, course.patient_id)
    zone = ZoneInfo(patient.timezone)
    done = session_records(session, course, zone)
    device_ids = {record.row.device_id for record in done if record.row.device_id is not None}
    photos = session.scalars(select(Photo).where(Photo.course_id == course.id)
                             .order_by(Photo.taken_at, Photo.id)).all()
    observations = session.scalars(
        select(Observation).options(joinedload(Observation.recorded_by))
        .where(Observation.course_id == course.id)
        .order_by(Observation.observed_at, Observation.id)).all()
    links = session.execute(
        select(Share, User).join(User, User.id == Share.clinician_id)
        .where(Share.patient_id == course.patient_id)
        .order_by(Share.linked_at, Share.id)).all()
    return CourseExport(
        course=course, patient=patient, zone=zone,
        status=status_of(session, course, zone),
        sessions=done,
        projected=projected(course, done, zone),
        devices=records.devices_by_id(session, course.patient_id, device_ids),
        photos=place_photos(photos, done),
        observations=list(observations),
        links=[ClinicianLink(share, clinician) for share, clinician in links],
        exported_at=utcnow().astimezone(zone),
    )


def place_photos(photos: list[Photo], done: list[SessionRecord]) -> list[PhotoEntry]:
    """Number each photo by session and name its file `<area>/<date>_s<session>.<ext>`, unique."""
    numbers = {record.row.id: record.number for record in done}
    performed = [record.row.performed_at for record in done]
    entries, used = [], set()
    for photo in photos:
        taken_at = photo.local_taken_at
        place = place_in_course(photo.taken_at, numbers.get(photo.session_id), performed)
        extension = photo.original_key.rsplit(".", 1)[1]
        stem = f"{photo.area}/{taken_at.date().isoformat()}_s{place.session_number}"
        name, copy = f"{stem}.{extension}", 1
        while name in used:
            copy += 1
            name = f"{stem}_{copy}.{extension}"
        used.add(name)
        entries.append(PhotoEntry(photo, place, taken_at, name))
    return entries
