"""Exports of a course, opened by real readers: zipfile, pypdf, pypdfium2, Pillow, fhir.resources."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from PIL import Image
from pypdf import PdfReader
import pypdfium2

from services.exports import timeline_pdf
from services.exports.zip_stream import CHUNK_SIZE
from storage.blobs import LocalBlobStore
from storage.models import AccessLogEntry
from tests import photo_samples
from tests.course_samples import (
    COCKTAIL,
    PHOTO_AREAS,
    SESSION_DAYS,
    add_photo,
    photo_bytes,
    sample_course,
)

A4_POINTS = (595.28, 841.89)


@pytest.fixture
def shared(app, patient, clinician, link):
    """A patient's course shared with a clinician who measured hair counts."""
    link(patient, clinician)
    return sample_course(patient, clinician)


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None
    return archive


# -- ZIP ---------------------------------------------------------------------------------------

def test_the_zip_holds_every_photo_by_area_and_date_with_checked_hashes(shared, patient):
    course_id = shared.course["id"]
    archive = _zip(patient.get(f"/courses/{course_id}/export.zip"))
    manifest = json.loads(archive.read("manifest.json"))

    photos = manifest["photos"]
    assert len(photos) == sum(len(ids) for ids in shared.photo_ids.values())
    for entry in photos + manifest["files"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    assert {entry["path"] for entry in manifest["files"]} == {"sessions.csv", "observations.csv"}
    names = [entry["path"] for entry in photos]
    assert set(names) == {name for name in archive.namelist() if name.startswith("photos/")}
    # photos/<area>/<date>_s<session>.jpg, the baseline as session 0, dates in order per area
    zone = ZoneInfo(patient.user["timezone"])
    start = datetime.fromisoformat(shared.course["start_date"]).date()
    for area in PHOTO_AREAS:
        expected = [f"photos/{area}/{start}_s0.jpg"] + [
            f"photos/{area}/{datetime.fromisoformat(s['performed_at']).astimezone(zone).date()}"
            f"_s{s['number']}.jpg" for s in shared.sessions]
        assert [name for name in names if name.startswith(f"photos/{area}/")] == expected
    for entry in photos:
        assert archive.getinfo(entry["path"]).compress_type == zipfile.ZIP_STORED
        assert archive.getinfo(entry["path"]).file_size == entry["bytes"]
    assert archive.getinfo("sessions.csv").compress_type == zipfile.ZIP_DEFLATED

    assert manifest["course"]["id"] == course_id
    assert manifest["status"]["sessions_done"] == len(SESSION_DAYS)
    assert [s["number"] for s in manifest["sessions"]] == [1, 2, 3, 4]
    assert manifest["sessions"][0]["cocktail"] == COCKTAIL
    assert {o["kind"] for o in manifest["observations"]} == {
        "shedding_count", "hair_count_per_cm2", "norwood_stage"}


def test_the_csv_tables_have_a_row_per_session_and_measurement(shared, patient):
    archive = _zip(patient.get(f"/courses/{shared.course['id']}/export.zip"))
    sessions = list(csv.DictReader(io.StringIO(archive.read("sessions.csv").decode("utf-8-sig"))))
    assert [row["number"] for row in sessions] == ["1", "2", "3", "4"]
    assert [row["needle_length_mm"] for row in sessions] == ["0.5", "0.5", "0.75", "0.75"]
    assert sessions[0]["cocktail"] == COCKTAIL["name"]
    assert sessions[0]["cocktail_ingredients"] == "; ".join(COCKTAIL["ingredients"])
    assert sessions[0]["side_effects"] == "redness"
    assert sessions[0]["pain_score"] == "2"
    assert sessions[2]["notes"] == "session note 3"
    observations = list(csv.DictReader(
        io.StringIO(archive.read("observations.csv").decode("utf-8-sig"))))
    assert sorted(row["kind"] for row in observations) == [
        "hair_count_per_cm2", "hair_count_per_cm2", "norwood_stage", "shedding_count",
        "shedding_count"]
    assert {row["recorded_by"] for row in observations} == {"Pat Ient", "Dr. Weber"}


def test_a_formula_in_a_note_reaches_the_csv_as_text(app, patient):
    course = sample_course(patient).course
    session_id = patient.get(f"/courses/{course['id']}/sessions").get_json()["items"][0]["id"]
    patient.patch(f"/sessions/{session_id}", json={"notes": "=HYPERLINK(\"http://x\")"})
    archive = _zip(patient.get(f"/courses/{course['id']}/export.zip"))
    rows = list(csv.DictReader(io.StringIO(archive.read("sessions.csv").decode("utf-8-sig"))))
    assert rows[0]["notes"] == "'=HYPERLINK(\"http://x\")"


def test_the_zip_originals_carry_no_gps(app, patient):
    course = patient.post("/courses", json={"regimen": "standard", "setting": "clinic",
                                            "start_date": "2026-11-01"}).get_json()
    exif = photo_samples.exif_block(gps=True, private=True)
    zone = ZoneInfo(patient.user["timezone"])
    add_photo(patient, "vertex", datetime(2026, 11, 2, 9, tzinfo=zone),
              course["id"], data=photo_bytes(3, exif=exif))
    archive = _zip(patient.get(f"/courses/{course['id']}/export.zip"))
    (name,) = [name for name in archive.namelist() if name.startswith("photos/")]
    data = archive.read(name)
    with Image.open(io.BytesIO(data)) as picture:
        assert photo_samples.GPS_IFD not in picture.getexif()
    assert photo_samples.SERIAL.encode() not in data


def test_the_zip_is_streamed_the_first_bytes_before_the_last_photo_is_read(
        app, shared, patient, monkeypatch):
    opened = []
    original_open = LocalBlobStore.open

    def counting_open(self, key):
        opened.append(key)
        return original_open(self, key)

    monkeypatch.setattr(LocalBlobStore, "open", counting_open)
    response = patient.get(f"/courses/{shared.course['id']}/export.zip", buffered=False)
    assert response.status_code == 200
    assert response.is_streamed
    chunks = iter(response.response)
    first = next(chunks)
    assert first.startswith(b"PK\x03\x04")
    photo_count = sum(len(ids) for ids in shared.photo_ids.values())
    assert len(opened) < photo_count
    rest = list(chunks)
    response.close()
    assert len(opened) == photo_count
    assert max(len(chunk) for chunk in [first, *rest]) <= CHUNK_SIZE + 64 * 1024
    assert zipfile.ZipFile(io.BytesIO(first + b"".join(rest))).testzip() is None


def test_memory_of_the_zip_does_not_grow_with_the_photo_count(app, patient):
    """Each chunk leaves before the next is read: the largest is one read, not the archive."""
    course = patient.post("/courses", json={"regimen": "standard", "setting": "clinic",
                                            "start_date": "2026-11-01"}).get_json()
    zone = ZoneInfo(patient.user["timezone"])
    for seed in range(12):
        add_photo(patient, "frontal", datetime(2026, 11, 2, 9, seed, tzinfo=zone),
                  course["id"], data=photo_bytes(seed, size=(640, 480)))
    response = patient.get(f"/courses/{course['id']}/export.zip", buffered=False)
    sizes = [len(chunk) for chunk in response.response]
    response.close()
    assert len(sizes) > 12
    assert max(sizes) < sum(sizes) / 6


def test_a_linked_clinicians_export_is_in_the_access_log(shared, patient, clinician, db_rows):
    course_id = shared.course["id"]
    for path in ("export.zip", "export.pdf", "fhir", "timelapse.gif?area=vertex"):
        assert clinician.get(f"/courses/{course_id}/{path}").status_code == 200, path
    exports = [entry for entry in db_rows(AccessLogEntry) if entry.object_type == "export"]
    assert len(exports) == 4
    assert {(entry.patient_id, entry.clinician_id, entry.object_id) for entry in exports} == {
        (patient.user["id"], clinician.user["id"], course_id)}
    log = patient.get("/me/access-log").get_json()["items"]
    assert [item["object_type"] for item in log].count("export") == 4


def test_the_owners_own_exports_are_not_logged(shared, patient, db_rows):
    assert patient.get(f"/courses/{shared.course['id']}/export.zip").status_code == 200
    assert [e for e in db_rows(AccessLogEntry) if e.object_type == "export"] == []


@pytest.mark.parametrize("path", ["export.zip", "export.pdf", "fhir",
                                  "timelapse.gif?area=vertex"])
def test_foreign_callers_get_404_and_no_byte(shared, register, make_clinician, path):
    course_id = shared.course["id"]
    for caller in (register(name="Stranger"), make_clinician("Dr. Nobody")):
        response = caller.get(f"/courses/{course_id}/{path}")
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert b"session note" not in response.data


def test_a_course_without_photos_still_exports(patient):
    course = patient.post("/courses", json={"regimen": "standard", "setting": "home",
                                            "start_date": "2026-11-01"}).get_json()
    archive = _zip(patient.get(f"/courses/{course['id']}/export.zip"))
    assert set(archive.namelist()) == {"manifest.json", "sessions.csv", "observations.csv"}
    reader = PdfReader(io.BytesIO(patient.get(f"/courses/{course['id']}/export.pdf").data))
    assert len(reader.pages) == 1
    assert "none yet" in reader.pages[0].extract_text()


# -- PDF ---------------------------------------------------------------------------------------

def test_the_pdf_timeline_reads_as_a_course_summary_photo_grids_chart_and_table(shared, patient):
    response = patient.get(f"/courses/{shared.course['id']}/export.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    # cover, one page per area, the charts, the sessions table
    assert len(reader.pages) == 1 + len(PHOTO_AREAS) + 1 + 1
    for page in reader.pages:
        assert tuple(round(float(v), 2) for v in page.mediabox[2:]) == A4_POINTS
    cover = reader.pages[0].extract_text()
    for text in ("Pat Ient", "intensive", "4 done of 10 planned", "100 % on time",
                 "minoxidil 5 %, biotin", shared.course["start_date"]):
        assert text in cover, text
    start = shared.course["start_date"]
    frontal = reader.pages[1].extract_text()
    assert "Frontal" in frontal
    assert f"{start}, baseline" in frontal
    assert "session 4" in frontal
    assert len(reader.pages[1].images) == len(shared.photo_ids["frontal"])
    charts = reader.pages[3].extract_text()
    assert "Hair count per cm" in charts and "Daily shedding" in charts
    table = reader.pages[4].extract_text()
    for text in ("0.5 mm", "0.75 mm", COCKTAIL["name"], "redness", "5/10"):
        assert text in table, text


def test_a_pdf_page_renders_to_an_image_with_the_photos_on_it(shared, patient):
    data = patient.get(f"/courses/{shared.course['id']}/export.pdf").data
    document = pypdfium2.PdfDocument(data)
    picture = document[1].render(scale=1).to_pil().convert("RGB")
    # A4 at 72 dpi, to the rounding of the renderer
    assert all(abs(side - a4) <= 1 for side, a4 in zip(picture.size, A4_POINTS))
    # The photos are dark scalp pictures on a white page: a good share of the page is dark.
    dark = sum(picture.convert("L").histogram()[:128])
    assert dark > picture.width * picture.height * 0.05
    document.close()


def test_the_pdf_embeds_photos_at_print_resolution_not_originals(app, patient):
    course = patient.post("/courses", json={"regimen": "standard", "setting": "clinic",
                                            "start_date": "2026-11-01"}).get_json()
    zone = ZoneInfo(patient.user["timezone"])
    add_photo(patient, "vertex", datetime(2026, 11, 2, 9, tzinfo=zone),
              course["id"], data=photo_bytes(1, size=(2400, 1800)))
    reader = PdfReader(io.BytesIO(patient.get(f"/courses/{course['id']}/export.pdf").data))
    page = reader.pages[1]
    (image,) = page.images
    width_points = float(page.mediabox.width) - 2 * timeline_pdf.MARGIN / 25.4 * 72
    cell_inches = (width_points / 72 - 2 * timeline_pdf.GAP / 25.4) / timeline_pdf.COLUMNS
    # 300 dpi across its cell, made from the 1280 px preview, not the 2400 px original
    assert max(image.image.size) == round(cell_inches * timeline_pdf.PRINT_DPI)
    assert image.image.size[0] / image.image.size[1] == pytest.approx(4 / 3, abs=0.01)


def test_names_in_any_script_are_printed(app, register):
    patient = register(name="Ольга Müller")
    sample_course(patient)
    course_id = patient.get("/courses").get_json()["items"][0]["id"]
    reader = PdfReader(io.BytesIO(patient.get(f"/courses/{course_id}/export.pdf").data))
    assert "Ольга Müller" in reader.pages[0].extract_text()


# -- time-lapse --------------------------------------------------------------------------------

def test_the_timelapse_shows_the_areas_photos_in_date_order_one_size_looping(shared, patient):
    response = patient.get(f"/courses/{shared.course['id']}/timelapse.gif?area=vertex")
    assert response.status_code == 200
    assert response.mimetype == "image/gif"
    animation = Image.open(io.BytesIO(response.data))
    assert animation.format == "GIF"
    assert animation.n_frames == len(shared.photo_ids["vertex"])
    assert animation.info["loop"] == 0
    sizes, frames = set(), []
    for index in range(animation.n_frames):
        animation.seek(index)
        sizes.add(animation.size)
        frames.append(animation.convert("RGB"))
    assert len(sizes) == 1
    # Each frame has its own caption: the strips under the pictures differ.
    width, height = frames[0].size
    strips = [frame.crop((0, height - 40, width, height)).tobytes() for frame in frames]
    assert len(set(strips)) == len(frames)


def test_the_timelapse_as_webp(shared, patient):
    response = patient.get(f"/courses/{shared.course['id']}/timelapse.gif?area=frontal&format=webp")
    assert response.status_code == 200
    assert response.mimetype == "image/webp"
    animation = Image.open(io.BytesIO(response.data))
    assert animation.format == "WEBP"
    assert animation.n_frames == len(shared.photo_ids["frontal"])


@pytest.mark.parametrize(("query", "field"), [("", "area"), ("?area=crown", "area"),
                                               ("?area=occipital", "area"),
                                               ("?area=vertex&format=avi", "format")])
def test_a_timelapse_needs_an_area_with_photos(shared, patient, query, field):
    response = patient.get(f"/courses/{shared.course['id']}/timelapse.gif{query}")
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


# -- FHIR --------------------------------------------------------------------------------------

def _bundle(response) -> dict:
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/fhir+json"
    return json.loads(response.data)


def _resources(bundle: dict, kind: str) -> list[dict]:
    return [entry["resource"] for entry in bundle["entry"]
            if entry["resource"]["resourceType"] == kind]


def test_every_resource_of_the_fhir_bundle_validates(shared, patient):
    bundle = _bundle(patient.get(f"/courses/{shared.course['id']}/fhir"))
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"].startswith("urn:uuid:")
    urls = {entry["fullUrl"] for entry in bundle["entry"]}
    references = [value["reference"] for value in _walk(bundle["entry"])]
    assert references and set(references) <= urls


def _walk(node):
    if isinstance(node, dict):
        if set(node) == {"reference"}:
            yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_the_fhir_bundle_holds_the_plan_sessions_photos_measurements_and_consent(
        shared, patient, clinician):
    bundle = _bundle(patient.get(f"/courses/{shared.course['id']}/fhir"))
    (plan,) = _resources(bundle, "CarePlan")
    activities = [activity["detail"] for activity in plan["activity"]]
    # intensive: weekly (5 x 7 days), biweekly (5 x 14 days), maintenance (every 30 days, open)
    repeats = [detail["scheduledTiming"]["repeat"] for detail in activities]
    assert [(r.get("count"), r["period"], r["periodUnit"]) for r in repeats] == [
        (5, 7, "d"), (5, 14, "d"), (None, 30, "d")]
    assert [detail["status"] for detail in activities] == ["in-progress", "not-started",
                                                           "not-started"]
    assert "minoxidil" in plan["note"][0]["text"]

    procedures = _resources(bundle, "Procedure")
    assert len(procedures) == len(SESSION_DAYS)
    assert "Needle length 0.75 mm" in procedures[-1]["note"][0]["text"]
    assert "Peptide serum (copper peptides, B vitamins)" in procedures[0]["note"][0]["text"]
    assert all(p["usedReference"] for p in procedures)
    (device,) = _resources(bundle, "Device")
    assert device["property"][0]["valueQuantity"][0]["code"] == "mm"

    media = _resources(bundle, "Media")
    assert len(media) == sum(len(ids) for ids in shared.photo_ids.values())
    photo_id = shared.photo_ids["vertex"][0]
    (first,) = [m for m in media if m["id"] == f"media-{photo_id}"]
    assert first["content"]["url"] == f"http://localhost/api/v1/photos/{photo_id}/original"
    assert first["content"]["contentType"] == "image/jpeg"
    original = patient.get(f"/photos/{photo_id}/original")
    assert original.status_code == 200
    assert len(original.data) == first["content"]["size"]

    observations = {o["code"]["text"]: o for o in _resources(bundle, "Observation")}
    units = {o["valueQuantity"]["code"] for o in _resources(bundle, "Observation")
             if "valueQuantity" in o}
    assert units == {"/cm2", "/d"}
    assert all(o["valueQuantity"]["system"] == "http://unitsofmeasure.org"
               for o in _resources(bundle, "Observation") if "valueQuantity" in o)
    assert observations["Norwood-Hamilton stage"]["valueString"] == "3A"

    (consent,) = _resources(bundle, "Consent")
    assert consent["status"] == "active"
    (practitioner,) = _resources(bundle, "Practitioner")
    assert practitioner["name"][0]["text"] == "Dr. Weber"
    assert consent["provision"]["actor"][0]["reference"]["reference"] in {
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Practitioner"}
    (person,) = _resources(bundle, "Patient")
    assert person["name"][0]["text"] == "Pat Ient"


def test_a_revoked_link_is_an_inactive_consent_with_its_period_closed(shared, patient):
    (share,) = patient.get("/shares").get_json()["items"]
    assert patient.delete(f"/shares/{share['id']}").status_code == 204
    bundle = _bundle(patient.get(f"/courses/{shared.course['id']}/fhir"))
    (consent,) = _resources(bundle, "Consent")
    get_fhir_model_class("Consent").model_validate(consent)
    assert consent["status"] == "inactive"
    assert "end" in consent["provision"]["period"]


def test_thickness_is_in_micrometres(patient, clinician, link):
    link(patient, clinician)
    course = patient.post("/courses", json={"regimen": "standard", "setting": "clinic",
                                            "start_date": "2026-11-01"}).get_json()
    clinician.post(f"/courses/{course['id']}/observations", json={
        "kind": "hair_thickness_um", "value": 62.5, "area": "frontal"})
    clinician.post(f"/courses/{course['id']}/observations", json={
        "kind": "global_photo_assessment", "value": 2})
    bundle = _bundle(patient.get(f"/courses/{course['id']}/fhir"))
    values = {o["code"]["text"]: o for o in _resources(bundle, "Observation")}
    thickness = values["Hair shaft thickness"]["valueQuantity"]
    assert (thickness["value"], thickness["code"], thickness["unit"]) == (62.5, "um", "um")
    assert values["Global photographic assessment (-3 to +3)"]["valueInteger"] == 2
    (plan,) = _resources(bundle, "CarePlan")
    (activity,) = plan["activity"]
    assert activity["detail"]["scheduledTiming"]["repeat"]["count"] == 10


# -- CLI ---------------------------------------------------------------------------------------

def test_the_cli_writes_the_course_zip_with_a_progress_bar(app, runner, shared, tmp_path):
    out = tmp_path / "course.zip"
    result = runner.invoke(args=["export", "course", str(shared.course["id"]),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"course {shared.course['id']}" in result.output
    archive = zipfile.ZipFile(out)
    manifest = json.loads(archive.read("manifest.json"))
    for entry in manifest["photos"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    assert not list(tmp_path.glob("*.part"))


def test_the_cli_refuses_an_unknown_course(runner, tmp_path):
    result = runner.invoke(args=["export", "course", "999", "--out", str(tmp_path / "x.zip")])
    assert result.exit_code != 0
    assert "no course 999" in result.output
    assert not (tmp_path / "x.zip").exists()


def test_photos_of_another_course_stay_out(app, patient, shared):
    zone = ZoneInfo(patient.user["timezone"])
    patient.patch(f"/courses/{shared.course['id']}", json={"status": "ended"})
    other = patient.post("/courses", json={"regimen": "standard", "setting": "clinic",
                                           "start_date": datetime.now(zone).date().isoformat()})
    assert other.status_code == 201, other.get_json()
    add_photo(patient, "vertex",
              datetime.combine(datetime.now(zone).date(), time(7), zone) - timedelta(days=1),
              other.get_json()["id"], seed=99)
    archive = _zip(patient.get(f"/courses/{shared.course['id']}/export.zip"))
    assert len([n for n in archive.namelist() if n.startswith("photos/")]) == sum(
        len(ids) for ids in shared.photo_ids.values())


# -- check-ins and flags in every export ---------------------------------------------------------

def test_every_export_carries_the_check_ins_and_the_flags(shared, patient, clinician):
    course_id = shared.course["id"]
    last = shared.sessions[-1]
    response = patient.post(f"/sessions/{last['id']}/check-in", json={
        "redness_persists": True, "swelling_persists": False, "infection_signs": False,
        "note": "still pink at the crown"})
    assert response.status_code == 201, response.get_json()
    check_in = response.get_json()

    archive = _zip(patient.get(f"/courses/{course_id}/export.zip"))
    rows = list(csv.DictReader(io.StringIO(archive.read("sessions.csv").decode("utf-8-sig"))))
    assert [row["redness_persists"] for row in rows] == ["", "", "", "True"]
    assert rows[-1]["check_in_note"] == "still pink at the crown"
    assert rows[-1]["flags"] == "redness_persists: open"
    assert rows[-1]["check_in_at"].startswith(check_in["created_at"][:10])
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["sessions"][-1]["check_in"]["redness_persists"] is True
    assert manifest["sessions"][-1]["flags"][0]["open"] is True

    table = PdfReader(io.BytesIO(patient.get(f"/courses/{course_id}/export.pdf").data)
                      ).pages[-1].extract_text()
    assert "Check-in" in table and "redness; flag open" in " ".join(table.split())

    bundle = _bundle(patient.get(f"/courses/{course_id}/fhir"))
    Bundle.model_validate(bundle)
    follow_ups = [resource for resource in _resources(bundle, "Observation")
                  if resource.get("partOf")]
    (follow_up,) = follow_ups
    assert [component["valueBoolean"] for component in follow_up["component"]] == [
        True, False, False]
    procedure_url = next(entry["fullUrl"] for entry in bundle["entry"]
                         if entry["resource"]["id"] == f"procedure-{last['id']}")
    assert follow_up["partOf"] == [{"reference": procedure_url}]
    (flag,) = _resources(bundle, "Flag")
    assert flag["status"] == "active" and "redness persists" in flag["code"]["text"]

    (raised,) = patient.get(f"/courses/{course_id}/flags").get_json()["items"]
    clinician.post(f"/flags/{raised['id']}/resolve", json={"note": "Seen: mild, resolving."})
    bundle = _bundle(patient.get(f"/courses/{course_id}/fhir"))
    (flag,) = _resources(bundle, "Flag")
    assert flag["status"] == "inactive" and "end" in flag["period"]
    assert flag["author"]["reference"] in {entry["fullUrl"] for entry in bundle["entry"]}
