"""The action of an attribute listed in Table E.1-1, from its Basic Profile action and the requested option columns.

Rules, in order:

1. With Retain Longitudinal Temporal Information with Modified Dates, an
   attribute the option marks C is shifted if it is a date (DA, DT), even
   where another option keeps it: a true date beside shifted ones would give
   the offset away. A time (TM) is kept, since the shift is whole days.
2. K in any requested option keeps the attribute (options combine).
3. C in any other requested option cleans it: a sequence keeps its items,
   processed by the rules (Clean Structured Content: as structured content;
   Clean Graphics and the other options: its text cleaned), a text value is cleaned as a descriptor
   (``descriptors.clean_descriptor``). A binary value cannot be cleaned and
   keeps its Basic Profile action.
4. Otherwise the Basic Profile action; where it is a choice (X/Z, X/D, Z/D,
   X/Z/D) the attribute's Type in the instance's IOD decides (``TypeChoice``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, IntEnum

from .profile import ProfileRow


class Action(Enum):
    KEEP = "keep"
    REMOVE = "remove"
    EMPTY = "empty"
    DUMMY = "dummy"
    REMAP_UID = "remap-uid"
    SHIFT_DATE = "shift-date"
    RECURSE = "recurse"
    RECURSE_CLEANED = "recurse-cleaned"
    RECURSE_CONCEPT = "recurse-concept"
    RECURSE_GRAPHIC = "recurse-graphic"
    RECURSE_DESCRIPTOR = "recurse-descriptor"
    REPLACE = "replace"
    SCAN_PRIVATE = "scan-private"
    REMOVE_OVERLAY = "remove-overlay"
    # A text value with the instance's own identifiers taken out.
    CLEAN_TEXT = "clean-text"
    # The same, with a dummy value if nothing is left (a Type 1 attribute).
    CLEAN_TEXT_OR_DUMMY = "clean-text-or-dummy"
    # Private element of a call that keeps some private attributes: judged per
    # dataset by its creator block (see ElementPlan.select_private), never handled as such.
    SELECT_PRIVATE = "select-private"
    RECURSE_PRIVATE = "recurse-private"


class Scope(IntEnum):
    """Where an element sits, which changes what happens to attributes the table does not list.

    An IntEnum: it is part of the per-element cache key, and int hashing is cheap.
    """

    NORMAL = 0
    # Inside an item of any other sequence: the same rules.
    ITEM = 1
    # Inside a sequence the profile marks D (ContentSequence, GraphicAnnotation,
    # VerifyingObserver...): its free text, names and dates are replaced too.
    CLEANED = 2
    # A coded concept inside a cleaned sequence (ConceptNameCodeSequence...),
    # with the Clean Structured Content option: the code itself is kept, so
    # that an SR keeps its meaning.
    CONCEPT = 3
    # Inside a sequence that the Clean Graphics option cleans
    # (GraphicAnnotationSequence): like CLEANED, but text is cleaned as a
    # descriptor instead of replaced, so annotations keep their meaning.
    GRAPHIC = 4
    # Inside a sequence that a requested option cleans as descriptors
    # (ReasonForVisitCodeSequence... with Clean Descriptors): every text the
    # table does not list, code meanings included, is cleaned as a descriptor;
    # names go, dates follow the date options.
    DESCRIPTOR = 5


CLEANED_SCOPES = frozenset({Scope.CLEANED, Scope.CONCEPT, Scope.GRAPHIC, Scope.DESCRIPTOR})
DATE_VRS = frozenset({"DA", "DT"})
TIME_VRS = frozenset({"TM"})
# What a descriptor can be cleaned in: character strings other than names,
# dates, numbers and URLs (PN values are replaced, never cleaned).
CLEANABLE_VRS = frozenset({"AE", "CS", "LO", "LT", "SH", "ST", "UC", "UT"})
# Option columns whose C means "clean the text" (dates have their own C).
TEXT_CLEANING_COLUMNS = frozenset({"clean_desc", "rtn_dev_id", "rtn_pat_chars", "rtn_inst_id", "clean_graph"})
# Columns whose C reads the instance's identifiers: Clean Structured Content
# cleans the code meanings of an SR as descriptors.
CLEANING_COLUMNS = TEXT_CLEANING_COLUMNS | {"clean_struct_cont"}


@dataclass(frozen=True, slots=True)
class TypeChoice:
    """An action that depends on the attribute's Type in the instance's IOD."""

    required: Action  # Type 1 or 1C
    empty_ok: Action  # Type 2 or 2C
    optional: Action  # Type 3, not in the IOD, or unknown SOP Class

    def pick(self, attribute_type: str | None) -> Action:
        if attribute_type in ("1", "1C"):
            return self.required
        if attribute_type in ("2", "2C"):
            return self.empty_ok
        return self.optional


CLEAN = TypeChoice(Action.CLEAN_TEXT_OR_DUMMY, Action.CLEAN_TEXT, Action.CLEAN_TEXT)
# A zero-item sequence is valid only where the sequence is Type 2 (a Type 3
# one says "one or more Items"): elsewhere an emptied sequence goes.
_EMPTY_SEQUENCE = TypeChoice(Action.EMPTY, Action.EMPTY, Action.REMOVE)
_PREFERENCE = {"required": "DZX", "empty_ok": "ZDX", "optional": "XZD"}
# A sequence cannot be emptied where it is optional (see _EMPTY_SEQUENCE).
_SEQUENCE_PREFERENCE = {"required": "DZX", "empty_ok": "ZDX", "optional": "XDZ"}


def listed_action(
    row: ProfileRow, vr: str, scope: Scope, columns: tuple[str, ...], shift_dates: bool
) -> Action | TypeChoice:
    """The action of a listed attribute for the requested option ``columns`` (see the module's rules)."""
    if shift_dates and row.rtn_long_modif_dates == "C":
        if vr in DATE_VRS:
            return Action.SHIFT_DATE
        if vr in TIME_VRS:
            return Action.KEEP
    if any(row.option(column) == "K" for column in columns):
        return structural(vr, Action.KEEP)
    if any(row.option(column) == "C" for column in columns if column in CLEANING_COLUMNS):
        cleaned = _cleaned(row, vr, columns)
        if cleaned is not None:
            return cleaned
    basic = basic_action(row.basic, vr)
    if scope is Scope.GRAPHIC and vr in CLEANABLE_VRS and basic is not Action.KEEP:
        return CLEAN  # text of a graphic annotation (UnformattedTextValue...)
    return basic


def _cleaned(row: ProfileRow, vr: str, columns: tuple[str, ...]) -> Action | TypeChoice | None:
    """What a C of the requested options does to this VR; None where it cannot clean."""
    if vr == "SQ":
        if "clean_struct_cont" in columns and row.clean_struct_cont == "C":
            return Action.RECURSE_CLEANED
        if "clean_graph" in columns and row.clean_graph == "C":
            return Action.RECURSE_GRAPHIC
        return Action.RECURSE_DESCRIPTOR  # items with every unlisted text cleaned as a descriptor
    if vr in CLEANABLE_VRS and any(row.option(c) == "C" for c in columns if c in TEXT_CLEANING_COLUMNS):
        return CLEAN
    return None


def basic_action(basic: str, vr: str) -> Action | TypeChoice:
    """The Basic Profile action of Table E.1-1 for an element of ``vr``."""
    if basic == "K":
        return structural(vr, Action.KEEP)
    if "U" in basic:  # U, X/Z/U*: references stay, with their UIDs remapped
        if vr == "UI":
            return Action.REMAP_UID
        return Action.RECURSE if vr == "SQ" else Action.EMPTY
    if basic == "C":
        # Not used by the Basic Profile column of 2026c; should an edition
        # introduce it, a dummy value is the safe reading.
        basic = "D"
    letters = basic.replace("/", "")
    if vr == "SQ":
        if letters == "Z":
            return _EMPTY_SEQUENCE
        return _choice(letters, _SEQUENCE_PREFERENCE, _sequence_action)
    return _choice(letters, _PREFERENCE, lambda letter: _value_action(letter, vr))


def _choice(letters: str, preference: dict[str, str], action_of: Callable[[str], Action]) -> Action | TypeChoice:
    """For each Type, the action of the first letter of its order of preference that ``letters`` allows."""
    actions = {
        kind: action_of(next(letter for letter in order if letter in letters)) for kind, order in preference.items()
    }
    if actions["required"] == actions["empty_ok"] == actions["optional"]:
        return actions["required"]  # one letter, or the Type makes no difference
    return TypeChoice(**actions)


def _value_action(letter: str, vr: str) -> Action:
    if letter == "X":
        return Action.REMOVE
    if letter == "Z":
        return Action.EMPTY
    return Action.REMAP_UID if vr == "UI" else Action.DUMMY


def _sequence_action(letter: str) -> Action:
    # D keeps the items (a "non-zero length" value) with every text, name,
    # date and code in them replaced; Z (zero items) is only picked for Type 2.
    if letter == "X":
        return Action.REMOVE
    if letter == "Z":
        return Action.EMPTY
    return Action.RECURSE_CLEANED


def structural(vr: str, otherwise: Action) -> Action:
    """UIDs are always remapped and sequences always walked, whatever the rule says."""
    if vr == "UI":
        return Action.REMAP_UID
    if vr == "SQ":
        return Action.RECURSE
    return otherwise
