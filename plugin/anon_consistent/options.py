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

from .private_blocks import PRIVATE_ATTRIBUTE_EXAMPLE, PrivateAttribute, parse_private_attribute
from .request_body import BodyRefused, check_body
from .vr import dictionary_vm, dictionary_vr
from .vr_values import supported, value_problem

DEFAULT_PROJECT = "default"
# Always fullmatch: "$" would also accept a trailing newline.
PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

# As Orthanc's own ParseTag, "gggg-eeee" too.
_TAG_NUMBER = re.compile(
    r"\(\s*([0-9A-Fa-f]{4})\s*,\s*([0-9A-Fa-f]{4})\s*\)|([0-9A-Fa-f]{4})\s*[,-]\s*([0-9A-Fa-f]{4})|([0-9A-Fa-f]{8})"
)
_KEYWORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_TAG_FORMS = 'a keyword such as "PatientName" or a number such as "0010,0010", "(0010,0010)" or "00100010"'

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
_OTHER_OPTIONS = {"Replace", "Keep", "Remove", "Project", "Priority", "Synchronous", "Options"}
_KNOWN_OPTIONS = frozenset(_BOOLEAN_OPTIONS) | _OTHER_OPTIONS
# A private element named without its block needs its creator.
_BLOCKLESS_PRIVATE = re.compile(r"\(?\s*[0-9A-Fa-f]{4}\s*,\s*[xX]{2}[0-9A-Fa-f]{2}\s*\)?")
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
    retain_safe_private: bool = False
    # "Keep" entries {"Creator": ..., "Element": "gggg,xxee"}: in whatever block the creator reserved.
    keep_private: frozenset[PrivateAttribute] = frozenset()
    priority: int = 0
    project: str = DEFAULT_PROJECT

    @cached_property
    def uid_overrides(self) -> frozenset[BaseTag]:
        """UI attributes whose values the caller pins (kept or replaced)."""
        return frozenset(t for t in (*self.replace, *self.keep) if _vr(t) == "UI")

    def describe(self) -> str:
        """Short, non-identifying summary recorded in DeidentificationMethod."""
        parts = []
        if self.keep or self.keep_private:
            kept = sorted(_name(t) for t in self.keep) + sorted(str(a) for a in self.keep_private)
            parts.append("Keep " + " ".join(kept))
        if self.replace:
            parts.append("Replace " + " ".join(sorted(_name(t) for t in self.replace)))
        if self.remove:
            parts.append("Remove " + " ".join(sorted(_name(t) for t in self.remove)))
        if self.keep_private_tags:
            parts.append("KeepPrivateTags")
        if self.retain_safe_private:
            parts.append("RetainSafePrivate")
        if self.shift_dates:
            parts.append("ShiftDates")
        if self.clean_structured_content:
            parts.append("CleanStructuredContent")
        return "; ".join(parts)


def parse_tag(text: str) -> BaseTag:
    """Accept ``PatientName``, ``0010,0010``, ``0010-0010``, ``(0010,0010)`` or ``00100010``."""
    cleaned = text.strip()
    if not cleaned:
        raise OptionsError(f"Empty tag name {_show(text)}: use {_TAG_FORMS}")
    number = _TAG_NUMBER.fullmatch(cleaned)
    if number:
        return Tag(int("".join(digits for digits in number.groups() if digits), 16))
    # tag_for_keyword("") finds (300A,0782), whose keyword is empty: only real keywords are looked up.
    keyword_tag = tag_for_keyword(cleaned) if _KEYWORD.fullmatch(cleaned) else None
    if keyword_tag is None:
        raise OptionsError(f"Unknown DICOM tag {_show(text)}: use {_TAG_FORMS}")
    return Tag(keyword_tag)


def parse_options(body: bytes | str | None) -> AnonymizationOptions:
    """Parse a request body; an empty body means every default."""
    if body is None or not body.strip():
        return AnonymizationOptions()
    try:
        check_body(body)  # json.loads recurses: refuse deep nesting before it does
    except BodyRefused as refused:
        raise OptionsError(str(refused)) from None
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

    if "Options" in document:
        # Stand-in until the "Options" list of the core branch: RetainSafePrivate only.
        named = document["Options"]
        if not isinstance(named, list) or not all(isinstance(name, str) for name in named):
            raise OptionsError('"Options" must be a list of option names')
        unknown_names = sorted(set(named) - {"RetainSafePrivate"})
        if unknown_names:
            raise OptionsError(f'Unknown option name(s) in "Options": {", ".join(unknown_names)}')
        flags["retain_safe_private"] = "RetainSafePrivate" in named

    replace = _parse_replace(document.get("Replace", {}))
    keep_tags, keep_private = _parse_keep(document.get("Keep", []))
    keep = frozenset(keep_tags)
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
    if not isinstance(project, str) or not PROJECT_NAME.fullmatch(project):
        shown = f": {_show(project)}" if isinstance(project, str) else ""
        raise OptionsError(f'"Project" must be 1-64 characters among letters, digits, ".", "_" and "-"{shown}')

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
    return AnonymizationOptions(
        replace=replace,
        keep=keep,
        keep_private=keep_private,
        remove=remove,
        project=project,
        priority=priority,
        **flags,
    )


def _parse_tag_list(value: object, option: str) -> list[BaseTag]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise OptionsError(f'"{option}" must be a list of tag names')
    return [_option_tag(item, option) for item in value]


def _parse_keep(value: object) -> tuple[list[BaseTag], frozenset[PrivateAttribute]]:
    """Tag names, and private attributes given as {"Creator": ..., "Element": "gggg,xxee"}."""
    if not isinstance(value, list) or not all(isinstance(item, (str, dict)) for item in value):
        raise OptionsError(f'"Keep" must be a list of tag names or private attributes like {PRIVATE_ATTRIBUTE_EXAMPLE}')
    tags: list[BaseTag] = []
    private: set[PrivateAttribute] = set()
    for item in value:
        if isinstance(item, dict):
            try:
                private.add(parse_private_attribute(item))
            except ValueError as error:
                raise OptionsError(f'"Keep": {error}') from None
        elif _BLOCKLESS_PRIVATE.fullmatch(item.strip()):
            raise OptionsError(
                f'"Keep": {_show(item)} does not say which Private Creator reserved its block: '
                f'use {{"Creator": "...", "Element": {_show(item.strip())}}}'
            )
        else:
            tags.append(_option_tag(item, "Keep"))
    return tags, frozenset(private)


def _option_tag(text: str, option: str) -> BaseTag:
    try:
        return parse_tag(text)
    except OptionsError as error:
        raise OptionsError(f'"{option}": {error}') from None


def _parse_replace(value: object) -> dict[BaseTag, str]:
    if not isinstance(value, dict):
        raise OptionsError('"Replace" must be an object mapping tags to string values')
    replace: dict[BaseTag, str] = {}
    for key, new_value in value.items():
        tag = _option_tag(key, "Replace")
        if tag in replace:
            raise OptionsError(f'"Replace" names {_label(tag)} twice')
        if not isinstance(new_value, str):
            raise OptionsError(f'"Replace" value for {_label(tag)} must be a string')
        _check_value_fits(tag, new_value)
        replace[tag] = new_value
    return replace


def _check_value_fits(tag: BaseTag, value: str) -> None:
    """A value that cannot be encoded in the tag's VR is the caller's mistake (400), not a failed instance."""
    label = _label(tag)
    if tag.group == 0x0002:
        raise OptionsError(f'"Replace" cannot change the file meta attribute {label}')
    if tag.group in (0x0000, 0xFFFE):
        raise OptionsError(f'"Replace" cannot set {label}: it is not an attribute of a data set')
    if tag.is_private:
        raise OptionsError(f'"Replace" cannot set the private attribute {label}: its VR is unknown')
    vr = _vr(tag)
    if vr == "SQ":
        raise OptionsError(f'"Replace" cannot set the sequence {label}')
    if vr == "UN":
        raise OptionsError(f'"Replace" cannot set {label}: it is not in the DICOM dictionary, so its VR is unknown')
    if not supported(vr):
        raise OptionsError(f'"Replace" cannot set the binary attribute {label} (VR {vr})')
    problem = value_problem(vr, dictionary_vm(int(tag)), value)
    if problem:
        raise OptionsError(f'"Replace" value for {label} {problem}: {_show(value)}')


def _vr(tag: BaseTag) -> str:
    return dictionary_vr(int(tag))


def _name(tag: BaseTag) -> str:
    return keyword_for_tag(tag) or f"{tag.group:04X},{tag.element:04X}"


def _label(tag: BaseTag) -> str:
    """``Rows (0028,0010)``: the keyword for people, the number to be exact."""
    number = f"({tag.group:04X},{tag.element:04X})"
    keyword = keyword_for_tag(tag)
    return f"{keyword} {number}" if keyword else number


def _show(value: str, limit: int = 80) -> str:
    """A value quoted as JSON (a newline shows as \\n), cut if long."""
    return json.dumps(value if len(value) <= limit else value[:limit] + "...", ensure_ascii=False)
