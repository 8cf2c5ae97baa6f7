"""The access log: every successful read of a patient's data by a clinician, on record.

Lookups note what a clinician read (`note_read`); once the response is known
to be a success, the rows are written and committed before it leaves. If they
cannot be written, the read fails with 503 rather than going unrecorded. No
route changes or deletes a row; the patient reads them at `GET /me/access-log`
(`api.resources.access_log`).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request
from sqlalchemy.exc import SQLAlchemyError

from api.auth import current_user
from api.database import db
from api.errors import problem
from api.request_log import request_id
from domain.roles import CLINICIAN
from storage.models import AccessLogEntry

log = logging.getLogger(__name__)


def note_read(patient_id: int, object_type: str, object_id: int | None) -> None:
    """Remember that the current clinician is reading this (GET requests only)."""
    if request.method != "GET" or g.get("user") is None or current_user().role != CLINICIAN:
        return
    g.setdefault("reads", []).append((patient_id, object_type, object_id))


def _write_reads(response: Response) -> Response:
    reads = g.pop("reads", None)
    if reads and 200 <= response.status_code < 300:
        session = db()
        clinician_id = current_user().id
        try:
            session.add_all(
                AccessLogEntry(patient_id=patient_id, clinician_id=clinician_id,
                               object_type=object_type, object_id=object_id, action="read",
                               request_id=request_id())
                for patient_id, object_type, object_id in dict.fromkeys(reads)
            )
            session.commit()
        except SQLAlchemyError:
            session.rollback()
            log.exception("access log not written; refusing the read")
            return problem(503, "The read could not be recorded; try again shortly.",
                           headers={"Retry-After": "5"})
    return response


def register(app: Flask) -> None:
    app.after_request(_write_reads)
