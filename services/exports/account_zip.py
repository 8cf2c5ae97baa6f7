"""The account export (`GET /me/export`): every row about the patient and their original photos.

```
manifest.json          the format, the withheld columns, the photos, the SHA-256 of every file
data/<table>.json      every row of every table that refers to the patient
photos/<id>.<ext>      the originals as stored (GPS and private EXIF already gone)
```

It starts from the same walk over the foreign keys as the erasure
(`storage.patient_data`), so the export holds every row the erasure removes.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.photos import local_time
from services.exports.zip_stream import BlobMember, Member, json_member
from storage.models import Photo, User, utcnow
from storage.patient_data import WITHHELD_COLUMNS, patient_rows

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
                         local_time(taken_at, offset))
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
