"""What only the embedded backend has: a file, its permissions, and the upgrades of older files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from anon_consistent.store import SCHEMA_VERSION, JobStore, MappingStore, SchemaError, open_database


def test_schema_version_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite"
    MappingStore.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(SchemaError):
        MappingStore.open(path)


def test_version_1_databases_gain_the_jobs_table_and_keep_their_mapping(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite"
    with sqlite3.connect(path) as db:  # what plugin 0.1 wrote
        db.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema_version', '1');"
            "CREATE TABLE mapping (project TEXT NOT NULL, kind TEXT NOT NULL, original TEXT NOT NULL,"
            " anonymized TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT '', PRIMARY KEY (project, kind, original));"
            "INSERT INTO mapping VALUES ('p', 'UID', '1.2.3', '2.25.9', '');"
        )
    store = MappingStore.open(path)
    assert store.get_or_create("p", "UID", "1.2.3", lambda: "2.25.10") == "2.25.9"
    assert store.database.execute("SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
    assert store.database.execute("SELECT COUNT(*) FROM jobs") == [(0,)]


def test_version_2_jobs_gain_their_node_columns_and_are_interrupted(tmp_path: Path) -> None:
    """A job left Running by plugin 0.2 has no heartbeat: it is reported interrupted, not alive."""
    path = tmp_path / "m.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema_version', '2');"
            "CREATE TABLE mapping (project TEXT NOT NULL, kind TEXT NOT NULL, original TEXT NOT NULL,"
            " anonymized TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT '', PRIMARY KEY (project, kind, original));"
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, state TEXT NOT NULL, progress INTEGER NOT NULL DEFAULT 0,"
            " stored INTEGER NOT NULL DEFAULT 0, total INTEGER NOT NULL DEFAULT 0, description TEXT NOT NULL,"
            " request TEXT NOT NULL, content TEXT NOT NULL DEFAULT '{}', error TEXT NOT NULL DEFAULT '',"
            " created REAL NOT NULL, completed REAL);"
            "INSERT INTO jobs (id, state, stored, total, description, request, created)"
            " VALUES ('old', 'Running', 2, 5, '{}', '{\"Uri\": \"/anon-consistent/studies/s\"}', 1.0);"
        )
    jobs = JobStore(open_database(path), node="elsewhere")
    record = jobs.get("old")
    assert record is not None and record.state == "Failure" and "2 of 5" in record.error
    assert jobs.get("old") == record  # recorded, not only answered


def test_database_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite"
    store = MappingStore.open(path)
    store.get_or_create("p", "UID", "1.2.3", lambda: "2.25.1")  # the WAL exists once something is written
    files = [path, tmp_path / "m.sqlite-wal", tmp_path / "m.sqlite-shm"]
    assert all(f.exists() for f in files)
    assert {oct(f.stat().st_mode & 0o777) for f in files} == {"0o600"}
    store.close()
    path.chmod(0o644)  # a database left by an older version is tightened on opening
    MappingStore.open(path).close()
    assert path.stat().st_mode & 0o777 == 0o600
