"""Configuration: one class, read from the environment; tests pass their own."""

from __future__ import annotations

import os
from pathlib import Path

from services.images.pipeline import DEFAULT_MAX_PIXELS

INSTANCE = Path(__file__).resolve().parent.parent / "instance"


DEVELOPMENT_SECRET = "dev-only-not-secret"


class Config:
    """Settings for a running server; every one can be set from the environment."""

    # "production" refuses to start with debug on or a default secret.
    APP_ENV = os.environ.get("APP_ENV", "development")
    DEBUG = os.environ.get("FLASK_DEBUG", "0") == "1"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET)
    DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'scalpcourse.db'}")
    PHOTO_DIR = os.environ.get("PHOTO_DIR", str(INSTANCE / "photos"))
    # A JSON body or photo larger than this is refused with 413 before it is read.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 25 * 1024 * 1024))
    # JSON bodies are small; a large one is refused with 413 before it is parsed.
    MAX_JSON_LENGTH = int(os.environ.get("MAX_JSON_LENGTH", 1024 * 1024))
    # A photo with more pixels is refused (422) from its header, before decoding.
    MAX_IMAGE_PIXELS = int(os.environ.get("MAX_IMAGE_PIXELS", DEFAULT_MAX_PIXELS))
    # TrueType fonts of PDF exports, for names in any script; where they are missing,
    # PDFs fall back to Helvetica (Latin-1 only). Debian/Ubuntu: fonts-dejavu-core.
    PDF_FONT = os.environ.get("PDF_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    PDF_BOLD_FONT = os.environ.get("PDF_BOLD_FONT",
                                   "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
    # A resumable upload not finished this long after it began is dropped with its bytes.
    UPLOAD_TTL_HOURS = 24
    TOKEN_TTL_DAYS = int(os.environ.get("TOKEN_TTL_DAYS", 30))
    IDEMPOTENCY_TTL_HOURS = 24
    # The job queue (api/jobs.py): Huey on an SQLite file by default (no server needed),
    # queue.db beside the photo folder; redis://host:port/db in production.
    # Workers: `flask jobs worker`.
    QUEUE_URL = os.environ.get("QUEUE_URL")
    QUEUE_NAME = os.environ.get("QUEUE_NAME", "scalpcourse")
    # A job whose worker has not finished it (or said how far it got) this long after
    # taking it is taken for dead, and sent again.
    JOB_LEASE_S = int(os.environ.get("JOB_LEASE_S", 120))
    # A job still queued this long after it was sent is sent again (its message may be lost).
    JOB_RESEND_AFTER_S = int(os.environ.get("JOB_RESEND_AFTER_S", 60))
    # What a client waiting for a preview is told to wait (202 + Retry-After).
    DERIVATIVES_RETRY_AFTER_S = 2
    # Flask-Limiter: in-memory for one process, redis://... for several workers.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "scalpcourse")
    RATELIMIT_HEADERS_ENABLED = True
    # With the shared store unreachable, count in each worker's memory until it is back
    # (Flask-Limiter retries it): logins stay limited, per worker, instead of failing.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Password guesses per account: logins, and wrong passwords to change it or erase the account.
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    # Registrations per client address: with the 409 for a known email, at most this many
    # emails an hour can be tried from one address.
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "20 per hour")
    # Invite codes have 50 bits; this makes guessing one hopeless.
    REDEEM_RATE_LIMIT = os.environ.get("REDEEM_RATE_LIMIT", "10 per minute")

    # How many reverse proxies sit in front (their X-Forwarded-* headers are trusted).
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", 0))
    # Browser origins allowed to call the API (comma-separated); none by default.
    CORS_ORIGINS = [origin.strip() for origin in os.environ.get("CORS_ORIGINS", "").split(",")
                    if origin.strip()]
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    API_TITLE = "Scalpcourse"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    # Served by api/docs_ui.py from api/static/swagger-ui/ (no CDN); the version in the
    # path is api.docs_ui.SWAGGER_UI_VERSION, and the files there never change.
    OPENAPI_SWAGGER_UI_URL = "/api/v1/docs/assets/5.35.0/"
    API_SPEC_OPTIONS = {
        "security": [{"bearerAuth": []}],
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}
        },
    }


def settings(config_class: type = Config) -> dict:
    """The settings of a config class, as `app.config` would hold them."""
    return {name: getattr(config_class, name) for name in dir(config_class) if name.isupper()}


def production_problems(config, workers: int | None = None) -> list[str]:
    """Why a configuration must not serve real patients (empty when it may).

    `workers`: how many processes will serve (gunicorn's, checked as it starts).
    """
    problems = []
    if config.get("APP_ENV") != "production":
        return problems
    if config.get("DEBUG"):
        problems.append("debug is on (FLASK_DEBUG=1)")
    secret = config.get("SECRET_KEY") or ""
    if secret == DEVELOPMENT_SECRET or len(secret) < 32:
        problems.append("SECRET_KEY is the development default or shorter than 32 characters")
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "")
    if workers is not None and workers > 1 and storage.startswith("memory://"):
        problems.append(
            f"RATELIMIT_STORAGE_URI is memory:// with {workers} workers: each would count "
            f"login attempts on its own ({workers} times the limit in all); set a shared "
            "store (redis://...), or say that one process is meant with WEB_CONCURRENCY=1")
    return problems
