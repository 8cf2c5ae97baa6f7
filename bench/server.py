"""The server under test: gunicorn with sync workers (2 unless asked) on 127.0.0.1, and,
when asked, the job queue's workers beside it (`flask jobs worker`, at a lower CPU
priority, on the same database, photo folder and queue)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from bench import BenchError, gunicorn_conf

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).with_name("flask")
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 10


@contextmanager
def gunicorn(database_url: str, log_path: Path, workers: int = gunicorn_conf.workers,
             queue_url: str | None = None, job_workers: int = 0) -> Iterator[str]:
    """Run gunicorn with `wsgi:app` on the database; yield its base URL; always stop it.

    With `queue_url`, the jobs go to that queue (under a name of this run's own),
    and `job_workers` worker processes run them, logging to worker.log beside
    `log_path`; without it, jobs wait in an SQLite queue beside the photos.
    """
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key != "GUNICORN_CMD_ARGS"}
    env.update(DATABASE_URL=database_url, SECRET_KEY=secrets.token_urlsafe(32),
               PHOTO_DIR=str(log_path.parent / "photos"))
    if queue_url:
        env.update(QUEUE_URL=queue_url, QUEUE_NAME=f"bench-{secrets.token_hex(4)}")
    command = [sys.executable, "-m", "gunicorn", "-c", "python:bench.gunicorn_conf",
               "-b", f"127.0.0.1:{port}", "-w", str(workers), "wsgi:app"]
    with log_path.open("wb") as log:
        # Its own process group, so stopping it can never miss a worker.
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    queue_workers: list[subprocess.Popen] = []
    try:
        _wait_until_up(process, base_url, log_path)
        print(f"  gunicorn ({workers} {gunicorn_conf.worker_class} workers) up at "
              f"{base_url}, pid {process.pid}", flush=True)
        if queue_url and job_workers:
            worker_log = log_path.with_name("worker.log")
            for _ in range(job_workers):
                queue_workers.append(_start_job_worker(env, worker_log))
            _wait_for_job_workers(queue_workers, worker_log)
            print(f"  {job_workers} job worker(s) on {queue_url.split('@')[-1]} "
                  f"(queue {env['QUEUE_NAME']}), pids "
                  f"{', '.join(str(worker.pid) for worker in queue_workers)}", flush=True)
        yield base_url
    finally:
        for worker in queue_workers:
            _stop(worker)
        _stop(process)
        if queue_url:
            _forget_queue(queue_url, env["QUEUE_NAME"])


def _start_job_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """`flask jobs worker`, as production runs it: it lowers its own CPU priority."""
    with log_path.open("ab") as log:
        return subprocess.Popen([str(FLASK), "--app", "wsgi", "jobs", "worker"], cwd=ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _wait_for_job_workers(workers: list[subprocess.Popen], log_path: Path) -> None:
    """Until each worker has said it runs (its first line), or fail with its log."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if any(worker.poll() is not None for worker in workers):
            raise BenchError(f"a job worker exited:\n{_tail(log_path)}")
        started = log_path.read_text(errors="replace").count("worker: ")
        if started >= len(workers):
            return
        time.sleep(0.1)
    raise BenchError(f"the job workers did not start within {START_TIMEOUT_S} s:\n"
                     f"{_tail(log_path)}")


def _forget_queue(queue_url: str, name: str) -> None:
    """Drop what this run left on the broker (its queue is its own, by name)."""
    from redis.exceptions import RedisError

    from api.jobs import make_queue

    with suppress(RedisError):
        make_queue(queue_url, name).flush()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(process: subprocess.Popen, base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with {process.returncode}:\n{_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise BenchError(f"gunicorn did not answer /healthz within {START_TIMEOUT_S} s:\n"
                     f"{_tail(log_path)}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (graceful: the master stops its workers), else SIGKILL to the whole group."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
            return
        except subprocess.TimeoutExpired:
            pass
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _tail(log_path: Path, lines: int = 30) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
