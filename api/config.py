"""Configuration: one class, read from the environment; tests pass their own."""

from __future__ import annotations

import os
from pathlib import Path

INSTANCE = Path(__file__).resolve().parent.parent / "instance"


class Config:
    """Settings for a running server; every one can be set from the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'scalpcourse.db'}")
    PHOTO_DIR = os.environ.get("PHOTO_DIR", str(INSTANCE / "photos"))
    # A JSON body or photo larger than this is refused with 413 before it is read.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 25 * 1024 * 1024))
    # JSON bodies are small; a large one is refused with 413 before it is parsed.
    MAX_JSON_LENGTH = int(os.environ.get("MAX_JSON_LENGTH", 1024 * 1024))
    TOKEN_TTL_DAYS = int(os.environ.get("TOKEN_TTL_DAYS", 30))
    IDEMPOTENCY_TTL_HOURS = 24
    # Flask-Limiter: in-memory for one process, redis://... for several workers.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    # Invite codes have 50 bits; this makes guessing one hopeless.
    REDEEM_RATE_LIMIT = os.environ.get("REDEEM_RATE_LIMIT", "10 per minute")

    API_TITLE = "Scalpcourse"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist/"
    API_SPEC_OPTIONS = {
        "security": [{"bearerAuth": []}],
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}
        },
    }
