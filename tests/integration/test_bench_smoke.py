"""`make bench` end to end on a few instances: it runs, and its JSON has a ratio for every study.

No timing threshold: this machine's timings are too noisy for one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_smoke_writes_a_ratio_per_study(tmp_path: Path) -> None:
    output = tmp_path / "results"
    command = [sys.executable, str(REPO / "bench" / "run_bench.py"), "--smoke"]
    command += ["--output", str(output), "--work", str(tmp_path / "work")]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    results = json.loads((output / "results.json").read_text())
    cases = results["cases"]
    assert {c["case"] for c in cases} == {"ct4", "ct3_rtstruct"}
    for case in cases:
        assert isinstance(case["ratio"], float) and case["ratio"] > 0, case["case"]
        for method in ("native", "plugin"):
            assert case["median_seconds"][method] > 0
            assert len(case["runs"][method]) == 1
        if "dicognito" in results["config"]["methods"]:
            assert case["median_seconds"]["dicognito"] > 0
            assert case["speedup_vs_dicognito"] > 0
    (concurrent,) = results["concurrent"]  # the smoke run has K=2 only
    assert concurrent["k"] == 2 and concurrent["instances"] == 8 and concurrent["ratio"] > 0
    for method in ("native", "plugin"):
        figures = concurrent["methods"][method]
        assert figures["instances_per_second"] > 0 and figures["cpu_ms_per_instance"] > 0
    cluster = results["cluster"]  # two studies of 4 instances, on one node and on two nodes
    assert cluster["instances"] == 8 and set(cluster["placements"]) == {"one node", "two nodes"}
    for row in cluster["placements"].values():
        assert row["ratio"] > 0 and row["plugin"]["cpu_ms_per_instance"] > 0
    for method in ("native", "plugin"):  # a small call alone and during a large one
        fair = results["fairness"][method]
        assert fair["small_alone_seconds"] > 0 and fair["small_during_seconds"] > 0 and fair["slowdown"] > 0
    markdown = (output / "results.md").read_text()
    assert "## A small call during a large one" in markdown
    assert "## Two Orthanc nodes on one PostgreSQL" in markdown
    assert "ratio plugin/native" in markdown and "## Concurrent calls" in markdown
    assert results["machine"]["orthanc"]
