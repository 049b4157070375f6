from __future__ import annotations

import pytest

from anon_consistent.uids import HmacUidFactory, RandomUidFactory, is_valid_uid, validate_uid_root

ORIGINAL = "1.2.826.0.1.3680043.8.498.2010020400001"


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("1.2.3", True),
        ("2.25.0", True),
        ("1.02.3", False),
        ("1..2", False),
        ("1.2.", False),
        ("1.2a", False),
        ("1." + "1" * 62, True),
        ("1." + "1" * 63, False),
        ("", False),
        ("1.2.3\n", False),  # "$" would match before a trailing newline
    ],
)
def test_uid_validity(value: str, valid: bool) -> None:
    assert is_valid_uid(value) is valid


def test_default_uids_are_uuid_derived_valid_and_unrelated_to_the_original() -> None:
    make = RandomUidFactory()
    uids = {make("p", ORIGINAL) for _ in range(2000)}
    assert len(uids) == 2000
    for uid in uids:
        assert uid.startswith("2.25.") and is_valid_uid(uid)
        assert int(uid[5:]) < 2**128
        assert ORIGINAL not in uid and "2010020400001" not in uid


def test_uids_under_a_configured_root_fill_the_64_characters() -> None:
    make = RandomUidFactory("1.2.826.0.1.3680043.10.999")
    for _ in range(500):
        uid = make("p", ORIGINAL)
        assert uid.startswith("1.2.826.0.1.3680043.10.999.")
        assert is_valid_uid(uid) and len(uid) == 64


@pytest.mark.parametrize("root", ["1.2.3.", "01.2", "1.2.x", "1." + "2" * 50])
def test_bad_roots_are_refused(root: str) -> None:
    with pytest.raises(ValueError):
        validate_uid_root(root)


def test_hmac_uids_are_deterministic_per_secret_and_project() -> None:
    a, b, other = HmacUidFactory("s3cret"), HmacUidFactory("s3cret"), HmacUidFactory("other")
    assert a("p", ORIGINAL) == b("p", ORIGINAL)
    assert a("p", ORIGINAL) != other("p", ORIGINAL)
    assert a("p", ORIGINAL) != a("q", ORIGINAL)
    # The separator keeps project/original boundaries apart.
    assert a("p1", "2.3") != a("p", "12.3")
    uid = a("p", ORIGINAL)
    assert uid.startswith("2.25.") and is_valid_uid(uid) and int(uid[5:]) < 2**128


def test_hmac_needs_a_secret() -> None:
    with pytest.raises(ValueError):
        HmacUidFactory("")
