"""Two studies anonymized at once: both on one node, or one on each of two nodes on one PostgreSQL (issue 12).

Both nodes keep index, files and our mapping in one PostgreSQL, as
`make run-cluster` does. Each round sends the two calls at once, native
``/studies/{id}/anonymize`` or ``/anon-consistent/studies/{id}``; placements
and methods alternate from round to round. Reported: median wall time, the
aggregate instances per second, and the CPU seconds of every process
involved (both Orthanc nodes and PostgreSQL) per instance. On a 2-core
machine the second node has no core of its own: the figures say what a
second node costs or gains here, not on a real cluster.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from bench.concurrent import METHODS, _call, _f, cpu_seconds, upload
from bench.generate import GeneratedStudy
from tests.cluster import cluster_node
from tests.orthanc_server import OrthancServer
from tests.postgres_server import PostgresServer

PLACEMENTS = ("one node", "two nodes")


def postgres_cpu_seconds(postgres: PostgresServer) -> float:
    """CPU of PostgreSQL's postmaster and every backend it forked (live ones; ended ones are lost)."""
    pid_file = postgres.data / "postmaster.pid"
    root = int(pid_file.read_text().split()[0])
    children = subprocess.run(["pgrep", "-P", str(root)], capture_output=True, text=True).stdout.split()
    total = 0.0
    for pid in [root, *map(int, children)]:
        try:
            total += cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def run_round(
    nodes: list[OrthancServer], postgres: PostgresServer, study_ids: list[str], placement: str, method: str, label: str
) -> dict[str, Any]:
    servers = [nodes[0], nodes[0]] if placement == "one node" else nodes
    produced: list[str] = []
    errors: list[BaseException] = []

    def call(server: OrthancServer, study_id: str, index: int) -> None:
        try:
            _call(server, method, study_id, f"{label}-{index}", produced)
        except BaseException as error:  # noqa: BLE001 - re-raised below
            errors.append(error)

    threads = [
        threading.Thread(target=call, args=(s, i, n)) for n, (s, i) in enumerate(zip(servers, study_ids, strict=True))
    ]
    pids = [n.process.pid for n in nodes if n.process is not None]
    cpu_before = sum(cpu_seconds(p) for p in pids) + postgres_cpu_seconds(postgres)
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    cpu = sum(cpu_seconds(p) for p in pids) + postgres_cpu_seconds(postgres) - cpu_before
    if errors:
        raise errors[0]
    for study_id in produced:
        requests.delete(f"{nodes[0].url}/studies/{study_id}", timeout=600).raise_for_status()
    if method == "plugin":
        for index in range(len(study_ids)):
            requests.delete(f"{nodes[0].url}/anon-consistent/projects/{label}-{index}", timeout=600)
    return {"placement": placement, "method": method, "seconds": seconds, "cpu_seconds": cpu}


def run_cluster_bench(studies: list[GeneratedStudy], repeats: int) -> dict[str, Any]:
    """The two placements, native and plugin, ``repeats`` rounds each, in one PostgreSQL and two nodes."""
    instances = sum(s.instance_count for s in studies)
    rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="anon-bench-cluster-") as tmp, PostgresServer() as postgres:
        Path(tmp).chmod(0o755)
        postgres.create_database("bench")
        nodes = [cluster_node(Path(tmp), postgres, "bench", name, {"AllowMappingExport": True}) for name in ("a", "b")]
        try:
            for node in nodes:
                node.start()
            # Each node receives one study: in "one node" both calls still go to node A.
            study_ids = [upload(node, study) for node, study in zip(nodes, studies, strict=True)]
            for repeat in range(repeats):
                placements = PLACEMENTS if repeat % 2 == 0 else PLACEMENTS[::-1]
                for placement in placements:
                    for method in METHODS if repeat % 2 == 0 else METHODS[::-1]:
                        result = run_round(nodes, postgres, study_ids, placement, method, f"cluster-{repeat}")
                        rounds.append(result)
                        print(
                            f"[{repeat + 1}/{repeats}] 2 studies, {placement:>9} {method:>6}: "
                            f"{result['seconds']:6.2f}s {instances / result['seconds']:6.1f} inst/s  "
                            f"CPU {1000 * result['cpu_seconds'] / instances:5.2f} ms/inst",
                            flush=True,
                        )
        finally:
            for node in nodes:
                node.stop()
    return summarize(rounds, instances)


def summarize(rounds: list[dict[str, Any]], instances: int) -> dict[str, Any]:
    table: dict[str, dict[str, Any]] = {}
    for placement in PLACEMENTS:
        row: dict[str, Any] = {}
        for method in METHODS:
            mine = [r for r in rounds if r["placement"] == placement and r["method"] == method]
            seconds = statistics.median(r["seconds"] for r in mine) if mine else None
            cpu = statistics.median(r["cpu_seconds"] for r in mine) if mine else None
            row[method] = {
                "median_seconds": seconds,
                "instances_per_second": instances / seconds if seconds else None,
                "cpu_ms_per_instance": 1000 * cpu / instances if cpu is not None else None,
            }
        native, plugin = row["native"]["median_seconds"], row["plugin"]["median_seconds"]
        row["ratio"] = plugin / native if native and plugin else None
        table[placement] = row
    return {"instances": instances, "placements": table, "rounds": rounds}


def markdown_table(summary: dict[str, Any]) -> str:
    lines = [
        "| 2 studies at once | native s | plugin s | native inst/s | plugin inst/s | **ratio plugin/native** "
        "| CPU ms/inst native / plugin |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for placement, row in summary["placements"].items():
        n, p = row["native"], row["plugin"]
        lines.append(
            f"| {placement} | {_f(n['median_seconds'])} | {_f(p['median_seconds'])} "
            f"| {_f(n['instances_per_second'], 0)} | {_f(p['instances_per_second'], 0)} | **{_f(row['ratio'])}** "
            f"| {_f(n['cpu_ms_per_instance'])} / {_f(p['cpu_ms_per_instance'])} |"
        )
    return "\n".join(lines) + "\n"
