"""K studies anonymized at once, native against plugin, in one Orthanc (issue 11).

Each round starts K client threads, one per study, all on native
``/studies/{id}/anonymize`` or all on ``/anon-consistent/studies/{id}``; the
methods alternate from round to round. Reported per K and method: the median
wall time of the round, the aggregate instances per second, the CPU seconds
the Orthanc process spent per instance (user + system, from /proc, so the
plugin's Python is counted with Orthanc's C++) and its RSS growth.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from bench.generate import GeneratedStudy
from tests.orthanc_server import OrthancServer

METHODS = ("native", "plugin")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class Round:
    method: str
    seconds: float
    cpu_seconds: float
    rss_growth_kib: int


@dataclass
class Scenario:
    """K studies at once; ``orthanc_ids`` are the uploaded studies."""

    studies: list[GeneratedStudy]
    orthanc_ids: list[str] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)

    @property
    def k(self) -> int:
        return len(self.studies)

    @property
    def instances(self) -> int:
        return sum(s.instance_count for s in self.studies)

    def median(self, method: str, key: str) -> float | None:
        values = [getattr(r, key) for r in self.rounds if r.method == method]
        return statistics.median(values) if values else None

    def summary(self) -> dict[str, Any]:
        by_method: dict[str, Any] = {}
        for method in METHODS:
            seconds = self.median(method, "seconds")
            cpu = self.median(method, "cpu_seconds")
            by_method[method] = {
                "median_seconds": seconds,
                "instances_per_second": self.instances / seconds if seconds else None,
                "cpu_ms_per_instance": 1000 * cpu / self.instances if cpu is not None else None,
                "rss_growth_kib": self.median(method, "rss_growth_kib"),
            }
        native, plugin = by_method["native"]["median_seconds"], by_method["plugin"]["median_seconds"]
        return {
            "k": self.k,
            "instances": self.instances,
            "methods": by_method,
            "ratio": plugin / native if plugin and native else None,
            "rounds": [r.__dict__ for r in self.rounds],
        }


def upload(server: OrthancServer, study: GeneratedStudy) -> str:
    session = requests.Session()
    parent = ""
    for path in study.files:
        response = session.post(server.url + "/instances", data=path.read_bytes(), timeout=600)
        response.raise_for_status()
        parent = response.json()["ParentStudy"]
    return parent


def _call(server: OrthancServer, method: str, study_id: str, label: str, produced: list[str]) -> None:
    if method == "native":
        url, body = f"/studies/{study_id}/anonymize", '{"Synchronous": true}'
    else:
        url, body = f"/anon-consistent/studies/{study_id}", f'{{"Project": "{label}"}}'
    response = requests.post(server.url + url, data=body, timeout=3600)
    if response.status_code != 200 or response.json().get("FailedInstancesCount"):
        raise RuntimeError(f"{method} {url}: {response.status_code} {response.text[:300]}")
    produced.append(str(response.json()["ID"]))


def run_round(server: OrthancServer, scenario: Scenario, method: str, label: str) -> Round:
    """The K calls at once; their results are deleted afterwards."""
    assert server.process is not None
    pid = server.process.pid
    produced: list[str] = []
    errors: list[BaseException] = []
    peak = before_rss = rss_kib(pid)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, rss_kib(pid))

    def call(study_id: str, index: int) -> None:
        try:
            _call(server, method, study_id, f"{label}-{index}", produced)
        except BaseException as error:  # noqa: BLE001 - re-raised below
            errors.append(error)

    threads = [threading.Thread(target=call, args=(s, i)) for i, s in enumerate(scenario.orthanc_ids)]
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu_before, start = cpu_seconds(pid), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds, cpu = time.perf_counter() - start, cpu_seconds(pid) - cpu_before
    done.set()
    sampler.join()
    if errors:
        raise errors[0]
    for study_id in produced:
        requests.delete(f"{server.url}/studies/{study_id}", timeout=600).raise_for_status()
    if method == "plugin":
        for index in range(scenario.k):
            requests.delete(f"{server.url}/anon-consistent/projects/{label}-{index}", timeout=600)
    return Round(method, seconds, cpu, peak - before_rss)


def run_scenarios(server: OrthancServer, studies: list[GeneratedStudy], ks: list[int], repeats: int) -> list[Scenario]:
    """Each K in turn on the first K studies, methods alternating, ``repeats`` rounds each."""
    ids = [upload(server, study) for study in studies[: max(ks, default=0)]]
    scenarios = []
    for k in ks:
        scenario = Scenario(studies[:k], ids[:k])
        for repeat in range(repeats):
            order = METHODS if repeat % 2 == 0 else METHODS[::-1]
            for method in order:
                result = run_round(server, scenario, method, f"bench-k{k}-{repeat}")
                scenario.rounds.append(result)
                print(
                    f"[{repeat + 1}/{repeats}] K={k} {method:>6}: {result.seconds:6.2f}s "
                    f"{scenario.instances / result.seconds:6.1f} inst/s  "
                    f"CPU {1000 * result.cpu_seconds / scenario.instances:5.2f} ms/inst",
                    flush=True,
                )
        scenarios.append(scenario)
    return scenarios


def markdown_table(summaries: list[dict[str, Any]]) -> str:
    lines = [
        "| K studies at once | instances | native s | plugin s | native inst/s | plugin inst/s "
        "| **ratio plugin/native** | CPU ms/inst native / plugin | RSS growth MiB native / plugin |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in summaries:
        n, p = s["methods"]["native"], s["methods"]["plugin"]
        lines.append(
            f"| {s['k']} | {s['instances']} | {_f(n['median_seconds'])} | {_f(p['median_seconds'])} "
            f"| {_f(n['instances_per_second'], 0)} | {_f(p['instances_per_second'], 0)} | **{_f(s['ratio'])}** "
            f"| {_f(n['cpu_ms_per_instance'])} / {_f(p['cpu_ms_per_instance'])} "
            f"| {_f(_mib(n['rss_growth_kib']), 1)} / {_f(_mib(p['rss_growth_kib']), 1)} |"
        )
    return "\n".join(lines) + "\n"


def _mib(kib: float | None) -> float | None:
    return kib / 1024 if kib is not None else None


def _f(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"
