"""Schemas of flags (DOMAIN.md section 4, v2): a session's `consult_doctor` and its lifecycle."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from domain.flags import RESOLUTION_NOTE_MAX, RESOLUTIONS, SOURCES
from schemas.common import (
    PageSchema,
    StrictSchema,
    validate_not_blank,
)


class ReasonSchema(ma.Schema):
    """Why a session is flagged: a side effect, a pre-check "yes" or a check-in answer."""

    source = fields.String(metadata={"enum": list(SOURCES)})
    code = fields.String(metadata={"description": "the side effect, pre-check condition or "
                                                  "check-in answer"})

    @ma.pre_dump
    def from_row(self, reason, **kwargs):
        """Rows keep reasons as dicts; the status as `domain.flags.Reason`."""
        return reason if isinstance(reason, dict) else {"source": reason.source,
                                                        "code": reason.code}


class FlagSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String(metadata={"enum": ["consult_doctor"]})
    course_id = fields.Integer()
    session_id = fields.Integer()
    raised_at = fields.AwareDateTime()
    reasons = fields.List(fields.Nested(ReasonSchema))
    open = fields.Boolean(attribute="is_open")
    resolved_at = fields.AwareDateTime(allow_none=True)
    resolution = fields.String(allow_none=True, metadata={
        "enum": [*RESOLUTIONS, None],
        "description": "check_in: the session's all-clear check-in; session_corrected: the "
                       "side effect or pre-check answer was corrected away; clinician: "
                       "resolved by a linked clinician with a note"})
    resolved_by = fields.Integer(attribute="resolved_by_id", allow_none=True,
                                 metadata={"description": "the resolving clinician's user id"})
    note = fields.String(allow_none=True)


class FlagPageSchema(PageSchema):
    items = fields.List(fields.Nested(FlagSchema), required=True)


class OpenFlagSchema(ma.Schema):
    """An open flag as the status and the triage list name it."""

    id = fields.Integer()
    session_id = fields.Integer()
    session_number = fields.Integer(allow_none=True)
    raised_at = fields.AwareDateTime()
    reasons = fields.List(fields.Nested(ReasonSchema))


class FlagResolutionSchema(StrictSchema):
    note = fields.String(required=True, validate=[
        validate.Length(min=1, max=RESOLUTION_NOTE_MAX), validate_not_blank],
        metadata={"example": "Seen today: healing well, no infection. Resume next week."})
