from __future__ import annotations

import pytest

from anon_consistent.vr_values import supported, value_problem

FITS = [
    ("US", "0"), ("US", "65535"), ("US", " 512 "), ("SS", "-32768"), ("UL", "4294967295"), ("SL", "-2147483648"),
    ("UV", "18446744073709551615"), ("SV", "-9223372036854775808"), ("US or SS", "-1"), ("US or SS", "65535"),
    ("FL", "-1.5e10"), ("FL", "3.4e38"), ("FD", "1e308"), ("FD", ".5"),
    ("IS", "2147483647"), ("IS", " -12 "), ("DS", "-12.5"), ("DS", "1.5e-3"), ("DS", "1."), ("DS", "1234567890.12345"),
    ("DA", "20240229"), ("DA", "19000101"),
    ("TM", "14"), ("TM", "1430"), ("TM", "143059"), ("TM", "235960.123456"),
    ("DT", "2024"), ("DT", "202401"), ("DT", "20240131143000.123456+0100"), ("DT", "20240131-1200"),
    ("DT", "2024+1400"),
    ("AS", "045Y"), ("AS", "003D"), ("CS", "ORIGINAL"), ("CS", "A_B 9"), ("AE", "STORESCP"),
    ("UI", "1.2.840.10008.1.2"), ("PN", "Doe^John^^Dr.^Jr.=ドウ^ジョン=どう^じょん"), ("PN", "x" * 64),
    ("SH", "x" * 16), ("LO", "Ünïcode ok" + "x" * 54), ("UC", "x" * 1000), ("ST", "a\r\nb\tc\\d"), ("LT", "x" * 10240),
    ("UT", "x\\y\n" * 10_000), ("UR", "http://example.org/a?b=c#d"),
]  # fmt: skip


@pytest.mark.parametrize(("vr", "value"), FITS)
def test_values_that_fit(vr: str, value: str) -> None:
    assert value_problem(vr, "1", value) is None


@pytest.mark.parametrize(
    ("vr", "value", "problem"),
    [
        ("US", "70000", "an integer from 0 to 65535"),
        ("US", "-1", "an integer from 0 to 65535"),
        ("US", "1.0", "an integer"),
        ("US", "1_000", "an integer"),
        ("US", "\u0663", "an integer"),  # an Arabic-Indic digit: int() would take it
        ("US", "9" * 5000, "an integer"),  # beyond int()'s digit limit, still a 400 and not a ValueError
        ("SS", "32768", "from -32768 to 32767"),
        ("UL", "4294967296", "from 0 to 4294967295"),
        ("SL", "2147483648", "from -2147483648 to 2147483647"),
        ("US or SS", "-32769", "from -32768 to 65535 for VR US or SS"),
        ("FL", "3.5e38", "a decimal number"),
        ("FL", "nan", "a decimal number"),
        ("FD", "inf", "a decimal number"),
        ("FD", "1e309", "a decimal number"),
        ("IS", "2147483648", "an integer string"),
        ("IS", "1.5", "an integer string"),
        ("IS", "   1234567890", "at most 12 characters"),
        ("DS", "thin", "a decimal string"),
        ("DS", "1.23456789012345678", "at most 16 characters"),
        ("DS", "1e999", "a decimal string"),
        ("DS", "NaN", "a decimal string"),
        ("DA", "20240230", "a valid date YYYYMMDD"),
        ("DA", "2024-01-31", "a valid date"),
        ("DA", "2024013", "a valid date"),
        ("DA", "20240101-20241231", "a valid date"),  # a query range, not a value
        ("TM", "240000", "a valid time"),
        ("TM", "126000", "a valid time"),
        ("TM", "12:30:00", "a valid time"),
        ("TM", "12.5", "a valid time"),
        ("TM", "120000.1234567", "a valid time"),
        ("DT", "20241301", "a valid date-time"),
        ("DT", "20240230", "a valid date-time"),
        ("DT", "2024013125", "a valid date-time"),
        ("DT", "20240131+1500", "a valid date-time"),
        ("DT", "20240131-1300", "a valid date-time"),
        ("DT", "20240131+0160", "a valid date-time"),
        ("AS", "45Y", "an age"),
        ("AS", "045y", "an age"),
        ("CS", "ct", "A-Z, 0-9, space and underscore"),
        ("CS", "X" * 17, "at most 16 characters"),
        ("AE", "A" * 17, "at most 16 printable ASCII"),
        ("AE", "SCP\n", "printable ASCII"),
        ("UI", "1.2.3\n", "a valid UID"),
        ("UI", "1.02", "a valid UID"),
        ("PN", "A^B^C^D^E^F", "at most 5 components"),
        ("PN", "a=b=c=d", "at most 3 component groups"),
        ("PN", "x" * 65, "at most 64 characters in each component group"),
        ("PN", "Doe^John\n", "control characters"),
        ("SH", "x" * 17, "at most 16 characters long for VR SH"),
        ("LO", "x" * 65, "at most 64 characters long for VR LO"),
        ("LO", "two\nlines", "control characters"),
        ("UC", "tab\there", "control characters"),
        ("ST", "x" * 1025, "at most 1024 characters"),
        ("LT", "x" * 10241, "at most 10240 characters"),
        ("LT", "bell\x07", "control characters"),
        ("UR", "http://x/a b", "a URI"),
    ],
)
def test_values_that_do_not_fit(vr: str, value: str, problem: str) -> None:
    found = value_problem(vr, "1", value)
    assert found is not None and problem in found and found.endswith(f"for VR {vr}"), found


@pytest.mark.parametrize(
    ("vm", "good", "bad"),
    [
        ("1", ["1"], ["1\\2"]),
        ("2", ["1\\2"], ["1", "1\\2\\3"]),
        ("6", ["1\\0\\0\\0\\1\\0"], ["1\\0\\0\\0\\1"]),
        ("1-n", ["1", "1\\2\\3\\4"], []),
        ("2-n", ["1\\2", "1\\2\\3"], ["1"]),
        ("1-3", ["1", "1\\2\\3"], ["1\\2\\3\\4"]),
        ("2-2n", ["1\\2", "1\\2\\3\\4"], ["1", "1\\2\\3"]),
        ("3-3n", ["1\\2\\3", "1\\2\\3\\4\\5\\6"], ["1\\2", "1\\2\\3\\4"]),
    ],
)
def test_value_multiplicity(vm: str, good: list[str], bad: list[str]) -> None:
    for value in good:
        assert value_problem("DS", vm, value) is None, (vm, value)
    for value in bad:
        problem = value_problem("DS", vm, value)
        assert problem is not None and f"(VM {vm}), not {value.count(chr(92)) + 1}" in problem, problem


def test_each_value_of_a_multi_valued_attribute_is_checked() -> None:
    problem = value_problem("DS", "2", "0.5\\wide")
    assert problem is not None and 'value 2 of 2: "wide"' in problem


def test_backslash_is_text_in_single_valued_texts() -> None:
    assert value_problem("LT", "1", "a\\b\\c") is None
    assert value_problem("ST", "1", "a\\b") is None


def test_an_empty_value_always_fits() -> None:
    assert value_problem("US", "2", "") is None
    assert value_problem("DA", "1", "") is None


@pytest.mark.parametrize(("vr", "expected"), [("US", True), ("US or SS", True), ("PN", True), ("OB", False),
                                               ("OB or OW", False), ("US or OW", False), ("SQ", False), ("UN", False),
                                               ("AT", False), ("NONE", False)])  # fmt: skip
def test_supported_vrs(vr: str, expected: bool) -> None:
    assert supported(vr) is expected
