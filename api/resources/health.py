"""Health checks for load balancers; `/healthz` is also the benchmarks' trivial endpoint."""

from __future__ import annotations

import tempfile

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.blueprint import Blueprint
from api.database import db
from api.errors import PROBLEM_JSON, ProblemSchema, problem

blp = Blueprint("health", __name__, url_prefix="", description="Health checks.")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True)


class ReadinessSchema(HealthSchema):
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


@blp.route("/healthz")
class HealthViews(MethodView):
    @blp.doc(security=[])
    @blp.response(200, HealthSchema)
    def get(self):
        """The process is up"""
        return {"status": "ok"}


@blp.route("/readyz")
class ReadinessViews(MethodView):
    @blp.doc(security=[])
    @blp.response(200, ReadinessSchema)
    @blp.alt_response(503, schema=ProblemSchema, content_type=PROBLEM_JSON,
                      description="Not ready: the database or the photo store is not usable")
    def get(self):
        """Ready for traffic: the database answers and the photo store takes a write"""
        checks = {"database": _database(), "photo_store": _photo_store()}
        if any(result != "ok" for result in checks.values()):
            failing = ", ".join(name for name, result in checks.items() if result != "ok")
            return problem(503, f"Not ready: {failing}.", headers={"Retry-After": "5"})
        return {"status": "ready", "checks": checks}


def _database() -> str:
    try:
        db().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return "unreachable"
    return "ok"


def _photo_store() -> str:
    try:
        with tempfile.NamedTemporaryFile(dir=current_app.config["PHOTO_DIR"], prefix=".readyz-"):
            pass
    except OSError:
        return "not writable"
    return "ok"
