"""Accounts: patients register, everyone logs in and out and edits their profile;
patients take all their data with them or erase their account."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import abort

from api.blueprint import Blueprint
from sqlalchemy import select

from services import photos as album
from services.accounts import account_members, erase_account
from services.exports.zip_stream import stream_zip
from api.auth import (
    PATIENT,
    bearer_token,
    check_password,
    current_user,
    hash_password,
    issue_token,
    login_required,
    revoke_tokens,
    token_digest,
)
from api.database import db
from api.resources.exports import ZIP, attachment
from api.limits import limiter, login_account_key
from schemas.accounts import (
    AccountErasureSchema,
    ProfileUpdateSchema,
    RegisteredSchema,
    RegisterSchema,
    TokenRequestSchema,
    TokenSchema,
    UserSchema,
)
from schemas.photos import BINARY
from storage.models import User

blp = Blueprint("accounts", __name__, url_prefix="/api/v1",
                description="Registration, login tokens and the user's profile.")

BAD_CREDENTIALS = "The email or password is incorrect."


@blp.route("/auth/register")
class RegisterView(MethodView):
    @blp.doc(security=[])
    @blp.arguments(RegisterSchema)
    @blp.response(201, RegisteredSchema)
    def post(self, data):
        """Create a patient account and log it in"""
        session = db()
        if session.scalar(select(User.id).where(User.email == data["email"])) is not None:
            abort(409, message="An account with this email already exists.")
        user = User(email=data["email"], password_hash=hash_password(data["password"]),
                    display_name=data["display_name"].strip(), timezone=data["timezone"],
                    role=PATIENT)
        session.add(user)
        token, expires_at = issue_token(user)
        session.commit()
        return {"user": user, "token": token, "expires_at": expires_at}


@blp.route("/auth/token")
class TokenView(MethodView):
    @blp.doc(security=[])
    @limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=login_account_key)
    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    def post(self, data):
        """Log in: exchange email and password for a bearer token"""
        session = db()
        user = session.scalar(select(User).where(User.email == data["email"]))
        if not check_password(user, data["password"]):
            abort(401, message=BAD_CREDENTIALS)
        token, expires_at = issue_token(user)
        session.commit()
        return {"token": token, "expires_at": expires_at}

    @login_required()
    @blp.response(204)
    def delete(self):
        """Log out: revoke the token in use"""
        revoke_tokens(current_user().id, only_hash=token_digest(bearer_token()))
        db().commit()


@blp.route("/me")
class MeView(MethodView):
    @login_required()
    @blp.response(200, UserSchema)
    def get(self):
        """The caller's profile"""
        return current_user()

    @login_required()
    @blp.arguments(ProfileUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, data):
        """Change display name, time zone or password (which logs out every device)"""
        user = current_user()
        if "password" in data:
            if not check_password(user, data["current_password"]):
                abort(422, message="The current password is incorrect.",
                      errors={"current_password": ["Incorrect password."]})
            user.password_hash = hash_password(data["password"])
            revoke_tokens(user.id)
        if "display_name" in data:
            user.display_name = data["display_name"].strip()
        if "timezone" in data:
            user.timezone = data["timezone"]
        db().commit()
        return user

    @login_required(PATIENT)
    @blp.arguments(AccountErasureSchema)
    @blp.response(204)
    def delete(self, data):
        """Erase my account: every record, photo, token, share and calendar feed, for good"""
        user = current_user()
        if not check_password(user, data["password"]):
            abort(422, message="The password is incorrect; nothing was erased.",
                  errors={"password": ["Incorrect password."]})
        erase_account(db(), album.blob_store(), user.id)


@blp.route("/me/export")
class MyDataView(MethodView):
    @login_required(PATIENT)
    @blp.response(200, BINARY, content_type=ZIP, description=(
        "manifest.json (the SHA-256 of every file), data/<table>.json with every row that "
        "refers to me, photos/<id>.<ext> (the originals); streamed while it is written"))
    def get(self):
        """Everything about me as a ZIP: my rows in every table as JSON, my original photos"""
        user = current_user()
        return attachment(stream_zip(account_members(db(), user), album.blob_store()), ZIP,
                          f"scalpcourse-account-{user.id}.zip")
