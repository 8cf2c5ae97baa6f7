"""Schemas of accounts: registration, tokens, the profile."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import PatchSchema, StrictSchema, validate_time_zone

PASSWORD = validate.Length(min=8, max=256)


class CredentialsInput(StrictSchema):
    """Input carrying an email: compared and stored trimmed and lower-cased."""

    @ma.pre_load
    def normalise_email(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            data = {**data, "email": data["email"].strip().lower()}
        return data


class UserSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    email = fields.Email(dump_only=True)
    display_name = fields.String(dump_only=True)
    timezone = fields.String(dump_only=True, metadata={"example": "Europe/Berlin"})
    role = fields.String(dump_only=True, metadata={"enum": ["patient", "clinician"]})
    created_at = fields.AwareDateTime(dump_only=True)


class RegisterSchema(CredentialsInput):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    timezone = fields.String(required=True, validate=validate_time_zone,
                             metadata={"example": "Europe/Berlin"})


class TokenRequestSchema(CredentialsInput):
    email = fields.String(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))


class TokenSchema(ma.Schema):
    token = fields.String(required=True)
    expires_at = fields.AwareDateTime(required=True)


class RegisteredSchema(TokenSchema):
    user = fields.Nested(UserSchema, required=True)


class ProfileUpdateSchema(PatchSchema):
    """Profile changes; a new password needs the current one."""

    display_name = fields.String(validate=validate.Length(min=1, max=100))
    timezone = fields.String(validate=validate_time_zone)
    password = fields.String(load_only=True, validate=PASSWORD)
    current_password = fields.String(load_only=True, validate=validate.Length(max=256))

    @ma.validates_schema
    def password_needs_current(self, data, **kwargs):
        if "password" in data and "current_password" not in data:
            raise ma.ValidationError("Required to change the password.", "current_password")


class AccountErasureSchema(StrictSchema):
    """Erasing an account is confirmed with its password."""

    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))
