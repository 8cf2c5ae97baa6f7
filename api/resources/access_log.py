"""The access log: who opened my data and photos, and when (the patient reads it)."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from api.auth import current_user
from api.blueprint import Blueprint
from api.paging import id_page
from domain.roles import PATIENT
from schemas.access_log import AccessLogPageSchema
from schemas.common import PageArgsSchema
from storage.models import AccessLogEntry

blp = Blueprint("access_log", __name__, url_prefix="/api/v1",
                description="Who opened a patient's data, and when.")


@blp.route("/me/access-log")
class AccessLogViews(MethodView):
    @blp.login_required(PATIENT)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, AccessLogPageSchema)
    def get(self, args):
        """Who opened my data and photos, newest first"""
        return id_page(select(AccessLogEntry).options(joinedload(AccessLogEntry.clinician))
                       .where(AccessLogEntry.patient_id == current_user().id),
                       AccessLogEntry.id, args)
