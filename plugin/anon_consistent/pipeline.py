"""A three-stage pipeline: read -> transform -> store, one instance at a time per stage.

Reading and storing run on their own threads. When they block outside the
interpreter (socket I/O to Orthanc's REST API releases the GIL), Orthanc reads
and stores on its own threads while Python rewrites the next instance, so the
three costs overlap instead of adding up. Queues are bounded, so memory stays
at a few instances whatever the study size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

IN_FLIGHT = 3
_END = object()


@dataclass
class Outcome(Generic[T]):
    """What happened to one item: a stored value, or the error that stopped it."""

    item_id: str
    value: T | None = None
    error: Exception | None = None


class Stopped(Exception):
    """``should_continue`` said no; the outcomes so far are attached."""

    def __init__(self, outcomes: list[Outcome[Any]]) -> None:
        super().__init__("stopped")
        self.outcomes = outcomes


def run_pipeline(
    item_ids: Iterable[str],
    read: Callable[[str], Any],
    transform: Callable[[Any], Any],
    store: Callable[[Any], T],
    should_continue: Callable[[int], bool],
) -> list[Outcome[T]]:
    """Process every item; per-item errors are captured in the outcomes, in input order.

    ``should_continue(n)`` is asked before the (n+1)-th transform; on False the
    items already transformed are still stored, then ``Stopped`` is raised.
    """
    stop = threading.Event()
    to_transform: queue.Queue[Any] = queue.Queue(IN_FLIGHT)
    to_store: queue.Queue[Any] = queue.Queue(IN_FLIGHT)
    stored: list[Outcome[T]] = []  # written by the storer only, read after it is joined

    def reader() -> None:
        for item_id in item_ids:
            if stop.is_set():
                break
            try:
                to_transform.put((item_id, read(item_id), None))
            except Exception as error:  # noqa: BLE001 - reported per item
                to_transform.put((item_id, None, error))
        to_transform.put(_END)

    def storer() -> None:
        while (entry := to_store.get()) is not _END:
            item_id, payload, error = entry
            outcome: Outcome[T] = Outcome(item_id, error=error)
            if error is None:
                try:
                    outcome.value = store(payload)
                except Exception as store_error:  # noqa: BLE001 - reported per item
                    outcome.error = store_error
            stored.append(outcome)

    reading = threading.Thread(target=reader, name="anon-consistent-read", daemon=True)
    storing = threading.Thread(target=storer, name="anon-consistent-store", daemon=True)
    reading.start()
    storing.start()
    cancelled = False
    transformed = 0
    try:
        while (entry := to_transform.get()) is not _END:
            if not should_continue(transformed):
                cancelled = True
                break
            item_id, data, error = entry
            payload = None
            if error is None:
                try:
                    payload = transform(data)
                except Exception as transform_error:  # noqa: BLE001 - reported per item
                    error = transform_error
            to_store.put((item_id, payload, error))
            transformed += 1
    finally:
        stop.set()
        while reading.is_alive():  # unblock a reader waiting on a full queue
            try:
                to_transform.get(timeout=0.05)
            except queue.Empty:
                pass
        to_store.put(_END)
        storing.join()
    if cancelled:
        raise Stopped(stored)
    return stored
