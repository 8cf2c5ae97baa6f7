"""The triage list in one query: linked patients and their digests, most urgent first.

Urgency, in this order (API.md; ties broken by patient id):
1. an open `consult_doctor` flag;
2. a course on hold;
3. overdue, longest overdue first (the digest keeps the instant it became overdue);
4. a device warning (worn, nearing its end, or expired by now);
5. photos missing for the current milestone.
Every key sorts ascending, so a cursor is the last row's key tuple.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Row, and_, case, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from storage.models import Share, TriageDigest, User, UTCDateTime

# Sorts after every real instant: "not overdue".
NEVER = datetime(9999, 12, 31, tzinfo=timezone.utc)


@dataclass(frozen=True)
class TriageFilters:
    flag: str | None = None
    overdue: bool | None = None
    on_hold: bool | None = None
    name: str | None = None


def urgency_key(now: datetime):
    """The ordered sort key columns of the triage list at `now`."""
    digest = TriageDigest
    return (
        case((digest.consult_doctor.is_(True), 0), else_=1),
        case((digest.course_status == "on_hold", 0), else_=1),
        case((digest.overdue_from <= now, digest.overdue_from),
             else_=literal(NEVER, UTCDateTime())),
        case((or_(digest.device_worn.is_(True), digest.device_expired_from <= now), 0), else_=1),
        case((digest.photos_missing > 0, 0), else_=1),
        User.id,
    )


def triage_page(session: Session, clinician_id: int, now: datetime, filters: TriageFilters,
                after: list | None, limit: int) -> list[Row]:
    """One page of (User, TriageDigest | None, linked_at, *key) rows."""
    key = urgency_key(now)
    query = (
        select(User, TriageDigest, Share.linked_at, *key)
        .join(Share, and_(Share.patient_id == User.id, Share.clinician_id == clinician_id,
                          Share.revoked_at.is_(None)))
        .outerjoin(TriageDigest, TriageDigest.patient_id == User.id)
    )
    if filters.flag == "consult_doctor":
        query = query.where(TriageDigest.consult_doctor.is_(True))
    if filters.overdue is not None:
        overdue = TriageDigest.overdue_from <= now
        query = query.where(overdue if filters.overdue else or_(~overdue, TriageDigest.overdue_from.is_(None)))
    if filters.on_hold is not None:
        on_hold = TriageDigest.course_status == "on_hold"
        query = query.where(on_hold if filters.on_hold else or_(~on_hold, TriageDigest.course_status.is_(None)))
    if filters.name:
        pattern = "%" + filters.name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.lower(User.display_name).like(pattern, escape="\\"))
    if after is not None:
        query = query.where(tuple_(*key) > tuple_(*[literal(value, column.type)
                                                    for value, column in zip(after, key)]))
    return session.execute(query.order_by(*key).limit(limit)).all()
