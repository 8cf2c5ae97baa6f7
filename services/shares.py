"""Use cases of sharing: a patient invites a clinician with a one-time code, a clinician
redeems it, the patient revokes a code or a link at once."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from domain.errors import Conflict
from domain.shares import (
    CODE_ALPHABET,
    CODE_LENGTH,
    CODE_TTL,
    formatted_code,
    normalised_code,
)
from services.status_digests import refresh_digest
from storage.models import Share, User, utcnow


class UnknownCode(Exception):
    """The invite code is unknown, already used or expired."""


def code_digest(code: str) -> str:
    """The stored form of a code (only its SHA-256 is kept)."""
    return hashlib.sha256(normalised_code(code).encode()).hexdigest()


def invite(session: Session, patient: User) -> Share:
    """A new single-use invite code; `share.code` holds it for this request only."""
    code = formatted_code("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))
    share = Share(patient_id=patient.id, code_hash=code_digest(code),
                  expires_at=utcnow() + CODE_TTL, clinician=None)
    session.add(share)
    session.flush()
    share.code = code
    return share


def redeem(session: Session, clinician: User, code: str) -> Share:
    """Link the clinician to the patient behind the code (single use)."""
    now = utcnow()
    digest = code_digest(code)
    # One conditional update: of two clinicians racing for a code, one wins.
    try:
        won = session.execute(
            update(Share)
            .where(Share.code_hash == digest, Share.clinician_id.is_(None),
                   Share.revoked_at.is_(None), Share.expires_at > now)
            .values(clinician_id=clinician.id, linked_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    except IntegrityError:
        session.rollback()
        raise Conflict("You are already linked to this patient.") from None
    if won != 1:
        raise UnknownCode()
    share = session.scalars(select(Share)
                            .options(joinedload(Share.clinician), joinedload(Share.patient))
                            .where(Share.code_hash == digest)
                            .execution_options(populate_existing=True)).one()
    # A patient whose records predate the digests gets one now.
    refresh_digest(session, share.patient_id)
    session.flush()
    return share


def revoke(session: Session, patient: User, share_id: int) -> bool:
    """Revoke a code or a link (the clinician loses access with the very next request);
    False when the patient has no such share. Commits."""
    result = session.execute(
        update(Share)
        .where(Share.id == share_id, Share.patient_id == patient.id)
        .values(revoked_at=func.coalesce(Share.revoked_at, utcnow()))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        return False
    session.commit()
    return True
