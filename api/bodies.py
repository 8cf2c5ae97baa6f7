"""Request bodies: which are JSON, how many bytes of them are read, and how deep they go.

- A JSON body is `application/json` (any `charset` parameter aside). A body of
  another type sent where JSON is expected is a 415, so `+json` types are
  never parsed (they would otherwise skip the JSON size limit).
- Every type that names JSON (`application/json`, `application/*+json`) is
  held to `MAX_JSON_LENGTH`; other bodies (photos, upload chunks) to
  `MAX_CONTENT_LENGTH`. The limit is counted as the bytes arrive, so a
  chunked body (no Content-Length) over it is a 413 like a declared one,
  never a body cut short at the limit.
- JSON nested deeper than `MAX_JSON_DEPTH` is a 400 before any schema walks
  it: no client can make the server recurse.

Every JSON body the API reads goes through `ApiRequest.get_json`, and so
through `JsonProvider.loads`: webargs' parser (`api.blueprint`), the login
limit's key (`api.limits`) and Flask itself.

The other way, every JSON response made by Flask (`jsonify`, flask-smorest's
responses) is written by orjson in `JsonProvider.response`, several times
faster than the standard library on the dashboard's lists. It renders what
Flask's own provider renders: dates, times, Decimals, UUIDs and dataclasses
go through Flask's `default` (a date is an HTTP date there, as before; the
schemas hand over ISO 8601 strings anyway); a value orjson refuses (an
integer beyond 64 bits) falls back to Flask's own encoder. Non-ASCII text is
written as UTF-8 rather than `\\u` escapes, and floats in their shortest form
(`1e-05` is `0.00001`): the same JSON values.
"""

from __future__ import annotations

import json

import orjson
from flask import Request, current_app
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

JSON = "application/json"
# The deepest input schema nests three levels (an object of lists of objects);
# 32 leaves room for any client while keeping every walk over a body shallow.
MAX_JSON_DEPTH = 32


def names_json(mimetype: str) -> bool:
    """`application/json` or a `+json` type: what some client somewhere parses as JSON."""
    return mimetype == JSON or (mimetype.startswith("application/") and mimetype.endswith("+json"))


class TooDeep(ValueError):
    """JSON nested deeper than MAX_JSON_DEPTH (a ValueError, as any invalid JSON)."""


def nesting_exceeds(value, limit: int) -> bool:
    """Whether lists and objects in `value` nest deeper than `limit` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


# Flask's `default` sees what it saw before (dates, dataclasses), not orjson's own renderings;
# non-string keys are written as the standard library writes them.
RESPONSE_OPTIONS = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                    | orjson.OPT_NON_STR_KEYS)


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON, with parsing bounded in depth (a RecursionError is invalid JSON too), and
    responses written by orjson."""

    sort_keys = False

    def response(self, *args, **kwargs):
        """Flask's `response` (one value, several as a list, or keyword arguments as an
        object; indented in debug mode or when not `compact`), written by orjson."""
        if args and kwargs:
            raise TypeError("app.json.response() takes either args or kwargs, not both")
        obj = args[0] if len(args) == 1 else (args or kwargs or None)
        options = RESPONSE_OPTIONS
        if (self.compact is None and current_app.debug) or self.compact is False:
            options |= orjson.OPT_INDENT_2
        try:
            body = orjson.dumps(obj, default=self.default, option=options)
        except orjson.JSONEncodeError:
            # Whatever orjson refuses (a default that raises included): Flask's encoder
            # writes it, or raises what it always raised.
            return super().response(obj)
        return current_app.response_class(body + b"\n", mimetype=self.mimetype)

    def loads(self, s, **kwargs):
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise TooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from None
        if nesting_exceeds(value, MAX_JSON_DEPTH):
            raise TooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
        return value


class BoundedStream(LimitedStream):
    """A body with no Content-Length, read up to `limit` bytes: one byte more is a 413.

    werkzeug's own (`LimitedStream(is_max=True)`) raises only on a read made
    after the limit, and its `readall` stops at the limit: `get_data` would
    return a chunked body cut short, silently.
    """

    def __init__(self, stream, limit: int):
        super().__init__(stream, limit, is_max=True)
        self._source = stream

    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted and self._source.read(1):
            raise RequestEntityTooLarge()
        return data


class ApiRequest(Request):
    """Flask's request, with the body rules above."""

    @property
    def is_json(self) -> bool:
        return self.mimetype == JSON

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:
            return self._max_content_length
        if current_app and names_json(self.mimetype):
            return current_app.config["MAX_JSON_LENGTH"]
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @cached_property
    def stream(self):
        limit = self.max_content_length
        if (not self.shallow and limit is not None and self.content_length is None
                and "wsgi.input_terminated" in self.environ):
            return BoundedStream(self.environ["wsgi.input"], limit)
        return Request.stream.fget(self)

    def has_body(self) -> bool:
        """Whether the client sent a body (a Content-Length above 0, or chunks)."""
        if self.content_length is not None:
            return self.content_length > 0
        return "chunked" in self.headers.get("Transfer-Encoding", "").lower()

    def on_json_loading_failed(self, e: ValueError | None):
        if e is None:
            raise UnsupportedMediaType("Send the body as application/json.")
        if isinstance(e, TooDeep):
            raise BadRequest(str(e))
        raise BadRequest("The body is not valid JSON.")


NO_BODY = object()


def json_body(request: ApiRequest):
    """The JSON body (`null` is None), or NO_BODY when the client sent none; 415 for a body of
    another type, 400 for one that is not JSON (or nests too deep), 413 for one over the limit."""
    if not request.has_body():
        return NO_BODY
    limit = request.max_content_length
    if request.content_length is not None and limit is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as application/json.")
    if not request.get_data(cache=True):
        return NO_BODY
    return request.get_json()
