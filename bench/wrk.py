"""The load generator: wrk (Debian package), driven by `requests.lua`, in its own process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import BenchError

SCRIPT = Path(__file__).with_name("requests.lua")
RESULT_PREFIX = "WRK_RESULT "
INSTALL_HINT = "install it with `sudo apt-get install -y wrk` (Debian/Ubuntu) and run again"


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: throughput, latency percentiles and every kind of failure."""

    requests: int
    duration_s: float
    http_errors: int  # answers of 400 and up
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s

    @property
    def errors(self) -> int:
        return self.http_errors + self.socket_errors


def ensure_installed() -> None:
    """Make sure `wrk` is on PATH: apt-get install it when root, else exit saying how."""
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"bench: wrk is not installed; {INSTALL_HINT}.")
    print("wrk is missing; installing it: apt-get install -y wrk", flush=True)
    install = ["apt-get", "install", "-y", "wrk"]
    if subprocess.run(install).returncode != 0:
        # A fresh container has no package lists yet.
        subprocess.run(["apt-get", "update"], check=False)
        subprocess.run(install, check=False)
    if not shutil.which("wrk"):
        sys.exit(f"bench: installing wrk failed; {INSTALL_HINT}.")


def write_requests(path: Path, requests: list[tuple[str, str | None]]) -> Path:
    """Write (path, bearer token or None) pairs in the format `requests.lua` reads."""
    with path.open("w") as out:
        for url_path, token in requests:
            out.write(f"{url_path}\t{token}\n" if token else f"{url_path}\n")
    return path


def run(base_url: str, requests_file: Path, *, duration_s: int, connections: int,
        threads: int) -> WrkResult:
    """Load `base_url` with the requests of `requests_file` for `duration_s` seconds."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "--latency",
               "-s", str(SCRIPT), base_url, "--", str(requests_file)]
    completed = subprocess.run(command, capture_output=True, text=True,
                               timeout=duration_s + 30)
    line = next((line for line in completed.stdout.splitlines()
                 if line.startswith(RESULT_PREFIX)), None)
    if completed.returncode != 0 or line is None:
        raise BenchError(f"wrk failed (exit {completed.returncode}):\n"
                           f"{completed.stdout}{completed.stderr}")
    data = json.loads(line.removeprefix(RESULT_PREFIX))
    return WrkResult(
        requests=data["requests"],
        duration_s=data["duration_us"] / 1e6,
        http_errors=data["http_errors"],
        socket_errors=(data["connect_errors"] + data["read_errors"] + data["write_errors"]
                       + data["timeouts"]),
        p50_ms=data["p50_us"] / 1e3,
        p99_ms=data["p99_us"] / 1e3,
    )
