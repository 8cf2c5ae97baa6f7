"""The Blueprint every resource uses: flask-smorest's, with strict query strings and multipart,
login checks that document their answers, and 404 documented wherever a path names a row.

webargs ignores unknown query parameters by default; here the schema decides
(`unknown = RAISE`), so `?limt=10` is a 422 instead of a silently full page.
"""

from __future__ import annotations

import http

import flask_smorest
from flask_smorest import abort
from webargs import core
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict

from api import bodies, idempotency
from api.auth import require_login


class StrictParser(FlaskParser):
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
    }
    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def _raw_load_json(self, req):
        """The JSON body by the rules of `api.bodies` (415, 413, 400), or missing."""
        body = bodies.json_body(req)
        return core.missing if body is bodies.NO_BODY else body

    def load_multipart(self, req, schema):
        """A multipart/form-data body, fields and files read by one schema (415 otherwise)."""
        if req.mimetype != "multipart/form-data":
            abort(415, message="Send multipart/form-data.")
        return MultiDictProxy(CombinedMultiDict([req.form, req.files]), schema)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()
    # `location="multipart"`: one request body holding both form fields and files.
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }

    def arguments(self, schema, *, location: str = "json", **kwargs):
        """flask-smorest's, documenting what a body can be refused with besides a 422:
        400 (not JSON), 413 (too large) and 415 (not the media type asked for)."""
        register = super().arguments(schema, location=location, **kwargs)
        if location not in ("json", "multipart"):
            return register

        def decorator(view):
            view = register(view)
            for status in (400, 413, 415) if location == "json" else (413, 415):
                # By the name the Api registered it under (413's differs across Pythons).
                view = self.alt_response(status, http.HTTPStatus(status).name)(view)
            return view

        return decorator

    def login_required(self, *roles: str):
        """Require a valid bearer token (401), and one of `roles` when given (403).

        Both answers go into the OpenAPI document, so a generated client has a
        typed error for them (BEMServer's Blueprint does the same).
        """

        def decorator(view):
            view = require_login(*roles)(view)
            view = self.alt_response(401, "UNAUTHORIZED")(view)
            if roles:
                view = self.alt_response(403, "FORBIDDEN")(view)
            return view

        return decorator

    def idempotent_create(self, view):
        """A creating POST, replayable under `Idempotency-Key` (`api.idempotency`): the header,
        the 409 of a key still in flight and the 422 of a key reused for another request
        go into the OpenAPI document."""
        view = idempotency.idempotent_create(view)
        view = self.alt_response(409, "CONFLICT")(view)
        view = self.alt_response(422, "UNPROCESSABLE_ENTITY")(view)
        return self.doc(parameters=[idempotency.HEADER_DOC])(view)

    def route(self, rule: str, **options):
        """Register a view; where the path names a row (`<int:course_id>`, a token), every
        method documents the 404 that answers a missing row or one the caller may not see."""
        register = super().route(rule, **options)
        if "<" not in rule:
            return register

        def decorator(view):
            for method in view.methods:
                name = method.lower()
                setattr(view, name, self.alt_response(404, "NOT_FOUND")(getattr(view, name)))
            return register(view)

        return decorator
