"""Benchmark: anon-consistent vs Orthanc's native anonymizer vs a dicognito script.

One real Orthanc with the plugin is started in a temporary directory, the
generated studies (bench/generate.py) are uploaded once, then for each study,
repeated and in rotating order:

- native:    POST /studies/{id}/anonymize {"Synchronous": true}
- plugin:    POST /anon-consistent/studies/{id} (synchronous), with a new
             "Project" each time, so every run creates its mappings as a
             first anonymization does
- dicognito: the script a user would otherwise write: GET /instances/{id}/file
             for each instance, ``python -m dicognito`` on the files, POST
             /instances of the results

After each run the produced study (and the plugin's project) is deleted, so
every run does the full work and the store does not grow. Orthanc's resident
memory is sampled every 20 ms during each call (peak minus before).

    .venv/bin/python bench/run_bench.py [--sizes 240,1000] [--rt 240] [--repeats 3]
    .venv/bin/python bench/run_bench.py --smoke --output /tmp/out   # seconds, for tests

Writes results.md, results.json, bench.png (and profile.md) to --output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path[:0] = [str(REPO), str(REPO / "plugin")]

import requests  # noqa: E402

from bench.cluster import markdown_table as cluster_table  # noqa: E402
from bench.cluster import run_cluster_bench  # noqa: E402
from bench.concurrent import markdown_table, run_scenarios  # noqa: E402
from bench.fairness import HEAD_START_SECONDS, run_fairness  # noqa: E402
from bench.fairness import markdown_table as fairness_table  # noqa: E402
from bench.generate import GeneratedStudy, generate_study  # noqa: E402
from tests.dicom_data import ct_study, encoded, reidentified  # noqa: E402
from tests.orthanc_server import OrthancServer, running_orthanc_rss_kib  # noqa: E402

METHODS = ("native", "plugin", "dicognito")
LABELS = {
    "native": "Orthanc native /anonymize",
    "plugin": "anon-consistent plugin",
    "dicognito": "export + dicognito + re-import",
}
DICOGNITO_PHASES = ("export_seconds", "dicognito_seconds", "import_seconds")
COLORS = {"native": "#4C72B0", "plugin": "#DD8452", "dicognito": "#8C8C8C"}


class RssSampler:
    """Peak VmRSS of Orthanc while a block runs, polled from a thread."""

    def __init__(self, server: OrthancServer, interval: float = 0.02) -> None:
        self.server = server
        self.interval = interval
        self.before = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, running_orthanc_rss_kib(self.server))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.before = self.peak = running_orthanc_rss_kib(self.server)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, running_orthanc_rss_kib(self.server))

    @property
    def growth(self) -> int:
        return self.peak - self.before


@dataclass
class Case:
    study: GeneratedStudy
    orthanc_id: str = ""
    upload_seconds: float = 0.0
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {m: [] for m in METHODS})

    @property
    def name(self) -> str:
        return self.study.case

    @property
    def instances(self) -> int:
        return self.study.instance_count

    def median(self, method: str, key: str = "seconds") -> float | None:
        values = [run[key] for run in self.runs[method] if run.get(key) is not None]
        return statistics.median(values) if values else None

    def summary(self) -> dict[str, Any]:
        medians = {m: self.median(m) for m in METHODS}
        per_instance = {m: (1000.0 * s / self.instances if s is not None else None) for m, s in medians.items()}
        native, plugin, dicognito = medians["native"], medians["plugin"], medians["dicognito"]
        return {
            "case": self.name,
            "instances": self.instances,
            "megabytes": round(self.study.total_bytes / 2**20, 1),
            "rtstruct": self.study.has_rtstruct,
            "upload_seconds": round(self.upload_seconds, 3),
            "median_seconds": medians,
            "per_instance_ms": per_instance,
            "rss_growth_kib": {m: self.median(m, "rss_growth_kib") for m in METHODS},
            "rss_growth_kib_max": {m: max((r["rss_growth_kib"] for r in self.runs[m]), default=None) for m in METHODS},
            "ratio": plugin / native if plugin and native else None,
            "speedup_vs_dicognito": dicognito / plugin if dicognito and plugin else None,
            "dicognito_phases_median_seconds": {
                phase: self.median("dicognito", phase)
                for phase in ("export_seconds", "dicognito_seconds", "import_seconds")
            },
            "runs": self.runs,
        }


class Bench:
    def __init__(self, server: OrthancServer) -> None:
        self.server = server
        self.http = requests.Session()
        self.dicognito = _dicognito_available()

    def url(self, path: str) -> str:
        return self.server.url + path

    def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(self.url(path), data=json.dumps(body), timeout=3600)
        if response.status_code != 200:
            raise RuntimeError(f"POST {path} -> {response.status_code}: {response.text[:500]}")
        answer: dict[str, Any] = response.json()
        return answer

    def delete(self, path: str) -> None:
        self.http.delete(self.url(path), timeout=600).raise_for_status()

    def upload(self, case: Case) -> None:
        start = time.perf_counter()
        for path in case.study.files:
            response = self.http.post(self.url("/instances"), data=path.read_bytes(), timeout=600)
            response.raise_for_status()
            case.orthanc_id = response.json()["ParentStudy"]
        case.upload_seconds = time.perf_counter() - start
        count = len(self.server.json(f"/studies/{case.orthanc_id}/instances"))
        if count != case.instances:
            raise RuntimeError(f"{case.name}: Orthanc holds {count} instances, expected {case.instances}")

    def run(self, case: Case, method: str, label: str) -> dict[str, Any]:
        runner: Callable[[Case, str], tuple[str, dict[str, Any]]] = getattr(self, f"_{method}")
        with RssSampler(self.server) as rss:
            start = time.perf_counter()
            produced, extra = runner(case, label)
            seconds = time.perf_counter() - start
        self.delete(f"/studies/{produced}")
        if method == "plugin":
            self.delete(f"/anon-consistent/projects/{label}")
        return {
            "seconds": seconds,
            "rss_before_kib": rss.before,
            "rss_peak_kib": rss.peak,
            "rss_growth_kib": rss.growth,
            **extra,
        }

    def _check_count(self, case: Case, method: str, answer: dict[str, Any]) -> None:
        count = answer.get("InstancesCount")
        if count != case.instances or answer.get("FailedInstancesCount", 0):
            raise RuntimeError(f"{case.name}/{method}: anonymized {count} of {case.instances}: {answer}")

    def _native(self, case: Case, label: str) -> tuple[str, dict[str, Any]]:
        answer = self.post_json(f"/studies/{case.orthanc_id}/anonymize", {"Synchronous": True})
        self._check_count(case, "native", answer)
        return str(answer["ID"]), {}

    def _plugin(self, case: Case, label: str) -> tuple[str, dict[str, Any]]:
        answer = self.post_json(f"/anon-consistent/studies/{case.orthanc_id}", {"Project": label})
        self._check_count(case, "plugin", answer)
        return str(answer["ID"]), {}

    def _dicognito(self, case: Case, label: str) -> tuple[str, dict[str, Any]]:
        with tempfile.TemporaryDirectory(prefix="anon-bench-dicognito-") as tmp:
            source, target = Path(tmp) / "in", Path(tmp) / "out"
            source.mkdir()
            t0 = time.perf_counter()
            instances = self.http.get(self.url(f"/studies/{case.orthanc_id}/instances"), timeout=600).json()
            for instance in instances:
                response = self.http.get(self.url(f"/instances/{instance['ID']}/file"), timeout=600)
                response.raise_for_status()
                (source / f"{instance['ID']}.dcm").write_bytes(response.content)
            t1 = time.perf_counter()
            command = [sys.executable, "-m", "dicognito", "--quiet", "--output-directory", str(target), str(source)]
            subprocess.run(command, check=True, capture_output=True)
            t2 = time.perf_counter()
            studies = set()
            outputs = sorted(target.iterdir())
            for path in outputs:
                response = self.http.post(self.url("/instances"), data=path.read_bytes(), timeout=600)
                response.raise_for_status()
                studies.add(response.json()["ParentStudy"])
            t3 = time.perf_counter()
        if len(outputs) != case.instances or len(studies) != 1:
            raise RuntimeError(f"{case.name}/dicognito: {len(outputs)} files in {len(studies)} studies")
        phases = {"export_seconds": t1 - t0, "dicognito_seconds": t2 - t1, "import_seconds": t3 - t2}
        return studies.pop(), phases


def _dicognito_available() -> bool:
    try:
        importlib.metadata.version("dicognito")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info(server: OrthancServer) -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    embedded = subprocess.run(["/usr/bin/python3.11", "--version"], capture_output=True, text=True, check=False)
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_start": list(os.getloadavg()),
        "platform": platform.platform(),
        "orthanc": server.json("/system").get("Version"),
        "plugin": server.json("/anon-consistent").get("Version"),
        "orthanc_python": embedded.stdout.strip() or embedded.stderr.strip(),
        "bench_python": platform.python_version(),
        "pydicom": _version("pydicom"),
        "dicognito": _version("dicognito"),
    }


def _git(*command: str, strip: bool = True) -> str:
    done = subprocess.run(["git", "-C", str(REPO), *command], capture_output=True, text=True, check=False)
    return done.stdout.strip() if strip else done.stdout


def plugin_source(ref: str) -> str:
    """Which plugin code ran: a commit, or the work tree with its uncommitted files."""
    if ref:
        return f"git {_git('rev-parse', '--short', ref)} ({_git('log', '-1', '--format=%s', ref)})"
    head = _git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = [line[3:] for line in _git("status", "--porcelain", "--", "plugin", strip=False).splitlines()]
    return f"work tree at {head}" + (f", uncommitted: {', '.join(dirty)}" if dirty else " (clean)")


def checkout_plugin(ref: str, target: Path) -> Path:
    """``plugin/`` as committed at ``ref``, next to a link to the repository's .venv; returns the entry script."""
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "plugin"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    (target / ".venv").symlink_to(REPO / ".venv")
    return target / "plugin" / "anon_consistent_plugin.py"


def _fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{suffix}"


def _mib(kib: float | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f}"


def table(summaries: list[dict[str, Any]]) -> str:
    header = (
        "| study | inst. | native s | plugin s | native ms/inst | plugin ms/inst | **ratio plugin/native** "
        "| RSS growth MiB median (max) native / plugin | dicognito pipeline s (ms/inst) | plugin speedup vs dicognito |"
    )
    lines = [header, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for s in summaries:
        med, per, rss, top = s["median_seconds"], s["per_instance_ms"], s["rss_growth_kib"], s["rss_growth_kib_max"]
        dicognito = f"{med['dicognito']:.2f} ({per['dicognito']:.1f})" if med["dicognito"] is not None else "not run"
        lines.append(
            f"| {s['case']} | {s['instances']} | {_fmt(med['native'])} | {_fmt(med['plugin'])} "
            f"| {_fmt(per['native'], 1)} | {_fmt(per['plugin'], 1)} | **{_fmt(s['ratio'])}** "
            f"| {_mib(rss['native'])} ({_mib(top['native'])}) / {_mib(rss['plugin'])} ({_mib(top['plugin'])}) "
            f"| {dicognito} "
            f"| {_fmt(s['speedup_vs_dicognito'], 1, 'x')} |"
        )
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    machine, config = results["machine"], results["config"]
    options = json.dumps(machine["plugin_config"]) if machine.get("plugin_config") else "none"
    summaries = results["cases"]
    phases = []
    for s in summaries:
        p = s["dicognito_phases_median_seconds"]
        if p["export_seconds"] is not None:
            phases.append(
                f"| {s['case']} | {p['export_seconds']:.2f} | {p['dicognito_seconds']:.2f} | {p['import_seconds']:.2f} "
                f"| {s['upload_seconds']:.2f} |"
            )
    lines = [
        "# anon-consistent benchmark",
        "",
        f"Medians of {config['repeats']} run(s) per method and study, methods in rotating order, the produced study "
        "deleted after each run. RSS growth: Orthanc's peak VmRSS during the call minus VmRSS just before it "
        "(median over runs, max in brackets), sampled every 20 ms; Orthanc's allocator keeps what a first call "
        "took, so later calls of the same kind often show 0. The plugin runs with a new Project each time, so it "
        "creates every mapping as a first anonymization does.",
        "",
        table(summaries),
        "",
    ]
    if phases:
        lines += [
            "dicognito pipeline, median seconds per phase (and the initial upload of the study for reference):",
            "",
            "| study | export (GET /file) | dicognito CLI | re-import (POST /instances) | initial upload |",
            "| --- | ---: | ---: | ---: | ---: |",
            *phases,
            "",
        ]
    lines += [
        "![per-instance time](bench.png)",
        "",
        "## Machine",
        "",
        f"- date: {machine['date']}",
        f"- CPU: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB",
        f"- load average at start: {', '.join(f'{x:.2f}' for x in machine['load_average_start'])}; "
        f"at end: {', '.join(f'{x:.2f}' for x in machine.get('load_average_end', []))}",
        f"- {machine['platform']}",
        f"- plugin code: {machine['plugin_source']}",
        f"- extra AnonConsistent options: {options}",
        f"- Orthanc {machine['orthanc']}, anon-consistent {machine['plugin']}, "
        f"embedded {machine['orthanc_python']}, pydicom {machine['pydicom']}",
        f"- bench Python {machine['bench_python']}, dicognito {machine['dicognito']}",
        f"- command: `{config['command']}`",
        "",
    ]
    if results.get("concurrent"):
        lines += [
            "## Concurrent calls",
            "",
            "K studies anonymized at once (K client threads, one call each), native and plugin alternating, "
            "medians of the rounds; CPU is the Orthanc process's user + system time (the plugin's Python included).",
            "",
            markdown_table(results["concurrent"]),
        ]
    if results.get("fairness"):
        lines += [
            "## A small call during a large one",
            "",
            f"One series of {SMALL_SERIES_INSTANCES} instances anonymized alone, then while the first study above is "
            f"being anonymized (started {HEAD_START_SECONDS} s before); medians of the rounds.",
            "",
            fairness_table(results["fairness"]),
        ]
    if results.get("cluster"):
        lines += [
            "## Two Orthanc nodes on one PostgreSQL",
            "",
            f"Two studies of {results['cluster']['instances'] // 2} instances anonymized at once, both calls on one "
            "node or one call on each node; index, files and mapping in one PostgreSQL; medians of the rounds. "
            "CPU counts both Orthanc processes and PostgreSQL. Both nodes share this machine's cores.",
            "",
            cluster_table(results["cluster"]),
        ]
    if config.get("note"):
        lines += [f"Note: {config['note']}", ""]
    return "\n".join(lines)


def plot(summaries: list[dict[str, Any]], path: Path) -> bool:
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = [m for m in METHODS if any(s["per_instance_ms"][m] is not None for s in summaries)]
    width = 0.8 / max(len(methods), 1)
    fig, ax = plt.subplots(figsize=(2.2 + 2.4 * len(summaries), 4.8), dpi=120)
    for k, method in enumerate(methods):
        xs, heights, low, high = [], [], [], []
        for i, s in enumerate(summaries):
            per = s["per_instance_ms"][method]
            if per is None:
                continue
            runs = [1000.0 * r["seconds"] / s["instances"] for r in s["runs"][method]]
            xs.append(i + (k - (len(methods) - 1) / 2) * width)
            heights.append(per)
            low.append(per - min(runs))
            high.append(max(runs) - per)
        bars = ax.bar(xs, heights, width, label=LABELS[method], color=COLORS[method], yerr=[low, high], capsize=3)
        ax.bar_label(bars, fmt="%.1f", label_type="center", color="white", fontsize=8, fontweight="bold")
    ax.set_xticks(
        range(len(summaries)),
        [f"{s['case']}\n({s['instances']} inst., ratio {_fmt(s['ratio'])})" for s in summaries],
    )
    ax.set_ylabel("ms per instance (median, bars: min-max)")
    ax.set_title("Study anonymization inside Orthanc: time per instance (lower is better)")
    ax.legend(loc="upper left", fontsize=8)
    ax.margins(y=0.15)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="240,1000", help="CT studies to run, instances each (comma-separated)")
    parser.add_argument("--rt", type=int, default=240, help="CT slices of the CT+RTSTRUCT study (0: none)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per method and study")
    parser.add_argument("--methods", default=",".join(METHODS), help="subset of native,plugin,dicognito")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "work", help="generated DICOM files")
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=None, help="write profile.md")
    parser.add_argument("--note", default="", help="free text recorded in results.md")
    parser.add_argument("--plugin-config", type=json.loads, default={}, help='extra "AnonConsistent" options, as JSON')
    parser.add_argument(
        "--plugin-ref",
        default="",
        help="benchmark the plugin as committed at this git ref (e.g. HEAD) instead of the work tree",
    )
    parser.add_argument(
        "--concurrent", default="2,4", help="K studies anonymized at once, for each K (comma-separated; empty: none)"
    )
    parser.add_argument("--concurrent-size", type=int, default=240, help="instances of each concurrent study")
    parser.add_argument(
        "--cluster-size", type=int, default=240, help="instances of each study of the two-node case (0: no such case)"
    )
    parser.add_argument("--smoke", action="store_true", help="a few instances, one run, no profile (for tests)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.rt, args.repeats, args.concurrent, args.concurrent_size = "4", 3, 1, "2", 4
        args.cluster_size = 4
    if args.profile is None:
        args.profile = not args.smoke
    args.size_list = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.k_list = [int(k) for k in args.concurrent.split(",") if k.strip()]
    args.method_list = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = set(args.method_list) - set(METHODS)
    if unknown or not {"native", "plugin"} <= set(args.method_list):
        parser.error(f"--methods must include native and plugin, among {', '.join(METHODS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    studies = [generate_study(args.work, size) for size in args.size_list]
    if args.rt:
        studies.append(generate_study(args.work, args.rt, rtstruct=True))
    cases = [Case(study) for study in studies]
    args.output.mkdir(parents=True, exist_ok=True)
    print(f"generated {', '.join(f'{c.name} ({c.instances})' for c in cases)} in {time.perf_counter() - started:.1f}s")

    with tempfile.TemporaryDirectory(prefix="anon-bench-orthanc-") as tmp:
        extra: dict[str, Any] = {}
        if args.plugin_ref:
            args.plugin_ref = _git("rev-parse", "--short", args.plugin_ref) or args.plugin_ref
            entry = checkout_plugin(args.plugin_ref, Path(tmp) / "checkout")
            extra["PythonScript"] = str(entry)
            sys.path.insert(0, str(entry.parent))  # the offline profile imports the same engine
        server = OrthancServer(
            Path(tmp) / "orthanc", plugin_config={"AllowMappingExport": True, **args.plugin_config}, **extra
        ).start()
        try:
            bench = Bench(server)
            methods = [m for m in args.method_list if m != "dicognito" or bench.dicognito]
            if "dicognito" in args.method_list and not bench.dicognito:
                print("dicognito is not installed (pip install -r requirements-bench.txt): pipeline not timed")
            machine = machine_info(server)
            machine["plugin_source"] = plugin_source(args.plugin_ref)
            machine["plugin_config"] = args.plugin_config or None
            for case in cases:
                bench.upload(case)
                print(f"uploaded {case.name}: {case.instances} instances in {case.upload_seconds:.1f}s")
            for repeat in range(args.repeats):
                for index, case in enumerate(cases):
                    shift = (repeat + index) % len(methods)
                    for method in methods[shift:] + methods[:shift]:
                        label = f"bench-{case.name}-{repeat}"
                        run = bench.run(case, method, label)
                        case.runs[method].append(run)
                        print(
                            f"[{repeat + 1}/{args.repeats}] {case.name:>16} {method:>9}: {run['seconds']:7.2f}s "
                            f"{1000 * run['seconds'] / case.instances:6.1f} ms/inst  "
                            f"RSS +{run['rss_growth_kib'] / 1024:.1f} MiB",
                            flush=True,
                        )
            copies = [
                generate_study(args.work, args.concurrent_size, copy=i + 1) for i in range(max(args.k_list, default=0))
            ]
            scenarios = run_scenarios(server, copies, args.k_list, args.repeats)
            fairness = run_fairness(server, cases[0].orthanc_id, small_series(server, 4 * args.repeats), args.repeats)
            machine["load_average_end"] = list(os.getloadavg())
            if args.profile:
                profile(args, server, cases)
        finally:
            server.stop()

    cluster = None
    if args.cluster_size:
        pair = [generate_study(args.work, args.cluster_size, copy=i + 1) for i in range(2)]
        cluster = run_cluster_bench(pair, args.repeats)

    summaries = [case.summary() for case in cases]
    results: dict[str, Any] = {
        "machine": machine,
        "config": {
            "sizes": args.size_list,
            "rt": args.rt,
            "repeats": args.repeats,
            "methods": methods,
            "smoke": args.smoke,
            "command": " ".join(["bench/run_bench.py", *(argv if argv is not None else sys.argv[1:])]),
            "note": args.note,
            "wall_seconds": round(time.perf_counter() - started, 1),
        },
        "cases": summaries,
        "concurrent": [scenario.summary() for scenario in scenarios],
        "cluster": cluster,
        "fairness": fairness,
    }
    (args.output / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.output / "results.md").write_text(markdown(results))
    plotted = plot(summaries, args.output / "bench.png")
    print()
    print(table(summaries))
    if results["concurrent"]:
        print()
        print(markdown_table(results["concurrent"]))
    print()
    print(fairness_table(fairness))
    if cluster:
        print()
        print(cluster_table(cluster))
    print(
        f"\nwrote {args.output}/results.md, results.json" + (", bench.png" if plotted else " (no matplotlib: no plot)")
    )
    return 0


SMALL_SERIES_INSTANCES = len(
    {d.SOPInstanceUID for d in ct_study() if d.SeriesInstanceUID == ct_study()[0].SeriesInstanceUID}
)


def small_series(server: OrthancServer, count: int) -> list[str]:
    """``count`` fresh one-series studies of pydicom's CT (98892001, first series), uploaded."""
    found = []
    for _ in range(count):
        series = reidentified(ct_study())
        first = [d for d in series if d.SeriesInstanceUID == series[0].SeriesInstanceUID]
        found.append(server.upload_all(encoded(first))[0]["ParentSeries"])
    return found


def profile(args: argparse.Namespace, server: OrthancServer, cases: list[Case]) -> None:
    """profile.md for the first CT study (the 240-instance one by default)."""
    from bench.profile_plugin import profile_study

    case = next((c for c in cases if not c.study.has_rtstruct), cases[0])
    assert server.process is not None
    text = profile_study(server.url, server.process.pid, case.orthanc_id, case.study)
    (args.output / "profile.md").write_text(text)
    print(text)


if __name__ == "__main__":
    if shutil.which("Orthanc") is None and not Path("/usr/sbin/Orthanc").exists():
        sys.exit("Orthanc is not installed (make deps)")
    sys.exit(main())
