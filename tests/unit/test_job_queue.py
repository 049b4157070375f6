"""The job queue without Orthanc: priorities, cancellation, final states."""

from __future__ import annotations

import logging
import threading

import pytest

from anon_consistent.adapter.jobs import JobQueue
from anon_consistent.service import Cancelled
from tests.orthanc_server import wait_until


def test_higher_priority_runs_first_then_fifo() -> None:
    queue = JobQueue(workers=1)
    gate = threading.Event()
    order: list[str] = []

    def blocker(progress: object) -> dict[str, object]:
        gate.wait(10)
        return {}

    def recorder(name: str):
        def body(progress: object) -> dict[str, object]:
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

    def long_job(progress):
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


def test_a_failed_job_reports_and_logs_no_value(caplog: pytest.LogCaptureFixture) -> None:
    queue = JobQueue(workers=1)

    def failing(progress: object) -> dict[str, object]:
        raise ValueError("Invalid value for VR UI: '1.2.840.113619.2.55.3.0604688119.01'")

    with caplog.at_level(logging.ERROR, logger="anon_consistent"):
        job = queue.submit(failing, {})
        wait_until(lambda: job.state == "Failure", 5, "the job to fail")
    assert job.as_json()["ErrorDescription"] == "ValueError: Invalid value for VR UI: '…'"
    assert "0604688119" not in caplog.text and "Invalid value for VR UI" in caplog.text
    queue.stop()
