"""The app behind the nginx configuration it ships (deploy/nginx.conf), with Debian's nginx.

gunicorn's sync workers serve one request each: a few clients sending their
requests slowly hold every worker, and nobody else is answered. This test shows
it happening with gunicorn alone, then shows that behind deploy/nginx.conf the
same slow clients leave /healthz answering at once. Where /usr/sbin/nginx is
missing the tests are skipped, unless REQUIRE_NGINX is set (CI sets it): then
they fail.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.live_server import ROOT, free_port, gunicorn

NGINX = Path("/usr/sbin/nginx")
SITE = ROOT / "deploy" / "nginx.conf"
WORKERS = 2
SLOW_CLIENTS = 6
# How long /healthz may take to answer while the slow clients trickle (they go on longer).
PATIENCE_S = 4


@pytest.fixture
def nginx_binary():
    if not NGINX.exists():
        reason = f"{NGINX} is missing (apt-get install nginx)"
        if os.environ.get("REQUIRE_NGINX", "") not in ("", "0"):
            pytest.fail(f"{reason}, and REQUIRE_NGINX is set")
        pytest.skip(f"{reason}; set REQUIRE_NGINX=1 to fail instead")
    return NGINX


def site_for(app_port: int, port: int) -> str:
    """deploy/nginx.conf, pointed at the test's gunicorn and listening on the test's port."""
    site = SITE.read_text()
    for shipped, local in (("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
                           ("listen 80;", f"listen 127.0.0.1:{port};")):
        assert site.count(shipped) == 1, f"deploy/nginx.conf no longer says {shipped!r}"
        site = site.replace(shipped, local)
    return site


@contextmanager
def nginx(binary: Path, app_port: int, folder: Path):
    """nginx in the foreground serving deploy/nginx.conf on a free port, until the block ends."""
    folder.mkdir()
    port = free_port()
    (folder / "site.conf").write_text(site_for(app_port, port))
    temp_paths = "".join(f"{kind}_temp_path {folder / kind};\n"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (folder / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\naccess_log off;\n{temp_paths}include {folder / 'site.conf'};\n}}\n")
    process = subprocess.Popen([str(binary), "-p", str(folder), "-c", str(folder / "nginx.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("nginx did not start: " + process.stderr.read().decode())
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@contextmanager
def slow_clients(port: int, count: int = SLOW_CLIENTS, seconds: float = PATIENCE_S + 4):
    """`count` clients posting a login body one byte every half second, for `seconds`."""
    stop = threading.Event()
    sockets = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=5)
        connection.sendall(b"POST /api/v1/auth/token HTTP/1.1\r\nHost: localhost\r\n"
                           b"Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n{")
        sockets.append(connection)

    def trickle():
        deadline = time.monotonic() + seconds
        while not stop.wait(0.5) and time.monotonic() < deadline:
            for connection in sockets:
                try:
                    connection.sendall(b" ")
                except OSError:
                    pass

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        time.sleep(1)  # every worker has taken one of them by now
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
        for connection in sockets:
            connection.close()


def healthz(port: int) -> int | None:
    """/healthz's status, or None when it does not answer within PATIENCE_S."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE_S)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status
    except (TimeoutError, OSError):
        return None
    finally:
        connection.close()


def test_slow_clients_starve_gunicorn_alone_but_not_behind_the_shipped_nginx(
        nginx_binary, database_url, tmp_path):
    with gunicorn(database_url, "memory://", tmp_path / "photos", workers=WORKERS) as app:
        assert healthz(app.port) == 200
        with slow_clients(app.port):
            alone = healthz(app.port)
        with nginx(nginx_binary, app.port, tmp_path / "nginx") as port:
            assert healthz(port) == 200
            with slow_clients(port):
                behind = [healthz(port) for _ in range(3)]
                direct = healthz(app.port)
    assert alone is None, "gunicorn answered despite the slow clients: the test shows nothing"
    assert behind == [200, 200, 200]
    assert direct == 200  # the workers stayed free: nginx passed none of the slow requests on


def test_the_proxy_refuses_an_oversized_body_as_problem_json(nginx_binary, database_url,
                                                             tmp_path):
    with gunicorn(database_url, "memory://", tmp_path / "photos", workers=1) as app, \
            nginx(nginx_binary, app.port, tmp_path / "nginx") as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.putrequest("POST", "/api/v1/photos")
            connection.putheader("Content-Type", "multipart/form-data; boundary=x")
            connection.putheader("Content-Length", str(27 * 1024 * 1024))
            connection.endheaders()
            response = connection.getresponse()
            assert response.status == 413
            assert response.getheader("Content-Type") == "application/problem+json"
            assert b'"status": 413' in response.read()
        finally:
            connection.close()
