"""Progress photos: upload (the same bytes twice make one photo), list, timeline, files, compare."""

from __future__ import annotations

from datetime import timedelta, timezone

from flask import Response, send_file, url_for
from flask.views import MethodView

from services import photos as album
from api.access import course_or_404, photo_or_404, visible_patient
from api.access_log import note_read
from api.auth import PATIENT, current_user, login_required
from api.blueprint import Blueprint
from api.database import db
from api.idempotency import idempotent_create
from schemas.photos import (
    BINARY,
    CompareArgsSchema,
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
from storage import photo_records
from storage.blobs import sha256_of
from services.images.pipeline import JPEG, PNG, WEBP
from storage.models import Photo
from storage.photo_records import PhotoFilter

blp = Blueprint("photos", __name__, url_prefix="/api/v1",
                description="Progress photos: upload, list by area and date, files, compare.")

# Image bytes are the patient's: no shared cache keeps them, every reuse is
# revalidated (a revoked clinician gets a 404, not a cached copy), and no
# browser guesses another type than the one sent.
IMAGE_HEADERS = {"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"}
_IMAGE_CONTENT = {media_type: {"schema": BINARY} for media_type in (JPEG, PNG, WEBP)}


def photo_body(photo: Photo) -> dict:
    offset = timezone(timedelta(minutes=photo.taken_at_offset_minutes))
    return {
        **{name: getattr(photo, name) for name in _STORED_FIELDS},
        "taken_at": photo.taken_at.astimezone(offset),
        "sha256": photo.upload_sha256,
        "urls": {name: url_for(f"photos.Photo{name.title()}Views", photo_id=photo.id)
                 for name in ("original", "preview", "thumbnail")},
    }


_STORED_FIELDS = ("id", "patient_id", "course_id", "session_id", "area", "taken_at_source", "note",
                  "media_type", "width", "height", "byte_size", "quality_warnings", "created_at")


@blp.route("/photos")
class PhotoViews(MethodView):
    @login_required()
    @blp.arguments(PhotoQueryArgsSchema, location="query")
    @blp.response(200, PhotoPageSchema)
    def get(self, args):
        """Photos of the caller (a clinician: of linked patients), newest taken first"""
        limit, after = args.pop("limit"), args.pop("cursor", None)
        rows = photo_records.photo_page(db(), visible_patient(Photo.patient_id),
                                        PhotoFilter(**args), after, limit)
        page = rows[:limit]
        for photo in page:
            note_read(photo.patient_id, "photo", photo.id)
        more = len(rows) > limit
        return {"items": [photo_body(photo) for photo in page],
                "next_cursor": [page[-1].taken_at.isoformat(), page[-1].id] if more else None}

    @login_required(PATIENT)
    @idempotent_create
    @blp.arguments(PhotoUploadSchema, location="multipart")
    @blp.response(201, PhotoSchema)
    @blp.alt_response(200, schema=PhotoSchema,
                      description="These bytes were uploaded before: that photo, unchanged")
    def post(self, data):
        """Upload a photo (JPEG, PNG, WebP, HEIC); metadata is stripped, orientation applied"""
        upload = data.pop("file")
        photo, created = album.add_photo(db(), album.blob_store(), current_user(), upload.read(),
                                         data)
        return photo_body(photo), 201 if created else 200


@blp.route("/photos/check")
class PhotoCheckViews(MethodView):
    @login_required(PATIENT)
    @blp.arguments(PhotoCheckSchema)
    @blp.response(200, PhotoCheckResultSchema)
    def post(self, data):
        """Which of these SHA-256 hashes of files the server already has (upload only the rest)"""
        hashes = list(dict.fromkeys(value.lower() for value in data["sha256"]))
        known = photo_records.photo_ids_by_upload(db(), current_user().id, hashes)
        return {"known": [{"sha256": value, "photo_id": known[value]}
                          for value in hashes if value in known],
                "missing": [value for value in hashes if value not in known]}


@blp.route("/photos/timeline")
class PhotoTimelineViews(MethodView):
    @login_required()
    @blp.arguments(TimelineArgsSchema, location="query")
    @blp.response(200, TimelineSchema)
    def get(self, args):
        """How many photos per week or month and area, newest period first"""
        bucket = args.pop("bucket")
        rows = photo_records.capture_times(db(), visible_patient(Photo.patient_id),
                                           PhotoFilter(**args))
        return {"bucket": bucket, "items": album.timeline(rows, bucket)}


@blp.route("/photos/<int:photo_id>")
class PhotoByIdViews(MethodView):
    @login_required()
    @blp.etag
    @blp.response(200, PhotoSchema)
    def get(self, photo_id):
        """One photo's metadata"""
        return photo_body(photo_or_404(photo_id))

    @login_required(PATIENT)
    @blp.arguments(PhotoUpdateSchema)
    @blp.response(200, PhotoSchema)
    def patch(self, data, photo_id):
        """Correct the area or note, or link the photo to a session of its course"""
        photo = photo_or_404(photo_id)
        album.correct_photo(db(), photo, data)
        db().commit()
        return photo_body(photo)

    @login_required(PATIENT)
    @blp.response(204)
    def delete(self, photo_id):
        """Delete a photo and every stored file of it"""
        album.delete_photo(db(), album.blob_store(), photo_or_404(photo_id))


def _image(key: str, media_type: str) -> Response:
    blp.set_etag(sha256_of(key))
    response = send_file(album.blob_store().open(key), mimetype=media_type, conditional=False,
                         etag=False)
    response.headers.update(IMAGE_HEADERS)
    return response


@blp.route("/photos/<int:photo_id>/original")
class PhotoOriginalViews(MethodView):
    @login_required()
    @blp.etag
    @blp.response(200, BINARY, content_type=JPEG,
                  description="The original: full resolution, no GPS or other private metadata")
    @blp.doc(responses={200: {"content": _IMAGE_CONTENT}})
    def get(self, photo_id):
        """The original photo (JPEG, PNG or WebP; a HEIC upload is kept as JPEG)"""
        photo = photo_or_404(photo_id)
        return _image(photo.original_key, photo.media_type)


@blp.route("/photos/<int:photo_id>/preview")
class PhotoPreviewViews(MethodView):
    @login_required()
    @blp.etag
    @blp.response(200, BINARY, content_type=JPEG, description="1280 px on the long side, upright")
    def get(self, photo_id):
        """The preview (JPEG)"""
        return _image(photo_or_404(photo_id).preview_key, JPEG)


@blp.route("/photos/<int:photo_id>/thumbnail")
class PhotoThumbnailViews(MethodView):
    @login_required()
    @blp.etag
    @blp.response(200, BINARY, content_type=JPEG, description="320 px on the long side, upright")
    def get(self, photo_id):
        """The thumbnail (JPEG)"""
        return _image(photo_or_404(photo_id).thumbnail_key, JPEG)


@blp.route("/courses/<int:course_id>/compare")
class CompareViews(MethodView):
    @login_required()
    @blp.etag
    @blp.arguments(CompareArgsSchema, location="query")
    @blp.response(200, BINARY, content_type=JPEG,
                  description="Two photos side by side at the same height, dated and numbered")
    def get(self, args, course_id):
        """Two photos of an area side by side: by default the baseline and the latest"""
        course = course_or_404(course_id, reading="photos")
        comparison = album.comparison(db(), course, args["area"], args.get("before"),
                                      args.get("after"))
        blp.set_etag(comparison.tag)
        response = Response(album.render(album.blob_store(), comparison), mimetype=JPEG)
        response.headers.update(IMAGE_HEADERS)
        return response
