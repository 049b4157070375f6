"""The JSON body of an anonymization request, parsed and validated.

Option names and meanings follow Orthanc's own ``/studies/{id}/anonymize`` so
that existing scripts only change the URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydicom.tag import BaseTag, Tag

from .private_blocks import PRIVATE_ATTRIBUTE_EXAMPLE, PrivateAttribute, parse_private_attribute
from .ps315_options import (
    ALIASES,
    CLEAN_STRUCTURED_CONTENT,
    FULL_DATES,
    LO_LENGTH,
    MODIFIED_DATES,
    OPTIONS_BY_NAME,
    PROFILE_OPTIONS,
    RETAIN_SAFE_PRIVATE,
    RETAIN_UIDS,
    lo_values,
    parse_profile_options,
)
from .replace_values import parse_replace
from .request_body import BodyRefused, DuplicateKey, check_body, load_body
from .tag_paths import MAX_PATHS, TagPath, describe, find_conflict, parse_option_reference
from .tag_syntax import TAG_FORMS, OptionsError, blockless_private, parse_tag, show, tag_name, tag_number
from .vr import dictionary_vr

__all__ = ["TAG_FORMS", "AnonymizationOptions", "OptionsError", "parse_options", "parse_tag"]

DEFAULT_PROJECT = "default"
# Always fullmatch: "$" would also accept a trailing newline.
PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

# Orthanc refuses to touch these without "Force": changing them silently
# would merge or split resources in its index.
FORCE_REQUIRED = frozenset(Tag(k) for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"))

# Attributes "Remove" may not name, each with the reason answered.
NEVER_REMOVED = {
    **dict.fromkeys(
        (Tag(k) for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")),
        "Orthanc could not store the result",
    ),
    Tag("SOPClassUID"): "no reader could tell what the object is",
    # As native: Orthanc files each instance under its PatientID.
    Tag("PatientID"): "every patient would be merged into one in Orthanc (by default it becomes the pseudonym)",
}

_BOOLEAN_OPTIONS = {
    "KeepPrivateTags": "keep_private_tags",
    "Force": "force",
    "KeepSource": "keep_source",
    "Asynchronous": "asynchronous",
    # Orthanc's "Permissive" lets a job go on after a failed instance; this
    # plugin always does (and reports the failure), so true and false agree.
    "Permissive": "permissive",
}
_KNOWN_OPTIONS = (
    frozenset(_BOOLEAN_OPTIONS)
    | frozenset(ALIASES)
    | {"Options", "Replace", "Keep", "Remove", "Project", "Priority", "Synchronous"}
)
PATIENT_ID_TAG = Tag("PatientID")
_UNSUPPORTED_OPTIONS = {
    "DicomVersion": "this plugin always applies its own PS3.15 table (see GET /anon-consistent)",
    "PrivateCreator": "private attributes cannot be replaced; use KeepPrivateTags",
    "Transcode": "results keep their source's transfer syntax; transcode them afterwards with Orthanc's /modify",
}


@dataclass(frozen=True)
class AnonymizationOptions:
    """What one anonymization call was asked to do."""

    replace: dict[BaseTag, str] = field(default_factory=dict)
    keep: frozenset[BaseTag] = frozenset()
    remove: frozenset[BaseTag] = frozenset()
    keep_private_tags: bool = False
    force: bool = False
    keep_source: bool = True
    asynchronous: bool = False
    permissive: bool = False
    priority: int = 0
    project: str = DEFAULT_PROJECT
    # The PS3.15 options requested (names of ps315_options.OPTION_NAMES).
    profile_options: frozenset[str] = frozenset()
    # "Keep" entries {"Creator": ..., "Element": "gggg,xxee"}: in whatever block the creator reserved.
    keep_private: frozenset[PrivateAttribute] = frozenset()
    # Sequence paths ("Seq[0].Attribute"): each acts at its place only (see path_edits).
    keep_paths: frozenset[TagPath] = frozenset()
    remove_paths: frozenset[TagPath] = frozenset()
    replace_paths: dict[TagPath, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = self.profile_options - OPTIONS_BY_NAME.keys()
        if unknown:
            raise ValueError(f"unknown PS3.15 option(s): {', '.join(sorted(unknown))}")

    @cached_property
    def uid_overrides(self) -> frozenset[BaseTag]:
        """UI attributes whose values the caller pins (kept or replaced)."""
        return frozenset(t for t in (*self.replace, *self.keep) if dictionary_vr(int(t)) == "UI")

    @property
    def shift_dates(self) -> bool:
        """Retain Longitudinal Temporal Information with Modified Dates (alias ``ShiftDates``)."""
        return MODIFIED_DATES in self.profile_options

    @property
    def full_dates(self) -> bool:
        return FULL_DATES in self.profile_options

    @property
    def clean_structured_content(self) -> bool:
        return CLEAN_STRUCTURED_CONTENT in self.profile_options

    @property
    def retain_safe_private(self) -> bool:
        return RETAIN_SAFE_PRIVATE in self.profile_options

    @property
    def retain_uids(self) -> bool:
        return RETAIN_UIDS in self.profile_options

    def describe(self) -> list[str]:
        """What the call did beyond the Basic Profile, as DeidentificationMethod values (LO: 64 characters each).

        One value per PS3.15 option (its CID 7050 meaning), then Keep, Replace
        and Remove, split over as many values as their tag names need. Tag
        names only, never a value.
        """
        values = [option.meaning for option in PROFILE_OPTIONS if option.name in self.profile_options]
        for label, tags in (("Keep", self.keep), ("Replace", self.replace), ("Remove", self.remove)):
            names = [(tag_name(t), t) for t in sorted(tags)]
            words = [name if len(label) + 2 + len(name) <= LO_LENGTH else tag_number(t) for name, t in names]
            values += lo_values(label, words)
        for attribute in sorted(self.keep_private, key=str):
            values += attribute.method_values()
        values += describe("Keep", [*self.keep_paths]) + describe("Replace", [*self.replace_paths])
        values += describe("Remove", [*self.remove_paths])
        if self.keep_private_tags:
            values.append("KeepPrivateTags: every private attribute kept")
        return values


def load_object(body: bytes | str) -> dict[str, Any]:
    """The request body as a JSON object (OptionsError: HTTP 400)."""
    try:
        check_body(body)  # json.loads recurses: refuse deep nesting before it does
    except BodyRefused as refused:
        raise OptionsError(str(refused)) from None
    try:
        document = load_body(body)
    except DuplicateKey as duplicate:
        raise OptionsError(str(duplicate)) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise OptionsError(f"The request body is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise OptionsError("The request body must be a JSON object")
    return document


def parse_options(body: bytes | str | None) -> AnonymizationOptions:
    """Parse a request body; an empty body means every default."""
    if body is None or not body.strip():
        return AnonymizationOptions()
    document = load_object(body)
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

    try:
        profile_options = parse_profile_options(document)
    except ValueError as error:
        raise OptionsError(str(error)) from None
    replace, replace_paths = parse_replace(document.get("Replace", {}))
    keep_tags, keep_private, keep_paths = _parse_keep(document.get("Keep", []))
    keep = frozenset(keep_tags)
    remove_tags, remove_paths = _split(document.get("Remove", []), "Remove")
    remove = frozenset(remove_tags)
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
        shown = f": {show(project)}" if isinstance(project, str) else ""
        raise OptionsError(f'"Project" must be 1-64 characters among letters, digits, ".", "_" and "-"{shown}')

    clash = (keep & remove) | (keep & set(replace)) | (remove & set(replace))
    if clash:
        raise OptionsError(f"A tag cannot be both kept, replaced or removed: {', '.join(tag_name(t) for t in clash)}")
    paths = len(keep_paths) + len(remove_paths) + len(replace_paths)
    if paths > MAX_PATHS:
        raise OptionsError(f"{paths} sequence paths in one request: at most {MAX_PATHS}")
    _check_kept_blocks(keep | {path.final for path in keep_paths}, keep_private, remove)
    conflict = find_conflict(
        {
            "Keep": dict.fromkeys(keep_paths),
            "Remove": dict.fromkeys(remove_paths),
            "Replace": dict[TagPath, str | None](replace_paths),
        }
    )
    if conflict:
        raise OptionsError(conflict)
    undeletable = sorted(remove & NEVER_REMOVED.keys())
    if undeletable:
        raise OptionsError(f"{tag_name(undeletable[0])} cannot be removed: {NEVER_REMOVED[undeletable[0]]}")
    if not flags.get("force", False):
        forced = sorted(tag_name(t) for t in (keep | set(replace)) & FORCE_REQUIRED)
        if forced:
            raise OptionsError(f'Keeping or replacing {", ".join(forced)} requires "Force": true')
    if RETAIN_UIDS in profile_options and PATIENT_ID_TAG in keep:
        # Orthanc identifies an instance by PatientID and its three UIDs: all
        # four kept, the result would be the source itself.
        raise OptionsError(
            '"RetainUIDs" with "Keep": ["PatientID"] would give each result the Orthanc ID of its source: '
            "keep the UIDs or the PatientID, not both"
        )
    return AnonymizationOptions(
        replace=replace,
        keep=keep,
        keep_private=keep_private,
        remove=remove,
        keep_paths=frozenset(keep_paths),
        remove_paths=frozenset(remove_paths),
        replace_paths=replace_paths,
        project=project,
        priority=priority,
        profile_options=profile_options,
        **flags,
    )


def _check_kept_blocks(
    keep: frozenset[BaseTag], keep_private: frozenset[PrivateAttribute], remove: frozenset[BaseTag]
) -> None:
    """Removing a Private Creator removes its block: a 400 if something kept may be in that block."""
    creators = sorted(t for t in remove if t.is_private_creator)
    for creator in creators:
        group, block = creator.group, creator.element
        for tag in sorted(keep):
            if tag.group == group and tag.element >> 8 == block:
                raise OptionsError(
                    f'"Remove" of the Private Creator {tag_number(creator)} removes its block, '
                    f'which holds {tag_number(tag)} named in "Keep": they contradict each other'
                )
        for attribute in sorted(keep_private, key=str):
            if attribute.group == group:
                raise OptionsError(
                    f'"Remove" of the Private Creator {tag_number(creator)} removes its block, which may be the one '
                    f'"Keep" names by creator ({attribute}): they contradict each other'
                )


def _split(value: object, option: str) -> tuple[list[BaseTag], list[TagPath]]:
    """Plain tags (meaning the same at every depth) and sequence paths (one place each)."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise OptionsError(f'"{option}" must be a list of tag names')
    tags: list[BaseTag] = []
    paths: list[TagPath] = []
    for item in value:
        target = parse_option_reference(item, option)
        (paths if isinstance(target, TagPath) else tags).append(target)  # type: ignore[arg-type]
    return tags, paths


def _parse_keep(value: object) -> tuple[list[BaseTag], frozenset[PrivateAttribute], list[TagPath]]:
    """Tag names, private attributes given as {"Creator": ..., "Element": "gggg,xxee"}, and sequence paths."""
    if not isinstance(value, list) or not all(isinstance(item, (str, dict)) for item in value):
        raise OptionsError(f'"Keep" must be a list of tag names or private attributes like {PRIVATE_ATTRIBUTE_EXAMPLE}')
    tags: list[BaseTag] = []
    paths: list[TagPath] = []
    private: set[PrivateAttribute] = set()
    for item in value:
        if isinstance(item, dict):
            try:
                private.add(parse_private_attribute(item))
            except ValueError as error:
                raise OptionsError(f'"Keep": {error}') from None
        elif (blockless := blockless_private(item)) and blockless[0] % 2:  # only odd groups are private
            raise OptionsError(
                f'"Keep": {show(item)} does not say which Private Creator reserved its block: '
                f'use {{"Creator": "...", "Element": {show(item.strip())}}}'
            )
        else:
            target = parse_option_reference(item, "Keep")
            (paths if isinstance(target, TagPath) else tags).append(target)  # type: ignore[arg-type]
    return tags, frozenset(private), paths
