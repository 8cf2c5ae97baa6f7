"""Response headers every route shares: caching of health data, nosniff, CORS.

JSON about patients is never stored by a cache (`no-store`); image bytes set
their own policy (`private`, revalidated by ETag). Browsers may call the API
only from the origins named in CORS_ORIGINS (none by default).
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_cors import CORS

# What a browser client may send and read besides the CORS-safelisted headers.
REQUEST_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match",
                   "X-Request-ID", "Upload-Offset", "Upload-Length", "Tus-Resumable"]
RESPONSE_HEADERS = ["ETag", "Location", "Retry-After", "X-Request-ID", "Idempotent-Replayed",
                    "Upload-Offset", "Upload-Length", "Tus-Resumable"]
PUBLIC_PATHS = ("/api/v1/openapi.json", "/api/v1/docs", "/healthz", "/readyz")


def _shared_headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.path.startswith("/api/v1/") and not request.path.startswith(PUBLIC_PATHS):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def register(app: Flask) -> None:
    app.after_request(_shared_headers)
    if app.config["CORS_ORIGINS"]:
        CORS(app, origins=app.config["CORS_ORIGINS"], allow_headers=REQUEST_HEADERS,
             expose_headers=RESPONSE_HEADERS, max_age=600)
