"""A small call while a large one runs: does it finish in about its own time? (issue 11, item 3)

A one-series call of a few instances is timed alone, then started while a
whole study is being anonymized, on native and on the plugin. Reported: the
median time of the small call alone and during the large one, and their
ratio (1.0: the large call costs the small one nothing). Each small call uses
a fresh series, so no call is an identical re-run.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import requests

from bench.concurrent import METHODS, _call, _f
from tests.orthanc_server import OrthancServer

# How long the large call runs before the small one starts.
HEAD_START_SECONDS = 0.3


def _small(server: OrthancServer, method: str, series_id: str, label: str) -> float:
    if method == "native":
        url, body = f"/series/{series_id}/anonymize", '{"Synchronous": true}'
    else:
        url, body = f"/anon-consistent/series/{series_id}", f'{{"Project": "{label}"}}'
    started = time.perf_counter()
    response = requests.post(server.url + url, data=body, timeout=600)
    seconds = time.perf_counter() - started
    response.raise_for_status()
    requests.delete(f"{server.url}/series/{response.json()['ID']}", timeout=600)
    return seconds


def _timed(seconds: list[float], function: Any, *arguments: Any) -> None:
    started = time.perf_counter()
    function(*arguments)
    seconds.append(time.perf_counter() - started)


def run_fairness(server: OrthancServer, big_study: str, small_series: list[str], repeats: int) -> dict[str, Any]:
    """``small_series`` needs 2 x ``repeats`` series per method (alone, then during)."""
    results: dict[str, Any] = {}
    series = iter(small_series)
    for method in METHODS:
        alone = [_small(server, method, next(series), f"fair-alone-{method}-{n}") for n in range(repeats)]
        during: list[float] = []
        big: list[float] = []
        for n in range(repeats):
            produced: list[str] = []
            thread = threading.Thread(
                target=_timed, args=(big, _call, server, method, big_study, f"fair-big-{method}-{n}", produced)
            )
            thread.start()
            time.sleep(HEAD_START_SECONDS)
            during.append(_small(server, method, next(series), f"fair-during-{method}-{n}"))
            thread.join()
            for study_id in produced:
                requests.delete(f"{server.url}/studies/{study_id}", timeout=600)
        alone_median, during_median = statistics.median(alone), statistics.median(during)
        results[method] = {
            "small_alone_seconds": alone_median,
            "small_during_seconds": during_median,
            "slowdown": during_median / alone_median,
            "big_seconds": statistics.median(big),
        }
        print(
            f"fairness {method:>6}: small call alone {alone_median:.3f}s, during a large call {during_median:.3f}s "
            f"(x{during_median / alone_median:.1f}; the large call took {statistics.median(big):.2f}s)",
            flush=True,
        )
    return results


def markdown_table(results: dict[str, Any]) -> str:
    lines = [
        "| method | small call alone s | during a large call s | **slowdown** | large call s |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for method, row in results.items():
        lines.append(
            f"| {method} | {_f(row['small_alone_seconds'], 3)} | {_f(row['small_during_seconds'], 3)} "
            f"| **{_f(row['slowdown'], 1)}** | {_f(row['big_seconds'])} |"
        )
    return "\n".join(lines) + "\n"
