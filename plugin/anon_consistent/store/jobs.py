"""Job records in the mapping database, so that a job outlives the Orthanc that ran it.

An anonymization interrupted by a crash leaves a partial study that looks
complete in Orthanc. Its record is what says otherwise: a job still Pending or
Running whose Orthanc is gone is marked Failure, with how many instances were
stored and the call that completes it.

With several Orthanc nodes on one database, a job is run by one node (its
``runner``, one per Orthanc process) and seen by all. The runner beats a
heartbeat into its unfinished jobs; a job whose heartbeat stops is
interrupted by whichever node looks at it first, and a node that starts again
(same ``node`` name) interrupts at once what its previous life left. A cancel
asked on another node is a flag the runner reads with its heartbeat.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .database import Database

_COLUMNS = "id, state, progress, stored, total, description, request, content, error, created, completed, node"
# A runner beats every second; a job unheard of for this long has lost its Orthanc.
# Generous, because a busy Orthanc 1.10 (plugin 4.0 holds the GIL during SDK
# calls) can keep the heartbeat thread waiting for seconds.
STALE_AFTER_SECONDS = 10.0


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
    # The Orthanc node ("DatabaseServerIdentifier") that runs it.
    node: str = ""


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
    """Reads and writes ``jobs`` rows of the mapping database, for one Orthanc process (``runner``)."""

    def __init__(self, database: Database, runner: str | None = None, node: str = "") -> None:
        self._db = database
        # Unique per Orthanc process: a restarted node is a new runner under the same node name.
        self.runner = runner or uuid.uuid4().hex
        self.node = node

    def insert(self, record: JobRecord) -> None:
        record.node = self.node
        self._db.modify(
            f"INSERT INTO jobs ({_COLUMNS}, runner, heartbeat) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {self._db.now_sql}) ON CONFLICT DO NOTHING",
            (*_row(record), self.runner),
        )

    def update_progress(self, job_id: str, progress: int, stored: int) -> None:
        self._db.modify("UPDATE jobs SET progress = ?, stored = ? WHERE id = ?", (progress, stored, job_id))

    def update_state(self, record: JobRecord) -> None:
        self._db.modify(
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

    def get(self, job_id: str) -> JobRecord | None:
        """A job of any node; one whose node is gone is answered (and recorded) as interrupted."""
        rows = self._db.execute(f"SELECT {_COLUMNS}, {self._alive()} FROM jobs WHERE id = ?", (self.runner, job_id))
        return self._checked(rows[0]) if rows else None

    def recent(self, limit: int) -> list[JobRecord]:
        """The newest ``limit`` jobs of every node, oldest first."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS}, {self._alive()} FROM jobs ORDER BY created DESC LIMIT ?", (self.runner, limit)
        )
        return [self._checked(row) for row in reversed(rows)]

    def interrupt_unfinished(self) -> list[JobRecord]:
        """At start-up: what this node's previous life left unfinished, and every job whose node is gone.

        A database of one Orthanc holds no live job of another process. In a
        shared one, a node recognizes its previous life by its name only if it
        has one: two unnamed nodes must not take each other's live jobs for dead.
        """
        condition, arguments = "", [self.runner]
        if self._db.shared:
            condition = f" AND (heartbeat IS NULL OR heartbeat < {self._db.now_sql} - {STALE_AFTER_SECONDS}"
            if self.node:
                condition += " OR node = ?"
                arguments.append(self.node)
            condition += ")"
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM jobs WHERE completed IS NULL AND runner <> ?{condition}", tuple(arguments)
        )
        return [record for record in map(_record, rows) if self._interrupt(record)]

    def beat(self) -> list[str]:
        """Tell the other nodes this runner's jobs are alive; returns those another node asked to cancel."""
        self._db.modify(
            f"UPDATE jobs SET heartbeat = {self._db.now_sql} WHERE runner = ? AND completed IS NULL", (self.runner,)
        )
        rows = self._db.execute(
            "SELECT id FROM jobs WHERE runner = ? AND completed IS NULL AND cancel_requested = 1", (self.runner,)
        )
        return [str(row[0]) for row in rows]

    def request_cancel(self, job_id: str) -> bool:
        """Ask the runner of an unfinished job, on whichever node, to cancel it."""
        return self._db.modify("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND completed IS NULL", (job_id,)) > 0

    def forget_older_than(self, keep: int) -> None:
        """Keep the newest ``keep`` finished jobs."""
        self._db.modify(
            "DELETE FROM jobs WHERE completed IS NOT NULL AND id NOT IN "
            "(SELECT id FROM jobs WHERE completed IS NOT NULL ORDER BY created DESC LIMIT ?)",
            (keep,),
        )

    def _alive(self) -> str:
        """SQL, with one parameter (this runner): 1 if the row's runner is this one or has beaten recently."""
        return f"CASE WHEN runner = ? OR heartbeat >= {self._db.now_sql} - {STALE_AFTER_SECONDS} THEN 1 ELSE 0 END"

    def _checked(self, row: tuple[Any, ...]) -> JobRecord:
        record = _record(row[:-1])
        if record.completed is None and not row[-1]:
            self._interrupt(record)
        return record

    def _interrupt(self, record: JobRecord) -> bool:
        """Record ``record`` as interrupted unless it finished meanwhile; the record is updated either way."""
        error, completed = interruption_message(record), time.time()
        changed = self._db.modify(
            "UPDATE jobs SET state = 'Failure', error = ?, completed = ? WHERE id = ? AND completed IS NULL",
            (error, completed, record.id),
        )
        if changed:
            record.state, record.error, record.completed = "Failure", error, completed
            return True
        found = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (record.id,))
        if found:
            record.__dict__.update(_record(found[0]).__dict__)
        return False


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
        record.node,
    )


def _record(row: tuple[Any, ...]) -> JobRecord:
    job_id, state, progress, stored, total, description, request, content, error, created, completed, node = row
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
        node=node,
    )
