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

import functools
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    tuple_,
)
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


# The list runs on every dashboard refresh: its statement is built once and
# bound to the clinician and the instant per request.
NOW = bindparam("now", type_=UTCDateTime())
URGENCY_KEY = (
    case((TriageDigest.consult_doctor.is_(True), 0), else_=1).label("urgent_flag"),
    case((TriageDigest.course_status == "on_hold", 0), else_=1).label("urgent_hold"),
    case((TriageDigest.overdue_from <= NOW, TriageDigest.overdue_from),
         else_=literal(NEVER, UTCDateTime())).label("urgent_overdue"),
    case((or_(TriageDigest.device_worn.is_(True), TriageDigest.device_expired_from <= NOW), 0),
         else_=1).label("urgent_device"),
    case((TriageDigest.photos_missing > 0, 0), else_=1).label("urgent_photos"),
    Share.patient_id.label("urgent_patient"),
)
# Plain columns, not ORM entities: loading 50 patients and digests as objects
# costs several times the query itself.
ROW = (User.id.label("patient_id"), User.display_name, User.timezone, Share.linked_at,
       TriageDigest.course_id, TriageDigest.course_status, TriageDigest.phase,
       TriageDigest.sessions_done, TriageDigest.sessions_planned, TriageDigest.next_number,
       TriageDigest.next_earliest, TriageDigest.next_due, TriageDigest.next_latest,
       TriageDigest.consult_doctor, TriageDigest.open_flags, TriageDigest.hold_reasons, TriageDigest.device_warnings,
       TriageDigest.device_expired_from, TriageDigest.photos_due, TriageDigest.photos_missing,
       TriageDigest.last_activity_at, TriageDigest.hair_count_change)
# The page's rows as plain named tuples: a SQLAlchemy Row's lookup by name costs more
# per field than rendering it, and the list reads some twenty fields of fifty rows.
TriageRow = namedtuple("TriageRow", select(*ROW, *URGENCY_KEY).selected_columns.keys())
LINKED = (
    select(*URGENCY_KEY)
    .select_from(Share)
    .outerjoin(TriageDigest, TriageDigest.patient_id == Share.patient_id)
    .where(Share.clinician_id == bindparam("clinician_id"), Share.revoked_at.is_(None))
)


def triage_page(session: Session, clinician_id: int, now: datetime, filters: TriageFilters,
                after: list | None, limit: int) -> list[TriageRow]:
    """One page of rows: the ROW columns, then the urgency key (for the next cursor).

    Patients are ranked on the narrow key columns first, and the wide columns
    are read for the page's patients only: sorting every linked patient's
    whole row is what made the list slow.
    """
    query = _page_query(filters.flag == "consult_doctor", filters.overdue, filters.on_hold,
                        bool(filters.name), after is not None)
    params = {"now": now, "clinician_id": clinician_id, "limit": limit}
    if filters.name:
        params["pattern"] = "%" + filters.name.lower().replace("\\", "\\\\").replace(
            "%", "\\%").replace("_", "\\_") + "%"
    if after is not None:
        params.update((f"after_{index}", value) for index, value in enumerate(after))
    # Plain columns, so Core on the session's connection (its transaction): the ORM's
    # execution path cost more than the query itself here.
    return [TriageRow._make(row) for row in session.connection().execute(query, params).all()]


@functools.cache
def _page_query(consult_only: bool, overdue: bool | None, on_hold: bool | None, by_name: bool,
                after: bool) -> Select:
    """The statement for one shape of filters, built once; every value is a parameter."""
    ranking = LINKED
    if consult_only:
        ranking = ranking.where(TriageDigest.consult_doctor.is_(True))
    if overdue is not None:
        is_overdue = TriageDigest.overdue_from <= NOW
        ranking = ranking.where(is_overdue if overdue
                                else or_(~is_overdue, TriageDigest.overdue_from.is_(None)))
    if on_hold is not None:
        is_on_hold = TriageDigest.course_status == "on_hold"
        ranking = ranking.where(is_on_hold if on_hold
                                else or_(~is_on_hold, TriageDigest.course_status.is_(None)))
    if by_name:
        ranking = ranking.join(User, User.id == Share.patient_id).where(
            func.lower(User.display_name).like(bindparam("pattern"), escape="\\"))
    if after:
        ranking = ranking.where(tuple_(*(key.element for key in URGENCY_KEY)) > tuple_(
            *[bindparam(f"after_{index}", type_=key.type)
              for index, key in enumerate(URGENCY_KEY)]))
    names = [key.name for key in URGENCY_KEY]
    page = ranking.order_by(*names).limit(bindparam("limit")).subquery()
    keys = [page.c[name] for name in names]
    return (
        select(*ROW, *keys)
        .select_from(page)
        .join(User, User.id == page.c.urgent_patient)
        .join(Share, and_(Share.patient_id == User.id,
                          Share.clinician_id == bindparam("clinician_id"),
                          Share.revoked_at.is_(None)))
        .outerjoin(TriageDigest, TriageDigest.patient_id == User.id)
        .order_by(*keys)
    )
