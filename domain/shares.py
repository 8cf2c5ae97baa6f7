"""Sharing with a clinician: single-use invite codes, and the state of a share."""

from datetime import datetime, timedelta

# [product decision] Easy to read out over the phone: no 0/O or 1/I to confuse.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 32 symbols ** 10 = 2 ** 50 codes
# [product decision] An invite code is valid 72 hours.
CODE_TTL = timedelta(hours=72)

PENDING, LINKED, EXPIRED, REVOKED = "pending", "linked", "expired", "revoked"
SHARE_STATES = (PENDING, LINKED, EXPIRED, REVOKED)


def share_state(revoked_at: datetime | None, clinician_id: int | None, expires_at: datetime,
                now: datetime) -> str:
    """Revoked for good; else linked once redeemed; else pending until the code expires."""
    if revoked_at is not None:
        return REVOKED
    if clinician_id is not None:
        return LINKED
    return PENDING if expires_at > now else EXPIRED


def normalised_code(code: str) -> str:
    """What identifies a code: hyphens, spaces and case do not matter."""
    return "".join(code.split()).replace("-", "").upper()


def formatted_code(symbols: str) -> str:
    """A code as shown to people: two groups of five."""
    return f"{symbols[:5]}-{symbols[5:]}"
