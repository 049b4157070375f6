from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from anon_consistent.adapter.http import DICOM, HttpError, Request, media_parameters, prefers, rest_callback


class FakeOutput:
    """Records what a callback sends, with the plugin 4.0 signatures."""

    def __init__(self) -> None:
        self.status = 0
        self.body = b""
        self.headers: dict[str, str] = {}

    def AnswerBuffer(self, text: str, mime: str) -> None:
        self.status, self.body, self.headers["Content-Type"] = 200, text.encode(), mime

    def SetHttpHeader(self, name: str, value: str) -> None:
        self.headers[name] = value

    def SendHttpStatus(self, status: int, text: str, size: int) -> None:
        assert status != 405, "Orthanc 1.10 drops the connection on a 405 with a body"
        self.status, self.body = status, text.encode()

    def SendMethodNotAllowed(self, allowed: str) -> None:
        self.status, self.headers = 405, {"Allow": allowed}  # Orthanc clears the other headers


def call(handlers: dict[str, Any], method: str, body: bytes | None = None) -> FakeOutput:
    output = FakeOutput()
    request: dict[str, Any] = {"method": method, "groups": ()}
    if body is not None:
        request["body"] = body
    rest_callback(handlers)(output, "/anon-consistent/x", **request)
    return output


def test_deep_bodies_are_refused_before_the_handler_runs() -> None:
    seen: list[Request] = []

    def handler(request: Request) -> dict[str, bool]:
        seen.append(request)
        return {"ok": True}

    handlers = {"POST": handler}
    output = call(handlers, "POST", b"[" * 100_000 + b"]" * 100_000)
    answer = json.loads(output.body)
    assert output.status == 400 and output.headers["Content-Type"] == "application/json"
    assert answer["HttpStatus"] == 400 and "levels deep" in answer["Message"] and answer["Method"] == "POST"
    assert not seen
    assert call(handlers, "POST", b'{"a": [1]}').status == 200 and len(seen) == 1


def test_oversized_bodies_are_refused_on_any_method_that_carries_one() -> None:
    handlers = {"PUT": lambda request: {"ok": True}}
    output = call(handlers, "PUT", b'"' + b"x" * (1024 * 1024) + b'"')
    assert output.status == 400 and "at most 1048576" in json.loads(output.body)["Message"]


def test_wrong_method_is_a_405_with_allow() -> None:
    output = call({"POST": lambda request: {}, "DELETE": lambda request: {}}, "GET")
    assert output.status == 405 and output.headers["Allow"] == "DELETE,POST"


def test_an_unexpected_error_is_a_500_without_values(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: Request) -> object:
        raise TypeError("cannot use 'Quixote^Zebulon' born 19420817 with '1.2.840.113619.2.55.3.0604688119.01'")

    with caplog.at_level(logging.ERROR, logger="anon_consistent"):
        output = call({"POST": handler}, "POST")
    body = json.loads(output.body)
    assert output.status == 500 and body["Message"] == "TypeError: cannot use '…' born … with '…'"
    assert "Traceback" in caplog.text  # the traceback is still logged, for the developer
    for value in ("Quixote", "19420817", "0604688119"):
        assert value not in caplog.text and value.encode() not in output.body


@pytest.mark.parametrize(
    ("accept", "file"),
    [
        ("application/dicom", True),
        ("Application/DICOM", True),
        ("application/dicom;q=0.5", True),
        ("application/json, application/dicom;q=0.5", False),  # JSON preferred
        ("application/dicom, application/json", True),  # a tie: the first listed
        ("application/json;q=0.2, application/dicom", True),
        ("*/*", False),
        ("application/*", False),
        ("application/dicom;q=0", False),
        ("application/dicom+json", False),
        ("", False),
    ],
)
def test_the_file_is_answered_only_when_dicom_is_preferred(accept: str, file: bool) -> None:
    assert prefers({"headers": {"accept": accept}}, DICOM) is file


def test_a_malformed_quality_is_a_400() -> None:
    with pytest.raises(HttpError) as refused:
        prefers({"headers": {"accept": "application/dicom;q=abc"}}, DICOM)
    assert refused.value.status == 400


def test_media_parameters_are_read_for_the_type() -> None:
    request = {"headers": {"accept": 'application/dicom; transfer-syntax="1.2.840.10008.1.2.4.50"; q=1'}}
    assert media_parameters(request, DICOM) == {"transfer-syntax": "1.2.840.10008.1.2.4.50"}
