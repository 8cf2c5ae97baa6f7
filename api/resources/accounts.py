"""Accounts: patients register, everyone logs in and out and edits their profile;
patients erase their account."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from flask import current_app
from flask.views import MethodView
from flask_smorest import abort

from api import limits
from api.auth import bearer_token, current_user
from api.blueprint import Blueprint
from api.database import db, photo_store
from domain.roles import PATIENT
from schemas.accounts import (
    AccountErasureSchema,
    ProfileUpdateSchema,
    RegisteredSchema,
    RegisterSchema,
    TokenRequestSchema,
    TokenSchema,
    UserSchema,
)
from services import accounts

blp = Blueprint("accounts", __name__, url_prefix="/api/v1",
                description="Registration, login tokens and the user's profile.")

BAD_CREDENTIALS = "The email or password is incorrect."


@contextmanager
def _counting_wrong_passwords():
    """A wrong password counts against the account's password guesses, like a failed login."""
    try:
        yield
    except accounts.WrongPassword:
        limits.password_was_wrong()
        raise


def _token_ttl() -> timedelta:
    return timedelta(days=current_app.config["TOKEN_TTL_DAYS"])


@blp.route("/auth/register")
class RegisterView(MethodView):
    @blp.doc(security=[])
    @limits.registrations()
    @blp.arguments(RegisterSchema)
    @blp.response(201, RegisteredSchema)
    @blp.alt_response(409, "CONFLICT", description="An account with this email exists")
    @blp.alt_response(429, "TOO_MANY_REQUESTS")
    def post(self, data):
        """Create a patient account and log it in"""
        user, token, expires_at = accounts.register(db(), data, _token_ttl())
        return {"user": user, "token": token, "expires_at": expires_at}


@blp.route("/auth/token")
class TokenView(MethodView):
    @blp.doc(security=[])
    @limits.password_guesses(limits.login_account_key)
    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, "UNAUTHORIZED", description="The email or password is incorrect")
    @blp.alt_response(429, "TOO_MANY_REQUESTS")
    def post(self, data):
        """Log in: exchange email and password for a bearer token"""
        issued = accounts.log_in(db(), data["email"], data["password"], _token_ttl())
        if issued is None:
            abort(401, message=BAD_CREDENTIALS)
        token, expires_at = issued
        return {"token": token, "expires_at": expires_at}

    @blp.login_required()
    @blp.response(204)
    def delete(self):
        """Log out: revoke the token in use"""
        accounts.log_out(db(), current_user(), bearer_token())


@blp.route("/me")
class MeView(MethodView):
    @blp.login_required()
    @blp.etag
    @blp.response(200, UserSchema)
    def get(self):
        """The caller's profile"""
        return current_user()

    @blp.login_required()
    @limits.password_guesses(limits.signed_in_account_key, wrong_only=True)
    @blp.arguments(ProfileUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(429, "TOO_MANY_REQUESTS",
                      description="Too many wrong passwords for this account; try later")
    def patch(self, data):
        """Change display name, time zone or password (which logs out every device)"""
        with _counting_wrong_passwords():
            accounts.change_profile(db(), current_user(), data)
        return current_user()

    @blp.login_required(PATIENT)
    @limits.password_guesses(limits.signed_in_account_key, wrong_only=True)
    @blp.arguments(AccountErasureSchema)
    @blp.response(204)
    @blp.alt_response(429, "TOO_MANY_REQUESTS",
                      description="Too many wrong passwords for this account; try later")
    def delete(self, data):
        """Erase my account: every record, photo, token, share and calendar feed, for good"""
        with _counting_wrong_passwords():
            accounts.erase_account(db(), photo_store(), current_user(), data["password"])
