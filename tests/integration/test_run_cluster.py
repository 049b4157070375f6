"""`make run-cluster` as a user runs it: the committed node configurations, one PostgreSQL, Ctrl-C stops all."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from tests.dicom_data import ct_study, encoded, reidentified
from tests.orthanc_server import REPO, free_port, wait_until


def test_committed_node_configurations_share_one_postgresql_and_one_mapping() -> None:
    configs = [json.loads((REPO / "cluster" / f"node-{n}.json").read_text()) for n in "ab"]
    assert [c["HttpPort"] for c in configs] == [8042, 8043]
    assert len({c["DatabaseServerIdentifier"] for c in configs}) == 2
    for config in configs:
        assert config["PostgreSQL"]["Lock"] is False and config["PostgreSQL"]["EnableStorage"] is True
        assert config["AnonConsistent"]["MappingDatabase"] == {"PostgreSQL": True}
        assert config["AnonConsistent"].get("AllowMappingExport", False) is False  # closed by default


def test_run_cluster_starts_two_nodes_that_anonymize_as_one_and_stops_on_ctrl_c() -> None:
    ports = [free_port(), free_port()]
    with tempfile.TemporaryDirectory(prefix="anon-consistent-run-cluster-") as directory:
        Path(directory).chmod(0o755)  # as root, PostgreSQL runs as "postgres", which must enter it
        command = [sys.executable, str(REPO / "scripts" / "run_cluster.py"), "--directory", directory]
        command += ["--pg-port", str(free_port()), "--http-ports", ",".join(map(str, ports))]
        log = Path(directory) / "run-cluster.out"
        with log.open("wb") as output:
            process = subprocess.Popen(command, cwd=REPO, stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: "Ctrl-C stops everything" in log.read_text(), 90, "the cluster to start")
            a, b = (f"http://127.0.0.1:{port}" for port in ports)
            datasets = reidentified(ct_study())
            study = ""
            for blob in encoded(datasets):
                study = requests.post(f"{a}/instances", data=blob, timeout=30).json()["ParentStudy"]
            first = requests.post(f"{a}/anon-consistent/studies/{study}", json={"Project": "p"}, timeout=60)
            again = requests.post(f"{b}/anon-consistent/studies/{study}", json={"Project": "p"}, timeout=60)
            assert first.status_code == again.status_code == 200, log.read_text()
            assert first.json()["ID"] == again.json()["ID"]  # one mapping: node B gives the same study
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(60)
        assert process.returncode == 0 and log.read_text().rstrip().endswith("stopped")
        for port in ports:
            try:
                requests.get(f"http://127.0.0.1:{port}/system", timeout=2)
                raise AssertionError(f"a node still answers on {port}")
            except requests.ConnectionError:
                pass
