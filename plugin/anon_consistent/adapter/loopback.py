"""Reading and storing instances through Orthanc's own HTTP server on loopback.

Why not the SDK: plugin 4.0 holds the GIL for the whole of an SDK call, so
while Orthanc parses and stores one instance no Python thread can rewrite the
next one. A socket call releases the GIL: Orthanc then stores on its HTTP
thread while the pipeline rewrites on ours, and the two costs overlap. Access
uses a token from ``GenerateRestApiAuthorizationToken``, so it works with
authentication enabled. If loopback HTTP is unavailable (TLS, a filtering
plugin, a closed port) the gateway falls back to the SDK for good.

Loopback needs free HTTP threads, and every synchronous call already holds
one. If calls took loopback whatever the load, enough simultaneous calls would
hold every thread while their own transfers queue behind them: a stall that
only a timeout breaks. So each call asks ``HttpThreadBudget`` for a lease
first; without one it runs on the SDK, which needs no HTTP thread and always
makes progress. See the README, "Concurrent calls".
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from ..results import Level, StoredInstance
from ..service import ResourceNotFound, StoreError
from .gateway import GONE, PARENT_KEY, SdkGateway, stored_instance

log = logging.getLogger(__name__)

# Generous for a large multi-frame instance. Admission (HttpThreadBudget) keeps
# our own calls from saturating Orthanc; this only catches threads held by
# other clients, and then every call uses the SDK for CONGESTION_SECONDS.
REQUEST_TIMEOUT_SECONDS = 60
CONGESTION_SECONDS = 30.0
# How long loopback rests after a call had to wait for an earlier one.
YIELD_SECONDS = 5.0
# HTTP threads a lease may never take: Explorer, /system and other clients.
RESERVED_HTTP_THREADS = 2
# A call's pipeline has at most one read, one store and one provenance write in flight.
THREADS_PER_LEASE = 3

_RETRYABLE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, http.client.CannotSendRequest)


class LoopbackUnavailable(RuntimeError):
    """Loopback HTTP cannot work here (refused, TLS...): use the SDK from now on."""


class LoopbackBusy(RuntimeError):
    """This one request timed out: use the SDK for it, keep loopback for the next."""


class LoopbackYielded(RuntimeError):
    """Loopback was given up for a moment because calls are waiting (yield_http_threads)."""


class HttpThreadBudget:
    """Admission to loopback transfers, so that they can always get an HTTP thread.

    With ``S`` synchronous calls in progress (each holds one HTTP thread) and
    ``L`` leases, a new lease is granted only if ``S + 3(L+1) + reserved <=
    threads``. Calls without a lease use the SDK and need no HTTP thread, so
    leased transfers wait at most for calls that are themselves progressing.
    """

    def __init__(self, http_threads: int, reserved: int = RESERVED_HTTP_THREADS) -> None:
        self._threads = http_threads
        self._reserved = reserved
        self._lock = threading.Lock()
        self._synchronous = 0
        self._leases = 0

    @contextmanager
    def synchronous_call(self) -> Iterator[None]:
        """Count a call that holds an HTTP thread for its whole duration."""
        with self._lock:
            self._synchronous += 1
        try:
            yield
        finally:
            with self._lock:
                self._synchronous -= 1

    def try_lease(self) -> bool:
        with self._lock:
            needed = self._synchronous + THREADS_PER_LEASE * (self._leases + 1) + self._reserved
            if needed > self._threads:
                return False
            self._leases += 1
            return True

    def still_fits(self) -> bool:
        """Whether the leases granted still fit, now that more synchronous calls may hold threads.

        A call that arrives after a lease may wait (for the same instances)
        while holding its thread; leased calls then use the SDK until it fits again.
        """
        with self._lock:
            return self._synchronous + THREADS_PER_LEASE * self._leases + self._reserved <= self._threads

    def release(self) -> None:
        with self._lock:
            self._leases -= 1

    def state(self) -> dict[str, int]:
        with self._lock:
            return {"HttpThreads": self._threads, "SynchronousCalls": self._synchronous, "Leases": self._leases}


class LoopbackGateway(SdkGateway):
    def __init__(self, orthanc: Any, port: int, budget: HttpThreadBudget) -> None:
        super().__init__(orthanc)
        self._port = port
        self._budget = budget
        self._sdk = SdkGateway(orthanc)
        self._local = threading.local()
        self._headers = (
            {"Authorization": _bearer(orthanc)} if hasattr(orthanc, "GenerateRestApiAuthorizationToken") else {}
        )
        self._fallback = False
        self._congested_until = 0.0
        self._in_flight: set[http.client.HTTPConnection] = set()
        self._in_flight_lock = threading.Lock()
        self._yields = 0

    def synchronous_call(self) -> AbstractContextManager[None]:
        return self._budget.synchronous_call()

    @contextmanager
    def for_call(self) -> Iterator[SdkGateway]:
        """Loopback for this call if a lease is free, else the SDK."""
        if self._fallback or self._congested() or not self._budget.try_lease():
            yield self._sdk
            return
        try:
            yield self
        finally:
            self._budget.release()

    def _congested(self) -> bool:
        return time.monotonic() < self._congested_until

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=REQUEST_TIMEOUT_SECONDS)
            self._local.connection = connection
        return connection

    def _request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/dicom"
        for attempt in (1, 2):
            connection = self._connection()
            generation = self._yields
            try:
                if connection.sock is None:
                    # Connecting needs no HTTP thread (the listen backlog); with the
                    # socket in place, yield_http_threads can cut what follows.
                    connection.connect()
                with self._in_flight_lock:
                    if self._congested():
                        raise LoopbackYielded("other calls are waiting")
                    generation = self._yields  # a later yield cuts this connection
                    self._in_flight.add(connection)
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.read()
            except _RETRYABLE as error:
                # Orthanc closes idle keep-alive connections after a second;
                # yield_http_threads closes ours on purpose.
                connection.close()
                self._local.connection = None
                if self._yields != generation:
                    raise LoopbackYielded(str(error)) from error
                if attempt == 2:
                    raise
            except TimeoutError as error:
                connection.close()
                self._local.connection = None
                raise LoopbackBusy(str(error)) from error
            except OSError as error:
                connection.close()
                self._local.connection = None
                if self._yields != generation:
                    raise LoopbackYielded(str(error)) from error
                raise LoopbackUnavailable(str(error)) from error
            finally:
                with self._in_flight_lock:
                    self._in_flight.discard(connection)
        raise AssertionError("unreachable")

    def yield_http_threads(self) -> None:
        """A call is waiting for an earlier one while holding an HTTP thread: stop loopback for a while.

        Its thread may be the one an earlier call's transfer is queued for, so
        the transfers in flight are cut (they are redone through the SDK,
        which needs no HTTP thread) and new ones use the SDK for YIELD_SECONDS.
        """
        with self._in_flight_lock:
            self._yields += 1
            self._congested_until = max(self._congested_until, time.monotonic() + YIELD_SECONDS)
            for connection in self._in_flight:
                sock = connection.sock
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass  # already closed

    def _give_up(self, reason: str) -> None:
        if not self._fallback:
            log.warning("anon-consistent: loopback HTTP unavailable (%s); using the plugin SDK instead", reason)
        self._fallback = True

    def _busy(self) -> None:
        if not self._congested():
            log.warning(
                "anon-consistent: Orthanc's HTTP threads are all busy; using the plugin SDK for %.0f s",
                CONGESTION_SECONDS,
            )
        self._congested_until = time.monotonic() + CONGESTION_SECONDS

    def _use_sdk(self) -> bool:
        return self._fallback or self._congested() or not self._budget.still_fits()

    def _over_loopback(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes] | None:
        """Status and body of a loopback request, or None when the SDK must do this one."""
        if self._use_sdk():
            return None
        try:
            return self._request(method, path, body)
        except LoopbackUnavailable as error:
            self._give_up(str(error))
        except LoopbackBusy:
            self._busy()
        except LoopbackYielded:
            pass
        return None

    def read_instance(self, instance_id: str) -> bytes:
        answer = self._over_loopback("GET", f"/instances/{instance_id}/file")
        if answer is None:
            return super().read_instance(instance_id)
        status, body = answer
        if status == 404:
            raise ResourceNotFound(GONE)
        if status in (401, 403):
            self._give_up(f"GET answered {status}")
        if status != 200:
            # The SDK gives the same answer with Orthanc's own error, or the file.
            return super().read_instance(instance_id)
        return body

    def store_instance(self, data: bytes) -> StoredInstance:
        answer = self._over_loopback("POST", "/instances", data)
        if answer is None:
            return super().store_instance(data)
        status, body = answer
        if status in (401, 403):
            self._give_up(f"POST answered {status}")
            return super().store_instance(data)
        if status != 200:
            raise StoreError(f"Orthanc refused the anonymized instance (HTTP {status}): {_message(body)}")
        return stored_instance(json.loads(body))

    def parent(self, level: Level, resource_id: str) -> str:
        answer = self._over_loopback("GET", f"/{level.plural}/{resource_id}")
        if answer is None or answer[0] != 200:
            return super().parent(level, resource_id)  # Orthanc's own answer, or ResourceNotFound
        return str(json.loads(answer[1])[PARENT_KEY[level]])

    # A metadata write is a database transaction in Orthanc: over the SDK it
    # would hold the GIL (plugin 4.0) while the next instance waits to be rewritten.
    def metadata(self, level: Level, resource_id: str, index: int) -> str | None:
        answer = self._over_loopback("GET", f"/{level.plural}/{resource_id}/metadata/{index}")
        if answer is None or answer[0] in (401, 403):
            return super().metadata(level, resource_id, index)
        status, body = answer
        return body.decode("utf-8", "replace") if status == 200 else None

    def set_metadata(self, level: Level, resource_id: str, index: int, value: str) -> None:
        answer = self._over_loopback("PUT", f"/{level.plural}/{resource_id}/metadata/{index}", value.encode("utf-8"))
        if answer is None or answer[0] in (401, 403):
            super().set_metadata(level, resource_id, index, value)
        elif answer[0] != 200:
            raise StoreError(f"Orthanc refused the metadata (HTTP {answer[0]}): {_message(answer[1])}")


def _bearer(orthanc: Any) -> str:
    token = str(orthanc.GenerateRestApiAuthorizationToken())
    return token if token.startswith("Bearer ") else f"Bearer {token}"


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body).get("Message", body[:200]))
    except ValueError:
        return body[:200].decode("utf-8", "replace")


def make_gateway(orthanc: Any, loopback_port: int | None, http_threads: int) -> SdkGateway:
    """Loopback HTTP when configured, else the SDK."""
    if loopback_port is None:
        return SdkGateway(orthanc)
    return LoopbackGateway(orthanc, loopback_port, HttpThreadBudget(http_threads))
