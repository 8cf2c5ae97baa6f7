"""schemathesis against a live gunicorn, with every check it has, once per role.

The app runs under gunicorn (`tests/live_server.py`) on a database of its
own: a temporary SQLite file, or a scratch PostgreSQL database with Redis
when TEST_DATABASE_URL and TEST_REDIS_URL are set. A patient with a course,
sessions, a device, a photo, a measurement and a share is seeded, and a
second patient linked to the clinician, whose records the clinician sees.
Then every operation of the served document (`/api/v1/openapi.json`) is
fuzzed as the patient and as the linked clinician, in two processes at once
(`tests/live_fuzz_role.py`), `LIVE_FUZZ_EXAMPLES` examples per operation
(100 unless lowered; `.ci/run` runs 100 on PostgreSQL and 50 on SQLite). The
totals are printed: operations, cases, failures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from schemathesis.checks import CHECKS, load_all_checks

from tests.live_fuzz_role import ALL_CHECKS, EXAMPLES
from tests.live_seed import REDIS, add_account, link, live_database, register, seed_patient
from tests.live_server import ROOT, gunicorn

ROLES = ("patient", "clinician")
# Far above what a run takes (about a minute and a half per role on two CPUs).
ROLE_TIMEOUT_S = 900


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live-fuzz")
    with live_database(folder) as (url, engine), \
            gunicorn(url, REDIS, folder / "photos", workers=2) as server:
        clinician = add_account(engine, "clinician", "Dr. Fuzz")
        # The patient the fuzzer acts as, who also shares with the clinician...
        patient = register(server)
        course = seed_patient(server, patient)
        link(server, patient, clinician)
        status, _ = server.json("POST", f"/api/v1/courses/{course['id']}/notes",
                                {"text": "Good progress."}, token=clinician.token)
        assert status == 201
        # ...and a patient whose records only the clinician fuzzes (the first may revoke
        # its share or erase data while being fuzzed).
        other = register(server, "Linked Patient")
        other_course = seed_patient(server, other)
        link(server, other, clinician)
        status, _ = server.json("POST", f"/api/v1/courses/{other_course['id']}/notes",
                                {"text": "Check the vertex."}, token=clinician.token)
        assert status == 201
        description = folder / "world.json"
        description.write_text(json.dumps({
            "base_url": f"http://127.0.0.1:{server.port}", "database_url": url,
            "patient": {"id": patient.id, "token": patient.token},
            "clinician": {"id": clinician.id, "token": clinician.token}}))
        yield folder, description, server


def test_every_operation_as_each_role_passes_every_check(world, figure):
    folder, description, server = world
    runs = {}
    for role in ROLES:
        output = (folder / f"{role}.log").open("w")
        env = {**os.environ, "LIVE_FUZZ_WORLD": str(description), "LIVE_FUZZ_ROLE": role,
               "LIVE_FUZZ_TOTALS": str(folder / f"{role}.json"),
               "LIVE_FUZZ_EXAMPLES": str(EXAMPLES)}
        # One process per role, never split further (pytest.ini asks for workers).
        command = [sys.executable, "-m", "pytest", "-q", "-n", "0", "tests/live_fuzz_role.py"]
        runs[role] = (subprocess.Popen(command, cwd=ROOT, env=env, stdout=output,
                                       stderr=subprocess.STDOUT), output, time.monotonic())
    results = {}
    try:
        for role, (process, output, started) in runs.items():
            process.wait(timeout=ROLE_TIMEOUT_S)
            totals_path = folder / f"{role}.json"
            totals = json.loads(totals_path.read_text()) if totals_path.exists() else {}
            results[role] = (process.returncode, totals, time.monotonic() - started)
    finally:
        for process, output, _ in runs.values():
            process.kill()
            process.wait()
            output.close()
    for role, (_, totals, seconds) in results.items():
        figure(f"live fuzz as {role}: {totals.get('operations', 0)} operations, "
               f"{totals.get('cases', 0)} cases, {len(totals.get('failed', []))} failures "
               f"({EXAMPLES} examples per operation, all {len(ALL_CHECKS)} checks, "
               f"{seconds:.0f} s)")
    failed = {role: (folder / f"{role}.log").read_text()[-20000:]
              for role, (code, _, _) in results.items() if code != 0}
    assert not failed, "\n\n".join([*(f"--- {role} ---\n{log}" for role, log in failed.items()),
                                     f"--- server log ---\n{server.log_tail()}"])


def test_every_check_schemathesis_has_is_used():
    load_all_checks()
    assert sorted(CHECKS.get_all_names()) == sorted(check.__name__ for check in ALL_CHECKS)
