"""Benchmark `status`: the mobile home screen against the app's trivial JSON endpoint.

Gunicorn (2 sync workers) serves a database of 1,000 seeded patients; wrk, a
separate process, loads `GET /healthz`, then `GET /api/v1/courses/{id}/status`
rotating over every patient's token and course, then `/healthz` again, all
in the same run on the same server. The mean of the two /healthz runs is the
baseline (their difference shows how much the machine drifted meanwhile).

Goal: the status endpoint, token check included, at >= 30 % of the trivial
endpoint's requests per second, p99 under 50 ms at 32 connections, no errors.
"""

from __future__ import annotations

import functools
import json
import random
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from bench import BenchError, seed, server, wrk
from bench.seed import SeededCourse
from bench.wrk import WrkResult

PATIENTS = 1_000
CONNECTIONS = 32
THREADS = 2
WARMUP_S = 3
TRIVIAL_PATH = "/healthz"
STATUS_PATH = "/api/v1/courses/{course_id}/status"
GOAL_RATIO = 0.30
GOAL_P99_MS = 50.0


def run(duration_s: int) -> bool:
    """Seed, serve, load; print the table and the goal checks; True when every goal is met."""
    with tempfile.TemporaryDirectory(prefix="bench-status-") as tmp:
        workdir = Path(tmp)
        database = workdir / "bench.db"
        print(f"seeding {PATIENTS:,} patients", flush=True)
        courses = seed.seed_database(database, PATIENTS)
        random.Random(2).shuffle(courses)
        status_requests = wrk.write_requests(
            workdir / "status.txt",
            [(STATUS_PATH.format(course_id=course.course_id), course.token) for course in courses],
        )
        trivial_requests = wrk.write_requests(workdir / "trivial.txt", [(TRIVIAL_PATH, None)])

        print("starting gunicorn", flush=True)
        with server.gunicorn(f"sqlite:///{database}", workdir / "gunicorn.log") as base_url:
            _check_answers(base_url, courses[0])
            load = functools.partial(wrk.run, base_url, connections=CONNECTIONS, threads=THREADS)
            print(f"warming up ({WARMUP_S} s per endpoint)", flush=True)
            load(status_requests, duration_s=WARMUP_S)
            load(trivial_requests, duration_s=WARMUP_S)
            runs = []
            for label, requests in ((f"GET {TRIVIAL_PATH} (before)", trivial_requests),
                                    (f"GET {STATUS_PATH.format(course_id='{id}')}",
                                     status_requests),
                                    (f"GET {TRIVIAL_PATH} (after)", trivial_requests)):
                print(f"loading {label}: wrk -t{THREADS} -c{CONNECTIONS} -d{duration_s}s",
                      flush=True)
                runs.append((label, load(requests, duration_s=duration_s)))
    return _report(runs)


def _check_answers(base_url: str, course: SeededCourse) -> None:
    """Refuse to benchmark anything but real answers: 200 and the expected JSON."""
    health = _get_json(base_url + TRIVIAL_PATH, None)
    if health != {"status": "ok"}:
        raise BenchError(f"{TRIVIAL_PATH} answered {health!r}")
    path = STATUS_PATH.format(course_id=course.course_id)
    status = _get_json(base_url + path, course.token)
    if not isinstance(status, dict) or "next_session" not in status:
        raise BenchError(f"{path} answered JSON without next_session: {status!r}")
    print(f"  checked: {path} with a seeded token -> 200, phase {status.get('phase')}, "
          f"{status.get('sessions_done')} sessions done", flush=True)


def _get_json(url: str, token: str | None):
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise BenchError(f"GET {url} answered {error.code}: "
                         f"{error.read().decode(errors='replace')[:500]}") from None
    except ValueError as error:
        raise BenchError(f"GET {url} did not answer JSON: {error}") from None


def _report(runs: list[tuple[str, WrkResult]]) -> bool:
    (_, before), (_, status), (_, after) = runs
    baseline = (before.requests_per_s + after.requests_per_s) / 2
    print()
    print(f"{'endpoint':<36} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
          f"{'vs trivial':>11}")
    for label, result in runs:
        print(f"{label:<36} {result.requests_per_s:>8,.0f} {result.p50_ms:>8.1f} "
              f"{result.p99_ms:>8.1f} {result.errors:>7,} "
              f"{_percent(result.requests_per_s / baseline):>11}")
    drift = after.requests_per_s / before.requests_per_s - 1
    print(f"trivial baseline: mean of the two {TRIVIAL_PATH} runs = {baseline:,.0f} req/s "
          f"(after vs before: {drift * 100:+.0f} %)")
    print()
    ratio = status.requests_per_s / baseline
    errors = sum(result.errors for _, result in runs)
    checks = (
        (ratio >= GOAL_RATIO,
         f"status/trivial = {_percent(ratio)} (goal >= {_percent(GOAL_RATIO)})"),
        (status.p99_ms < GOAL_P99_MS,
         f"p99 = {status.p99_ms:.0f} ms (goal < {GOAL_P99_MS:.0f} ms)"),
        (errors == 0,
         f"errors = {errors} (non-2xx and socket errors, all runs)"),
    )
    for met, line in checks:
        print(f"{line:<56} {'ok' if met else 'MISSED'}")
    return all(met for met, _ in checks)


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.0f} %"
