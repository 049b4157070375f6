"""Generation and validation of new DICOM UIDs (PS3.5 chapter 9 and annex B)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from typing import Protocol

MAX_UID_LENGTH = 64
UUID_DERIVED_ROOT = "2.25"

_UID_PATTERN = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


def is_valid_uid(value: str) -> bool:
    """Return True if ``value`` is a syntactically valid DICOM UID.

    Digits and dots only, no empty component, no leading zero in a
    multi-digit component, at most 64 characters.
    """
    return len(value) <= MAX_UID_LENGTH and _UID_PATTERN.fullmatch(value) is not None


class UidFactory(Protocol):
    """Makes the new UID for one original value of one project."""

    def __call__(self, project: str, original: str) -> str: ...


class RandomUidFactory:
    """New UIDs that carry no information about the original value.

    Without a root, a UID is ``2.25.`` followed by the decimal form of a
    random (version 4) UUID, as PS3.5 B.2 allows. With an organisation root,
    the suffix is a random integer using every digit the 64-character limit
    leaves, which keeps the collision probability negligible.
    """

    def __init__(self, root: str | None = None) -> None:
        if root is not None:
            validate_uid_root(root)
        self._root = root

    def __call__(self, project: str, original: str) -> str:
        if self._root is None:
            return f"{UUID_DERIVED_ROOT}.{uuid.uuid4().int}"
        digits = MAX_UID_LENGTH - len(self._root) - 1
        # A leading non-zero digit keeps the component valid and full length.
        suffix = str(secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1))
        return f"{self._root}.{suffix}"


class HmacUidFactory:
    """Keyed UIDs: two servers sharing the secret agree without sharing storage.

    The UID is ``2.25.`` + the integer of HMAC-SHA256(secret, project + ":" +
    original) truncated to 128 bits. The separator keeps ("p1", "2.3") and
    ("p", "12.3") apart.
    """

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the hmac UID strategy needs a non-empty Secret")
        self._key = secret.encode("utf-8")

    def digest(self, message: str) -> bytes:
        return hmac.new(self._key, message.encode("utf-8"), hashlib.sha256).digest()

    def __call__(self, project: str, original: str) -> str:
        value = int.from_bytes(self.digest(f"{project}:{original}")[:16], "big")
        return f"{UUID_DERIVED_ROOT}.{value}"


def validate_uid_root(root: str) -> None:
    """Raise ValueError unless ``root`` can prefix UIDs with enough random digits."""
    if not is_valid_uid(root):
        raise ValueError(f"UidRoot {root!r} is not a valid UID prefix (digits and dots, no leading zeros)")
    if len(root) > MAX_UID_LENGTH - 1 - 20:
        raise ValueError(f"UidRoot {root!r} is too long: at least 20 random digits must fit in 64 characters")
