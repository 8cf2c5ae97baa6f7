"""The Swagger UI of /api/v1/docs, served from this repository instead of a CDN.

flask-smorest's page loads swagger-ui.css, swagger-ui-standalone-preset.js and
swagger-ui-bundle.js from OPENAPI_SWAGGER_UI_URL (api/config.py). Those files are
swagger-ui-dist at a pinned version, kept in api/static/swagger-ui/ (SOURCE.md
says where from; tools/fetch_swagger_ui.sh fetches them again), so the page
works on a machine without internet and loads nothing from another origin.

The page itself is api/templates/swagger_ui.html, flask-smorest's without its
inline script (the Content-Security-Policy of api/headers.py allows none):
api/static/docs/swagger-ui-init.js starts Swagger UI instead.

The version is part of the URL, so a file there never changes: browsers may keep
it a year. The online validator badge (which would send the document's URL to
validator.swagger.io) is turned off unless OPENAPI_SWAGGER_UI_CONFIG sets one.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, send_from_directory

SWAGGER_UI_VERSION = "5.35.0"
ASSETS_URL = f"/api/v1/docs/assets/{SWAGGER_UI_VERSION}/"
ASSETS_DIR = Path(__file__).resolve().parent / "static" / "swagger-ui"
INIT_DIR = Path(__file__).resolve().parent / "static" / "docs"
INIT_SCRIPT = "swagger-ui-init.js"
ONE_YEAR = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    """Serve the Swagger UI files under ASSETS_URL and keep the page on this origin."""
    app.add_url_rule(f"{ASSETS_URL}<path:filename>", endpoint="swagger_ui_asset",
                     view_func=_asset)
    app.add_url_rule(f"/api/v1/docs/{INIT_SCRIPT}", endpoint="docs_ui_init", view_func=_init)
    # flask-smorest reads this setting on every request to the docs page.
    swagger_config = dict(app.config.get("OPENAPI_SWAGGER_UI_CONFIG") or {})
    swagger_config.setdefault("validatorUrl", None)
    app.config["OPENAPI_SWAGGER_UI_CONFIG"] = swagger_config


def _asset(filename: str) -> Response:
    response = send_from_directory(ASSETS_DIR, filename, max_age=ONE_YEAR)
    response.cache_control.immutable = True
    return response


def _init() -> Response:
    return send_from_directory(INIT_DIR, INIT_SCRIPT, max_age=0)
