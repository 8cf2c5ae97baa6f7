"""`flask storage check [--repair]`: rows without their files, files without a row, repaired safely."""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from storage import consistency
from storage.blobs import Batch, LocalBlobStore
from storage.models import Upload, utcnow
from tests import photo_samples as samples


def upload(caller, picture_size=(640, 480), **fields):
    response = caller.post("/photos", data={
        "file": (io.BytesIO(samples.jpeg(samples.scalp(picture_size))), "a.jpg"),
        "area": "frontal", **fields})
    return response


def files(app) -> list[Path]:
    return [path for path in Path(app.config["PHOTO_DIR"]).rglob("*") if path.is_file()]


def age(paths, hours: float) -> None:
    moment = time.time() - hours * 3600
    for path in paths:
        os.utime(path, (moment, moment))


def check(runner, *options):
    return runner.invoke(args=["storage", "check", *options])


def test_a_healthy_store_passes(runner, patient):
    upload(patient), upload(patient, (600, 400))

    result = check(runner)

    assert result.exit_code == 0, result.output
    assert "2 photos, 6 files: 0 missing, 0 mismatched, 0 orphans" in result.output


def test_missing_and_mismatched_files_are_reported_and_never_repaired_away(app, runner, patient):
    photo = upload(patient).get_json()
    root = Path(app.config["PHOTO_DIR"])
    with app.app_context():
        from storage.models import Photo

        row = app.extensions["database"].sessions().get(Photo, photo["id"])
        preview, original = root / row.preview_key, root / row.original_key
    preview.unlink()
    original.write_bytes(b"not what the key says")

    result = check(runner, "--repair")

    assert result.exit_code == 1
    assert f"missing     photo {photo['id']}" in result.output
    assert f"mismatched  photo {photo['id']}" in result.output
    assert original.exists()


def test_orphans_are_removed_once_an_hour_old_and_photos_keep_their_files(app, runner, patient,
                                                                           monkeypatch):
    kept = upload(patient, (600, 400)).get_json()
    real_publish = Batch.publish

    def publish_then_fail(self, *arguments):
        real_publish(self, *arguments)
        raise OSError("crash after the files were written")

    app.testing = False
    with monkeypatch.context() as patched:
        patched.setattr(Batch, "publish", publish_then_fail)
        assert upload(patient).status_code == 500
    app.testing = True
    stray = Path(app.config["PHOTO_DIR"]) / "tmp" / "blob-left-by-a-crash.tmp"
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"half a photo")
    photo_files = set(files(app))

    young = check(runner, "--repair")
    assert young.exit_code == 1
    # The failed upload's original (its derivatives were never made: it was not committed).
    assert "2 orphans (0 removed)" in young.output

    age(files(app), hours=2)
    repaired = check(runner, "--repair")

    assert "2 orphans (2 removed)" in repaired.output
    assert check(runner).exit_code == 0
    assert len(photo_files - set(files(app))) == 2
    for name in ("original", "preview", "thumbnail"):
        assert patient.get(f"/photos/{kept['id']}/{name}").status_code == 200


def test_an_orphan_a_photo_takes_meanwhile_is_not_deleted(app, patient, monkeypatch):
    data = samples.jpeg(samples.scalp((640, 480)))
    real_publish = Batch.publish

    def publish_then_fail(self, *arguments):
        real_publish(self, *arguments)
        raise OSError("crash after the files were written")

    app.testing = False
    with monkeypatch.context() as patched:
        patched.setattr(Batch, "publish", publish_then_fail)
        patient.post("/photos", data={"file": (io.BytesIO(data), "a.jpg"), "area": "vertex"})
    app.testing = True
    age(files(app), hours=2)
    store = LocalBlobStore(app.config["PHOTO_DIR"])
    with app.app_context():
        session = app.extensions["database"].sessions()
        orphans = consistency.find_orphans(session, store.files())
        assert len(orphans) == 1, "the original"
        # The retry lands between the listing and the deletion.
        assert patient.post("/photos", data={"file": (io.BytesIO(data), "a.jpg"),
                                             "area": "vertex"}).status_code == 201
        age(files(app), hours=2)
        assert consistency.remove_orphans(session, store, orphans) == 0
    assert len(files(app)) == 3


def test_repair_drops_expired_uploads_with_their_bytes(app, runner, patient):
    location = patient.post("/uploads", json={"length": 10_000, "area": "vertex"}).headers["Location"]
    patient.request("PATCH", location.removeprefix("/api/v1"), data=b"x" * 100, headers={
        "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"})
    assert len(files(app)) == 1
    assert check(runner).exit_code == 0, "an open upload's bytes are not orphans"
    with app.app_context():
        session = app.extensions["database"].sessions()
        session.execute(update(Upload).values(expires_at=utcnow() - timedelta(minutes=1)))
        session.commit()

    result = check(runner, "--repair")

    assert "expired uploads dropped: 1" in result.output
    assert files(app) == []
    assert result.exit_code == 0


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd"])
def test_the_store_never_deletes_outside_its_root(tmp_path, name):
    with pytest.raises(ValueError):
        LocalBlobStore(tmp_path / "photos").delete_file(name)
