"""REST plumbing: JSON answers, Orthanc-style errors, method dispatch."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from ..errors import describe_unexpected, without_values
from ..request_body import BodyRefused, check_body
from ..store import StoreUnavailable

log = logging.getLogger(__name__)

Request = dict[str, Any]

DICOM = "application/dicom"
Handler = Callable[[Request], Any]


class HttpError(Exception):
    """An error answered to the client as ``{"HttpStatus", "HttpError", "Message", ...}``."""

    def __init__(self, status: int, message: str, details: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def error_body(status: int, message: str, method: str, uri: str, details: object = None) -> dict[str, object]:
    body: dict[str, object] = {
        "HttpStatus": status,
        "HttpError": HTTPStatus(status).phrase,
        "Message": message,
        "Method": method,
        "Uri": uri,
    }
    if details is not None:
        body["Details"] = details
    return body


def send_json(output: Any, payload: object, status: int = 200) -> None:
    text = json.dumps(payload, indent=3)
    if status == 200:
        output.AnswerBuffer(text, "application/json")
    else:
        output.SetHttpHeader("Content-Type", "application/json")
        send_status(output, status, text)


def send_status(output: Any, status: int, text: str) -> None:
    """Plugin 4.0 takes (status, str, byte length); later versions take (status, buffer)."""
    try:
        output.SendHttpStatus(status, text, len(text.encode("utf-8")))
    except TypeError:
        output.SendHttpStatus(status, text.encode("utf-8"))


def prefers(request: Request, mime: str) -> bool:
    """Whether the Accept header asks for ``mime`` itself before any other named type.

    A wildcard (``*/*``, ``application/*``) never chooses it: browsers and curl
    send one. Among named types the highest q wins, and on a tie the first
    listed. A malformed q is the client's mistake (HttpError 400). Plugin 4.0
    passes header names in lower case.
    """
    headers = request.get("headers") or {}
    accept = next((str(value) for name, value in headers.items() if name.lower() == "accept"), "")
    best: tuple[float, str] | None = None
    for entry in accept.split(","):
        kind, *parameters = (part.strip() for part in entry.split(";"))
        kind = kind.lower()
        if not kind or "*" in kind:
            continue
        quality = _quality(parameters, entry)
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, kind)
    return best is not None and best[1] == mime


def media_parameters(request: Request, mime: str) -> dict[str, str]:
    """The parameters (other than q) given with ``mime`` in the Accept header."""
    headers = request.get("headers") or {}
    accept = next((str(value) for name, value in headers.items() if name.lower() == "accept"), "")
    for entry in accept.split(","):
        kind, *parameters = (part.strip() for part in entry.split(";"))
        if kind.lower() == mime:
            pairs = (p.split("=", 1) for p in parameters if "=" in p)
            return {k.strip().lower(): v.strip().strip('"') for k, v in pairs if k.strip().lower() != "q"}
    return {}


def _quality(parameters: list[str], entry: str) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = -1.0
            if not 0 <= quality <= 1:
                raise HttpError(400, f"Malformed q in the Accept header: {entry.strip()[:80]!r}")
            return quality
    return 1.0


def rest_callback(handlers: dict[str, Handler]) -> Callable[..., None]:
    """Wrap per-method handlers into an Orthanc REST callback.

    A handler returns a JSON-able value (answered with 200), or a
    ``(text, mime)`` tuple, or raises HttpError. Every request body is
    checked for size and nesting depth before a handler sees it.
    """

    def callback(output: Any, uri: str, **request: Any) -> None:
        method = request.get("method", "GET")
        handler = handlers.get(method)
        if handler is None:
            # 405 with an Allow header and an empty body, as Orthanc answers
            # for its own routes: Orthanc 1.10 refuses any body on a 405
            # (SendHttpStatus throws and the connection is dropped).
            output.SendMethodNotAllowed(",".join(sorted(handlers)))
            return
        try:
            check_body(request.get("body"))
        except BodyRefused as refused:
            send_json(output, error_body(400, str(refused), method, uri), 400)
            return
        try:
            result = handler(request)
        except HttpError as error:
            send_json(output, error_body(error.status, error.message, method, uri, error.details), error.status)
            return
        except StoreUnavailable as error:
            # The message names the database without its password; nothing was half-written.
            send_json(output, error_body(503, str(error), method, uri), 503)
            return
        except Exception as error:  # noqa: BLE001 - a plugin must answer, never crash the HTTP thread
            # Exception texts and tracebacks can quote DICOM values: logged without them.
            trace = without_values(traceback.format_exc())
            reason = describe_unexpected(error)
            log.error("anon-consistent: %s %s failed: %s\n%s", method, uri, reason, trace)
            send_json(output, error_body(500, reason, method, uri), 500)
            return
        if isinstance(result, tuple):
            output.AnswerBuffer(*result)
        else:
            send_json(output, result)

    return callback
