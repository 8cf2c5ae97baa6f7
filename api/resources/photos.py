"""Progress photos: upload (the same bytes twice make one photo), list, timeline, files."""

from __future__ import annotations

from flask import abort, current_app, jsonify, send_file
from flask.views import MethodView

from api.access import photo_or_404, visible_patient
from api.access_log import note_read
from api.auth import current_user
from api.blueprint import Blueprint
from api.database import db, photo_store
from api.paging import page_of
from domain.roles import PATIENT
from schemas.photos import (
    BINARY,
    DerivativesPendingSchema,
    PhotoCheckResultSchema,
    PhotoCheckSchema,
    PhotoPageSchema,
    PhotoQueryArgsSchema,
    PhotoSchema,
    PhotoUpdateSchema,
    PhotoUploadSchema,
    TimelineArgsSchema,
    TimelineSchema,
)
from services import photos
from services.images.pipeline import JPEG, PNG, WEBP
from storage import photo_records
from storage.blobs import sha256_of
from storage.models import Photo
from storage.photo_records import PhotoFilter

blp = Blueprint("photos", __name__, url_prefix="/api/v1",
                description="Progress photos: upload, list by area and date, files.")

# Image bytes are the patient's: no shared cache keeps them, every reuse is
# revalidated (a revoked clinician gets a 404, not a cached copy), and no
# browser guesses another type than the one sent.
IMAGE_HEADERS = {"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"}
_IMAGE_CONTENT = {media_type: {"schema": BINARY} for media_type in (JPEG, PNG, WEBP)}


@blp.route("/photos")
class PhotoViews(MethodView):
    @blp.login_required()
    @blp.arguments(PhotoQueryArgsSchema, location="query")
    @blp.response(200, PhotoPageSchema)
    def get(self, args):
        """Photos of the caller (a clinician: of linked patients), newest taken first"""
        limit, after = args.pop("limit"), args.pop("cursor", None)
        rows = photo_records.photo_page(db(), visible_patient(Photo.patient_id),
                                        PhotoFilter(**args), after, limit)
        page = page_of(rows, limit, lambda photo: [photo.taken_at.isoformat(), photo.id])
        for photo in page.items:
            note_read(photo.patient_id, "photo", photo.id)
        return page

    @blp.login_required(PATIENT)
    @blp.idempotent_create
    @blp.arguments(PhotoUploadSchema, location="multipart")
    @blp.response(201, PhotoSchema)
    @blp.alt_response(200, schema=PhotoSchema,
                      description="These bytes were uploaded before: that photo, unchanged")
    @blp.alt_response(413, "REQUEST_ENTITY_TOO_LARGE")
    @blp.alt_response(415, "UNSUPPORTED_MEDIA_TYPE")
    def post(self, data):
        """Upload a photo (JPEG, PNG, WebP, HEIC); metadata is stripped, orientation applied"""
        upload = data.pop("file")
        photo, created = photos.add_photo(db(), photo_store(), current_user(), upload.read(), data,
                                          current_app.config["MAX_IMAGE_PIXELS"])
        return photo, 201 if created else 200


@blp.route("/photos/check")
class PhotoCheckViews(MethodView):
    @blp.login_required(PATIENT)
    @blp.arguments(PhotoCheckSchema)
    @blp.response(200, PhotoCheckResultSchema)
    def post(self, data):
        """Which of these SHA-256 hashes of files the server already has (upload only the rest)"""
        return photos.check_uploads(db(), current_user(), data["sha256"])


@blp.route("/photos/timeline")
class PhotoTimelineViews(MethodView):
    @blp.login_required()
    @blp.arguments(TimelineArgsSchema, location="query")
    @blp.response(200, TimelineSchema)
    def get(self, args):
        """How many photos per week or month and area, newest period first"""
        bucket = args.pop("bucket")
        return {"bucket": bucket, "items": photos.timeline(
            db(), visible_patient(Photo.patient_id), PhotoFilter(**args), bucket)}


@blp.route("/photos/<int:photo_id>")
class PhotoByIdViews(MethodView):
    @blp.login_required()
    @blp.etag
    @blp.response(200, PhotoSchema)
    def get(self, photo_id):
        """One photo's metadata"""
        return photo_or_404(photo_id)

    @blp.login_required(PATIENT)
    @blp.arguments(PhotoUpdateSchema)
    @blp.response(200, PhotoSchema)
    def patch(self, data, photo_id):
        """Correct the area or note, or link the photo to a session of its course"""
        photo = photo_or_404(photo_id)
        photos.correct_photo(db(), photo, data)
        db().commit()
        return photo

    @blp.login_required(PATIENT)
    @blp.response(204)
    def delete(self, photo_id):
        """Delete a photo and every stored file of it"""
        photos.delete_photo(db(), photo_store(), photo_or_404(photo_id))


def image_response(key: str, media_type: str):
    """Stored image bytes, tagged by their SHA-256 (the key names it), kept private."""
    blp.set_etag(sha256_of(key))
    response = send_file(photo_store().open(key), mimetype=media_type, conditional=False,
                         etag=False)
    response.headers.update(IMAGE_HEADERS)
    return response


@blp.route("/photos/<int:photo_id>/original")
class PhotoOriginalViews(MethodView):
    @blp.login_required()
    @blp.etag
    @blp.response(200, BINARY, content_type=JPEG,
                  description="The original: full resolution, no GPS or other private metadata")
    @blp.doc(responses={200: {"content": _IMAGE_CONTENT}})
    def get(self, photo_id):
        """The original photo (JPEG, PNG or WebP; a HEIC upload is kept as JPEG)"""
        photo = photo_or_404(photo_id)
        return image_response(photo.original_key, photo.media_type)


def derivative_response(key: str | None):
    """A preview or thumbnail; 202 with Retry-After while its job has not made it yet
    (with no ETag: nothing to revalidate in an answer that will change)."""
    if key is None:
        wait = current_app.config["DERIVATIVES_RETRY_AFTER_S"]
        response = jsonify(derivatives="pending", retry_after=wait)
        response.status_code = 202
        response.headers.update({"Retry-After": str(wait), "Cache-Control": "no-store"})
        abort(response)
    return image_response(key, JPEG)


_PENDING = {"description": "Not made yet (`derivatives: pending`, seconds after the upload): "
            "ask again after `Retry-After` seconds.",
            "content": {"application/json": {"schema": DerivativesPendingSchema}},
            "headers": {"Retry-After": {"schema": {"type": "integer"}}}}


@blp.route("/photos/<int:photo_id>/preview")
class PhotoPreviewViews(MethodView):
    @blp.login_required()
    @blp.etag
    @blp.response(200, BINARY, content_type=JPEG, description="1280 px on the long side, upright")
    @blp.doc(responses={202: _PENDING})
    def get(self, photo_id):
        """The preview (JPEG)"""
        return derivative_response(photo_or_404(photo_id).preview_key)


@blp.route("/photos/<int:photo_id>/thumbnail")
class PhotoThumbnailViews(MethodView):
    @blp.login_required()
    @blp.etag
    @blp.response(200, BINARY, content_type=JPEG, description="320 px on the long side, upright")
    @blp.doc(responses={202: _PENDING})
    def get(self, photo_id):
        """The thumbnail (JPEG)"""
        return derivative_response(photo_or_404(photo_id).thumbnail_key)
