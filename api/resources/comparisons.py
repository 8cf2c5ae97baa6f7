"""Before and after: two photos of one scalp area of a course, side by side."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from api.access import course_or_404
from api.blueprint import Blueprint
from api.database import db, photo_store
from api.resources.photos import IMAGE_HEADERS
from schemas.photos import BINARY, CompareArgsSchema
from services.images import compare
from services.images.pipeline import JPEG

blp = Blueprint("comparisons", __name__, url_prefix="/api/v1",
                description="Before/after comparisons of one scalp area of a course.")


@blp.route("/courses/<int:course_id>/compare")
class CompareViews(MethodView):
    @blp.login_required()
    @blp.etag
    @blp.arguments(CompareArgsSchema, location="query")
    @blp.response(200, BINARY, content_type=JPEG,
                  description="Two photos side by side at the same height, dated and numbered")
    def get(self, args, course_id):
        """Two photos of an area side by side: by default the baseline and the latest"""
        course = course_or_404(course_id, reading="photos")
        comparison = compare.comparison(db(), course, args["area"], args.get("before"),
                                        args.get("after"))
        blp.set_etag(comparison.tag)
        response = Response(compare.render(photo_store(), comparison), mimetype=JPEG)
        response.headers.update(IMAGE_HEADERS)
        return response
