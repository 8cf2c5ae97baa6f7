"""Schemas of progress photos: the upload, the photo, lists, the timeline, the dedupe check, compare."""

from __future__ import annotations

from datetime import datetime

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields, validate
from werkzeug.datastructures import FileStorage

from domain.photos import STANDARD_AREAS, TAKEN_AT_SOURCES, TIMELINE_BUCKETS, WEEK
from schemas.common import (
    MAX_ROW_ID,
    Cursor,
    Itself,
    Link,
    PageArgsSchema,
    PageSchema,
    PatchSchema,
    RowId,
    StrictSchema,
    Timestamp,
)
from services.images.pipeline import BLURRY, OVEREXPOSED, TOO_DARK

AREA = validate.OneOf(STANDARD_AREAS)
SHA256 = validate.Regexp(r"^[0-9a-fA-F]{64}$", error="Not a SHA-256 (64 hex digits).")
NOTE = validate.Length(max=2000)
MAX_CHECKED_HASHES = 200
# An image's bytes, for the OpenAPI document.
BINARY = {"type": "string", "format": "binary"}


class PhotoFile(Upload):
    """The uploaded file part (a text field of the same name is not a file)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ma.ValidationError("Send the photo as a file part.")
        return value


def TextRowId(**kwargs) -> fields.Integer:
    """A row id in a query string or a multipart form, where every value arrives as text."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ROW_ID), **kwargs)


class PhotoUploadSchema(StrictSchema):
    """multipart/form-data: the photo and where on the scalp it shows."""

    file = PhotoFile(required=True, metadata={
        "description": "JPEG, PNG, WebP or HEIC, recognised by its bytes; its name is ignored"})
    area = fields.String(required=True, validate=AREA)
    course_id = TextRowId(metadata={"description": "default: the patient's open course, if any"})
    session_id = TextRowId(metadata={"description": "a session of that course"})
    taken_at = Timestamp(metadata={"description": "used when the file's EXIF has no capture time"})
    note = fields.String(validate=NOTE)


class PhotoUrlsSchema(ma.Schema):
    original = Link("photos.PhotoOriginalViews", {"photo_id": "id"})
    preview = Link("photos.PhotoPreviewViews", {"photo_id": "id"})
    thumbnail = Link("photos.PhotoThumbnailViews", {"photo_id": "id"})


class PhotoSchema(ma.Schema):
    id = fields.Integer()
    patient_id = fields.Integer()
    course_id = fields.Integer(allow_none=True)
    session_id = fields.Integer(allow_none=True)
    area = fields.String(metadata={"enum": list(STANDARD_AREAS)})
    taken_at = fields.AwareDateTime(attribute="local_taken_at",
                                    metadata={"description": "with the UTC offset it was taken at"})
    taken_at_source = fields.String(metadata={
        "enum": list(TAKEN_AT_SOURCES),
        "description": "exif: the camera's; client: the app's; server: the upload time"})
    note = fields.String(allow_none=True)
    media_type = fields.String(metadata={"description": "of the original"})
    width = fields.Integer(metadata={"description": "upright"})
    height = fields.Integer(metadata={"description": "upright"})
    byte_size = fields.Integer(metadata={"description": "of the original"})
    sha256 = fields.String(attribute="upload_sha256",
                           metadata={"description": "SHA-256 of the uploaded bytes"})
    quality_warnings = fields.List(fields.String(
        metadata={"enum": [TOO_DARK, OVEREXPOSED, BLURRY]}))
    created_at = fields.AwareDateTime()
    derivatives = fields.String(metadata={
        "enum": ["pending", "ready"],
        "description": "whether the preview and thumbnail are made: they are made by a job "
                       "within seconds of the upload; until then their URLs answer 202"})
    urls = Itself(PhotoUrlsSchema)


class DerivativesPendingSchema(ma.Schema):
    derivatives = fields.String(metadata={"enum": ["pending"]})
    retry_after = fields.Integer(metadata={"description": "seconds, as in Retry-After"})


class PhotoPageSchema(PageSchema):
    items = fields.List(fields.Nested(PhotoSchema), required=True)
    next_cursor = Cursor(shape=(str, int), allow_none=True, required=True,
                         metadata={"type": "string", "nullable": True})


class PhotoFilterSchema(StrictSchema):
    """What a list or the timeline is narrowed to; `from` inclusive, `to` exclusive."""

    patient_id = TextRowId(metadata={"description": "for a clinician: one linked patient"})
    course_id = TextRowId()
    session_id = TextRowId()
    area = fields.String(validate=AREA)
    taken_from = Timestamp(data_key="from")
    taken_before = Timestamp(data_key="to")

    @ma.validates_schema
    def from_before_to(self, data, **kwargs):
        if "taken_from" in data and "taken_before" in data and \
                data["taken_from"] >= data["taken_before"]:
            raise ma.ValidationError("`from` must come before `to`.", "to")


class PhotoQueryArgsSchema(PhotoFilterSchema, PageArgsSchema):
    cursor = Cursor(shape=(str, int),
                    metadata={"type": "string", "description": "next_cursor of the previous page"})

    @ma.post_load
    def cursor_key(self, data, **kwargs):
        """The cursor as the sort key it names: (taken_at, id) of the last photo shown."""
        if data.get("cursor"):
            taken_at, photo_id = data["cursor"]
            try:
                moment = datetime.fromisoformat(taken_at)
            except ValueError:
                raise ma.ValidationError("Invalid cursor.", "cursor") from None
            if moment.tzinfo is None:
                raise ma.ValidationError("Invalid cursor.", "cursor")
            data["cursor"] = (moment, photo_id)
        return data


class TimelineArgsSchema(PhotoFilterSchema):
    bucket = fields.String(load_default=WEEK, validate=validate.OneOf(TIMELINE_BUCKETS))


class TimelineItemSchema(ma.Schema):
    period = fields.Date(metadata={"description": "first day of the week (Monday) or month"})
    area = fields.String()
    count = fields.Integer()


class TimelineSchema(ma.Schema):
    bucket = fields.String()
    items = fields.List(fields.Nested(TimelineItemSchema), metadata={
        "description": "newest period first; dates as the photos were taken (their own offset)"})


class PhotoUpdateSchema(PatchSchema):
    area = fields.String(validate=AREA)
    note = fields.String(allow_none=True, validate=NOTE)
    course_id = RowId()
    session_id = RowId(allow_none=True)


class PhotoCheckSchema(StrictSchema):
    sha256 = fields.List(fields.String(validate=SHA256), required=True,
                         validate=validate.Length(min=1, max=MAX_CHECKED_HASHES))


class KnownPhotoSchema(ma.Schema):
    sha256 = fields.String()
    photo_id = fields.Integer()


class PhotoCheckResultSchema(ma.Schema):
    known = fields.List(fields.Nested(KnownPhotoSchema),
                        metadata={"description": "hashes the server has, with their photo"})
    missing = fields.List(fields.String(), metadata={"description": "hashes to upload"})


class CompareArgsSchema(StrictSchema):
    area = fields.String(required=True, validate=AREA)
    before = TextRowId(metadata={"description": "a photo id (default: the area's first photo)"})
    after = TextRowId(metadata={"description": "a photo id (default: the area's latest photo)"})
