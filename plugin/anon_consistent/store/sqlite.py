"""The embedded backend: one SQLite file next to Orthanc's storage, for one Orthanc.

Schema (version 3), documented in README "Mapping database":

    meta(key TEXT PRIMARY KEY, value TEXT)          -- 'schema_version' = '3'
    mapping(project, kind, original, anonymized, created_at,
            PRIMARY KEY (project, kind, original))  -- one new value per original
    index mapping_by_anonymized(project, anonymized)
    jobs(id PRIMARY KEY, state, ..., node, runner, heartbeat, cancel_requested)
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .database import SCHEMA_VERSION, Row, check_version

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
# Each step brings a database from version N to N + 1, in place: the mapping is never touched.
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
    2: """
ALTER TABLE jobs ADD COLUMN node TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN runner TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN heartbeat REAL;
ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
""",
}
# The mapping is the re-identification key: only Orthanc's user may read it.
# SQLite gives the -wal and -shm files the mode of the database file.
FILE_MODE = 0o600


class SqliteDatabase:
    """One connection guarded by a lock: SQLite serializes writers anyway."""

    shared = False
    now_sql = "((julianday('now') - 2440587.5) * 86400.0)"

    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        if self._path != ":memory:":
            _create_private(Path(path))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None, timeout=30)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL keeps every commit across a crash of Orthanc and
            # only risks the last ones on power loss, at a fraction of FULL's cost.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._migrate()

    def _migrate(self) -> None:
        fresh = self._db.execute("SELECT 1 FROM meta WHERE key = 'schema_version'").fetchone() is None
        if fresh:
            self._db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        (found,) = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(found)
        check_version(version)
        while version < SCHEMA_VERSION:
            self._db.executescript(
                f"BEGIN; {_MIGRATIONS[version]} "
                f"UPDATE meta SET value = '{version + 1}' WHERE key = 'schema_version'; COMMIT;"
            )
            version += 1

    def execute(self, sql: str, arguments: tuple[Any, ...] = ()) -> list[Row]:
        with self._lock:
            return self._db.execute(sql, arguments).fetchall()

    def modify(self, sql: str, arguments: tuple[Any, ...] = ()) -> int:
        with self._lock:
            return self._db.execute(sql, arguments).rowcount

    @contextmanager
    def exclusive(self, keys: Iterable[int], keep_waiting: Callable[[], bool]) -> Iterator[None]:
        # One Orthanc per file: the in-process ordering (call_locks) is the whole rule.
        yield

    def describe(self) -> str:
        return self._path

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _create_private(path: Path) -> None:
    """Create the database file owner-only before SQLite opens it; tighten an existing one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
    for existing in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if existing.exists():
            os.chmod(existing, FILE_MODE)
