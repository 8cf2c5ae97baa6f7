"""One role's schemathesis run against the live server `tests/test_live_fuzz.py` started.

Not collected on its own: the harness runs this module in a pytest process
of its own per role (`LIVE_FUZZ_WORLD` names the server and the accounts,
`LIVE_FUZZ_ROLE` the role), so the two roles use both CPUs at once. Every
operation of the served document is fuzzed with `LIVE_FUZZ_EXAMPLES`
examples and every response goes through every check schemathesis has,
but for the exceptions below, each with its reason. The totals go to
`LIVE_FUZZ_TOTALS` as JSON.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, assume, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    object_level_authorization,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)

from storage.db import make_engine
from tests.live_seed import add_account, issue_token

ALL_CHECKS = (
    not_a_server_error, status_code_conformance, content_type_conformance,
    response_headers_conformance, response_schema_conformance, negative_data_rejection,
    positive_data_acceptance, missing_required_header, unsupported_method,
    allow_header_conformance, use_after_free, ensure_resource_availability, ignored_auth,
    object_level_authorization,
)
# `positive_data_acceptance` expects every schema-valid request to succeed. API.md answers
# 422 for domain rules no schema can express; on these operations (and only on them) that
# one check is off, each for the reason given. Every other check runs on every operation.
DOMAIN_RULES = {
    "POST /api/v1/auth/register": "timezone must be a zone tzdata knows",
    "PATCH /api/v1/me": "timezone must be a zone tzdata knows; current_password the real one",
    "DELETE /api/v1/me": "password must be the account's own",
    "POST /api/v1/courses": "start_date within a year back and 90 days ahead of the "
                            "patient's today; phase sizes for an intensive course only",
    "PATCH /api/v1/courses/{course_id}": "a clinician's hold (status on_hold) needs a note",
    "POST /api/v1/courses/{course_id}/sessions": "performed_at not in the future nor before "
                                                 "the course's start; device_id one of the "
                                                 "patient's devices",
    "PATCH /api/v1/sessions/{session_id}": "performed_at not in the future nor before the "
                                           "course's start; device_id one of the patient's "
                                           "devices",
    "POST /api/v1/sessions/{session_id}/check-in": "from 20 hours to 7 days after the session",
    "PATCH /api/v1/sessions/{session_id}/check-in": "within 7 days of the session",
    "POST /api/v1/devices": "first_used_on within five years before today",
    "PATCH /api/v1/devices/{device_id}": "first_used_on within five years before today",
    "GET /api/v1/photos": "from before to",
    "GET /api/v1/photos/timeline": "from before to",
    "POST /api/v1/photos": "file must be a real image; session_id a session of the course",
    "PATCH /api/v1/photos/{photo_id}": "session_id a session of the photo's course",
    "POST /api/v1/uploads": "session_id a session of the course",
    "PATCH /api/v1/uploads/{upload_id}": "the finished file must be a real image",
    "GET /api/v1/courses/{course_id}/compare": "before and after photos of that area "
                                               "in the course",
    "GET /api/v1/courses/{course_id}/timelapse.gif": "photos of that area in the course",
    "POST /api/v1/courses/{course_id}/observations": "value must suit the kind (a stage "
                                                     "or a number); observed_at neither in "
                                                     "the future nor a year before the course",
    "PATCH /api/v1/observations/{observation_id}": "value must suit the measurement's kind; "
                                                   "observed_at neither in the future nor a "
                                                   "year before the course; not withdrawn",
    "POST /api/v1/flags/{flag_id}/resolve": "the flag must still be open",
    "DELETE /api/v1/observations/{observation_id}": "only whoever recorded it withdraws it",
}
# `negative_data_rejection` on a multipart body: a form field is text on the wire, so a
# generated non-text value (`"note": [null]`) arrives as valid text ("null") and is rightly
# accepted. schemathesis reads the sent form back to tell such cases apart, but not when the
# form also carries a file part; so for body mutations of this form the check is off.
TEXT_ON_THE_WIRE = {"POST /api/v1/photos"}
EXAMPLES = int(os.environ.get("LIVE_FUZZ_EXAMPLES", 100))
ROLE = os.environ.get("LIVE_FUZZ_ROLE", "")
WORLD = json.loads(Path(os.environ["LIVE_FUZZ_WORLD"]).read_text()) \
    if os.environ.get("LIVE_FUZZ_WORLD") else None
# Chunks of a resumable upload (PATCH /uploads/{id}) are raw bytes.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
# One client for every case; proxies from the environment are never wanted for 127.0.0.1.
# gunicorn answers a request line longer than this (gunicorn.conf.py) with its own 414, in
# HTML, before the app sees it, as a reverse proxy in front would; the app's contract
# starts inside that limit.
LONGEST_REQUEST_LINE = 8190
SESSION = requests.Session()
SESSION.trust_env = False
TOTALS = {"operations": set(), "cases": 0, "failed": set()}


@pytest.fixture(scope="module")
def engine():
    if WORLD is None:
        pytest.skip("run by tests/test_live_fuzz.py, which starts the server")
    engine = make_engine(WORLD["database_url"])
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def role_schema(engine):
    config = SchemathesisConfig.from_dict({
        "auth": {"openapi": {"bearerAuth": {"bearer": WORLD[ROLE]["token"]}}},
        # tus 1.0 answers another protocol version with 412 Precondition Failed.
        "operations": [{"include-path": "/api/v1/uploads/{upload_id}", "checks": {
            "negative_data_rejection": {
                "expected-statuses": [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "412"]}}}],
    })
    yield schemathesis.openapi.from_url(f"{WORLD['base_url']}/api/v1/openapi.json",
                                        config=config)
    Path(os.environ["LIVE_FUZZ_TOTALS"]).write_text(json.dumps(
        {"operations": len(TOTALS["operations"]), "cases": TOTALS["cases"],
         "failed": sorted(TOTALS["failed"])}))


schema = schemathesis.pytest.from_fixture("role_schema")


def server_issued_values(case) -> None:
    """A cursor or an idempotency key is valid by the server's own history (a cursor it
    issued, a key unused or used with this very body), which no schema can state; so a
    positive case sends none of the generated ones: no cursor (the first page), a key of
    its own. Negative cases send what was generated."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if case.query:
        case.query.pop("cursor", None)
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_operation(case, engine):
    account = WORLD[ROLE]
    headers = None
    if case.method == "DELETE" and case.path == "/api/v1/auth/token":
        # Log out with a token of its own, so the one the other cases use stays valid.
        headers = {"Authorization": f"Bearer {issue_token(engine, account['id'])}"}
    elif case.method == "DELETE" and case.path == "/api/v1/me" and ROLE == "patient":
        headers = add_account(engine, "patient").headers
    label = case.operation.label
    excluded = set()
    if label in DOMAIN_RULES:
        excluded.add(positive_data_acceptance)
    if label in TEXT_ON_THE_WIRE and case.meta and case.meta.is_negative_at(ParameterLocation.BODY):
        excluded.add(negative_data_rejection)
    checks = [check for check in ALL_CHECKS if check not in excluded]
    server_issued_values(case)
    url = requests.Request(case.method, WORLD["base_url"] + case.formatted_path,
                           params=case.query).prepare().url
    assume(len(f"{case.method} /{url.split('/', 3)[3]} HTTP/1.1") <= LONGEST_REQUEST_LINE)
    TOTALS["operations"].add(label)
    TOTALS["cases"] += 1
    try:
        case.call_and_validate(headers=headers, session=SESSION, checks=checks)
    except BaseException:
        TOTALS["failed"].add(label)
        raise
