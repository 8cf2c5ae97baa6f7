"""One error shape for everything: RFC 9457 problem details.

Every error the server sends, from a validation failure to an unknown route
or an unexpected exception, leaves through `problem()`; no traceback, SQL or
stack detail ever reaches the client.
"""

from __future__ import annotations

import http
import logging

import marshmallow as ma
from flask import Flask, Response, json
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    OperationalError,
    PendingRollbackError,
)
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from werkzeug.exceptions import HTTPException

from domain.errors import Conflict, DomainError, NotAllowed, NotFound, TooLarge
from services.images.pipeline import UnreadableImage, UnsupportedImage

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every error response carries them."""

    type = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Validation messages by field (dotted path)"},
    )


def problem(status: int, detail: str | None = None, errors: dict | None = None,
            headers: dict | None = None) -> Response:
    phrase = http.HTTPStatus(status).phrase
    body = {"type": "about:blank", "title": phrase, "status": status,
            "detail": detail or phrase}
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """webargs nests messages by location and field; clients want `field: [msg]`."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if not prefix and key in ("json", "query", "form", "headers", "files", "view_args",
                                      "multipart"):
                flat.update(flatten_errors(value, ""))
            else:
                flat.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_body"] = messages
    else:
        flat[prefix or "_body"] = [str(messages)]
    return flat


class ProblemApi(Api):
    """flask-smorest's Api, documenting and sending problem+json errors."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        # Same as flask-smorest's, but error responses are documented with the media
        # type they are really sent with. flask-smorest 0.47 has no setting for it:
        # DEFAULT_RESPONSE_CONTENT_TYPE would also change every success response.
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (RFC 9457 problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def handle_http_exception(self, error: HTTPException):
        if error.response is not None:
            return error.response  # `abort(response)`: an answer decided by the view, as is
        if error.code == 304:
            return Response(status=304)
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        detail = data.get("message") or error.description
        if errors and not data.get("message"):
            detail = ("The request did not pass validation." if error.code == 422
                      else "; ".join(flatten_errors(errors).get("_body", [])) or detail)
        if error.code == 500:
            detail = "Internal error."
        headers = dict(data.get("headers") or {})
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        return problem(error.code or 500, detail,
                       flatten_errors(errors) if errors else None, headers)


def register_error_handlers(app: Flask) -> None:
    """Map domain, database and unexpected errors onto problem+json."""

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        status = (409 if isinstance(error, Conflict) else 403 if isinstance(error, NotAllowed)
                  else 404 if isinstance(error, NotFound)
                  else 413 if isinstance(error, TooLarge) else 422)
        errors = {error.field: [error.detail]} if error.field and status == 422 else None
        return problem(status, error.detail, errors)

    @app.errorhandler(UnsupportedImage)
    @app.errorhandler(UnreadableImage)
    def image_error(error: UnsupportedImage | UnreadableImage):
        if isinstance(error, UnsupportedImage):
            return problem(415, str(error))
        return problem(422, str(error), {"file": [str(error)]})

    @app.errorhandler(IntegrityError)
    def integrity_error(error: IntegrityError):
        log.info("integrity error: %s", error.orig)
        return problem(409, "The request conflicts with the current state of the resource.")

    @app.errorhandler(StaleDataError)
    @app.errorhandler(ObjectDeletedError)
    def changed_meanwhile(error: StaleDataError | ObjectDeletedError):
        # Another request removed (or changed) the row between this one's read and write.
        log.info("row changed by another request: %s", error.__class__.__name__)
        return problem(409, "Another request changed or removed this meanwhile; read it again.")

    @app.errorhandler(OperationalError)
    @app.errorhandler(PendingRollbackError)  # the session's connection failed earlier on
    def database_unavailable(error: OperationalError | PendingRollbackError):
        log.error("database error: %s", getattr(error, "orig", error).__class__.__name__)
        return problem(503, "The database is unavailable; try again shortly.",
                       headers={"Retry-After": "5"})

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        # A connection that broke under the request (psycopg's InterfaceError, ...)
        # is the database being unavailable; any other driver error is a bug.
        if error.connection_invalidated:
            return database_unavailable(error)
        return unexpected(error)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        # HTTPExceptions never get here: Flask picks the closer handler
        # flask-smorest registered for them (ProblemApi.handle_http_exception).
        log.exception("unhandled error")
        return problem(500, "Internal error.")
