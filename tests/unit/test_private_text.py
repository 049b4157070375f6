"""Shapes of UIDs and dates in kept private values: what is found, and what is left alone."""

from __future__ import annotations

import pytest

from anon_consistent.private_text import scrub_private_text


def scrub(text: str, shift: bool = True) -> str:
    return scrub_private_text(text, lambda uid: f"NEW({uid})", (lambda: -10) if shift else None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20230101", "20221222"),
        ("20230101 ", "20221222 "),  # padding kept
        ("20230101\x00", "20221222\x00"),
        ("X\\20230101\\Y", "X\\20221222\\Y"),  # one value of many
        ("202301011230", "202212221230"),  # DT in an IS
        ("20230101123045.5", "20221222123045.5"),  # DT in a DS
        ("20230101123045.123456-0500", "20221222123045.123456-0500"),
        ("scan of 20230101 at noon", "scan of 20221222 at noon"),
        ("2023-01-05T10:00:00+01:00", "2022-12-26T10:00:00+01:00"),
        ("2023/01/05", "2022/12/26"),
        ("2023.01.05", "2022.12.26"),
        ("1999-03-01", "1999-02-19"),
        ("20230101T120000", "20221222T120000"),  # ISO 8601 basic
        ("20230101T1200Z", "20221222T1200Z"),
        ("20230101T120000.5+0100", "20221222T120000.5+0100"),
        ("2023:01:01 12:00:00", "2022:12:22 12:00:00"),  # EXIF DateTimeOriginal
        ("X\\2023:01:05 08:30:00\x00", "X\\2022:12:26 08:30:00\x00"),
    ],
)
def test_date_tokens_are_shifted_keeping_their_form(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "20231399",  # no such month: a number
        "20230231",  # no such day
        "120230101",  # a longer number
        "a20230101",
        "20230101.5",  # a decimal number
        "01/02/2023",  # day or month first: ambiguous, not recognized
        "18991231",  # before 1900
        "2023-01-05/2023-01-06",
        "20230101T",  # a T without its hour
        "2023:01-05",  # mixed separators
        "12:00:00",
    ],
)
def test_what_is_not_a_date_token_is_left_alone(text: str) -> None:
    assert scrub(text) == text


def test_uids_are_whole_values_and_registry_uids_are_kept() -> None:
    assert scrub("1.2.3.20230101", shift=False) == "NEW(1.2.3.20230101)"
    assert scrub("1.2.3.4\x00") == "NEW(1.2.3.4)"
    assert scrub("A\\1.2.3.4") == "A\\NEW(1.2.3.4)"
    assert scrub("1.2.840.10008.1.2.1") == "1.2.840.10008.1.2.1"
    assert scrub("see 1.2.3.4") == "see 1.2.3.4"  # inside a text: not seen


def test_without_shift_dates_dates_stay() -> None:
    assert scrub("20230101", shift=False) == "20230101"
