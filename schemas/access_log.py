"""Schemas of the access log a patient reads."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from schemas.common import PageSchema


class PersonSchema(ma.Schema):
    id = fields.Integer()
    display_name = fields.String()


class AccessLogEntrySchema(ma.Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    clinician = fields.Nested(PersonSchema, allow_none=True,
                              metadata={"description": "null once that account is gone"})
    object_type = fields.String(metadata={"example": "status"})
    object_id = fields.Integer(allow_none=True)
    action = fields.String(metadata={"example": "read"})
    request_id = fields.String()


class AccessLogPageSchema(PageSchema):
    items = fields.List(fields.Nested(AccessLogEntrySchema), required=True)
