"""The repository's own orthanc.json, started from the repository root with no extra environment."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import requests

from tests.orthanc_server import ORTHANC, REPO, free_port


def test_orthanc_json_loads_the_plugin_from_the_repository_root(tmp_path: Path) -> None:
    config = json.loads((REPO / "orthanc.json").read_text())
    assert config["PythonScript"] == "plugin/anon_consistent_plugin.py"  # relative, as documented
    port = free_port()
    # Only what would collide with a running instance changes: ports and storage.
    config.update(HttpPort=port, DicomPort=free_port(), StorageDirectory=str(tmp_path), IndexDirectory=str(tmp_path))
    config_path = tmp_path / "orthanc.json"
    config_path.write_text(json.dumps(config))
    log = (tmp_path / "orthanc.log").open("wb")
    process = subprocess.Popen(
        [ORTHANC, str(config_path)], cwd=REPO, env={"PATH": "/usr/bin:/bin"}, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        answer = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/anon-consistent", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert answer is not None and answer.status_code == 200, (tmp_path / "orthanc.log").read_text()
        assert answer.json()["ProfileEdition"] == "2026c"
        assert answer.json()["AllowMappingExport"] is True  # the repository's own configuration
    finally:
        process.terminate()
        process.wait(timeout=30)
