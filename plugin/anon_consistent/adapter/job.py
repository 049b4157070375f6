"""One job as this Orthanc holds it: its record (shared with the other nodes) and, while it runs here, its body."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..call_locks import Claim
from ..store import JobRecord

ProgressCallback = Callable[[int, int], bool]
StoredCallback = Callable[[int], None]
JobBody = Callable[[ProgressCallback, StoredCallback], dict[str, object]]


@dataclass
class Job:
    record: JobRecord
    body: JobBody | None
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    cancelled_by_user: bool = False
    # Its place in line for its instances, taken at submission (see call_locks).
    claim: Claim | None = None
    queue_key: tuple[float, int] = (0.0, 0)

    # The record's fields, read by the routes and the tests.
    @property
    def id(self) -> str:
        return self.record.id

    @property
    def state(self) -> str:
        return self.record.state

    @property
    def error(self) -> str:
        return self.record.error

    @property
    def completed(self) -> float | None:
        return self.record.completed

    def as_json(self) -> dict[str, object]:
        record = self.record
        return {
            "ID": record.id,
            "Path": f"/anon-consistent/jobs/{record.id}",
            "State": record.state,
            "Progress": record.progress,
            "InstancesStored": record.stored,
            "InstancesTotal": record.total,
            "Content": record.content,
            "ErrorDescription": record.error,
            "Description": record.description,
            "Request": record.request,
            "Node": record.node,
            "CreationTime": _iso(record.created),
            "CompletionTime": _iso(record.completed) if record.completed else None,
        }


def _iso(timestamp: float) -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(timestamp))
