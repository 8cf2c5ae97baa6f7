"""Resumable uploads of one photo in chunks, with the tus 1.0 core protocol's semantics.

- `POST /uploads` (JSON: the file's `length` and the photo's fields, checked
  now) creates an upload: 201, `Location`, `Upload-Offset: 0`, `Upload-Expires`.
- `HEAD /uploads/{id}` says how many bytes arrived (`Upload-Offset`), never cached.
- `PATCH /uploads/{id}` with `Upload-Offset` and `Content-Type:
  application/offset+octet-stream` appends a chunk: 204 with the new offset;
  another offset than the server's is 409, another content type 415, a chunk
  past the announced length 413. The chunk that completes the file turns it
  into a photo through the same pipeline as `POST /photos` (204 with
  `Location` of the photo; a file that is no photo ends the upload with the
  415 or 422 that `POST /photos` would give).
- Every request but the creation carries `Tus-Resumable: 1.0.0` (another
  version is 412 with `Tus-Version`; none, or no version at all, 400); every
  response does. An upload not finished within 24 h is
  gone (404) and its bytes are removed.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Response, current_app, request, url_for
from flask.views import MethodView
from flask_smorest import abort
from werkzeug.http import http_date

from api import jobs
from api.access import upload_or_404
from api.auth import current_user
from api.blueprint import Blueprint
from api.database import db, photo_store
from api.errors import problem
from domain.roles import PATIENT
from schemas.photos import BINARY
from schemas.uploads import UploadCreateSchema, UploadSchema
from services import uploads
from storage.models import Upload

blp = Blueprint("uploads", __name__, url_prefix="/api/v1",
                description="Resumable upload of one photo in chunks (tus 1.0 core protocol).")

TUS_VERSION = "1.0.0"
CHUNK_TYPE = "application/offset+octet-stream"
_TUS_HEADER = {"in": "header", "name": "Tus-Resumable", "required": True,
               "schema": {"type": "string", "enum": [TUS_VERSION]},
               "description": f"{TUS_VERSION}; another version is 412 (with Tus-Version)"}
_OFFSET_HEADER = {"in": "header", "name": "Upload-Offset", "required": True,
                  "schema": {"type": "integer", "minimum": 0},
                  "description": "where this chunk starts: the server's offset"}
_STATE_HEADERS = {
    "Tus-Resumable": {"schema": {"type": "string"}},
    "Upload-Offset": {"schema": {"type": "integer"}, "description": "bytes received"},
    "Upload-Length": {"schema": {"type": "integer"}},
    "Upload-Expires": {"schema": {"type": "string"}},
}


def _limits() -> uploads.UploadLimits:
    config = current_app.config
    return uploads.UploadLimits(max_length=config["MAX_CONTENT_LENGTH"],
                                max_pixels=config["MAX_IMAGE_PIXELS"],
                                ttl=timedelta(hours=config["UPLOAD_TTL_HOURS"]))


def _state_headers(upload: Upload) -> dict[str, str]:
    headers = {"Tus-Resumable": TUS_VERSION, "Upload-Offset": str(upload.received),
               "Upload-Length": str(upload.length), "Upload-Expires": http_date(upload.expires_at),
               "Cache-Control": "no-store"}
    if upload.photo_id is not None:
        headers["Location"] = url_for("photos.PhotoByIdViews", photo_id=upload.photo_id)
    return headers


def _speaks_tus() -> Response | None:
    """None when the client speaks this server's tus; 412 for another version, else 400."""
    version = request.headers.get("Tus-Resumable", "")
    if version == TUS_VERSION:
        return None
    headers = {"Tus-Version": TUS_VERSION, "Tus-Resumable": TUS_VERSION}
    if re.fullmatch(r"\d{1,4}\.\d{1,4}\.\d{1,4}", version):
        return problem(412, f"This server speaks tus {TUS_VERSION} only.", headers=headers)
    return problem(400, f"Send Tus-Resumable: {TUS_VERSION}.", headers=headers)


@blp.route("/uploads")
class UploadViews(MethodView):
    @blp.login_required(PATIENT)
    @blp.idempotent_create
    @blp.arguments(UploadCreateSchema)
    @blp.response(201, UploadSchema, headers=_STATE_HEADERS)
    @blp.alt_response(413, "REQUEST_ENTITY_TOO_LARGE")
    def post(self, data):
        """Begin a resumable upload: the file's length and the photo's fields"""
        # The patient's uploads that ran out of time go first, in a transaction of their own.
        jobs.purge_expired_uploads_of(current_user())
        upload = uploads.start_upload(db(), photo_store(), current_user(), data, _limits())
        location = url_for("uploads.UploadByIdViews", upload_id=upload.id)
        return upload, 201, {**_state_headers(upload), "Location": location}


@blp.route("/uploads/<int:upload_id>")
class UploadByIdViews(MethodView):
    @blp.login_required(PATIENT)
    @blp.doc(parameters=[_TUS_HEADER])
    @blp.response(200, headers=_STATE_HEADERS, description="The offset to resume from (no body)")
    def head(self, upload_id):
        """How many bytes of the upload arrived"""
        upload = upload_or_404(upload_id)
        refused = _speaks_tus()
        if refused is not None:
            return refused
        return Response(status=200, headers=_state_headers(upload))

    @blp.login_required(PATIENT)
    @blp.doc(parameters=[_TUS_HEADER, _OFFSET_HEADER],
             requestBody={"required": True, "content": {CHUNK_TYPE: {"schema": BINARY}}})
    @blp.response(204, headers={**_STATE_HEADERS, "Location": {
        "schema": {"type": "string"}, "description": "the photo, once the last byte is in"}})
    @blp.alt_response(409, "CONFLICT", description="Upload-Offset is not the server's offset")
    @blp.alt_response(413, "REQUEST_ENTITY_TOO_LARGE")
    @blp.alt_response(415, "UNSUPPORTED_MEDIA_TYPE")
    def patch(self, upload_id):
        """Send the next chunk at the server's offset; the last one makes the photo"""
        upload = upload_or_404(upload_id)
        refused = _speaks_tus()
        if refused is not None:
            return refused
        if request.mimetype != CHUNK_TYPE:
            abort(415, message=f"Send the chunk as {CHUNK_TYPE}.")
        offset = request.headers.get("Upload-Offset", "")
        if not offset.isascii() or not offset.isdigit():
            abort(422, message="Upload-Offset must be a number of bytes.",
                  errors={"Upload-Offset": ["Not a whole number of bytes."]})
        uploads.receive_chunk(db(), photo_store(), current_user(), upload, int(offset),
                              request.get_data(), _limits())
        return Response(status=204, headers=_state_headers(upload))
