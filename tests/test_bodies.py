"""Request bodies a hostile client sends: too deep, too large, of another type, where none is
expected. Each gets its 4xx problem and changes nothing (api/bodies.py)."""

from __future__ import annotations

import dataclasses
import http.client
import io
import json
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from api.bodies import MAX_JSON_DEPTH, nesting_exceeds
from schemas.common import _holds_nul
from tests.course_samples import photo_bytes as sample_photo
from tests.live_server import gunicorn
from tests.test_conventions import assert_problem, table_counts

MIB = 1024 * 1024


def nested(depth: int) -> str:
    """A JSON list nested `depth` levels deep."""
    return "[" * depth + "]" * depth


def json_operations(client) -> list[tuple[str, str]]:
    """(method, path) of every operation that takes a JSON body, ids filled with 1."""
    document = client.get("/api/v1/openapi.json").get_json()
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                filled = path.replace("/api/v1", "", 1)
                for name in ("{course_id}", "{session_id}", "{photo_id}", "{device_id}",
                             "{share_id}", "{note_id}", "{patient_id}", "{observation_id}",
                             "{flag_id}", "{upload_id}", "{check_in_id}"):
                    filled = filled.replace(name, "1")
                found.append((method.upper(), filled))
    return found


# -- 1. depth: a 657-byte body was a 500 (RecursionError) on every JSON endpoint ----------

DEEP_LOGIN = '{"email": ' + nested(330) + ', "password": "x"}'


def test_the_657_byte_deep_login_is_a_400_not_a_500(client):
    assert len(DEEP_LOGIN) < 700
    response = client.post("/api/v1/auth/token", data=DEEP_LOGIN, content_type="application/json")
    body = assert_problem(response, 400)
    assert "deeper" in body["detail"]


def test_a_deep_registration_is_a_400_and_creates_no_account(app, client):
    before = table_counts(app)
    body = '{"email": "deep@example.org", "password": "correct horse battery", ' \
           '"display_name": ' + nested(330) + ', "timezone": "Europe/Berlin"}'
    assert_problem(client.post("/api/v1/auth/register", data=body,
                               content_type="application/json"), 400)
    assert table_counts(app) == before


def test_every_json_endpoint_answers_a_deep_body_with_a_4xx(app, client, patient):
    operations = json_operations(client)
    assert len(operations) > 25
    before = table_counts(app)
    for method, path in operations:
        response = patient.request(method, path, data=nested(5000),
                                   content_type="application/json")
        assert 400 <= response.status_code < 500, (method, path, response.status_code)
        assert response.content_type == "application/problem+json", (method, path)
    assert table_counts(app) == before


def test_json_as_deep_as_the_limit_reaches_the_schema(patient):
    # At the limit the body is parsed and the schema judges it (an unknown field).
    body = '{"colour": ' + nested(MAX_JSON_DEPTH - 1) + "}"
    assert_problem(patient.post("/courses", data=body, content_type="application/json"), 422)
    deeper = '{"colour": ' + nested(MAX_JSON_DEPTH) + "}"
    assert_problem(patient.post("/courses", data=deeper, content_type="application/json"), 400)


def test_the_walks_over_a_body_do_not_recurse():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert nesting_exceeds(deep, MAX_JSON_DEPTH)
    assert not _holds_nul(deep)
    assert _holds_nul({"a": [deep, {"b\x00": 1}]})
    assert not nesting_exceeds({"a": [[1, 2], {"b": None}]}, 3)
    assert nesting_exceeds({"a": [[1, 2], {"b": []}]}, 3)


# -- 2. only application/json is JSON, and every JSON type has the JSON limit ---------------

DEVICE = {"kind": "roller", "needle_length_mm": 0.5, "label": "my roller"}


@pytest.mark.parametrize("content_type", [
    "application/vnd.x+json", "application/merge-patch+json", "text/plain",
    "application/x-www-form-urlencoded"])
def test_a_json_body_of_another_type_is_415_and_creates_nothing(app, patient, content_type):
    before = table_counts(app)
    response = patient.post("/devices", data=json.dumps(DEVICE), content_type=content_type)
    body = assert_problem(response, 415)
    assert "application/json" in body["detail"]
    assert table_counts(app) == before
    # The same body as application/json (charset and all) is what the route takes.
    response = patient.post("/devices", data=json.dumps(DEVICE),
                            content_type="application/json; charset=utf-8")
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("content_type", [
    "application/json", "application/merge-patch+json", "application/vnd.x+json"])
def test_every_json_type_is_held_to_the_json_limit(app, patient, content_type):
    padding = json.dumps({"label": "x" * (5 * MIB)})
    assert_problem(patient.post("/devices", data=padding, content_type=content_type), 413)


def chunked(data: bytes, content_type: str) -> dict:
    """Test-client arguments for a body sent in chunks: no Content-Length, the server
    terminating the stream (as gunicorn does)."""
    return {"input_stream": io.BytesIO(data), "content_type": content_type,
            "headers": {"Transfer-Encoding": "chunked"},
            "environ_overrides": {"wsgi.input_terminated": True}}


def test_a_chunked_json_body_over_the_limit_is_413_not_invalid_json(app, patient):
    before = table_counts(app)
    body = json.dumps({**DEVICE, "label": "x" * (5 * MIB)}).encode()
    assert_problem(patient.post("/devices", **chunked(body, "application/json")), 413)
    assert table_counts(app) == before


def test_a_chunked_json_body_of_exactly_the_limit_is_read_whole(app, patient):
    body = json.dumps(DEVICE).encode()
    app.config["MAX_JSON_LENGTH"] = len(body)
    response = patient.post("/devices", **chunked(body, "application/json"))
    assert response.status_code == 201, response.get_json()
    app.config["MAX_JSON_LENGTH"] = len(body) - 1
    assert_problem(patient.post("/devices", **chunked(body, "application/json")), 413)


def test_a_chunked_upload_over_the_size_limit_is_413_not_a_truncated_photo(app, patient):
    photo_bytes = sample_photo(1, size=(640, 480))
    app.config["MAX_CONTENT_LENGTH"] = len(photo_bytes) // 2
    boundary = "bound"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"area\"\r\n\r\nvertex\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode() \
        + photo_bytes + f"\r\n--{boundary}--\r\n".encode()
    before = table_counts(app)
    response = patient.post("/photos", **chunked(
        body, f"multipart/form-data; boundary={boundary}"))
    assert_problem(response, 413)
    assert table_counts(app) == before


def test_gunicorn_refuses_a_chunked_json_body_over_the_limit(database_url, tmp_path):
    """The real thing: a chunked body over a socket, to a gunicorn worker."""
    with gunicorn(database_url, "memory://", tmp_path / "photos", workers=1) as server:
        status, token = server.json("POST", "/api/v1/auth/register", {
            "email": "chunks@example.org", "password": "correct horse battery",
            "display_name": "Chunk", "timezone": "Europe/Berlin"})
        assert status == 201
        # One byte over the default 1 MiB, so the whole body fits the socket buffers and
        # the client reads the answer (a larger one may see the connection reset instead).
        label_length = MIB + 1 - len(json.dumps({**DEVICE, "label": ""}))
        body = json.dumps({**DEVICE, "label": "x" * label_length}).encode()
        assert len(body) == MIB + 1
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            connection.request("POST", "/api/v1/devices", body=iter([body[:MIB], body[MIB:]]),
                               headers={"Authorization": f"Bearer {token['token']}",
                                        "Content-Type": "application/json"},
                               encode_chunked=True)
            response = connection.getresponse()
            assert response.status == 413
            assert response.getheader("Content-Type") == "application/problem+json"
            response.read()
        finally:
            connection.close()
        status, devices = server.json("GET", "/api/v1/devices", token=token["token"])
        assert status == 200 and devices["items"] == []


# -- 5. a POST that takes no input still goes through a schema ------------------------------

NO_INPUT_POSTS = ["/shares", "/me/calendar-token"]
REFUSED = {
    "unknown field": ('{"foo": 1}', "application/json", 422),
    "not an object": ("[1, 2]", "application/json", 422),
    "null": ("null", "application/json", 422),
    "malformed": ("{not json", "application/json", 400),
    "another type": ("foo=1", "application/x-www-form-urlencoded", 415),
}


@pytest.mark.parametrize("path", NO_INPUT_POSTS)
@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_a_post_without_input_refuses_a_body_it_cannot_take(app, patient, path, case):
    data, content_type, status = REFUSED[case]
    before = table_counts(app)
    assert_problem(patient.post(path, data=data, content_type=content_type), status)
    assert table_counts(app) == before


@pytest.mark.parametrize("path", NO_INPUT_POSTS)
def test_a_post_without_input_takes_no_body_or_an_empty_object(patient, path):
    assert patient.post(path).status_code == 201
    assert patient.post(path, json={}).status_code == 201


def test_every_creating_or_changing_operation_reads_its_body_through_a_schema(client):
    document = client.get("/api/v1/openapi.json").get_json()
    without = [f"{method.upper()} {path}" for path, operations in document["paths"].items()
               for method, operation in operations.items()
               if method in ("post", "put", "patch") and "requestBody" not in operation]
    assert without == []


# -- 4. the other way: responses written by orjson, as Flask's own encoder wrote them -----

@dataclasses.dataclass
class _Window:
    number: int
    due: date


# What the API hands to `jsonify` (schemas' dumps: strings, numbers, lists, objects, null),
# and what Flask's provider renders besides (dates as HTTP dates, Decimals, UUIDs, dataclasses).
RENDERED_AS_BEFORE = {
    "object in its order": {"b": 1, "a": [1, 2.5, None, True, False], "c": {"z": "", "y": {}}},
    "non-ASCII text": {"display_name": "Zoë Müller 東京 🙂", "note": "line\nbreak \"quoted\""},
    "floats": [0.1, 1e-05, 1e16, -12.5, 123456.789, 3.0],
    "integers": [0, -1, 2**31 - 1, 2**63 - 1],
    "beyond 64 bits": {"big": 2**70},
    "non-string keys": {2: "a", 2.5: "b", True: "c", None: "d"},
    "tuple": ("a", 1),
    "empty": [],
    "null": None,
    "aware datetime": {"at": datetime(2026, 3, 29, 1, 30, 15, 123, tzinfo=timezone.utc)},
    "zoned datetime": {"at": datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Berlin"))},
    "naive datetime": {"at": datetime(2026, 3, 29, 1, 30)},
    "date": {"on": date(2026, 2, 28)},
    "Decimal": {"percent": Decimal("12.50")},
    "UUID": {"id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    "dataclass": {"next": _Window(3, date(2026, 5, 1))},
}


@pytest.mark.parametrize("case", RENDERED_AS_BEFORE, ids=list(RENDERED_AS_BEFORE))
def test_a_response_renders_what_flasks_own_encoder_rendered(app, case):
    value = RENDERED_AS_BEFORE[case]
    with app.app_context():
        response = app.json.response(value)
        # JsonProvider.dumps is Flask's encoder, unchanged: how every response was written.
        before = app.json.dumps(value)
    assert response.mimetype == "application/json"
    assert response.data.endswith(b"\n")
    # The same values, keys in the same order.
    assert (json.loads(response.data, object_pairs_hook=list)
            == json.loads(before, object_pairs_hook=list))


def test_a_response_refuses_what_flasks_own_encoder_refused(app):
    with app.app_context(), pytest.raises(TypeError):
        app.json.response({"what": object()})


def test_a_response_is_indented_in_debug_mode_as_before(app):
    app.debug = True
    with app.app_context():
        lines = app.json.response({"a": [1]}).get_data(as_text=True).splitlines()
    assert lines == ["{", '  "a": [', "    1", "  ]", "}"]
