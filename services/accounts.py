"""A patient's data rights: take everything away (`GET /me/export`), or erase it all (`DELETE /me`).

Both start from the same walk over the foreign keys (`storage.patient_data`),
so the export holds every row the erasure removes, and the erasure leaves
none of the rows the export showed.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.exports.zip_stream import BlobMember, Member, json_member
from storage.blobs import BlobStore
from storage.models import Photo, User, utcnow
from storage.patient_data import WITHHELD_COLUMNS, erase_patient, patient_rows
from storage.photo_records import keys_in_use

ARCHIVE_FORMAT = "scalpcourse-account-export/1"


def account_members(session: Session, patient: User) -> list[Member]:
    """`manifest.json`, `data/<table>.json` for every table, `photos/<id>.<ext>` (originals)."""
    now = utcnow().astimezone(ZoneInfo(patient.timezone))
    tables = [json_member(f"data/{table}.json", rows, now)
              for table, rows in patient_rows(session, patient.id)]
    photo_rows = session.execute(
        select(Photo.id, Photo.original_key, Photo.taken_at, Photo.taken_at_offset_minutes)
        .where(Photo.patient_id == patient.id).order_by(Photo.id)).all()
    photos = [BlobMember(f"photos/{photo_id}.{key.rsplit('.', 1)[1]}", key,
                         taken_at.astimezone(timezone(timedelta(minutes=offset))))
              for photo_id, key, taken_at, offset in photo_rows]
    withheld: dict[str, list[str]] = {}
    for table, column in sorted(WITHHELD_COLUMNS):
        withheld.setdefault(table, []).append(column)
    manifest = {
        "format": ARCHIVE_FORMAT,
        "exported_at": now,
        "patient_id": patient.id,
        "withheld_columns": withheld,
        "photos": [{"photo_id": row.id, "path": member.name}
                   for row, member in zip(photo_rows, photos)],
        "files": [{"path": member.name, "sha256": member.sha256}
                  for member in (*tables, *photos)],
    }
    return [json_member("manifest.json", manifest, now), *tables, *photos]


def erase_account(session: Session, store: BlobStore, patient_id: int) -> None:
    """Every row of the patient in one transaction; after the commit, the files no one else uses."""
    files = erase_patient(session, patient_id)
    session.commit()
    for key in files.blob_keys - keys_in_use(session, files.blob_keys):
        store.delete(key)
    for part in files.part_names:
        store.delete_part(part)
