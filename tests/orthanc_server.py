"""A real Orthanc with the plugin, on a free port, in a temporary directory.

Tests talk to it over HTTP exactly as a user would.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
PYTHON_PLUGIN = "/usr/share/orthanc/plugins/libOrthancPython.so"
ENTRY_SCRIPT = REPO / "plugin" / "anon_consistent_plugin.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OrthancServer:
    """Start with ``start()``, stop with ``stop()``; the storage survives a restart."""

    def __init__(
        self,
        workdir: Path,
        plugin_config: dict[str, Any] | None = None,
        auth: tuple[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.plugin_config = plugin_config or {}
        self.extra = extra
        self.auth = auth
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log_path = self.workdir / "orthanc.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_config(self) -> Path:
        config = {
            "Name": f"anon-consistent-test-{self.port}",
            "HttpPort": self.port,
            "DicomServerEnabled": False,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": self.auth is not None,
            "RegisteredUsers": dict([self.auth]) if self.auth else {},
            "StorageDirectory": str(self.workdir / "storage"),
            "IndexDirectory": str(self.workdir / "storage"),
            "Plugins": [PYTHON_PLUGIN],
            "PythonScript": str(ENTRY_SCRIPT),
            "StableAge": 1,
            "AnonConsistent": self.plugin_config,
            "UserMetadata": {"AnonConsistentFrom": 4201},  # as the shipped orthanc.json
            **self.extra,
        }
        path = self.workdir / "orthanc.json"
        path.write_text(json.dumps(config, indent=2))
        return path

    def start(self, timeout: float = 60.0) -> OrthancServer:
        self.port = free_port()
        config = self.write_config()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([ORTHANC, str(config)], stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(self.url + "/anon-consistent", timeout=2, auth=self.auth).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Orthanc did not answer within {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def __enter__(self) -> OrthancServer:
        return self if self.process is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        print(self.log_tail(40))  # pytest shows it when a test fails

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # HTTP helpers, as a user would call them.
    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=600, auth=self.auth, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
        return requests.post(self.url + path, data=data, timeout=600, auth=self.auth, **kwargs)

    def put(self, path: str, data: bytes | str) -> requests.Response:
        return requests.put(self.url + path, data=data, timeout=600, auth=self.auth)

    def delete(self, path: str) -> requests.Response:
        return requests.delete(self.url + path, timeout=600, auth=self.auth)

    def json(self, path: str) -> Any:
        response = self.get(path)
        response.raise_for_status()
        return response.json()

    def upload(self, data: bytes) -> dict[str, Any]:
        response = self.post("/instances", data)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def upload_all(self, blobs: list[bytes]) -> list[dict[str, Any]]:
        return [self.upload(blob) for blob in blobs]

    def instance_bytes(self, instance_id: str) -> bytes:
        response = self.get(f"/instances/{instance_id}/file")
        response.raise_for_status()
        return response.content

    def study_instances(self, study_id: str) -> list[str]:
        return [i["ID"] for i in self.json(f"/studies/{study_id}/instances")]

    def clear(self) -> None:
        """Delete every patient (keeps the plugin's mapping database)."""
        for patient in self.json("/patients"):
            self.delete(f"/patients/{patient}")


def wait_until(condition: Callable[[], Any], timeout: float = 60.0, what: str = "condition", poll: float = 0.05) -> Any:
    """Poll ``condition`` until it returns something truthy, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def running_orthanc_rss_kib(server: OrthancServer) -> int:
    """Resident set size of the Orthanc process, for benchmarks."""
    assert server.process is not None
    with open(f"/proc/{server.process.pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
