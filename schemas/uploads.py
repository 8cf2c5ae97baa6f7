"""Schemas of resumable uploads (tus 1.0 core): creating one, and what the server says of it."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import Link, RowId, StrictSchema, Timestamp
from schemas.photos import AREA, NOTE


class UploadCreateSchema(StrictSchema):
    """The whole file's length, and the photo's fields, checked before any byte is sent."""

    length = fields.Integer(required=True, strict=True, validate=validate.Range(min=1),
                            metadata={"description": "bytes in the whole file (413 over the limit)"})
    area = fields.String(required=True, validate=AREA)
    course_id = RowId(metadata={"description": "default: the patient's open course, if any"})
    session_id = RowId()
    taken_at = Timestamp(metadata={"description": "used when the file's EXIF has no capture time"})
    note = fields.String(validate=NOTE)


class UploadSchema(ma.Schema):
    id = fields.Integer()
    length = fields.Integer()
    offset = fields.Integer(attribute="received", metadata={"description": "bytes received so far"})
    expires_at = fields.AwareDateTime()
    photo_id = fields.Integer(allow_none=True, metadata={"description": "once every byte is in"})
    url = Link("uploads.UploadByIdViews", {"upload_id": "id"},
               metadata={"description": "where to send the chunks (PATCH) and ask (HEAD)"})
