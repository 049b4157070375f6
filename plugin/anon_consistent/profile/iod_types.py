"""Attribute Types (PS3.3) of the IOD behind each SOP Class, for the tags of Table E.1-1.

The data lives in ``ps33_attribute_types.json`` next to this module: for each
module, the Type of every attribute (top level or nested in sequences) whose
tag Table E.1-1 lists; for each IOD, its modules with their usage (M, C, U);
for each SOP Class, its IOD. It records where it came from and how it was
produced.

Rule when several modules of one IOD list the same attribute (path): the
strictest Type wins (1, 1C, 2, 2C, 3), so a choice based on it is valid
whichever of those modules the instance carries; ties go to the module with the
strongest usage (M, C, U). The usage returned is that module's: a Type 1
attribute of a C or U module is only required when the module is present.

None means "not recorded": the SOP Class is unknown, or the data has no such
attribute in that IOD. The upstream data misses a few attributes that the
Standard does have (see "produced" in the JSON), so None is not proof of absence.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TYPES_PATH = Path(__file__).with_name("ps33_attribute_types.json")

STRICTNESS = {"1": 0, "1C": 1, "2": 2, "2C": 3, "3": 4}
USAGE_STRENGTH = {"M": 0, "C": 1, "U": 2}
_OVERLAY_GROUPS = range(0x6000, 0x6020, 2)


@dataclass(frozen=True, slots=True)
class Requirement:
    """The Type of an attribute in an IOD and the usage (M/C/U) of the module that imposes it."""

    type: str
    usage: str


def _path_key(text: str) -> tuple[int, ...]:
    # Repeating groups are stored as written in Table E.1-1 ("60xx3000"): "xx" -> "00".
    parts = text.split(">")
    for part in parts:
        if len(part) != 8 or ("x" in part and not part.startswith("60xx")):
            raise ValueError(f"malformed tag {part!r} in path {text!r}")
    return tuple(int(part.replace("x", "0"), 16) for part in parts)


def _normalize(tag: int) -> int:
    if tag >> 16 in _OVERLAY_GROUPS:
        return 0x60000000 | (tag & 0xFFFF)
    return tag


def _stricter(candidate: Requirement, current: Requirement | None) -> bool:
    if current is None:
        return True
    return (STRICTNESS[candidate.type], USAGE_STRENGTH[candidate.usage]) < (
        STRICTNESS[current.type],
        USAGE_STRENGTH[current.usage],
    )


@dataclass(frozen=True)
class AttributeTypes:
    """SOP Class -> IOD -> modules -> attribute Types, merged per IOD on first use."""

    edition: str
    sop_classes: dict[str, str]
    iods: dict[str, tuple[tuple[str, str], ...]]
    modules: dict[str, dict[tuple[int, ...], str]]

    def __post_init__(self) -> None:
        for iod in self.sop_classes.values():
            if iod not in self.iods:
                raise ValueError(f"SOP Class mapped to unknown IOD {iod!r}")
        for iod, entries in self.iods.items():
            for module, usage in entries:
                if module not in self.modules or usage not in USAGE_STRENGTH:
                    raise ValueError(f"IOD {iod!r} lists unknown module or usage {module!r}/{usage!r}")
        for module, table in self.modules.items():
            for path, attribute_type in table.items():
                if attribute_type not in STRICTNESS:
                    raise ValueError(f"unknown Type {attribute_type!r} in module {module!r} at {path}")
        object.__setattr__(self, "_merged", {})

    def is_known_sop_class(self, sop_class_uid: str) -> bool:
        """Whether the data has an IOD for this SOP Class (otherwise every lookup answers None)."""
        return sop_class_uid.strip(" \x00") in self.sop_classes

    def requirement(self, sop_class_uid: str, path: Sequence[int]) -> Requirement | None:
        """The Requirement of the attribute at ``path`` (sequence tags outermost first, then the tag).

        None when the SOP Class is unknown or its IOD has no such attribute at that path.
        """
        iod = self.sop_classes.get(sop_class_uid.strip(" \x00"))
        if iod is None:
            return None
        return self._merged_iod(iod).get(tuple(_normalize(tag) for tag in path))

    def _merged_iod(self, iod: str) -> dict[tuple[int, ...], Requirement]:
        cache: dict[str, dict[tuple[int, ...], Requirement]] = self._merged  # type: ignore[attr-defined]
        merged = cache.get(iod)
        if merged is None:
            merged = {}
            for module, usage in self.iods[iod]:
                for path, attribute_type in self.modules[module].items():
                    candidate = Requirement(attribute_type, usage)
                    if _stricter(candidate, merged.get(path)):
                        merged[path] = candidate
            cache[iod] = merged
        return merged


def parse_attribute_types(document: dict[str, object]) -> AttributeTypes:
    """Build the lookup from the JSON document, rejecting unknown Types, usages and dangling names."""
    modules = {
        str(module): {_path_key(path): str(kind) for path, kind in table.items()}
        for module, table in document["modules"].items()  # type: ignore[attr-defined]
    }
    iods = {
        str(iod): tuple((str(module), str(usage)) for module, usage in entries)
        for iod, entries in document["iods"].items()  # type: ignore[attr-defined]
    }
    sop_classes = {str(uid): str(iod) for uid, iod in document["sop_classes"].items()}  # type: ignore[attr-defined]
    return AttributeTypes(edition=str(document["edition"]), sop_classes=sop_classes, iods=iods, modules=modules)


@lru_cache(maxsize=1)
def load_attribute_types() -> AttributeTypes:
    """The attribute Types shipped with the plugin."""
    with TYPES_PATH.open(encoding="utf-8") as handle:
        return parse_attribute_types(json.load(handle))


def attribute_requirement(sop_class_uid: str, tag: int) -> Requirement | None:
    """Type and module usage of top-level attribute ``tag`` in the IOD of ``sop_class_uid``, or None."""
    return load_attribute_types().requirement(sop_class_uid, (tag,))


def attribute_type(sop_class_uid: str, tag: int) -> str | None:
    """The Type ("1", "1C", "2", "2C" or "3") of top-level ``tag`` in the IOD of ``sop_class_uid``.

    None when the SOP Class is unknown (see ``is_known_sop_class``) or the data records no ``tag`` at the
    top level of its IOD (only tags listed in Table E.1-1 are recorded at all).
    """
    requirement = attribute_requirement(sop_class_uid, tag)
    return None if requirement is None else requirement.type


def nested_attribute_type(sop_class_uid: str, path: Sequence[int]) -> str | None:
    """Like ``attribute_type`` for an attribute inside sequences: ``path`` = sequence tags then the tag."""
    requirement = load_attribute_types().requirement(sop_class_uid, path)
    return None if requirement is None else requirement.type


def is_known_sop_class(sop_class_uid: str) -> bool:
    """Whether the shipped data has an IOD for ``sop_class_uid``."""
    return load_attribute_types().is_known_sop_class(sop_class_uid)
