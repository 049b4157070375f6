"""Background jobs for asynchronous anonymization.

Plugin 4.0 offers no way to create native Orthanc jobs, so the plugin keeps
its own queue and worker threads and exposes them under
``/anon-consistent/jobs``. A worker gives the GIL back during every transfer
(loopback HTTP) and between instances, so other REST calls, status polling
included, are served while a job runs.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import describe_unexpected
from ..service import Cancelled, NothingAnonymized

log = logging.getLogger(__name__)

MAX_FINISHED_JOBS = 1000

ProgressCallback = Callable[[int, int], bool]
JobBody = Callable[[ProgressCallback], dict[str, object]]


@dataclass
class Job:
    id: str
    description: dict[str, object]
    body: JobBody | None
    state: str = "Pending"
    progress: int = 0
    content: dict[str, object] = field(default_factory=dict)
    error: str = ""
    created: float = field(default_factory=time.time)
    completed: float | None = None
    cancel_requested: threading.Event = field(default_factory=threading.Event)

    def as_json(self) -> dict[str, object]:
        return {
            "ID": self.id,
            "Path": f"/anon-consistent/jobs/{self.id}",
            "State": self.state,
            "Progress": self.progress,
            "Content": self.content,
            "ErrorDescription": self.error,
            "Description": self.description,
            "CreationTime": _iso(self.created),
            "CompletionTime": _iso(self.completed) if self.completed else None,
        }


class JobQueue:
    def __init__(self, workers: int) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        # (-priority, submission order, job): higher priority first, then FIFO;
        # None entries (stop) sort after every job.
        self._pending: queue.PriorityQueue[tuple[float, int, Job | None]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._threads = [
            threading.Thread(target=self._work, name=f"anon-consistent-worker-{n}", daemon=True) for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, body: JobBody, description: dict[str, object], priority: int = 0) -> Job:
        job = Job(id=str(uuid.uuid4()), description=description, body=body)
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old_jobs()
        self._pending.put((-priority, next(self._order), job))
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def list(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def cancel(self, job_id: str) -> Job | None:
        job = self.get(job_id)
        if job is not None:
            job.cancel_requested.set()
            with self._lock:
                if job.state == "Pending":
                    job.state, job.completed = "Cancelled", time.time()
        return job

    def stop(self, timeout: float = 30.0) -> bool:
        """Cancel everything and wait for the workers (Orthanc is stopping).

        Returns False if a worker is still busy when the overall ``timeout``
        runs out: the caller must then not close what that worker uses.
        """
        for job in self.list():
            self.cancel(job.id)
        for _ in self._threads:
            self._pending.put((float("inf"), next(self._order), None))
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def _work(self) -> None:
        while True:
            _, _, job = self._pending.get()
            if job is None:
                return
            with self._lock:
                if job.state != "Pending":
                    continue
                job.state = "Running"
            self._run(job)

    def _run(self, job: Job) -> None:
        def progress(done: int, total: int) -> bool:
            job.progress = 100 if total == 0 else min(99, done * 100 // total)
            return not job.cancel_requested.is_set()

        content: dict[str, object] = {}
        message = ""
        body = job.body
        assert body is not None, "a job runs once"
        try:
            content = body(progress)
            state = "Success"
        except Cancelled as stop:
            state, message = "Cancelled", str(stop)
        except NothingAnonymized as failure:
            state, message = "Failure", str(failure)
            content = failure.result.as_json(str(job.description.get("Project", "")))
        except Exception as error:  # noqa: BLE001 - a job reports its failure, it never kills the worker
            state, message = "Failure", describe_unexpected(error)
            log.error("anon-consistent: job %s failed: %s", job.id, message)
        # The state goes last: whoever polls and sees a final state also sees
        # its Content, ErrorDescription and CompletionTime.
        job.content, job.error, job.completed = content, message, time.time()
        job.body = None  # a finished job keeps its answer, not its instance list
        if state == "Success":
            job.progress = 100
        job.state = state

    def _forget_old_jobs(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.completed is not None]
        for job_id in finished[: max(0, len(finished) - MAX_FINISHED_JOBS)]:
            del self._jobs[job_id]


def _iso(timestamp: float) -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(timestamp))
