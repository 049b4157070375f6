"""Job records in the mapping database, so that a job outlives the Orthanc that ran it.

An anonymization interrupted by a crash leaves a partial study that looks
complete in Orthanc. Its record is what says otherwise: at start-up every job
still Pending or Running is marked Failure, with how many instances were
stored and the call that completes it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from .mapping_store import MappingStore

_COLUMNS = "id, state, progress, stored, total, description, request, content, error, created, completed"


@dataclass
class JobRecord:
    """What is kept of a job; ``request`` is the call to re-run (method, URI, body)."""

    id: str
    state: str
    description: dict[str, object]
    request: dict[str, object]
    total: int = 0
    progress: int = 0
    stored: int = 0
    content: dict[str, object] = field(default_factory=dict)
    error: str = ""
    created: float = field(default_factory=time.time)
    completed: float | None = None


def interruption_message(record: JobRecord) -> str:
    """The ErrorDescription of a job that was running when Orthanc stopped."""
    request = record.request
    call = f"{request.get('Method', 'POST')} {request.get('Uri', '?')}"
    return (
        f"Interrupted: Orthanc stopped while this job was {record.state.lower()}; "
        f"{record.stored} of {record.total} instance(s) had been stored, so the anonymized result is incomplete. "
        f"Re-run {call} with the same body to complete it (the project's mapping gives the same UIDs)."
    )


class JobStore:
    """Reads and writes ``jobs`` rows; shares the mapping database and its lock."""

    def __init__(self, store: MappingStore) -> None:
        self._store = store

    def insert(self, record: JobRecord) -> None:
        self._store.execute(f"INSERT INTO jobs ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _row(record))

    def update_progress(self, job_id: str, progress: int, stored: int) -> None:
        self._store.execute("UPDATE jobs SET progress = ?, stored = ? WHERE id = ?", (progress, stored, job_id))

    def update_state(self, record: JobRecord) -> None:
        self._store.execute(
            "UPDATE jobs SET state = ?, progress = ?, stored = ?, content = ?, error = ?, completed = ? WHERE id = ?",
            (
                record.state,
                record.progress,
                record.stored,
                json.dumps(record.content),
                record.error,
                record.completed,
                record.id,
            ),
        )

    def interrupt_unfinished(self) -> list[JobRecord]:
        """Mark every Pending or Running job as an interrupted Failure; returns them."""
        found = [_record(row) for row in self._store.execute(f"SELECT {_COLUMNS} FROM jobs WHERE completed IS NULL")]
        for record in found:
            record.error = interruption_message(record)
            record.state, record.completed = "Failure", time.time()
            self.update_state(record)
        return found

    def recent(self, limit: int) -> list[JobRecord]:
        """The newest ``limit`` jobs, oldest first."""
        rows = self._store.execute(f"SELECT {_COLUMNS} FROM jobs ORDER BY created DESC LIMIT ?", (limit,))
        return [_record(row) for row in reversed(rows)]

    def forget_older_than(self, keep: int) -> None:
        """Keep the newest ``keep`` finished jobs."""
        self._store.execute(
            "DELETE FROM jobs WHERE completed IS NOT NULL AND id NOT IN "
            "(SELECT id FROM jobs WHERE completed IS NOT NULL ORDER BY created DESC LIMIT ?)",
            (keep,),
        )


def _row(record: JobRecord) -> tuple[Any, ...]:
    return (
        record.id,
        record.state,
        record.progress,
        record.stored,
        record.total,
        json.dumps(record.description),
        json.dumps(record.request),
        json.dumps(record.content),
        record.error,
        record.created,
        record.completed,
    )


def _record(row: tuple[Any, ...]) -> JobRecord:
    job_id, state, progress, stored, total, description, request, content, error, created, completed = row
    return JobRecord(
        id=job_id,
        state=state,
        progress=progress,
        stored=stored,
        total=total,
        description=json.loads(description),
        request=json.loads(request),
        content=json.loads(content),
        error=error,
        created=created,
        completed=completed,
    )
