"""Authentication: argon2id passwords, opaque bearer tokens, role checks.

A token is `secrets.token_urlsafe(32)`; the database keeps only its SHA-256,
so a leaked table cannot be replayed. Tokens expire (30 days by default) and
are revoked on logout and on password change.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request
from flask_smorest import abort
from sqlalchemy import bindparam, select, update

from api.database import db
from storage.models import AuthToken, User, utcnow

# OWASP password storage cheat sheet: argon2id, m=19 MiB, t=2, p=1.
PASSWORDS = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the email is unknown, so both cases cost the same.
_DUMMY_HASH = PASSWORDS.hash(secrets.token_urlsafe(16))

PATIENT, CLINICIAN = "patient", "clinician"


def hash_password(password: str) -> str:
    return PASSWORDS.hash(password)


def check_password(user: User | None, password: str) -> bool:
    """Verify in constant work whether or not the user exists; upgrade weak hashes."""
    try:
        PASSWORDS.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    if user is None:
        return False
    if PASSWORDS.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, datetime]:
    """Create a token for `user` (added to the session, not committed)."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(days=current_app.config["TOKEN_TTL_DAYS"])
    db().add(AuthToken(user=user, token_hash=token_digest(token), expires_at=expires_at))
    return token, expires_at


def revoke_tokens(user_id: int, only_hash: str | None = None) -> None:
    statement = update(AuthToken).where(
        AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None)
    )
    if only_hash:
        statement = statement.where(AuthToken.token_hash == only_hash)
    db().execute(statement.values(revoked_at=utcnow()))


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


def login_required(*roles: str):
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
