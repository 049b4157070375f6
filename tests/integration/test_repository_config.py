"""The repository's own orthanc.json, started from the repository root with no extra environment."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import requests

from tests.orthanc_server import ORTHANC, REPO, free_port


def test_shipped_configurations_keep_the_mapping_closed() -> None:
    config = json.loads((REPO / "orthanc.json").read_text())
    assert config.get("AnonConsistent", {}).get("AllowMappingExport", False) is False
    for path in (REPO / "docker").glob("*"):
        text = path.read_text()
        assert "ALLOW_MAPPING_EXPORT" not in text and "AllowMappingExport" not in text, path


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
        assert set(answer.json()["Presets"]) == {"pet-suv", "diffusion-mr", "rt-roi-names"}
        # Closed by default: `make run` must not serve the re-identification key.
        assert answer.json()["AllowMappingExport"] is False
        for path in ("/anon-consistent/projects", "/anon-consistent/projects/default/mapping"):
            assert requests.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code == 403
        refused = requests.delete(f"http://127.0.0.1:{port}/anon-consistent/projects/default", timeout=5)
        assert refused.status_code == 403
    finally:
        process.terminate()
        process.wait(timeout=30)
