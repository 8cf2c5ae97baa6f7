"""Exports: a course as ZIP, PDF timeline, time-lapse or FHIR bundle (owner and linked
clinicians), and everything about me as a ZIP (the patient).

Every course export looks the course up through `course_or_404(..., reading="export")`,
so a clinician's export is in the patient's access log before a byte leaves.

fpdf2 and fhir.resources (about 35 MB together) are imported by the first
request that needs them, so a worker that never makes a PDF or a FHIR bundle
does not carry them.
"""

from __future__ import annotations

from flask import Response, current_app, json, url_for
from flask.views import MethodView

from api.access import course_or_404
from api.auth import current_user
from api.blueprint import Blueprint
from api.database import db, photo_store
from domain.errors import RuleViolation
from domain.roles import PATIENT
from schemas.exports import GIF, WEBP, FhirBundleSchema, TimelapseArgsSchema
from schemas.photos import BINARY
from services.exports.account_zip import account_members
from services.exports.course_data import load_course_export
from services.exports.course_zip import course_members
from services.exports.timelapse import timelapse
from services.exports.zip_stream import stream_zip

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
