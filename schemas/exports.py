"""Schemas of exports: the time-lapse query, the FHIR bundle's outline, export jobs."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate

from domain.photos import STANDARD_AREAS
from schemas.common import Itself, Link, StrictSchema
from services.exports.background import EXPORT_TTL, KIND_FORMATS
from services.exports.timelapse import GIF, WEBP


class TimelapseArgsSchema(StrictSchema):
    area = fields.String(required=True, validate=validate.OneOf(STANDARD_AREAS))
    format = fields.String(load_default=GIF, validate=validate.OneOf((GIF, WEBP)),
                           metadata={"description": "gif (default) or webp"})


class FhirEntrySchema(ma.Schema):
    fullUrl = fields.String()
    resource = fields.Dict(required=True, metadata={
        "description": "A FHIR R4 resource: Patient, Practitioner, Device, CarePlan, Procedure, "
                       "Media, Observation or Consent"})


class FhirBundleSchema(ma.Schema):
    """A FHIR R4 Bundle of type `collection` (the resources themselves are FHIR's, not ours)."""

    resourceType = fields.String(required=True, metadata={"enum": ["Bundle"]})
    id = fields.String()
    type = fields.String(required=True, metadata={"enum": ["collection"]})
    timestamp = fields.String()
    entry = fields.List(fields.Nested(FhirEntrySchema))


class ExportRequestSchema(StrictSchema):
    format = fields.String(required=True, validate=validate.OneOf(("zip", "pdf")),
                           metadata={"description": "zip (photos, manifest, tables) or pdf "
                                                    "(the photo timeline)"})


class ExportJobUrlsSchema(ma.Schema):
    self = Link("exports.ExportJobViews", {"export_id": "id"})
    download = fields.Method("_download", allow_none=True, metadata={
        "description": "once `status` is done, until `expires_at`; null before and after"})

    def _download(self, job):
        if job.status != "done" or job.result_key is None:
            return None
        return url_for("exports.ExportFileViews", export_id=job.id)


class ExportJobSchema(ma.Schema):
    """An export being made by a worker; ask again until `status` is done (or failed)."""

    id = fields.Integer()
    course_id = fields.Integer(attribute="subject_id")
    format = fields.Function(lambda job: KIND_FORMATS[job.kind],
                             metadata={"enum": ["zip", "pdf"]})
    status = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    progress = fields.Integer(metadata={"description": "percent, 100 when done"})
    error = fields.Function(lambda job: job.error if job.status == "failed" else None,
                            allow_none=True,
                            metadata={"description": "why it failed (status failed only)"})
    created_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)
    expires_at = fields.Function(
        lambda job: (job.finished_at + EXPORT_TTL).isoformat()
        if job.status == "done" and job.finished_at else None,
        allow_none=True, metadata={"type": "string", "format": "date-time",
                                   "description": "when the download goes"})
    urls = Itself(ExportJobUrlsSchema)
