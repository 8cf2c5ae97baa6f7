"""Authentication of a request: the bearer token, the user behind it, role checks.

Tokens and passwords themselves are `services.accounts`'s; this module reads
the token of a request and says who is asking (401 without a valid one, 403
for a role a view is not for). Views use it through `Blueprint.login_required`
(`api.blueprint`), which also documents those answers.
"""

from __future__ import annotations

import functools

from flask import g, request
from flask_smorest import abort
from sqlalchemy import bindparam, select

from api.database import db
from services.accounts import token_digest
from storage.models import AuthToken, User, utcnow


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate() -> User:
    """The user behind the request's bearer token, or a 401."""
    token = bearer_token()
    if token is None:
        abort(401, message="A bearer token is required.",
              headers={"WWW-Authenticate": "Bearer"})
    user = db().scalar(_USER_BY_TOKEN, {"digest": token_digest(token), "now": utcnow()})
    if user is None:
        abort(401, message="The token is invalid, expired or revoked.",
              headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return user


# Every request runs this: built once, bound per call.
_USER_BY_TOKEN = (
    select(User)
    .join(AuthToken, AuthToken.user_id == User.id)
    .where(
        AuthToken.token_hash == bindparam("digest"),
        AuthToken.revoked_at.is_(None),
        AuthToken.expires_at > bindparam("now", type_=AuthToken.expires_at.type),
    )
)


def current_user() -> User:
    return g.user


def require_login(*roles: str):
    """Require a valid token, and one of `roles` when given (else 403)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = authenticate()
            if roles and user.role not in roles:
                abort(403, message=f"This is for {' or '.join(roles)} accounts only.")
            g.user = user
            # For the request log, which must not need the database to say who asked.
            g.user_id = user.id
            return view(*args, **kwargs)

        return wrapper

    return decorator
