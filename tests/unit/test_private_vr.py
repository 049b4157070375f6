"""A listed private element is kept only if it is of the table's kind: explicit VR equal, UN bytes that fit."""

from __future__ import annotations

import pytest

from anon_consistent.private_vr import explicit_vr_fits, un_value_fits


@pytest.mark.parametrize(
    ("listed_vr", "listed_vm", "value", "fits"),
    [
        ("IS", "4", b"1000\\8\\0\\0 ", True),
        ("IS", "1", b"DOE", False),
        ("IS", "1", b"1234567890123", False),  # 13 characters
        ("DS", "1", b"-1.5E+02", True),
        ("DS", "1", b"1.5 kg", False),
        ("CS", "1", b"DIRECTIONAL ", True),
        ("CS", "1", b"Doe", False),
        ("UI", "1", b"1.2.840.113619\x00", True),
        ("UI", "1", b"DOE^JOHN", False),
        ("LO", "1", b"epi2 ", True),
        ("LO", "1", b"a\x01b", False),
        ("SQ", "1-n", b"\xfe\xff\x00\xe0\x00\x00\x00\x00", True),
        ("SQ", "1-n", b"DOE^JOHN", False),
        ("FL", "1", b"\x00\x00\x80\x3f", True),
        ("FL", "1", b"\x00\x00\x80\x3f\x00\x00\x80\x3f", False),  # 2 values, VM 1
        ("US", "1-n", b"\x01\x00\x02\x00", True),
        ("UL", "1", b"\x01\x00", False),
        ("OW/OB", "1", b"\x01", True),
        ("", "1", b"anything", True),  # no VR listed: nothing to check
        ("FD", "1", b"", True),  # an empty value is always allowed
    ],
)
def test_un_values_are_judged_by_the_listed_vr_and_vm(listed_vr: str, listed_vm: str, value: bytes, fits: bool) -> None:
    assert un_value_fits(listed_vr, listed_vm, value) is fits


@pytest.mark.parametrize(
    ("listed_vr", "vr", "fits"),
    [
        ("FD", "FD", True),
        ("FD", "PN", False),
        ("FD", "OB", False),
        ("OW/OB", "OB", True),
        ("OW/OB", "OW", True),
        ("IS", "LO", False),
        ("", "DS", True),
        ("", "PN", False),
    ],
)
def test_explicit_vrs_must_be_the_listed_one(listed_vr: str, vr: str, fits: bool) -> None:
    assert explicit_vr_fits(listed_vr, vr) is fits
