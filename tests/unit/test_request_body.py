from __future__ import annotations

import json

import pytest

from anon_consistent.request_body import MAX_BODY_BYTES, MAX_DEPTH, BodyRefused, DuplicateKey, check_body, load_body


def nested(depth: int, opening: str = "[", closing: str = "]") -> str:
    return '{"Keep": ' + opening * depth + closing * depth + "}"


@pytest.mark.parametrize("depth", [100, 1_000, 100_000])
@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ('{"a":', "}")])
def test_deep_nesting_is_refused(depth: int, opening: str, closing: str) -> None:
    for body in (nested(depth, opening, closing), nested(depth, opening, closing).encode()):
        with pytest.raises(BodyRefused, match=f"more than {MAX_DEPTH} levels"):
            check_body(body)


def test_nesting_up_to_the_limit_is_accepted() -> None:
    body = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)  # plus the outer object
    check_body(nested(MAX_DEPTH - 1))
    json.loads(body)  # and it parses
    with pytest.raises(BodyRefused):
        check_body(nested(MAX_DEPTH))


def test_unclosed_nesting_is_refused_too() -> None:
    with pytest.raises(BodyRefused):
        check_body(b"[" * 10_000)


def test_brackets_inside_strings_do_not_count() -> None:
    check_body(json.dumps({"Replace": {"StudyDescription": "[" * 1000 + "{" * 1000}}))
    # An escaped quote does not end the string, so the brackets after it stay inside.
    check_body(b'{"Replace": {"StudyDescription": "\\"' + b"[" * 1000 + b'"}}')
    check_body(b'{"Replace": {"StudyDescription": "\\\\' + b'"}, "Keep": []}')


def test_a_string_cannot_hide_the_nesting_after_it() -> None:
    with pytest.raises(BodyRefused):
        check_body(b'{"a": "x\\\\", "b": ' + b"[" * 100 + b"]" * 100 + b"}")


def test_utf16_body_is_scanned_as_characters() -> None:
    # U+225B encodes as 5B 22 in UTF-16-LE: a byte scanner would see a quote
    # there and take everything after the next real quote for a string.
    body = '{"a": "\u225b", "b": ' + "[" * 100 + "]" * 100 + "}"
    with pytest.raises(BodyRefused):
        check_body(body.encode("utf-16"))
    check_body(json.dumps({"a": "\u225b" * 100}, ensure_ascii=False).encode("utf-16"))


def test_oversized_body_is_refused() -> None:
    body = b'{"Replace": {"StudyDescription": "' + b"x" * MAX_BODY_BYTES + b'"}}'
    with pytest.raises(BodyRefused, match=f"at most {MAX_BODY_BYTES}"):
        check_body(body)
    with pytest.raises(BodyRefused, match="bytes"):
        check_body(body.decode())


@pytest.mark.parametrize("body", [None, b"", "", b"{}", b'{"Keep": ["PatientName"]}', b"\xff\xfe\x00garbage", b"]]]]"])
def test_ordinary_or_merely_invalid_bodies_pass(body: bytes | str | None) -> None:
    check_body(body)  # json.loads reports invalid JSON itself, without recursing


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('{"Options": ["RetainUIDs"], "Options": []}', "Options"),
        ('{"Replace": {"PatientName": "A", "PatientName": "B"}}', "PatientName"),  # nested
        ('{"Keep": [{"Creator": "A", "Element": "0019,xx0C", "Creator": "B"}]}', "Creator"),  # in a list
    ],
)
def test_a_repeated_key_is_refused_at_any_depth(body: str, key: str) -> None:
    for form in (body, body.encode()):
        with pytest.raises(DuplicateKey, match=f'names "{key}" twice'):
            load_body(form)


def test_distinct_keys_load_as_json_loads_does() -> None:
    body = '{"Replace": {"PatientName": "A"}, "Keep": [{"Creator": "A"}], "Options": []}'
    assert load_body(body) == json.loads(body)
