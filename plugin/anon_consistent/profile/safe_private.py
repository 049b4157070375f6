"""PS3.15 Table E.3.10-1 (Safe Private Attributes), loaded from versioned data.

The table lives in ``ps315_table_e3_10_1.json`` next to this module with its
edition and provenance. A private element is identified by the Private
Creator that reserved its block, its (odd) group and the low byte of its
element number: ``(0043,1039)`` under ``GEMS_PARM_01`` reserved at
``(0043,0010)`` is the table's ``0043,xx39``, whatever block ``xx`` it landed in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SAFE_PRIVATE_PATH = Path(__file__).with_name("ps315_table_e3_10_1.json")

_ELEMENT = re.compile(r"([0-9A-F]{4}),xx([0-9A-F]{2})")
_VR = re.compile(r"(?:[A-Z]{2}(?:/[A-Z]{2})*)?")
_VM = re.compile(r"\d+(?:-(?:\d+|n))?")


@dataclass(frozen=True, slots=True)
class SafePrivateAttribute:
    """One row of Table E.3.10-1; ``vr`` is '' where the table gives none."""

    creator: str
    group: int
    low_byte: int
    vr: str
    vm: str
    meaning: str


def normalize_creator(creator: str) -> str:
    """The Private Creator value as the table spells it: LO padding (spaces, NUL) is not significant."""
    return creator.strip(" \x00")


@dataclass(frozen=True)
class SafePrivateTable:
    """Table E.3.10-1 with a constant-time lookup by (creator, group, low byte)."""

    edition: str
    rows: tuple[SafePrivateAttribute, ...]

    def __post_init__(self) -> None:
        index: dict[tuple[str, int, int], SafePrivateAttribute] = {}
        for row in self.rows:
            key = (row.creator, row.group, row.low_byte)
            if key in index:
                element = f"({row.group:04X},xx{row.low_byte:02X})"
                raise ValueError(f"duplicate safe private attribute {row.creator!r} {element}")
            index[key] = row
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_creators", frozenset(row.creator for row in self.rows))

    def lookup(self, creator: str, group: int, low_byte: int) -> SafePrivateAttribute | None:
        """The row for element ``low_byte`` of ``group`` in a block reserved by ``creator``, or None.

        Creators match exactly (case-sensitive) once padding is stripped, as PS3.5 compares them.
        """
        return self._index.get((normalize_creator(creator), group, low_byte))  # type: ignore[attr-defined]

    def lookup_tag(self, creator: str, tag: int) -> SafePrivateAttribute | None:
        """The row for private element ``tag`` (block byte ignored) reserved by ``creator``, or None."""
        return self.lookup(creator, tag >> 16, tag & 0xFF)

    def has_creator(self, creator: str) -> bool:
        """Whether the table lists any attribute under ``creator``."""
        return normalize_creator(creator) in self._creators  # type: ignore[attr-defined]

    def extended(self, rows: Iterable[SafePrivateAttribute]) -> SafePrivateTable:
        """This table plus ``rows`` (a site's list); a row the table already has is not added twice."""
        index = self._index  # type: ignore[attr-defined]
        added = tuple(row for row in rows if (row.creator, row.group, row.low_byte) not in index)
        return SafePrivateTable(edition=self.edition, rows=self.rows + added) if added else self


def parse_safe_private(document: dict[str, object]) -> SafePrivateTable:
    """Build the table from the JSON document, rejecting malformed rows."""
    rows = []
    for entry in document["attributes"]:  # type: ignore[attr-defined]
        element = _ELEMENT.fullmatch(entry["element"])
        if element is None:
            raise ValueError(f"malformed element {entry['element']!r}")
        group = int(element.group(1), 16)
        if group % 2 == 0:
            raise ValueError(f"private element {entry['element']!r} has an even group")
        creator = entry["creator"]
        if not creator or normalize_creator(creator) != creator:
            raise ValueError(f"malformed Private Creator {creator!r}")
        if _VR.fullmatch(entry["vr"]) is None or _VM.fullmatch(entry["vm"]) is None:
            raise ValueError(f"malformed VR/VM {entry['vr']!r}/{entry['vm']!r} for {creator} {entry['element']}")
        rows.append(
            SafePrivateAttribute(
                creator=creator,
                group=group,
                low_byte=int(element.group(2), 16),
                vr=entry["vr"],
                vm=entry["vm"],
                meaning=entry["meaning"],
            )
        )
    return SafePrivateTable(edition=str(document["edition"]), rows=tuple(rows))


@lru_cache(maxsize=1)
def load_safe_private() -> SafePrivateTable:
    """The Safe Private Attributes table shipped with the plugin."""
    with SAFE_PRIVATE_PATH.open(encoding="utf-8") as handle:
        return parse_safe_private(json.load(handle))
