"""Schemas of courses, their clearance and the course status (the mobile home screen)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from domain.course import ON_HOLD, REQUESTABLE_STATUSES, STATUSES
from domain.regimen import INTENSIVE, PHASE_SIZES, REGIMENS, SETTINGS
from domain.screening import CONDITIONS
from schemas.common import PageSchema, StrictBoolean, StrictSchema, validate_not_blank
from schemas.flags import OpenFlagSchema
from schemas.sessions import ProjectedSessionSchema

ScreeningSchema = StrictSchema.from_dict(
    {condition: StrictBoolean() for condition in CONDITIONS}, name="ScreeningSchema"
)
ScreeningSchema.__doc__ = "Contraindication answers; a missing key means no (DOMAIN.md section 2)."


class CourseCreateSchema(StrictSchema):
    regimen = fields.String(required=True, validate=validate.OneOf(REGIMENS))
    setting = fields.String(required=True, validate=validate.OneOf(SETTINGS))
    start_date = fields.Date(required=True)
    screening = fields.Nested(ScreeningSchema, load_default=dict)
    concurrent_therapies = fields.List(
        fields.String(validate=[validate.Length(min=1, max=100), validate_not_blank]),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={"example": ["minoxidil"]},
    )
    weekly_sessions = fields.Integer(validate=validate.OneOf(PHASE_SIZES))
    biweekly_sessions = fields.Integer(validate=validate.OneOf(PHASE_SIZES))

    @ma.validates_schema
    def phase_sizes_only_for_intensive(self, data, **kwargs):
        if data.get("regimen") != INTENSIVE:
            for name in ("weekly_sessions", "biweekly_sessions"):
                if name in data:
                    raise ma.ValidationError("Only an intensive course has phase sizes.", name)


class ClearanceSchema(ma.Schema):
    note = fields.String(dump_only=True)
    cleared_at = fields.AwareDateTime(dump_only=True)
    cleared_by = fields.Integer(dump_only=True, metadata={"description": "user id"})


class ClinicalHoldSchema(ma.Schema):
    note = fields.String(dump_only=True)
    held_at = fields.AwareDateTime(dump_only=True)
    held_by = fields.Integer(dump_only=True, metadata={"description": "user id"})


class CourseSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    patient_id = fields.Integer(dump_only=True)
    regimen = fields.String(dump_only=True)
    setting = fields.String(dump_only=True)
    start_date = fields.Date(dump_only=True)
    screening = fields.Nested(ScreeningSchema, dump_only=True)
    concurrent_therapies = fields.List(fields.String(), dump_only=True)
    weekly_sessions = fields.Integer(dump_only=True, allow_none=True)
    biweekly_sessions = fields.Integer(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, metadata={"enum": list(STATUSES)})
    hold_reasons = fields.List(fields.String(), dump_only=True)
    clearance = fields.Nested(ClearanceSchema, dump_only=True, allow_none=True)
    clinical_hold = fields.Nested(ClinicalHoldSchema, dump_only=True, allow_none=True, metadata={
        "description": "A linked clinician's hold, while it lasts"})
    created_at = fields.AwareDateTime(dump_only=True)

    @ma.post_dump(pass_original=True)
    def add_clearance(self, data, course, **kwargs):
        """The attestation or clinician clearance that lifted the hold, if any."""
        data["clearance"] = None if course.cleared_at is None else ClearanceSchema().dump(
            {"note": course.clearance_note, "cleared_at": course.cleared_at,
             "cleared_by": course.cleared_by_id}
        )
        held = course.held_at is not None and not course.hold_cleared
        data["clinical_hold"] = ClinicalHoldSchema().dump(
            {"note": course.hold_note, "held_at": course.held_at,
             "held_by": course.held_by_id}) if held else None
        return data


class CoursePageSchema(PageSchema):
    items = fields.List(fields.Nested(CourseSchema), required=True)


class CourseUpdateSchema(StrictSchema):
    status = fields.String(required=True,
                           validate=validate.OneOf((*REQUESTABLE_STATUSES, ON_HOLD)), metadata={
                               "description": "on_hold: a linked clinician's hold, with a note"})
    note = fields.String(validate=[validate.Length(min=1, max=2000), validate_not_blank],
                         metadata={"description": "why the course is put on hold"})

    @ma.validates_schema
    def a_hold_says_why(self, data, **kwargs):
        if data.get("status") == ON_HOLD and not data.get("note"):
            raise ma.ValidationError("A hold needs a note saying why.", "note")


class ClearanceRequestSchema(StrictSchema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                         metadata={"example": "Dr. Weber confirmed my diabetes is well controlled."})


class NextSessionSchema(ProjectedSessionSchema):
    """The next session's window (`domain.schedule.NextSession`) and where today falls in it."""

    state = fields.String(metadata={"enum": ["too_early", "due", "overdue"]})
    days_overdue = fields.Integer()


class AftercareSchema(ma.Schema):
    activity = fields.String()
    allowed_from = fields.AwareDateTime()


class PhotosDueSchema(ma.Schema):
    milestone = fields.String()
    areas = fields.List(fields.String())

    @ma.pre_dump
    def from_pair(self, due, **kwargs):
        """The status carries the photos due as (milestone, areas)."""
        milestone, areas = due
        return {"milestone": milestone, "areas": areas}


class DeviceWearSchema(ma.Schema):
    id = fields.Integer()
    uses = fields.Integer()
    max_uses = fields.Integer(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    warnings = fields.List(fields.String())

    @ma.pre_dump
    def from_pair(self, device, **kwargs):
        """The status carries the device as (id, its wear)."""
        device_id, wear = device
        return {"id": device_id, "uses": wear.uses, "max_uses": wear.max_uses,
                "expires_on": wear.expires_on, "warnings": list(wear.warnings)}


class AdherenceSchema(ma.Schema):
    on_time = fields.Integer()
    late = fields.Integer()
    early = fields.Integer()
    percent_on_time = fields.Integer(allow_none=True)


class ProgressSchema(ma.Schema):
    area = fields.String(allow_none=True)
    kind = fields.String()
    baseline = fields.Float()
    latest = fields.Float()
    change_percent = fields.Float(allow_none=True)


class HoldClearanceSchema(ma.Schema):
    reason = fields.String()
    cleared_by = fields.String(metadata={"enum": ["clinician", "patient_or_clinician"]})


class CheckInWindowSchema(ma.Schema):
    session_id = fields.Integer()
    opens_at = fields.AwareDateTime()
    closes_at = fields.AwareDateTime()
    done = StrictBoolean()


class CourseStatusSchema(ma.Schema):
    class Meta:
        # Generators call the enum of Course.status "CourseStatus" already.
        component_name = "CourseStatusReport"

    course_id = fields.Integer()
    regimen = fields.String()
    status = fields.String()
    phase = fields.String()
    sessions_done = fields.Integer()
    sessions_planned = fields.Integer()
    next_session = fields.Nested(NextSessionSchema, allow_none=True)
    aftercare = fields.List(fields.Nested(AftercareSchema),
                            metadata={"description": "Only activities still restricted, with when they are allowed again"})
    results_expected = StrictBoolean()
    photos_due = fields.Nested(PhotosDueSchema, allow_none=True)
    device = fields.Nested(DeviceWearSchema, allow_none=True)
    adherence = fields.Nested(AdherenceSchema)
    hold_reasons = fields.List(fields.String())
    flags = fields.List(fields.String())
    check_in_due = fields.AwareDateTime(allow_none=True,
                                        metadata={"description": "When the 24 h check-in of the latest session is due, while it is missing"})
    progress = fields.List(fields.Nested(ProgressSchema))
    hold_clearance = fields.List(fields.Nested(HoldClearanceSchema), metadata={
        "description": "While on hold: who may clear each reason"})
    open_flags = fields.List(fields.Nested(OpenFlagSchema), metadata={
        "description": "Each open consult_doctor flag with the session that raised it and why"})
    check_in = fields.Nested(CheckInWindowSchema, allow_none=True, metadata={
        "description": "The last session's check-in window and whether it was answered"})
    projected_end = fields.Date(allow_none=True, metadata={
        "description": "The due date of the last session of the active phases (the day it "
                       "was done, once done)"})
