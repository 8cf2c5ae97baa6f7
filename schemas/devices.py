"""Schemas of devices (rollers, pens, stamps) and their wear."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from domain.devices import KINDS, NEEDLE_LENGTH_MM
from schemas.common import PageSchema, PatchSchema, StrictBoolean, StrictSchema


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
    """A device with its wear today (`services.devices.DeviceWear`)."""

    id = fields.Integer(attribute="device.id")
    kind = fields.String(attribute="device.kind")
    needle_length_mm = fields.Float(attribute="device.needle_length_mm")
    label = fields.String(attribute="device.label", allow_none=True)
    material = fields.String(attribute="device.material", allow_none=True)
    first_used_on = fields.Date(attribute="device.first_used_on", allow_none=True)
    retired = StrictBoolean(attribute="device.retired")
    uses = fields.Integer(attribute="wear.uses")
    max_uses = fields.Integer(attribute="wear.max_uses", allow_none=True)
    expires_on = fields.Date(attribute="wear.expires_on", allow_none=True)
    warnings = fields.List(fields.String(), attribute="wear.warnings")
    created_at = fields.AwareDateTime(attribute="device.created_at")


class DevicePageSchema(PageSchema):
    items = fields.List(fields.Nested(DeviceSchema), required=True)
