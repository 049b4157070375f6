"""Which private attributes a call keeps, judged by Private Creator and element.

PS3.5 7.8.1: the Private Creator element (gggg,00bb) of a dataset reserves
block bb of odd group gggg for its creator, whose elements then sit at
(gggg,bbxx). The same attribute lands in another block in another file (a
creator at (2005,0011) puts its elements at 2005,11xx), and every dataset
(top level or sequence item) has its own blocks. So a private attribute is
named by creator, group and low byte, and only the dataset's own creator
elements say which attribute an element is.

The call's ``PrivateSelection`` says which attributes are kept (Table
E.3.10-1 with Retain Safe Private, the site's list, ``Keep``); for each dataset
a ``PrivateBlocks`` reads the creators once and judges every private element.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from pydicom.dataset import Dataset

from .private_vr import explicit_vr_fits, un_value_fits
from .profile.safe_private import SafePrivateTable, normalize_creator
from .ps315_options import LO_LENGTH
from .tag_syntax import blockless_private

# DeidentificationMethod is written without SpecificCharacterSet: the default
# repertoire only (printable ASCII; "\\" would split the value).
_NOT_DEFAULT_REPERTOIRE = re.compile(r"[^\x20-\x5b\x5d-\x7e]")
PRIVATE_ATTRIBUTE_EXAMPLE = '{"Creator": "SIEMENS MR HEADER", "Element": "0019,xx0C"}'
# Groups that are odd but cannot be private (PS3.5 7.8.1).
_NOT_PRIVATE_GROUPS = frozenset({0x0001, 0x0003, 0x0005, 0x0007, 0xFFFF})
_MAX_CREATOR = 64  # a Private Creator is LO
# Read VRs whose kept value is text (or a sequence) the handlers can scan; any
# other VR in the table (binary numbers, OB, OW, "OW/OB") must not be read as
# text when an implicit VR file delivers it as UN.
_TEXT_LIKE_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT", "SQ"}
)


class PrivateFate(Enum):
    """What happens to one private element of a dataset."""

    REMOVE = "remove"
    # Kept byte for byte: a Private Creator (dropped after the walk if its
    # block keeps nothing), or a binary value read as UN.
    KEEP_AS_IS = "keep-as-is"
    # Kept, with the handling of any kept private value (UIDs remapped, dates
    # shifted with the dates option, sequences walked).
    KEEP_VALUE = "keep-value"
    # A private sequence that is not known safe: PS3.15 E.3.10 has it parsed
    # and each nested attribute judged on its own merits; it goes if nothing is left.
    WALK_SEQUENCE = "walk-sequence"
    # A listed element read as UN: kept only if its bytes fit the table's VR
    # (see private_vr), so the verdict needs the value (PrivateBlocks.fate).
    CHECK_UN_VALUE = "check-un-value"


@dataclass(frozen=True, slots=True)
class PrivateAttribute:
    """A private attribute independent of its block: creator, odd group, low byte of the element."""

    creator: str
    group: int
    low_byte: int

    @property
    def element(self) -> str:
        """``gggg,xxee``, as Table E.3.10-1 writes it."""
        return f"{self.group:04X},xx{self.low_byte:02X}"

    def as_json(self) -> dict[str, str]:
        return {"Creator": self.creator, "Element": self.element}

    def __str__(self) -> str:
        return f"{self.creator} ({self.element})"

    def method_values(self) -> list[str]:
        """``Keep: CREATOR (gggg,xxee)`` for DeidentificationMethod, over two values when the creator is long.

        Never cut: a creator may use all 64 characters of its LO, and cutting
        would make two kept attributes of one long creator read the same.
        """
        creator = _NOT_DEFAULT_REPERTOIRE.sub("?", self.creator)
        one = f"Keep: {creator} ({self.element})"
        if len(one) <= LO_LENGTH:
            return [one]
        return [f"Keep: ({self.element}) of creator:", creator]


def parse_private_element(text: object) -> tuple[int, int]:
    """``"0019,xx0C"`` -> (0x0019, 0x0C); ``ValueError`` says what is wrong."""
    shown = f": {_show(text)}" if isinstance(text, str) else ""
    # "gggg,xxee" as Table E.3.10-1 writes it, or in any other number form of a tag ("gggg-xxee"...).
    parsed = blockless_private(text) if isinstance(text, str) else None
    if parsed is None:
        raise ValueError(
            f'"Element" must be "gggg,xxee": the odd group gggg and the low byte ee of the element, '
            f'whatever block xx the creator reserved (e.g. "0019,xx0C", also "0019-xx0C", "(0019,xx0C)" '
            f'or "0019xx0C"){shown}'
        )
    group, low_byte = parsed
    if group % 2 == 0 or group in _NOT_PRIVATE_GROUPS:
        raise ValueError(f'"Element" must be in a private group (odd, above 0008){shown}')
    return group, low_byte


def parse_private_attribute(entry: object) -> PrivateAttribute:
    """``{"Creator": ..., "Element": "gggg,xxee"}`` -> PrivateAttribute; ``ValueError`` says what is wrong."""
    if not isinstance(entry, dict):
        raise ValueError(f"a private attribute is an object such as {PRIVATE_ATTRIBUTE_EXAMPLE}")
    unknown = sorted(_show(str(key)) for key in set(entry) - {"Creator", "Element"})
    if unknown:
        raise ValueError(f'unknown key(s) {", ".join(unknown)} in a private attribute: use "Creator" and "Element"')
    if "Creator" not in entry or "Element" not in entry:
        raise ValueError(f'a private attribute needs "Creator" and "Element", e.g. {PRIVATE_ATTRIBUTE_EXAMPLE}')
    creator = entry["Creator"]
    if not isinstance(creator, str) or not normalize_creator(creator):
        raise ValueError('"Creator" must be a non-empty string: the value of the Private Creator element')
    creator = normalize_creator(creator)
    if len(creator) > _MAX_CREATOR or "\\" in creator or any(ord(c) < 0x20 for c in creator):
        rule = 'at most 64 characters, no "\\" or control characters'
        raise ValueError(f'"Creator" must be a valid LO value ({rule}): {_show(creator)}')
    group, low_byte = parse_private_element(entry["Element"])
    return PrivateAttribute(creator, group, low_byte)


def _show(value: str) -> str:
    """A value quoted as JSON, as the caller wrote it."""
    return json.dumps(value, ensure_ascii=False)


def block_key(tag: int) -> int:
    """(group, block) of a private data element (gggg,bbxx), as one int."""
    return (tag >> 16) << 8 | (tag & 0xFF00) >> 8


def creator_key(tag: int) -> int:
    """(group, block) reserved by a Private Creator element (gggg,00bb), as one int."""
    return (tag >> 16) << 8 | (tag & 0xFF)


def is_creator(tag: int) -> bool:
    return 0x10 <= tag & 0xFFFF <= 0xFF


class PrivateSelection:
    """The private attributes one call keeps, and the per-element verdict (cached per tag, VR and creator)."""

    def __init__(
        self,
        safe: SafePrivateTable | None,
        keep_tags: Iterable[int] = (),
        keep_attributes: Iterable[PrivateAttribute] = (),
    ) -> None:
        self.safe = safe  # None unless Retain Safe Private
        self.keep_tags = frozenset(int(tag) for tag in keep_tags if tag >> 16 & 1)
        self.keep_attributes = frozenset((a.creator, a.group, a.low_byte) for a in keep_attributes)
        self._cache: dict[tuple[int, str, str | None], PrivateFate] = {}

    @classmethod
    def for_call(
        cls,
        retain_safe_private: bool,
        keep: Iterable[int],
        keep_attributes: Iterable[PrivateAttribute],
        safe: SafePrivateTable,
    ) -> PrivateSelection | None:
        """The selection of a call, or None when it keeps no private attribute at all."""
        selection = cls(safe if retain_safe_private else None, keep, keep_attributes)
        if selection.safe is None and not selection.keep_tags and not selection.keep_attributes:
            return None
        return selection

    def blocks(self, dataset: Dataset) -> PrivateBlocks:
        """The creator blocks of one dataset (not of its items: each item has its own)."""
        return PrivateBlocks(self, dataset)

    def fate(self, tag: int, vr: str, creator: str | None) -> PrivateFate:
        """What happens to private element ``tag`` read with ``vr`` in a block reserved by ``creator``.

        ``CHECK_UN_VALUE`` asks the caller for ``fate_of_un_value`` with the element's bytes.
        """
        key = (tag, vr, creator)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._decide(tag, vr, creator)
        return found

    def fate_of_un_value(self, tag: int, creator: str, value: object) -> PrivateFate:
        """Kept or removed: a listed element read as UN, judged by its bytes against the table's VR and VM."""
        row = self.safe.lookup(creator, tag >> 16, tag & 0xFF) if self.safe is not None else None
        if row is None or not un_value_fits(row.vr, row.vm, value):
            return PrivateFate.REMOVE
        return _kept("UN", row.vr)

    def _decide(self, tag: int, vr: str, creator: str | None) -> PrivateFate:
        if is_creator(tag):
            return PrivateFate.KEEP_AS_IS  # judged after the walk, by what its block keeps
        if tag in self.keep_tags:
            return _kept(vr, "")
        if creator is None:
            # Outside any block ((gggg,0001-000F), (gggg,0100-0FFF)) or in a
            # block no creator reserved: nothing says what it is.
            return PrivateFate.REMOVE
        group, low_byte = tag >> 16, tag & 0xFF
        if (creator, group, low_byte) in self.keep_attributes:
            return _kept(vr, "")
        if self.safe is None:
            return PrivateFate.REMOVE
        row = self.safe.lookup(creator, group, low_byte)
        if row is not None:
            if vr == "UN":
                return PrivateFate.CHECK_UN_VALUE if row.vr else _kept(vr, "")
            # Listed by its place only: anything else written there goes.
            return _kept(vr, row.vr) if explicit_vr_fits(row.vr, vr) else PrivateFate.REMOVE
        # An implicit VR file delivers a defined-length sequence as UN: the
        # handler looks at its bytes and removes it if it is no sequence.
        return PrivateFate.WALK_SEQUENCE if vr in ("SQ", "UN") else PrivateFate.REMOVE


def _kept(vr: str, listed_vr: str) -> PrivateFate:
    """A kept value; read as UN, the listed VR says whether it is text ('' when unknown: treated as text)."""
    if vr == "UN" and listed_vr and listed_vr not in _TEXT_LIKE_VRS:
        return PrivateFate.KEEP_AS_IS
    return PrivateFate.KEEP_VALUE


class PrivateBlocks:
    """The Private Creator blocks of one dataset, read once before its elements are judged."""

    def __init__(self, selection: PrivateSelection, dataset: Dataset) -> None:
        self.selection = selection
        self._elements = dataset._dict
        self.creators: dict[int, str] = {}
        self.creator_tags: list[int] = []
        for tag, element in dataset._dict.items():
            if tag >> 16 & 1 and is_creator(tag):
                self.creator_tags.append(tag)
                self.creators[creator_key(tag)] = _creator_value(element.value)

    def creator_of(self, tag: int) -> str | None:
        """The creator of the block private data element ``tag`` is in, None if outside any reserved block."""
        if tag & 0xFFFF < 0x1000:
            return None
        return self.creators.get(block_key(tag))

    def fate(self, tag: int, vr: str) -> PrivateFate:
        creator = self.creator_of(tag)
        fate = self.selection.fate(tag, vr, creator)
        if fate is PrivateFate.CHECK_UN_VALUE and creator is not None:
            fate = self.selection.fate_of_un_value(tag, creator, self._elements[tag].value)  # type: ignore[index]
        return fate

    def drop_unused_creators(self, dataset: Dataset) -> None:
        """Remove the creators whose block kept nothing: a creator names kept attributes, nothing more."""
        elements = dataset._dict
        used = {block_key(tag) for tag in elements if tag >> 16 & 1 and tag & 0xFFFF >= 0x1000}
        for tag in self.creator_tags:
            if creator_key(tag) not in used and tag not in self.selection.keep_tags:
                elements.pop(tag, None)  # type: ignore[call-overload]


def _creator_value(value: object) -> str:
    """A Private Creator as text, raw (bytes) or converted; padding is not significant."""
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = value.decode("latin-1")
    elif isinstance(value, str):
        text = value
    elif value is None:
        text = ""
    else:  # a multi-valued LO (a "\" in the creator): no table creator has one
        text = "\\".join(str(part) for part in value)  # type: ignore[attr-defined]
    return normalize_creator(text)
