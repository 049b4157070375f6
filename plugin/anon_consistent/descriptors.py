"""Clean Descriptors: take an instance's own identifying values out of a text.

STUB of branch issue9-core, standing in for the module of branch
issue9-descriptors (same interface: ``InstanceIdentifiers``, ``identifiers_of``,
``clean_descriptor``), which replaces it at merge. It is deliberately simple:
whole words only, case-insensitive, plus dates, times and UIDs by pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

_SINGLE = (
    "PatientID",
    "IssuerOfPatientID",
    "OtherPatientIDs",
    "AccessionNumber",
    "StudyID",
    "InstitutionName",
    "InstitutionAddress",
    "DeviceSerialNumber",
    "StationName",
)
_NAMES = (
    "PatientName",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "NameOfPhysiciansReadingStudy",
    "OperatorsName",
    "PatientBirthName",
    "PatientMotherBirthName",
)
_DATES = ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate", "PatientBirthDate")
_PATTERNS = (
    r"\d+(?:\.\d+){3,}",  # UIDs
    r"\d{4}[-./]\d{1,2}[-./]\d{1,2}",  # 2023-01-02
    r"\d{1,2}[-./]\d{1,2}[-./]\d{4}",  # 02.01.2023, 01/02/2023
    r"(?<!\d)(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)",  # YYYYMMDD
    r"\d{1,2}:\d{2}(?::\d{2})?",  # 10:30[:15]
)
_SEPARATORS = re.compile(r"[\s^_,;/\\-]+")


@dataclass(frozen=True)
class InstanceIdentifiers:
    """The identifying values of one instance, as words to take out of its texts."""

    words: frozenset[str]
    pattern: re.Pattern[str]


def identifiers_of(dataset: Dataset) -> InstanceIdentifiers:
    """Collect the instance's own identifying values (top level only)."""
    words: set[str] = set()
    for keyword in (*_SINGLE, *_NAMES, *_DATES):
        value = dataset.get(keyword)
        if value is None or value == "":
            continue
        values = list(value) if isinstance(value, MultiValue) else [value]
        for one in values:
            text = str(one).strip()
            if len(text) >= 2:
                words.add(text.upper())
            words.update(part.upper() for part in _SEPARATORS.split(text) if len(part) >= 2)
    alternatives = sorted((re.escape(word) for word in words), key=len, reverse=True)
    words_pattern = rf"(?<![A-Za-z0-9])(?:{'|'.join(alternatives)})(?![A-Za-z0-9])" if alternatives else None
    pattern = "|".join([*(p for p in _PATTERNS), *([words_pattern] if words_pattern else [])])
    return InstanceIdentifiers(frozenset(words), re.compile(pattern, re.IGNORECASE))


def clean_descriptor(text: str, identifiers: InstanceIdentifiers) -> str:
    """``text`` without the instance's identifiers, dates, times and UIDs; separators left over collapsed."""
    cleaned = identifiers.pattern.sub(" ", text)
    cleaned = re.sub(r"\s*([-_^,;/])(?:\s*[-_^,;/])+\s*", r"\1", cleaned)
    cleaned = re.sub(r"\s{2,}", " ", cleaned)
    return cleaned.strip(" -_^,;/")
