"""Flags: every consult_doctor flag of a course, and a linked clinician resolving one."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from api.access import course_or_404, flag_or_404
from api.auth import current_user
from api.blueprint import Blueprint
from api.database import db
from api.paging import id_page
from domain.roles import CLINICIAN
from schemas.common import PageArgsSchema
from schemas.flags import FlagPageSchema, FlagResolutionSchema, FlagSchema
from services.flags import resolve_flag
from storage.models import Flag

blp = Blueprint("flags", __name__, url_prefix="/api/v1",
                description="consult_doctor flags, session by session: raised by a session's "
                            "side effects, pre-check or check-in, lowered by its all-clear "
                            "check-in or a linked clinician.")


@blp.route("/courses/<int:course_id>/flags")
class CourseFlagViews(MethodView):
    @blp.login_required()
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, FlagPageSchema)
    def get(self, args, course_id):
        """Every flag of the course, open and lowered, newest first"""
        course = course_or_404(course_id, reading="flags")
        return id_page(select(Flag).where(Flag.course_id == course.id), Flag.id, args)


@blp.route("/flags/<int:flag_id>/resolve")
class FlagResolutionViews(MethodView):
    @blp.login_required(CLINICIAN)
    @blp.arguments(FlagResolutionSchema)
    @blp.response(200, FlagSchema)
    @blp.alt_response(409, "CONFLICT", description="The flag was already lowered")
    def post(self, data, flag_id):
        """Resolve an open flag with a note (linked clinicians)"""
        flag = resolve_flag(db(), flag_or_404(flag_id), current_user(), data["note"])
        db().commit()
        return flag
