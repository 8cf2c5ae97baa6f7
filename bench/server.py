"""The server under test: gunicorn with sync workers (2 unless asked) on 127.0.0.1."""

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
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 10


@contextmanager
def gunicorn(database_url: str, log_path: Path,
             workers: int = gunicorn_conf.workers) -> Iterator[str]:
    """Run gunicorn with `wsgi:app` on the database; yield its base URL; always stop it."""
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key != "GUNICORN_CMD_ARGS"}
    env.update(DATABASE_URL=database_url, SECRET_KEY=secrets.token_urlsafe(32),
               PHOTO_DIR=str(log_path.parent / "photos"))
    command = [sys.executable, "-m", "gunicorn", "-c", "python:bench.gunicorn_conf",
               "-b", f"127.0.0.1:{port}", "-w", str(workers), "wsgi:app"]
    with log_path.open("wb") as log:
        # Its own process group, so stopping it can never miss a worker.
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, base_url, log_path)
        print(f"  gunicorn ({workers} {gunicorn_conf.worker_class} workers) up at "
              f"{base_url}, pid {process.pid}", flush=True)
        yield base_url
    finally:
        _stop(process)


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
