"""The mapping has the same semantics on both backends: these tests run on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from anon_consistent.store import MappingStore

Opener = Callable[[], MappingStore]


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens the same database again each time it is called, as another process (or node) would."""
    if request.param == "sqlite":
        location: str | Path = tmp_path / "m.sqlite"
    else:
        location = request.getfixturevalue("new_postgres_database")()
    return lambda: MappingStore.open(location)


def test_one_value_per_original_and_project(opener: Opener) -> None:
    store = opener()
    counter = itertools.count()
    make = lambda: f"2.25.{next(counter)}"  # noqa: E731
    first = store.get_or_create("a", "UID", "1.2.3", make)
    assert store.get_or_create("a", "UID", "1.2.3", make) == first
    assert store.get_or_create("b", "UID", "1.2.3", make) != first
    assert store.find("a", "UID", "1.2.3") == first and store.find("a", "UID", "9.9") is None
    assert [r.anonymized for r in store.lookup("a", first)] == [first]
    assert [r.original for r in store.lookup("a", "1.2.3")] == ["1.2.3"]
    store.close()


def test_mapping_survives_reopening(opener: Opener) -> None:
    value = opener().get_or_create("p", "UID", "1.2.3", lambda: "2.25.7")
    assert opener().get_or_create("p", "UID", "1.2.3", lambda: "2.25.8") == value == "2.25.7"


def test_racing_stores_agree_first_writer_wins(opener: Opener) -> None:
    """Four stores (four processes, or four Orthanc nodes) and eight threads race for the same originals."""
    stores = [opener() for _ in range(4)]
    results: dict[str, set[str]] = {}
    lock = threading.Lock()
    counter = itertools.count()
    start = threading.Barrier(8)

    def worker(store: MappingStore) -> None:
        start.wait()
        for n in range(40):
            value = store.get_or_create("p", "UID", f"1.2.{n}", lambda: f"2.25.{next(counter)}")
            with lock:
                results.setdefault(f"1.2.{n}", set()).add(value)

    threads = [threading.Thread(target=worker, args=(stores[i % 4],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 40
    assert all(len(values) == 1 for values in results.values())
    stored = {row.original: row.anonymized for row in stores[1].rows("p")}
    assert stored == {original: values.pop() for original, values in results.items()}


def test_projects_listing_export_and_deletion(opener: Opener) -> None:
    store = opener()
    store.get_or_create("a", "UID", "1", lambda: "2.25.1")
    store.get_or_create("a", "PatientID", "X", lambda: "ANON-1")
    store.get_or_create("b", "UID", "1", lambda: "2.25.2")
    assert store.projects() == [
        {"Project": "a", "Counts": {"PatientID": 1, "UID": 1}, "Total": 2},
        {"Project": "b", "Counts": {"UID": 1}, "Total": 1},
    ]
    assert store.projects(only="b") == [{"Project": "b", "Counts": {"UID": 1}, "Total": 1}]
    rows = store.rows("a")
    assert [(r.kind, r.original, r.anonymized) for r in rows] == [("PatientID", "X", "ANON-1"), ("UID", "1", "2.25.1")]
    assert all(r.created_at.endswith("Z") and len(r.created_at) == 24 for r in rows)  # one format on both
    assert store.delete_project("a") == 2
    assert not store.has_project("a") and store.has_project("b")
    assert opener().rows("a") == []
