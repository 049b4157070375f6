"""The per-call decision of what happens to each element, computed once per tag.

A call's options and the profile table are folded into one ``ElementPlan``.
The rewriter asks it for an ``Action`` per (tag, VR) and the answer is cached,
so the per-instance cost is a dictionary lookup, not a policy evaluation.
"""

from __future__ import annotations

from enum import Enum

from pydicom.tag import BaseTag

from .options import AnonymizationOptions
from .profile import ConfidentialityProfile, ProfileRow

DATE_VRS = frozenset({"DA", "DT"})


class Action(Enum):
    KEEP = "keep"
    REMOVE = "remove"
    EMPTY = "empty"
    DUMMY = "dummy"
    REMAP_UID = "remap-uid"
    SHIFT_DATE = "shift-date"
    RECURSE = "recurse"
    REPLACE = "replace"
    SCAN_PRIVATE = "scan-private"


# Where the table offers a choice (X/Z, Z/D, ...) we keep the attribute present
# whenever the choice allows it: a missing Type 1/2 attribute is what makes
# workstations reject files, and a dummy or empty value leaks nothing.
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


class ElementPlan:
    """Maps (tag, VR) to an action for one call."""

    def __init__(self, profile: ConfidentialityProfile, options: AnonymizationOptions) -> None:
        self.profile = profile
        self.options = options
        self._cache: dict[tuple[int, str], Action] = {}

    def action(self, tag: BaseTag, vr: str) -> Action:
        key = (int(tag), vr)
        found = self._cache.get(key)
        if found is None:
            found = self._decide(tag, vr)
            self._cache[key] = found
        return found

    def _decide(self, tag: BaseTag, vr: str) -> Action:
        options = self.options
        if tag in options.remove:
            return Action.REMOVE
        if tag.element == 0:
            # Group lengths would be wrong after any change; writers recompute
            # the ones that matter (file meta).
            return Action.REMOVE
        if tag in options.replace:
            return Action.REMAP_UID if vr == "UI" else Action.REPLACE
        if tag in options.keep:
            return _structural(vr, Action.KEEP)
        if tag.is_private:
            return self._private(tag, vr)
        row = self.profile.lookup(int(tag))
        if row is None:
            return self._unlisted(vr)
        return self._listed(row, vr)

    def _private(self, tag: BaseTag, vr: str) -> Action:
        if not self.options.keep_private_tags:
            return Action.REMOVE
        if tag.is_private_creator:
            return Action.KEEP
        if vr in ("UI", "SQ"):
            return _structural(vr, Action.KEEP)
        return Action.SCAN_PRIVATE

    def _unlisted(self, vr: str) -> Action:
        if self.options.shift_dates and vr in DATE_VRS:
            return Action.SHIFT_DATE
        return _structural(vr, Action.KEEP)

    def _listed(self, row: ProfileRow, vr: str) -> Action:
        if self.options.shift_dates and row.rtn_long_modif_dates == "C":
            # The option's "C": dates are shifted, times and other values kept.
            return Action.SHIFT_DATE if vr in DATE_VRS else _structural(vr, Action.KEEP)
        action = _BASIC_CHOICE[row.basic]
        if vr == "SQ":
            # A sequence is either dropped, emptied, or kept with its items
            # processed by the same rules; "dummy" items would be invented data.
            return action if action in (Action.REMOVE, Action.EMPTY) else Action.RECURSE
        if action is Action.REMAP_UID and vr != "UI":
            return Action.EMPTY
        if action in (Action.DUMMY, Action.KEEP) and vr == "UI":
            return Action.REMAP_UID
        return action


def _structural(vr: str, otherwise: Action) -> Action:
    """UIDs are always remapped and sequences always walked, whatever the rule says."""
    if vr == "UI":
        return Action.REMAP_UID
    if vr == "SQ":
        return Action.RECURSE
    return otherwise
