"""Where the plugin's time goes, measured in the running Orthanc and offline.

1. py-spy attached to Orthanc while the plugin anonymizes a study (a new
   project each call, output deleted, so each call does a first
   anonymization's full work). Three recordings, one call each:

   - ``gil``: only the thread holding the GIL is sampled (``--idle`` keeps a
     holder blocked in the kernel). orthanc-python 4.0 holds the GIL for most
     of an SDK call (GetDicomForInstance, RestApiPost), so the GIL holder is
     most of the call's critical path whatever threads the plugin uses; the
     expected samples missing are the rest of the wall clock (Orthanc working
     without the GIL, e.g. for a loopback HTTP store, and waits).
   - ``threads``: every thread of the plugin, idle included, queue/join waits
     left out: thread time per step (a step waiting for the GIL counts there).
   - ``native``: C++ frames too, to split what Orthanc does inside the
     gateway's SDK calls (DCMTK parse, file write, fdatasync, SQLite index).
     py-spy stops Orthanc at each sample, which slows the call: only the
     shares mean something.

   Each sample goes to the first bucket of ``BUCKETS`` that one of its frames
   matches (most specific first).
2. Offline: the engine's own ``rewrite_instance`` on the same files with the
   functions it calls wrapped in timers (parse, walk, mapping store,
   serialize, ...), and Orthanc's store timed by posting the output over HTTP.

Run alone against the generated 240-instance study:

    .venv/bin/python bench/profile_plugin.py [--size 240] [--output bench/results]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path[:0] = [str(REPO), str(REPO / "plugin")]

import requests  # noqa: E402

from bench.concurrent import upload  # noqa: E402
from bench.generate import GeneratedStudy, generate_study  # noqa: E402

# (bucket, substrings of a py-spy frame); the first bucket with a matching frame wins.
BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("Orthanc read (gateway.read_instance)", ("Gateway.read_instance",)),
    ("Orthanc store (gateway.store_instance)", ("Gateway.store_instance",)),
    ("mapping store (SQLite get_or_create)", ("MappingStore.get_or_create", "MappingSession.patient")),
    ("serialize (pydicom save_as / plugin encoder)", ("Dataset.save_as", "dcmwrite ", "anon_consistent/encoder.py")),
    ("pydicom parse (dcmread)", ("dcmread ",)),
    ("walk (plan + handlers)", ("walk (anon_consistent/handlers.py",)),
    ("rest of rewrite_instance (identity, marks, file meta)", ("rewrite_instance ",)),
]
OTHER = "other plugin code (listing, loop, JSON)"
NO_GIL = "no Python thread holds the GIL (Orthanc working without it, waits)"
WAITS = (
    "Condition.wait",
    "Queue.get",
    "Queue.put",
    "Thread.join",
    "Event.wait",
    "_wait_for_tstate_lock",
    "SocketIO.readinto",
)
PLUGIN_FRAME = "anon_consistent/"
# py-spy --native: the C++ frames below the gateway's SDK calls, by kind of work.
# (py-spy samples only threads that run Python: Orthanc's own worker and HTTP
# threads, hence a store over loopback HTTP or a native /anonymize, are not seen.)
GATEWAY_CALLS = {"read": "Gateway.read_instance", "store": "Gateway.store_instance"}
NATIVE_KINDS: list[tuple[str, tuple[str, ...]]] = [
    ("Orthanc index (SQLite, its own fsyncs included)", ("sqlite3",)),
    ("fdatasync of the stored file", ("fdatasync", "fsync")),
    ("file create/write", ("file_descriptor::write", "ostream::write", "open64", "mkdir", "create_director")),
    ("file read", ("file_descriptor::read", "ReadFile", "pread", "istream::read")),
    ("DCMTK parse", ("DcmFileFormat::read", "DcmItem::", "DcmElement::", "DcmInputStream", "DcmMetaInfo::read")),
    ("DCMTK other", ("Dcm",)),
    ("JSON, strings, copies", ("Json::", "sprintf", "num_put", "to_utf", "memcpy", "memmove")),
]
NATIVE_OTHER = "other (unresolved Orthanc frames)"
# Frames of a thread that waits rather than works (native leaves are often unresolved libc addresses).
NATIVE_IDLE = ("pthread_cond", "PyThread_acquire_lock", "usleep", "nanosleep", "epoll_wait", "poll (", "recv")
MODES = {
    "gil": ["--gil", "--idle", "--nonblocking"],
    "threads": ["--idle", "--nonblocking"],
    "native": ["--idle", "--native"],
}


def _py_spy() -> str | None:
    found = Path(sys.executable).with_name("py-spy")
    return str(found) if found.exists() else shutil.which("py-spy")


@dataclass
class SpyProfile:
    mode: str
    rate: int
    samples: Counter[str] = field(default_factory=Counter)
    top_leaves: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    error: str | None = None
    lagging: bool = False  # py-spy said it fell behind its sampling rate

    @property
    def total(self) -> int:
        return sum(self.samples.values())

    def shares(self) -> dict[str, float]:
        samples = Counter(self.samples)
        if self.mode == "gil":
            # Expected samples over the call minus those with a GIL holder.
            samples[NO_GIL] = max(0, round(self.seconds * self.rate) - self.total)
        total = sum(samples.values()) or 1
        names = [name for name, _ in BUCKETS] + [OTHER] + ([NO_GIL] if self.mode == "gil" else [])
        return {name: 100.0 * samples.get(name, 0) / total for name in names}

    def kind_shares(self, call: str) -> dict[str, float]:
        """Shares of the native work inside one gateway call ("read" or "store")."""
        names = [name for name, _ in NATIVE_KINDS] + [NATIVE_OTHER]
        counts = {name: self.kinds.get(f"{call}: {name}", 0) for name in names}
        total = sum(counts.values()) or 1
        return {name: 100.0 * n / total for name, n in counts.items()}

    def call_samples(self, call: str) -> int:
        return sum(n for key, n in self.kinds.items() if key.startswith(f"{call}: "))


def classify(stack: str, buckets: list[tuple[str, tuple[str, ...]]] = BUCKETS, other: str = OTHER) -> str:
    for name, needles in buckets:
        if any(needle in stack for needle in needles):
            return name
    return other


def parse_raw(text: str, profile: SpyProfile) -> None:
    """py-spy ``--format raw``: one collapsed stack per line, then a count.

    Only stacks with a frame of the plugin count; threads blocked on a queue
    or a join (the pipeline's hand-offs, idle job workers) are left out.
    """
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        if PLUGIN_FRAME not in stack:
            continue
        if profile.mode == "native":
            for call, needle in GATEWAY_CALLS.items():
                inside = [i for i, frame in enumerate(frames) if needle in frame]
                below = frames[inside[-1] + 1 :] if inside else []
                # Only C++ called straight from the gateway (an SDK call), not Python below it (a socket).
                sdk_call = below and not any(".py:" in frame for frame in below)
                if sdk_call and not any(idle in frame for frame in below[-4:] for idle in NATIVE_IDLE):
                    profile.kinds[f"{call}: " + classify(";" + ";".join(below), NATIVE_KINDS, NATIVE_OTHER)] += int(
                        count
                    )
            continue
        python_frames = [f for f in frames if ".py:" in f]
        if python_frames and any(wait in python_frames[-1] for wait in WAITS):
            continue
        profile.samples[classify(stack)] += int(count)
        profile.top_leaves[python_frames[-1] if python_frames else frames[-1]] += int(count)


def profile_in_orthanc(pid: int, call: Callable[[], Any], mode: str = "gil", rate: int = 250) -> SpyProfile:
    """Sample Orthanc with py-spy in ``mode`` (see MODES) while ``call()`` runs; needs ptrace rights."""
    profile = SpyProfile(mode=mode, rate=rate)
    spy = _py_spy()
    if spy is None:
        profile.error = "py-spy is not installed (pip install -r requirements-bench.txt)"
        return profile
    with tempfile.TemporaryDirectory(prefix="anon-bench-spy-") as tmp:
        out = Path(tmp) / "raw.txt"
        command = [spy, "record", "--pid", str(pid), "--rate", str(rate), *MODES[mode]]
        command += ["--format", "raw", "--output", str(out)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        time.sleep(1.5)  # py-spy attaches
        if process.poll() is not None:
            profile.error = "py-spy could not attach: " + process.communicate()[0].decode(errors="replace")[-500:]
            return profile
        start = time.perf_counter()
        try:
            call()
        finally:
            profile.seconds = time.perf_counter() - start
            process.send_signal(signal.SIGINT)  # py-spy writes its output and exits
            log = process.communicate(timeout=120)[0].decode(errors="replace")
        if not out.exists():
            profile.error = "py-spy wrote nothing: " + log[-500:]
            return profile
        profile.lagging = "behind in sampling" in log
        parse_raw(out.read_text(), profile)
    return profile


# --- offline ---------------------------------------------------------------------------------------------------


@dataclass
class OfflineBreakdown:
    instances: int = 0
    seconds: dict[str, list[float]] = field(default_factory=dict)

    def add(self, step: str, seconds: float) -> None:
        self.seconds.setdefault(step, []).append(seconds)

    def total_ms(self, step: str) -> float:
        return 1000.0 * sum(self.seconds.get(step, []))

    def per_instance_ms(self, step: str) -> float:
        values = self.seconds.get(step, [])
        return 1000.0 * statistics.fmean(values) if values else 0.0


OFFLINE_STEPS = [
    "read file (stands for GetDicomForInstance)",
    "pydicom parse (dcmread)",
    "walk (plan + handlers), mapping excluded",
    "mapping store (SQLite get_or_create)",
    "identity, marks, file meta",
    "serialize (plugin encoder / pydicom save_as)",
    "rest of rewrite_instance",
    "Orthanc store (HTTP POST /instances)",
]
REWRITE_TOTAL = "rewrite_instance (whole)"


class _Timers:
    """Wraps callables so that the time of their outermost call is added to a step."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._depth: dict[str, int] = {}

    def wrap(self, step: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = self._depth.get(step, 0)
            self._depth[step] = depth + 1
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self._depth[step] = depth
                if depth == 0:
                    self.spent[step] = self.spent.get(step, 0.0) + time.perf_counter() - start

        return timed


def offline_breakdown(study: GeneratedStudy, orthanc_url: str | None = None) -> OfflineBreakdown:
    """Time each step of the engine's own ``rewrite_instance`` on ``study``'s files.

    The steps are found by wrapping the functions ``rewrite_instance`` calls
    (module globals of ``anon_consistent.rewriter``, ``Dataset.save_as`` and
    ``MappingStore.get_or_create``), so the measure follows the plugin's code
    as it is; a step whose function no longer exists reads 0.
    """
    from pydicom.dataset import Dataset

    from anon_consistent import rewriter
    from anon_consistent.options import AnonymizationOptions
    from anon_consistent.plan import ElementPlan
    from anon_consistent.profile import load_basic_profile
    from anon_consistent.pseudonyms import RandomPatientKeys
    from anon_consistent.session import MappingSession
    from anon_consistent.store import MappingStore
    from anon_consistent.uids import RandomUidFactory

    parse, walk, mapping, finish, serialize = OFFLINE_STEPS[1:6]
    patches: list[tuple[Any, str, str]] = [
        (rewriter, "dcmread", parse),
        (rewriter, "walk", walk),
        (rewriter, "set_patient_identity", finish),
        (rewriter, "mark_deidentified", finish),
        (rewriter, "sync_file_meta", finish),
        (rewriter, "encode", serialize),  # the plugin's own encoder, where it has one
        (Dataset, "save_as", serialize),
        (MappingStore, "get_or_create", mapping),
    ]
    timers = _Timers()
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in patches if name in owner.__dict__]
    result = OfflineBreakdown(instances=study.instance_count)
    stored: list[str] = []
    http = requests.Session()
    try:
        for owner, name, step in patches:
            if name in owner.__dict__:
                setattr(owner, name, timers.wrap(step, owner.__dict__[name]))
        with tempfile.TemporaryDirectory(prefix="anon-bench-offline-") as tmp:
            store = MappingStore.open(Path(tmp) / "mapping.sqlite")
            options = AnonymizationOptions(project="offline")
            plan = ElementPlan(load_basic_profile(), options)
            session = MappingSession(store, options.project, RandomUidFactory(), RandomPatientKeys())
            for path in study.files:
                start = time.perf_counter()
                data = path.read_bytes()
                result.add(OFFLINE_STEPS[0], time.perf_counter() - start)
                timers.spent.clear()
                # The mapping store is also called inside walk: count it once, as mapping.
                mapping_in_walk = [0.0]
                inner_walk = rewriter.walk

                def walk_excluding_mapping(
                    *args: Any, _inner: Any = inner_walk, _acc: list[float] = mapping_in_walk, **kwargs: Any
                ) -> Any:
                    before = timers.spent.get(mapping, 0.0)
                    try:
                        return _inner(*args, **kwargs)
                    finally:
                        _acc[0] += timers.spent.get(mapping, 0.0) - before

                rewriter.walk = walk_excluding_mapping
                start = time.perf_counter()
                rewritten = rewriter.rewrite_instance(data, plan, session)
                whole = time.perf_counter() - start
                rewriter.walk = inner_walk
                spent = dict(timers.spent)
                spent[walk] = spent.get(walk, 0.0) - mapping_in_walk[0]
                for step in (parse, walk, mapping, finish, serialize):
                    result.add(step, spent.get(step, 0.0))
                result.add(
                    OFFLINE_STEPS[6], whole - sum(spent.get(s, 0.0) for s in (parse, walk, mapping, finish, serialize))
                )
                result.add(REWRITE_TOTAL, whole)
                if orthanc_url is not None:
                    start = time.perf_counter()
                    response = http.post(orthanc_url + "/instances", data=rewritten, timeout=600)
                    response.raise_for_status()
                    result.add(OFFLINE_STEPS[7], time.perf_counter() - start)
                    stored.append(response.json()["ParentStudy"])
            store.close()
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
    for study_id in set(stored):
        http.delete(f"{orthanc_url}/studies/{study_id}", timeout=600)
    return result


# --- report ----------------------------------------------------------------------------------------------------


def _spy_section(title: str, spy: SpyProfile, instances: int, explanation: str) -> list[str]:
    lines = [f"## {title}", ""]
    if spy.error:
        return [*lines, f"py-spy failed: {spy.error}", ""]
    per_instance = 1000.0 * spy.seconds / max(instances, 1)
    lines += [
        f"One call of {spy.seconds:.2f} s ({per_instance:.1f} ms/instance), {spy.total} samples at {spy.rate} Hz "
        f"(`py-spy record {' '.join(MODES[spy.mode])}`). {explanation}"
        + (" **py-spy fell behind its sampling rate: shares are rough.**" if spy.lagging else ""),
        "",
        "| step | share | ms/instance |",
        "| --- | ---: | ---: |",
    ]
    for name, share in spy.shares().items():
        lines.append(f"| {name} | {share:.1f} % | {share / 100 * per_instance:.2f} |")
    lines += ["", "Hottest Python lines (a C++ call such as RestApiPost shows as its Python caller):", ""]
    total = spy.total or 1
    lines += [f"- {100.0 * n / total:.1f} % `{leaf}`" for leaf, n in spy.top_leaves.most_common(8)]
    return [*lines, ""]


def profile_markdown(
    study: GeneratedStudy,
    gil: SpyProfile | None,
    offline: OfflineBreakdown | None,
    threads: SpyProfile | None = None,
    native: SpyProfile | None = None,
) -> str:
    lines = [f"# Where the plugin's time goes: {study.case} ({study.instance_count} instances)", ""]
    lines += [
        "Generated by bench/profile_plugin.py (also run by `make bench`). Each recording is a separate "
        "`POST /anon-consistent/studies/{id}` with a new project; timings vary between calls and with load.",
        "",
    ]
    if gil is not None:
        lines += _spy_section(
            "Wall clock of the real call (py-spy --gil)",
            gil,
            study.instance_count,
            "Only the thread holding the GIL is sampled, even when blocked in the kernel. orthanc-python 4.0 "
            "holds the GIL for most of an SDK call (RestApiPost, GetDicomForInstance), so with the SDK gateway "
            "these rows are the critical path; the last row is the rest of the wall clock, when no Python thread "
            "holds it: Orthanc working on its own threads (a loopback HTTP store) or with the GIL released, and waits.",
        )
    if threads is not None:
        lines += _spy_section(
            "Thread time, every plugin thread (py-spy --idle)",
            threads,
            study.instance_count,
            "Summed over threads, waits on queues and joins left out; a step that waits for the GIL is counted "
            "where it waits, so with several threads this overstates contended steps.",
        )
    if native is not None:
        lines += ["## Inside Orthanc's read and store (py-spy --native)", ""]
        if native.error:
            lines += [f"py-spy failed: {native.error}", ""]
        elif not native.kinds:
            lines += [
                "No native sample inside an SDK call of the gateway: this plugin version reads and stores over "
                "loopback HTTP, so Orthanc does that work on its own HTTP threads, which py-spy cannot see "
                "(it samples only threads that run Python). Run with `--plugin-config '{\"LoopbackHttp\": false}'` "
                "to see the SDK path.",
                "",
            ]
        else:
            lines += [
                f"C++ frames below the gateway's calls, busy samples only. py-spy stops Orthanc at each native "
                f"sample (this call took {native.seconds:.2f} s): compare shares, not times. Samples: "
                + ", ".join(f"{call} {native.call_samples(call)}" for call in GATEWAY_CALLS)
                + ".",
                "",
                "| kind of work | " + " | ".join(f"inside {call}" for call in GATEWAY_CALLS) + " |",
                "| --- |" + " ---: |" * len(GATEWAY_CALLS),
            ]
            shares = {call: native.kind_shares(call) for call in GATEWAY_CALLS}
            for kind in [k for k, _ in NATIVE_KINDS] + [NATIVE_OTHER]:
                lines.append(f"| {kind} | " + " | ".join(f"{shares[c][kind]:.1f} %" for c in GATEWAY_CALLS) + " |")
            lines.append("")
    if offline is not None:
        lines += [
            "## Offline (the engine's rewrite_instance, steps timed, same files)",
            "",
            "Orthanc store here is an HTTP POST of the rewritten bytes (HTTP overhead included); the file read "
            "stands for GetDicomForInstance.",
            "",
            "| step | share | ms/instance |",
            "| --- | ---: | ---: |",
        ]
        steps = [s for s in OFFLINE_STEPS if s in offline.seconds]
        total_ms = sum(offline.total_ms(s) for s in steps) or 1.0
        for step in steps:
            share = 100.0 * offline.total_ms(step) / total_ms
            lines.append(f"| {step} | {share:.1f} % | {offline.per_instance_ms(step):.2f} |")
        lines += ["", f"`rewrite_instance` as a whole: {offline.per_instance_ms(REWRITE_TOTAL):.2f} ms/instance.", ""]
    return "\n".join(lines) + "\n"


def profile_study(url: str, pid: int, study_id: str, study: GeneratedStudy) -> str:
    """The three py-spy recordings of the plugin route on ``study_id`` and the offline breakdown, as markdown.

    Each call uses a new project and its output is deleted afterwards, so both do
    the full work of a first anonymization. The server needs AllowMappingExport.
    """
    http = requests.Session()

    def call_with(project: str) -> Callable[[], None]:
        def call() -> None:
            response = http.post(f"{url}/anon-consistent/studies/{study_id}", data=f'{{"Project": "{project}"}}')
            response.raise_for_status()
            http.delete(f"{url}/studies/{response.json()['ID']}").raise_for_status()
            http.delete(f"{url}/anon-consistent/projects/{project}").raise_for_status()

        return call

    gil = profile_in_orthanc(pid, call_with("profile-gil"), "gil", rate=100)
    threads = profile_in_orthanc(pid, call_with("profile-threads"), "threads")
    native = profile_in_orthanc(pid, call_with("profile-native"), "native", rate=100)
    offline = offline_breakdown(study, url)
    return profile_markdown(study, gil, offline, threads, native)


def main() -> None:
    from tests.orthanc_server import OrthancServer

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=240)
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "work")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    study = generate_study(args.work, args.size)
    with tempfile.TemporaryDirectory(prefix="anon-bench-orthanc-") as tmp:
        server = OrthancServer(Path(tmp), plugin_config={"AllowMappingExport": True}).start()
        try:
            study_id = upload(server, study)
            assert server.process is not None
            text = profile_study(server.url, server.process.pid, study_id, study)
        finally:
            server.stop()
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "profile.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
