"""Calls that touch the same source instances in one project run one after the other.

Two calls on one study with different options would otherwise interleave and
leave a stored study that mixes both option sets. The README promises "the
latest call wins", so a call waits for every *earlier* overlapping call, in
arrival order, and then replaces their output. Waiting only on earlier tickets
makes a cycle, and so a deadlock, impossible.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

POLL_SECONDS = 0.2


class LockWaitCancelled(Exception):
    """The caller gave up while waiting for an earlier call on the same instances."""


@dataclass(frozen=True)
class _Claim:
    ticket: int
    project: str
    instances: frozenset[str]

    def must_wait_for(self, other: _Claim) -> bool:
        return (
            other.ticket < self.ticket
            and other.project == self.project
            and not self.instances.isdisjoint(other.instances)
        )


class InstanceLocks:
    """In-process ordering of calls by (project, source instance)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._claims: list[_Claim] = []
        self._tickets = itertools.count()

    @contextmanager
    def hold(
        self,
        project: str,
        instance_ids: Iterable[str],
        keep_waiting: Callable[[], bool] = lambda: True,
    ) -> Iterator[None]:
        """Run the body once no earlier call of ``project`` holds or awaits any of ``instance_ids``.

        ``keep_waiting`` is asked while waiting; False raises LockWaitCancelled.
        """
        with self._changed:
            # The claim is registered before waiting, so a later call queues
            # behind this one even while this one is still waiting.
            claim = _Claim(next(self._tickets), project, frozenset(instance_ids))
            self._claims.append(claim)
            try:
                while any(claim.must_wait_for(other) for other in self._claims):
                    if not keep_waiting():
                        raise LockWaitCancelled("cancelled while waiting for an earlier call on the same instances")
                    self._changed.wait(POLL_SECONDS)
            except BaseException:
                self._release(claim)
                raise
        try:
            yield
        finally:
            with self._changed:
                self._release(claim)

    def _release(self, claim: _Claim) -> None:
        self._claims.remove(claim)
        self._changed.notify_all()

    def waiting(self) -> int:
        """Number of calls registered (running or waiting), for tests and status."""
        with self._changed:
            return len(self._claims)
