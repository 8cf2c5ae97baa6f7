"""Exports: a course as ZIP, PDF timeline, time-lapse or FHIR bundle (owner and linked
clinicians), and everything about me as a ZIP (the patient). A course's ZIP or PDF can
also be made by a worker (`POST /courses/{id}/exports`), to download when it is done.

Every course export looks the course up through `course_or_404(..., reading="export")`,
so a clinician's export is in the patient's access log before a byte leaves.

fpdf2 and fhir.resources (about 35 MB together) are imported by the first
request that needs them, so a worker that never makes a PDF or a FHIR bundle
does not carry them.
"""

from __future__ import annotations

from flask import Response, current_app, json, jsonify, send_file, url_for
from flask.views import MethodView
from flask_smorest import abort

from api.access import course_or_404
from api.auth import current_user
from api.blueprint import Blueprint
from api.database import db, photo_store
from domain.errors import RuleViolation
from domain.roles import PATIENT
from schemas.exports import (
    GIF,
    WEBP,
    ExportJobSchema,
    ExportRequestSchema,
    FhirBundleSchema,
    TimelapseArgsSchema,
)
from schemas.photos import BINARY
from services.exports import background
from services.exports.account_zip import account_members
from services.exports.course_data import load_course_export
from services.exports.course_zip import course_members
from services.exports.timelapse import timelapse
from services.exports.zip_stream import stream_zip
from storage.models import Job

blp = Blueprint("exports", __name__, url_prefix="/api/v1",
                description="A course taken out: ZIP, PDF timeline, time-lapse, FHIR R4 bundle; "
                            "and all my data.")

ZIP, PDF, FHIR_JSON = "application/zip", "application/pdf", "application/fhir+json"
ANIMATION_TYPES = {GIF: "image/gif", WEBP: "image/webp"}
READING = "export"


def attachment(body, media_type: str, file_name: str) -> Response:
    """A download: saved under `file_name`, kept by no shared cache."""
    response = Response(body, mimetype=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route("/courses/<int:course_id>/export.zip")
class CourseZipViews(MethodView):
    @blp.login_required()
    @blp.response(200, BINARY, content_type=ZIP, description=(
        "manifest.json (with the SHA-256 of every file), sessions.csv, observations.csv and "
        "photos/<area>/<date>_s<session>.jpg; streamed while it is written"))
    def get(self, course_id):
        """The whole course as a ZIP: photos by area and date, manifest, CSV tables"""
        export = load_course_export(db(), course_or_404(course_id, reading=READING))
        return attachment(stream_zip(course_members(export), photo_store()), ZIP,
                          f"course-{course_id}.zip")


@blp.route("/courses/<int:course_id>/export.pdf")
class CoursePdfViews(MethodView):
    @blp.login_required()
    @blp.response(200, BINARY, content_type=PDF, description=(
        "A4: a cover with the course summary, a photo grid per area with dates and session "
        "numbers, charts of hair count and shedding, the sessions table"))
    def get(self, course_id):
        """The photo timeline as a PDF to print or show a doctor"""
        from services.exports.timeline_pdf import PdfFonts, timeline_pdf

        export = load_course_export(db(), course_or_404(course_id, reading=READING))
        fonts = PdfFonts(current_app.config["PDF_FONT"], current_app.config["PDF_BOLD_FONT"])
        return attachment(timeline_pdf(export, photo_store(), fonts), PDF,
                          f"course-{course_id}.pdf")


@blp.route("/courses/<int:course_id>/timelapse.gif")
class TimelapseViews(MethodView):
    @blp.login_required()
    @blp.arguments(TimelapseArgsSchema, location="query")
    @blp.response(200, BINARY, content_type=ANIMATION_TYPES[GIF], description=(
        "The area's photos oldest first, one size, each captioned with its date and session; "
        "loops (image/webp with ?format=webp)"))
    @blp.doc(responses={200: {"content": {media_type: {"schema": BINARY}
                                          for media_type in ANIMATION_TYPES.values()}}})
    def get(self, args, course_id):
        """A time-lapse of one scalp area (422 without photos of it)"""
        export = load_course_export(db(), course_or_404(course_id, reading=READING))
        photos = export.photos_of(args["area"])
        if not photos:
            raise RuleViolation("The course has no photo of this area.", "area")
        return attachment(timelapse(photos, photo_store(), args["format"]),
                          ANIMATION_TYPES[args["format"]],
                          f"course-{course_id}-{args['area']}.{args['format']}")


@blp.route("/courses/<int:course_id>/fhir")
class FhirViews(MethodView):
    @blp.login_required()
    @blp.response(200, FhirBundleSchema, content_type=FHIR_JSON, description=(
        "A FHIR R4 Bundle (collection): Patient, CarePlan, Procedure per session, Media per "
        "photo, Observation per measurement, Consent per clinician link"))
    def get(self, course_id):
        """The course as a FHIR R4 Bundle, for import into a health record"""
        from services.exports.fhir_bundle import course_bundle

        export = load_course_export(db(), course_or_404(course_id, reading=READING))
        bundle = course_bundle(export, lambda photo_id: url_for(
            "photos.PhotoOriginalViews", photo_id=photo_id, _external=True))
        response = Response(json.dumps(bundle), mimetype=FHIR_JSON)
        response.headers["Cache-Control"] = "private, no-store"
        return response


@blp.route("/me/export")
class MyDataView(MethodView):
    @blp.login_required(PATIENT)
    @blp.response(200, BINARY, content_type=ZIP, description=(
        "manifest.json (the SHA-256 of every file), data/<table>.json with every row that "
        "refers to me, photos/<id>.<ext> (the originals); streamed while it is written"))
    def get(self):
        """Everything about me as a ZIP: my rows in every table as JSON, my original photos"""
        user = current_user()
        return attachment(stream_zip(account_members(db(), user), photo_store()), ZIP,
                          f"scalpcourse-account-{user.id}.zip")


@blp.route("/courses/<int:course_id>/exports")
class CourseExportJobsViews(MethodView):
    @blp.login_required()
    @blp.arguments(ExportRequestSchema)
    @blp.response(202, ExportJobSchema, description=(
        "Made by a worker: follow `Location` (or `urls.self`) until `status` is done, then "
        "download `urls.download` (kept 24 hours)"))
    def post(self, data, course_id):
        """Have a course's ZIP or PDF made in the background, with its progress"""
        course = course_or_404(course_id, reading=READING)
        job = background.request(db(), course, current_user().id, data["format"])
        db().commit()
        return job, 202, {"Location": url_for("exports.ExportJobViews", export_id=job.id),
                          "Retry-After": "2"}


def export_job_or_404(export_id: int) -> Job:
    """An export job the caller asked for, of a course they may still see; else a 404."""
    job = db().get(Job, export_id)
    if job is None or job.kind not in background.KIND_FORMATS or \
            job.requested_by_id != current_user().id:
        abort(404, message="No such export.")
    course_or_404(job.subject_id, reading=READING)
    return job


@blp.route("/exports/<int:export_id>")
class ExportJobViews(MethodView):
    @blp.login_required()
    @blp.response(200, ExportJobSchema)
    def get(self, export_id):
        """How far an export is (only its requester sees it)"""
        return export_job_or_404(export_id)


@blp.route("/exports/<int:export_id>/file")
class ExportFileViews(MethodView):
    @blp.login_required()
    @blp.response(200, BINARY, content_type=ZIP, description="The export, once done")
    @blp.doc(responses={
        200: {"content": {ZIP: {"schema": BINARY}, PDF: {"schema": BINARY}}},
        202: {"description": "Not done yet: ask again after `Retry-After` seconds",
              "headers": {"Retry-After": {"schema": {"type": "integer"}}}}})
    @blp.alt_response(409, "CONFLICT", description="The export failed, or its file expired")
    def get(self, export_id):
        """Download a finished export"""
        job = export_job_or_404(export_id)
        if job.status in ("queued", "running"):
            response = jsonify(status=job.status, progress=job.progress)
            response.status_code = 202
            response.headers.update({"Retry-After": "2", "Cache-Control": "no-store"})
            abort(response)
        if job.status == "failed":
            abort(409, message="The export failed; ask for a new one.")
        if job.result_key is None:
            abort(409, message="The export's file has expired; ask for a new one.")
        export_format = background.export_format(job)
        response = send_file(photo_store().open(job.result_key),
                             mimetype=ZIP if export_format == "zip" else PDF, conditional=False,
                             etag=False)
        response.headers["Content-Disposition"] = (
            f'attachment; filename="course-{job.subject_id}.{export_format}"')
        response.headers["Cache-Control"] = "private, no-store"
        return response
