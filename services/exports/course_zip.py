"""The course ZIP: photos by area and date, `manifest.json`, `sessions.csv`, `observations.csv`.

```
manifest.json                      course, status, sessions, photos, measurements, and the
                                   SHA-256 of every other file in the archive
sessions.csv, observations.csv     one row per done session / measurement (UTF-8 with BOM,
                                   so spreadsheets read accents right)
photos/<area>/<date>_s<n>.jpg      the originals as stored (GPS and private EXIF already
                                   gone); n is the session the photo follows, 0 = baseline
```

The JSON in the manifest has the shapes the API answers with, so what reads
one reads the other.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from schemas.courses import CourseSchema, CourseStatusSchema
from schemas.observations import ObservationSchema
from schemas.sessions import ProjectedSessionSchema, SessionSchema
from services.exports.course_data import CourseExport
from services.exports.zip_stream import BlobMember, BytesMember, Member, json_member
from services.iso8601 import iso_default

ARCHIVE_FORMAT = "scalpcourse-course-export/1"
PHOTO_FOLDER = "photos"
SESSION_COLUMNS = ("number", "phase", "performed_at", "timing", "needle_length_mm",
                   "duration_minutes", "pain_score", "cocktail", "cocktail_ingredients", "areas",
                   "side_effects", "device", "device_disinfected", "new_cartridge", "warnings",
                   "notes", "check_in_at", "redness_persists", "swelling_persists",
                   "infection_signs", "check_in_note", "flags")
OBSERVATION_COLUMNS = ("observed_at", "kind", "value", "area", "recorded_by", "withdrawn_at",
                       "withdrawal_reason")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def course_members(export: CourseExport) -> list[Member]:
    """Every member of the course archive, the manifest first."""
    modified = export.exported_at
    tables = [BytesMember("sessions.csv", sessions_csv(export), modified),
              BytesMember("observations.csv", observations_csv(export), modified)]
    photos = [BlobMember(f"{PHOTO_FOLDER}/{photo.file_name}", photo.row.original_key,
                         photo.taken_at) for photo in export.photos]
    manifest = json_member("manifest.json", manifest_of(export, tables), modified)
    return [manifest, *tables, *photos]


def manifest_of(export: CourseExport, tables: list[BytesMember]) -> dict:
    course = export.course
    return {
        "format": ARCHIVE_FORMAT,
        "exported_at": export.exported_at,
        "patient": {"id": export.patient.id, "display_name": export.patient.display_name,
                    "timezone": export.patient.timezone},
        "course": CourseSchema().dump(course),
        "status": CourseStatusSchema().dump(export.status),
        "sessions": SessionSchema(many=True).dump(export.sessions),
        "projected": ProjectedSessionSchema(many=True).dump(export.projected),
        "photos": [{
            "id": photo.row.id, "path": f"{PHOTO_FOLDER}/{photo.file_name}",
            "sha256": photo.sha256, "bytes": photo.row.byte_size,
            "media_type": photo.row.media_type, "width": photo.row.width,
            "height": photo.row.height, "area": photo.row.area, "taken_at": photo.taken_at,
            "session_number": photo.session_number, "session_id": photo.row.session_id,
            "note": photo.row.note, "quality_warnings": photo.row.quality_warnings,
        } for photo in export.photos],
        "observations": ObservationSchema(many=True).dump(export.observations),
        "files": [{"path": member.name, "sha256": member.sha256} for member in tables],
    }


def sessions_csv(export: CourseExport) -> bytes:
    rows = []
    for record in export.sessions:
        row = record.row
        device = export.devices.get(row.device_id)
        cocktail = row.cocktail or {}
        rows.append((record.number, record.phase, record.performed_at,
                     record.timing, row.needle_length_mm, row.duration_minutes, row.pain_score,
                     cocktail.get("name"), "; ".join(cocktail.get("ingredients") or []),
                     "; ".join(row.areas), "; ".join(row.side_effects),
                     " ".join(filter(None, (device.kind, device.label))) if device else None,
                     row.device_disinfected, row.new_cartridge, "; ".join(record.warnings),
                     row.notes, *_check_in_cells(record, export), _flag_cell(record)))
    return _csv(SESSION_COLUMNS, rows)


def _check_in_cells(record, export: CourseExport) -> tuple:
    entry = record.check_in
    if entry is None:
        return (None, None, None, None, None)
    return (entry.created_at.astimezone(export.zone), entry.redness_persists,
            entry.swelling_persists, entry.infection_signs, entry.note)


def _flag_cell(record) -> str:
    """Each flag of the session: its reasons, then open or how it was lowered."""
    return "; ".join(
        f"{', '.join(reason['code'] for reason in flag.reasons)}: "
        + ("open" if flag.is_open else f"lowered by {flag.resolution.replace('_', ' ')}"
           + (f" ({flag.note})" if flag.note else ""))
        for flag in record.flags)


def observations_csv(export: CourseExport) -> bytes:
    rows = [(observation.observed_at.astimezone(export.zone), observation.kind,
             observation.value, observation.area,
             observation.recorded_by.display_name if observation.recorded_by else None,
             observation.withdrawn_at.astimezone(export.zone) if observation.withdrawn_at
             else None, observation.withdrawal_reason)
            for observation in export.observations]
    return _csv(OBSERVATION_COLUMNS, rows)


def _csv(header: tuple[str, ...], rows: list[tuple]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(tuple(_cell(value) for value in row) for row in rows)
    return out.getvalue().encode("utf-8-sig")


def _cell(value):
    if isinstance(value, (datetime, date)):
        return iso_default(value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
