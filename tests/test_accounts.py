"""Accounts: registration, login tokens, logout, profile and password changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, update

from storage.models import AuthToken, User, utcnow
from tests.conftest import PASSWORD


def login(client, email, password=PASSWORD):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def test_register_creates_a_patient_and_logs_in(client, db_rows):
    response = client.post("/api/v1/auth/register", json={
        "email": "  Ana@Example.org ", "password": PASSWORD, "display_name": "Ana",
        "timezone": "Europe/Lisbon"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["user"]["email"] == "ana@example.org"
    assert body["user"]["role"] == "patient"
    assert body["user"]["timezone"] == "Europe/Lisbon"
    assert "password" not in body["user"]
    assert len(body["token"]) >= 43
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.get_json()["display_name"] == "Ana"
    (token_row,) = db_rows(AuthToken)
    assert body["token"] not in token_row.token_hash
    assert len(token_row.token_hash) == 64


def test_the_token_expires_after_30_days(client, patient, db_rows):
    (row,) = db_rows(AuthToken)
    assert timedelta(days=29, hours=23) < row.expires_at - row.created_at <= timedelta(days=30)


@pytest.mark.owasp_hashing
def test_passwords_are_hashed_with_argon2id_at_owasp_strength(patient, db_rows):
    (user,) = db_rows(User)
    assert user.password_hash.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in user.password_hash


@pytest.mark.parametrize(("field", "value"), [
    ("email", "not-an-email"),
    ("password", "short"),
    ("display_name", ""),
    ("timezone", "Mars/Olympus_Mons"),
    ("timezone", "localtime"),
])
def test_register_rejects_bad_fields(client, field, value, db_rows):
    body = {"email": "b@example.org", "password": PASSWORD, "display_name": "B",
            "timezone": "UTC", field: value}
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert db_rows(User) == []


def test_register_refuses_server_owned_fields(client, db_rows):
    response = client.post("/api/v1/auth/register", json={
        "email": "c@example.org", "password": PASSWORD, "display_name": "C",
        "timezone": "UTC", "role": "clinician"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"role": ["Unknown field."]}
    assert db_rows(User) == []


def test_register_twice_with_one_email_is_a_conflict(client, patient):
    response = client.post("/api/v1/auth/register", json={
        "email": patient.email.upper(), "password": PASSWORD, "display_name": "X",
        "timezone": "UTC"})
    assert response.status_code == 409


def test_login_gives_a_new_working_token(client, patient):
    response = login(client, patient.email)
    assert response.status_code == 200
    token = response.get_json()["token"]
    assert token != patient.token
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_unknown_email_and_wrong_password_answer_the_same_bytes(client, patient):
    wrong_password = login(client, patient.email, "wrong password!")
    unknown_email = login(client, "nobody@example.org")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.data == unknown_email.data
    assert wrong_password.content_type == unknown_email.content_type == "application/problem+json"


def test_the_eleventh_login_attempt_in_a_minute_is_rate_limited(client, patient, register):
    statuses = [login(client, patient.email, "wrong password!").status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    limited = login(client, patient.email)
    assert limited.status_code == 429
    assert limited.content_type == "application/problem+json"
    # The limit is per account: another patient still logs in.
    assert login(client, register().email).status_code == 200


def test_wrong_passwords_to_erase_the_account_count_as_login_attempts(client, patient):
    statuses = [patient.delete("/me", json={"password": "wrong password!"}).status_code
                for _ in range(11)]
    assert statuses == [422] * 10 + [429]
    # The same account's counter: its logins are limited too, and nothing was erased.
    assert login(client, patient.email).status_code == 429
    assert patient.get("/me").status_code == 200


def test_wrong_current_passwords_count_as_login_attempts(client, patient):
    change = {"current_password": "wrong password!", "password": "a new long password"}
    statuses = [patient.patch("/me", json=change).status_code for _ in range(11)]
    assert statuses == [422] * 10 + [429]
    assert login(client, patient.email).status_code == 429


def test_failed_logins_and_wrong_passwords_share_one_counter_per_account(client, patient,
                                                                          register):
    assert [login(client, patient.email, "wrong password!").status_code
            for _ in range(5)] == [401] * 5
    assert [patient.delete("/me", json={"password": "wrong password!"}).status_code
            for _ in range(5)] == [422] * 5
    assert patient.delete("/me", json={"password": PASSWORD}).status_code == 429
    assert patient.get("/me").status_code == 200
    # Another account is not affected.
    other = register()
    assert other.delete("/me", json={"password": "wrong password!"}).status_code == 422


def test_profile_changes_without_a_wrong_password_are_not_counted(client, patient):
    statuses = [patient.patch("/me", json={"display_name": f"Name {n}"}).status_code
                for n in range(15)]
    assert statuses == [200] * 15
    assert login(client, patient.email).status_code == 200


def test_registrations_are_limited_per_client_address(app, client):
    app.config["REGISTER_RATE_LIMIT"] = "3 per hour"

    def register_as(number: int, address: str):
        return client.post("/api/v1/auth/register", environ_base={"REMOTE_ADDR": address},
                           json={"email": f"newcomer{number}@example.org", "password": PASSWORD,
                                 "display_name": "New Comer", "timezone": "Europe/Berlin"})

    assert [register_as(n, "198.51.100.7").status_code for n in range(4)] == [201] * 3 + [429]
    limited = register_as(9, "198.51.100.7")
    assert limited.status_code == 429 and limited.content_type == "application/problem+json"
    assert register_as(10, "198.51.100.8").status_code == 201
    with app.app_context():
        session = app.extensions["database"].sessions()
        assert session.scalar(select(func.count()).select_from(User).where(
            User.email.like("newcomer%"))) == 4


def test_logout_revokes_only_the_token_in_use(client, patient):
    second = login(client, patient.email).get_json()["token"]
    assert patient.delete("/auth/token").status_code == 204
    assert patient.get("/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200


def test_an_expired_token_is_refused(app, patient):
    with app.app_context():
        session = app.extensions["database"].sessions()
        session.execute(update(AuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    response = patient.get("/me")
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert "Bearer" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "bearer "])
def test_missing_or_bad_authorization_is_401(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["status"] == 401


def test_profile_update(patient):
    response = patient.patch("/me", json={"display_name": " Pat ", "timezone": "Asia/Tokyo"})
    assert response.status_code == 200
    assert response.get_json()["display_name"] == "Pat"
    assert patient.get("/me").get_json()["timezone"] == "Asia/Tokyo"


def test_password_change_revokes_every_token(client, patient):
    other_device = login(client, patient.email).get_json()["token"]
    response = patient.patch("/me", json={"password": "a brand new password",
                                          "current_password": PASSWORD})
    assert response.status_code == 200
    assert patient.get("/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {other_device}"}).status_code == 401
    assert login(client, patient.email).status_code == 401
    assert login(client, patient.email, "a brand new password").status_code == 200


@pytest.mark.parametrize("body", [
    {"password": "a brand new password"},
    {"password": "a brand new password", "current_password": "not the password"},
])
def test_password_change_needs_the_current_password(client, patient, body):
    response = patient.patch("/me", json=body)
    assert response.status_code == 422
    assert "current_password" in response.get_json()["errors"]
    assert patient.get("/me").status_code == 200
    assert login(client, patient.email).status_code == 200


@pytest.mark.owasp_hashing
def test_a_weaker_hash_is_upgraded_at_login(app, client, patient, db_rows):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with app.app_context():
        session = app.extensions["database"].sessions()
        session.execute(update(User).values(password_hash=weak))
        session.commit()
    assert login(client, patient.email).status_code == 200
    (user,) = db_rows(User)
    assert user.password_hash != weak
    assert "m=19456,t=2,p=1" in user.password_hash


def test_clinicians_are_created_by_an_operator_and_can_log_in(runner, client, db_rows):
    result = runner.invoke(args=["users", "create-clinician", "Dr.Lee@Clinic.example",
                                 "--name", "Dr. Lee"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    (user,) = db_rows(User)
    assert (user.email, user.role, user.display_name) == ("dr.lee@clinic.example", "clinician", "Dr. Lee")
    assert login(client, "dr.lee@clinic.example").status_code == 200


def test_create_clinician_refuses_mismatched_passwords_and_duplicates(runner, clinician, db_rows):
    mismatch = runner.invoke(args=["users", "create-clinician", "x@clinic.example", "--name", "X"],
                             input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n")
    assert "do not match" in mismatch.output.lower() or "match" in mismatch.output.lower()
    duplicate = runner.invoke(args=["users", "create-clinician", clinician.email, "--name", "Y"],
                              input=f"{PASSWORD}\n{PASSWORD}\n")
    assert duplicate.exit_code != 0
    assert "already" in duplicate.output


def test_patients_cannot_register_as_clinicians_and_clinicians_cannot_start_courses(clinician):
    response = clinician.post("/courses", json={"regimen": "standard", "setting": "home",
                                                "start_date": "2026-11-01"})
    assert response.status_code == 403


def test_with_the_rate_limit_store_down_reads_work_and_logins_stay_limited(app, client, patient):
    """The limit store (Redis in production) unreachable: a patient still reads their data
    (no request but a rate-limited one asks the store anything), and logins are counted in
    the worker's memory instead, still turning the 11th attempt into a 429."""
    from api.limits import limiter

    app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1/0"
    limiter.init_app(app)
    try:
        assert patient.get("/me").status_code == 200
        assert patient.get("/courses").status_code == 200
        statuses = [login(client, patient.email, "wrong password!").status_code
                    for _ in range(11)]
        assert statuses == [401] * 10 + [429]
    finally:
        app.config["RATELIMIT_STORAGE_URI"] = "memory://"
        limiter.init_app(app)
