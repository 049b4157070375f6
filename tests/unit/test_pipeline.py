from __future__ import annotations

import threading
import time

import pytest

from anon_consistent.pipeline import IN_FLIGHT, Stopped, run_pipeline


def test_order_is_kept_and_errors_are_per_item() -> None:
    def transform(data: bytes) -> bytes:
        if data == b"3":
            raise ValueError("bad three")
        return data * 2

    def store(data: bytes) -> str:
        if data == b"55":
            raise RuntimeError("store refused")
        return data.decode()

    outcomes = run_pipeline([str(n) for n in range(8)], str.encode, transform, store, lambda n: True)
    assert [o.item_id for o in outcomes] == [str(n) for n in range(8)]
    assert [o.value for o in outcomes if o.error is None] == ["00", "11", "22", "44", "66", "77"]
    assert [str(o.error) for o in outcomes if o.error is not None] == ["bad three", "store refused"]


def test_stop_keeps_what_was_transformed() -> None:
    stored: list[str] = []
    with pytest.raises(Stopped) as stop:
        run_pipeline(
            [str(n) for n in range(20)], str.encode, bytes, lambda d: stored.append(d.decode()), lambda n: n < 5
        )
    assert stored == ["0", "1", "2", "3", "4"]
    assert len(stop.value.outcomes) == 5


def test_memory_is_bounded_by_a_few_items_in_flight() -> None:
    alive = 0
    peak = 0
    lock = threading.Lock()

    def read(item: str) -> bytes:
        nonlocal alive, peak
        with lock:
            alive += 1
            peak = max(peak, alive)
        return item.encode()

    def store(data: bytes) -> None:
        nonlocal alive
        time.sleep(0.002)  # a slow Orthanc
        with lock:
            alive -= 1

    run_pipeline([str(n) for n in range(60)], read, bytes, store, lambda n: True)
    assert peak <= 2 * IN_FLIGHT + 3
