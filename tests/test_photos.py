"""Progress photos over HTTP: bad files refused with nothing kept, good ones private and upright,
dedupe, serving, lists, timeline, corrections, deletion, compare, failures midway, photos due."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageOps
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from domain.photos import STANDARD_AREAS
from storage.blobs import Batch
from storage.models import Photo
from tests import photo_samples as samples
from tests.conftest import drain
from tests.test_conventions import assert_problem, table_counts


def photo_files(app) -> list[str]:
    root = Path(app.config["PHOTO_DIR"])
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def send(caller, data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg",
         **fields):
    """POST /photos with one file part (the name and declared type are the client's, unused)."""
    form = {"file": (io.BytesIO(data), name, content_type), "area": "frontal", **fields}
    return caller.post("/photos", data={key: value for key, value in form.items()
                                        if value is not None})


def log_session(caller, course, days_ago: float):
    performed = datetime.now(ZoneInfo(caller.user["timezone"])) - timedelta(days=days_ago)
    response = caller.post(f"/courses/{course['id']}/sessions", json={
        "performed_at": performed.isoformat(), "needle_length_mm": 0.5,
        "device_disinfected": True})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["session"]


def stamped(days_ago: float, caller) -> str:
    return (datetime.now(ZoneInfo(caller.user["timezone"])) - timedelta(days=days_ago)).isoformat()


# -- the bad-file corpus: each refused with its status, nothing kept ---------------------------

def _corrupt_jpeg() -> bytes:
    good = samples.jpeg()
    return good[:2] + b"\xff\xdb\x00\x02" + b"\x00" * 64 + good[200:]


def _bad_crc_png() -> bytes:
    data = bytearray(samples.png())
    data[29] ^= 0xFF  # inside IHDR's checksum
    return bytes(data)


BAD_FILES = {
    "zero bytes": (lambda: b"", 422),
    "truncated JPEG": (lambda: samples.jpeg()[: len(samples.jpeg()) // 2], 422),
    "JPEG header only": (lambda: samples.jpeg()[:300], 422),
    "JPEG with a broken segment": (_corrupt_jpeg, 422),
    "text named .jpg": (lambda: b"just some notes about my scalp\n" * 20, 415),
    "HTML named .jpg": (lambda: b"<!doctype html><html><script>alert(1)</script></html>", 415),
    "SVG named .jpg": (lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', 415),
    "PDF": (lambda: b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n", 415),
    "TIFF": (lambda: samples.encoded(samples.scalp(), "TIFF"), 415),
    "EPS": (lambda: b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n", 415),
    "GIF": (lambda: samples.encoded(samples.scalp(), "GIF"), 415),
    "BMP": (lambda: samples.encoded(samples.scalp(), "BMP"), 415),
    "AVIF": (lambda: b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 64, 415),
    "ZIP named .jpg": (samples.zip_archive, 415),
    "PNG bomb 20000x20000": (lambda: samples.png_of_size(20000, 20000, rows=4), 422),
    "truncated PNG": (lambda: samples.png()[:-40], 422),
    "PNG failing its checksum": (_bad_crc_png, 422),
    "truncated WebP": (lambda: samples.webp()[:-60], 422),
    "animated WebP": (lambda: samples.encoded(samples.scalp(), "WEBP", save_all=True,
                                               append_images=[samples.upright_marker()]), 422),
    "truncated HEIC": (lambda: samples.heic()[:-200], 422),
    "animated PNG": (lambda: samples.encoded(samples.scalp(), "PNG", save_all=True,
                                              append_images=[samples.upright_marker()]), 422),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_file_is_refused_and_nothing_is_kept(app, patient, course, case):
    make, status = BAD_FILES[case]
    before, files_before = table_counts(app), photo_files(app)

    response = send(patient, make(), "scalp.jpg", "image/jpeg")

    assert_problem(response, status)
    assert table_counts(app) == before
    assert photo_files(app) == files_before


def test_one_pixel_over_the_pixel_limit_is_refused(app, patient, course):
    app.config["MAX_IMAGE_PIXELS"] = 1000 * 1000
    before = table_counts(app)

    assert_problem(send(patient, samples.png_of_size(101, 9901)), 422)  # 1,000,001 pixels
    assert table_counts(app) == before and photo_files(app) == []
    assert send(patient, samples.png_of_size(1000, 1000)).status_code == 201


def test_one_byte_over_the_size_limit_is_413_and_exactly_the_limit_is_accepted(app, patient,
                                                                              course):
    upload = samples.jpeg()
    boundary, body = encode_multipart({
        "file": FileStorage(io.BytesIO(upload), "a.jpg", content_type="image/jpeg"),
        "area": "vertex"})
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    before = table_counts(app)

    app.config["MAX_CONTENT_LENGTH"] = len(body) - 1
    assert_problem(patient.post("/photos", data=body, headers=headers), 413)
    assert table_counts(app) == before and photo_files(app) == []

    app.config["MAX_CONTENT_LENGTH"] = len(body)
    assert patient.post("/photos", data=body, headers=headers).status_code == 201


@pytest.mark.parametrize(("form", "field"), [
    ({"area": "frontal"}, "file"),
    ({"file": "not a file, a text field", "area": "frontal"}, "file"),
    ({"file": (io.BytesIO(samples.jpeg()), "a.jpg"), "area": "eyebrow"}, "area"),
    ({"file": (io.BytesIO(samples.jpeg()), "a.jpg")}, "area"),
    ({"file": (io.BytesIO(samples.jpeg()), "a.jpg"), "area": "frontal", "gps": "52,13"}, "gps"),
    ({"file": (io.BytesIO(samples.jpeg()), "a.jpg"), "area": "frontal",
      "taken_at": "2099-01-01T10:00:00+00:00"}, "taken_at"),
    ({"file": (io.BytesIO(samples.jpeg()), "a.jpg"), "area": "frontal",
      "taken_at": "2026-11-01T10:00:00"}, "taken_at"),
    ({"file": (io.BytesIO(samples.jpeg()), "a.jpg"), "area": "frontal", "course_id": "x"},
     "course_id"),
], ids=["no file", "file as text", "unknown area", "no area", "unknown field", "future time",
        "time without offset", "course id not a number"])
def test_bad_form_fields_are_422_and_nothing_is_kept(app, patient, course, form, field):
    before = table_counts(app)

    response = patient.post("/photos", data=form, content_type="multipart/form-data")

    assert field in assert_problem(response, 422)["errors"]
    assert table_counts(app) == before and photo_files(app) == []


def test_a_json_body_is_not_a_photo(patient):
    assert_problem(patient.post("/photos", json={"area": "frontal"}), 415)


def test_clinicians_cannot_upload(clinician):
    assert_problem(send(clinician, samples.jpeg()), 403)


# -- good photos --------------------------------------------------------------------------------

def test_an_upload_answers_the_photo_and_its_files(patient, course):
    response = send(patient, samples.jpeg(samples.scalp((400, 300))), note="after washing")

    assert response.status_code == 201
    photo = response.get_json()
    assert photo["course_id"] == course["id"] and photo["session_id"] is None
    assert (photo["area"], photo["note"], photo["media_type"]) == (
        "frontal", "after washing", "image/jpeg")
    assert (photo["width"], photo["height"]) == (400, 300)
    assert photo["quality_warnings"] == []
    # Answered before its preview and thumbnail are made: the queue makes them next.
    assert photo["derivatives"] == "pending"
    for name in ("original", "preview", "thumbnail"):
        served = patient.get(photo["urls"][name].removeprefix("/api/v1"))
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert patient.get(f"/photos/{photo['id']}").get_json() == {**photo, "derivatives": "ready"}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_is_served_upright(patient, course, orientation):
    photo = send(patient, samples.oriented_jpeg(orientation)).get_json()

    assert (photo["width"], photo["height"]) == (96, 64)
    preview = Image.open(io.BytesIO(patient.get(f"/photos/{photo['id']}/preview").data))
    original = Image.open(io.BytesIO(patient.get(f"/photos/{photo['id']}/original").data))
    for picture in (preview, ImageOps.exif_transpose(original)):
        assert picture.size == (96, 64)
        assert picture.convert("RGB").getpixel((10, 10))[0] > 150  # red top left
        assert picture.convert("RGB").getpixel((80, 50))[0] < 100


def test_gps_is_there_before_and_gone_from_every_byte_stored_and_served(app, patient, course):
    upload = samples.phone_jpeg((640, 480))
    assert Image.open(io.BytesIO(upload)).getexif().get_ifd(samples.GPS_IFD)

    photo = send(patient, upload).get_json()

    served = [patient.get(f"/photos/{photo['id']}/{name}").data
              for name in ("original", "preview", "thumbnail")]
    stored = [(Path(app.config["PHOTO_DIR"]) / name).read_bytes() for name in photo_files(app)]
    assert len(stored) == 3
    for data in served + stored:
        exif = Image.open(io.BytesIO(data)).getexif()
        assert exif.get_ifd(samples.GPS_IFD) == {}
        assert samples.SERIAL.encode() not in data and samples.MAKER_SECRET not in data
        assert samples.XMP_SECRET not in data and samples.COMMENT_SECRET not in data


def test_the_file_name_is_never_stored_or_echoed(app, patient, course, db_rows):
    name = "IMG_secret-holiday-Mallorca.jpg"

    response = send(patient, samples.jpeg(), name=name)

    assert b"secret-holiday" not in response.data
    (row,) = db_rows(Photo)
    assert "secret-holiday" not in repr({column.name: getattr(row, column.name)
                                         for column in Photo.__table__.columns})
    assert not [path for path in photo_files(app) if "secret" in path]


def test_the_same_bytes_twice_make_one_photo(patient, course, db_rows, app):
    upload = samples.jpeg(samples.scalp((800, 600)))
    first = send(patient, upload, name="a.jpg")
    again = send(patient, upload, name="b.jpg", area="vertex")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == {**first.get_json(), "derivatives": "ready"}
    assert len(db_rows(Photo)) == 1
    assert len(photo_files(app)) == 3


def test_the_same_bytes_from_two_patients_are_two_photos_sharing_files(app, register, db_rows):
    upload = samples.jpeg(samples.scalp((800, 600)))
    mine, theirs = register(), register()

    first, second = send(mine, upload).get_json(), send(theirs, upload).get_json()

    assert first["id"] != second["id"] and len(db_rows(Photo)) == 2
    assert len(photo_files(app)) == 3
    assert mine.delete(f"/photos/{first['id']}").status_code == 204
    assert len(photo_files(app)) == 3, "the other patient's photo keeps its files"
    assert theirs.get(f"/photos/{second['id']}/original").status_code == 200


def test_check_tells_which_hashes_the_server_has(patient, other_patient, course):
    known = samples.jpeg(samples.scalp((120, 90)))
    send(patient, known)
    digest = hashlib.sha256(known).hexdigest()
    unknown = hashlib.sha256(b"never uploaded").hexdigest()

    body = patient.post("/photos/check", json={"sha256": [digest.upper(), unknown]}).get_json()

    photo_id = patient.get("/photos").get_json()["items"][0]["id"]
    assert body == {"known": [{"sha256": digest, "photo_id": photo_id}], "missing": [unknown]}
    theirs = other_patient.post("/photos/check", json={"sha256": [digest]}).get_json()
    assert theirs == {"known": [], "missing": [digest]}


@pytest.mark.parametrize("body", [{"sha256": []}, {"sha256": ["abc"]}, {"sha256": "0" * 64},
                                  {"sha256": ["0" * 64] * 201}, {}])
def test_check_refuses_what_is_not_a_list_of_hashes(patient, body):
    assert_problem(patient.post("/photos/check", json=body), 422)


def test_accepted_oddities_cmyk_16_bit_heic_and_a_polyglot(patient, course):
    cmyk = send(patient, samples.jpeg(samples.scalp().convert("CMYK")))
    deep = send(patient, samples.png(Image.linear_gradient("L").convert("I;16")))
    heic = send(patient, samples.heic())
    polyglot = send(patient, samples.jpeg(samples.scalp((90, 60))) + samples.zip_archive())

    assert [r.status_code for r in (cmyk, deep, heic, polyglot)] == [201] * 4
    assert deep.get_json()["media_type"] == "image/png"
    assert heic.get_json()["media_type"] == "image/jpeg"
    original = patient.get(f"/photos/{polyglot.get_json()['id']}/original").data
    assert original.endswith(b"\xff\xd9") and b"PK\x03\x04" not in original


def test_quality_warnings_come_back_with_the_upload(patient, course):
    dark = send(patient, samples.jpeg(samples.scalp((640, 480), brightness=30)))
    blurred = send(patient, samples.jpeg(samples.scalp((640, 480), blur=3)))

    assert "too_dark" in dark.get_json()["quality_warnings"]
    assert blurred.get_json()["quality_warnings"] == ["blurry"]


# -- capture time -------------------------------------------------------------------------------

def test_taken_at_comes_from_exif_with_its_offset(patient, course):
    upload = samples.jpeg(exif=samples.exif_block(taken="2026:11:02 09:15:00", offset="-03:00"))

    photo = send(patient, upload, taken_at="2026-11-05T10:00:00+01:00").get_json()

    assert (photo["taken_at"], photo["taken_at_source"]) == ("2026-11-02T09:15:00-03:00", "exif")


def test_taken_at_is_the_clients_when_exif_has_no_offset_or_no_time(patient, course):
    with_local_time = samples.jpeg(exif=samples.exif_block(taken="2026:11:02 09:15:00"))

    photo = send(patient, with_local_time, taken_at="2026-11-02T09:15:00+05:45").get_json()

    assert (photo["taken_at"], photo["taken_at_source"]) == ("2026-11-02T09:15:00+05:45", "client")


def test_an_exif_time_without_offset_is_read_in_the_patients_zone(patient, course):
    photo = send(patient, samples.jpeg(exif=samples.exif_block(taken="2026:07:02 09:15:00")))

    assert photo.get_json()["taken_at"] == "2026-07-02T09:15:00+02:00"  # Berlin in summer
    assert photo.get_json()["taken_at_source"] == "exif"


def test_without_any_time_the_upload_time_counts(patient, course):
    before = datetime.now(timezone.utc)

    photo = send(patient, samples.jpeg()).get_json()

    taken_at = datetime.fromisoformat(photo["taken_at"])
    assert photo["taken_at_source"] == "server"
    assert before - timedelta(seconds=5) <= taken_at <= datetime.now(timezone.utc)
    assert taken_at.utcoffset() == datetime.now(ZoneInfo("Europe/Berlin")).utcoffset()


def test_a_camera_clock_never_set_is_ignored(patient, course):
    upload = samples.jpeg(exif=samples.exif_block(taken="1980:01:01 00:00:00", offset="+00:00"))

    photo = send(patient, upload, taken_at="2026-11-02T09:15:00+01:00").get_json()

    assert photo["taken_at_source"] == "client"


# -- course and session ------------------------------------------------------------------------

def test_without_a_course_id_the_open_course_is_used_and_sessions_must_be_in_it(
        patient, course, other_patient):
    session = log_session(patient, course, 3)
    photo = send(patient, samples.jpeg(), session_id=str(session["id"])).get_json()
    assert (photo["course_id"], photo["session_id"]) == (course["id"], session["id"])

    theirs = other_patient.post("/courses", json={
        "regimen": "standard", "setting": "home", "start_date": course["start_date"]}).get_json()
    their_session = log_session(other_patient, theirs, 2)
    refused = send(patient, samples.jpeg(samples.scalp((50, 50))),
                   session_id=str(their_session["id"]))
    assert "session_id" in assert_problem(refused, 422)["errors"]
    refused = send(patient, samples.jpeg(samples.scalp((50, 50))), course_id=str(theirs["id"]))
    assert "course_id" in assert_problem(refused, 422)["errors"]


def test_a_patient_without_an_open_course_keeps_photos_outside_any(patient):
    photo = send(patient, samples.jpeg()).get_json()

    assert photo["course_id"] is None


# -- lists and timeline ------------------------------------------------------------------------

def _four_photos(patient):
    ids = []
    for days_ago, area in ((30, "frontal"), (20, "vertex"), (10, "frontal"), (1, "occipital")):
        upload = samples.jpeg(samples.scalp((40 + days_ago, 40)))
        ids.append(send(patient, upload, area=area, taken_at=stamped(days_ago, patient))
                   .get_json()["id"])
    return ids


def test_the_list_is_newest_taken_first_and_pages_with_a_cursor(patient, course):
    oldest, older, newer, newest = _four_photos(patient)

    first = patient.get("/photos?limit=3").get_json()
    second = patient.get(f"/photos?limit=3&cursor={first['next_cursor']}").get_json()

    assert [item["id"] for item in first["items"]] == [newest, newer, older]
    assert [item["id"] for item in second["items"]] == [oldest]
    assert second["next_cursor"] is None


def test_the_list_filters_by_area_course_and_time(patient, course, other_patient):
    oldest, older, newer, newest = _four_photos(patient)

    def ids(query):
        response = patient.get(f"/photos?{query}")
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()["items"]]

    assert ids("area=frontal") == [newer, oldest]
    assert ids(f"course_id={course['id']}&area=vertex") == [older]
    window = (f"from={stamped(25, patient)}&to={stamped(5, patient)}"
              .replace("+", "%2B"))
    assert ids(window) == [newer, older]
    assert ids("course_id=999999") == []
    assert other_patient.get("/photos").get_json()["items"] == []


@pytest.mark.parametrize("query", ["area=eyebrow", "from=yesterday", "cursor=WzFd",
                                   "cursor=WyJ4IiwxXQ", "limit=0", "colour=red",
                                   "from=2026-11-02T00:00:00%2B00:00&to=2026-11-01T00:00:00%2B00:00"])
def test_bad_list_arguments_are_422(patient, query):
    assert_problem(patient.get(f"/photos?{query}"), 422)


def test_the_timeline_counts_per_week_and_month_and_area(patient, course):
    moments = ["2026-09-28T10:00:00+02:00", "2026-10-01T08:00:00+02:00",
               "2026-10-04T23:30:00+02:00", "2026-10-05T00:30:00+02:00",
               "2026-10-05T09:00:00+02:00"]
    for index, (moment, area) in enumerate(zip(moments, ["frontal", "frontal", "vertex",
                                                         "frontal", "frontal"])):
        upload = samples.jpeg(samples.scalp((30 + index, 30)))
        assert send(patient, upload, area=area, taken_at=moment).status_code == 201

    weeks = patient.get("/photos/timeline?bucket=week").get_json()
    months = patient.get("/photos/timeline?bucket=month&area=frontal").get_json()

    assert weeks == {"bucket": "week", "items": [
        {"period": "2026-10-05", "area": "frontal", "count": 2},
        {"period": "2026-09-28", "area": "frontal", "count": 2},
        {"period": "2026-09-28", "area": "vertex", "count": 1}]}
    assert months == {"bucket": "month", "items": [
        {"period": "2026-10-01", "area": "frontal", "count": 3},
        {"period": "2026-09-01", "area": "frontal", "count": 1}]}


# -- serving -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["original", "preview", "thumbnail"])
def test_files_are_private_typed_and_revalidated_with_an_etag(patient, course, name):
    photo = send(patient, samples.png()).get_json()
    path = f"/photos/{photo['id']}/{name}"

    first = patient.get(path)
    again = patient.get(path, headers={"If-None-Match": first.headers["ETag"]})

    assert first.status_code == 200
    assert first.mimetype == ("image/png" if name == "original" else "image/jpeg")
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert again.status_code == 304 and again.data == b""


def test_the_metadata_has_an_etag_too(patient, course):
    photo = send(patient, samples.jpeg()).get_json()
    first = patient.get(f"/photos/{photo['id']}")

    assert patient.get(f"/photos/{photo['id']}",
                       headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_a_linked_clinician_sees_the_photos_and_the_patient_sees_that_in_the_log(
        patient, course, clinician, link):
    photo = send(patient, samples.jpeg()).get_json()
    link(patient, clinician)

    assert clinician.get("/photos").get_json()["items"][0]["id"] == photo["id"]
    assert clinician.get(f"/photos/{photo['id']}/original").status_code == 200

    log = patient.get("/me/access-log").get_json()["items"]
    assert {(entry["object_type"], entry["object_id"]) for entry in log} >= {("photo", photo["id"])}


# -- corrections and deletion ------------------------------------------------------------------

def test_area_note_and_session_can_be_corrected(patient, course):
    session = log_session(patient, course, 2)
    photo = send(patient, samples.jpeg()).get_json()

    changed = patient.patch(f"/photos/{photo['id']}", json={
        "area": "vertex", "note": "better light", "session_id": session["id"]})
    unlinked = patient.patch(f"/photos/{photo['id']}", json={"session_id": None})

    assert changed.status_code == 200
    assert (changed.get_json()["area"], changed.get_json()["note"],
            changed.get_json()["session_id"]) == ("vertex", "better light", session["id"])
    assert unlinked.get_json()["session_id"] is None


@pytest.mark.parametrize("body", [{}, {"area": "eyebrow"}, {"session_id": 999999},
                                  {"course_id": 999999}, {"width": 10}, {"taken_at_source": "exif"}])
def test_bad_corrections_are_422_and_change_nothing(patient, course, body):
    send(patient, samples.jpeg())
    photo = patient.get("/photos").get_json()["items"][0]

    assert_problem(patient.patch(f"/photos/{photo['id']}", json=body), 422)
    assert patient.get(f"/photos/{photo['id']}").get_json() == photo


def test_delete_removes_the_row_and_every_file(app, patient, course, db_rows):
    photo = send(patient, samples.phone_jpeg((640, 480))).get_json()
    assert len(photo_files(app)) == 3

    assert patient.delete(f"/photos/{photo['id']}").status_code == 204

    assert db_rows(Photo) == []
    assert photo_files(app) == []
    assert_problem(patient.get(f"/photos/{photo['id']}/original"), 404)
    assert send(patient, samples.phone_jpeg()).status_code == 201, "uploading it again works"


# -- compare -----------------------------------------------------------------------------------

def test_compare_puts_the_baseline_and_the_latest_side_by_side_with_captions(patient, course):
    for days_ago in (35, 21, 7):
        if days_ago < 35:
            log_session(patient, course, days_ago + 1)
        upload = samples.jpeg(samples.scalp((300 + days_ago, 400)))
        assert send(patient, upload, area="vertex", taken_at=stamped(days_ago, patient)
                    ).status_code == 201
    send(patient, samples.jpeg(samples.scalp((640, 480))), area="frontal")

    response = patient.get(f"/courses/{course['id']}/compare?area=vertex")

    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "private, no-cache"
    picture = Image.open(io.BytesIO(response.data))
    assert picture.width > picture.height > 400
    again = patient.get(f"/courses/{course['id']}/compare?area=vertex",
                        headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_compare_takes_chosen_photos_and_refuses_others(patient, course, other_patient):
    first = send(patient, samples.jpeg(samples.scalp((60, 80))), area="vertex").get_json()
    second = send(patient, samples.jpeg(samples.scalp((80, 60))), area="vertex").get_json()
    frontal = send(patient, samples.jpeg(samples.scalp((70, 70)))).get_json()
    path = f"/courses/{course['id']}/compare"

    chosen = patient.get(f"{path}?area=vertex&before={second['id']}&after={first['id']}")
    assert chosen.status_code == 200
    assert "before" in assert_problem(
        patient.get(f"{path}?area=vertex&before={frontal['id']}"), 422)["errors"]
    assert_problem(patient.get(f"{path}?area=occipital"), 422)
    assert_problem(patient.get(f"{path}?area=vertex&before={first['id']}&after={first['id']}"),
                   422)
    assert_problem(other_patient.get(f"{path}?area=vertex"), 404)


# -- failures midway: a complete photo or nothing visible --------------------------------------

def consistent(app, patient) -> int:
    """How many photos the patient sees, after checking each has all its files, whole."""
    root = Path(app.config["PHOTO_DIR"])
    items = patient.get("/photos").get_json()["items"]
    for item in items:
        for name in ("original", "preview", "thumbnail"):
            response = patient.get(f"/photos/{item['id']}/{name}")
            assert response.status_code == 200
            Image.open(io.BytesIO(response.data)).load()
    with app.app_context():
        session = app.extensions["database"].sessions()
        for photo in session.query(Photo):
            for key in (photo.original_key, photo.preview_key, photo.thumbnail_key):
                data = (root / key).read_bytes()
                assert hashlib.sha256(data).hexdigest() in key
    return len(items)


FAILURES = ["after the files are written", "at commit", "after commit"]


@pytest.mark.parametrize("where", FAILURES)
def test_a_failure_midway_leaves_a_complete_photo_or_nothing(app, patient, course, monkeypatch,
                                                             where):
    real_publish, real_commit = Batch.publish, Session.commit

    def publish_then_fail(self, *arguments):
        real_publish(self, *arguments)
        raise OSError("disk gone after the write")

    def failing_commit(self):
        raise OSError("connection lost at commit")

    def commit_then_fail(self):
        real_commit(self)
        raise OSError("connection lost after commit")

    broken = {"after the files are written": (Batch, "publish", publish_then_fail),
              "at commit": (Session, "commit", failing_commit),
              "after commit": (Session, "commit", commit_then_fail)}[where]
    upload = samples.jpeg(samples.scalp((800, 600)))
    client = patient.client
    client.application.testing = False  # the failure becomes a 500, as in production
    client.drains = False  # the queue's worker runs later, not under the failure
    with monkeypatch.context() as patched:
        patched.setattr(*broken)
        failed = send(patient, upload)
    client.application.testing, client.drains = True, True

    assert failed.status_code == 500
    assert len(photo_files(app)) == 1, "the original was written before the failure"
    # A job was sent only if the photo was committed: its worker makes the derivatives.
    assert drain(app) == (1 if where == "after commit" else 0)
    seen = consistent(app, patient)
    assert seen == (1 if where == "after commit" else 0)
    retried = send(patient, upload)
    assert retried.status_code in (200, 201)
    assert consistent(app, patient) == 1


# -- photos due in the course status -----------------------------------------------------------

def test_photos_due_follow_the_milestones(patient, course, count_queries):
    status = lambda: patient.get(f"/courses/{course['id']}/status").get_json()  # noqa: E731
    assert status()["photos_due"] == {"milestone": "baseline", "areas": list(STANDARD_AREAS)}

    send(patient, samples.jpeg(samples.scalp((31, 30))), area="frontal",
         taken_at=stamped(35, patient))
    send(patient, samples.jpeg(samples.scalp((32, 30))), area="vertex",
         taken_at=stamped(35, patient))
    assert status()["photos_due"] == {"milestone": "baseline", "areas": [
        area for area in STANDARD_AREAS if area not in ("frontal", "vertex")]}

    for days_ago in (34, 27, 20, 13):
        log_session(patient, course, days_ago)
    assert status()["photos_due"] == {"milestone": "session_4", "areas": list(STANDARD_AREAS)}

    for index, area in enumerate(STANDARD_AREAS):
        taken = stamped(13.5 if area == "part_line" else 12, patient)
        send(patient, samples.jpeg(samples.scalp((40 + index, 30))), area=area, taken_at=taken)
    assert status()["photos_due"] == {"milestone": "session_4", "areas": ["part_line"]}

    with count_queries() as few:
        status()
    for index in range(5):
        send(patient, samples.jpeg(samples.scalp((60 + index, 30))), area="occipital",
             taken_at=stamped(1, patient))
    with count_queries() as more:
        status()
    assert len(more) == len(few)


# -- Idempotency-Key on a multipart upload -----------------------------------------------------

def test_a_retry_with_the_same_key_and_file_is_answered_again(patient, course, db_rows):
    upload = samples.jpeg()

    def post(data, name, key="upload-1", area="frontal"):
        return patient.post("/photos", headers={"Idempotency-Key": key},
                            data={"file": (io.BytesIO(data), name), "area": area})

    first = post(upload, "IMG_0001.jpg")
    again = post(upload, "renamed-by-the-retry.jpg")  # another boundary, another name

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.data == first.data
    assert "Idempotency-Key" in assert_problem(post(samples.png(), "IMG_0001.jpg"), 422)["errors"]
    assert_problem(post(upload, "IMG_0001.jpg", area="vertex"), 422)
    assert len(db_rows(Photo)) == 1


def test_a_nul_character_in_a_form_field_is_422_and_stores_nothing(app, patient, course):
    refused = send(patient, samples.jpeg(), note="before\x00after")
    assert_problem(refused, 422)
    assert photo_files(app) == []
    assert send(patient, samples.jpeg(), note="before after").status_code == 201
