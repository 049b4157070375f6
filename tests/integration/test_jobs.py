"""Asynchronous anonymization jobs under /anon-consistent/jobs, against a real Orthanc."""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydicom.uid import generate_uid

from tests.dicom_data import ct_study, encoded
from tests.orthanc_server import OrthancServer
from tests.orthanc_server import wait_until as shared_wait_until

TIMEOUT = 60.0
BIG_STUDY_SIZE = 300  # instances: enough for a job to run for a while
BIG_IMAGE_SIDE = 256  # 256x256 16-bit pixels: 128 KiB an instance
FINAL_STATES = ("Success", "Failure", "Cancelled")


def wait_until(condition: Callable[[], Any], timeout: float = TIMEOUT, what: str = "condition") -> Any:
    return shared_wait_until(condition, timeout, what, poll=0.01)


def big_ct_study(count: int = BIG_STUDY_SIZE, side: int = BIG_IMAGE_SIDE) -> list[bytes]:
    """One CT series of ``count`` instances: copies of a ct_study() image with new SOP UIDs and pixels."""
    template = ct_study()[0]
    datasets = []
    for number in range(1, count + 1):
        dataset = copy.deepcopy(template)
        dataset.SOPInstanceUID = generate_uid()
        dataset.InstanceNumber = number
        dataset.Rows = dataset.Columns = side
        dataset.PixelData = os.urandom(side * side * 2)  # BitsAllocated is 16
        datasets.append(dataset)
    return encoded(datasets)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    with OrthancServer(tmp_path_factory.mktemp("jobs")) as orthanc:
        yield orthanc


@pytest.fixture
def orthanc(server: OrthancServer) -> OrthancServer:
    """The module's Orthanc, emptied (the mapping database stays; each test uses its own project)."""
    server.clear()
    return server


@pytest.fixture(scope="module")
def big_study_blobs() -> list[bytes]:
    return big_ct_study()


def job(server: OrthancServer, job_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = server.json(f"/anon-consistent/jobs/{job_id}")
    return answer


def wait_for_end(server: OrthancServer, job_id: str) -> dict[str, Any]:
    return wait_until(
        lambda: (state := job(server, job_id))["State"] in FINAL_STATES and state,
        what=f"job {job_id} to finish",
    )


def submit(server: OrthancServer, study: str, project: str) -> dict[str, Any]:
    response = server.post(f"/anon-consistent/studies/{study}", {"Project": project, "Asynchronous": True})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_async_call_answers_at_once_and_the_job_reaches_success(orthanc: OrthancServer) -> None:
    source = orthanc.upload_all(encoded(ct_study()))[0]["ParentStudy"]

    answer = submit(orthanc, source, "jobs-success")
    assert set(answer) == {"ID", "Path"}
    assert answer["Path"] == f"/anon-consistent/jobs/{answer['ID']}"

    final = wait_for_end(orthanc, answer["ID"])
    assert final["State"] == "Success", final
    assert final["Progress"] == 100
    assert final["ErrorDescription"] == ""
    assert final["ID"] == answer["ID"]
    assert final["CompletionTime"]
    content = final["Content"]
    assert content["InstancesCount"] == 7
    assert content["FailedInstancesCount"] == 0
    assert content["IsAnonymization"] is True
    assert content["Project"] == "jobs-success"
    new_study = content["ID"]
    assert new_study != source
    assert content["Path"] == f"/studies/{new_study}"
    assert len(orthanc.study_instances(new_study)) == 7

    listed = {j["ID"]: j for j in orthanc.json("/anon-consistent/jobs")}
    assert listed[answer["ID"]]["State"] == "Success"
    assert listed[answer["ID"]]["Content"] == content

    # The synchronous answer has the same shape, and the project's mapping
    # sends the same source to the same anonymized study.
    sync = orthanc.post(f"/anon-consistent/studies/{source}", {"Project": "jobs-success"})
    assert sync.status_code == 200, sync.text
    assert set(sync.json()) == set(content)
    assert {k: type(v) for k, v in sync.json().items()} == {k: type(v) for k, v in content.items()}
    assert sync.json()["ID"] == new_study
    assert sorted(orthanc.json("/studies")) == sorted([source, new_study])


def test_unknown_job_is_a_json_404(orthanc: OrthancServer) -> None:
    for response in (
        orthanc.get("/anon-consistent/jobs/no-such-job"),
        orthanc.post("/anon-consistent/jobs/no-such-job/cancel"),
    ):
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("application/json")
        body = response.json()
        assert body["HttpStatus"] == 404
        assert "no-such-job" in body["Message"]


def test_cancel_a_running_job_then_a_rerun_completes_the_same_study(
    orthanc: OrthancServer, big_study_blobs: list[bytes]
) -> None:
    source = orthanc.upload_all(big_study_blobs)[0]["ParentStudy"]
    assert len(orthanc.study_instances(source)) == BIG_STUDY_SIZE

    job_id = submit(orthanc, source, "jobs-cancel")["ID"]
    wait_until(
        lambda: (state := job(orthanc, job_id))["State"] == "Running" and state["Progress"] >= 1,
        what="the job to be running",
    )
    cancel = orthanc.post(f"/anon-consistent/jobs/{job_id}/cancel")
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["ID"] == job_id

    final = wait_for_end(orthanc, job_id)
    assert final["State"] == "Cancelled", final
    assert "cancelled" in final["ErrorDescription"]
    assert final["Progress"] < 100
    assert final["CompletionTime"]

    (partial,) = set(orthanc.json("/studies")) - {source}
    stored = len(orthanc.study_instances(partial))
    assert 0 < stored < BIG_STUDY_SIZE

    # Same call, synchronous: the stable mapping completes the same study.
    rerun = orthanc.post(f"/anon-consistent/studies/{source}", {"Project": "jobs-cancel"})
    assert rerun.status_code == 200, rerun.text
    assert rerun.json()["InstancesCount"] == BIG_STUDY_SIZE
    assert rerun.json()["ID"] == partial
    assert sorted(orthanc.json("/studies")) == sorted([source, partial])
    assert len(orthanc.study_instances(partial)) == BIG_STUDY_SIZE


def test_orthanc_and_job_status_answer_while_a_long_job_runs(
    orthanc: OrthancServer, big_study_blobs: list[bytes]
) -> None:
    source = orthanc.upload_all(big_study_blobs)[0]["ParentStudy"]
    job_id = submit(orthanc, source, "jobs-busy")["ID"]

    samples: list[tuple[float, float]] = []  # (GET /system, GET job) in seconds, while Running
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        started = time.monotonic()
        system = orthanc.get("/system")
        between = time.monotonic()
        status = orthanc.get(f"/anon-consistent/jobs/{job_id}")
        ended = time.monotonic()
        assert system.status_code == 200
        assert system.json()["Version"]
        assert status.status_code == 200
        state = status.json()["State"]
        if state == "Running":
            samples.append((between - started, ended - between))
        elif state != "Pending":
            break
        time.sleep(0.02)

    assert job(orthanc, job_id)["State"] == "Success"
    assert samples, "the job finished before it could be observed running"
    worst_system = max(s for s, _ in samples)
    worst_job = max(j for _, j in samples)
    print(
        f"{len(samples)} samples while running: worst GET /system {worst_system:.3f}s, worst job GET {worst_job:.3f}s"
    )


def test_jobs_survive_a_crash_and_an_interrupted_one_says_so(
    tmp_path_factory: pytest.TempPathFactory, big_study_blobs: list[bytes]
) -> None:
    """kill -9 during a job: after the restart the job is a Failure that counts what was stored and names the call."""
    with OrthancServer(tmp_path_factory.mktemp("crash")) as server:
        source = server.upload_all(big_study_blobs)[0]["ParentStudy"]
        finished = submit(server, source, "crash-done")["ID"]
        assert wait_for_end(server, finished)["State"] == "Success"

        cut = submit(server, source, "crash-cut")["ID"]
        wait_until(lambda: job(server, cut)["InstancesStored"] >= 20, what="the job to store something")
        assert server.process is not None
        server.process.kill()  # SIGKILL: no chance to record anything more
        server.process.wait()
        server.process = None
        server.start()

        listed = {j["ID"]: j for j in server.json("/anon-consistent/jobs")}
        assert listed[finished]["State"] == "Success"
        assert listed[finished]["Content"]["InstancesCount"] == BIG_STUDY_SIZE
        interrupted = listed[cut]
        assert interrupted["State"] == "Failure"
        description = interrupted["ErrorDescription"]
        assert "Interrupted" in description
        assert f"POST /anon-consistent/studies/{source}" in description
        assert interrupted["Request"]["Body"] == {"Project": "crash-cut", "Asynchronous": True}
        # The count is what was recorded, never more than Orthanc holds; the
        # pipeline has at most a few instances in flight beyond it.
        studies = set(server.json("/studies")) - {source, listed[finished]["Content"]["ID"]}
        (partial,) = studies
        really_stored = len(server.study_instances(partial))
        recorded = interrupted["InstancesStored"]
        assert f"{recorded} of {BIG_STUDY_SIZE}" in description
        assert 20 <= recorded <= really_stored <= recorded + 4 and really_stored < BIG_STUDY_SIZE

        rerun = server.post(f"/anon-consistent/studies/{source}", {"Project": "crash-cut"})
        assert rerun.status_code == 200 and rerun.json()["ID"] == partial
        assert len(server.study_instances(partial)) == BIG_STUDY_SIZE


def test_a_large_body_is_not_kept_with_its_job(orthanc: OrthancServer) -> None:
    source = orthanc.upload_all(encoded(ct_study()))[0]["ParentStudy"]
    body = {"Project": "big-body", "Asynchronous": True, "Keep": ["StudyDescription"] * 1500}  # about 28 KB
    answer = orthanc.post(f"/anon-consistent/studies/{source}", body)
    assert answer.status_code == 200, answer.text
    final = wait_for_end(orthanc, answer.json()["ID"])
    assert final["State"] == "Success"
    assert set(final["Request"]["Body"]) == {"NotRecorded"} and "bytes" in final["Request"]["Body"]["NotRecorded"]
