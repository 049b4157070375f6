"""Admission to loopback transfers: never more leases than free HTTP threads can serve."""

from __future__ import annotations

from anon_consistent.adapter.loopback import RESERVED_HTTP_THREADS, THREADS_PER_LEASE, HttpThreadBudget


def test_one_http_thread_never_leases() -> None:
    budget = HttpThreadBudget(1)
    with budget.synchronous_call():
        assert not budget.try_lease()


def test_leases_leave_room_for_every_synchronous_call_and_the_reserve() -> None:
    threads = 10
    budget = HttpThreadBudget(threads)
    with budget.synchronous_call(), budget.synchronous_call():
        granted = 0
        while budget.try_lease():
            granted += 1
        assert 2 + THREADS_PER_LEASE * granted + RESERVED_HTTP_THREADS <= threads
        assert 2 + THREADS_PER_LEASE * (granted + 1) + RESERVED_HTTP_THREADS > threads
        budget.release()
        assert budget.try_lease()  # a released lease is available again
    assert budget.state() == {"HttpThreads": threads, "SynchronousCalls": 0, "Leases": granted}


def test_default_threads_serve_a_single_call_over_loopback() -> None:
    budget = HttpThreadBudget(50)
    with budget.synchronous_call():
        assert budget.try_lease()


def test_a_lease_stops_fitting_when_later_calls_take_the_threads() -> None:
    budget = HttpThreadBudget(7)
    assert budget.try_lease() and budget.still_fits()  # a job: 0 + 3 + 2 <= 7
    with budget.synchronous_call(), budget.synchronous_call():
        assert budget.still_fits()  # 2 + 3 + 2 <= 7
        with budget.synchronous_call():
            assert not budget.still_fits()  # its transfers could now queue behind waiting calls
    assert budget.still_fits()
