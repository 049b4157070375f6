"""The job queue without Orthanc: priorities, cancellation, final states."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from anon_consistent.adapter.jobs import JobQueue
from anon_consistent.call_locks import Claim, InstanceLocks
from anon_consistent.service import Cancelled
from anon_consistent.store import JobRecord, JobStore, StoreUnavailable, open_database
from tests.orthanc_server import wait_until


def test_higher_priority_runs_first_then_fifo() -> None:
    queue = JobQueue(workers=1)
    gate = threading.Event()
    order: list[str] = []

    def blocker(progress: object, stored: object) -> dict[str, object]:
        gate.wait(10)
        return {}

    def recorder(name: str):
        def body(progress: object, stored: object) -> dict[str, object]:
            order.append(name)
            return {"Name": name}

        return body

    first = queue.submit(blocker, {})
    wait_until(lambda: first.state == "Running", 5, "the blocker to start")
    queue.submit(recorder("low-1"), {}, priority=0)
    queue.submit(recorder("high"), {}, priority=10)
    last = queue.submit(recorder("low-2"), {}, priority=0)
    gate.set()
    wait_until(lambda: last.state == "Success", 5, "every job")
    assert order == ["high", "low-1", "low-2"]
    assert last.as_json()["Content"] == {"Name": "low-2"} and last.as_json()["Progress"] == 100
    queue.stop()


def test_cancel_pending_and_running_jobs() -> None:
    queue = JobQueue(workers=1)
    started = threading.Event()

    def long_job(progress, stored):
        started.set()
        for done in range(1000):
            if not progress(done, 1000):
                raise Cancelled(f"cancelled after {done}")
            threading.Event().wait(0.005)
        return {}

    running = queue.submit(long_job, {})
    pending = queue.submit(long_job, {})
    started.wait(5)
    queue.cancel(pending.id)
    assert pending.state == "Cancelled"
    queue.cancel(running.id)
    wait_until(lambda: running.state == "Cancelled", 5, "the running job to stop")
    assert "cancelled after" in running.error and running.completed is not None
    assert queue.cancel("no-such-job") is None
    queue.stop()


def test_a_job_cancelled_before_storing_anything_says_so_once() -> None:
    queue = JobQueue(workers=1)
    started = threading.Event()

    def waiting_job(progress, stored):
        started.set()
        while progress(0, 3):  # as while waiting for an earlier call's lock
            threading.Event().wait(0.005)
        raise Cancelled("cancelled while waiting for an earlier call on the same instances; nothing stored", True)

    job = queue.submit(waiting_job, {})
    started.wait(5)
    queue.cancel(job.id)
    wait_until(lambda: job.state == "Cancelled", 5, "the job to stop")
    assert job.error == "cancelled while waiting for an earlier call on the same instances; nothing stored"
    queue.stop()


def persistent_queue(path: Path) -> tuple[JobQueue, JobStore]:
    store = JobStore(open_database(path))
    return JobQueue(workers=1, store=store), store


def test_finished_jobs_are_listed_after_a_restart(tmp_path: Path) -> None:
    queue, _ = persistent_queue(tmp_path / "m.sqlite")
    done = queue.submit(lambda progress, stored: {"InstancesCount": 3}, {"Project": "p"}, total=3)
    wait_until(lambda: done.state == "Success", 5, "the job")
    queue.stop()
    again, _ = persistent_queue(tmp_path / "m.sqlite")
    found = again.get(done.id)
    assert found is not None and found.state == "Success"
    assert found.as_json()["Content"] == {"InstancesCount": 3} and found.as_json()["Progress"] == 100
    again.stop()


def test_a_job_cut_short_is_a_failure_that_says_how_far_it_got(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite"
    store = JobStore(open_database(path))
    # What a crash leaves: a Running record whose last stored count was 7 of 20.
    record = JobRecord(
        id="j1",
        state="Running",
        description={"Project": "p"},
        request={"Method": "POST", "Uri": "/anon-consistent/studies/abc", "Body": {"Project": "p"}},
        total=20,
    )
    store.insert(record)
    store.update_progress("j1", 35, 7)
    queue = JobQueue(workers=1, store=JobStore(open_database(path)))
    job = queue.get("j1")
    assert job is not None and job.state == "Failure"
    answer = job.as_json()
    assert answer["InstancesStored"] == 7 and answer["InstancesTotal"] == 20
    assert "Interrupted" in job.error and "7 of 20" in job.error
    assert "POST /anon-consistent/studies/abc" in job.error
    queue.stop()


def test_stopping_orthanc_interrupts_a_running_job_rather_than_cancelling_it(tmp_path: Path) -> None:
    queue, _ = persistent_queue(tmp_path / "m.sqlite")
    started = threading.Event()

    def long_job(progress, stored):
        started.set()
        for done in range(1000):
            if not progress(done, 1000):
                raise Cancelled("stopped")
            stored(done)
            threading.Event().wait(0.005)
        return {}

    job = queue.submit(long_job, {}, request={"Method": "POST", "Uri": "/anon-consistent/series/s"}, total=1000)
    assert started.wait(5)
    wait_until(lambda: job.record.stored > 0, 5, "something stored")
    queue.stop()
    assert job.state == "Failure" and "Interrupted" in job.error
    again, _ = persistent_queue(tmp_path / "m.sqlite")
    reloaded = again.get(job.id)
    assert reloaded is not None and reloaded.state == "Failure" and reloaded.error == job.error
    again.stop()


def test_a_failed_job_reports_and_logs_no_value(caplog: pytest.LogCaptureFixture) -> None:
    queue = JobQueue(workers=1)

    def failing(progress: object, stored: object) -> dict[str, object]:
        raise ValueError("Invalid value for VR UI: '1.2.840.113619.2.55.3.0604688119.01'")

    with caplog.at_level(logging.ERROR, logger="anon_consistent"):
        job = queue.submit(failing, {})
        wait_until(lambda: job.state == "Failure", 5, "the job to fail")
    assert job.as_json()["ErrorDescription"] == "ValueError: Invalid value for VR UI: '…'"
    assert "0604688119" not in caplog.text and "Invalid value for VR UI" in caplog.text
    queue.stop()


def test_a_later_higher_priority_job_on_the_same_instances_lets_the_earlier_one_run_first() -> None:
    """Tickets follow submission; priority must not make a worker wait for a job that no worker can start."""
    locks = InstanceLocks()
    queue = JobQueue(workers=1, locks=locks)
    gate = threading.Event()
    order: list[str] = []

    def blocker(progress: object, stored: object) -> dict[str, object]:
        gate.wait(10)
        return {}

    def recorder(name: str, claim: Claim):
        def body(progress: object, stored: object) -> dict[str, object]:
            with locks.hold("p", {"a"}, claim=claim):  # what Anonymizer.run does with a job's claim
                order.append(name)
            return {}

        return body

    first = queue.submit(blocker, {})
    wait_until(lambda: first.state == "Running", 5, "the worker to be busy")
    low_claim = locks.claim("p", {"a"})
    low = queue.submit(recorder("earlier, low priority", low_claim), {}, priority=0, claim=low_claim)
    high_claim = locks.claim("p", {"a"})
    high = queue.submit(recorder("later, high priority", high_claim), {}, priority=10, claim=high_claim)
    gate.set()
    wait_until(lambda: low.state == "Success" and high.state == "Success", 5, "both jobs")
    assert order == ["earlier, low priority", "later, high priority"]
    assert locks.waiting() == 0
    queue.stop()


def test_a_cancelled_queued_job_leaves_the_line() -> None:
    locks = InstanceLocks()
    queue = JobQueue(workers=1, locks=locks)
    gate = threading.Event()

    def blocker(progress: object, stored: object) -> dict[str, object]:
        gate.wait(10)
        return {}

    busy = queue.submit(blocker, {})
    wait_until(lambda: busy.state == "Running", 5, "the worker to be busy")
    claim = locks.claim("p", {"a"})
    queued = queue.submit(lambda progress, stored: {}, {}, claim=claim)
    queue.cancel(queued.id)
    with locks.hold("p", {"a"}, keep_waiting=lambda: False):  # would raise if the cancelled job still held its place
        pass
    gate.set()
    queue.stop()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_nodes_see_and_cancel_each_others_jobs(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Two queues on one database are two Orthanc nodes: B lists A's job, follows it and cancels it."""
    location = tmp_path / "m.sqlite" if backend == "sqlite" else request.getfixturevalue("new_postgres_database")()
    node_a = JobQueue(workers=1, store=JobStore(open_database(location), node="A"), heartbeat_seconds=0.05)
    node_b = JobQueue(workers=1, store=JobStore(open_database(location), node="B"), heartbeat_seconds=0.05)
    started = threading.Event()

    def long_job(progress, stored):
        started.set()
        for done in range(2000):
            if not progress(done, 2000):
                raise Cancelled(f"cancelled after {done} of 2000 instances")
            stored(done)
            threading.Event().wait(0.005)
        return {}

    job = node_a.submit(long_job, {"Project": "p"}, total=2000)
    started.wait(5)
    wait_until(lambda: (node_b.get(job.id) or job).record.stored > 0, 5, "B to see A's progress")
    seen = node_b.get(job.id)
    assert seen is not None and seen.state == "Running" and seen.as_json()["Node"] == "A"
    assert [j.id for j in node_b.list()] == [job.id]
    answer = node_b.cancel(job.id)
    assert answer is not None and answer.state == "Running"  # asked; A stops at its next heartbeat
    wait_until(lambda: job.state == "Cancelled", 5, "A to cancel the job B asked to stop")
    final = node_b.get(job.id)
    assert final is not None and final.state == "Cancelled" and "instance(s) had been stored" in final.error
    assert node_b.cancel("no-such-job") is None
    node_a.stop()
    node_b.stop()


def test_a_job_the_database_refuses_leaves_no_place_in_line(tmp_path: Path) -> None:
    """The database is away when a job is submitted: the call fails, and later calls on its instances still run."""

    class Away(JobStore):
        def insert(self, record: JobRecord) -> None:
            raise StoreUnavailable("the mapping database is unavailable")

    locks = InstanceLocks()
    queue = JobQueue(workers=1, store=Away(open_database(tmp_path / "m.sqlite")), locks=locks)
    claim = locks.claim("p", ["i1"])
    with pytest.raises(StoreUnavailable):
        queue.submit(lambda progress, stored: {}, {}, claim=claim)
    assert locks.waiting() == 0
    with locks.hold("p", ["i1"]):
        pass  # would wait forever for the refused job
    queue.stop()
