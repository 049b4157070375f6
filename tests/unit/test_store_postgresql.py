"""What only the shared backend has: reconnection, cross-node locks and a schema shared by nodes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from anon_consistent.call_locks import LockWaitCancelled
from anon_consistent.store import SCHEMA_VERSION, MappingStore, SchemaError, StoreUnavailable
from tests.postgres_server import PostgresServer


@pytest.fixture
def uri(new_postgres_database: Callable[[], str]) -> str:
    return new_postgres_database()


def test_a_postgresql_restart_between_calls_is_survived(postgres: PostgresServer, uri: str) -> None:
    store = MappingStore.open(uri)
    with store.exclusive("p", ["i1"], lambda: True):  # two connections in the pool afterwards
        first = store.get_or_create("p", "UID", "1.2.3", lambda: "2.25.1")
    with store.exclusive("p", ["i1"], lambda: True), store.exclusive("p", ["i2"], lambda: True):
        pass
    postgres.restart()  # every pooled connection is now dead
    assert store.get_or_create("p", "UID", "1.2.3", lambda: "2.25.2") == first
    with store.exclusive("p", ["i1"], lambda: True), store.exclusive("p", ["i2"], lambda: True):
        assert store.get_or_create("p", "UID", "1.2.4", lambda: "2.25.3") == "2.25.3"
    store.close()


def test_while_postgresql_is_down_statements_fail_cleanly_and_quickly(postgres: PostgresServer, uri: str) -> None:
    store = MappingStore.open(uri.replace("postgres@", "postgres:pw-that-must-not-leak@"))
    store.get_or_create("p", "UID", "1.2.3", lambda: "2.25.1")
    postgres.stop()
    try:
        started = time.monotonic()
        for original in ("1.2.4", "1.2.5", "1.2.6"):
            with pytest.raises(StoreUnavailable) as down:
                store.get_or_create("p", "UID", original, lambda: "2.25.9")
            assert "pw-that-must-not-leak" not in str(down.value)
            assert f"127.0.0.1:{postgres.port}" in str(down.value)
        assert time.monotonic() - started < 5  # no per-statement wait: a call fails its instances at once
    finally:
        postgres.start()
    deadline = time.monotonic() + 10
    while True:  # the first second after a failure answers at once without trying
        try:
            value = store.get_or_create("p", "UID", "1.2.4", lambda: "2.25.4")
            break
        except StoreUnavailable:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert value == "2.25.4"  # nothing was half-written while it was down
    assert [r.original for r in store.rows("p")] == ["1.2.3", "1.2.4"]


def test_calls_on_the_same_instances_never_overlap_across_stores(uri: str) -> None:
    node_a, node_b = MappingStore.open(uri), MappingStore.open(uri)
    events: list[str] = []
    a_inside = threading.Event()

    def call_a() -> None:
        with node_a.exclusive("p", ["i1", "i2", "i3"], lambda: True):
            events.append("a in")
            a_inside.set()
            time.sleep(0.8)
            events.append("a out")

    def call_b() -> None:
        a_inside.wait(5)
        with node_b.exclusive("p", ["i3", "i9"], lambda: True):
            events.append("b in")

    def other_project() -> None:
        a_inside.wait(5)
        with node_b.exclusive("q", ["i1", "i2", "i3"], lambda: True):
            events.append("q in")

    threads = [threading.Thread(target=f) for f in (call_a, call_b, other_project)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert events.index("q in") < events.index("a out")  # another project does not wait
    assert events.index("b in") > events.index("a out")  # one shared instance is enough to wait


def test_opposite_orders_do_not_deadlock_and_a_waiter_can_give_up(uri: str) -> None:
    node_a, node_b = MappingStore.open(uri), MappingStore.open(uri)
    done: list[str] = []

    def call(store: MappingStore, instances: list[str], name: str) -> None:
        for _ in range(5):
            with store.exclusive("p", instances, lambda: True):
                time.sleep(0.01)
        done.append(name)

    threads = [
        threading.Thread(target=call, args=(node_a, [f"i{n}" for n in range(50)], "a")),
        threading.Thread(target=call, args=(node_b, [f"i{n}" for n in reversed(range(50))], "b")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(done) == ["a", "b"]
    with node_a.exclusive("p", ["i1"], lambda: True):
        asked: list[int] = []

        def give_up() -> bool:
            asked.append(1)
            return False

        with pytest.raises(LockWaitCancelled):
            with node_b.exclusive("p", ["i0", "i1"], give_up):
                pass
        assert asked == [1]
    with node_b.exclusive("p", ["i0"], lambda: False):
        pass  # the give-up released i0: free again


def test_a_newer_schema_is_refused_and_two_nodes_create_it_at_once(uri: str) -> None:
    stores: list[MappingStore] = []
    threads = [threading.Thread(target=lambda: stores.append(MappingStore.open(uri))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(stores) == 4
    stores[0].database.modify("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(SchemaError, match="newer than this plugin"):
        MappingStore.open(uri)
