"""Concurrent synchronous calls never stall Orthanc, whatever HttpThreadsCount is (issue 8, items 1 and 2)."""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from pydicom.uid import generate_uid

from tests.dicom_data import ct_study, encoded
from tests.orthanc_server import OrthancServer, wait_until

# Each call, not the whole test, must stay far below the 120 s a stalled
# loopback transfer used to wait: a stall fails the test instead of hiding.
CALL_TIMEOUT = 30.0


def small_series(count: int) -> list[list[bytes]]:
    """``count`` one-patient series of 2 instances each, every one in its own study."""
    template = ct_study()[0]
    series = []
    for number in range(count):
        study, serie = generate_uid(), generate_uid()
        datasets = []
        for instance in range(2):
            dataset = copy.deepcopy(template)
            dataset.StudyInstanceUID, dataset.SeriesInstanceUID = study, serie
            dataset.SOPInstanceUID = generate_uid()
            dataset.PatientID = f"CONC{number:03d}"
            dataset.InstanceNumber = instance + 1
            datasets.append(dataset)
        series.append(encoded(datasets))
    return series


def upload_series(server: OrthancServer, series: list[list[bytes]]) -> list[str]:
    return [server.upload_all(blobs)[0]["ParentSeries"] for blobs in series]


class SystemProbe:
    """Polls GET /system in the background and records the worst latency."""

    def __init__(self, server: OrthancServer) -> None:
        self._server = server
        self._stop = threading.Event()
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                status = requests.get(self._server.url + "/system", timeout=10, auth=self._server.auth).status_code
                if status != 200:
                    self.failures.append(f"HTTP {status}")
            except requests.RequestException as error:
                self.failures.append(type(error).__name__)
            self.latencies.append(time.monotonic() - started)
            self._stop.wait(0.05)

    def __enter__(self) -> SystemProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def anonymize_all(server: OrthancServer, series_ids: list[str], project: str) -> list[dict[str, Any]]:
    def call(series_id: str) -> dict[str, Any]:
        started = time.monotonic()
        response = requests.post(
            f"{server.url}/anon-consistent/series/{series_id}",
            json={"Project": project},
            timeout=CALL_TIMEOUT,
            auth=server.auth,
        )
        return {"status": response.status_code, "body": response.json(), "seconds": time.monotonic() - started}

    with ThreadPoolExecutor(len(series_ids)) as pool:
        return list(pool.map(call, series_ids))


@pytest.mark.parametrize("threads", [2, 4])
def test_more_calls_than_http_threads_complete_and_orthanc_stays_responsive(tmp_path: Path, threads: int) -> None:
    with OrthancServer(tmp_path / "orthanc", HttpThreadsCount=threads) as server:
        series_ids = upload_series(server, small_series(8))
        started = time.monotonic()
        with SystemProbe(server) as probe:
            results = anonymize_all(server, series_ids, f"threads-{threads}")
        wall = time.monotonic() - started
        print(f"HttpThreadsCount={threads}: 8 calls in {wall:.2f} s, /system worst {max(probe.latencies):.3f} s")
        assert [r["status"] for r in results] == [200] * 8, results
        assert all(r["body"]["InstancesCount"] == 2 for r in results)
        assert probe.failures == []
        assert max(probe.latencies) < 1.0, sorted(probe.latencies)[-5:]
        assert "timed out" not in server.log_tail(400)


def test_many_small_calls_with_default_threads(tmp_path: Path) -> None:
    with OrthancServer(tmp_path / "orthanc") as server:
        series_ids = upload_series(server, small_series(64))
        started = time.monotonic()
        with SystemProbe(server) as probe:
            results = anonymize_all(server, series_ids, "many")
        wall = time.monotonic() - started
        print(f"default threads: 64 calls in {wall:.2f} s, /system worst {max(probe.latencies):.3f} s")
        assert [r["status"] for r in results] == [200] * 64
        anonymized_series = {r["body"]["ID"] for r in results}
        assert len(anonymized_series) == 64 and None not in anonymized_series
        assert wait_until(lambda: len(server.json("/series")) == 128, 10, "every anonymized series")
        assert probe.failures == []


def one_study(count: int) -> list[bytes]:
    template = ct_study()[0]
    study, serie = generate_uid(), generate_uid()
    datasets = []
    for number in range(count):
        dataset = copy.deepcopy(template)
        dataset.StudyInstanceUID, dataset.SeriesInstanceUID = study, serie
        dataset.SOPInstanceUID = generate_uid()
        dataset.InstanceNumber = number + 1
        dataset.StudyDescription = "KEEP-ME-OR-NOT"
        datasets.append(dataset)
    return encoded(datasets)


def test_simultaneous_calls_on_one_study_never_mix_their_options(tmp_path: Path) -> None:
    """Keep StudyDescription in one call, not in the other: the stored study is wholly the later call's."""
    with OrthancServer(tmp_path / "orthanc") as server:
        study_id = server.upload_all(one_study(60))[0]["ParentStudy"]
        bodies = {"keeps": {"Project": "mix", "Keep": ["StudyDescription"]}, "cleans": {"Project": "mix"}}
        finished: list[str] = []
        lock = threading.Lock()
        for round_number in range(3):
            finished.clear()

            def call(name: str) -> dict[str, Any]:
                response = requests.post(
                    f"{server.url}/anon-consistent/studies/{study_id}", json=bodies[name], timeout=CALL_TIMEOUT
                )
                with lock:
                    finished.append(name)
                return dict(response.json())

            with ThreadPoolExecutor(2) as pool:
                answers = list(pool.map(call, ["keeps", "cleans"] if round_number % 2 else ["cleans", "keeps"]))
            assert {a["ID"] for a in answers} == {answers[0]["ID"]}  # one anonymized study
            assert all(a["InstancesCount"] == 60 for a in answers)
            instances = server.json(f"/studies/{answers[0]['ID']}/instances")
            assert len(instances) == 60
            descriptions = {
                str(server.json(f"/instances/{i['ID']}/simplified-tags").get("StudyDescription")) for i in instances
            }
            winner = finished[-1]
            assert len(descriptions) == 1, (round_number, descriptions)
            kept = descriptions == {"KEEP-ME-OR-NOT"}
            assert kept == (winner == "keeps"), (round_number, winner, descriptions)


def test_a_later_call_waits_for_an_earlier_slower_one_and_wins(tmp_path: Path) -> None:
    """A (a job that reads every instance twice: it pins a kept UID) starts first; B, faster, must not overtake it."""
    with OrthancServer(tmp_path / "orthanc") as server:
        study_id = server.upload_all(one_study(150))[0]["ParentStudy"]
        slow = {"Project": "order", "Keep": ["StudyDescription", "FrameOfReferenceUID"], "Asynchronous": True}
        job = server.post(f"/anon-consistent/studies/{study_id}", slow).json()
        wait_until(lambda: server.json(job["Path"])["State"] == "Running", 30, "the first call to start")
        fast = server.post(f"/anon-consistent/studies/{study_id}", {"Project": "order"})
        assert fast.status_code == 200
        assert server.json(job["Path"])["State"] == "Success"  # B waited for A to finish
        instances = server.json(f"/studies/{fast.json()['ID']}/instances")
        descriptions = {server.json(f"/instances/{i['ID']}/simplified-tags").get("StudyDescription") for i in instances}
        assert len(instances) == 150
        assert "KEEP-ME-OR-NOT" not in descriptions  # nothing of A's option set survives: B came later


def test_calls_waiting_for_a_running_job_do_not_starve_its_transfers(tmp_path: Path) -> None:
    """A job holds a loopback lease; then more calls on the same study than HTTP threads arrive and wait for it.

    They hold every HTTP thread while they wait, so the job must move to the
    SDK rather than queue its transfers behind them.
    """
    with OrthancServer(tmp_path / "orthanc", HttpThreadsCount=6) as server:
        study_id = server.upload_all(one_study(100))[0]["ParentStudy"]
        job = server.post(f"/anon-consistent/studies/{study_id}", {"Project": "starve", "Asynchronous": True}).json()
        wait_until(lambda: server.json(job["Path"])["State"] == "Running", 30, "the job to start")
        started = time.monotonic()

        def call(_: int) -> int:
            url = f"{server.url}/anon-consistent/studies/{study_id}"
            return requests.post(url, json={"Project": "starve"}, timeout=2 * CALL_TIMEOUT).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(call, range(8)))
        print(f"8 calls waiting on a job with 6 HTTP threads: {time.monotonic() - started:.2f} s")
        assert statuses == [200] * 8
        assert server.json(job["Path"])["State"] == "Success"
        assert "busy" not in server.log_tail(400)  # no transfer waited for its timeout


def raw_post(port: int, path: str, body: bytes) -> socket.socket:
    """Connect and send at once: a burst that reaches Orthanc's HTTP threads before Python sees any call."""
    sock = socket.create_connection(("127.0.0.1", port))
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    sock.sendall(head.encode() + body)
    return sock


def read_status(sock: socket.socket, timeout: float) -> int:
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    finally:
        sock.close()
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0


@pytest.mark.parametrize("threads", [5, 6, 7])
def test_a_burst_on_one_series_never_waits_for_a_transfer_timeout(tmp_path: Path, threads: int) -> None:
    """As many calls on the same series as HTTP threads, sent in one burst: the later ones hold threads
    while they wait for the first, whose loopback transfer must not queue behind them."""
    with OrthancServer(tmp_path / "orthanc", HttpThreadsCount=threads) as server:
        (series,) = upload_series(server, small_series(1))
        body = json.dumps({"Project": "burst"}).encode()
        started = time.monotonic()
        with SystemProbe(server) as probe:
            sockets = [raw_post(server.port, f"/anon-consistent/series/{series}", body) for _ in range(threads)]
            with ThreadPoolExecutor(threads) as pool:
                statuses = list(pool.map(lambda s: read_status(s, CALL_TIMEOUT), sockets))
        wall = time.monotonic() - started
        print(
            f"burst of {threads} on one series, HttpThreadsCount={threads}: {wall:.2f} s, "
            f"/system worst {max(probe.latencies):.3f} s"
        )
        assert statuses == [200] * threads
        assert wall < 10, wall  # a stall waited 60 s for the transfer timeout
        assert max(probe.latencies) < 2.0, sorted(probe.latencies)[-3:]
        assert "busy" not in server.log_tail(400)


def test_a_queued_job_runs_before_a_later_synchronous_call_on_its_instances(tmp_path: Path) -> None:
    """Arrival order holds for jobs too: a job submitted earlier (queued behind another job) must not
    overwrite the result of a synchronous call that arrived after it."""
    with OrthancServer(tmp_path / "orthanc", plugin_config={"MaxConcurrentJobs": 1}) as server:
        busy = server.upload_all(one_study(150))[0]["ParentStudy"]
        (series,) = upload_series(server, small_series(1))
        first = server.post(f"/anon-consistent/studies/{busy}", {"Project": "other", "Asynchronous": True}).json()
        wait_until(lambda: server.json(first["Path"])["State"] == "Running", 30, "the worker to be busy")
        earlier = {"Project": "order", "Asynchronous": True, "Replace": {"StudyDescription": "EARLIER-JOB"}}
        queued = server.post(f"/anon-consistent/series/{series}", earlier).json()
        assert server.json(queued["Path"])["State"] == "Pending"
        later = server.post(
            f"/anon-consistent/series/{series}", {"Project": "order", "Replace": {"StudyDescription": "LATER-SYNC"}}
        )
        assert later.status_code == 200
        assert server.json(queued["Path"])["State"] == "Success"  # it ran first, the later call waited
        stored = {
            server.json(f"/instances/{i['ID']}/simplified-tags").get("StudyDescription")
            for i in server.json(f"/series/{later.json()['ID']}/instances")
        }
        assert stored == {"LATER-SYNC"}
