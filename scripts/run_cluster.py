"""`make run-cluster`: PostgreSQL and two Orthanc nodes with the plugin, from the repository.

PostgreSQL listens on 127.0.0.1:5433 (not 5432, where a system PostgreSQL may
be) with its data in var/cluster/pg, kept between runs; the nodes are started
from cluster/node-a.json (http://localhost:8042) and cluster/node-b.json
(http://localhost:8043). Ctrl-C stops the nodes, then PostgreSQL.

Options exist for the test that runs this script: other ports, another directory.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.orthanc_server import ORTHANC  # noqa: E402
from tests.postgres_server import PostgresServer  # noqa: E402

NODES = ("node-a", "node-b")
FALLBACK_PG_DIRECTORY = Path("/var/tmp/anon-consistent-cluster-pg")


def node_config(name: str, directory: Path, pg_port: int, http_port: int | None) -> Path:
    """The committed configuration, with the ports and directories of this run."""
    config = json.loads((REPO / "cluster" / f"{name}.json").read_text())
    config["PostgreSQL"]["Port"] = pg_port
    config["StorageDirectory"] = config["IndexDirectory"] = str(directory / name)
    if http_port is not None:
        config.update(HttpPort=http_port, DicomServerEnabled=False)
    path = directory / f"{name}.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"Orthanc exited ({process.returncode}); see {log}")
        try:
            if requests.get(f"{url}/anon-consistent", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"Orthanc did not answer at {url} within {timeout}s; see {log}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--directory", type=Path, default=REPO / "var" / "cluster")
    parser.add_argument("--pg-port", type=int, default=5433)
    parser.add_argument("--http-ports", default="", help="two ports instead of the configured 8042,8043")
    args = parser.parse_args(argv)
    ports: list[int | None] = [int(p) for p in args.http_ports.split(",")] if args.http_ports else [None, None]
    args.directory.mkdir(parents=True, exist_ok=True)

    try:
        postgres = PostgresServer(args.directory / "pg", port=args.pg_port)
    except RuntimeError as private:
        # As root, PostgreSQL runs as "postgres", which cannot enter a checkout under /root.
        print(f"{private}: using {FALLBACK_PG_DIRECTORY}", flush=True)
        postgres = PostgresServer(FALLBACK_PG_DIRECTORY, port=args.pg_port)
    postgres.start()
    postgres.create_database("orthanc")
    processes: list[subprocess.Popen[bytes]] = []
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for name, port in zip(NODES, ports, strict=True):
            config = node_config(name, args.directory, args.pg_port, port)
            log = args.directory / f"{name}.log"
            process = subprocess.Popen(
                [ORTHANC, str(config)], cwd=REPO, stdout=log.open("ab"), stderr=subprocess.STDOUT
            )
            processes.append(process)
            http_port = json.loads(config.read_text())["HttpPort"]
            wait_for(f"http://localhost:{http_port}", process, log)
            print(f"{name}: http://localhost:{http_port} (log: {log})", flush=True)
        print(f"PostgreSQL: {postgres.uri('orthanc')} (data: {postgres.data}). Ctrl-C stops everything.", flush=True)
        while not stop and all(p.poll() is None for p in processes):
            time.sleep(0.5)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        postgres.stop()
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
