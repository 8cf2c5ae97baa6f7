"""Retention: what is kept only for a while goes when its time is up.

- stored idempotent responses (`Idempotency-Key`), 24 hours after the request:
  they hold bodies about patients, and a retry after a day is a new request;
- resumable uploads past their expiry, with the bytes received so far.

Each purge commits on the session it is given, which the caller opens for it
alone: a purge never rides on another request's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from storage import photo_records, records
from storage.blobs import BlobStore


@dataclass(frozen=True)
class Purged:
    idempotency_records: int
    uploads: int


def purge_expired(session: Session, store: BlobStore, now: datetime,
                  idempotency_ttl: timedelta) -> Purged:
    """Everything past its time: idempotent responses older than the TTL, expired uploads."""
    dropped = records.delete_idempotency_records(session, now - idempotency_ttl)
    session.commit()
    return Purged(dropped, purge_expired_uploads(session, store, now))


def purge_expired_uploads(session: Session, store: BlobStore, now: datetime,
                          patient_id: int | None = None) -> int:
    """Drop the uploads past their expiry (of one patient, when given), then their bytes."""
    expired = photo_records.expired_uploads(session, now, patient_id)
    if not expired:
        return 0
    photo_records.delete_uploads(session, [upload_id for upload_id, _ in expired])
    session.commit()
    for _, part in expired:
        store.delete_part(part)
    return len(expired)
