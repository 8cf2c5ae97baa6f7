"""Schemas of shares: a patient's invite codes and the clinician links they became."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from domain.shares import SHARE_STATES
from schemas.access_log import PersonSchema
from schemas.common import PageSchema, StrictSchema


class ShareSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String(allow_none=True, metadata={
        "description": "The invite code, shown only when it is created (only its hash is kept)",
        "example": "7KQ4M-XT9PA"})
    state = fields.String(metadata={"enum": list(SHARE_STATES)})
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    linked_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)
    clinician = fields.Nested(PersonSchema, allow_none=True)


class SharePageSchema(PageSchema):
    items = fields.List(fields.Nested(ShareSchema), required=True)


class RedeemSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64),
                         metadata={"example": "7KQ4M-XT9PA"})
