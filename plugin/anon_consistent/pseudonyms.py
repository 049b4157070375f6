"""Pseudonymous patient identity and date offset, one per original patient."""

from __future__ import annotations

import base64
import secrets
from typing import Protocol

from .uids import HmacUidFactory

PSEUDONYM_PREFIX = "ANON-"
# Shifts go into the past only, between about one month and ten years, so a
# shifted date never lands in the future.
MIN_SHIFT_DAYS = 30
MAX_SHIFT_DAYS = 3650


class PatientKeyFactory(Protocol):
    """Derives a patient's pseudonym and date offset inside one project."""

    def pseudonym(self, project: str, patient_id: str) -> str: ...

    def date_offset(self, project: str, patient_id: str) -> int: ...


class RandomPatientKeys:
    """Pseudonyms and offsets with no relation to the original values."""

    def pseudonym(self, project: str, patient_id: str) -> str:
        return PSEUDONYM_PREFIX + _base32(secrets.token_bytes(10))

    def date_offset(self, project: str, patient_id: str) -> int:
        return -(MIN_SHIFT_DAYS + secrets.randbelow(MAX_SHIFT_DAYS - MIN_SHIFT_DAYS + 1))


class HmacPatientKeys:
    """Keyed pseudonyms and offsets that agree between servers sharing a secret."""

    def __init__(self, keyed: HmacUidFactory) -> None:
        self._keyed = keyed

    def pseudonym(self, project: str, patient_id: str) -> str:
        return PSEUDONYM_PREFIX + _base32(self._keyed.digest(f"{project}:PatientID:{patient_id}")[:10])

    def date_offset(self, project: str, patient_id: str) -> int:
        digest = self._keyed.digest(f"{project}:DateOffset:{patient_id}")
        span = MAX_SHIFT_DAYS - MIN_SHIFT_DAYS + 1
        return -(MIN_SHIFT_DAYS + int.from_bytes(digest[:8], "big") % span)


def _base32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")
