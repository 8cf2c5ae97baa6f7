"""The docs page (/api/v1/docs): Swagger UI served from this repository, in a real browser.

The browser test drives Debian's Chromium (`apt-get install chromium`) through
Playwright, against the app served on 127.0.0.1 by werkzeug in a thread. Every
request to another origin is refused and recorded: the page must render the
operations without any. Where /usr/bin/chromium is missing the test is skipped,
unless REQUIRE_BROWSER is set (CI sets it): then it fails.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from api import docs_ui
from api.config import Config

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ASSETS = ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css")
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
KNOWN_PATHS = ("/api/v1/courses/{course_id}/status", "/api/v1/photos/{photo_id}/thumbnail",
               "/api/v1/auth/token", "/healthz")


def test_the_pinned_version_is_the_one_in_config_and_source():
    source = (docs_ui.ASSETS_DIR / "SOURCE.md").read_text()
    assert f"- version: {docs_ui.SWAGGER_UI_VERSION}\n" in source
    assert Config.OPENAPI_SWAGGER_UI_URL == docs_ui.ASSETS_URL
    script = (Path(__file__).resolve().parent.parent / "tools" / "fetch_swagger_ui.sh")
    assert f"\nVERSION={docs_ui.SWAGGER_UI_VERSION}\n" in script.read_text()


def test_the_assets_are_the_files_source_md_records():
    recorded = dict(reversed(line.split("  ", 1)) for line in
                    (docs_ui.ASSETS_DIR / "SOURCE.md").read_text().splitlines()
                    if re.fullmatch(r"[0-9a-f]{64}  \S+", line))
    assert set(ASSETS) | {"LICENSE"} <= set(recorded)
    for name, digest in recorded.items():
        assert hashlib.sha256((docs_ui.ASSETS_DIR / name).read_bytes()).hexdigest() == digest, name


def test_the_assets_are_served_for_a_year(client):
    for name, mimetype in zip(ASSETS, ("text/javascript", "text/javascript", "text/css")):
        response = client.get(docs_ui.ASSETS_URL + name)
        assert response.status_code == 200, name
        assert response.mimetype == mimetype
        assert response.data == (docs_ui.ASSETS_DIR / name).read_bytes()
        assert response.cache_control.public and response.cache_control.immutable
        assert response.cache_control.max_age == 365 * 24 * 3600
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(docs_ui.ASSETS_URL + "../docs_ui.py").status_code == 404
    assert client.get(docs_ui.ASSETS_URL + "absent.js").status_code == 404
    assert client.get("/api/v1/docs/assets/0.0.1/swagger-ui.css").status_code == 404


def test_the_docs_page_names_no_other_origin(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    references = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sorted(references) == sorted([docs_ui.ASSETS_URL + name for name in ASSETS]
                                        + [f"/api/v1/docs/{docs_ui.INIT_SCRIPT}"])
    assert '"validatorUrl": null' in page


def test_the_docs_page_runs_no_inline_script_and_forbids_any(client):
    response = client.get("/api/v1/docs")
    page = response.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
    assert inline == [' id="swagger-ui-config" type="application/json"']  # data, never run
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline'; img" in policy
    assert "frame-ancestors 'none'" in policy
    assert client.get(f"/api/v1/docs/{docs_ui.INIT_SCRIPT}").mimetype == "text/javascript"


@pytest.fixture
def chromium():
    """The browser's path, after the skip-or-fail decision on machines without it."""
    required = os.environ.get("REQUIRE_BROWSER", "") not in ("", "0")
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if required:
            pytest.fail(f"{reason}, and REQUIRE_BROWSER is set")
        pytest.skip(f"{reason}; set REQUIRE_BROWSER=1 to fail instead")
    return CHROMIUM


@pytest.fixture
def live_url(app):
    """The test app served on 127.0.0.1 at a free port, in a thread, until the test ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.mark.browser
def test_swagger_ui_renders_every_operation_from_this_origin_only(chromium, live_url, client,
                                                                   tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    spec = client.get("/api/v1/openapi.json").get_json()
    operations = sum(1 for item in spec["paths"].values() for method in item if method in METHODS)
    origin = urlsplit(live_url)[:2]
    foreign: list[str] = []
    errors: list[str] = []

    def only_this_origin(route):
        url = route.request.url
        if urlsplit(url)[:2] == origin:
            route.continue_()
        else:
            foreign.append(url)
            route.abort()

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(chromium), headless=True,
            args=CHROMIUM_ARGS)
        try:
            context.route("**/*", only_this_origin)
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            # A script, style or request the page's Content-Security-Policy refused.
            page.on("console", lambda message: errors.append(message.text) if (
                message.type == "error" and "Content Security Policy" in message.text) else None)
            response = page.goto(f"{live_url}/api/v1/docs", wait_until="load")
            assert response is not None and response.status == 200
            try:
                page.wait_for_selector(".opblock", timeout=30_000)
            except PlaywrightTimeout:
                pytest.fail(f"no operation shown; refused requests to other origins: {foreign}; "
                            f"page errors: {errors}")
            page.wait_for_load_state("networkidle")
            blocks = page.locator(".opblock").count()
            shown = {text.replace("\u200b", "").strip()
                     for text in page.locator(".opblock-summary-path").all_inner_texts()}
            title = page.locator(".info .title").inner_text()
        finally:
            context.close()

    assert foreign == []
    assert errors == []
    assert blocks >= 50
    assert blocks == operations
    assert set(KNOWN_PATHS) <= shown, sorted(shown)
    assert spec["info"]["title"] in title
