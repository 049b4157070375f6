"""The PS3.15 Table E.1-1 confidentiality profile, loaded from versioned data.

The table lives in ``ps315_table_e1_1.json`` next to this module, with the
edition it was extracted from and how it was produced. Code never hard-codes
an attribute's action: a new edition is a data change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TABLE_PATH = Path(__file__).with_name("ps315_table_e1_1.json")

BASIC_ACTIONS = frozenset({"D", "Z", "X", "K", "C", "U", "Z/D", "X/Z", "X/D", "X/Z/D", "X/Z/U*"})


@dataclass(frozen=True)
class ProfileRow:
    """One attribute of Table E.1-1."""

    tag: str
    name: str
    keyword: str
    basic: str
    rtn_long_modif_dates: str


@dataclass(frozen=True)
class ConfidentialityProfile:
    """Lookup of Table E.1-1 rows by tag, repeating groups included."""

    edition: str
    rows: tuple[ProfileRow, ...]

    def __post_init__(self) -> None:
        exact: dict[int, ProfileRow] = {}
        masked: list[tuple[int, int, ProfileRow]] = []
        for row in self.rows:
            if "x" in row.tag:
                mask = int("".join("0" if c == "x" else "F" for c in row.tag), 16)
                value = int(row.tag.replace("x", "0"), 16)
                masked.append((mask, value, row))
            else:
                exact[int(row.tag, 16)] = row
        object.__setattr__(self, "_exact", exact)
        object.__setattr__(self, "_masked", tuple(masked))

    def lookup(self, tag: int) -> ProfileRow | None:
        """Return the row that governs ``tag``, or None if the table does not list it."""
        row = self._exact.get(tag)  # type: ignore[attr-defined]
        if row is not None:
            return row
        for mask, value, masked_row in self._masked:  # type: ignore[attr-defined]
            if tag & mask == value:
                return masked_row
        return None


def parse_profile(document: dict[str, object]) -> ConfidentialityProfile:
    """Build a profile from the JSON document, rejecting unknown action codes."""
    rows = []
    for entry in document["attributes"]:  # type: ignore[attr-defined]
        if entry["basic"] not in BASIC_ACTIONS:
            raise ValueError(f"unknown Basic Profile action {entry['basic']!r} for {entry['tag']}")
        rows.append(
            ProfileRow(
                tag=entry["tag"],
                name=entry["name"],
                keyword=entry["keyword"],
                basic=entry["basic"],
                rtn_long_modif_dates=entry["rtn_long_modif_dates"],
            )
        )
    return ConfidentialityProfile(edition=str(document["edition"]), rows=tuple(rows))


@lru_cache(maxsize=1)
def load_basic_profile() -> ConfidentialityProfile:
    """The profile shipped with the plugin."""
    with TABLE_PATH.open(encoding="utf-8") as handle:
        return parse_profile(json.load(handle))
