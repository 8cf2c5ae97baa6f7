"""A real gunicorn serving the app on 127.0.0.1, for tests that need several workers.

Used by the multi-worker tests: they need PostgreSQL (TEST_DATABASE_URL) and
Redis (TEST_REDIS_URL), which CI provides; without them they are skipped.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
FLASK = Path(sys.executable).with_name("flask")


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """Speaks JSON to the server, one new connection per request (so workers take turns)."""

    def __init__(self, port: int, process: subprocess.Popen, log_path: Path,
                 env: dict | None = None):
        self.port, self.process, self.log_path = port, process, log_path
        self.env = env or {}
        self.worker: subprocess.Popen | None = None

    def start_worker(self) -> subprocess.Popen:
        """The job queue's worker (`flask jobs worker`), as production runs it beside gunicorn."""
        with self.log_path.with_name("worker.log").open("ab") as log:
            self.worker = subprocess.Popen([str(FLASK), "--app", "wsgi", "jobs", "worker"],
                                           cwd=ROOT, env=self.env, stdout=log, stderr=log)
        return self.worker

    def stop_worker(self) -> None:
        if self.worker is not None:
            stop(self.worker)

    def log_tail(self, size: int = 4000) -> str:
        """The end of the server's log (its warnings and errors)."""
        return self.log_path.read_text(errors="replace")[-size:]

    def request(self, method: str, path: str, body=None, headers: dict | None = None,
                token: str | None = None) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def json(self, method, path, body=None, **kwargs):
        status, _, raw = self.request(method, path, body, **kwargs)
        return status, json.loads(raw) if raw else None


@contextmanager
def gunicorn(database_url: str, redis_url: str, photo_dir: Path, workers: int = 3,
             env: dict | None = None, queue_worker: bool = True):
    """Serve the app with `workers` sync workers until the block ends, and (`queue_worker`)
    a worker of the job queue beside them; their logs (warnings and errors) go to
    gunicorn.log and worker.log beside `photo_dir`. `env` adds to the environment. The
    queue is on Redis when `redis_url` is one, else in an SQLite file beside `photo_dir`."""
    port = free_port()
    queue = {"QUEUE_URL": redis_url} if redis_url.startswith("redis") else {
        "QUEUE_URL": f"sqlite:///{photo_dir.parent / 'queue.db'}"}
    env = {**os.environ, "DATABASE_URL": database_url, "PHOTO_DIR": str(photo_dir),
           **queue, "QUEUE_NAME": f"test-{secrets.token_hex(4)}",
           "RATELIMIT_STORAGE_URI": redis_url,
           "RATELIMIT_KEY_PREFIX": f"test-{secrets.token_hex(4)}",
           # The live tests register many users from 127.0.0.1.
           "REGISTER_RATE_LIMIT": "100000 per hour",
           "SECRET_KEY": secrets.token_hex(32), "LOG_LEVEL": "WARNING",
           "WEB_CONCURRENCY": str(workers), "BIND": f"127.0.0.1:{port}", **(env or {})}
    photo_dir.mkdir(parents=True, exist_ok=True)
    log_path = photo_dir.parent / "gunicorn.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"],
                                   cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    server = LiveServer(port, process, log_path, env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if server.request("GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start: " + server.log_tail(2000))
            time.sleep(0.2)
        if queue_worker:
            server.start_worker()
        yield server
    finally:
        server.stop_worker()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
