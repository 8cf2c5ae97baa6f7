"""`Idempotency-Key` for creating POSTs, kept in the database for 24 hours
(then purged: `services.retention`).

A creating request runs as: claim the key (committed, so every worker sees
it), do the work, then commit the work *together with* the stored response.
A crash can therefore never leave work done without its replayable answer;
a claim left behind by a dead worker holds no work and is taken over once
its lease runs out.

- same key, same request: the first response again, nothing new created;
- same key, another request (method, path or body): 422;
- same key while the first is still running: 409;
- keys are per user: another user's key means nothing to you;
- a stored response is filed under the patient whose records the request
  looked up: it is erased with that patient, and a clinician gets it again
  only while the patient still shares with them (else the 404 a new request
  would get).

Without a key the decorator still commits the unit of work once, so every
creating view reads the same: flush, return, and let this layer commit.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

from flask import Response, current_app, request
from flask_smorest import abort
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from api.access import acted_on_patient, visible_patient
from api.auth import current_user
from api.database import db
from storage.models import IdempotencyRecord, User, utcnow

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# A claim older than this without a response was left by a worker that died.
CLAIM_LEASE = timedelta(seconds=60)
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")

HEADER_DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "description": "Makes a retried create safe: the same key within 24 h returns the first response.",
    # Printable ASCII; a header value loses leading and trailing spaces on the way.
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
               "pattern": "^[!-~]([ -~]*[!-~])?$"},
}


def idempotent_create(view):
    """Make a creating POST replayable under `Idempotency-Key` and commit its work once.

    Views use it as `Blueprint.idempotent_create` (`api.blueprint`), which documents it.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            response = view(*args, **kwargs)
            _finish(response)
            return response
        _validate_key(key)
        record_id = _claim(key, _fingerprint())
        if isinstance(record_id, Response):
            return record_id
        try:
            response = view(*args, **kwargs)
            if response.status_code < 400:
                _store(record_id, response)
                db().commit()
                return response
        except BaseException:
            _release(record_id)
            raise
        _release(record_id)
        return response

    return wrapper


def _finish(response: Response) -> None:
    if response.status_code < 400:
        db().commit()
    else:
        db().rollback()


def _validate_key(key: str) -> None:
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        abort(422, message=f"{HEADER} must be 1-{MAX_KEY_LENGTH} printable ASCII characters.",
              errors={HEADER: ["Invalid idempotency key."]})


def _fingerprint() -> str:
    """What makes two requests 'the same': method, path and body (JSON canonicalised)."""
    if request.mimetype == "multipart/form-data":
        return _multipart_fingerprint()
    body = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        pass
    digest = hashlib.sha256(f"{request.method} {request.full_path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _multipart_fingerprint() -> str:
    """A multipart body by its fields and the SHA-256 of each file's bytes: a retry
    has another boundary (and maybe another file name), yet it is the same request."""
    files = []
    for name, upload in request.files.items(multi=True):
        files.append((name, hashlib.sha256(upload.stream.read()).hexdigest()))
        upload.stream.seek(0)
    fields = sorted(request.form.items(multi=True))
    digest = hashlib.sha256(f"{request.method} {request.full_path}\n".encode())
    digest.update(json.dumps([fields, sorted(files)]).encode())
    return digest.hexdigest()


def _claim(key: str, fingerprint: str) -> int | Response:
    """Claim the key, or answer from an earlier request that holds it."""
    session = db()
    user_id = current_user().id
    now = utcnow()
    ttl = timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.created_at < now - ttl,
        )
    )
    record = IdempotencyRecord(user_id=user_id, key=key, fingerprint=fingerprint, created_at=now)
    session.add(record)
    try:
        session.commit()
        return record.id
    except IntegrityError:
        session.rollback()
    existing = session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    ).one()
    if existing.fingerprint != fingerprint:
        abort(422, message=f"This {HEADER} was already used for a different request.",
              errors={HEADER: ["Key reused with a different request."]})
    if existing.status_code is not None:
        # A patient's own records are theirs for as long as the record exists.
        if existing.patient_id not in (None, user_id) and not _still_visible(existing.patient_id):
            abort(404, message="No such patient.")
        return _replay(existing)
    if existing.created_at < now - CLAIM_LEASE and _take_over(existing.id, existing.created_at):
        return existing.id
    abort(409, message="A request with this Idempotency-Key is still being processed; retry shortly.",
          headers={"Retry-After": "1"})


def _still_visible(patient_id: int) -> bool:
    """Whether the caller may still see this patient (a clinician: while they share)."""
    query = select(User.id).where(User.id == patient_id, visible_patient(User.id))
    return db().scalar(query) is not None


def _take_over(record_id: int, claimed_at) -> bool:
    """Re-claim an abandoned key; only one of several racing retries wins."""
    result = db().execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.id == record_id,
            IdempotencyRecord.status_code.is_(None),
            IdempotencyRecord.created_at == claimed_at,
        )
        .values(created_at=utcnow())
    )
    db().commit()
    return result.rowcount == 1


def _store(record_id: int, response: Response) -> None:
    db().execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(
            patient_id=acted_on_patient(),
            status_code=response.status_code,
            response_body=response.get_data(),
            response_headers={
                name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers
            },
        )
    )


def _release(record_id: int) -> None:
    """Forget a claim whose request failed, so a corrected retry can run."""
    session = db()
    session.rollback()
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
    session.commit()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.status_code)
    for name, value in (record.response_headers or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response

