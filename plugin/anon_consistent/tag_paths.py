"""Sequence paths in Keep, Replace and Remove: ``Sequence[n].Attribute``, as Orthanc (1.9.4 and later) reads them.

A path addresses one place: the attribute ``Attribute`` in item ``n`` (from
0, as in Orthanc) or in every item (``[*]``) of ``Sequence``, at any depth.
Each part is a tag in any form ``tag_syntax.parse_tag`` accepts, private ones
included. A plain tag (no ``[`` and no ``.``) keeps its meaning at every
depth; a path overrides it only at its place (see ``path_edits``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydicom.tag import BaseTag

from .errors import element_name
from .ps315_options import LO_LENGTH
from .tag_syntax import TAG_FORMS, OptionsError, parse_tag, show, tag_name
from .vr import dictionary_vr

PATH_FORMS = (
    'a path is "Sequence[0].Attribute" (item 0, the first) or "Sequence[*].Attribute" (every item), '
    f"at any depth, each part {TAG_FORMS}"
)
_TOKEN = re.compile(r"(?P<tag>[^\[\]]*?)\s*(?:\[(?P<index>[^\[\]]*)\])?")
_INDEX = re.compile(r"\*|[0-9]{1,9}")  # below 10**9: no real sequence has that many items
# Each path is matched against every other and walked in every instance: a
# request naming more is not a real one, and would hold a core for minutes.
MAX_PATHS = 256
# Keeps DeidentificationMethod in the default repertoire (it is written without a character set).
_CUT = "..."


@dataclass(frozen=True)
class PathStep:
    """One sequence on the way: its tag and the item taken (None: every item, ``[*]``)."""

    tag: BaseTag
    index: int | None

    def __str__(self) -> str:
        return f"({self.tag.group:04X},{self.tag.element:04X})[{'*' if self.index is None else self.index}]"

    def compact(self) -> str:
        return f"{int(self.tag):08X}[{'*' if self.index is None else self.index}]"


@dataclass(frozen=True)
class TagPath:
    """The attribute ``final`` in the item(s) reached through ``steps`` (at least one)."""

    steps: tuple[PathStep, ...]
    final: BaseTag

    def __str__(self) -> str:
        """Tag numbers only, e.g. ``(5200,9230)[*].(2005,140F)[*].(0008,0018)``: never a value."""
        return ".".join([*(str(step) for step in self.steps), f"({self.final.group:04X},{self.final.element:04X})"])

    def compact(self) -> str:
        return ".".join([*(step.compact() for step in self.steps), f"{int(self.final):08X}"])

    def reaches(self, other: TagPath) -> bool:
        """True if some element can be addressed by both paths (one place, or one inside the other's subtree)."""
        depth = min(len(self.steps), len(other.steps))
        for mine, theirs in zip(self.steps[:depth], other.steps[:depth], strict=True):
            if mine.tag != theirs.tag or (None not in (mine.index, theirs.index) and mine.index != theirs.index):
                return False
        if len(self.steps) == len(other.steps):
            return self.final == other.final
        if len(self.steps) < len(other.steps):
            return self.final == other.steps[depth].tag
        return other.final == self.steps[depth].tag


def is_path(text: str) -> bool:
    """A path rather than a plain tag: it has an item index or a part separator."""
    return "[" in text or "]" in text or "." in text


def parse_tag_reference(text: str) -> BaseTag | TagPath:
    """A plain tag, or a ``TagPath`` when ``text`` has ``[`` or ``.``; ``OptionsError`` names the bad part."""
    if not is_path(text):
        return parse_tag(text)
    tokens = text.split(".")
    steps: list[PathStep] = []
    for position, token in enumerate(tokens):
        final = position == len(tokens) - 1
        match = _TOKEN.fullmatch(token.strip())
        if match is None:
            raise OptionsError(f"{show(token)} is not a tag with an optional item index: {PATH_FORMS}")
        if not match["tag"]:
            raise OptionsError(f"empty tag in the path before {show(token)}: {PATH_FORMS}")
        try:
            tag = parse_tag(match["tag"])
        except OptionsError:
            raise OptionsError(f"Unknown DICOM tag {show(match['tag'])}: {PATH_FORMS}") from None
        index = match["index"]
        if final:
            if index is not None:
                raise OptionsError(f"a path ends with an attribute, not an item: {show(token.strip())}: {PATH_FORMS}")
            return TagPath(tuple(steps), tag)
        if index is None:
            raise OptionsError(
                f"{show(match['tag'])} needs an item index: [0] for the first item or [*] for every item: {PATH_FORMS}"
            )
        if not _INDEX.fullmatch(index.strip()):
            raise OptionsError(
                f"{show(token.strip())}: an item index is a number from 0 (the first item) or *: {PATH_FORMS}"
            )
        vr = dictionary_vr(int(tag))
        if not tag.is_private and vr not in ("SQ", "UN"):
            raise OptionsError(f"{show(match['tag'])} is not a sequence (VR {vr}): {PATH_FORMS}")
        steps.append(PathStep(tag, None if index.strip() == "*" else int(index)))
    raise AssertionError("unreachable: the last token returns")  # pragma: no cover


def parse_option_reference(text: str, option: str) -> BaseTag | TagPath:
    """``parse_tag_reference`` for an entry of ``option``; the error names the option and, for a path, the entry."""
    entry = f" {show(text)}:" if is_path(text) else ""
    try:
        target = parse_tag_reference(text)
    except OptionsError as error:
        raise OptionsError(f'"{option}":{entry} {error}') from None
    tags = [target] if not isinstance(target, TagPath) else [*(step.tag for step in target.steps), target.final]
    for tag in tags:
        kind = not_in_a_dataset(tag)
        if kind:
            raise OptionsError(f'"{option}":{entry} {element_name(tag)}: it is {kind}, not an attribute of a data set')
    return target


def not_in_a_dataset(tag: BaseTag) -> str | None:
    """What ``tag`` is when no option can act on it as an attribute (file meta, item, group length)."""
    if tag.group == 0x0002:
        return "a file meta attribute"
    if tag.group == 0xFFFE:
        return "an item or delimiter"
    if tag.element == 0x0000:
        return "a group length"
    return None


def find_conflict(operations: dict[str, dict[TagPath, str | None]]) -> str | None:
    """Why two paths of different operations (or two Replace values) may meet at one place; None if none can.

    ``operations`` maps "Keep", "Remove", "Replace" to their paths (Replace with
    its value). Orthanc would silently let one win; a 400 says which.
    """
    entries = [(option, path, value) for option, paths in operations.items() for path, value in paths.items()]
    for position, (option, path, value) in enumerate(entries):
        for other_option, other, other_value in entries[position + 1 :]:
            differ = option != other_option or (option == "Replace" and value != other_value)
            if differ and path.reaches(other):
                return (
                    f'"{option}" of {path_name(path)} and "{other_option}" of {path_name(other)} '
                    "can reach the same place: name each place in one option only"
                )
    return None


def describe(label: str, paths: list[TagPath]) -> list[str]:
    """One DeidentificationMethod value per path, tag numbers only: compact if long, cut as a last resort."""
    values = []
    for path in sorted(paths, key=str):
        value = f"{label}: {path}"
        if len(value) > LO_LENGTH:
            value = f"{label}: {path.compact()}"
        if len(value) > LO_LENGTH:
            value = value[: LO_LENGTH - len(_CUT)] + _CUT
        values.append(value)
    return values


def path_name(path: TagPath) -> str:
    """Readable in an error message: keywords where known."""
    steps = [f"{tag_name(s.tag)}[{'*' if s.index is None else s.index}]" for s in path.steps]
    return ".".join([*steps, tag_name(path.final)])
