"""Every row of one patient, found by walking the foreign keys down from their user row.

A row is the patient's when a column of it refers to the patient's user row,
or to another row of the patient (a check-in through its session, a session
through its course). `GET /me/export` writes these rows out and `DELETE /me`
erases exactly the same set, so what can be taken away and what is erased
never drift apart, and a table added later is covered by its foreign keys.

Columns that hold secrets or hashes of secrets are not "data about me" and
are left out of the export (`WITHHELD_COLUMNS`); the rows holding them are
still erased.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Table, delete, false, or_, select
from sqlalchemy.orm import Session

from storage.models import Base, Photo, Upload, User

# (table, column): hashes of passwords, tokens and invite codes, and the cached
# copies of responses kept for idempotent retries (one may hold an invite code).
WITHHELD_COLUMNS = frozenset({
    ("users", "password_hash"),
    ("auth_tokens", "token_hash"),
    ("shares", "code_hash"),
    ("calendar_tokens", "token_hash"),
    ("idempotency_records", "response_body"),
})


@dataclass(frozen=True)
class PatientFiles:
    """What a patient has in the blob store: photo files and resumable upload parts."""

    blob_keys: frozenset[str]
    part_names: frozenset[str]


def _filters(patient_id: int) -> dict[str, ColumnElement[bool]]:
    users = User.__table__
    filters: dict[str, ColumnElement[bool]] = {}
    # Parents come before their children, so each parent's filter is ready when needed.
    for table in Base.metadata.sorted_tables:
        conditions = [users.c.id == patient_id] if table is users else []
        for key in table.foreign_keys:
            parent = key.column.table
            if parent is users:
                conditions.append(key.parent == patient_id)
            elif parent.name in filters:
                conditions.append(key.parent.in_(select(key.column).where(filters[parent.name])))
        filters[table.name] = or_(*conditions) if conditions else false()
    return filters


def patient_tables(patient_id: int) -> Iterator[tuple[Table, ColumnElement[bool]]]:
    """Each table with the filter of the patient's rows in it, parents first."""
    filters = _filters(patient_id)
    for table in Base.metadata.sorted_tables:
        yield table, filters[table.name]


def patient_rows(session: Session, patient_id: int) -> Iterator[tuple[str, list[dict]]]:
    """(table name, rows as JSON-ready dicts without withheld columns), every table in turn."""
    for table, where in patient_tables(patient_id):
        columns = [column for column in table.columns
                   if (table.name, column.name) not in WITHHELD_COLUMNS]
        rows = session.execute(select(*columns).where(where).order_by(*table.primary_key))
        yield table.name, [{name: _json_value(value) for name, value in row._mapping.items()}
                           for row in rows]


def _json_value(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def patient_files(session: Session, patient_id: int) -> PatientFiles:
    """The blob keys of the patient's photos and the part files of their uploads."""
    keys = session.execute(
        select(Photo.original_key, Photo.preview_key, Photo.thumbnail_key)
        .where(Photo.patient_id == patient_id))
    parts = session.scalars(select(Upload.part_name).where(Upload.patient_id == patient_id))
    return PatientFiles(frozenset(key for row in keys for key in row if key is not None),
                        frozenset(parts))


def erase_patient(session: Session, patient_id: int) -> PatientFiles:
    """Delete every row of the patient, children first (flushed, not committed).

    Returns the files the rows referred to; the caller removes them after the
    commit, and only those no remaining row still uses.
    """
    files = patient_files(session, patient_id)
    for table, where in reversed(list(patient_tables(patient_id))):
        session.execute(delete(table).where(where))
    return files

