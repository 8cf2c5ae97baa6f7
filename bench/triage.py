"""Benchmark `triage`: a clinician's triage list against the app's trivial JSON endpoint.

One clinician linked to 2,000 patients with realistic courses asks for the
first page of 50, most urgent first, under gunicorn (2 sync workers) and wrk,
bracketed by /healthz runs in the same run. The SQL statements per request
are counted in-process on the same database and on one of 100 patients, to
show the count does not grow with the patients.

Goal (issue 17): at least 15 % of the trivial endpoint's requests per second,
and at most 3 SQL statements per request whatever the number of patients.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from sqlalchemy import event

from bench import BenchError, seed, server, wrk
from bench.status import THREADS, TRIVIAL_PATH, _get_json, _percent

PATIENTS = 2_000
FEW_PATIENTS = 100
CONNECTIONS = 32
WARMUP_S = 3
TRIAGE_PATH = "/api/v1/clinician/patients?limit=50"
GOAL_RATIO = 0.15
GOAL_MAX_QUERIES = 3


def run(duration_s: int) -> bool:
    """Seed, count queries, serve, load; print the figures; True when every goal is met."""
    with tempfile.TemporaryDirectory(prefix="bench-triage-") as tmp:
        workdir = Path(tmp)
        counts = {}
        for patients in (FEW_PATIENTS, PATIENTS):
            database = workdir / f"triage-{patients}.db"
            print(f"seeding {patients:,} patients and their clinician", flush=True)
            seed.seed_database(database, patients)
            token = seed.link_clinician(database)
            counts[patients] = _queries_per_request(database, token, patients)
        triage = wrk.write_requests(workdir / "triage.txt", [(TRIAGE_PATH, token)])
        trivial = wrk.write_requests(workdir / "trivial.txt", [(TRIVIAL_PATH, None)])
        print("starting gunicorn", flush=True)
        with server.gunicorn(f"sqlite:///{database}", workdir / "gunicorn.log") as base_url:
            first = _get_json(base_url + TRIAGE_PATH, token)
            if len(first.get("items", [])) != 50:
                raise BenchError(f"{TRIAGE_PATH} did not answer a page of 50: {first!r:.300}")
            load = functools.partial(wrk.run, base_url, connections=CONNECTIONS, threads=THREADS)
            load(triage, duration_s=WARMUP_S)
            load(trivial, duration_s=WARMUP_S)
            runs = [(label, load(requests, duration_s=duration_s)) for label, requests in (
                (f"GET {TRIVIAL_PATH} (before)", trivial), (f"GET {TRIAGE_PATH}", triage),
                (f"GET {TRIVIAL_PATH} (after)", trivial))]
    return _report(runs, counts)


def _queries_per_request(database: Path, token: str, patients: int) -> int:
    """SQL statements of one triage request, counted in-process on the same database."""
    from api import create_app
    from api.config import Config

    class BenchConfig(Config):
        DATABASE_URL = f"sqlite:///{database}"
        LOG_LEVEL = "WARNING"

    app = create_app(BenchConfig)
    statements = []
    engine = app.extensions["database"].engine
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    client = app.test_client()
    client.get(TRIAGE_PATH, headers={"Authorization": f"Bearer {token}"})
    statements.clear()
    response = client.get(TRIAGE_PATH, headers={"Authorization": f"Bearer {token}"})
    engine.dispose()
    if response.status_code != 200:
        raise BenchError(f"{TRIAGE_PATH} answered {response.status_code}")
    print(f"  {len(statements)} SQL statements per triage request with {patients:,} patients",
          flush=True)
    return len(statements)


def _report(runs, counts: dict[int, int]) -> bool:
    (_, before), (_, triage), (_, after) = runs
    baseline = (before.requests_per_s + after.requests_per_s) / 2
    print()
    print(f"{'endpoint':<44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
          f"{'vs trivial':>11}")
    for label, result in runs:
        print(f"{label:<44} {result.requests_per_s:>8,.0f} {result.p50_ms:>8.1f} "
              f"{result.p99_ms:>8.1f} {result.errors:>7,} "
              f"{_percent(result.requests_per_s / baseline):>11}")
    print()
    ratio = triage.requests_per_s / baseline
    errors = sum(result.errors for _, result in runs)
    few, many = counts[FEW_PATIENTS], counts[PATIENTS]
    checks = (
        (ratio >= GOAL_RATIO, f"triage/trivial = {_percent(ratio)} (goal >= {_percent(GOAL_RATIO)})"),
        (few == many <= GOAL_MAX_QUERIES,
         f"SQL per request = {few} with {FEW_PATIENTS:,} patients, {many} with {PATIENTS:,} "
         f"(goal: the same, <= {GOAL_MAX_QUERIES})"),
        (errors == 0, f"errors = {errors} (HTTP 4xx/5xx and socket errors, all runs)"),
    )
    for met, line in checks:
        print(f"{line:<72} {'ok' if met else 'MISSED'}")
    return all(met for met, _ in checks)
