"""SQLAlchemy 2 typed models: the tables the Alembic migrations create.

Derived things (session numbers, phases, the schedule, warnings, wear) are
not stored: they are computed from these records by `domain/` on every read,
so they can never go stale.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from domain.photos import STANDARD_AREAS, local_time
from domain.shares import share_state


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC; SQLite hands back naive UTC, made aware here."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('patient', 'clinician')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthToken(Base):
    """A bearer token; only the SHA-256 of the secret is kept."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class IdempotencyRecord(Base):
    """A creating request's key, claimed before the work and answered after it."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_records_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The patient whose records the request looked up (for a clinician's request, someone
    # else): the stored response is about them, so it is erased with them and replayed to a
    # clinician only while they share.
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                                   index=True)
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status_code: Mapped[int | None]
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_headers: Mapped[dict[str, Any] | None]


class Course(Base):
    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("regimen IN ('standard', 'intensive')", name="regimen"),
        CheckConstraint("setting IN ('home', 'clinic')", name="setting"),
        CheckConstraint(
            "status IN ('on_hold', 'active', 'paused', 'completed', 'ended', 'cancelled')",
            name="status",
        ),
        # At most one open course per patient, enforced by the database so
        # two concurrent requests cannot both create one.
        Index(
            "uq_courses_one_open_per_patient",
            "patient_id",
            unique=True,
            sqlite_where=text("status IN ('on_hold', 'active', 'paused')"),
            postgresql_where=text("status IN ('on_hold', 'active', 'paused')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    regimen: Mapped[str] = mapped_column(String(16))
    setting: Mapped[str] = mapped_column(String(16))
    weekly_sessions: Mapped[int | None]
    biweekly_sessions: Mapped[int | None]
    start_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    screening: Mapped[dict[str, Any]]
    hold_reasons: Mapped[list[str]]
    concurrent_therapies: Mapped[list[str]]
    # The records the course status is computed from, kept current by services.status_digests.
    status_facts: Mapped[dict[str, Any] | None]
    clearance_note: Mapped[str | None] = mapped_column(Text)
    cleared_at: Mapped[datetime | None]
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A linked clinician's hold (DOMAIN.md section 2, v2): why, when and by whom.
    hold_note: Mapped[str | None] = mapped_column(Text)
    held_at: Mapped[datetime | None]
    # The clinician's user id (no foreign key: the migration adds it in place on SQLite).
    held_by_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def hold_cleared(self) -> bool:
        """Whether the hold it had was cleared (after the latest clinical hold, if any)."""
        return self.cleared_at is not None and (self.held_at is None
                                                or self.cleared_at > self.held_at)


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (CheckConstraint("kind IN ('roller', 'pen', 'stamp')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    needle_length_mm: Mapped[float] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(100))
    material: Mapped[str | None] = mapped_column(String(100))
    first_used_on: Mapped[date | None] = mapped_column(Date)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    # When it was retired (unknown for devices retired before this was kept).
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TreatmentSession(Base):
    """A microneedling session that was done (projected ones are never stored)."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_course_performed", "course_id", "performed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("devices.id", ondelete="SET NULL"), index=True
    )
    performed_at: Mapped[datetime]
    needle_length_mm: Mapped[float] = mapped_column(Float)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    pain_score: Mapped[int | None] = mapped_column(Integer)
    cocktail: Mapped[dict[str, Any] | None]
    areas: Mapped[list[str]]
    side_effects: Mapped[list[str]]
    device_disinfected: Mapped[bool | None]
    new_cartridge: Mapped[bool | None]
    device_sterilized: Mapped[bool | None]
    # The pre-session check as answered (DOMAIN.md section 2, v2), when it was asked.
    pre_check: Mapped[dict[str, Any] | None]
    notes: Mapped[str | None] = mapped_column(Text)
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    device: Mapped[Device | None] = relationship(lazy="raise")


class CheckIn(Base):
    """The 24 h follow-up of a session: one per session, corrected in place."""

    __tablename__ = "check_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True, unique=True
    )
    redness_persists: Mapped[bool]
    swelling_persists: Mapped[bool]
    infection_signs: Mapped[bool]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Flag(Base):
    """A `consult_doctor` flag raised by one session (DOMAIN.md section 4, v2).

    Open while `resolved_at` is null; lowered by that session's all-clear check-in, by a
    correction of the session that took its reason away, or by a linked clinician with a
    note. A session has at most one open flag; a lowered one stays in the record.
    """

    __tablename__ = "flags"
    __table_args__ = (
        Index("ix_flags_patient_open", "patient_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"),
                                            index=True)
    code: Mapped[str] = mapped_column(String(32))
    # [{"source": "side_effect" | "pre_check" | "check_in", "code": ...}, ...]
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    # "check_in", "session_corrected" or "clinician" (domain.flags.RESOLUTIONS)
    resolution: Mapped[str | None] = mapped_column(String(32))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class Share(Base):
    """A patient's invitation to a clinician: a pending code, then a link, until revoked.

    Only the SHA-256 of the invite code is kept; the code is shown once, at creation.
    """

    __tablename__ = "shares"
    __table_args__ = (
        # A clinician is linked to a patient at most once at a time.
        Index(
            "uq_shares_active_link",
            "patient_id",
            "clinician_id",
            unique=True,
            sqlite_where=text("clinician_id IS NOT NULL AND revoked_at IS NULL"),
            postgresql_where=text("clinician_id IS NOT NULL AND revoked_at IS NULL"),
        ),
        Index("ix_shares_clinician_active", "clinician_id", "revoked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    linked_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    clinician: Mapped[User | None] = relationship(foreign_keys=[clinician_id], lazy="raise")
    patient: Mapped[User] = relationship(foreign_keys=[patient_id], lazy="raise")
    # Not a column: the invite code itself, known only to the request that made it.
    code = None

    @property
    def state(self) -> str:
        return share_state(self.revoked_at, self.clinician_id, self.expires_at, utcnow())


class Observation(Base):
    """A measurement of a course (DOMAIN.md section 6): a number or a stage."""

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_course_kind", "course_id", "kind", "observed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[float | None] = mapped_column(Float)
    stage: Mapped[str | None] = mapped_column(String(8))
    area: Mapped[str | None] = mapped_column(String(32))
    observed_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)
    # Withdrawn by whoever recorded it: kept in the record and exports, left out of progress
    # and triage. (The withdrawing user's id has no foreign key: see migration 0007.)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    # Loaded with the row where it is shown (a list joins it), never lazily.
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id], lazy="raise")

    @property
    def value(self) -> float | str | None:
        """The measurement: a stage for the staging kinds, else a number."""
        return self.stage if self.stage is not None else self.number


class Note(Base):
    """A clinician's note on a course; the patient reads it, only its author changes it."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="raise")


class AccessLogEntry(Base):
    """One clinician read of a patient's data; append-only (no route changes it)."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_patient_at", "patient_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    request_id: Mapped[str] = mapped_column(String(64))
    clinician: Mapped[User | None] = relationship(foreign_keys=[clinician_id], lazy="raise")


class TriageDigest(Base):
    """What the triage list sorts and shows for a patient, kept current on every change.

    Recomputed from the course status in the same transaction as any change to
    the patient's records; what moves with the clock alone (a window running
    out, a roller expiring) is stored as the UTC instant it happens, so SQL can
    sort the whole list without recomputing a status per patient.
    """

    __tablename__ = "triage_digests"

    patient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    course_status: Mapped[str | None] = mapped_column(String(16))
    phase: Mapped[str | None] = mapped_column(String(16))
    sessions_done: Mapped[int] = mapped_column(Integer, default=0)
    sessions_planned: Mapped[int | None]
    next_number: Mapped[int | None]
    next_earliest: Mapped[date | None] = mapped_column(Date)
    next_due: Mapped[date | None] = mapped_column(Date)
    next_latest: Mapped[date | None] = mapped_column(Date)
    overdue_from: Mapped[datetime | None] = mapped_column(index=True)
    consult_doctor: Mapped[bool] = mapped_column(Boolean, default=False)
    # The status's open flags: [{id, session_id, session_number, raised_at, reasons}].
    open_flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    hold_reasons: Mapped[list[str]]
    device_warnings: Mapped[list[str]]
    # The columns the list sorts on (JSON cannot be compared in SQL everywhere).
    device_worn: Mapped[bool] = mapped_column(Boolean, default=False)
    device_expired_from: Mapped[datetime | None]
    photos_due: Mapped[list[str]]
    photos_missing: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime | None]
    hair_count_change: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Photo(Base):
    """A progress photo: three stored files (original, preview, thumbnail) and when and where it was taken.

    `taken_at` is stored in UTC with the offset it was taken at, so the API
    renders it as the phone recorded it. The uploaded file name is never kept.
    The original is stored before the upload is answered; the preview and
    thumbnail are made by a job (`derivatives` is "pending" until both keys are set).
    """

    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint(f"area IN ({', '.join(repr(area) for area in STANDARD_AREAS)})",
                        name="area"),
        CheckConstraint("taken_at_source IN ('exif', 'client', 'server')", name="taken_at_source"),
        # The same bytes from the same patient are one photo, whatever the retries.
        UniqueConstraint("patient_id", "upload_sha256", name="uq_photos_patient_upload"),
        Index("ix_photos_patient_taken", "patient_id", "taken_at"),
        Index("ix_photos_course_area_taken", "course_id", "area", "taken_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"), index=True
    )
    area: Mapped[str] = mapped_column(String(16))
    taken_at: Mapped[datetime]
    taken_at_offset_minutes: Mapped[int] = mapped_column(Integer)
    taken_at_source: Mapped[str] = mapped_column(String(8))
    upload_sha256: Mapped[str] = mapped_column(String(64))
    original_key: Mapped[str] = mapped_column(String(128))
    preview_key: Mapped[str | None] = mapped_column(String(128))
    thumbnail_key: Mapped[str | None] = mapped_column(String(128))
    media_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    quality_warnings: Mapped[list[str]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def derivatives(self) -> str:
        """"ready" once the preview and the thumbnail are stored, "pending" until then."""
        return "ready" if self.preview_key and self.thumbnail_key else "pending"

    @property
    def local_taken_at(self) -> datetime:
        """When it was taken, at the UTC offset it was taken at."""
        return local_time(self.taken_at, self.taken_at_offset_minutes)


class Upload(Base):
    """A resumable upload of one photo (tus 1.0 core); the bytes so far are in a part file."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    length: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer, default=0)
    part_name: Mapped[str] = mapped_column(String(64), unique=True)
    # The photo's fields as validated at creation: area, course_id, session_id, taken_at, note.
    photo_fields: Mapped[dict[str, Any]]
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class CalendarToken(Base):
    """The secret of a patient's calendar feed URL; only its SHA-256 is kept.

    One per patient: a new token replaces the row, so the old URL stops at once.
    """

    __tablename__ = "calendar_tokens"

    patient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    """Work done beside the requests by the queue's workers: its state is kept here, the
    queue (Huey) only carries the job's id, so a lost or repeated message changes nothing.

    `status`: queued, running (until `lease_until`; a job whose worker died is queued
    again once its lease runs out), done or failed (`error` says why, after
    `attempts` tries). `subject_id` is what the job works on (a photo, a course);
    `result_key` names what it made (an export's file).
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        Index("ix_jobs_status_updated", "status", "updated_at"),
        Index("ix_jobs_kind_subject", "kind", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(8), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    result_key: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
