"""Liveness for load balancers; also the trivial endpoint benchmarks compare against."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from api.blueprint import Blueprint

blp = Blueprint("health", __name__, url_prefix="", description="Health checks.")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True)


@blp.route("/healthz")
class HealthViews(MethodView):
    @blp.doc(security=[])
    @blp.response(200, HealthSchema)
    def get(self):
        """The process is up"""
        return {"status": "ok"}
