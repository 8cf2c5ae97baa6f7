"""Retention: what is kept only for a while goes when its time is up.

- stored idempotent responses (`Idempotency-Key`), 24 hours after the request:
  they hold bodies about patients, and a retry after a day is a new request;
- resumable uploads past their expiry, with the bytes received so far;
- the files of export jobs, a day after they were made (the job stays, without them).

Each purge commits on the session it is given, which the caller opens for it
alone: a purge never rides on another request's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from storage import job_records, photo_records, records
from storage.blobs import BlobStore


@dataclass(frozen=True)
class Purged:
    idempotency_records: int
    uploads: int
    exports: int = 0


def purge_expired(session: Session, store: BlobStore, now: datetime,
                  idempotency_ttl: timedelta) -> Purged:
    """Everything past its time: idempotent responses older than the TTL, expired uploads."""
    dropped = records.delete_idempotency_records(session, now - idempotency_ttl)
    session.commit()
    return Purged(dropped, purge_expired_uploads(session, store, now),
                  purge_expired_exports(session, store, now))


def purge_expired_exports(session: Session, store: BlobStore, now: datetime) -> int:
    """Forget the files of export jobs made more than EXPORT_TTL ago, then remove them."""
    from services.exports.background import EXPORT_TTL

    expired = job_records.expired_exports(session, now - EXPORT_TTL)
    keys = {job.result_key for job in expired}
    for job in expired:
        job.result_key = None
    session.commit()
    for key in keys - photo_records.keys_in_use(session, keys):
        store.delete(key)
    return len(expired)


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
