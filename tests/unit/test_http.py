"""The REST plumbing: an unexpected error is answered and logged without DICOM values."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from anon_consistent.adapter.http import rest_callback


class FakeOutput:
    def __init__(self) -> None:
        self.status: int | None = None
        self.body = ""

    def SetHttpHeader(self, name: str, value: str) -> None:
        pass

    def SendHttpStatus(self, status: int, text: str, size: int) -> None:
        self.status, self.body = status, text

    def AnswerBuffer(self, text: str, mime: str) -> None:
        self.status, self.body = 200, text


def test_an_unexpected_error_is_a_500_without_values(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: dict[str, Any]) -> object:
        raise TypeError("cannot use 'Quixote^Zebulon' born 19420817 with '1.2.840.113619.2.55.3.0604688119.01'")

    output = FakeOutput()
    with caplog.at_level(logging.ERROR, logger="anon_consistent"):
        rest_callback({"POST": handler})(output, "/anon-consistent/studies/x", method="POST")
    body = json.loads(output.body)
    assert output.status == 500 and body["Message"] == "TypeError: cannot use '…' born … with '…'"
    assert "Traceback" in caplog.text  # the traceback is still logged, for the developer
    for value in ("Quixote", "19420817", "0604688119"):
        assert value not in caplog.text and value not in output.body
