"""Queries of jobs (`storage.models.Job`): claim one, find the ones to send again, list."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Job


def claim(session: Session, job_id: int, now: datetime, lease: timedelta) -> Job | None:
    """Mark the job running for this worker until `now + lease`, if it is queued (or its
    last worker's lease ran out); None if it is done, failed or running elsewhere.

    One UPDATE with the condition in its WHERE: of two workers handed the same job
    (a message delivered twice), exactly one gets it.
    """
    claimed = session.execute(
        update(Job)
        .where(Job.id == job_id, or_(Job.status == "queued",
                                     and_(Job.status == "running", Job.lease_until < now)))
        .values(status="running", attempts=Job.attempts + 1, lease_until=now + lease,
                updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if not claimed:
        return None
    return session.get(Job, job_id, populate_existing=True)


def to_send_again(session: Session, now: datetime, unsent_after: timedelta,
                  limit: int = 500) -> list[int]:
    """Jobs whose message may be lost: queued for longer than `unsent_after` (the queue
    was down when they were sent, or emptied since), or running past their lease (their
    worker died)."""
    return list(session.scalars(
        select(Job.id)
        .where(or_(and_(Job.status == "queued", Job.updated_at < now - unsent_after),
                   and_(Job.status == "running", Job.lease_until < now)))
        .order_by(Job.id).limit(limit)))


def touch(session: Session, job_ids: Iterable[int], now: datetime) -> None:
    """Note that these jobs were just sent (again)."""
    session.execute(update(Job).where(Job.id.in_(list(job_ids)), Job.status == "queued")
                    .values(updated_at=now).execution_options(synchronize_session=False))


def jobs(session: Session, status: str | None = None, limit: int = 100) -> list[Job]:
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Job.status == status)
    return list(session.scalars(query))


def latest_job(session: Session, kind: str, subject_id: int) -> Job | None:
    return session.scalars(select(Job).where(Job.kind == kind, Job.subject_id == subject_id)
                           .order_by(Job.id.desc()).limit(1)).first()


def count_by_status(session: Session) -> dict[str, int]:
    from sqlalchemy import func

    return dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())


def expired_exports(session: Session, before: datetime) -> list[Job]:
    """Export jobs whose file was made before `before` and is still kept."""
    return list(session.scalars(select(Job).where(
        Job.kind.like("export_%"), Job.result_key.is_not(None), Job.finished_at < before)))
