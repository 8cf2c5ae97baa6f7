"""Retention: stored idempotent responses and abandoned uploads are forgotten when their time
is up, by `flask maintenance purge` and by the job queue every ten minutes, in transactions of
their own."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from api import jobs
from storage.models import IdempotencyRecord, Share, Upload, utcnow

TUS = {"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
       "Content-Type": "application/offset+octet-stream"}


def age(app, model, column, by: timedelta, **where) -> None:
    """Set `column` to `by` ago (rows matching `where`)."""
    with app.app_context():
        session = app.extensions["database"].sessions()
        statement = update(model).values({column: utcnow() - by})
        for name, value in where.items():
            statement = statement.where(getattr(model, name) == value)
        session.execute(statement)
        session.commit()


def parts(app) -> list[Path]:
    return list((Path(app.config["PHOTO_DIR"]) / "uploads").glob("*"))


def abandoned_upload(app, caller) -> None:
    """An upload with some bytes in, whose 24 hours are over."""
    location = caller.post("/uploads", json={"length": 10_000, "area": "vertex"}).headers["Location"]
    caller.request("PATCH", location.removeprefix("/api/v1"), data=b"x" * 100, headers=TUS)
    age(app, Upload, "expires_at", timedelta(hours=1))


def test_the_purge_command_forgets_idempotent_responses_after_24_hours(app, runner, patient,
                                                                        db_rows):
    first = patient.post("/shares", headers={"Idempotency-Key": "yesterday"})
    patient.post("/shares", headers={"Idempotency-Key": "today"})
    age(app, IdempotencyRecord, "created_at", timedelta(hours=25), key="yesterday")

    result = runner.invoke(args=["maintenance", "purge"])

    assert result.exit_code == 0, result.output
    assert "purged 1 idempotent responses and 0 expired uploads" in result.output
    assert [record.key for record in db_rows(IdempotencyRecord)] == ["today"]
    # The old key means nothing now: the same request makes a new share, not a replay.
    again = patient.post("/shares", headers={"Idempotency-Key": "yesterday"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert again.get_json()["id"] != first.get_json()["id"]
    assert len(db_rows(Share)) == 3


def test_the_purge_command_drops_expired_uploads_with_their_bytes(app, runner, patient,
                                                                   other_patient, db_rows):
    abandoned_upload(app, patient)
    other_patient.post("/uploads", json={"length": 10_000, "area": "vertex"})
    assert len(parts(app)) == 2

    result = runner.invoke(args=["maintenance", "purge"])

    assert "purged 0 idempotent responses and 1 expired uploads" in result.output
    assert len(db_rows(Upload)) == 1 and len(parts(app)) == 1
    assert runner.invoke(args=["maintenance", "purge"]).output.strip() == \
        "purged 0 idempotent responses and 0 expired uploads"


def test_the_queue_purges_every_ten_minutes(app, client, patient, db_rows):
    patient.post("/shares", headers={"Idempotency-Key": "yesterday"})
    abandoned_upload(app, patient)
    age(app, IdempotencyRecord, "created_at", timedelta(hours=25))
    tasks = jobs.tasks(app)
    at = lambda minute: datetime(2026, 12, 3, 17, minute)  # noqa: E731
    assert [tasks.purge.s().validate_datetime(at(minute)) for minute in (0, 5, 10, 59)] == [
        True, False, True, False]
    assert len(db_rows(IdempotencyRecord)) == 1 and len(db_rows(Upload)) == 1

    # What the worker's scheduler does when the minute comes: run it on the queue.
    tasks.queue.execute(tasks.purge.s())

    assert db_rows(IdempotencyRecord) == [] and db_rows(Upload) == [] and parts(app) == []
    assert client.get("/healthz").status_code == 200, "requests themselves purge nothing"
