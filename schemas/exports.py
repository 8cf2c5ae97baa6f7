"""Schemas of exports: the time-lapse query and the FHIR bundle's outline."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from domain.photos import STANDARD_AREAS
from schemas.common import StrictSchema
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
