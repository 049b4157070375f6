"""Persistent mapping of original values to anonymized ones, per project.

Schema (version 2), documented in README "Mapping database":

    meta(key TEXT PRIMARY KEY, value TEXT)          -- 'schema_version' = '2'
    mapping(project, kind, original, anonymized, created_at,
            PRIMARY KEY (project, kind, original))  -- one new value per original
    index mapping_by_anonymized(project, anonymized)
    jobs(id PRIMARY KEY, state, ...)                -- see job_store.py (added in version 2)

``kind`` is ``UID``, ``PatientID`` (the pseudonym, also used as PatientName)
or ``DateOffset`` (days, as text). The primary key makes "first writer wins"
hold even when several threads or processes race for the same original: on a
miss everyone inserts with OR IGNORE, then everyone reads the one stored row.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mapping (
    project TEXT NOT NULL,
    kind TEXT NOT NULL,
    original TEXT NOT NULL,
    anonymized TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (project, kind, original)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mapping_by_anonymized ON mapping (project, anonymized);
"""
# Version 1 had no jobs; the table is added in place, the mapping is untouched.
_MIGRATIONS = {
    1: """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    progress INTEGER NOT NULL DEFAULT 0,
    stored INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    description TEXT NOT NULL,
    request TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '{}',
    error TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    completed REAL
);
""",
}
# The mapping is the re-identification key: only Orthanc's user may read it.
# SQLite gives the -wal and -shm files the mode of the database file.
FILE_MODE = 0o600


@dataclass(frozen=True)
class MappingRow:
    project: str
    kind: str
    original: str
    anonymized: str
    created_at: str

    def as_json(self) -> dict[str, str]:
        return {"Kind": self.kind, "Original": self.original, "Anonymized": self.anonymized, "Created": self.created_at}


class SchemaError(RuntimeError):
    """The database was written by an incompatible version of the plugin."""


class MappingStore:
    """Thread-safe SQLite store; one connection guarded by a lock."""

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            _create_private(Path(path))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL keeps every commit across a crash of Orthanc and
            # only risks the last ones on power loss, at a fraction of FULL's cost.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._check_schema_version()

    def _check_schema_version(self) -> None:
        fresh = self._db.execute("SELECT 1 FROM meta WHERE key = 'schema_version'").fetchone() is None
        if fresh:
            self._db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        (found,) = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(found)
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"mapping database has schema version {version}, newer than this plugin's {SCHEMA_VERSION}: "
                "upgrade the plugin"
            )
        while version < SCHEMA_VERSION:
            self._db.executescript(
                f"BEGIN; {_MIGRATIONS[version]} "
                f"UPDATE meta SET value = '{version + 1}' WHERE key = 'schema_version'; COMMIT;"
            )
            version += 1

    def execute(self, sql: str, arguments: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """One statement under the store's lock, for the other tables of this database (jobs)."""
        with self._lock:
            return self._db.execute(sql, arguments).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def find(self, project: str, kind: str, original: str) -> str | None:
        """The stored value for ``original``, without creating one."""
        with self._lock:
            row = self._db.execute(
                "SELECT anonymized FROM mapping WHERE project = ? AND kind = ? AND original = ?",
                (project, kind, original),
            ).fetchone()
        return None if row is None else str(row[0])

    def get_or_create(self, project: str, kind: str, original: str, make: Callable[[], str]) -> str:
        """Return the stored value for ``original``, creating it with ``make`` if absent."""
        with self._lock:
            row = self._db.execute(
                "SELECT anonymized FROM mapping WHERE project = ? AND kind = ? AND original = ?",
                (project, kind, original),
            ).fetchone()
            if row is not None:
                return str(row[0])
            self._db.execute(
                "INSERT OR IGNORE INTO mapping (project, kind, original, anonymized) VALUES (?, ?, ?, ?)",
                (project, kind, original, make()),
            )
            # Another process may have won the race: whatever is stored is the answer.
            (stored,) = self._db.execute(
                "SELECT anonymized FROM mapping WHERE project = ? AND kind = ? AND original = ?",
                (project, kind, original),
            ).fetchone()
            return str(stored)

    def projects(self, only: str | None = None) -> list[dict[str, object]]:
        """Every project (or only one) with its number of mappings per kind."""
        where, arguments = ("WHERE project = ?", (only,)) if only is not None else ("", ())
        with self._lock:
            rows = self._db.execute(
                f"SELECT project, kind, COUNT(*) FROM mapping {where} GROUP BY project, kind ORDER BY project, kind",
                arguments,
            ).fetchall()
        summary: dict[str, dict[str, int]] = {}
        for project, kind, count in rows:
            summary.setdefault(project, {})[kind] = count
        return [{"Project": p, "Counts": counts, "Total": sum(counts.values())} for p, counts in summary.items()]

    def has_project(self, project: str) -> bool:
        with self._lock:
            return (
                self._db.execute("SELECT 1 FROM mapping WHERE project = ? LIMIT 1", (project,)).fetchone() is not None
            )

    def rows(self, project: str) -> list[MappingRow]:
        with self._lock:
            found = self._db.execute(
                "SELECT project, kind, original, anonymized, created_at FROM mapping "
                "WHERE project = ? ORDER BY kind, created_at, original",
                (project,),
            ).fetchall()
        return [MappingRow(*row) for row in found]

    def lookup(self, project: str, value: str) -> list[MappingRow]:
        """Rows where ``value`` is either the original or the anonymized value."""
        with self._lock:
            found = self._db.execute(
                "SELECT project, kind, original, anonymized, created_at FROM mapping "
                "WHERE project = ? AND (original = ? OR anonymized = ?) ORDER BY kind",
                (project, value, value),
            ).fetchall()
        return [MappingRow(*row) for row in found]

    def delete_project(self, project: str) -> int:
        """Remove a project; returns how many rows were deleted."""
        with self._lock:
            return self._db.execute("DELETE FROM mapping WHERE project = ?", (project,)).rowcount


def _create_private(path: Path) -> None:
    """Create the database file owner-only before SQLite opens it; tighten an existing one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
    for existing in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if existing.exists():
            os.chmod(existing, FILE_MODE)
