"""The JSON body of an anonymization request, parsed and validated.

Option names and meanings follow Orthanc's own ``/studies/{id}/anonymize`` so
that existing scripts only change the URL.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property

from pydicom.datadict import keyword_for_tag, tag_for_keyword
from pydicom.tag import BaseTag, Tag

from .uids import is_valid_uid
from .vr import BINARY_VRS, NUMBER_TYPE_BY_VR, TEXT_LIMITS, dictionary_vr

DEFAULT_PROJECT = "default"
PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# Orthanc refuses to touch these without "Force": changing them silently
# would merge or split resources in its index.
FORCE_REQUIRED = frozenset(Tag(k) for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"))

# Without these Orthanc cannot index an instance at all.
NEVER_REMOVED = frozenset(Tag(k) for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID"))

_BOOLEAN_OPTIONS = {
    "KeepPrivateTags": "keep_private_tags",
    "Force": "force",
    "KeepSource": "keep_source",
    "ShiftDates": "shift_dates",
    "Asynchronous": "asynchronous",
    # Orthanc's "Permissive" lets a job go on after a failed instance; this
    # plugin always does (and reports the failure), so true and false agree.
    "Permissive": "permissive",
    "CleanStructuredContent": "clean_structured_content",
}
_KNOWN_OPTIONS = frozenset(_BOOLEAN_OPTIONS) | {"Replace", "Keep", "Remove", "Project", "Priority", "Synchronous"}
_UNSUPPORTED_OPTIONS = {
    "DicomVersion": "this plugin always applies its own PS3.15 table (see GET /anon-consistent)",
    "PrivateCreator": "private attributes cannot be replaced; use KeepPrivateTags",
}


class OptionsError(ValueError):
    """The request body is not a valid set of options (HTTP 400)."""


@dataclass(frozen=True)
class AnonymizationOptions:
    """What one anonymization call was asked to do."""

    replace: dict[BaseTag, str] = field(default_factory=dict)
    keep: frozenset[BaseTag] = frozenset()
    remove: frozenset[BaseTag] = frozenset()
    keep_private_tags: bool = False
    force: bool = False
    keep_source: bool = True
    shift_dates: bool = False
    asynchronous: bool = False
    permissive: bool = False
    clean_structured_content: bool = False
    priority: int = 0
    project: str = DEFAULT_PROJECT

    @cached_property
    def uid_overrides(self) -> frozenset[BaseTag]:
        """UI attributes whose values the caller pins (kept or replaced)."""
        return frozenset(t for t in (*self.replace, *self.keep) if _vr(t) == "UI")

    def describe(self) -> str:
        """Short, non-identifying summary recorded in DeidentificationMethod."""
        parts = []
        if self.keep:
            parts.append("Keep " + " ".join(sorted(_name(t) for t in self.keep)))
        if self.replace:
            parts.append("Replace " + " ".join(sorted(_name(t) for t in self.replace)))
        if self.remove:
            parts.append("Remove " + " ".join(sorted(_name(t) for t in self.remove)))
        if self.keep_private_tags:
            parts.append("KeepPrivateTags")
        if self.shift_dates:
            parts.append("ShiftDates")
        if self.clean_structured_content:
            parts.append("CleanStructuredContent")
        return "; ".join(parts)


def parse_tag(text: str) -> BaseTag:
    """Accept ``PatientName``, ``0010,0010``, ``(0010,0010)`` or ``00100010``."""
    cleaned = text.strip().strip("()").replace(",", "").replace(" ", "")
    if re.fullmatch(r"[0-9A-Fa-f]{8}", cleaned):
        return Tag(int(cleaned, 16))
    number = tag_for_keyword(text.strip())
    if number is None:
        raise OptionsError(f"Unknown DICOM tag: {text!r}")
    return Tag(number)


def parse_options(body: bytes | str | None) -> AnonymizationOptions:
    """Parse a request body; an empty body means every default."""
    if body is None or not body.strip():
        return AnonymizationOptions()
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise OptionsError(f"The request body is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise OptionsError("The request body must be a JSON object")
    for option, reason in _UNSUPPORTED_OPTIONS.items():
        if option in document:
            raise OptionsError(f'"{option}" is not supported: {reason}')
    unknown = sorted(set(document) - _KNOWN_OPTIONS)
    if unknown:
        raise OptionsError(f"Unknown option(s): {', '.join(unknown)}")

    flags: dict[str, bool] = {}
    for option, attribute in _BOOLEAN_OPTIONS.items():
        if option in document:
            if not isinstance(document[option], bool):
                raise OptionsError(f'"{option}" must be true or false')
            flags[attribute] = document[option]

    replace = _parse_replace(document.get("Replace", {}))
    keep = frozenset(_parse_tag_list(document.get("Keep", []), "Keep"))
    remove = frozenset(_parse_tag_list(document.get("Remove", []), "Remove"))
    if "Synchronous" in document:
        synchronous = document["Synchronous"]
        if not isinstance(synchronous, bool):
            raise OptionsError('"Synchronous" must be true or false')
        if "asynchronous" in flags and flags["asynchronous"] == synchronous:
            raise OptionsError('"Synchronous" and "Asynchronous" contradict each other')
        flags["asynchronous"] = not synchronous
    priority = document.get("Priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise OptionsError('"Priority" must be an integer')
    project = document.get("Project", DEFAULT_PROJECT)
    if not isinstance(project, str) or not PROJECT_NAME.match(project):
        raise OptionsError('"Project" must be 1-64 characters among letters, digits, ".", "_" and "-"')

    clash = (keep & remove) | (keep & set(replace)) | (remove & set(replace))
    if clash:
        raise OptionsError(f"A tag cannot be both kept, replaced or removed: {', '.join(_name(t) for t in clash)}")
    undeletable = sorted(_name(t) for t in remove & NEVER_REMOVED)
    if undeletable:
        raise OptionsError(f"{', '.join(undeletable)} cannot be removed: Orthanc could not store the result")
    if not flags.get("force", False):
        forced = sorted(_name(t) for t in (keep | set(replace)) & FORCE_REQUIRED)
        if forced:
            raise OptionsError(f'Keeping or replacing {", ".join(forced)} requires "Force": true')
    return AnonymizationOptions(replace=replace, keep=keep, remove=remove, project=project, priority=priority, **flags)


def _parse_tag_list(value: object, option: str) -> list[BaseTag]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise OptionsError(f'"{option}" must be a list of tag names')
    return [parse_tag(item) for item in value]


def _parse_replace(value: object) -> dict[BaseTag, str]:
    if not isinstance(value, dict):
        raise OptionsError('"Replace" must be an object mapping tags to string values')
    replace: dict[BaseTag, str] = {}
    for key, new_value in value.items():
        tag = parse_tag(key)
        if tag.group == 0x0002:
            raise OptionsError(f'"Replace" cannot change the file meta attribute {key}')
        if not isinstance(new_value, str):
            raise OptionsError(f'"Replace" value for {key} must be a string')
        vr = _vr(tag)
        if vr == "SQ":
            raise OptionsError(f'"Replace" cannot set the sequence {key}')
        if vr == "UI" and not is_valid_uid(new_value):
            raise OptionsError(f'"Replace" value for {key} is not a valid UID: {new_value!r}')
        _check_value_fits(key, vr, new_value)
        replace[tag] = new_value
    return replace


def _check_value_fits(key: str, vr: str, value: str) -> None:
    """A value that cannot be encoded in the tag's VR is the caller's mistake (400), not a failed instance."""
    if any(part in BINARY_VRS for part in vr.split(" or ")):
        raise OptionsError(f'"Replace" cannot set the binary attribute {key}')
    vr = vr.split(" or ")[0]  # "US or SS": both are integers
    for part in value.split("\\") if value else []:
        try:
            NUMBER_TYPE_BY_VR.get(vr, str)(part)
        except ValueError:
            raise OptionsError(f'"Replace" value for {key} must be a number for VR {vr}: {value!r}') from None
        if vr in TEXT_LIMITS and len(part) > TEXT_LIMITS[vr]:
            raise OptionsError(f'"Replace" value for {key} is longer than VR {vr} allows ({TEXT_LIMITS[vr]})')


def _vr(tag: BaseTag) -> str:
    return dictionary_vr(int(tag))


def _name(tag: BaseTag) -> str:
    return keyword_for_tag(tag) or f"{tag.group:04X},{tag.element:04X}"
