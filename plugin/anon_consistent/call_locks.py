"""Calls that touch the same source instances in one project run one after the other.

Two calls on one study with different options would otherwise interleave and
leave a stored study that mixes both option sets. The README promises "the
latest call wins", so a call waits for every *earlier* overlapping call, in
arrival order, and then replaces their output. Waiting only on earlier tickets
makes a cycle, and so a deadlock, impossible.

A synchronous call takes its ticket when it arrives. A job takes it when it is
submitted, before it waits in the job queue: the job queue then runs an
earlier job first when a later one would wait for it (``earliest_unstarted_blocker``),
so that a worker never waits for a job no worker can start.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

POLL_SECONDS = 0.2


class LockWaitCancelled(Exception):
    """The caller gave up while waiting for an earlier call on the same instances."""


class Claim:
    """A call's place in line: its ticket, project and source instances."""

    __slots__ = ("instances", "project", "started", "ticket")

    def __init__(self, ticket: int, project: str, instances: frozenset[str]) -> None:
        self.ticket = ticket
        self.project = project
        self.instances = instances
        # False while the owner (a submitted job) has not begun to wait for its turn.
        self.started = False

    def overlaps_earlier(self, other: Claim) -> bool:
        return (
            other.ticket < self.ticket
            and other.project == self.project
            and not self.instances.isdisjoint(other.instances)
        )


def _nothing() -> None:
    return None


class InstanceLocks:
    """In-process ordering of calls by (project, source instance)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._claims: list[Claim] = []
        self._tickets = itertools.count()

    def claim(self, project: str, instance_ids: Iterable[str]) -> Claim:
        """Take a place in line now; the owner must later ``wait_turn`` and ``release`` it."""
        with self._changed:
            claim = Claim(next(self._tickets), project, frozenset(instance_ids))
            self._claims.append(claim)
            return claim

    def wait_turn(
        self,
        claim: Claim,
        keep_waiting: Callable[[], bool] = lambda: True,
        on_wait: Callable[[], None] = _nothing,
    ) -> None:
        """Block until no earlier claim overlaps ``claim``.

        ``on_wait`` is called while the caller waits (the adapter then frees
        the HTTP threads the earlier call may be waiting for);
        ``keep_waiting`` is asked while waiting, and False releases the claim
        and raises LockWaitCancelled.
        """
        with self._changed:
            claim.started = True
            try:
                while any(claim.overlaps_earlier(other) for other in self._claims):
                    on_wait()  # again at every poll: it lasts only while someone waits
                    if not keep_waiting():
                        raise LockWaitCancelled("cancelled while waiting for an earlier call on the same instances")
                    self._changed.wait(POLL_SECONDS)
            except BaseException:
                self._release(claim)
                raise

    def release(self, claim: Claim) -> None:
        with self._changed:
            self._release(claim)

    @contextmanager
    def hold(
        self,
        project: str,
        instance_ids: Iterable[str],
        keep_waiting: Callable[[], bool] = lambda: True,
        on_wait: Callable[[], None] = _nothing,
        claim: Claim | None = None,
    ) -> Iterator[None]:
        """Run the body in turn: claim now (or use the claim taken at submission), wait, release after."""
        claim = claim or self.claim(project, instance_ids)
        self.wait_turn(claim, keep_waiting, on_wait)
        try:
            yield
        finally:
            self.release(claim)

    def earliest_unstarted_blocker(self, claim: Claim) -> Claim | None:
        """The earliest claim ``claim`` would wait for whose owner has not started (a job still queued)."""
        with self._changed:
            blockers = [c for c in self._claims if not c.started and claim.overlaps_earlier(c)]
            return min(blockers, key=lambda c: c.ticket) if blockers else None

    def _release(self, claim: Claim) -> None:
        if claim in self._claims:
            self._claims.remove(claim)
        self._changed.notify_all()

    def waiting(self) -> int:
        """Number of calls registered (queued, waiting or running), for tests and status."""
        with self._changed:
            return len(self._claims)
