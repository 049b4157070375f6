"""The per-call decision of what happens to each element, computed once per tag.

A call's options and the profile table are folded into one ``ElementPlan``.
The rewriter asks it for an ``Action`` per (tag, VR) and the answer is cached,
so the per-instance cost is a dictionary lookup, not a policy evaluation.
"""

from __future__ import annotations

from enum import Enum, IntEnum

from pydicom.tag import BaseTag, Tag

from .options import AnonymizationOptions
from .private_blocks import PrivateBlocks, PrivateFate, PrivateSelection
from .profile import ConfidentialityProfile, ProfileRow
from .profile.safe_private import SafePrivateTable, load_safe_private
from .vr import element_vr

DATE_VRS = frozenset({"DA", "DT"})


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
    REPLACE = "replace"
    SCAN_PRIVATE = "scan-private"
    REMOVE_OVERLAY = "remove-overlay"
    # Private element of a call that keeps some private attributes: judged per
    # dataset by its creator block (see select_private), never handled as such.
    SELECT_PRIVATE = "select-private"
    RECURSE_PRIVATE = "recurse-private"


class Scope(IntEnum):
    """Where an element sits, which changes what happens to attributes the table does not list.

    An IntEnum: it is part of the per-element cache key, and int hashing is cheap.
    """

    NORMAL = 0
    # Inside an item of any other sequence: the same rules, but an attribute's
    # Type can differ from the top level (see _TYPE_2_IN_ITEMS).
    ITEM = 1
    # Inside a sequence the profile marks D (ContentSequence, GraphicAnnotation,
    # VerifyingObserver...): its free text, names and dates are replaced too.
    CLEANED = 2
    # A coded concept inside a cleaned sequence (ConceptNameCodeSequence...),
    # with the Clean Structured Content option: the code itself is kept, so
    # that an SR keeps its meaning.
    CONCEPT = 3


# Where the table offers a choice (X/Z, Z/D, ...) we keep the attribute present
# whenever the choice allows it: a missing Type 1/2 attribute is what makes
# workstations reject files, and a dummy or empty value leaks nothing. A
# sequence with X/Z is the exception (see _TYPE_2_EVERYWHERE).
_BASIC_CHOICE = {
    "X": Action.REMOVE,
    "Z": Action.EMPTY,
    "X/Z": Action.EMPTY,
    "D": Action.DUMMY,
    "Z/D": Action.DUMMY,
    "X/D": Action.DUMMY,
    "X/Z/D": Action.DUMMY,
    "U": Action.REMAP_UID,
    "X/Z/U*": Action.REMAP_UID,
    "K": Action.KEEP,
    # "C" (clean) is not used by the Basic Profile column of 2026c; should an
    # edition introduce it, a dummy value is the safe reading.
    "C": Action.DUMMY,
}

FREE_TEXT_VRS = frozenset({"AE", "AS", "LO", "LT", "PN", "SH", "ST", "UC", "UT"})
TIME_VRS = frozenset({"TM"})
_CONCEPT_SEQUENCES = frozenset(
    Tag(k) for k in ("ConceptNameCodeSequence", "ConceptCodeSequence", "MeasurementUnitsCodeSequence")
)
_CODE_ATTRIBUTES = frozenset(
    Tag(k)
    for k in (
        "CodeValue",
        "CodingSchemeDesignator",
        "CodingSchemeVersion",
        "CodeMeaning",
        "LongCodeValue",
        "URNCodeValue",
        "ContextIdentifier",
        "ContextGroupVersion",
        "MappingResource",
    )
)
# SR tree structure: enumerations and template ids, never patient data.
_SR_STRUCTURE = frozenset(
    Tag(k) for k in ("ValueType", "RelationshipType", "ContinuityOfContent", "TemplateIdentifier", "MappingResource")
)
# Beyond Table E.1-1: overlay free text (60xx,0022) and (60xx,1500). URLs (VR UR)
# not listed by the table are removed too: they name the source system and
# often embed the original UIDs (RetrieveURL).
_SUPPLEMENT_REMOVED_MASKS = ((0xFF00FFFF, 0x60000022), (0xFF00FFFF, 0x60001500))
# OverlayData (60xx,3000), xx even. Without it the rest of its group (rows,
# columns, origin, bits...) is a partial Overlay Plane module, an IOD error:
# an overlay goes whole or stays whole.
_OVERLAY_DATA_MASK, _OVERLAY_DATA = 0xFF01FFFF, 0x60003000

# A sequence emptied to zero items is valid only where PS3.3 makes it Type 2; a
# Type 3 sequence says "one or more Items" (dciodvfy: "Bad Sequence number of
# Items 0"). Table E.1-1's X/Z leaves that choice to the Type, so for a sequence
# it means remove, except where the sequence is Type 2 (module definitions of
# dicom3tools, checked with dciodvfy): AcquisitionContextSequence (Acquisition
# Context module), and ReferencedStudySequence inside an item (the
# ReferencedRequestSequence of SR and Key Object documents; at the top level,
# General Study, it is Type 3). The other X/Z-like choices of sequences (X/D,
# X/Z/D, X/Z/U*) keep the items. The sequences marked exactly Z stay empty, as
# the table says: IssuerOfTheContainerIdentifierSequence,
# IssuerOfTheSpecimenIdentifierSequence, SpecimenPreparationSequence and
# VerifyingObserverIdentificationCodeSequence are Type 2 where they occur;
# PrescriptionNotesSequence belongs to second-generation RT objects, which the
# dciodvfy at hand does not know. A later, PS3.3-driven pass may refine this.
_TYPE_2_EVERYWHERE = frozenset({Tag("AcquisitionContextSequence")})
_TYPE_2_IN_ITEMS = frozenset({Tag("ReferencedStudySequence")})


class ElementPlan:
    """Maps (tag, VR, scope) to an action for one call."""

    def __init__(
        self,
        profile: ConfidentialityProfile,
        options: AnonymizationOptions,
        safe_private: SafePrivateTable | None = None,
    ) -> None:
        self.profile = profile
        self.options = options
        self.private_selection = PrivateSelection.for_call(
            options.retain_safe_private, options.keep, options.keep_private, safe_private or load_safe_private()
        )
        self._cache: dict[tuple[int, str, Scope], Action] = {}
        self._resolved: dict[tuple[int, str | None, Scope], tuple[Action, str]] = {}

    def resolve(self, tag: BaseTag, raw_vr: str | None, scope: Scope) -> tuple[Action, str]:
        """Action and deciding VR of an element as read (VR None when implicit); the walk's hot path."""
        key = (tag, raw_vr, scope)
        found = self._resolved.get(key)
        if found is None:
            vr = element_vr(tag, raw_vr)
            found = self._resolved[key] = (self.action(tag, vr, scope), vr)
        return found

    def action(self, tag: BaseTag, vr: str, scope: Scope = Scope.NORMAL) -> Action:
        key = (int(tag), vr, scope)
        found = self._cache.get(key)
        if found is None:
            found = self._decide(tag, vr, scope)
            self._cache[key] = found
        return found

    def _decide(self, tag: BaseTag, vr: str, scope: Scope) -> Action:
        action = self._decide_element(tag, vr, scope)
        if action is Action.REMOVE and int(tag) & _OVERLAY_DATA_MASK == _OVERLAY_DATA:
            return Action.REMOVE_OVERLAY
        return action

    def _decide_element(self, tag: BaseTag, vr: str, scope: Scope) -> Action:
        options = self.options
        if tag in options.remove:
            return Action.REMOVE
        if tag.element == 0:
            # Group lengths would be wrong after any change; writers recompute
            # the ones that matter (file meta).
            return Action.REMOVE
        if tag in options.replace:
            return Action.REMAP_UID if vr == "UI" else Action.REPLACE
        if tag.is_private:
            return self._private(tag, vr)
        if tag in options.keep:
            return _structural(vr, Action.KEEP)
        row = self.profile.lookup(int(tag))
        if row is None:
            return self._unlisted(tag, vr, scope)
        return self._listed(row, tag, vr, scope)

    def _private(self, tag: BaseTag, vr: str) -> Action:
        if not self.options.keep_private_tags:
            # Kept private attributes depend on the creator blocks of each dataset.
            return Action.REMOVE if self.private_selection is None else Action.SELECT_PRIVATE
        return self._kept_private(tag, vr)

    def select_private(self, tag: BaseTag, vr: str, blocks: PrivateBlocks) -> Action:
        """The action for a SELECT_PRIVATE element, given the creator blocks of its dataset."""
        fate = blocks.fate(tag, vr)
        if fate is PrivateFate.KEEP_VALUE:
            return self._kept_private(tag, vr)
        return _PRIVATE_FATES[fate]

    def _kept_private(self, tag: BaseTag, vr: str) -> Action:
        if tag.is_private_creator:
            return Action.KEEP
        if vr in ("UI", "SQ"):
            return _structural(vr, Action.KEEP)
        if vr in DATE_VRS and self.options.shift_dates:
            return Action.SHIFT_DATE  # a real date beside shifted ones would reveal the offset
        return Action.SCAN_PRIVATE

    def _unlisted(self, tag: BaseTag, vr: str, scope: Scope) -> Action:
        if vr == "UR" or any(int(tag) & mask == value for mask, value in _SUPPLEMENT_REMOVED_MASKS):
            return Action.REMOVE
        if vr == "SQ":
            concept = scope >= Scope.CLEANED and tag in _CONCEPT_SEQUENCES
            return Action.RECURSE_CONCEPT if concept and self.options.clean_structured_content else Action.RECURSE
        if vr == "UI":
            return Action.REMAP_UID
        if vr in DATE_VRS and self.options.shift_dates:
            return Action.SHIFT_DATE
        if scope < Scope.CLEANED:
            return Action.KEEP
        if vr in DATE_VRS or (vr in TIME_VRS and not self.options.shift_dates):
            return Action.DUMMY
        if vr in FREE_TEXT_VRS and tag not in _SR_STRUCTURE:
            return Action.KEEP if scope is Scope.CONCEPT and tag in _CODE_ATTRIBUTES else Action.DUMMY
        return Action.KEEP

    def _listed(self, row: ProfileRow, tag: BaseTag, vr: str, scope: Scope) -> Action:
        if self.options.shift_dates and row.rtn_long_modif_dates == "C":
            # The option's "C": dates are shifted and times kept; anything else
            # the option lists (binary timestamps...) keeps its basic action.
            if vr in DATE_VRS:
                return Action.SHIFT_DATE
            if vr in TIME_VRS:
                return Action.KEEP
        action = _BASIC_CHOICE[row.basic]
        if vr == "SQ":
            # A sequence is dropped, emptied, or kept with its items processed
            # by the same rules. A D sequence (ContentSequence...) keeps its
            # items, the "non-zero length" D asks for, but every text, name,
            # date and code in them is replaced: nothing native Orthanc removes
            # survives, and Type 1/2 sequences stay present. The Clean
            # Structured Content option keeps coded concepts readable.
            if action is Action.EMPTY and row.basic == "X/Z":
                type_2 = tag in _TYPE_2_EVERYWHERE or (scope is not Scope.NORMAL and tag in _TYPE_2_IN_ITEMS)
                return Action.EMPTY if type_2 else Action.REMOVE
            if action in (Action.REMOVE, Action.EMPTY):
                return action
            return Action.RECURSE_CLEANED if action is Action.DUMMY else Action.RECURSE
        if action is Action.REMAP_UID and vr != "UI":
            return Action.EMPTY
        if action in (Action.DUMMY, Action.KEEP) and vr == "UI":
            return Action.REMAP_UID
        return action


_PRIVATE_FATES = {
    PrivateFate.REMOVE: Action.REMOVE,
    PrivateFate.KEEP_AS_IS: Action.KEEP,
    PrivateFate.WALK_SEQUENCE: Action.RECURSE_PRIVATE,
}


def _structural(vr: str, otherwise: Action) -> Action:
    """UIDs are always remapped and sequences always walked, whatever the rule says."""
    if vr == "UI":
        return Action.REMAP_UID
    if vr == "SQ":
        return Action.RECURSE
    return otherwise
