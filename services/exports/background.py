"""Exports as jobs: a course's ZIP or PDF made by a worker, with its progress, kept for a
day to download (for courses of 100+ photos, where a phone would rather not hold a
streamed download open for minutes).

The streamed exports (`GET /courses/{id}/export.zip` and `.pdf`) stay; these make the
very same files. The file is written to the blob store as it is made (a temp file,
hashed on the way, published under its SHA-256) and named on the job (`result_key`) in
the commit that marks it done. A job run again after its worker died makes its file
afresh (the manifest says when); a file the dead run published but never recorded is
an orphan nobody sees, which `storage check --repair` removes. `services.retention`
drops the file after EXPORT_TTL; the job stays, saying it expired.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from domain.errors import RuleViolation
from services import jobs
from services.exports.course_data import load_course_export
from services.exports.course_zip import course_members
from services.exports.zip_stream import BlobMember, stream_zip
from storage.blobs import Batch, BlobStore
from storage.models import Course, Job

FORMATS = {"zip": "export_zip", "pdf": "export_pdf"}
KIND_FORMATS = {kind: name for name, kind in FORMATS.items()}
# How long a made export can be downloaded.
EXPORT_TTL = timedelta(hours=24)


def request(session: Session, course: Course, user_id: int, export_format: str) -> Job:
    """Have the course's export made by a worker."""
    if export_format not in FORMATS:
        raise RuleViolation("Ask for zip or pdf.", "format")
    return jobs.submit(session, FORMATS[export_format], course.id, requested_by_id=user_id)


def make(session: Session, store: BlobStore, job: Job, fonts=None) -> None:
    """The job: the course's export, written to the store, its progress recorded as it goes."""
    course = session.get(Course, job.subject_id)
    if course is None:
        raise jobs.JobError("The course no longer exists.")
    export = load_course_export(session, course)
    jobs.progress(session, job, 5)
    with Batch(store) as batch:
        if job.kind == "export_zip":
            members = _counted(session, job, course_members(export))
            staged = batch.stage_chunks(stream_zip(members, store), "zip")
        else:
            from services.exports.timeline_pdf import timeline_pdf

            staged = batch.stage_chunks([timeline_pdf(export, store, fonts)], "pdf")
        jobs.progress(session, job, 95)
        job.result_key = batch.publish(staged)


def _counted(session: Session, job: Job, members: list):
    """The members, the job's progress recorded as the photos go in (5-95 %)."""
    photos = sum(1 for member in members if isinstance(member, BlobMember)) or 1
    done = 0
    for member in members:
        yield member
        if isinstance(member, BlobMember):
            done += 1
            if done % 5 == 0 or done == photos:
                jobs.progress(session, job, 5 + 90 * done // photos)


def export_format(job: Job) -> str:
    return KIND_FORMATS[job.kind]
