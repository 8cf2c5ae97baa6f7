"""Shares: a patient invites a clinician with a one-time code, sees who is linked, revokes at once."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from api.auth import current_user
from api.blueprint import Blueprint
from api.database import db
from api.paging import id_page
from domain.roles import PATIENT
from schemas.common import EmptyBodySchema, PageArgsSchema
from schemas.shares import SharePageSchema, ShareSchema
from services import shares
from storage.models import Share

blp = Blueprint("shares", __name__, url_prefix="/api/v1",
                description="Who may see my data: invite codes and clinician links.")


@blp.route("/shares")
class ShareViews(MethodView):
    @blp.login_required(PATIENT)
    @blp.idempotent_create
    @blp.arguments(EmptyBodySchema, required=False)
    @blp.response(201, ShareSchema)
    def post(self, _body):
        """A single-use invite code for a clinician, valid 72 hours (shown only now)"""
        return shares.invite(db(), current_user())

    @blp.login_required(PATIENT)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, SharePageSchema)
    def get(self, args):
        """My invite codes and the clinicians they link me to, newest first"""
        return id_page(select(Share).options(joinedload(Share.clinician))
                       .where(Share.patient_id == current_user().id), Share.id, args)


@blp.route("/shares/<int:share_id>")
class ShareByIdViews(MethodView):
    @blp.login_required(PATIENT)
    @blp.response(204)
    def delete(self, share_id):
        """Revoke a code or a link: the clinician loses access with their very next request"""
        if not shares.revoke(db(), current_user(), share_id):
            abort(404, message="No such share.")
