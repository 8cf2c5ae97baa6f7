"""A patient takes all their data away (`GET /me/export`) or erases it (`DELETE /me`).

Both are checked against an independent walk of the database: every table,
every row that refers to the patient's user row, directly or through rows
that do (a check-in through its session, a session through its course).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.blobs import LocalBlobStore
from storage.models import Base, Upload, User, utcnow
from storage.patient_data import WITHHELD_COLUMNS
from tests.conftest import PASSWORD
from tests.course_samples import add_photo, photo_bytes, sample_course

SHARED_BYTES = photo_bytes(200)


def all_rows(app) -> dict[str, list[dict]]:
    with app.app_context():
        session = app.extensions["database"].sessions()
        return {table.name: [dict(row) for row in session.execute(select(table)).mappings()]
                for table in Base.metadata.sorted_tables}


def primary_key(table, row: dict) -> tuple:
    return tuple(row[column.name] for column in table.primary_key)


def rows_of_patient(rows: dict[str, list[dict]], patient_id: int) -> dict[str, set[tuple]]:
    """Primary keys of every row that refers to the patient, found by fixpoint over the FKs."""
    tables = Base.metadata.tables
    referenced = {(key.column.table.name, key.column.name)
                  for table in tables.values() for key in table.foreign_keys}
    owned: dict[str, set[tuple]] = {name: set() for name in tables}
    owned_values: dict[tuple[str, str], set] = {}
    changed = True
    while changed:
        changed = False
        for name, table in tables.items():
            for row in rows[name]:
                key = primary_key(table, row)
                if key in owned[name]:
                    continue
                mine = name == "users" and row["id"] == patient_id
                for foreign in table.foreign_keys:
                    parent = foreign.column.table.name
                    value = row[foreign.parent.name]
                    if value is None:
                        continue
                    if parent == "users" and value == patient_id:
                        mine = True
                    elif value in owned_values.get((parent, foreign.column.name), set()):
                        mine = True
                if mine:
                    owned[name].add(key)
                    for column in table.columns:
                        if (name, column.name) in referenced:
                            owned_values.setdefault((name, column.name), set()).add(
                                row[column.name])
                    changed = True
    return owned


@pytest.fixture
def world(app, client, register, make_clinician, link):
    """Two patients linked to one clinician, each with rows in every table; a blob they share."""
    clinician = make_clinician()
    patients = []
    for name in ("Erin Erase", "Kim Keep"):
        patient = register(name=name)
        link(patient, clinician)
        sample = sample_course(patient, clinician)
        course_id = sample.course["id"]
        # The check-in is open from 20 h to 7 days after a session: the latest one's.
        session_id = sample.sessions[-1]["id"]
        assert patient.post(f"/sessions/{session_id}/check-in", json={
            "redness_persists": True, "swelling_persists": False,
            "infection_signs": False}).status_code == 201
        flag = patient.get(f"/courses/{course_id}/flags").json["items"][0]
        assert clinician.post(f"/flags/{flag['id']}/resolve",
                              json={"note": f"seen {name}"}).status_code == 200
        clinician.post(f"/courses/{course_id}/notes", json={"text": f"note about {name}"})
        clinician.get(f"/courses/{course_id}/status")
        patient.post("/shares", headers={"Idempotency-Key": f"invite-{name}"})
        patient.post("/me/calendar-token")
        client.post("/api/v1/auth/token", json={"email": patient.email, "password": PASSWORD})
        add_photo(patient, "occipital", datetime.now(timezone.utc),
                  data=SHARED_BYTES)
        _add_upload(app, patient.user["id"])
        patients.append(patient)
    return patients[0], patients[1], clinician


def _add_upload(app, patient_id: int) -> None:
    store = LocalBlobStore(app.config["PHOTO_DIR"])
    part = hashlib.md5(str(patient_id).encode()).hexdigest()
    store.create_part(part)
    store.write_part(part, 0, b"half a photo")
    with app.app_context():
        session = app.extensions["database"].sessions()
        session.add(Upload(patient_id=patient_id, length=100, received=12, part_name=part,
                           photo_fields={"area": "vertex"},
                           expires_at=utcnow() + timedelta(hours=1)))
        session.commit()


def stored_files(app) -> set[str]:
    root = Path(app.config["PHOTO_DIR"])
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def files_of(rows: dict[str, list[dict]], owned: dict[str, set[tuple]]) -> set[str]:
    photos = Base.metadata.tables["photos"]
    uploads = Base.metadata.tables["uploads"]
    keys = {row[column] for row in rows["photos"] if primary_key(photos, row) in owned["photos"]
            for column in ("original_key", "preview_key", "thumbnail_key")}
    parts = {f"uploads/{row['part_name']}.part" for row in rows["uploads"]
             if primary_key(uploads, row) in owned["uploads"]}
    return keys | parts


# -- GET /me/export ------------------------------------------------------------------------------

def test_the_export_holds_every_row_that_refers_to_the_patient(app, world):
    patient, other, _ = world
    rows = all_rows(app)
    owned = rows_of_patient(rows, patient.user["id"])
    # The world exercises every table, so a table added later without export coverage fails here.
    assert {name for name, keys in owned.items() if not keys} == set()

    response = patient.get("/me/export")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    for name, table in Base.metadata.tables.items():
        exported = json.loads(archive.read(f"data/{name}.json"))
        withheld = {column for table_name, column in WITHHELD_COLUMNS if table_name == name}
        assert {primary_key(table, row) for row in exported} == owned[name], name
        for row in exported:
            assert set(row) == {column.name for column in table.columns} - withheld, name


def test_the_export_withholds_secrets_and_shows_none_of_another_patient(app, world):
    patient, other, clinician = world
    data = patient.get("/me/export").data
    archive = zipfile.ZipFile(io.BytesIO(data))
    users = json.loads(archive.read("data/users.json"))
    assert [user["id"] for user in users] == [patient.user["id"]]
    assert "password_hash" not in users[0]
    assert json.loads(archive.read("data/auth_tokens.json"))
    assert patient.token.encode() not in data
    assert b"Kim Keep" not in data and b"argon2" not in data
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["withheld_columns"]["users"] == ["password_hash"]


def test_the_export_has_the_original_photos_and_a_sha256_for_every_file(app, world):
    patient, _, _ = world
    archive = zipfile.ZipFile(io.BytesIO(patient.get("/me/export").data))
    manifest = json.loads(archive.read("manifest.json"))
    listed = {entry["path"] for entry in manifest["files"]}
    assert listed == set(archive.namelist()) - {"manifest.json"}
    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    photos = json.loads(archive.read("data/photos.json"))
    by_id = {item["photo_id"]: item["path"] for item in manifest["photos"]}
    assert set(by_id) == {photo["id"] for photo in photos}
    store = LocalBlobStore(app.config["PHOTO_DIR"])
    for photo in photos:
        with store.open(photo["original_key"]) as original:
            assert archive.read(by_id[photo["id"]]) == original.read()


def test_clinicians_have_no_account_export(clinician):
    assert clinician.get("/me/export").status_code == 403


# -- DELETE /me ----------------------------------------------------------------------------------

def test_erasure_leaves_nothing_of_the_patient_and_everything_of_others(app, client, world):
    patient, other, clinician = world
    before = all_rows(app)
    owned = rows_of_patient(before, patient.user["id"])
    others = rows_of_patient(before, other.user["id"])
    files_before = stored_files(app)
    mine, theirs = files_of(before, owned), files_of(before, others)
    assert mine <= files_before and theirs <= files_before

    response = patient.delete("/me", json={"password": PASSWORD})
    assert response.status_code == 204

    after = all_rows(app)
    for name, table in Base.metadata.tables.items():
        keys = {primary_key(table, row) for row in after[name]}
        assert not keys & owned[name], name
        for row in after[name]:
            for foreign in table.foreign_keys:
                if foreign.column.table.name == "users":
                    assert row[foreign.parent.name] != patient.user["id"], (name, row)
    assert rows_of_patient(after, other.user["id"]) == others
    for name in before:
        kept = [row for row in before[name] if primary_key(Base.metadata.tables[name], row)
                in others[name]]
        now = [row for row in after[name] if primary_key(Base.metadata.tables[name], row)
               in others[name]]
        if name != "triage_digests":  # recomputed on every change, times included
            assert now == kept, name
    # The photo folder: nothing of the patient's, except the blob the other patient also has.
    remaining = stored_files(app)
    assert theirs <= remaining
    assert (mine - theirs) & remaining == set()
    assert remaining - theirs <= {"tmp"}

    assert client.get("/api/v1/me", headers=patient.headers).status_code == 401
    assert client.post("/api/v1/auth/token", json={"email": patient.email,
                                                  "password": PASSWORD}).status_code == 401
    listed = clinician.get("/clinician/patients").get_json()["items"]
    assert [item["patient_id"] for item in listed] == [other.user["id"]]


def test_erasure_revokes_the_calendar_feed(app, client, patient):
    url = patient.post("/me/calendar-token").get_json()["url"]
    path = url.removeprefix("http://localhost")
    assert client.get(path).status_code == 200
    assert patient.delete("/me", json={"password": PASSWORD}).status_code == 204
    assert client.get(path).status_code == 404


def test_a_wrong_password_erases_nothing(app, world):
    patient, _, _ = world
    before = all_rows(app)
    files = stored_files(app)
    response = patient.delete("/me", json={"password": "not the password"})
    assert response.status_code == 422
    assert "password" in response.get_json()["errors"]
    assert all_rows(app) == before
    assert stored_files(app) == files


@pytest.mark.parametrize("body", [None, {}, {"password": PASSWORD, "reason": "x"}])
def test_erasure_needs_exactly_the_password(app, patient, db_rows, body):
    response = patient.delete("/me", json=body)
    assert response.status_code == 422
    assert [user.id for user in db_rows(User)] == [patient.user["id"]]


def test_a_failure_midway_erases_nothing(app, world, monkeypatch):
    patient, _, _ = world
    before = all_rows(app)
    files = stored_files(app)
    from sqlalchemy.orm import Session

    original_execute = Session.execute

    def failing_execute(self, statement, *args, **kwargs):
        if getattr(statement, "is_delete", False) and statement.table.name == "users":
            raise RuntimeError("disk on fire")
        return original_execute(self, statement, *args, **kwargs)

    monkeypatch.setattr(Session, "execute", failing_execute)
    response = patient.delete("/me", json={"password": PASSWORD})
    monkeypatch.undo()
    assert response.status_code == 500
    assert all_rows(app) == before
    assert stored_files(app) == files


def test_clinician_accounts_are_not_erased_by_themselves(clinician, db_rows):
    response = clinician.delete("/me", json={"password": PASSWORD})
    assert response.status_code == 403
    assert clinician.user["id"] in [user.id for user in db_rows(User)]
