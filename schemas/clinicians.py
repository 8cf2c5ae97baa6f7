"""Schemas of the clinician's side: the triage list and a linked patient's summary."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import Cursor, PageArgsSchema, PageSchema
from schemas.courses import CourseSchema, NextSessionSchema
from schemas.flags import OpenFlagSchema
from schemas.shares import ShareSchema


def QueryBoolean(**kwargs) -> fields.Boolean:
    """A query-string boolean: `true`/`false` (or 1/0)."""
    return fields.Boolean(truthy={"true", "1"}, falsy={"false", "0"}, **kwargs)


URGENCY = ["consult_doctor", "on_hold", "overdue", "device", "photos_due"]


class TriageArgsSchema(PageArgsSchema):
    # The urgency key of the last row: flag, hold, overdue since, device, photos, patient.
    cursor = Cursor(shape=(int, int, str, int, int, int),
                    metadata={"type": "string", "description": "next_cursor of the previous page"})
    flag = fields.String(validate=validate.OneOf(["consult_doctor"]),
                         metadata={"description": "only patients with this open flag"})
    overdue = QueryBoolean(metadata={"description": "only overdue (true) or not overdue (false)"})
    on_hold = QueryBoolean(metadata={"description": "only courses on hold (true) or not (false)"})
    q = fields.String(validate=validate.Length(min=1, max=100),
                      metadata={"description": "part of the patient's name"})


class TriageItemSchema(ma.Schema):
    patient_id = fields.Integer()
    display_name = fields.String()
    linked_at = fields.AwareDateTime()
    course_id = fields.Integer(allow_none=True)
    course_status = fields.String(allow_none=True)
    phase = fields.String(allow_none=True)
    sessions_done = fields.Integer()
    sessions_planned = fields.Integer(allow_none=True)
    next_session = fields.Nested(NextSessionSchema, allow_none=True)
    days_overdue = fields.Integer()
    flags = fields.List(fields.String())
    open_flags = fields.List(fields.Nested(OpenFlagSchema), metadata={
        "description": "Each open flag with the session that raised it and why"})
    hold_reasons = fields.List(fields.String())
    device_warnings = fields.List(fields.String())
    photos_due = fields.List(fields.String())
    last_activity_at = fields.AwareDateTime(allow_none=True)
    hair_count_change_percent = fields.Float(allow_none=True)
    urgency = fields.List(fields.String(), metadata={
        "description": f"Why this patient is where they are, most urgent first: {', '.join(URGENCY)}"})


class TriagePageSchema(PageSchema):
    items = fields.List(fields.Nested(TriageItemSchema), required=True)


class LinkSchema(ShareSchema):
    patient = fields.Nested("PatientRefSchema")


class PatientRefSchema(ma.Schema):
    id = fields.Integer()
    display_name = fields.String()


class PatientSummarySchema(ma.Schema):
    """A linked patient (`services.clinicians.LinkedPatient`)."""

    patient_id = fields.Integer(attribute="patient.id")
    display_name = fields.String(attribute="patient.display_name")
    timezone = fields.String(attribute="patient.timezone")
    linked_at = fields.AwareDateTime()
    courses = fields.List(fields.Nested(CourseSchema))
