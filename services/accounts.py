"""Use cases of accounts: register, log in and out, change the profile, erase an account.

Passwords are hashed with argon2id (OWASP's parameters). A token is
`secrets.token_urlsafe(32)`; the database keeps only its SHA-256, so a leaked
table cannot be replayed. Tokens expire and are revoked on logout and on a
password change. Erasure starts from the same walk over the foreign keys as
the account export (`storage.patient_data`), so it leaves none of the rows the
export showed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.errors import Conflict, RuleViolation
from domain.roles import PATIENT
from storage.blobs import BlobStore
from storage.models import AuthToken, User, utcnow
from storage.patient_data import erase_patient
from storage.photo_records import keys_in_use

# OWASP password storage cheat sheet: argon2id, m=19 MiB, t=2, p=1.
PASSWORDS = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the email is unknown, so both cases cost the same.
_DUMMY_HASH = PASSWORDS.hash(secrets.token_urlsafe(16))


class WrongPassword(RuleViolation):
    """The password asked again (to change it, or to erase the account) is not the user's."""


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


def issue_token(session: Session, user: User, ttl: timedelta) -> tuple[str, datetime]:
    """Create a token for `user` (added to the session, not committed)."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + ttl
    session.add(AuthToken(user=user, token_hash=token_digest(token), expires_at=expires_at))
    return token, expires_at


def revoke_tokens(session: Session, user_id: int, only_hash: str | None = None) -> None:
    statement = update(AuthToken).where(
        AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None)
    )
    if only_hash:
        statement = statement.where(AuthToken.token_hash == only_hash)
    session.execute(statement.values(revoked_at=utcnow()))


def register(session: Session, data: dict, ttl: timedelta) -> tuple[User, str, datetime]:
    """A new patient account, logged in; commits."""
    if session.scalar(select(User.id).where(User.email == data["email"])) is not None:
        raise Conflict("An account with this email already exists.")
    user = User(email=data["email"], password_hash=hash_password(data["password"]),
                display_name=data["display_name"].strip(), timezone=data["timezone"],
                role=PATIENT)
    session.add(user)
    token, expires_at = issue_token(session, user, ttl)
    session.commit()
    return user, token, expires_at


def log_in(session: Session, email: str, password: str,
           ttl: timedelta) -> tuple[str, datetime] | None:
    """A new token for these credentials (None when they are wrong); commits."""
    user = session.scalar(select(User).where(User.email == email))
    if not check_password(user, password):
        return None
    token, expires_at = issue_token(session, user, ttl)
    session.commit()
    return token, expires_at


def log_out(session: Session, user: User, token: str) -> None:
    """Revoke the token in use; commits."""
    revoke_tokens(session, user.id, only_hash=token_digest(token))
    session.commit()


def change_profile(session: Session, user: User, data: dict) -> None:
    """Change display name, time zone or password (which logs out every device); commits."""
    if "password" in data:
        if not check_password(user, data["current_password"]):
            raise WrongPassword("The current password is incorrect.", "current_password")
        user.password_hash = hash_password(data["password"])
        revoke_tokens(session, user.id)
    if "display_name" in data:
        user.display_name = data["display_name"].strip()
    if "timezone" in data:
        user.timezone = data["timezone"]
    session.commit()


def erase_account(session: Session, store: BlobStore, patient: User, password: str) -> None:
    """Every row of the patient in one transaction; after the commit, the files no one else uses.

    The password is asked again: a wrong one erases nothing.
    """
    if not check_password(patient, password):
        raise WrongPassword("The password is incorrect; nothing was erased.", "password")
    files = erase_patient(session, patient.id)
    session.commit()
    for key in files.blob_keys - keys_in_use(session, files.blob_keys):
        store.delete(key)
    for part in files.part_names:
        store.delete_part(part)
