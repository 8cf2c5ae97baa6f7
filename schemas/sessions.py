"""Schemas of logged sessions, the projected schedule and check-ins."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from domain.devices import NEEDLE_LENGTH_MM
from domain.photos import STANDARD_AREAS
from domain.sessions import DURATION_RANGE, PAIN_RANGE, SIDE_EFFECTS, needs_doctor
from schemas.common import (
    Itself,
    PageSchema,
    PatchSchema,
    RowId,
    StrictBoolean,
    StrictSchema,
    Timestamp,
)
from schemas.flags import FlagSchema
from services.sessions import DONE, PROJECTED, SessionRecord


class CocktailSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    ingredients = fields.List(fields.String(validate=validate.Length(min=1, max=100)),
                              load_default=list, validate=validate.Length(max=30))


class PreCheckSchema(StrictSchema):
    """Asked again before every session (DOMAIN.md section 2): a missing answer is "no"."""

    acute_infection = StrictBoolean()
    scalp_damage = StrictBoolean()
    scalp_inflammation = StrictBoolean()
    chronic_disease_flare = StrictBoolean()


def _codes(allowed):
    return fields.List(fields.String(validate=validate.OneOf(allowed)), load_default=list,
                       validate=validate.Length(max=len(allowed)))


class SessionInputSchema(StrictSchema):
    """The fields a person records about a session (every one optional on PATCH)."""

    performed_at = Timestamp()
    device_id = RowId(allow_none=True)
    needle_length_mm = fields.Float(validate=validate.Range(*NEEDLE_LENGTH_MM), allow_nan=False)
    duration_minutes = fields.Integer(allow_none=True, strict=True,
                                      validate=validate.Range(*DURATION_RANGE))
    pain_score = fields.Integer(allow_none=True, strict=True, validate=validate.Range(*PAIN_RANGE))
    cocktail = fields.Nested(CocktailSchema, allow_none=True)
    areas = _codes(STANDARD_AREAS)
    side_effects = _codes(SIDE_EFFECTS)
    device_disinfected = StrictBoolean(allow_none=True)
    new_cartridge = StrictBoolean(allow_none=True)
    device_sterilized = StrictBoolean(allow_none=True, metadata={
        "description": "A clinic's roller was sterilized before this session"})
    pre_check = fields.Nested(PreCheckSchema, allow_none=True, metadata={
        "description": "The pre-session check as answered; a 'yes' warns and flags"})
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))


class SessionCreateSchema(SessionInputSchema):
    performed_at = Timestamp(required=True)


class SessionUpdateSchema(SessionInputSchema, PatchSchema):
    areas = fields.List(fields.String(validate=validate.OneOf(STANDARD_AREAS)),
                        validate=validate.Length(max=len(STANDARD_AREAS)))
    side_effects = fields.List(fields.String(validate=validate.OneOf(SIDE_EFFECTS)),
                               validate=validate.Length(max=len(SIDE_EFFECTS)))


class SessionSchema(ma.Schema):
    """A done session (`services.sessions.SessionRecord`): its row, number, window and warnings."""

    id = fields.Integer(attribute="row.id")
    course_id = fields.Integer(attribute="row.course_id")
    number = fields.Integer()
    phase = fields.String()
    performed_at = fields.AwareDateTime()
    device_id = fields.Integer(attribute="row.device_id", allow_none=True)
    needle_length_mm = fields.Float(attribute="row.needle_length_mm")
    duration_minutes = fields.Integer(attribute="row.duration_minutes", allow_none=True)
    pain_score = fields.Integer(attribute="row.pain_score", allow_none=True)
    cocktail = fields.Nested(CocktailSchema, attribute="row.cocktail", allow_none=True)
    areas = fields.List(fields.String(), attribute="row.areas")
    side_effects = fields.List(fields.String(), attribute="row.side_effects")
    device_disinfected = StrictBoolean(attribute="row.device_disinfected", allow_none=True)
    new_cartridge = StrictBoolean(attribute="row.new_cartridge", allow_none=True)
    device_sterilized = StrictBoolean(attribute="row.device_sterilized", allow_none=True)
    pre_check = fields.Nested(PreCheckSchema, attribute="row.pre_check", allow_none=True)
    notes = fields.String(attribute="row.notes", allow_none=True)
    earliest = fields.Date(metadata={"description": "The on-time window this session had"})
    due = fields.Date()
    latest = fields.Date()
    timing = fields.String(metadata={"enum": ["early", "on_time", "late"]})
    warnings = fields.List(fields.String())
    check_in = fields.Nested("CheckInSchema", allow_none=True,
                             metadata={"description": "The session's check-in, once answered"})
    flags = fields.List(fields.Nested(FlagSchema), metadata={
        "description": "The consult_doctor flags this session raised, open and lowered"})


class SessionLoggedSchema(ma.Schema):
    session = Itself(SessionSchema, required=True)
    warnings = fields.List(fields.String(), required=True)


class ProjectedSessionSchema(ma.Schema):
    """A session still to come (`domain.schedule.SessionWindow`): its number and window."""

    number = fields.Integer()
    phase = fields.String()
    earliest = fields.Date()
    due = fields.Date()
    latest = fields.Date()


class ScheduleState(fields.String):
    """Whether a schedule item is a done session or one still to come."""

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return DONE if isinstance(obj, SessionRecord) else PROJECTED


class ScheduleItemSchema(SessionSchema):
    """A done session (`state: done`) or a projected one (`state: projected`, no id)."""

    state = ScheduleState(metadata={"enum": [DONE, PROJECTED]})


class SchedulePageSchema(PageSchema):
    items = fields.List(fields.Nested(ScheduleItemSchema), required=True)


class CheckInCreateSchema(StrictSchema):
    redness_persists = StrictBoolean(required=True)
    swelling_persists = StrictBoolean(required=True)
    infection_signs = StrictBoolean(required=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class CheckInUpdateSchema(CheckInCreateSchema, PatchSchema):
    redness_persists = StrictBoolean()
    swelling_persists = StrictBoolean()
    infection_signs = StrictBoolean()


class CheckInSchema(ma.Schema):
    id = fields.Integer()
    session_id = fields.Integer()
    redness_persists = StrictBoolean()
    swelling_persists = StrictBoolean()
    infection_signs = StrictBoolean()
    note = fields.String(allow_none=True)
    consult_doctor = fields.Function(
        lambda entry: needs_doctor(entry.redness_persists, entry.swelling_persists,
                                   entry.infection_signs),
        metadata={"type": "boolean", "description": "This check-in flags the patient for a doctor"},
    )
    created_at = fields.AwareDateTime()


class ReadinessCheckSchema(StrictSchema):
    pre_check = fields.Nested(PreCheckSchema, required=True)
    device_id = RowId(allow_none=True, metadata={"description": "the device about to be used"})
    needle_length_mm = fields.Float(validate=validate.Range(*NEEDLE_LENGTH_MM), allow_nan=False,
                                    metadata={"description": "default: the device's"})


class BlockerSchema(ma.Schema):
    code = fields.String()
    detail = fields.String()


class ReadinessAnswerSchema(ma.Schema):
    go = fields.Boolean(required=True)
    blockers = fields.List(fields.Nested(BlockerSchema), required=True, metadata={
        "description": "Why not today: course not active, safety interval, a pre-check 'yes', "
                       "an open consult_doctor flag, a worn out, expired or retired device"})
    cautions = fields.List(fields.String(), required=True, metadata={
        "description": "What the session would be warned about"})
    next_session = fields.Nested("NextSessionSchema", allow_none=True)
