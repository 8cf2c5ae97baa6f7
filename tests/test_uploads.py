"""Resumable uploads (tus 1.0 core): chunks, offsets, retries, expiry, and the photo at the end."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from storage.models import Photo, Upload, utcnow
from tests import photo_samples as samples
from tests.test_conventions import assert_problem, table_counts

TUS = {"Tus-Resumable": "1.0.0"}


def begin(caller, data: bytes, **fields):
    response = caller.post("/uploads", json={"length": len(data), "area": "vertex", **fields})
    assert response.status_code == 201, response.get_json()
    return response


def chunk(caller, location: str, offset: int, data: bytes, **headers):
    return caller.request("PATCH", location.removeprefix("/api/v1"), data=data, headers={
        **TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
        **headers})


def head(caller, location: str, **headers):
    return caller.request("HEAD", location.removeprefix("/api/v1"), headers={**TUS, **headers})


def parts(app) -> list[Path]:
    return list((Path(app.config["PHOTO_DIR"]) / "uploads").glob("*"))


@pytest.fixture
def photo_bytes():
    return samples.phone_jpeg((400, 300), orientation=6)


def test_an_upload_begins_with_its_location_offset_and_expiry(patient):
    response = begin(patient, b"x" * 5000)

    body = response.get_json()
    assert response.headers["Location"] == body["url"] == f"/api/v1/uploads/{body['id']}"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Upload-Offset"] == "0"
    assert response.headers["Upload-Length"] == "5000"
    assert "Upload-Expires" in response.headers
    assert (body["length"], body["offset"], body["photo_id"]) == (5000, 0, None)


def test_seven_chunks_with_one_sent_twice_make_the_same_photo_as_a_direct_upload(
        app, patient, photo_bytes, db_rows):
    location = begin(patient, photo_bytes, note="crown, evening").headers["Location"]
    size = -(-len(photo_bytes) // 7)
    pieces = [photo_bytes[start:start + size] for start in range(0, len(photo_bytes), size)]
    assert len(pieces) == 7

    offset = 0
    for index, piece in enumerate(pieces):
        response = chunk(patient, location, offset, piece)
        assert response.status_code == 204, response.get_json()
        if index == 2:
            # The answer was lost on the way: the app sends the same chunk again.
            repeated = chunk(patient, location, offset, piece)
            assert_problem(repeated, 409)
            offset = int(head(patient, location).headers["Upload-Offset"])
        else:
            offset += len(piece)
        assert int(response.headers["Upload-Offset"]) == offset

    photo_url = response.headers["Location"]
    photo = patient.get(photo_url.removeprefix("/api/v1")).get_json()
    assert (photo["area"], photo["note"], photo["width"], photo["height"]) == (
        "vertex", "crown, evening", 300, 400)
    direct = patient.post("/photos", data={"file": (io.BytesIO(photo_bytes), "a.jpg"),
                                           "area": "vertex"})
    assert direct.status_code == 200 and direct.get_json() == photo
    assert len(db_rows(Photo)) == 1
    assert parts(app) == [], "the bytes so far are gone once the photo is made"
    finished = head(patient, location)
    assert finished.headers["Upload-Offset"] == str(len(photo_bytes))
    assert finished.headers["Location"] == photo_url


def test_head_tells_the_offset_and_is_never_cached(patient, photo_bytes):
    location = begin(patient, photo_bytes).headers["Location"]
    chunk(patient, location, 0, photo_bytes[:1000])

    response = head(patient, location)

    assert response.status_code == 200 and response.data == b""
    assert response.headers["Upload-Offset"] == "1000"
    assert response.headers["Upload-Length"] == str(len(photo_bytes))
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Tus-Resumable"] == "1.0.0"


def test_a_wrong_offset_is_409_and_changes_nothing(patient, photo_bytes):
    location = begin(patient, photo_bytes).headers["Location"]
    chunk(patient, location, 0, photo_bytes[:100])

    for offset in (0, 50, 101, 5000):
        assert_problem(chunk(patient, location, offset, photo_bytes[offset:offset + 10]), 409)
    assert head(patient, location).headers["Upload-Offset"] == "100"


@pytest.mark.parametrize(("headers", "status"), [
    ({"Content-Type": "application/octet-stream"}, 415),
    ({"Content-Type": "image/jpeg"}, 415),
    ({"Tus-Resumable": "0.2.2"}, 412),
    ({"Upload-Offset": "-1"}, 422),
    ({"Upload-Offset": "ten"}, 422),
], ids=["octet-stream", "image/jpeg", "old tus", "negative offset", "offset as a word"])
def test_a_malformed_chunk_is_refused_and_changes_nothing(patient, photo_bytes, headers, status):
    location = begin(patient, photo_bytes).headers["Location"]

    response = chunk(patient, location, 0, photo_bytes[:100], **headers)

    assert_problem(response, status)
    if status == 412:
        assert response.headers["Tus-Version"] == "1.0.0"
    assert head(patient, location).headers["Upload-Offset"] == "0"


def test_without_the_tus_header_the_request_is_400(patient, photo_bytes):
    location = begin(patient, photo_bytes).headers["Location"]

    assert_problem(chunk(patient, location, 0, b"abc", **{"Tus-Resumable": "yes please"}), 400)

    assert_problem(patient.request("PATCH", location.removeprefix("/api/v1"), data=b"abc",
                                   headers={"Upload-Offset": "0", "Content-Type":
                                            "application/offset+octet-stream"}), 400)
    assert patient.request("HEAD", location.removeprefix("/api/v1")).status_code == 400


def test_a_chunk_past_the_announced_length_is_413(patient, photo_bytes):
    location = begin(patient, photo_bytes).headers["Location"]

    assert_problem(chunk(patient, location, 0, photo_bytes + b"extra"), 413)
    assert head(patient, location).headers["Upload-Offset"] == "0"


def test_an_upload_longer_than_the_size_limit_is_413_at_once(app, patient):
    before = table_counts(app)

    assert_problem(patient.post("/uploads", json={
        "length": app.config["MAX_CONTENT_LENGTH"] + 1, "area": "vertex"}), 413)
    assert table_counts(app) == before


@pytest.mark.parametrize("body", [
    {"length": 10}, {"length": 0, "area": "vertex"}, {"length": "10", "area": "vertex"},
    {"length": 10, "area": "eyebrow"}, {"length": 10, "area": "vertex", "course_id": 999999},
    {"length": 10, "area": "vertex", "taken_at": "2099-01-01T00:00:00+00:00"},
    {"length": 10, "area": "vertex", "offset": 5},
])
def test_a_bad_upload_is_refused_before_any_byte_is_sent(app, patient, body):
    before = table_counts(app)

    assert_problem(patient.post("/uploads", json=body), 422)
    assert table_counts(app) == before and parts(app) == []


def test_a_file_that_is_no_photo_ends_the_upload_with_the_same_answer_as_post_photos(
        app, patient, db_rows):
    text = b"<html>not a photo</html>" * 10
    location = begin(patient, text).headers["Location"]

    assert_problem(chunk(patient, location, 0, text), 415)

    assert head(patient, location).status_code == 404
    assert db_rows(Upload) == [] and db_rows(Photo) == []
    assert [path for path in Path(app.config["PHOTO_DIR"]).rglob("*") if path.is_file()] == []


def test_uploading_bytes_already_uploaded_points_to_that_photo(patient, photo_bytes, db_rows):
    direct = patient.post("/photos", data={"file": (io.BytesIO(photo_bytes), "a.jpg"),
                                           "area": "vertex"}).get_json()
    location = begin(patient, photo_bytes).headers["Location"]

    response = chunk(patient, location, 0, photo_bytes)

    assert response.status_code == 204
    assert response.headers["Location"] == f"/api/v1/photos/{direct['id']}"
    assert len(db_rows(Photo)) == 1


def test_an_expired_upload_is_gone_and_its_bytes_removed(app, patient, photo_bytes, db_rows):
    location = begin(patient, photo_bytes).headers["Location"]
    chunk(patient, location, 0, photo_bytes[:500])
    assert len(parts(app)) == 1
    with app.app_context():
        session = app.extensions["database"].sessions()
        session.execute(update(Upload).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()

    assert head(patient, location).status_code == 404
    assert_problem(chunk(patient, location, 500, photo_bytes[500:]), 404)
    begin(patient, b"another one")
    assert len(db_rows(Upload)) == 1 and len(parts(app)) == 1


def test_nobody_else_can_see_or_feed_an_upload(patient, other_patient, clinician, photo_bytes):
    location = begin(patient, photo_bytes).headers["Location"]

    assert head(other_patient, location).status_code == 404
    assert_problem(chunk(other_patient, location, 0, photo_bytes), 404)
    assert_problem(chunk(clinician, location, 0, photo_bytes), 403)
    assert_problem(clinician.post("/uploads", json={"length": 10, "area": "vertex"}), 403)
    assert head(patient, location).headers["Upload-Offset"] == "0"
