"""Schemas of devices (rollers, pens, stamps) and their wear."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from domain.devices import KINDS, NEEDLE_LENGTH_MM
from schemas.common import StrictBoolean, PatchSchema, PageSchema, StrictSchema


class DeviceCreateSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    needle_length_mm = fields.Float(required=True, validate=validate.Range(*NEEDLE_LENGTH_MM),
                                    allow_nan=False)
    label = fields.String(allow_none=True, validate=validate.Length(max=100))
    material = fields.String(allow_none=True, validate=validate.Length(max=100),
                             metadata={"example": "titanium"})
    first_used_on = fields.Date(allow_none=True)


class DeviceUpdateSchema(PatchSchema):
    label = fields.String(allow_none=True, validate=validate.Length(max=100))
    material = fields.String(allow_none=True, validate=validate.Length(max=100))
    first_used_on = fields.Date(allow_none=True)
    retired = StrictBoolean()


class DeviceSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String()
    needle_length_mm = fields.Float()
    label = fields.String(allow_none=True)
    material = fields.String(allow_none=True)
    first_used_on = fields.Date(allow_none=True)
    retired = StrictBoolean()
    uses = fields.Integer()
    max_uses = fields.Integer(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    warnings = fields.List(fields.String())
    created_at = fields.AwareDateTime()


class DevicePageSchema(PageSchema):
    items = fields.List(fields.Nested(DeviceSchema), required=True)
