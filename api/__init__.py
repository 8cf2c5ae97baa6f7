"""The Flask application: `create_app` wires config, database, errors and blueprints."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from api import access_log, docs_ui, headers, jobs, limits, request_log
from api.bodies import ApiRequest, JsonProvider
from api.config import Config, production_problems
from api.database import Database
from api.errors import ProblemApi, register_error_handlers
from schemas.document import DocumentPlugin
from services import status_digests


def create_app(config: type | None = None) -> Flask:
    """Build the app from `config` (a class; defaults to the environment's `Config`)."""
    app = Flask(__name__, static_folder=None)
    app.config.from_object(config or Config)
    problems = production_problems(app.config)
    if problems:
        raise RuntimeError("refusing to start in production: " + "; ".join(problems))
    app.request_class = ApiRequest
    app.json = JsonProvider(app)
    app.session_interface = NoCookieSessions()
    if app.config["PROXY_COUNT"]:
        hops = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    database = Database(app)
    status_digests.install(database.sessions.session_factory)
    limits.init_app(app)
    app.url_map.converters["int"] = DatabaseId
    # Schemas are documented as the server checks them (schemas/document.py).
    api = ProblemApi(app, spec_kwargs={"marshmallow_plugin": DocumentPlugin()})
    api.register_converter(DatabaseId, lambda converter: {
        "type": "integer", "minimum": converter.min, "maximum": converter.max})
    register_error_handlers(app)
    from api.resources import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    docs_ui.init_app(app)
    # after_request handlers run last-registered first: the access log may turn
    # a response into a 503, and the headers and the request log see the result.
    request_log.register(app)
    headers.register(app)
    access_log.register(app)
    jobs.init_app(app)

    from api.cli import register_commands

    register_commands(app)
    return app


class NoCookieSessions(SessionInterface):
    """The API authenticates by bearer token and keeps no cookie session.

    Flask's default opens a signed-cookie session on every request, a measurable
    part of a cheap one; this one opens none, so `flask.session` is a NullSession
    that refuses writes.
    """

    def open_session(self, app, request):
        return None

    def save_session(self, app, session, response):
        return None


class DatabaseId(IntegerConverter):
    """Every `<int:...>` in a route is a row id: 1 to 2^31-1 (a PostgreSQL integer).

    An id out of that range is a 404 from routing, never an overflow in the database.
    """

    def __init__(self, url_map, **kwargs):
        super().__init__(url_map, min=1, max=2**31 - 1)

