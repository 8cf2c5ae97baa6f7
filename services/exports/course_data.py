"""What every export of a course shows, loaded once: the course, its sessions, photos, measurements.

The ZIP, the PDF, the time-lapse, the FHIR bundle and the CLI all start from
`load_course_export`. The rows are read in a fixed handful of queries before
anything is written; the session is not used afterwards, so a streamed
response can go on after the request's session is closed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from services import courses as tracking
from domain.photos import BASELINE
from domain.schedule import SessionWindow
from domain.status import CourseStatus
from storage import records
from storage.blobs import BlobStore, sha256_of
from storage.models import Course, Device, Observation, Photo, Share, User, utcnow

# The session number of a photo taken before session 1.
BASELINE_SESSION = 0


@dataclass(frozen=True)
class PhotoEntry:
    """A photo of the course, placed in it: the session it follows, the day it was taken there."""

    row: Photo
    # The session it was linked to, else the number of sessions done when it was
    # taken (0: a baseline photo, before session 1).
    session_number: int
    taken_at: datetime
    file_name: str

    @property
    def taken_on(self) -> date:
        return self.taken_at.date()

    @property
    def caption(self) -> str:
        """"2026-11-02, baseline" or "2026-12-20, session 5"."""
        if self.session_number == BASELINE_SESSION:
            return f"{self.taken_on.isoformat()}, {BASELINE}"
        return f"{self.taken_on.isoformat()}, session {self.session_number}"

    @property
    def sha256(self) -> str:
        """Of the original's bytes (the blob key names it)."""
        return sha256_of(self.row.original_key)

    def preview(self, store: BlobStore, fit: tuple[int, int]) -> Image.Image:
        """The (upright) preview, decoded at about `fit` (JPEG DCT scaling) and scaled to fit it."""
        with store.open(self.row.preview_key) as stored:
            picture = Image.open(io.BytesIO(stored.read()))
            picture.draft("RGB", fit)
            picture = picture.convert("RGB")
        picture.thumbnail(fit, Image.Resampling.LANCZOS)
        return picture


@dataclass(frozen=True)
class ObservationEntry:
    row: Observation
    recorded_by: User | None


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
    sessions: list[tracking.SessionRecord]
    projected: list[SessionWindow]
    devices: dict[int, Device]
    photos: list[PhotoEntry]
    observations: list[ObservationEntry]
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
    done = tracking.session_records(session, course, zone)
    device_ids = {record.row.device_id for record in done if record.row.device_id is not None}
    photos = session.scalars(select(Photo).where(Photo.course_id == course.id)
                             .order_by(Photo.taken_at, Photo.id)).all()
    observations = session.execute(
        select(Observation, User)
        .outerjoin(User, User.id == Observation.recorded_by_id)
        .where(Observation.course_id == course.id)
        .order_by(Observation.observed_at, Observation.id)).all()
    links = session.execute(
        select(Share, User).join(User, User.id == Share.clinician_id)
        .where(Share.patient_id == course.patient_id)
        .order_by(Share.linked_at, Share.id)).all()
    return CourseExport(
        course=course, patient=patient, zone=zone,
        status=tracking.status_of(session, course, zone),
        sessions=done,
        projected=tracking.projected(course, done, zone),
        devices=records.devices_by_id(session, course.patient_id, device_ids),
        photos=place_photos(photos, done),
        observations=[ObservationEntry(row, recorder) for row, recorder in observations],
        links=[ClinicianLink(share, clinician) for share, clinician in links],
        exported_at=utcnow().astimezone(zone),
    )


def place_photos(photos: list[Photo], done: list[tracking.SessionRecord]) -> list[PhotoEntry]:
    """Number each photo by session and name its file `<area>/<date>_s<session>.<ext>`, unique."""
    numbers = {record.row.id: record.number for record in done}
    performed = [record.row.performed_at for record in done]
    entries, used = [], set()
    for photo in photos:
        taken_at = photo.taken_at.astimezone(
            timezone(timedelta(minutes=photo.taken_at_offset_minutes)))
        number = numbers.get(photo.session_id)
        if number is None:
            number = sum(1 for moment in performed if moment <= photo.taken_at)
        extension = photo.original_key.rsplit(".", 1)[1]
        stem = f"{photo.area}/{taken_at.date().isoformat()}_s{number}"
        name, copy = f"{stem}.{extension}", 1
        while name in used:
            copy += 1
            name = f"{stem}_{copy}.{extension}"
        used.add(name)
        entries.append(PhotoEntry(photo, number, taken_at, name))
    return entries
