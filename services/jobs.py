"""Jobs: work done beside the requests, on a queue (Huey), with its state in the database.

The queue carries only a job's id; what the job is, how far it got and how it
ended are in its row (`storage.models.Job`). That is what makes the queue's
failures harmless:

- a job is sent only after the transaction that created it commits (a
  listener on the session, `install`), so a worker never looks for a row that
  is not there yet, and a rolled-back request sends nothing;
- a message delivered twice runs once: a worker first claims the job with one
  conditional UPDATE (`storage.job_records.claim`), and handlers are
  idempotent (they check whether their work is done before doing it, and
  their files are named by their content);
- a message lost (the broker restarted empty, or down when the job was sent)
  or a worker killed mid-job is made good by `send_again`, which the queue
  runs every minute: it sends again every job queued for longer than a
  minute, and every running job whose lease has run out;
- a job that raises is tried again with backoff (the queue's retries), up to
  MAX_ATTEMPTS tries in all, then marked failed with the reason, for an
  operator to see and retry (`flask jobs list`, `flask jobs retry`).

No Flask here: the app binds this to its queue and database (`api.jobs`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from storage import job_records
from storage.blobs import BlobStore
from storage.models import Job, utcnow

log = logging.getLogger(__name__)

# Tries in all, the first included, before a job is marked failed.
MAX_ATTEMPTS = 5
# The queue's retry delays: 2 s, then 4, 8, 16 (each twice the one before).
RETRY_DELAY_S = 2
RETRY_BACKOFF = 2
# How long a worker may hold a job before it is taken for dead and the job sent again.
# Generous: a 100 MP photo's derivatives take a few seconds on a loaded machine.
DEFAULT_LEASE = timedelta(minutes=2)
# A job still queued this long after it was sent (or sent again) is sent again
# (the app's JOB_RESEND_AFTER_S).
UNSENT_AFTER = timedelta(minutes=1)

Handler = Callable[[Session, BlobStore, Job], None]
Sender = Callable[[int], None]

_TO_SEND = "scalpcourse.jobs_to_send"


class JobError(Exception):
    """A job that cannot be done at all (its subject is gone): failed at once, not retried."""


def submit(session: Session, kind: str, subject_id: int, requested_by_id: int | None = None,
           params: dict | None = None) -> Job:
    """A new job, sent to the queue once `session` commits."""
    now = utcnow()
    job = Job(kind=kind, subject_id=subject_id, requested_by_id=requested_by_id,
              params=params or {}, status="queued", attempts=0, progress=0,
              created_at=now, updated_at=now)
    session.add(job)
    session.flush()
    session.info.setdefault(_TO_SEND, []).append(job.id)
    return job


def install(sessions: sessionmaker, sender: Sender) -> None:
    """Send the jobs a session submitted once it commits; forget them if it rolls back."""

    def after_commit(session: Session) -> None:
        job_ids = session.info.pop(_TO_SEND, None)
        if job_ids:
            send(job_ids, sender)

    def after_rollback(session: Session) -> None:
        session.info.pop(_TO_SEND, None)

    event.listen(sessions, "after_commit", after_commit)
    event.listen(sessions, "after_soft_rollback", lambda session, _previous:
                 after_rollback(session))


def send(job_ids: Iterable[int], sender: Sender) -> int:
    """Put these jobs on the queue; one the queue refuses now is sent by `send_again` later."""
    sent = 0
    for job_id in job_ids:
        try:
            sender(job_id)
            sent += 1
        except Exception:  # noqa: BLE001 - the broker is down: the row remembers the job
            log.warning("could not send job %s to the queue; it is sent again within a "
                        "minute", job_id, exc_info=True)
    return sent


def run(session: Session, store: BlobStore, job_id: int, handlers: dict[str, Handler],
        lease: timedelta = DEFAULT_LEASE) -> str:
    """Run the job if no other worker has it: "done", "skipped", "failed" or "retry".

    "retry" means it raised and has tries left: the caller raises so the queue
    tries it again after its backoff.
    """
    job = job_records.claim(session, job_id, utcnow(), lease)
    if job is None:
        return "skipped"
    try:
        handlers[job.kind](session, store, job)
        session.flush()
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the job
        session.rollback()
        job = session.get(Job, job_id, populate_existing=True)
        if job is None:
            return "skipped"
        permanent = isinstance(error, JobError) or job.attempts >= MAX_ATTEMPTS
        job.status = "failed" if permanent else "queued"
        job.error = f"{type(error).__name__}: {error}"[:2000]
        job.lease_until = None
        job.updated_at = utcnow()
        if permanent:
            job.finished_at = job.updated_at
            log.error("job %s (%s of %s) failed after %d tries: %s", job.id, job.kind,
                      job.subject_id, job.attempts, job.error)
        session.commit()
        return "failed" if permanent else "retry"
    now = utcnow()
    job.status, job.progress, job.error = "done", 100, None
    job.lease_until, job.updated_at, job.finished_at = None, now, now
    session.commit()
    return "done"


def progress(session: Session, job: Job, percent: int, lease: timedelta = DEFAULT_LEASE) -> None:
    """Record how far a long job got, and extend its lease (it is alive)."""
    now = utcnow()
    job.progress = max(0, min(99, percent))
    job.lease_until = now + lease
    job.updated_at = now
    session.commit()


def send_again(session: Session, sender: Sender, now: datetime | None = None,
               unsent_after: timedelta = UNSENT_AFTER) -> int:
    """Send again every job whose message may be lost (see the module's docstring)."""
    now = now or utcnow()
    job_ids = job_records.to_send_again(session, now, unsent_after)
    if not job_ids:
        return 0
    job_records.touch(session, job_ids, now)
    session.commit()
    return send(job_ids, sender)


def retry(session: Session, job_ids: Iterable[int], sender: Sender) -> list[int]:
    """An operator's retry of failed jobs: tries counted afresh, sent now."""
    retried = []
    now = utcnow()
    for job_id in job_ids:
        job = session.get(Job, job_id)
        if job is None or job.status != "failed":
            continue
        job.status, job.attempts, job.error = "queued", 0, None
        job.updated_at, job.finished_at = now, None
        retried.append(job.id)
    session.commit()
    send(retried, sender)
    return retried
