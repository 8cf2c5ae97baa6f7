"""Building blocks shared by every resource's schemas."""

from __future__ import annotations

import base64
import binascii
import json
from importlib import resources
from functools import cache

import marshmallow as ma
from marshmallow import fields, validate

MAX_PAGE = 200


class StrictSchema(ma.Schema):
    """Input schemas: an unknown field (or a server-owned one) is a 422."""

    class Meta:
        unknown = ma.RAISE


class StrictBoolean(fields.Boolean):
    """JSON true or false only: 0, 1 and "yes" are not answers to a health question."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Cursor(fields.Field):
    """An opaque paging cursor: base64url of the last row's sort key."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def deserialize(self, value, attr=None, data=None, **kwargs):
        # `?cursor=` (empty) is the first page, as if no cursor were given.
        return None if value == "" else super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 200:
            raise ma.ValidationError("Invalid cursor.")
        try:
            decoded = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise ma.ValidationError("Invalid cursor.") from None
        if not isinstance(decoded, list) or not all(
            isinstance(part, (int, str)) and not isinstance(part, bool) for part in decoded
        ):
            raise ma.ValidationError("Invalid cursor.")
        return decoded


class PatchSchema(StrictSchema):
    """A PATCH body: at least one field, or there is nothing to change (422)."""

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Give at least one field to change.", "_body")


class PageArgsSchema(StrictSchema):
    """`?limit=` (default 50, max 200) and the opaque `?cursor=` of the previous page."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    cursor = Cursor(metadata={"type": "string", "description": "next_cursor of the previous page"})


class PageSchema(ma.Schema):
    """A page of a list: subclasses declare `items`."""

    next_cursor = Cursor(allow_none=True, required=True, metadata={"type": "string", "nullable": True})


@cache
def known_time_zones() -> frozenset[str]:
    """IANA zone names, from the pinned tzdata package (not the host's zoneinfo
    folder, which also holds files such as `localtime` and `posixrules`)."""
    return frozenset(resources.files("tzdata").joinpath("zones").read_text().split()) - {"Factory"}


def validate_time_zone(value: str, **kwargs) -> None:
    if value not in known_time_zones():
        raise ma.ValidationError("Not a known IANA time zone (e.g. Europe/Berlin).")
