from __future__ import annotations

import itertools
import sqlite3
import threading
from pathlib import Path

import pytest

from anon_consistent.store import SCHEMA_VERSION, MappingStore, SchemaError


def test_one_value_per_original_and_project(tmp_path: Path) -> None:
    store = MappingStore.open(tmp_path / "m.sqlite")
    counter = itertools.count()
    make = lambda: f"2.25.{next(counter)}"  # noqa: E731
    first = store.get_or_create("a", "UID", "1.2.3", make)
    assert store.get_or_create("a", "UID", "1.2.3", make) == first
    assert store.get_or_create("b", "UID", "1.2.3", make) != first
    assert [r.anonymized for r in store.lookup("a", first)] == [first]
    assert [r.original for r in store.lookup("a", "1.2.3")] == ["1.2.3"]


def test_mapping_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite"
    value = MappingStore.open(path).get_or_create("p", "UID", "1.2.3", lambda: "2.25.7")
    assert MappingStore.open(path).get_or_create("p", "UID", "1.2.3", lambda: "2.25.8") == value


def test_concurrent_threads_and_connections_agree(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite"
    stores = [MappingStore.open(path) for _ in range(4)]  # separate connections, like separate processes
    results: list[str] = []
    lock = threading.Lock()
    counter = itertools.count()

    def worker(store: MappingStore) -> None:
        for n in range(50):
            value = store.get_or_create("p", "UID", f"1.2.{n}", lambda: f"2.25.{next(counter)}")
            with lock:
                results.append(f"{n}={value}")

    threads = [threading.Thread(target=worker, args=(stores[i % 4],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    per_original: dict[str, set[str]] = {}
    for entry in results:
        original, value = entry.split("=")
        per_original.setdefault(original, set()).add(value)
    assert len(per_original) == 50
    assert all(len(values) == 1 for values in per_original.values())
    assert len(stores[0].rows("p")) == 50


def test_projects_listing_and_deletion(tmp_path: Path) -> None:
    store = MappingStore.open(tmp_path / "m.sqlite")
    store.get_or_create("a", "UID", "1", lambda: "2.25.1")
    store.get_or_create("a", "PatientID", "X", lambda: "ANON-1")
    store.get_or_create("b", "UID", "1", lambda: "2.25.2")
    assert store.projects() == [
        {"Project": "a", "Counts": {"PatientID": 1, "UID": 1}, "Total": 2},
        {"Project": "b", "Counts": {"UID": 1}, "Total": 1},
    ]
    assert store.delete_project("a") == 2
    assert not store.has_project("a") and store.has_project("b")


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
