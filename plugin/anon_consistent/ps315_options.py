"""The options of PS3.15 E.3, as a request names them, with their Table E.1-1 column and CID 7050 code.

The code meanings are those of PS3.16 CID 7050 "De-identification Method"
(checked against pydicom 3's ``sr`` concept dictionary, generated from PS3.16).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

BASIC_PROFILE_CODE = ("113100", "Basic Application Confidentiality Profile")
LO_LENGTH = 64  # DeidentificationMethod is LO: 64 characters a value


@dataclass(frozen=True)
class ProfileOption:
    """One option: request name, Table E.1-1 column and CID 7050 code."""

    name: str
    column: str
    code: str
    meaning: str


# In the order of Table E.1-1's columns.
PROFILE_OPTIONS: tuple[ProfileOption, ...] = (
    ProfileOption("RetainSafePrivate", "rtn_safe_priv", "113111", "Retain Safe Private Option"),
    ProfileOption("RetainUIDs", "rtn_uids", "113110", "Retain UIDs Option"),
    ProfileOption("RetainDeviceIdentity", "rtn_dev_id", "113109", "Retain Device Identity Option"),
    ProfileOption("RetainInstitutionIdentity", "rtn_inst_id", "113112", "Retain Institution Identity Option"),
    ProfileOption("RetainPatientCharacteristics", "rtn_pat_chars", "113108", "Retain Patient Characteristics Option"),
    ProfileOption(
        "RetainLongitudinalFullDates",
        "rtn_long_full_dates",
        "113106",
        "Retain Longitudinal Temporal Information Full Dates Option",
    ),
    ProfileOption(
        "RetainLongitudinalModifiedDates",
        "rtn_long_modif_dates",
        "113107",
        "Retain Longitudinal Temporal Information Modified Dates Option",
    ),
    ProfileOption("CleanDescriptors", "clean_desc", "113105", "Clean Descriptors Option"),
    ProfileOption("CleanStructuredContent", "clean_struct_cont", "113104", "Clean Structured Content Option"),
    ProfileOption("CleanGraphics", "clean_graph", "113103", "Clean Graphics Option"),
)
OPTIONS_BY_NAME = {option.name: option for option in PROFILE_OPTIONS}
OPTION_NAMES = tuple(option.name for option in PROFILE_OPTIONS)

RETAIN_SAFE_PRIVATE = "RetainSafePrivate"
RETAIN_UIDS = "RetainUIDs"
FULL_DATES = "RetainLongitudinalFullDates"
MODIFIED_DATES = "RetainLongitudinalModifiedDates"
CLEAN_STRUCTURED_CONTENT = "CleanStructuredContent"


def columns_of(names: frozenset[str]) -> tuple[str, ...]:
    """The Table E.1-1 columns of the requested options, in table order."""
    return tuple(option.column for option in PROFILE_OPTIONS if option.name in names)


# Booleans of earlier versions, each the same as naming one option in "Options".
ALIASES = {"ShiftDates": MODIFIED_DATES, "CleanStructuredContent": CLEAN_STRUCTURED_CONTENT}


def parse_profile_options(document: Mapping[str, object]) -> frozenset[str]:
    """The options a request body asks for: ``"Options"`` plus the boolean aliases.

    ``ValueError`` (the caller's 400) says what is wrong and, for an unknown
    name, lists the valid ones.
    """
    value = document.get("Options", [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f'"Options" must be a list of option names among: {", ".join(OPTION_NAMES)}')
    unknown = sorted({name for name in value if name not in OPTIONS_BY_NAME})
    if unknown:
        shown = ", ".join(json.dumps(name[:80], ensure_ascii=False) for name in unknown)
        raise ValueError(f'Unknown option(s) in "Options": {shown}; valid options are: {", ".join(OPTION_NAMES)}')
    names = set(value)
    for alias, name in ALIASES.items():
        if alias not in document:
            continue
        flag = document[alias]
        if not isinstance(flag, bool):
            raise ValueError(f'"{alias}" must be true or false')
        if flag:
            names.add(name)
        elif name in names:
            raise ValueError(f'"{alias}": false contradicts "Options": ["{name}"]')
    if FULL_DATES in names and MODIFIED_DATES in names:
        raise ValueError(
            f'"{FULL_DATES}" and "{MODIFIED_DATES}" (or "ShiftDates": true) exclude each other: '
            "dates are either kept or shifted"
        )
    return frozenset(names)


def lo_values(label: str, words: list[str]) -> list[str]:
    """``"Label: a b c"`` values of at most LO_LENGTH characters, a word never cut (nor longer than that)."""
    values: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else f"{label}: {word}"
        if len(candidate) <= LO_LENGTH:
            current = candidate
        else:
            values.append(current)
            current = f"{label}: {word}"
    return [*values, current] if current else values
