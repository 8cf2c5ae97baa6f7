"""Shares: a patient invites a clinician with a one-time code, sees who is linked, revokes at once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import func, select, update

from api.auth import PATIENT, current_user, login_required
from api.blueprint import Blueprint
from api.database import db
from api.idempotency import idempotent_create
from api.paging import id_page
from schemas.common import PageArgsSchema
from schemas.shares import SharePageSchema, ShareSchema
from storage.models import Share, User, utcnow

blp = Blueprint("shares", __name__, url_prefix="/api/v1",
                description="Who may see my data: invite codes and clinician links.")

# Easy to read out over the phone: no 0/O or 1/I to confuse.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 32 symbols ** 10 = 2 ** 50 codes
CODE_TTL = timedelta(hours=72)


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def code_digest(code: str) -> str:
    """The stored form of a code: hyphens, spaces and case do not matter."""
    normalised = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(normalised.encode()).hexdigest()


def share_state(share: Share) -> str:
    if share.revoked_at is not None:
        return "revoked"
    if share.clinician_id is not None:
        return "linked"
    return "pending" if share.expires_at > utcnow() else "expired"


def share_body(share: Share, clinician: User | None, code: str | None = None) -> dict:
    return {
        "id": share.id, "code": code, "state": share_state(share),
        "created_at": share.created_at, "expires_at": share.expires_at,
        "linked_at": share.linked_at, "revoked_at": share.revoked_at,
        "clinician": {"id": clinician.id, "display_name": clinician.display_name}
        if clinician else None,
    }


@blp.route("/shares")
class ShareViews(MethodView):
    @login_required(PATIENT)
    @idempotent_create
    @blp.response(201, ShareSchema)
    def post(self):
        """A single-use invite code for a clinician, valid 72 hours (shown only now)"""
        code = new_code()
        share = Share(patient_id=current_user().id, code_hash=code_digest(code),
                      expires_at=utcnow() + CODE_TTL)
        db().add(share)
        db().flush()
        return share_body(share, None, code)

    @login_required(PATIENT)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, SharePageSchema)
    def get(self, args):
        """My invite codes and the clinicians they link me to, newest first"""
        rows, next_cursor = id_page(
            select(Share, User).outerjoin(User, User.id == Share.clinician_id)
            .where(Share.patient_id == current_user().id), Share.id, args)
        return {"items": [share_body(share, clinician) for share, clinician in rows],
                "next_cursor": next_cursor}


@blp.route("/shares/<int:share_id>")
class ShareByIdViews(MethodView):
    @login_required(PATIENT)
    @blp.response(204)
    def delete(self, share_id):
        """Revoke a code or a link: the clinician loses access with their very next request"""
        result = db().execute(
            update(Share)
            .where(Share.id == share_id, Share.patient_id == current_user().id)
            .values(revoked_at=func.coalesce(Share.revoked_at, utcnow()))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 0:
            abort(404, message="No such share.")
        db().commit()
