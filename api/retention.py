"""Retention in a running server: purges in a session of their own, beside the requests.

What operators schedule is `flask maintenance purge` (`api.cli`). Besides it,
each worker purges at most once every `RETENTION_PURGE_INTERVAL_S` seconds,
after a response has been sent (never in a request's transaction, never on
its time), so a server nobody maintains still forgets what it promised to.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from flask import Flask, Response, current_app
from sqlalchemy.exc import SQLAlchemyError

from api.database import photo_store
from services import retention
from storage.blobs import LocalBlobStore
from storage.models import User, utcnow

log = logging.getLogger(__name__)


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


class _Schedule:
    """When this worker last purged (monotonic seconds)."""

    last = time.monotonic()


def _purge_now_and_then(response: Response) -> Response:
    interval = current_app.config["RETENTION_PURGE_INTERVAL_S"]
    now = time.monotonic()
    if now - _Schedule.last >= interval:
        _Schedule.last = now
        app = current_app._get_current_object()
        response.call_on_close(lambda: _purge_quietly(app))
    return response


def _purge_quietly(app: Flask) -> None:
    try:
        purged = purge(app)
    except (SQLAlchemyError, OSError):
        log.exception("retention purge failed; the next one retries")
        return
    if purged.idempotency_records or purged.uploads:
        log.info("purged %d idempotent responses and %d expired uploads",
                 purged.idempotency_records, purged.uploads)


def init_app(app: Flask) -> None:
    app.after_request(_purge_now_and_then)
