"""The job queue of the app: Huey, bound to the app's database and photo store.

Huey rather than Celery: its SQLite storage needs no server, which is what
`make run` and a small clinic's single machine want, and the same tasks run
on Redis in production (`QUEUE_URL=redis://...`). The queue carries job ids
only; the jobs' state lives in the database (`services.jobs`), which is what
makes a lost, repeated or interrupted message harmless.

What runs on it:
- `run_job`: a job row (the derivatives of an uploaded photo, a course's ZIP
  or PDF export),
  retried with backoff (2, 4, 8, 16 s) up to `services.jobs.MAX_ATTEMPTS`;
- every minute, `send_again`: the jobs whose message may be lost;
- every ten minutes, `purge`: idempotent responses older than
  `IDEMPOTENCY_TTL_HOURS`, uploads past their expiry with their bytes, export
  files a day old.

Workers are their own processes: `flask jobs worker` (started beside the
server by `make run`; in production, see docs/operations.md). The same
`purge` is `flask maintenance purge`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.exceptions import RetryTask
from sqlalchemy.engine import make_url

from api.database import photo_store
from services import derivatives, jobs, retention
from services.exports import background
from services.images import pipeline as images
from storage.blobs import LocalBlobStore
from storage.models import User, utcnow

log = logging.getLogger(__name__)


def handlers(app: Flask) -> dict[str, jobs.Handler]:
    """What each kind of job does, with the app's settings."""

    def export(session, store, job):
        # fpdf2 is imported by the first export, not by every worker (as in the API).
        from services.exports.timeline_pdf import PdfFonts

        fonts = PdfFonts(app.config["PDF_FONT"], app.config["PDF_BOLD_FONT"])
        background.make(session, store, job, fonts)

    return {derivatives.KIND: derivatives.make,
            **{kind: export for kind in background.FORMATS.values()}}


@dataclass(frozen=True)
class Tasks:
    """The queue and its tasks (calling a task puts it on the queue)."""

    queue: Huey
    run_job: Callable
    send_again: Callable
    purge: Callable


def make_queue(url: str, name: str) -> Huey:
    """The Huey of a QUEUE_URL: sqlite:///path/to/queue.db or redis://host:port/db."""
    scheme = url.split(":", 1)[0]
    if scheme in ("redis", "rediss", "unix"):
        return RedisHuey(name, url=url, results=False)
    if scheme == "sqlite":
        path = Path(make_url(url).database)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), results=False, fsync=True)
    raise ValueError(f"QUEUE_URL must be sqlite:///... or redis://..., not {url!r}")


def init_app(app: Flask) -> None:
    if not app.config.get("QUEUE_URL"):
        app.config["QUEUE_URL"] = f"sqlite:///{Path(app.config['PHOTO_DIR']).parent / 'queue.db'}"
    queue = make_queue(app.config["QUEUE_URL"], app.config["QUEUE_NAME"])
    sessions = app.extensions["database"].sessions.session_factory
    lease = timedelta(seconds=app.config["JOB_LEASE_S"])
    resend_after = timedelta(seconds=app.config["JOB_RESEND_AFTER_S"])

    @queue.task(retries=jobs.MAX_ATTEMPTS - 1, retry_delay=jobs.RETRY_DELAY_S,
                retry_backoff=jobs.RETRY_BACKOFF, name="run_job")
    def run_job(job_id: int) -> None:
        images.set_pixel_limit(app.config["MAX_IMAGE_PIXELS"])
        with app.app_context(), sessions() as session:
            outcome = jobs.run(session, LocalBlobStore(app.config["PHOTO_DIR"]), job_id,
                               handlers(app), lease)
        if outcome == "retry":
            raise RetryTask(f"job {job_id} failed; tried again after its backoff")

    @queue.periodic_task(crontab(minute="*"), name="send_again")
    def send_again() -> None:
        with sessions() as session:
            sent = jobs.send_again(session, run_job, unsent_after=resend_after)
        if sent:
            log.info("sent %d jobs again (queued too long, or their worker died)", sent)

    @queue.periodic_task(crontab(minute="*/10"), name="purge")
    def purge_now() -> None:
        purged = purge(app)
        if purged.idempotency_records or purged.uploads or purged.exports:
            log.info("purged %d idempotent responses, %d expired uploads and %d export files",
                     purged.idempotency_records, purged.uploads, purged.exports)

    @queue.on_startup(name="send_again_at_startup")
    def send_again_at_startup() -> None:
        # A worker that starts (again) picks up at once what a dead one left.
        send_again()

    jobs.install(sessions, run_job)
    app.extensions["jobs"] = Tasks(queue, run_job, send_again, purge_now)


def tasks(app: Flask | None = None) -> Tasks:
    """The app's queue and its tasks."""
    return (app or current_app).extensions["jobs"]


def purge(app: Flask) -> retention.Purged:
    """Purge everything past its time, in a session of its own."""
    with app.extensions["database"].sessions.session_factory() as session:
        return retention.purge_expired(
            session, LocalBlobStore(app.config["PHOTO_DIR"]), utcnow(),
            timedelta(hours=app.config["IDEMPOTENCY_TTL_HOURS"]))


def purge_expired_uploads_of(patient: User) -> None:
    """The patient's uploads that ran out of time, in a session of their own (before a new one)."""
    with current_app.extensions["database"].sessions.session_factory() as session:
        retention.purge_expired_uploads(session, photo_store(), utcnow(), patient.id)
