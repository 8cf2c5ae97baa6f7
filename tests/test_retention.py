"""Retention: stored idempotent responses and abandoned uploads are forgotten when their time
is up, by `flask maintenance purge` and by the workers themselves, in transactions of their own."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from api import retention
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


def test_a_worker_purges_after_a_response_is_sent_at_most_once_an_interval(app, client, patient,
                                                                          db_rows, monkeypatch):
    patient.post("/shares", headers={"Idempotency-Key": "yesterday"})
    abandoned_upload(app, patient)
    age(app, IdempotencyRecord, "created_at", timedelta(hours=25))
    app.config["RETENTION_PURGE_INTERVAL_S"] = 3600
    # The last purge was over an interval ago (not "at 0": a machine up for less than an hour
    # has a monotonic clock below 3600).
    monkeypatch.setattr(retention._Schedule, "last", time.monotonic() - 3601)

    response = client.get("/healthz")
    # Nothing is purged while the response is on its way...
    assert len(db_rows(IdempotencyRecord)) == 1 and len(db_rows(Upload)) == 1
    # ...but once the server has sent it (a WSGI server closes every response).
    response.close()
    assert db_rows(IdempotencyRecord) == [] and db_rows(Upload) == [] and parts(app) == []

    # Within the interval, the next responses purge nothing.
    patient.post("/shares", headers={"Idempotency-Key": "another"})
    age(app, IdempotencyRecord, "created_at", timedelta(hours=25))
    client.get("/healthz").close()
    assert len(db_rows(IdempotencyRecord)) == 1


def test_a_failed_purge_is_logged_and_the_response_is_unharmed(app, client, monkeypatch, caplog):
    def unavailable(app):
        raise OSError("photo folder gone")

    monkeypatch.setattr(retention, "purge", unavailable)
    monkeypatch.setattr(retention._Schedule, "last",
                        time.monotonic() - app.config["RETENTION_PURGE_INTERVAL_S"] - 1)
    response = client.get("/healthz")
    response.close()
    assert response.status_code == 200
    assert "retention purge failed" in caplog.text
