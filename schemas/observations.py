"""Schemas of measurements (DOMAIN.md section 6) and notes."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from domain.outcomes import OBSERVATION_KINDS
from domain.photos import STANDARD_AREAS
from schemas.access_log import PersonSchema
from schemas.common import (
    PageSchema,
    PatchSchema,
    StrictSchema,
    Timestamp,
    validate_not_blank,
)

VALUE_DOC = {"oneOf": [{"type": "number"}, {"type": "string"}],
             "description": "A number, or a stage for norwood_stage / ludwig_stage"}


class ObservationValue(fields.Field):
    """A number or a stage name; which one a kind takes is checked with the kind."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ma.ValidationError("Must be a number or a stage.")
        if isinstance(value, float) and value != value:
            raise ma.ValidationError("Must be a number or a stage.")
        return value


class ObservationCreateSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(OBSERVATION_KINDS))
    value = ObservationValue(required=True, metadata=VALUE_DOC)
    area = fields.String(allow_none=True, validate=validate.OneOf(STANDARD_AREAS))
    observed_at = Timestamp(metadata={"description": "default: now"})


class ObservationUpdateSchema(PatchSchema):
    """A correction: the value, the area or the date (the kind stays; record a new one)."""

    value = ObservationValue(metadata=VALUE_DOC)
    area = fields.String(allow_none=True, validate=validate.OneOf(STANDARD_AREAS))
    observed_at = Timestamp()


class ObservationWithdrawalSchema(StrictSchema):
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=2000),
                                                    validate_not_blank],
                           metadata={"example": "Counted on the wrong area."})


class WithdrawalSchema(ma.Schema):
    at = fields.AwareDateTime(attribute="withdrawn_at")
    by = fields.Integer(attribute="withdrawn_by_id", allow_none=True,
                        metadata={"description": "user id"})
    reason = fields.String(attribute="withdrawal_reason")


class ObservationSchema(ma.Schema):
    id = fields.Integer()
    course_id = fields.Integer()
    kind = fields.String()
    value = fields.Raw(metadata=VALUE_DOC)
    area = fields.String(allow_none=True)
    observed_at = fields.AwareDateTime()
    recorded_by = fields.Nested(PersonSchema, allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime(allow_none=True)
    withdrawn = fields.Function(lambda row: row.withdrawn_at is not None,
                                metadata={"type": "boolean"})
    withdrawal = fields.Nested(WithdrawalSchema, allow_none=True, metadata={
        "description": "When, by whom and why it was withdrawn; null while it counts"})

    @ma.post_dump(pass_original=True)
    def add_withdrawal(self, data, observation, **kwargs):
        data["withdrawal"] = (WithdrawalSchema().dump(observation)
                              if observation.withdrawn_at is not None else None)
        return data


class ObservationPageSchema(PageSchema):
    items = fields.List(fields.Nested(ObservationSchema), required=True)


class NoteCreateSchema(StrictSchema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class NoteUpdateSchema(PatchSchema):
    text = fields.String(validate=validate.Length(min=1, max=5000))


class NoteSchema(ma.Schema):
    id = fields.Integer()
    course_id = fields.Integer()
    text = fields.String()
    author = fields.Nested(PersonSchema)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class NotePageSchema(PageSchema):
    items = fields.List(fields.Nested(NoteSchema), required=True)
