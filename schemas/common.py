"""Building blocks shared by every resource's schemas."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import timezone
from functools import cache
from importlib import resources

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate

MAX_PAGE = 200


class StrictSchema(ma.Schema):
    """Input schemas: an unknown field (or a server-owned one) is a 422, and so is
    text holding a NUL character, which PostgreSQL cannot store."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def refuse_nul(self, data, **kwargs):
        if _holds_nul(data):
            raise ma.ValidationError("Text may not contain NUL characters.", "_schema")
        return data


class EmptyBodySchema(StrictSchema):
    """The body of a POST that takes no input: none at all, or `{}`. Anything else is
    refused like any other body (a field: 422, not JSON: 400, another type: 415)."""


def _holds_nul(value) -> bool:
    """Whether any text in `value`, a key or a value at any depth, holds a NUL (iterative:
    a body nested deep cannot make it recurse)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, Mapping):  # a JSON object, or webargs' proxy of a query or form
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


class StrictBoolean(fields.Boolean):
    """JSON true or false only: 0, 1 and "yes" are not answers to a health question."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


MAX_ROW_ID = 2**31 - 1  # a PostgreSQL integer


def RowId(**kwargs) -> fields.Integer:
    """The id of a row given in a body: an integer the database can hold."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ROW_ID), **kwargs)


class Timestamp(fields.AwareDateTime):
    """An RFC 3339 time with its offset, in years a course can happen (1900-2999)."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            in_utc = moment.astimezone(timezone.utc)
        except OverflowError:
            raise ma.ValidationError("Not a valid date-time.") from None
        if not 1900 <= in_utc.year <= 2999:
            raise ma.ValidationError("Not a valid date-time.")
        return moment


class Cursor(fields.Field):
    """An opaque paging cursor: base64url of the last row's sort key.

    `shape` is the type of each part of the key; an integer part is a row id
    or a number (0 to 2^31-1), so a forged cursor is a 422, never a database error.
    """

    def __init__(self, shape: tuple[type, ...] = (int,), **kwargs):
        super().__init__(**kwargs)
        self.shape = shape

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
        if not isinstance(decoded, list) or len(decoded) != len(self.shape) or not all(
            _fits(part, kind) for part, kind in zip(decoded, self.shape)
        ):
            raise ma.ValidationError("Invalid cursor.")
        return decoded


def _fits(part, kind: type) -> bool:
    if kind is int:
        return type(part) is int and 0 <= part <= MAX_ROW_ID
    return isinstance(part, kind) and len(part) <= 64


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


class Itself(fields.Nested):
    """A nested object dumped from the object itself (`urls` of a photo, `session` of a
    logged session), not from one of its attributes."""

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return obj


class Link(fields.String):
    """A URL of this API for the object dumped: `Link("photos.PhotoByIdViews", {"photo_id": "id"})`
    fills the route's `photo_id` with the object's `id`."""

    def __init__(self, endpoint: str, route_values: dict[str, str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.endpoint = endpoint
        self.route_values = route_values

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return url_for(self.endpoint, **{name: getattr(obj, attribute)
                                         for name, attribute in self.route_values.items()})


def validate_not_blank(value: str, **kwargs) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


@cache
def known_time_zones() -> frozenset[str]:
    """IANA zone names, from the pinned tzdata package (not the host's zoneinfo
    folder, which also holds files such as `localtime` and `posixrules`)."""
    return frozenset(resources.files("tzdata").joinpath("zones").read_text().split()) - {"Factory"}


def validate_time_zone(value: str, **kwargs) -> None:
    if value not in known_time_zones():
        raise ma.ValidationError("Not a known IANA time zone (e.g. Europe/Berlin).")
