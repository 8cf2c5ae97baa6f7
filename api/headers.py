"""Response headers every route shares: caching of health data, security headers, CORS.

JSON about patients is never stored by a cache (`no-store`); image bytes set
their own policy (`private`, revalidated by ETag). Browsers may call the API
only from the origins named in CORS_ORIGINS (none by default).

Security headers on every response: `nosniff`, `Referrer-Policy: no-referrer`
(a URL may hold a calendar feed's secret), no framing (`X-Frame-Options` and
CSP `frame-ancestors`), and a Content-Security-Policy: an HTML page may load
scripts, styles, images and data from this origin only, and run no inline
script; anything else (JSON, images) may load nothing at all. Over HTTPS (as
the trusted proxy says, see PROXY_COUNT) browsers are told to keep to HTTPS
for a year (`Strict-Transport-Security`); over plain HTTP the header would
mean nothing and is not sent.
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

PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
RESOURCE_POLICY = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"


def _shared_headers(response: Response) -> Response:
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault("Content-Security-Policy",
                       PAGE_POLICY if response.mimetype == "text/html" else RESOURCE_POLICY)
    if request.is_secure:
        headers["Strict-Transport-Security"] = HSTS
    if request.path.startswith("/api/v1/") and not request.path.startswith(PUBLIC_PATHS):
        headers.setdefault("Cache-Control", "no-store")
    return response


def register(app: Flask) -> None:
    app.after_request(_shared_headers)
    if app.config["CORS_ORIGINS"]:
        CORS(app, origins=app.config["CORS_ORIGINS"], allow_headers=REQUEST_HEADERS,
             expose_headers=RESPONSE_HEADERS, max_age=600)
