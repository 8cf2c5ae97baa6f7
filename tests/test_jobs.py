"""The job queue for real: Huey's SQLite storage (Redis in CI's PostgreSQL run), drained in
process, and real worker processes killed mid-job or losing their broker mid-run.

What a user notices: an upload is answered before its preview is made, the preview
answers 202 until then, and whatever happens to a worker or the broker, every
acknowledged photo ends up with its preview, made once, with nothing half done.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select, update

from api import create_app
from api.config import Config
from services import jobs
from services.images import ingest as intake
from storage.models import Job, Photo, utcnow
from tests import photo_samples as samples
from tests.conftest import PASSWORD, Caller, DrainingClient, drain
from tests.live_server import free_port, stop
from tests.test_photos import send

ROOT = Path(__file__).resolve().parent.parent


def job_rows(app) -> list[Job]:
    with app.app_context():
        session = app.extensions["database"].sessions()
        return list(session.scalars(select(Job).order_by(Job.id)))


def photo_rows(app) -> list[Photo]:
    with app.app_context():
        session = app.extensions["database"].sessions()
        return list(session.scalars(select(Photo).order_by(Photo.id)))


def run_scheduled(app, since) -> list[float]:
    """Run the retries the queue scheduled for later, now; how long after `since` (naive
    UTC, before the failure that scheduled them) each was due, in seconds."""
    queue = app.extensions["jobs"].queue
    due = queue.read_schedule(utcnow().replace(tzinfo=None) + timedelta(days=1))
    delays = []
    for task in due:
        delays.append((task.eta - since).total_seconds())
        queue.execute(task, timestamp=task.eta)
    return delays


def naive_now():
    return utcnow().replace(tzinfo=None)


# -- in process ---------------------------------------------------------------------------------

def test_an_upload_is_answered_before_its_preview_which_answers_202_until_its_job_ran(
        app, patient, course):
    patient.client.drains = False
    photo = send(patient, samples.jpeg(samples.scalp((800, 600)))).get_json()

    assert photo["derivatives"] == "pending"
    for name in ("preview", "thumbnail"):
        waiting = patient.get(f"/photos/{photo['id']}/{name}")
        assert waiting.status_code == 202
        assert waiting.headers["Retry-After"] == "2"
        assert waiting.get_json() == {"derivatives": "pending", "retry_after": 2}
        assert waiting.headers["Cache-Control"] == "no-store"
    assert patient.get(f"/photos/{photo['id']}/original").status_code == 200
    assert [(job.kind, job.subject_id, job.status) for job in job_rows(app)] == [
        ("derivatives", photo["id"], "queued")]

    assert drain(app) == 1

    assert patient.get(f"/photos/{photo['id']}").get_json()["derivatives"] == "ready"
    preview = patient.get(f"/photos/{photo['id']}/preview")
    assert preview.status_code == 200
    assert Image.open(io.BytesIO(preview.data)).size == (800, 600)
    [job] = job_rows(app)
    assert (job.status, job.attempts, job.progress, job.error) == ("done", 1, 100, None)


def test_the_hints_of_the_answer_are_those_of_the_preview_made_later(tmp_path):
    """The upload rates the picture at the hints' own scale; the preview's rating agrees."""
    from services.images import pipeline as images
    from storage.blobs import LocalBlobStore

    store = LocalBlobStore(tmp_path / "photos")
    cases = [samples.jpeg(samples.scalp((1600, 1200))),
             samples.jpeg(samples.scalp((1600, 1200), brightness=30)),
             samples.jpeg(Image.new("RGB", (1200, 1600), (255, 255, 255))),
             samples.jpeg(samples.scalp((2400, 1800), blur=6)),
             samples.jpeg(samples.scalp((3000, 2000), blur=1.5)),
             samples.oriented_jpeg(6, (1600, 1200)), samples.png_of_size(900, 700)]
    seen = set()
    for upload in cases:
        rated = intake.ingest(store, upload).quality_warnings
        assert rated == images.develop(images.read(upload)).quality_warnings
        seen.update(rated)
    assert seen == {"too_dark", "overexposed", "blurry"}, "every hint was tried"


def test_exports_and_comparisons_asked_for_before_the_jobs_ran_show_the_photos(
        app, patient, course):
    patient.client.drains = False
    for size in ((640, 480), (660, 480)):
        send(patient, samples.jpeg(samples.scalp(size)), area="vertex")
    assert {photo.derivatives for photo in photo_rows(app)} == {"pending"}

    compared = patient.get(f"/courses/{course['id']}/compare?area=vertex")
    assert compared.status_code == 200 and compared.mimetype == "image/jpeg"
    for path in ("export.pdf", "timelapse.gif?area=vertex", "export.zip"):
        assert patient.get(f"/courses/{course['id']}/{path}").status_code == 200, path
    assert {photo.derivatives for photo in photo_rows(app)} == {"pending"}, "nothing stored"
    drain(app)
    again = patient.get(f"/courses/{course['id']}/compare?area=vertex")
    assert again.status_code == 200 and again.headers["ETag"] != compared.headers["ETag"]


def test_a_job_delivered_twice_runs_once(app, patient, course):
    patient.client.drains = False
    photo = send(patient, samples.jpeg()).get_json()
    [job] = job_rows(app)
    app.extensions["jobs"].run_job(job.id)  # the same message again

    assert drain(app) == 2

    [job] = job_rows(app)
    assert (job.status, job.attempts) == ("done", 1)
    assert patient.get(f"/photos/{photo['id']}/preview").status_code == 200


def test_a_failing_job_backs_off_then_fails_with_its_reason_and_an_operator_retries_it(
        app, patient, course, runner, monkeypatch):
    def broken(store, original):
        raise OSError("photo disk unreadable")

    monkeypatch.setattr(intake, "derive", broken)
    since = naive_now()
    photo = send(patient, samples.jpeg()).get_json()  # the client runs the first try
    delays = []
    for _ in range(jobs.MAX_ATTEMPTS):
        step = naive_now()
        delays += run_scheduled(app, since)
        since = step

    [job] = job_rows(app)
    assert (job.status, job.attempts) == ("failed", jobs.MAX_ATTEMPTS)
    assert job.error == "OSError: photo disk unreadable"
    # Tried again after 2, 4, 8 and 16 seconds (give or take the time each try took).
    assert len(delays) == 4
    assert all(wait <= delay < wait + 3 for wait, delay in zip([2, 4, 8, 16], delays))
    assert patient.get(f"/photos/{photo['id']}/preview").status_code == 202
    listed = runner.invoke(args=["jobs", "list", "--status", "failed"])
    assert "0 queued, 0 running, 0 done, 1 failed" in listed.output
    assert "derivatives" in listed.output and "OSError: photo disk unreadable" in listed.output

    monkeypatch.undo()
    retried = runner.invoke(args=["jobs", "retry", "--all-failed"])
    assert retried.exit_code == 0 and "retried 1 of 1 jobs" in retried.output
    assert drain(app) == 1

    [job] = job_rows(app)
    assert (job.status, job.attempts, job.error) == ("done", 1, None)
    assert patient.get(f"/photos/{photo['id']}/preview").status_code == 200


def test_a_job_the_queue_refused_is_sent_again_later(app, patient, course, runner, monkeypatch,
                                                     caplog):
    queue = app.extensions["jobs"].queue

    def broker_down(task):
        raise ConnectionError("broker down")

    with monkeypatch.context() as patched:
        patched.setattr(queue, "enqueue", broker_down)
        answer = send(patient, samples.jpeg())
    assert answer.status_code == 201, "the photo is stored: the queue is not the request's"
    assert "could not send job" in caplog.text
    assert drain(app) == 0
    [job] = job_rows(app)
    assert job.status == "queued"

    assert "sent 0 jobs again" in runner.invoke(args=["jobs", "send-again"]).output
    with app.app_context():
        session = app.extensions["database"].sessions()
        session.execute(update(Job).values(updated_at=utcnow() - timedelta(minutes=2)))
        session.commit()
    assert "sent 1 jobs again" in runner.invoke(args=["jobs", "send-again"]).output
    assert drain(app) == 1
    assert patient.get(f"/photos/{answer.get_json()['id']}/preview").status_code == 200


def test_a_running_job_is_sent_again_only_once_its_lease_ran_out(app, patient, course, runner):
    patient.client.drains = False
    send(patient, samples.jpeg())
    queue = app.extensions["jobs"].queue
    queue.dequeue()  # a worker took the message...
    [job] = job_rows(app)
    with app.app_context():
        session = app.extensions["database"].sessions()
        # ...claimed the job, and died.
        session.execute(update(Job).values(status="running", attempts=1,
                                           lease_until=utcnow() + timedelta(minutes=1)))
        session.commit()
        assert "sent 0 jobs again" in runner.invoke(args=["jobs", "send-again"]).output
        session.execute(update(Job).values(lease_until=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert "sent 1 jobs again" in runner.invoke(args=["jobs", "send-again"]).output
    assert drain(app) == 1
    [job] = job_rows(app)
    assert (job.status, job.attempts) == ("done", 2)


def test_erasing_a_patient_takes_their_jobs(app, patient, course):
    patient.client.drains = False
    send(patient, samples.jpeg())
    assert len(job_rows(app)) == 1

    assert patient.delete("/me", json={"password": PASSWORD}).status_code == 204
    assert job_rows(app) == []
    assert drain(app) == 1, "its message finds no job and does nothing"


# -- real workers -------------------------------------------------------------------------------

# A worker whose derivatives job stops for good once it has published the files and before
# it records them: the worst moment to be killed.
STALLING_WORKER = """
import os, sys, time
from services.images import ingest as intake
real = intake.derive
def stalled(store, original):
    made = real(store, original)
    open(os.environ["STALL_MARK"], "w").write("published")
    time.sleep(600)
    return made
intake.derive = stalled
from flask.cli import main
sys.argv = ["flask", "--app", "wsgi", "jobs", "worker", "--threads", "1"]
main()
"""


def worker_env(app, **extra) -> dict:
    return {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"],
            "PHOTO_DIR": app.config["PHOTO_DIR"], "QUEUE_URL": app.config["QUEUE_URL"],
            "QUEUE_NAME": app.config["QUEUE_NAME"], "LOG_LEVEL": "WARNING", **extra}


@contextmanager
def worker(env: dict, log: Path, script: str | None = None):
    command = ([sys.executable, "-c", script] if script else
               [str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "jobs", "worker"])
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        yield process
    finally:
        stop(process)


def wait_for(condition, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"waited {timeout} s for {what}\n{tail}")


def test_a_worker_killed_mid_job_leaves_it_whole_for_the_next(app, patient, course, runner,
                                                              tmp_path):
    patient.client.drains = False
    photo = send(patient, samples.jpeg(samples.scalp((1600, 1200)))).get_json()
    mark, log = tmp_path / "stalled", tmp_path / "worker.log"
    env = worker_env(app, JOB_LEASE_S="2")

    with worker({**env, "STALL_MARK": str(mark)}, log, STALLING_WORKER) as first:
        wait_for(mark.exists, 60, "the first worker to publish the files", log)
        [job] = job_rows(app)
        assert (job.status, job.attempts) == ("running", 1)
        first.send_signal(signal.SIGKILL)
        first.wait()
    # Files written, row not: the photo is not ready, and nothing half made shows.
    assert photo_rows(app)[0].derivatives == "pending"
    assert patient.get(f"/photos/{photo['id']}/preview").status_code == 202

    time.sleep(2.5)  # the dead worker's lease runs out
    with worker(env, log):
        wait_for(lambda: job_rows(app)[0].status == "done", 60, "the job to be done", log)

    [job] = job_rows(app)
    assert job.attempts == 2
    assert patient.get(f"/photos/{photo['id']}/preview").status_code == 200
    # Both runs wrote the same files under the same names: nothing orphaned, nothing missing.
    check = runner.invoke(args=["storage", "check"])
    assert check.exit_code == 0, check.output
    assert "0 missing, 0 mismatched, 0 orphans, 0 with derivatives pending" in check.output


@contextmanager
def private_redis(port: int, folder: Path):
    """A Redis of this test's own, keeping nothing on disk: a restart loses every message."""
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(port=port)
        wait_for(lambda: _pings(client), 10, "redis to start")
        yield process
    finally:
        process.kill()
        process.wait()


def _pings(client) -> bool:
    try:
        return client.ping()
    except Exception:  # noqa: BLE001 - not up yet
        return False


@pytest.mark.skipif(not Path("/usr/bin/redis-server").exists() and
                    not os.environ.get("REQUIRE_REDIS_SERVER"),
                    reason="needs redis-server (CI has it)")
def test_a_broker_restarted_mid_run_loses_no_job_and_runs_none_twice(database_url, tmp_path):
    port = free_port()
    photos = tmp_path / "photos"
    photos.mkdir()

    class BrokerConfig(Config):
        TESTING = True
        DATABASE_URL = database_url
        PHOTO_DIR = str(photos)
        QUEUE_URL = f"redis://127.0.0.1:{port}/0"
        QUEUE_NAME = "restarted"
        RATELIMIT_STORAGE_URI = "memory://"
        SECRET_KEY = "test"
        JOB_RESEND_AFTER_S = 1

    app = create_app(BrokerConfig)
    app.test_client_class = DrainingClient
    client = app.test_client()
    client.drains = False

    body = client.post("/api/v1/auth/register", json={
        "email": "restart@example.org", "password": PASSWORD, "display_name": "Pat",
        "timezone": "Europe/Berlin"}).get_json()
    patient = Caller(client, body["token"], body["user"], "restart@example.org")
    log = tmp_path / "worker.log"
    env = {**os.environ, "DATABASE_URL": database_url, "PHOTO_DIR": str(photos),
           "QUEUE_URL": BrokerConfig.QUEUE_URL, "QUEUE_NAME": "restarted",
           "JOB_RESEND_AFTER_S": "1", "LOG_LEVEL": "WARNING"}
    uploads = [samples.jpeg(samples.scalp((640 + number, 480))) for number in range(12)]
    try:
        with private_redis(port, tmp_path) as broker, worker(env, log):
            for upload in uploads[:6]:
                assert send(patient, upload).status_code == 201
            broker.kill()  # mid-run: some jobs done, some waiting, some being run
            broker.wait()
            for upload in uploads[6:9]:
                assert send(patient, upload).status_code == 201, "the broker is down"
            with private_redis(port, tmp_path):
                for upload in uploads[9:]:
                    assert send(patient, upload).status_code == 201
                # What the workers do every minute, once (the jobs whose message was lost).
                runner = app.test_cli_runner()
                time.sleep(1.1)
                runner.invoke(args=["jobs", "send-again"])
                wait_for(lambda: all(job.status == "done" for job in job_rows(app)), 90,
                         "every job to be done", log)
        rows = job_rows(app)
        assert len(rows) == 12
        assert [job.attempts for job in rows] == [1] * 12, "no job ran twice"
        assert all(photo.derivatives == "ready" for photo in photo_rows(app))
        check = app.test_cli_runner().invoke(args=["storage", "check"])
        assert check.exit_code == 0, check.output
        assert "12 photos" in check.output and "0 with derivatives pending" in check.output
    finally:
        app.extensions["database"].engine.dispose()


# -- exports as jobs ----------------------------------------------------------------------------

def test_a_course_export_made_by_a_worker_shows_its_progress_and_downloads_once_done(
        app, patient, course, clinician, link, other_patient):
    import zipfile

    for size in ((640, 480), (660, 480), (680, 480)):
        send(patient, samples.jpeg(samples.scalp(size)), area="vertex")
    patient.client.drains = False
    asked = patient.post(f"/courses/{course['id']}/exports", json={"format": "zip"})

    assert asked.status_code == 202
    job = asked.get_json()
    assert asked.headers["Location"] == f"/api/v1/exports/{job['id']}"
    assert (job["course_id"], job["format"], job["status"], job["progress"]) == (
        course["id"], "zip", "queued", 0)
    assert job["urls"]["download"] is None
    waiting = patient.get(f"/exports/{job['id']}/file")
    assert waiting.status_code == 202 and waiting.headers["Retry-After"] == "2"
    # Only its requester sees it; another patient's id is a 404.
    assert other_patient.get(f"/exports/{job['id']}").status_code == 404
    link(patient, clinician)
    assert clinician.get(f"/exports/{job['id']}").status_code == 404

    assert drain(app) == 1

    done = patient.get(f"/exports/{job['id']}").get_json()
    assert (done["status"], done["progress"], done["error"]) == ("done", 100, None)
    assert done["urls"]["download"] == f"/api/v1/exports/{job['id']}/file"
    assert done["expires_at"] is not None
    downloaded = patient.get(done["urls"]["download"].removeprefix("/api/v1"))
    assert downloaded.status_code == 200 and downloaded.mimetype == "application/zip"
    streamed = patient.get(f"/courses/{course['id']}/export.zip")
    with zipfile.ZipFile(io.BytesIO(downloaded.data)) as made, \
            zipfile.ZipFile(io.BytesIO(streamed.data)) as direct:
        assert made.namelist() == direct.namelist()
        assert len([name for name in made.namelist() if name.startswith("photos/")]) == 3
        for name in made.namelist():
            if name != "manifest.json":  # (it says when it was exported)
                assert made.read(name) == direct.read(name), name


def test_a_pdf_export_job_and_its_file_expiring_after_a_day(app, patient, course, runner):
    send(patient, samples.jpeg(samples.scalp((640, 480))), area="vertex")
    job = patient.post(f"/courses/{course['id']}/exports", json={"format": "pdf"}).get_json()
    done = patient.get(f"/exports/{job['id']}").get_json()
    assert done["status"] == "done"
    downloaded = patient.get(f"/exports/{job['id']}/file")
    assert downloaded.mimetype == "application/pdf" and downloaded.data.startswith(b"%PDF")
    assert runner.invoke(args=["storage", "check"]).exit_code == 0, "the file is no orphan"

    with app.app_context():
        session = app.extensions["database"].sessions()
        session.execute(update(Job).values(finished_at=utcnow() - timedelta(hours=25)))
        session.commit()
    purged = runner.invoke(args=["maintenance", "purge"])
    assert "and 1 export files" in purged.output

    expired = patient.get(f"/exports/{job['id']}/file")
    assert expired.status_code == 409 and "expired" in expired.get_json()["detail"]
    assert patient.get(f"/exports/{job['id']}").get_json()["urls"]["download"] is None
    assert list(Path(app.config["PHOTO_DIR"]).rglob("*.pdf")) == []


def test_bad_export_requests_are_refused_and_change_nothing(app, patient, course, other_patient):
    assert patient.post(f"/courses/{course['id']}/exports",
                        json={"format": "gif"}).status_code == 422
    assert patient.post(f"/courses/{course['id']}/exports", json={}).status_code == 422
    assert other_patient.post(f"/courses/{course['id']}/exports",
                              json={"format": "zip"}).status_code == 404
    assert patient.get("/exports/999").status_code == 404
    assert job_rows(app) == []
