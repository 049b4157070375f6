"""The per-call decision of what happens to each element, computed once per tag.

A call's options and the profile table are folded into one ``ElementPlan``
per SOP Class. The rewriter asks it for an ``Action`` per (tag, VR, scope)
and the answer is cached, so the per-instance cost is a dictionary lookup, not
a policy evaluation. Where the table leaves a choice to the attribute's Type,
the answer also depends on the sequences around the element and is cached per
path. The rules for listed attributes are in ``plan_options``.
"""

from __future__ import annotations

import copy

from pydicom.tag import BaseTag, Tag

from .options import AnonymizationOptions
from .plan_options import (
    CLEAN,
    CLEANED_SCOPES,
    CLEANING_COLUMNS,
    DATE_VRS,
    TIME_VRS,
    Action,
    Scope,
    TypeChoice,
    listed_action,
    structural,
)
from .private_blocks import PrivateBlocks, PrivateFate, PrivateSelection
from .profile import ConfidentialityProfile, ProfileRow
from .profile.iod_types import is_known_sop_class, nested_attribute_type
from .profile.safe_private import SafePrivateTable, load_safe_private
from .ps315_options import columns_of
from .vr import element_vr

__all__ = ["DATE_VRS", "Action", "ElementPlan", "Scope"]

# Where unlisted text is cleaned as a descriptor rather than replaced.
_TEXT_CLEANED_SCOPES = frozenset({Scope.GRAPHIC, Scope.DESCRIPTOR})
FREE_TEXT_VRS = frozenset({"AE", "AS", "LO", "LT", "PN", "SH", "ST", "UC", "UT"})
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


class ElementPlan:
    """Maps (tag, VR, scope) to an action for one call and one SOP Class.

    The plan a call creates knows no SOP Class: ``for_sop_class`` gives the
    plan of each SOP Class met (built once, with its own cache), where a
    choice of the table (X/Z, X/D, Z/D, X/Z/D) is decided by the attribute's
    Type in that class's IOD.
    """

    def __init__(
        self,
        profile: ConfidentialityProfile,
        options: AnonymizationOptions,
        safe_private: SafePrivateTable | None = None,
        *,
        sop_class_uid: str = "",
    ) -> None:
        self.profile = profile
        self.options = options
        # Shared by the SOP Class plans (for_sop_class copies this plan).
        self.private_selection = PrivateSelection.for_call(
            options.retain_safe_private, options.keep, options.keep_private, safe_private or load_safe_private()
        )
        self._columns = columns_of(options.profile_options)
        self.cleans_text = any(column in CLEANING_COLUMNS for column in self._columns)
        self._plans: dict[str, ElementPlan] = {}  # shared by the call's plans (see for_sop_class)
        self._bind(sop_class_uid)

    def _bind(self, sop_class_uid: str) -> None:
        """Make this the plan of ``sop_class_uid``, with empty caches."""
        self.sop_class_uid = sop_class_uid.strip(" \x00")
        self._known_sop_class = bool(self.sop_class_uid) and is_known_sop_class(self.sop_class_uid)
        self._cache: dict[tuple[int, str, Scope], Action | TypeChoice] = {}
        self._resolved: dict[tuple[int, str | None, Scope], tuple[Action, str]] = {}
        self._by_type: dict[tuple[int, str | None, Scope, tuple[int, ...]], tuple[Action, str]] = {}

    def for_sop_class(self, sop_class_uid: str) -> ElementPlan:
        """The plan of this call for instances of ``sop_class_uid``: a copy of this one, with its own caches."""
        uid = sop_class_uid.strip(" \x00")
        if uid == self.sop_class_uid:
            return self
        plan = self._plans.get(uid)
        if plan is None:
            plan = self._plans[uid] = copy.copy(self)  # whatever else the call's plan holds is shared
            plan._bind(uid)
        return plan

    def resolve(self, tag: BaseTag, raw_vr: str | None, scope: Scope, path: tuple[int, ...] = ()) -> tuple[Action, str]:
        """Action and deciding VR of an element as read (VR None when implicit); the walk's hot path.

        ``path`` holds the tags of the sequences the element is nested in; it
        matters only where the action depends on the element's Type.
        """
        key = (tag, raw_vr, scope)
        found = self._resolved.get(key)
        if found is not None:
            return found
        typed_key = (tag, raw_vr, scope, path)
        found = self._by_type.get(typed_key)
        if found is None:
            vr = element_vr(tag, raw_vr)
            decision = self._decision(tag, vr, scope)
            if isinstance(decision, Action):
                found = self._resolved[key] = (decision, vr)
            else:
                found = self._by_type[typed_key] = (self._typed(decision, tag, path), vr)
        return found

    def action(self, tag: BaseTag, vr: str, scope: Scope = Scope.NORMAL, path: tuple[int, ...] = ()) -> Action:
        """The action for an element of ``vr`` at ``path`` (sequence tags, outermost first)."""
        decision = self._decision(tag, vr, scope)
        return decision if isinstance(decision, Action) else self._typed(decision, tag, path)

    def _decision(self, tag: BaseTag, vr: str, scope: Scope) -> Action | TypeChoice:
        key = (int(tag), vr, scope)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._decide(tag, vr, scope)
        return found

    def _typed(self, choice: TypeChoice, tag: BaseTag, path: tuple[int, ...]) -> Action:
        attribute_type = nested_attribute_type(self.sop_class_uid, (*path, int(tag))) if self._known_sop_class else None
        return _overlay(choice.pick(attribute_type), tag)

    def _decide(self, tag: BaseTag, vr: str, scope: Scope) -> Action | TypeChoice:
        action = self._decide_element(tag, vr, scope)
        return _overlay(action, tag) if isinstance(action, Action) else action

    def _decide_element(self, tag: BaseTag, vr: str, scope: Scope) -> Action | TypeChoice:
        options = self.options
        if tag in options.remove:
            return Action.REMOVE
        if tag.is_private and _creator_slot(tag) in options.remove:
            # Removing a Private Creator removes the block it reserves, at every
            # level: its elements would be orphans (and whether the creator was
            # read before them would depend on element order).
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
            return structural(vr, Action.KEEP)
        row = self.profile.lookup(int(tag))
        if row is None:
            return self._unlisted(tag, vr, scope)
        return self._listed(row, vr, scope)

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
            return structural(vr, Action.KEEP)
        if vr in DATE_VRS and self.options.shift_dates:
            return Action.SHIFT_DATE  # a real date beside shifted ones would reveal the offset
        return Action.SCAN_PRIVATE

    def _unlisted(self, tag: BaseTag, vr: str, scope: Scope) -> Action | TypeChoice:
        if vr == "UR" or any(int(tag) & mask == value for mask, value in _SUPPLEMENT_REMOVED_MASKS):
            return Action.REMOVE
        options = self.options
        if vr == "SQ":
            concept = scope in CLEANED_SCOPES and tag in _CONCEPT_SEQUENCES
            return Action.RECURSE_CONCEPT if concept and options.clean_structured_content else Action.RECURSE
        if vr == "UI":
            return Action.REMAP_UID
        if vr in DATE_VRS and options.shift_dates:
            return Action.SHIFT_DATE
        if scope not in CLEANED_SCOPES:
            return Action.KEEP
        if vr in DATE_VRS or vr in TIME_VRS:
            kept = options.full_dates or (vr in TIME_VRS and options.shift_dates)
            return Action.KEEP if kept else Action.DUMMY
        if vr in FREE_TEXT_VRS and tag not in _SR_STRUCTURE:
            # A code stays readable (an SR keeps its meaning), but its text is
            # free text too: "Lesion seen on John Doe" loses the name. A code
            # needs its value and meaning: a dummy if nothing is left.
            text_cleaned = scope in _TEXT_CLEANED_SCOPES or scope is Scope.CONCEPT
            if text_cleaned and tag in _CODE_ATTRIBUTES:
                return Action.CLEAN_TEXT_OR_DUMMY
            if scope in _TEXT_CLEANED_SCOPES and vr != "PN":
                return CLEAN
            return Action.DUMMY
        return Action.KEEP

    def _listed(self, row: ProfileRow, vr: str, scope: Scope) -> Action | TypeChoice:
        return listed_action(row, vr, scope, self._columns, self.options.shift_dates)


def _creator_slot(tag: BaseTag) -> int | None:
    """The Private Creator element (gggg,00bb) that reserves the block of private data element (gggg,bbxx)."""
    block = tag.element >> 8
    return tag.group << 16 | block if block >= 0x10 else None


def _overlay(action: Action, tag: BaseTag) -> Action:
    """OverlayData goes with its whole group (see _OVERLAY_DATA_MASK)."""
    if action is Action.REMOVE and int(tag) & _OVERLAY_DATA_MASK == _OVERLAY_DATA:
        return Action.REMOVE_OVERLAY
    return action


_PRIVATE_FATES = {
    PrivateFate.REMOVE: Action.REMOVE,
    PrivateFate.KEEP_AS_IS: Action.KEEP,
    PrivateFate.WALK_SEQUENCE: Action.RECURSE_PRIVATE,
}
