"""The served OpenAPI document is valid and tells the truth (schemathesis, authenticated as a patient)."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance


def test_openapi_document_is_served_and_valid(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["openapi"].startswith("3.")
    assert "/api/v1/courses/{course_id}/status" in document["paths"]


def test_docs_ui_is_served(client):
    assert client.get("/api/v1/docs").status_code == 200


@pytest.fixture
def api_schema(app, patient):
    """The app's own document, with a patient who already has a course, a device and a session."""
    course = patient.post("/courses", json={"regimen": "standard", "setting": "home",
                                            "start_date": "2026-11-01"}).get_json()
    patient.post("/devices", json={"kind": "roller", "needle_length_mm": 0.5})
    patient.post(f"/courses/{course['id']}/sessions",
                 json={"performed_at": "2026-11-02T20:00:00+01:00", "device_id": 1})
    # The token goes through schemathesis's own auth, not a header added to every case: a
    # negative case that leaves Authorization out must reach the server without it.
    config = SchemathesisConfig.from_dict(
        {"auth": {"openapi": {"bearerAuth": {"bearer": patient.token}}}})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")
# Chunks of a resumable upload (PATCH /uploads/{id}) are raw bytes, as application/octet-stream.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


@schemathesis.hook
def filter_body(context, body) -> bool:
    """Multipart cannot send an empty list: it is no part at all, so a field "made" one is
    simply absent, and a 'negative' case built that way is a valid request."""
    multipart = context.operation is not None and any(
        alternative.media_type == "multipart/form-data" for alternative in context.operation.body)
    return not (multipart and isinstance(body, dict) and [] in body.values())


@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_api_matches_its_document(case, api_schema, register):
    headers = None
    if case.path == "/api/v1/auth/token" and case.method == "DELETE":
        # Log out someone else, so the token the other cases use stays valid.
        headers = register().headers
    # API.md answers 422 for domain rules no schema can express (a start date
    # years away, a session in the future, another patient's device), so
    # "schema-valid but refused" is the contract here, not a defect.
    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])


# --- the document promises no more than the server accepts (found by tests/test_live_fuzz.py)


def served_document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def test_a_nullable_object_is_that_object_or_null(client, patient):
    document = served_document(client)
    cocktail = document["components"]["schemas"]["SessionCreate"]["properties"]["cocktail"]
    assert cocktail == {"anyOf": [{"$ref": "#/components/schemas/Cocktail"},
                                  {"type": "object", "nullable": True, "enum": [None]}]}
    # apispec's own form admits any object at all, `{}` included.
    assert {"type": "object", "nullable": True} not in [
        choice for schema in document["components"]["schemas"].values()
        for field in schema.get("properties", {}).values() for choice in field.get("anyOf", [])]
    course = patient.post("/courses", json={"regimen": "standard", "setting": "home",
                                            "start_date": "2026-11-01"}).get_json()
    response = patient.post(f"/courses/{course['id']}/sessions", json={
        "performed_at": "2026-11-02T20:00:00+01:00", "needle_length_mm": 0.5, "cocktail": {}})
    assert response.status_code == 422
    assert "cocktail.name" in response.get_json()["errors"]


@pytest.mark.parametrize("name", ["ProfileUpdate", "SessionUpdate", "DeviceUpdate",
                                  "PhotoUpdate", "NoteUpdate"])
def test_a_patch_body_changes_at_least_one_field(client, name):
    assert served_document(client)["components"]["schemas"][name]["minProperties"] == 1


def header(document: dict, path: str, method: str, name: str) -> dict:
    return next(parameter["schema"] for parameter in document["paths"][path][method]["parameters"]
                if parameter["in"] == "header" and parameter["name"] == name)


def test_headers_are_documented_as_the_server_checks_them(client):
    document = served_document(client)
    key = header(document, "/api/v1/courses", "post", "Idempotency-Key")
    pattern = re.compile(key["pattern"])
    assert all(pattern.match(value) for value in ("k", "retry-1 of 3", "~!@#$%^&*()"))
    assert not any(pattern.match(value) for value in (" k", "k ", "schlüssel", "k\x7f", ""))
    tus = header(document, "/api/v1/uploads/{upload_id}", "head", "Tus-Resumable")
    assert tus == {"type": "string", "enum": ["1.0.0"]}


def test_free_text_sent_to_the_server_is_documented_without_nul(client):
    schemas = served_document(client)["components"]["schemas"]
    for name, field in (("TokenRequest", "email"), ("NoteUpdate", "text"),
                        ("SessionCreate", "notes"), ("Register", "display_name")):
        pattern = re.compile(schemas[name]["properties"][field]["pattern"])
        assert pattern.match("Dr. Weber, 3 × weekly")
        assert not pattern.match("before\x00after")


# --- every error an operation can answer is in the document, so a generated client has a type


PUBLIC_OPERATIONS = {("post", "/api/v1/auth/register"), ("get", "/healthz"), ("get", "/readyz"),
                     ("get", "/api/v1/calendar/{token}.ics")}


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method in ("get", "post", "put", "patch", "delete", "head"):
                yield method, path, operation


def test_every_operation_behind_a_token_documents_401(client):
    undocumented = [(method, path) for method, path, operation in operations(served_document(client))
                    if (method, path) not in PUBLIC_OPERATIONS
                    and "401" not in operation["responses"]]
    assert undocumented == []


def test_every_operation_on_a_row_documents_404(client):
    undocumented = [(method, path) for method, path, operation in operations(served_document(client))
                    if "{" in path and "404" not in operation["responses"]]
    assert undocumented == []


def test_views_for_one_role_document_403_and_creates_document_409_and_422(client):
    document = served_document(client)
    for method, path in (("post", "/api/v1/courses"), ("get", "/api/v1/devices"),
                         ("post", "/api/v1/courses/{course_id}/notes")):
        assert "403" in document["paths"][path][method]["responses"], (method, path)
    for method, path in (("post", "/api/v1/courses"), ("post", "/api/v1/shares"),
                         ("post", "/api/v1/courses/{course_id}/sessions"),
                         ("patch", "/api/v1/courses/{course_id}")):
        responses = document["paths"][path][method]["responses"]
        assert {"409", "422"} <= set(responses), (method, path)
        assert responses["409"] == {"$ref": "#/components/responses/CONFLICT"}
    problem = document["components"]["responses"]["UNAUTHORIZED"]["content"]
    assert problem == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
