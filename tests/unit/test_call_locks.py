"""Calls on the same instances of a project run one after the other, in arrival order."""

from __future__ import annotations

import threading
import time

import pytest

from anon_consistent.call_locks import InstanceLocks, LockWaitCancelled
from tests.orthanc_server import wait_until


def test_overlapping_calls_run_in_arrival_order() -> None:
    locks = InstanceLocks()
    order: list[str] = []
    first_inside = threading.Event()
    release_first = threading.Event()

    def call(name: str, ids: set[str], hold: threading.Event | None = None) -> None:
        with locks.hold("p", ids):
            order.append(f"{name}+")
            if hold is not None:
                first_inside.set()
                hold.wait(5)
            order.append(f"{name}-")

    first = threading.Thread(target=call, args=("A", {"1", "2"}, release_first))
    first.start()
    assert first_inside.wait(5)
    second = threading.Thread(target=call, args=("B", {"2", "3"}))
    second.start()
    wait_until(lambda: locks.waiting() == 2, 5, "B to queue")
    third = threading.Thread(target=call, args=("C", {"3"}))  # overlaps only the waiting B
    third.start()
    wait_until(lambda: locks.waiting() == 3, 5, "C to queue")
    time.sleep(0.1)
    assert order == ["A+"]  # B waits for A, and C for B although B is not running yet
    release_first.set()
    for thread in (first, second, third):
        thread.join(5)
    assert order == ["A+", "A-", "B+", "B-", "C+", "C-"]


def test_disjoint_instances_and_other_projects_do_not_wait() -> None:
    locks = InstanceLocks()
    with locks.hold("p", {"1"}):
        entered = []
        for project, ids in (("p", {"2"}), ("q", {"1"})):
            thread = threading.Thread(target=lambda p=project, i=ids: locks.hold(p, i).__enter__() and None)
            thread.start()
            thread.join(2)
            entered.append(not thread.is_alive())
        assert entered == [True, True]


def test_a_waiting_call_can_be_cancelled_and_leaves_no_claim() -> None:
    locks = InstanceLocks()
    with locks.hold("p", {"1"}):
        with pytest.raises(LockWaitCancelled):
            with locks.hold("p", {"1"}, keep_waiting=lambda: False):
                pass
    assert locks.waiting() == 0
    with locks.hold("p", {"1"}):  # nothing left behind to wait for
        pass
