"""Reading and storing instances through Orthanc's own HTTP server on loopback.

Why not the SDK: plugin 4.0 holds the GIL for the whole of an SDK call, so
while Orthanc parses and stores one instance no Python thread can rewrite the
next one. A socket call releases the GIL: Orthanc then stores on its HTTP
thread while the pipeline rewrites on ours, and the two costs overlap. Access
uses a token from ``GenerateRestApiAuthorizationToken``, so it works with
authentication enabled. If loopback HTTP is unavailable (TLS, a filtering
plugin, a closed port) the gateway falls back to the SDK for good.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
from typing import Any

from ..service import ResourceNotFound, StoredInstance, StoreError
from .gateway import SdkGateway, stored_instance

log = logging.getLogger(__name__)

# Generous for a large multi-frame instance, short enough that a saturated
# Orthanc (every HTTP thread busy) costs one wait before the SDK takes over.
REQUEST_TIMEOUT_SECONDS = 120

_RETRYABLE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, http.client.CannotSendRequest)


class LoopbackUnavailable(RuntimeError):
    """Loopback HTTP cannot work here (refused, TLS...): use the SDK from now on."""


class LoopbackBusy(RuntimeError):
    """This one request timed out: use the SDK for it, keep loopback for the next."""


class LoopbackGateway(SdkGateway):
    def __init__(self, orthanc: Any, port: int) -> None:
        super().__init__(orthanc)
        self._port = port
        self._local = threading.local()
        self._headers = (
            {"Authorization": _bearer(orthanc)} if hasattr(orthanc, "GenerateRestApiAuthorizationToken") else {}
        )
        self._fallback = False

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
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.read()
            except _RETRYABLE:
                # Orthanc closes idle keep-alive connections after a second.
                connection.close()
                self._local.connection = None
                if attempt == 2:
                    raise
            except TimeoutError as error:
                connection.close()
                self._local.connection = None
                raise LoopbackBusy(str(error)) from error
            except OSError as error:
                connection.close()
                self._local.connection = None
                raise LoopbackUnavailable(str(error)) from error
        raise AssertionError("unreachable")

    def _give_up(self, reason: str) -> None:
        if not self._fallback:
            log.warning("anon-consistent: loopback HTTP unavailable (%s); using the plugin SDK instead", reason)
        self._fallback = True

    def read_instance(self, instance_id: str) -> bytes:
        if self._fallback:
            return super().read_instance(instance_id)
        try:
            status, body = self._request("GET", f"/instances/{instance_id}/file")
        except LoopbackUnavailable as error:
            self._give_up(str(error))
            return super().read_instance(instance_id)
        except LoopbackBusy:
            return super().read_instance(instance_id)
        if status == 404:
            raise ResourceNotFound(f"instance {instance_id}")
        if status in (401, 403):
            self._give_up(f"GET answered {status}")
        if status != 200:
            # The SDK gives the same answer with Orthanc's own error, or the file.
            return super().read_instance(instance_id)
        return body

    def store_instance(self, data: bytes) -> StoredInstance:
        if self._fallback:
            return super().store_instance(data)
        try:
            status, body = self._request("POST", "/instances", data)
        except LoopbackUnavailable as error:
            self._give_up(str(error))
            return super().store_instance(data)
        except LoopbackBusy:
            return super().store_instance(data)
        if status in (401, 403):
            self._give_up(f"POST answered {status}")
            return super().store_instance(data)
        if status != 200:
            raise StoreError(f"Orthanc refused the anonymized instance (HTTP {status}): {_message(body)}")
        return stored_instance(json.loads(body))


def _bearer(orthanc: Any) -> str:
    token = str(orthanc.GenerateRestApiAuthorizationToken())
    return token if token.startswith("Bearer ") else f"Bearer {token}"


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body).get("Message", body[:200]))
    except ValueError:
        return body[:200].decode("utf-8", "replace")


def make_gateway(orthanc: Any, loopback_port: int | None) -> SdkGateway:
    """Loopback HTTP when configured, else the SDK."""
    return SdkGateway(orthanc) if loopback_port is None else LoopbackGateway(orthanc, loopback_port)
