"""Background jobs for asynchronous anonymization.

Plugin 4.0 offers no way to create native Orthanc jobs, so the plugin keeps
its own queue and worker threads and exposes them under
``/anon-consistent/jobs``. A worker gives the GIL back during every transfer
(loopback HTTP) and between instances, so other REST calls, status polling
included, are served while a job runs.

Every job is recorded in the mapping database (``JobStore``): finished jobs
are listed after a restart, and a job that Orthanc's stop or crash cut short
says so, with how many instances it had stored. With several Orthanc nodes on
one PostgreSQL database, every node lists and answers every node's jobs from
that record, and a cancel reaches the running node through it (the runner
reads cancel requests with its heartbeat, every ``HEARTBEAT_SECONDS``).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import uuid
from collections import OrderedDict

from ..call_locks import Claim, InstanceLocks
from ..errors import describe_unexpected
from ..service import Cancelled, NothingAnonymized
from ..store import JobRecord, JobStore, StoreUnavailable, interruption_message
from .job import Job, JobBody

log = logging.getLogger(__name__)

MAX_FINISHED_JOBS = 1000
HEARTBEAT_SECONDS = 1.0


class JobQueue:
    def __init__(
        self,
        workers: int,
        store: JobStore | None = None,
        locks: InstanceLocks | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        # This process's jobs; the store has everyone's, finished ones included.
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._locks = locks
        self._by_claim: dict[int, Job] = {}  # claim ticket -> its queued job
        self._lock = threading.Lock()
        self._store = store
        self._stopping = threading.Event()
        if store is not None:
            interrupted = store.interrupt_unfinished()
            if interrupted:
                log.warning(
                    "anon-consistent: %d job(s) were interrupted by the stop of their Orthanc", len(interrupted)
                )
            beat = threading.Thread(
                target=self._beat, args=(store, heartbeat_seconds), name="anon-consistent-heartbeat", daemon=True
            )
            beat.start()
        # (-priority, submission order, job): higher priority first, then FIFO;
        # None entries (stop) sort after every job.
        self._pending: queue.PriorityQueue[tuple[float, int, Job | None]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._threads = [
            threading.Thread(target=self._work, name=f"anon-consistent-worker-{n}", daemon=True) for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(
        self,
        body: JobBody,
        description: dict[str, object],
        priority: int = 0,
        request: dict[str, object] | None = None,
        total: int = 0,
        claim: Claim | None = None,
    ) -> Job:
        record = JobRecord(
            id=str(uuid.uuid4()), state="Pending", description=description, request=request or {}, total=total
        )
        job = Job(record=record, body=body, claim=claim, queue_key=(-priority, next(self._order)))
        if self._store is not None:
            try:
                self._store.insert(record)
            except BaseException:
                # Not submitted: its place in line must not block the calls behind it.
                if claim is not None and self._locks is not None:
                    self._locks.release(claim)
                raise
        with self._lock:
            self._jobs[job.id] = job
            if claim is not None:
                self._by_claim[claim.ticket] = job
            self._forget_old_jobs()
        self._pending.put((*job.queue_key, job))
        return job

    def get(self, job_id: str) -> Job | None:
        """A job of this Orthanc or, from the database, of another node."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None or self._store is None:
            return job
        record = self._store.get(job_id)
        return None if record is None else Job(record=record, body=None)

    def list(self) -> list[Job]:
        """The newest jobs of every node, oldest first; this Orthanc's with their live state."""
        with self._lock:
            local = dict(self._jobs)
        if self._store is None:
            return list(local.values())
        listed = [local.pop(r.id, Job(record=r, body=None)) for r in self._store.recent(MAX_FINISHED_JOBS)]
        # A job submitted while the database was read is listed too.
        return sorted(listed + list(local.values()), key=lambda job: job.record.created)

    def cancel(self, job_id: str, by_user: bool = True) -> Job | None:
        """Cancel a job; one that another node runs is asked to stop through the database."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            return self._cancel_elsewhere(job_id)
        with self._lock:
            if job.record.completed is not None:
                return job  # finished: nothing to cancel
            job.cancelled_by_user = job.cancelled_by_user or by_user
            job.cancel_requested.set()
            if job.record.state == "Pending":
                if by_user:
                    self._finish(job, "Cancelled", "cancelled before it started")
                else:
                    self._finish(job, "Failure", interruption_message(job.record))
        return job

    def _cancel_elsewhere(self, job_id: str) -> Job | None:
        if self._store is None:
            return None
        record = self._store.get(job_id)  # a job whose node is gone comes back interrupted
        if record is None:
            return None
        if record.completed is None:
            self._store.request_cancel(job_id)
        return Job(record=record, body=None)

    def _beat(self, store: JobStore, every: float) -> None:
        """Keep this Orthanc's jobs alive for the other nodes, and take the cancels they ask."""
        failing = False
        while not self._stopping.wait(every):
            with self._lock:
                busy = any(job.record.completed is None for job in self._jobs.values())
            if not busy:
                continue
            try:
                for job_id in store.beat():
                    self.cancel(job_id)
            except Exception as error:  # noqa: BLE001 - the database may be away for a moment: beat again later
                if not failing:  # once per outage, not every second
                    log.warning("anon-consistent: cannot record the jobs' heartbeat: %s", describe_unexpected(error))
                failing = True
            else:
                if failing:
                    log.warning("anon-consistent: the jobs' heartbeat is recorded again")
                failing = False

    def stop(self, timeout: float = 30.0) -> bool:
        """Interrupt everything and wait for the workers (Orthanc is stopping).

        Returns False if a worker is still busy when the overall ``timeout``
        runs out: the caller must then not close what that worker uses.
        """
        self._stopping.set()
        with self._lock:
            local = list(self._jobs)
        for job_id in local:
            self.cancel(job_id, by_user=False)
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
                if job.record.state != "Pending":
                    continue
                job = self._first_in_line(job)
                job.record.state = "Running"
            self._save_state(job)
            self._run(job)

    def _first_in_line(self, job: Job) -> Job:
        """``job``, or the earlier queued job it would wait for (lock held).

        A job waits for every earlier call on its instances. If the earlier
        one is a job still queued (lower priority, say), running ``job`` now
        would hold this worker while the other one may find none: the
        earlier job runs first, and ``job`` goes back in the queue.
        """
        chosen = job
        while self._locks is not None and chosen.claim is not None:
            blocker = self._locks.earliest_unstarted_blocker(chosen.claim)
            earlier = self._by_claim.get(blocker.ticket) if blocker is not None else None
            if earlier is None or earlier.record.state != "Pending":
                break
            chosen = earlier
        if chosen is not job:
            self._pending.put((*job.queue_key, job))
        return chosen

    def _release_claim(self, job: Job) -> None:
        """A job that ends, run or not, leaves the line (the service releases it after a run too)."""
        if job.claim is not None:
            self._by_claim.pop(job.claim.ticket, None)
            if self._locks is not None:
                self._locks.release(job.claim)

    def _run(self, job: Job) -> None:
        record = job.record

        def progress(done: int, total: int) -> bool:
            record.progress = 100 if total == 0 else min(99, done * 100 // total)
            return not job.cancel_requested.is_set()

        def stored(count: int) -> None:
            record.stored = count
            if self._store is not None:
                try:
                    self._store.update_progress(record.id, record.progress, count)
                except StoreUnavailable:
                    pass  # progress is for the other nodes: the instance is stored, the heartbeat logs the outage

        content: dict[str, object] = {}
        body = job.body
        assert body is not None, "a job runs once"
        try:
            content = body(progress, stored)
            state, message = "Success", ""
        except Cancelled as stop:
            if job.cancelled_by_user:
                stored_so_far = "" if stop.nothing_stored else f"; {record.stored} instance(s) had been stored"
                state, message = "Cancelled", f"{stop}{stored_so_far}"
            else:
                state, message = "Failure", interruption_message(record)
        except NothingAnonymized as failure:
            state, message = "Failure", str(failure)
            content = failure.result.as_json(str(record.description.get("Project", "")))
        except Exception as error:  # noqa: BLE001 - a job reports its failure, it never kills the worker
            state, message = "Failure", describe_unexpected(error)
            log.error("anon-consistent: job %s failed: %s", record.id, message)
        job.body = None  # a finished job keeps its answer, not its instance list
        record.content = content
        if state == "Success":
            record.progress = 100
        with self._lock:
            self._finish(job, state, message)

    def _finish(self, job: Job, state: str, message: str) -> None:
        """Called with the lock held. The state goes last: whoever polls and sees a
        final state also sees its Content, ErrorDescription and CompletionTime."""
        record = job.record
        record.error, record.completed = message, time.time()
        record.state = state
        self._release_claim(job)
        self._save_state(job)

    def _save_state(self, job: Job) -> None:
        if self._store is None:
            return
        try:
            self._store.update_state(job.record)
        except Exception as error:  # noqa: BLE001 - the database may be closing with Orthanc
            log.error("anon-consistent: job %s: cannot record its state: %s", job.id, error)

    def _forget_old_jobs(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.completed is not None]
        excess = finished[: max(0, len(finished) - MAX_FINISHED_JOBS)]
        for job_id in excess:
            del self._jobs[job_id]
        if excess and self._store is not None:
            self._store.forget_older_than(MAX_FINISHED_JOBS)
