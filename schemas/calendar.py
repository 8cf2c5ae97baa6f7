"""Schemas of the calendar feed."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields


class CalendarTokenSchema(ma.Schema):
    url = fields.Url(required=True, metadata={
        "description": "The feed to subscribe to; shown only now (only a hash is kept), "
                       "and it works until a new one is made"})
    created_at = fields.AwareDateTime(required=True)
